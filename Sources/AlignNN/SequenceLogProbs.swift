import AlignTensor

/// What one forward pass gives at the scored positions of a batch: the targets'
/// log-probabilities, the final hidden states there (for a value head on the same backbone,
/// or pooled for a semantic comparison), and optionally the entropy of the next-token
/// distribution (from the same logits). All record the graph when the model does.
public struct ScoredForward {
    /// (N) log-probabilities of the scored targets, row-major over the batch.
    public let logProbs: Tensor
    /// (N, C) final hidden states at the scored positions (the rows whose logits predict them).
    public let hidden: Tensor
    /// (N) entropy of softmax(logits) at the scored positions, when asked for.
    public let entropy: Tensor?
    /// The scored positions (indices into the B·T grid), row-major.
    public let positions: [Int]
}

extension CausalLM {
    /// Log-probabilities of the scored tokens only: `targets` (B·T, already shifted: the target
    /// of position t is token t+1, −100 where nothing is scored) → a (N) tensor over the N
    /// scored positions in row-major order, recording the graph when the model does.
    ///
    /// Only the scored positions go through the LM head: in chat data most positions are prompt
    /// tokens, and the (positions × vocabulary) head is the widest product of a small model.
    public func scoredLogProbs(ids: [Int], batch: Int, length: Int, targets: [Int]) -> Tensor {
        scoredForward(ids: ids, batch: batch, length: length, targets: targets).logProbs
    }

    /// One forward pass read at the scored positions (see `ScoredForward`). `keyMask` (B, T)
    /// and `positions` are for left-padded rows; right-padded rows need neither. With
    /// `temperature` ≠ 1 the logits are divided by it first (the distribution a response was
    /// sampled from, as TRL's PPO and GRPO score their samples).
    public func scoredForward(ids: [Int], batch: Int, length: Int, targets: [Int], entropy: Bool = false,
                              temperature: Float = 1, positions: [Int]? = nil, keyMask: Tensor? = nil) -> ScoredForward {
        precondition(targets.count == batch * length, "scoredForward: \(targets.count) targets for \(batch)×\(length) tokens")
        let scored = targets.indices.filter { targets[$0] != -100 }
        let hidden = hiddenStates(ids: ids, batch: batch, length: length, positions: positions, keyMask: keyMask, cache: nil)
        let C = hidden.shape[2]
        guard !scored.isEmpty else {
            return ScoredForward(logProbs: Tensor.zeros([0]), hidden: Tensor.zeros([0, C]), entropy: entropy ? Tensor.zeros([0]) : nil,
                                 positions: [])
        }
        let rows = hidden.reshaped([batch * length, C]).indexSelect(rows: scored)   // (N, C)
        var logits = logits(fromHidden: rows)                                        // (N, V)
        if temperature != 1 { logits = logits * (1 / temperature) }
        return ScoredForward(logProbs: logits.logProbs(ofTargets: scored.map { targets[$0] }), hidden: rows,
                             entropy: entropy ? logits.softmaxEntropy() : nil, positions: scored)
    }

    /// logπ(y|x) per row: the sum of the scored tokens' log-probabilities, a (B) tensor.
    public func sequenceLogProbs(ids: [Int], batch: Int, length: Int, targets: [Int]) -> Tensor {
        let lp = scoredLogProbs(ids: ids, batch: batch, length: length, targets: targets)
        return rowSums(lp, targets: targets, batch: batch, length: length)
    }
}

/// Per-row sums of values at the scored positions (−100 elsewhere in `targets`): (N) → (B),
/// as a (B, N) indicator product so the graph is kept.
public func rowSums(_ values: Tensor, targets: [Int], batch: Int, length: Int) -> Tensor {
    let scored = targets.indices.filter { targets[$0] != -100 }
    guard !scored.isEmpty else { return Tensor.zeros([batch]) }
    var indicator = [Float](repeating: 0, count: batch * scored.count)
    for (j, position) in scored.enumerated() { indicator[(position / length) * scored.count + j] = 1 }
    return Tensor.matmul(Tensor(indicator, shape: [batch, scored.count]), values.reshaped([scored.count, 1])).reshaped([batch])
}
