import AlignTensor
import Foundation

/// PPO's losses (ALGORITHMS.md, PPO step 5) as pure functions over the response tokens of a
/// batch, flattened row-major (no padding: every element is a real response token).
///
/// `max(a, b)` of the clipped objectives is written as a per-token choice made on the values:
/// where the clipped branch is strictly larger its ratio (or value) lies outside the clip range,
/// so that branch is a constant with zero gradient, exactly as autograd through `clamp` gives.
public enum PPOLosses {
    /// The clipped policy loss and its statistics (TRL's `policy/*` metrics).
    public struct PolicyOutput {
        /// Σ_t w_t · max(−A·ratio, −A·clip(ratio, 1−ε_low, 1+ε_high)), recording the graph
        /// (w_t = 1/N: the token mean, unless weights are given).
        public let loss: Tensor
        /// Fraction of tokens where the clipped branch is the larger (TRL's `pg_clipfrac`,
        /// GRPO's `clip_ratio/region_mean`).
        public let clipFraction: Double
        /// Fractions clipped below (ratio < 1−ε_low with A < 0) and above (ratio > 1+ε_high with
        /// A > 0): GRPO's `clip_ratio/low_mean` and `clip_ratio/high_mean`.
        public let lowClipFraction: Double
        public let highClipFraction: Double
        /// 0.5 · mean (logp_new − logp_old)² (TRL's `approxkl`).
        public let approxKL: Double
        public let ratioMean: Double
        /// Unbiased variance of the ratio over the tokens.
        public let ratioVariance: Double
    }

