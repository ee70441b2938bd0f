import Foundation

/// Advantage estimators of `align ppo` (ALGORITHMS.md, PPO step 4 and Group advantages), as
/// pure functions over plain arrays. Per-token arrays are one row's response tokens (no padding).
public enum Advantages {
    /// Generalised advantage estimation over one response: δ_t = r_t + γV_{t+1} − V_t with
    /// V_T = 0 after the last token, A_t = δ_t + γλA_{t+1}; returns R_t = A_t + V_t.
    public static func gae(rewards: [Double], values: [Double], gamma: Double, lambda: Double) -> (advantages: [Double], returns: [Double]) {
        precondition(rewards.count == values.count, "Advantages.gae: \(rewards.count) rewards, \(values.count) values")
        let n = rewards.count
        var adv = [Double](repeating: 0, count: n)
        var last = 0.0
        for t in stride(from: n - 1, through: 0, by: -1) {
            let next = t + 1 < n ? values[t + 1] : 0
            let delta = rewards[t] + gamma * next - values[t]
            last = delta + gamma * lambda * last
            adv[t] = last
        }
        return (adv, zip(adv, values).map(+))
    }

    /// TRL's `masked_whiten` over all given values: (x − mean)/√(var + 1e-8) with the unbiased
    /// variance; without `shiftMean` the mean is added back.
    public static func whiten(_ xs: [Double], shiftMean: Bool = true) -> [Double] {
        let n = Double(xs.count)
        guard xs.count > 1 else { return xs.map { shiftMean ? 0 : $0 } }
        let mean = xs.reduce(0, +) / n
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let scale = 1 / (variance + 1e-8).squareRoot()
        return xs.map { (($0 - mean) * scale) + (shiftMean ? 0 : mean) }
    }

    /// How GRPO scales the centred rewards (TRL 1.16's `scale_rewards`).
    public enum RewardScaling: String, Sendable, CaseIterable {
        /// by the group's std (GRPO as published; TRL's default)
        case group
        /// by the std over the whole rollout (REINFORCE++-style)
        case batch
        /// not at all (Dr. GRPO: no difficulty bias from the std)
        case none
    }

    /// GRPO: rows come in groups of `groupSize` consecutive samples of one prompt;
    /// A_i = (r_i − mean_g) / (s + 1e-4) with s the unbiased std (`torch.std`) of the group
    /// (`.group`) or of every reward of the rollout (`.batch`), or A_i = r_i − mean_g (`.none`).
    public static func grpo(rewards: [Double], groupSize g: Int, scale: RewardScaling = .group) -> [Double] {
        precondition(g >= 2 && rewards.count % g == 0, "Advantages.grpo: \(rewards.count) rewards in groups of \(g)")
        let batchStd = scale == .batch ? unbiasedStd(rewards[...]) : 0
        var out: [Double] = []
        out.reserveCapacity(rewards.count)
        for start in stride(from: 0, to: rewards.count, by: g) {
            let group = rewards[start..<start + g]
            let mean = group.reduce(0, +) / Double(g)
            switch scale {
            case .group:
                let s = unbiasedStd(group)
                out += group.map { ($0 - mean) / (s + 1e-4) }
            case .batch: out += group.map { ($0 - mean) / (batchStd + 1e-4) }
            case .none: out += group.map { $0 - mean }
            }
        }
        return out
    }

    /// RLOO: A_i = r_i − mean_{j≠i} r_j within each group of `groupSize` samples of one prompt;
    /// with `normalize` (TRL's `normalize_advantages`) then (A − mean A) / (std A + 1e-4) over the
    /// rollout, unbiased std.
    public static func rloo(rewards: [Double], groupSize g: Int, normalize: Bool = false) -> [Double] {
        precondition(g >= 2 && rewards.count % g == 0, "Advantages.rloo: \(rewards.count) rewards in groups of \(g)")
        var out: [Double] = []
        out.reserveCapacity(rewards.count)
        for start in stride(from: 0, to: rewards.count, by: g) {
            let group = rewards[start..<start + g]
            let sum = group.reduce(0, +)
            out += group.map { $0 - (sum - $0) / Double(g - 1) }
        }
        guard normalize else { return out }
        let mean = out.reduce(0, +) / Double(out.count), std = unbiasedStd(out[...])
        return out.map { ($0 - mean) / (std + 1e-4) }
    }

    /// The unbiased standard deviation (`torch.std`); 0 for fewer than two values.
    static func unbiasedStd(_ xs: ArraySlice<Double>) -> Double {
        guard xs.count > 1 else { return 0 }
        let mean = xs.reduce(0, +) / Double(xs.count)
        return (xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)).squareRoot()
    }
}

/// The KL coefficient β: fixed, or adapted towards a target KL (Ziegler et al. 2019):
/// e = clip(KL/target − 1, −0.2, 0.2), β ← β·(1 + e·n/horizon), with n the samples of the update.
public struct KLController: Codable, Equatable, Sendable {
    public var value: Double
    public let target: Double?
    public let horizon: Double

    public init(initial: Double, target: Double? = nil, horizon: Double = 10000) {
        value = initial
        self.target = target
        self.horizon = horizon
    }

    /// Updates β after a rollout of `samples` sequences whose mean KL (sum over tokens) is `kl`.
    public mutating func update(kl: Double, samples: Int) {
        guard let target else { return }
        let error = min(max(kl / target - 1, -0.2), 0.2)
        value *= 1 + error * Double(samples) / horizon
    }
}
