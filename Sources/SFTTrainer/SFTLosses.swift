import AlignTensor

/// The SFT losses of ALGORITHMS.md as pure functions of tensors.
public enum SFTLosses {
    /// Mean next-token NLL over the positions whose target is not -100: logits (B, T, V),
    /// targets B·T already shifted (target at t is token t+1 or -100).
    public static func nll(logits: Tensor, targets: [Int]) -> Tensor {
        logits.crossEntropy(targets: targets)
    }

    /// The same mean NLL from the log-probabilities of the learned tokens alone (N).
    public static func nll(scoredLogProbs lp: Tensor) -> Tensor {
        -lp.sum() * (1 / Float(max(lp.count, 1)))
    }

    /// KL-SFT penalty on the learned tokens alone: mean of (logπθ − logπ_ref)² over N tokens.
    public static func squaredLogRatio(policy: Tensor, reference: Tensor) -> Tensor {
        let d = policy - reference.detached()
        return (d * d).sum() * (1 / Float(max(policy.count, 1)))
    }

    /// KL-SFT penalty (seed 002): mean over the learned tokens of (logπθ(t) − logπ_ref(t))²,
    /// which penalises moving away from the reference in either direction.
    /// policy, reference: per-position log-probs of the targets (B·T), 0 where ignored.
    public static func squaredLogRatio(policy: Tensor, reference: Tensor, targets: [Int]) -> Tensor {
        let mask = Tensor(targets.map { $0 == -100 ? 0 : 1 }, shape: policy.shape)
        let count = Float(max(1, targets.reduce(0) { $0 + ($1 == -100 ? 0 : 1) }))
        let d = (policy - reference.detached()) * mask
        return (d * d).sum() * (1 / count)
    }
}
