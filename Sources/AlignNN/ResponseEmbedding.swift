import AlignTensor

/// A response's embedding: the one definition that `align clean` (chosen/rejected similarity)
/// and `align hpa` (diversity bonus and semantic term) share. It is the mean of the model's
/// final hidden states (after the final norm, the rows the LM head reads) at the positions whose
/// logits predict the response tokens, that is the prompt's last token and every response token
/// but the last, with the prompt in context: exactly the rows `scoredForward` returns for a
/// prompt + response batch, so a training pass yields it at no extra cost. An empty response
/// embeds to zeros.
public enum ResponseEmbedding {
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

    /// Scored rows (N, C) of `lengths.count` responses, row-major → their embeddings (R, C),
    /// recording the graph.
    public static func meanPool(_ hidden: Tensor, lengths: [Int]) -> Tensor {
        Tensor.matmul(poolingMatrix(lengths: lengths), hidden)
    }
}

extension CausalLM {
    /// The embedding of `response` after `prompt` (one row, no graph). Without a prompt the
    /// first response token has no predicting position: the mean runs over the others'.
    public func responseEmbedding(prompt: [Int], response: [Int]) -> [Float] {
        let ids = prompt + response
        let first = max(prompt.count - 1, 0)
        let rows = Array(first..<max(ids.count - 1, first))
        return withNoGrad {
            let C = config.hiddenSize
            guard !rows.isEmpty else { return [Float](repeating: 0, count: C) }
            let hidden = hiddenStates(ids: ids, batch: 1, length: ids.count, positions: nil, keyMask: nil, cache: nil)
            return ResponseEmbedding.meanPool(hidden.reshaped([ids.count, C]).indexSelect(rows: rows), lengths: [rows.count]).scalars
        }
    }
}
