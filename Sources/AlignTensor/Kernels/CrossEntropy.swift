import Foundation

/// Fused log-softmax + gather: the log-probability of each target token, and cross-entropy on
/// top of it. The (rows, V) probabilities are never stored: the forward keeps one log-sum-exp
/// per row and the backward recomputes softmax from the logits.

// forward: logits (R,V), targets (R) -> out (R) = logits[t] − lse, lse (R); ignored rows give 0
func targetLogProbForward(_ out: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>,
                          _ logits: UnsafePointer<Float>, _ targets: UnsafePointer<Int>,
                          rows: Int, vocab: Int, ignoreIndex: Int) {
    parallelChunks(rows, costPerItem: vocab * 3) { r in
        for row in r {
            let t = targets[row]
            if t == ignoreIndex { out[row] = 0; lse[row] = 0; continue }
            let x = logits + row * vocab
            let (mx, logSum) = shiftedLogSumExp(x, vocab)
            lse[row] = mx + logSum
            out[row] = (x[t] - mx) - logSum
        }
    }
}

// backward: dlogits (R,V) = dout[r] · (onehot(t) − softmax(logits)), zero rows where ignored
func targetLogProbBackward(_ dlogits: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                           _ logits: UnsafePointer<Float>, _ lse: UnsafePointer<Float>, _ targets: UnsafePointer<Int>,
                           rows: Int, vocab: Int, ignoreIndex: Int) {
    parallelChunks(rows, costPerItem: vocab * 3) { r in
        for row in r {
            let d = dlogits + row * vocab
            let t = targets[row]
            let g = dout[row]
            if t == ignoreIndex || g == 0 {
                for j in 0..<vocab { d[j] = 0 }
                continue
            }
            let x = logits + row * vocab, l = lse[row]
            _ = expShifted(x, d, vocab, shift: l, scale: -g)
            d[t] += g
        }
    }
}

extension Tensor {
    /// log softmax(self)[..., target] for each row of the last axis: shape `shape.dropLast()`.
    /// Rows whose target is `ignoreIndex` give 0 and no gradient.
    public func logProbs(ofTargets targets: [Int], ignoreIndex: Int = -100) -> Tensor {
        precondition(rank >= 1, "logProbs: needs rank ≥ 1, got shape \(shape)")
        let vocab = shape[rank - 1], rows = count / Swift.max(vocab, 1)
        precondition(targets.count == rows, "logProbs: \(targets.count) targets for logits of shape \(shape) (need \(rows))")
        for (i, t) in targets.enumerated() where t != ignoreIndex {
            precondition(t >= 0 && t < vocab, "logProbs: target \(t) at row \(i) out of range 0..<\(vocab) for logits \(shape)")
        }
        let out = Storage(uninitializedCount: rows)
        let lse = Storage(uninitializedCount: rows)
        targets.withUnsafeBufferPointer { tp in
            targetLogProbForward(out.pointer, lse.pointer, pointer, tp.baseAddress!, rows: rows, vocab: vocab, ignoreIndex: ignoreIndex)
        }
        let inShape = shape
        return Tensor.result("logProbs", shape: Array(shape.dropLast()), storage: out, inputs: [self]) { y, g in
            let logits = y.node!.inputs[0]
            let d = Storage(uninitializedCount: logits.count)
            targets.withUnsafeBufferPointer { tp in
                targetLogProbBackward(d.pointer, g.pointer, logits.pointer, lse.pointer, tp.baseAddress!,
                                      rows: rows, vocab: vocab, ignoreIndex: ignoreIndex)
            }
            return [Tensor(shape: inShape, storage: d)]
        }
    }

    public enum Reduction: String, Codable, Sendable { case mean, sum, none }

    /// Cross-entropy of logits (..., V) against integer targets, skipping `ignoreIndex`.
    /// `.mean` divides by the number of non-ignored targets (PyTorch's convention; 0 if none).
    public func crossEntropy(targets: [Int], ignoreIndex: Int = -100, reduction: Reduction = .mean) -> Tensor {
        let nll = -logProbs(ofTargets: targets, ignoreIndex: ignoreIndex)
        switch reduction {
        case .none: return nll
        case .sum: return nll.sum()
        case .mean:
            let valid = targets.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
            return nll.sum() * (1 / Float(Swift.max(valid, 1)))
        }
    }
}
