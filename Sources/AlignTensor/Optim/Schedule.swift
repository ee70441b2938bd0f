import Foundation

/// Learning-rate schedules, as multipliers of the base rate at optimizer step `step`
/// (0-based), with the formulas of transformers' `get_*_schedule_with_warmup`.
public enum LRSchedule: String, Codable, Sendable, CaseIterable {
    /// base rate throughout (after warmup, if any)
    case constant
    /// linear warmup, then linear decay to 0 at the last step
    case linear
    /// linear warmup, then half a cosine to 0 at the last step
    case cosine

    /// Multiplier in [0, 1] for `step` of `totalSteps`, with `warmupSteps` of linear warmup.
    public func factor(step: Int, totalSteps: Int, warmupSteps: Int) -> Float {
        if step < warmupSteps { return Float(step) / Float(Swift.max(1, warmupSteps)) }
        switch self {
        case .constant:
            return 1
        case .linear:
            return Swift.max(0, Float(totalSteps - step) / Float(Swift.max(1, totalSteps - warmupSteps)))
        case .cosine:
            let progress = Double(step - warmupSteps) / Double(Swift.max(1, totalSteps - warmupSteps))
            return Float(Swift.max(0, 0.5 * (1 + cos(Double.pi * 2 * 0.5 * progress))))
        }
    }

    public func learningRate(base: Float, step: Int, totalSteps: Int, warmupSteps: Int) -> Float {
        base * factor(step: step, totalSteps: totalSteps, warmupSteps: warmupSteps)
    }
}
