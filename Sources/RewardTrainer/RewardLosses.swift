import AlignTensor
import Foundation

/// The reward-model losses of ALGORITHMS.md (Reward model) as pure functions of tensors.
///
/// Per pair i and head k, with r_w = chosen reward, r_l = rejected reward and m_i the pair's
/// optional margin (0 without one):
///
///     ℓ_ik = −logσ(r_w − r_l − m_i) + c · (r_w + r_l)²
///
/// and the loss is Σ_ik w_ik ℓ_ik. With the default weights w_ik = 1 / (B·K) that is
/// `mean(−logσ(r_w − r_l − m)) + c · mean((r_w + r_l)²)`, TRL's RewardTrainer loss with
/// `center_rewards_coefficient` = c (for K = 1). An ensemble trains head k on its own bootstrap
/// of the batch: `bootstrapWeights` gives w_ik = (times pair i was drawn for head k) / (B·K),
/// i.e. the mean over heads of each head's mean loss over its resampled pairs.
public enum RewardLosses {
    /// The loss above. `chosen`, `rejected`: (B) or (B, K) rewards; `margins`: B values or nil
    /// (all 0); `weights`: B·K non-negative values, row-major (pair, head), or nil for the plain
    /// mean. Returns a scalar recording the graph.
    public static func pairwise(chosen: Tensor, rejected: Tensor, margins: [Float]? = nil,
                                centerCoefficient: Float = 0, weights: [Float]? = nil) -> Tensor {
        precondition(chosen.shape == rejected.shape && (chosen.rank == 1 || chosen.rank == 2),
                     "RewardLosses: chosen \(chosen.shape) and rejected \(rejected.shape) must be equal (B) or (B, K) shapes")
        let B = chosen.shape[0], K = chosen.rank == 2 ? chosen.shape[1] : 1
        precondition(B > 0 && K > 0, "RewardLosses: empty batch \(chosen.shape)")
        let shape2 = [B, K]
        let rw = chosen.reshaped(shape2), rl = rejected.reshaped(shape2)
        var d = rw - rl
        if let margins {
            precondition(margins.count == B, "RewardLosses: \(margins.count) margins for \(B) pairs")
            if margins.contains(where: { $0 != 0 }) { d = d - Tensor(margins, shape: [B, 1]) }
        }
        var perPair = d.logSigmoid().neg()
        if centerCoefficient != 0 {
            let s = rw + rl
            perPair = perPair + (s * s) * centerCoefficient
        }
        guard let weights else { return perPair.mean() }
        precondition(weights.count == B * K, "RewardLosses: \(weights.count) weights for \(B)×\(K) (pair, head) entries")
        return (perPair * Tensor(weights, shape: shape2)).sum()
    }

    /// Bootstrap weights for `heads` heads over `pairs` pairs: for each head, `pairs` pair indices
    /// drawn uniformly with replacement from `rng` (head by head, in order); the weight of
    /// (pair i, head k) is its draw count / (pairs · heads). Row-major (pair, head); sums to 1,
    /// each head's column to 1/heads.
    public static func bootstrapWeights(pairs: Int, heads: Int, rng: inout RandomGenerator) -> [Float] {
        precondition(pairs > 0 && heads > 0, "bootstrapWeights: need pairs > 0 and heads > 0")
        var counts = [Int](repeating: 0, count: pairs * heads)
        for k in 0..<heads {
            for _ in 0..<pairs { counts[rng.int(below: pairs) * heads + k] += 1 }
        }
        let scale = 1 / Float(pairs * heads)
        return counts.map { Float($0) * scale }
    }

    /// Batch statistics of reward margins r_w − r_l: the fraction with r_w > r_l (ties count as
    /// wrong), the mean and the population standard deviation of the margins.
    public static func statistics(margins: [Float]) -> (accuracy: Double, mean: Double, std: Double) {
        guard !margins.isEmpty else { return (0, 0, 0) }
        let n = Double(margins.count)
        let accuracy = Double(margins.filter { $0 > 0 }.count) / n
        let mean = margins.reduce(0.0) { $0 + Double($1) } / n
        let variance = margins.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (accuracy, mean, variance.squareRoot())
    }
}
