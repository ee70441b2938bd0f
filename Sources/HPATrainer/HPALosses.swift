import AlignTensor
import Foundation
import AlignOnline

/// HPA's pieces as pure functions (ALGORITHMS.md "HPA"): the shaped reward, dynamic sampling,
/// the hierarchical KL (token KL estimate and semantic distance) and the windowed early-stop score. The PPO-clip term is
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

    /// How the token KL term estimates KL(πθ ‖ π_ref) from the sampled tokens (`hpa.token_kl`).
    public enum TokenKLEstimator: String, CaseIterable, Sendable {
        /// e^{logπ_ref − logπθ} − (logπ_ref − logπθ) − 1 per token (TRL GRPO's `beta` term):
        /// ≥ 0, and its gradient is zero where πθ = π_ref, so as a loss it holds the policy
        /// near the reference.
        case k3
        /// logπθ − logπ_ref per token, seed 000's literal term. As a loss its gradient is
        /// ∇logπθ of the sampled tokens even at πθ = π_ref: it lowers the probability of the
        /// kept (high-reward) samples, pushing the policy instead of holding it. Only for
        /// reproducing the seed.
        case k1Seed = "k1_seed"
    }

    /// Σ over the scored tokens of the per-token KL estimate (step 5; the caller divides by the
    /// step's kept tokens). `logProbs` (N) records the graph; `reference` (N) is constant.
    public static func tokenKLSum(logProbs: Tensor, reference: [Float], estimator: TokenKLEstimator) -> Tensor {
        precondition(logProbs.count == reference.count, "HPALosses.tokenKLSum: \(logProbs.count) log-probs, \(reference.count) reference")
        switch estimator {
        case .k3: return PPOLosses.k3(newLogProbs: logProbs, reference: reference).sum()
        case .k1Seed: return (logProbs - Tensor(reference, shape: [reference.count])).sum()
        }
    }

    /// Σ over rows of MSE(e_θ[r], e_ref[r]) (mean over the C features) between the policy's and
    /// the reference's response embeddings (`ResponseEmbedding`): the semantic term's numerator
    /// (the caller divides by the step's kept rows). Seed 000 calls it a semantic KL; it is a
    /// squared distance between mean hidden states, not a divergence of distributions. `pooled`
    /// (R, C) records the graph; `reference` is (R·C) row-major, constant.
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
