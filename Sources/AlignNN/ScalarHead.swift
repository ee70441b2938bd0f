import AlignTensor

/// A linear head from hidden states to a few scalars per sequence (reward model) or per token
/// (value model): Hugging Face `AutoModelForSequenceClassification`'s `score` layer,
/// `nn.Linear(hidden, numLabels, bias=False)`.
///
/// Its parameters are named relative to the head (`weight`); mounted next to a causal LM
/// backbone under `ScalarHead.huggingFaceName` they read `score.weight`, as in
/// `LlamaForSequenceClassification` and `GPT2ForSequenceClassification` checkpoints.
public final class ScalarHead: Module {
    public static let huggingFaceName = "score"

    public let score: Linear
    public var outputs: Int { score.outFeatures }

    public init(hiddenSize: Int, outputs: Int = 1, bias: Bool = false, std: Float = 0.02, rng: inout RandomGenerator) {
        score = Linear(hiddenSize, outputs, bias: bias, std: std, rng: &rng)
    }

    /// A head with the given weight (outputs, hidden), copied; no bias.
    public convenience init(weight: Tensor) {
        precondition(weight.rank == 2, "ScalarHead: weight must be (outputs, hidden), got \(weight.shape)")
        var rng = RandomGenerator(seed: 0)
        self.init(hiddenSize: weight.shape[1], outputs: weight.shape[0], std: 0, rng: &rng)
        score.weight.pointer.update(from: weight.pointer, count: weight.count)
    }

    /// Scores (B, outputs) read at position `indices[b]` of each sequence of hidden (B, T, C).
    public func callAsFunction(_ hidden: Tensor, at indices: [Int]) -> Tensor {
        precondition(hidden.rank == 3, "ScalarHead: hidden states must be (B, T, C), got \(hidden.shape)")
        let (B, T, C) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        precondition(indices.count == B, "ScalarHead: \(indices.count) indices for a batch of \(B)")
        let rows = indices.enumerated().map { b, t -> Int in
            precondition(t >= 0 && t < T, "ScalarHead: index \(t) for sequence \(b) outside 0..<\(T)")
            return b * T + t
        }
        return score(hidden.reshaped([B * T, C]).indexSelect(rows: rows))
    }

    /// Scores (B, outputs) at the last real token of each sequence: the rightmost position where
    /// keyMask (B, T) is non-zero (right or left padding), or the last position without a mask.
    /// Matches HF sequence classification when padding is exactly the pad-token positions.
    public func callAsFunction(_ hidden: Tensor, keyMask: Tensor?) -> Tensor {
        precondition(hidden.rank == 3, "ScalarHead: hidden states must be (B, T, C), got \(hidden.shape)")
        return self(hidden, at: Self.lastTokenIndices(keyMask: keyMask, batch: hidden.shape[0], length: hidden.shape[1]))
    }

    /// Scores at every position, (B, T, outputs) (per-token values for PPO-style critics).
    public func perToken(_ hidden: Tensor) -> Tensor { score(hidden) }

    /// The rightmost non-zero column of each row of a (B, T) mask (T − 1 without a mask; 0 for
    /// an all-padding row).
    public static func lastTokenIndices(keyMask: Tensor?, batch: Int, length: Int) -> [Int] {
        guard let keyMask else { return Array(repeating: length - 1, count: batch) }
        precondition(keyMask.shape == [batch, length], "ScalarHead: keyMask \(keyMask.shape) must be [\(batch), \(length)]")
        let m = keyMask.pointer
        return (0..<batch).map { b in
            var last = 0
            for t in 0..<length where m[b * length + t] != 0 { last = t }
            return last
        }
    }

    public func namedParameters() -> [(String, Tensor)] { score.namedParameters() }
}
