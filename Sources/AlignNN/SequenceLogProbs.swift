import AlignTensor

extension CausalLM {
    /// Log-probabilities of the scored tokens only: `targets` (B·T, already shifted: the target
    /// of position t is token t+1, −100 where nothing is scored) → a (N) tensor over the N
    /// scored positions in row-major order, recording the graph when the model does.
    ///
    /// Only the scored positions go through the LM head: in chat data most positions are prompt
    /// tokens, and the (positions × vocabulary) head is the widest product of a small model.
    public func scoredLogProbs(ids: [Int], batch: Int, length: Int, targets: [Int]) -> Tensor {
        precondition(targets.count == batch * length, "scoredLogProbs: \(targets.count) targets for \(batch)×\(length) tokens")
        let scored = targets.indices.filter { targets[$0] != -100 }
        guard !scored.isEmpty else { return Tensor.zeros([0]) }
        let hidden = hiddenStates(ids: ids, batch: batch, length: length, positions: nil, keyMask: nil, cache: nil)
        let rows = hidden.reshaped([batch * length, hidden.shape[2]]).indexSelect(rows: scored)   // (N, C)
        return logits(fromHidden: rows).logProbs(ofTargets: scored.map { targets[$0] })            // (N)
    }

    /// logπ(y|x) per row: the sum of the scored tokens' log-probabilities, a (B) tensor.
    public func sequenceLogProbs(ids: [Int], batch: Int, length: Int, targets: [Int]) -> Tensor {
        let lp = scoredLogProbs(ids: ids, batch: batch, length: length, targets: targets)
        let scored = targets.indices.filter { targets[$0] != -100 }
        guard !scored.isEmpty else { return Tensor.zeros([batch]) }
        // per-row sums: (B, N) indicator · (N, 1)
        var indicator = [Float](repeating: 0, count: batch * scored.count)
        for (j, position) in scored.enumerated() { indicator[(position / length) * scored.count + j] = 1 }
        return Tensor.matmul(Tensor(indicator, shape: [batch, scored.count]), lp.reshaped([scored.count, 1])).reshaped([batch])
    }
}
