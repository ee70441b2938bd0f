import AlignTensor
import Foundation

/// HPA's pieces as pure functions (ALGORITHMS.md "HPA"): the shaped reward, dynamic sampling,
/// the hierarchical KL and the windowed early-stop score. The PPO-clip term is
/// `PPOLosses.policy`, the offline term any of `DPOLosses`.
public enum HPALosses {
    /// r = score − α_σ·σ + α_div·div (step 2).
    public static func shapedReward(score: Double, uncertainty: Double, diversity: Double, uncertaintyCoef: Double, diversityCoef: Double) -> Double {
        score - uncertaintyCoef * uncertainty + diversityCoef * diversity
    }

    /// Dynamic sampling (step 3): the indices (ascending) of candidates with
    /// r > mean(r) + k·std(r) over all of them (std with the n − 1 denominator, as `torch.std`);
    /// when none passes, the best candidate of every group of `groupSize` consecutive
    /// candidates (one prompt's samples; the first of equals). `k` nil keeps everything.
    public static func filter(_ rewards: [Double], groupSize: Int, k: Double?) -> [Int] {
        precondition(groupSize >= 1 && rewards.count % groupSize == 0, "HPALosses.filter: \(rewards.count) rewards in groups of \(groupSize)")
        guard let k else { return Array(rewards.indices) }
        let (mean, std) = meanAndStd(rewards)
        let threshold = mean + k * std
        let kept = rewards.indices.filter { rewards[$0] > threshold }
        if !kept.isEmpty { return kept }
        return stride(from: 0, to: rewards.count, by: groupSize).map { start in
            var best = start
            for i in start..<start + groupSize where rewards[i] > rewards[best] { best = i }
            return best
        }
    }

    /// Mean and sample standard deviation (0 for fewer than two values).
    public static func meanAndStd(_ xs: [Double]) -> (mean: Double, std: Double) {
        guard !xs.isEmpty else { return (0, 0) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        guard xs.count > 1 else { return (mean, 0) }
        let v = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
        return (mean, v.squareRoot())
    }

    /// Σ over the scored tokens of (logπθ − logπ_ref): the token KL's numerator (step 5; the
    /// caller divides by the step's kept tokens). `logProbs` (N) records the graph.
    public static func tokenKLSum(logProbs: Tensor, reference: [Float]) -> Tensor {
        precondition(logProbs.count == reference.count, "HPALosses.tokenKLSum: \(logProbs.count) log-probs, \(reference.count) reference")
        return (logProbs - Tensor(reference, shape: [reference.count])).sum()
    }

    /// The (R, N) matrix whose product with (N, C) per-token rows gives each row's mean over its
    /// `lengths[r]` consecutive tokens (a row of length 0 pools to zeros).
    public static func poolingMatrix(lengths: [Int]) -> Tensor {
        let n = lengths.reduce(0, +)
        var m = [Float](repeating: 0, count: lengths.count * n)
        var start = 0
        for (r, len) in lengths.enumerated() {
            for j in start..<start + len { m[r * n + j] = 1 / Float(len) }
            start += len
        }
        return Tensor(m, shape: [lengths.count, n])
    }

    /// Mean-pooled hidden states: (N, C) scored rows → (R, C), each response's mean.
    public static func meanPool(_ hidden: Tensor, lengths: [Int]) -> Tensor {
        Tensor.matmul(poolingMatrix(lengths: lengths), hidden)
    }

    /// Σ over rows of MSE(pooled_θ[r], pooled_ref[r]) (mean over the C features): the semantic
    /// KL's numerator (the caller divides by the step's kept rows). `pooled` (R, C) records the
    /// graph; `reference` is (R·C) row-major, constant.
    public static func semanticKLSum(pooled: Tensor, reference: [Float]) -> Tensor {
        precondition(pooled.shape.count == 2 && pooled.count == reference.count,
                     "HPALosses.semanticKLSum: pooled \(pooled.shape), \(reference.count) reference values")
        let c = pooled.shape[1]
        return (pooled - Tensor(reference, shape: pooled.shape)).square().sum() * (1 / Float(c))
    }

    /// L = w_ppo·L_ppo + w_dpo·L_dpo + w_kl·(λ_tok·token KL + λ_sem·semantic KL) (step 4–5).
    public static func mixed(ppo: Tensor, dpo: Tensor?, tokenKL: Tensor, semanticKL: Tensor, lambdaToken: Float, lambdaSemantic: Float,
                             ppoWeight: Float, dpoWeight: Float, klWeight: Float) -> Tensor {
        var loss = ppo * ppoWeight + (tokenKL * lambdaToken + semanticKL * lambdaSemantic) * klWeight
        if let dpo { loss = loss + dpo * dpoWeight }
        return loss
    }

    /// Seed 000's early-stop metric over a window of rollouts: mean(reward) − a·mean(KL) − b·std(reward)
    /// (std of the per-rollout mean rewards, n − 1 denominator: the run's stability).
    public static func windowScore(rewards: [Double], kls: [Double], klCoef: Double = 0.5, stdCoef: Double = 0.3) -> Double {
        precondition(!rewards.isEmpty && rewards.count == kls.count, "HPALosses.windowScore: \(rewards.count) rewards, \(kls.count) KLs")
        let (mean, std) = meanAndStd(rewards)
        return mean - klCoef * kls.reduce(0, +) / Double(kls.count) - stdCoef * std
    }

    /// How many standard deviations `value` lies from `history` (nil with fewer than 3 entries;
    /// ±∞ when the history is constant and the value differs, 0 when it equals it).
    public static func zScore(_ value: Double, history: [Double]) -> Double? {
        guard history.count >= 3 else { return nil }
        let (mean, std) = meanAndStd(history)
        if std == 0 { return value == mean ? 0 : (value > mean ? .infinity : -.infinity) }
        return (value - mean) / std
    }
}