    /// `newLogProbs` (N) records the graph; `oldLogProbs` and `advantages` are constants (N).
    /// The ratio is clipped to [1 − `clip`, 1 + `clipHigh`] (`clipHigh` nil: `clip`, symmetric;
    /// larger: DAPO's clip-higher). `weights` (N) aggregate the per-token losses (nil: 1/N each).
    public static func policy(newLogProbs: Tensor, oldLogProbs: [Float], advantages: [Float], clip: Float, clipHigh: Float? = nil,
                              weights: [Float]? = nil) -> PolicyOutput {
        let n = newLogProbs.count
        precondition(oldLogProbs.count == n && advantages.count == n && (weights?.count ?? n) == n,
                     "PPOLosses.policy: \(n) log-probs, \(oldLogProbs.count) old, \(advantages.count) advantages, \(weights?.count ?? n) weights")
        guard n > 0 else {
            return PolicyOutput(loss: Tensor(scalar: 0), clipFraction: 0, lowClipFraction: 0, highClipFraction: 0, approxKL: 0,
                                ratioMean: 1, ratioVariance: 0)
        }
        let low = 1 - Double(clip), high = 1 + Double(clipHigh ?? clip)
        let ratio = (newLogProbs - Tensor(oldLogProbs, shape: [n])).exp()   // (N)
        let r = ratio.scalars, lpNew = newLogProbs.scalars
        var keep = [Float](repeating: 0, count: n), constant = 0.0
        var clipped = 0, clippedLow = 0, clippedHigh = 0, kl = 0.0
        for t in 0..<n {
            let a = Double(advantages[t]), rt = Double(r[t])
            let w = weights.map { Double($0[t]) } ?? 1
            let unclipped = -a * rt, clippedValue = -a * min(max(rt, low), high)
            if clippedValue > unclipped {
                clipped += 1
                constant += w * clippedValue
            } else {
                keep[t] = Float(-a * w)
            }
            if rt < low && a < 0 { clippedLow += 1 }
            if rt > high && a > 0 { clippedHigh += 1 }
            let d = Double(lpNew[t] - oldLogProbs[t])
            kl += 0.5 * d * d
        }
        let loss = weights == nil ? ((ratio * Tensor(keep, shape: [n])).sum() + Float(constant)) * (1 / Float(n))
                                  : (ratio * Tensor(keep, shape: [n])).sum() + Float(constant)
        let mean = r.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = n > 1 ? r.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n - 1) : 0
        return PolicyOutput(loss: loss, clipFraction: Double(clipped) / Double(n), lowClipFraction: Double(clippedLow) / Double(n),
                            highClipFraction: Double(clippedHigh) / Double(n), approxKL: kl / Double(n),
                            ratioMean: mean, ratioVariance: variance)
    }

    /// How GRPO aggregates its per-token losses over a micro-batch (TRL 1.16's `loss_type`; the
    /// KL term is added per token before aggregation, as TRL does).
    public enum GRPOLossType: String, Sendable, CaseIterable {
        /// Σ over every response token of the step / the step's response tokens (TRL's default)
        case dapo
        /// mean over the sequences of each sequence's token mean, micro-batches weighted equally
        case grpo
        /// the micro-batch's token mean, micro-batches weighted equally
        case bnpo
        /// Σ over the micro-batch's tokens / (rows × max_completion_length), micro-batches equal
        case drGRPO = "dr_grpo"

        /// Per-token weights for one micro-batch of rows with `lengths` response tokens: the
        /// micro-batch's loss is Σ_t w_t · loss_t. (dapo's step-wide token mean comes from the
        /// loop weighting micro-batches by their tokens.)
        public func weights(lengths: [Int], maxCompletionLength: Int) -> [Float] {
            let n = lengths.reduce(0, +), rows = lengths.count
            switch self {
            case .dapo, .bnpo: return [Float](repeating: 1 / Float(max(n, 1)), count: n)
            case .grpo: return lengths.flatMap { [Float](repeating: 1 / (Float(rows) * Float(max($0, 1))), count: $0) }
            case .drGRPO: return [Float](repeating: 1 / (Float(rows) * Float(maxCompletionLength)), count: n)
            }
        }

        /// Whether the loop weights this type's micro-batches by their response tokens (dapo) or
        /// equally (the rest, as TRL divides by the gradient accumulation steps).
        public var weightsMicroBatchesByTokens: Bool { self == .dapo }
    }

    /// The clipped value loss: 0.5 · mean_t max((V − R)², (clip(V, V_old ± ε_v) − R)²), and the
    /// fraction of tokens where the clipped branch is the larger (TRL's `vf_clipfrac`).
    public static func value(values: Tensor, oldValues: [Float], returns: [Float], clip: Float) -> (loss: Tensor, clipFraction: Double) {
        let n = values.count
        precondition(oldValues.count == n && returns.count == n, "PPOLosses.value: \(n) values, \(oldValues.count) old, \(returns.count) returns")
        guard n > 0 else { return (Tensor(scalar: 0), 0) }
        let v = values.scalars
        var keep = [Float](repeating: 0, count: n), constant = 0.0, clipped = 0
        for t in 0..<n {
            let d = Double(v[t]) - Double(returns[t])
            let unclipped = d * d
            let vc = min(max(Double(v[t]), Double(oldValues[t]) - Double(clip)), Double(oldValues[t]) + Double(clip))
            let clippedValue = (vc - Double(returns[t])) * (vc - Double(returns[t]))
            if clippedValue > unclipped {
                clipped += 1
                constant += clippedValue
            } else {
                keep[t] = 1
            }
        }
        let diff = values.reshaped([n]) - Tensor(returns, shape: [n])
        let loss = ((diff * diff * Tensor(keep, shape: [n])).sum() + Float(constant)) * (0.5 / Float(n))
        return (loss, Double(clipped) / Double(n))
    }

    /// How the per-token KL to the reference is estimated (ALGORITHMS.md, PPO step 3).
    public enum KLEstimator: String, Sendable, CaseIterable {
        /// logp − logp_ref
        case k1
        /// (e^{logr} − 1) − logr with logr = logp_ref − logp: non-negative, unbiased.
        case k3
    }

    /// Per-token KL estimates from the policy's and the reference's log-probs (constants).
    public static func kl(_ logProbs: [Float], reference: [Float], estimator: KLEstimator) -> [Float] {
        precondition(logProbs.count == reference.count, "PPOLosses.kl: \(logProbs.count) vs \(reference.count) log-probs")
        return zip(logProbs, reference).map { lp, ref in
            switch estimator {
            case .k1: return lp - ref
            case .k3:
                let logr = Double(ref - lp)
                return Float(Foundation.expm1(logr) - logr)
            }
        }
    }

    /// GRPO's differentiable KL penalty per token: k3 with logr = logp_ref − logp_new, a (N)
    /// tensor recording the graph through `newLogProbs` (TRL's `per_token_kl`).
    public static func k3(newLogProbs: Tensor, reference: [Float]) -> Tensor {
        let logr = Tensor(reference, shape: [reference.count]) - newLogProbs
        return logr.exp() - logr - 1
    }

    /// GRPO's KL term per token as TRL 1.16 computes it by default (`use_bias_correction_kl`):
    /// k3 times the importance ratio e^{logp_new − logp_old}, which is differentiable, so the
    /// gradient is the unbiased reverse-KL gradient even where the ratio is exactly 1
    /// (DeepSeek-V3.2). Without `biasCorrected`, plain k3.
    public static func grpoKL(newLogProbs: Tensor, oldLogProbs: [Float], reference: [Float], biasCorrected: Bool) -> Tensor {
        let kl = k3(newLogProbs: newLogProbs, reference: reference)
        guard biasCorrected else { return kl }
        return kl * (newLogProbs - Tensor(oldLogProbs, shape: [oldLogProbs.count])).exp()
    }
}
