import Foundation

/// The entropy of the softmax of each row of logits, H = lse − Σ p·x, for PPO's entropy bonus
/// and `objective/entropy` (TRL's `entropy_from_logits`). Like the target log-prob kernel it
/// keeps one log-sum-exp and the entropy per row; the backward recomputes p from the logits.

// forward: logits (R,V) -> out (R) = H, lse (R)
func entropyForward(_ out: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>,
                    _ logits: UnsafePointer<Float>, rows: Int, vocab: Int) {
    parallelChunks(rows, costPerItem: vocab * 4) { r in
        for row in r {
            let x = logits + row * vocab
            let (mx, logSum) = shiftedLogSumExp(x, vocab)
            let l = mx + logSum
            lse[row] = l
            // H = Σ p·(lse − x) with p = exp(x − lse): every term ≥ 0, so no cancellation when H
            // is small; accumulated in Double (V is large)
            var h = 0.0
            for j in 0..<vocab where x[j] > -Float.infinity {
                let d = Double(l) - Double(x[j])
                h += Foundation.exp(-d) * d
            }
            out[row] = Float(h)
        }
    }
}

// backward: dlogits (R,V) = dout[r] · (−p_j · (x_j − lse + H))   (dH/dx_j = −p_j (log p_j + H))
func entropyBackward(_ dlogits: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                     _ logits: UnsafePointer<Float>, _ lse: UnsafePointer<Float>, _ entropy: UnsafePointer<Float>,
                     rows: Int, vocab: Int) {
    parallelChunks(rows, costPerItem: vocab * 4) { r in
        for row in r {
            let d = dlogits + row * vocab, x = logits + row * vocab
            let g = dout[row], l = lse[row], h = entropy[row]
            if g == 0 {
                for j in 0..<vocab { d[j] = 0 }
                continue
            }
            for j in 0..<vocab {
                let p = x[j] > -Float.infinity ? Foundation.exp(x[j] - l) : 0
                d[j] = p == 0 ? 0 : -g * p * (x[j] - l + h)
            }
        }
    }
}

extension Tensor {
    /// The entropy of softmax(self) along the last axis: shape `shape.dropLast()`, differentiable.
    public func softmaxEntropy() -> Tensor {
        precondition(rank >= 1, "softmaxEntropy: needs rank ≥ 1, got shape \(shape)")
        let vocab = shape[rank - 1], rows = count / Swift.max(vocab, 1)
        let out = Storage(uninitializedCount: rows)
        let lse = Storage(uninitializedCount: rows)
        entropyForward(out.pointer, lse.pointer, pointer, rows: rows, vocab: vocab)
        let inShape = shape
        return Tensor.result("softmaxEntropy", shape: Array(shape.dropLast()), storage: out, inputs: [self]) { y, g in
            let logits = y.node!.inputs[0]
            let d = Storage(uninitializedCount: logits.count)
            entropyBackward(d.pointer, g.pointer, logits.pointer, lse.pointer, y.pointer, rows: rows, vocab: vocab)
            return [Tensor(shape: inShape, storage: d)]
        }
    }
}
