import Foundation

/// Rotary position embedding (RoPE) in Hugging Face LLaMA's convention: within each head of
/// width D the pairs (i, i + D/2) are rotated by the angle pos · θ^(−2i/D), i < D/2
/// (`rotate_half`, not the interleaved (2i, 2i+1) pairs of the original paper / GGUF files).
///
///   y[i]       = x[i]·cos − x[i + D/2]·sin
///   y[i + D/2] = x[i + D/2]·cos + x[i]·sin
///
/// The rotation is orthogonal, so the backward pass is the inverse rotation (angle −a) of the
/// output gradient. Activations are (…, heads·D) rows, each row with its own position (one per
/// (batch, token)), so left-padded batches and KV-cache offsets need nothing special.

/// cos/sin of pos · inv_freq[i] for positions 0..<maxPositions and i < D/2.
///
/// Computed as transformers does in float32 (`inv_freq = 1 / θ^(arange(0, D, 2) / D)`,
/// `angle = float(pos) · inv_freq`), then cos/sin of that float32 angle rounded once, so the
/// tables agree with `LlamaRotaryEmbedding` to the last bit or so even at large positions.
public final class RoPETable: @unchecked Sendable {
    public let headDim: Int
    public let theta: Float
    public let maxPositions: Int
    /// (maxPositions, D/2) each
    let cos: Storage
    let sin: Storage

    public init(headDim: Int, theta: Float = 10000, maxPositions: Int) {
        precondition(headDim > 0 && headDim % 2 == 0, "RoPETable: head dimension \(headDim) must be positive and even")
        precondition(theta > 0, "RoPETable: theta \(theta) must be positive")
        precondition(maxPositions >= 0, "RoPETable: negative position count \(maxPositions)")
        self.headDim = headDim
        self.theta = theta
        self.maxPositions = maxPositions
        let half = headDim / 2
        let invFreq: [Float] = (0..<half).map { i in
            let exponent = Float(2 * i) / Float(headDim)
            return 1 / Float(Foundation.pow(Double(theta), Double(exponent)))
        }
        cos = Storage(uninitializedCount: maxPositions * half)
        sin = Storage(uninitializedCount: maxPositions * half)
        let c = cos.pointer, s = sin.pointer
        parallelChunks(maxPositions, costPerItem: half * 40) { r in
            for p in r {
                for i in 0..<half {
                    let angle = Double(Float(p) * invFreq[i])
                    c[p * half + i] = Float(Foundation.cos(angle))
                    s[p * half + i] = Float(Foundation.sin(angle))
                }
            }
        }
    }
}

// forward (inverse = false) or inverse rotation (inverse = true):
//   inp (R, heads·D), positions (R), cos/sin (P, D/2) -> out (R, heads·D)
func ropeRotate(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ positions: UnsafePointer<Int>,
                _ cos: UnsafePointer<Float>, _ sin: UnsafePointer<Float>,
                rows: Int, heads: Int, headDim: Int, inverse: Bool) {
    let half = headDim / 2
    let width = heads * headDim
    let sign: Float = inverse ? -1 : 1
    parallelChunks(rows, costPerItem: width * 3) { r in
        for row in r {
            let c = cos + positions[row] * half, s = sin + positions[row] * half
            for h in 0..<heads {
                let x = inp + row * width + h * headDim, y = out + row * width + h * headDim
                for i in 0..<half {
                    let x1 = x[i], x2 = x[i + half]
                    let ci = c[i], si = sign * s[i]
                    y[i] = x1 * ci - x2 * si
                    y[i + half] = x2 * ci + x1 * si
                }
            }
        }
    }
}

extension Tensor {
    /// Rotary position embedding over (…, heads·headDim) activations, typically (B, T, heads·D)
    /// queries or keys. `positions` holds one position per row (B·T values for (B, T, ·),
    /// row-major), e.g. `t + past` for a KV cache or cumsum(mask) − 1 for left padding.
    public func rope(heads: Int, headDim: Int, positions: [Int], theta: Float = 10000) -> Tensor {
        let table = RoPETable(headDim: headDim, theta: theta, maxPositions: (positions.max() ?? -1) + 1)
        return rope(heads: heads, headDim: headDim, positions: positions, table: table)
    }

    /// RoPE with precomputed cos/sin tables (shared across layers and between q and k).
    public func rope(heads: Int, headDim: Int, positions: [Int], table: RoPETable) -> Tensor {
        precondition(heads > 0 && headDim > 0 && headDim % 2 == 0,
                     "rope: need heads > 0 and an even head dimension, got heads \(heads), headDim \(headDim)")
        precondition(table.headDim == headDim, "rope: table for head dimension \(table.headDim) used with headDim \(headDim)")
        let width = heads * headDim
        precondition(rank >= 1 && shape[rank - 1] == width,
                     "rope: input shape \(shape) must end in heads·headDim = \(heads)·\(headDim) = \(width)")
        let rows = count / width
        precondition(positions.count == rows,
                     "rope: \(positions.count) positions for input \(shape) (need one per row: \(rows))")
        for (i, p) in positions.enumerated() {
            precondition(p >= 0 && p < table.maxPositions,
                         "rope: position \(p) at row \(i) outside the table's 0..<\(table.maxPositions)")
        }
        let out = Storage(uninitializedCount: count)
        if rows > 0 { positions.withUnsafeBufferPointer { pos in
            ropeRotate(out.pointer, pointer, pos.baseAddress!, table.cos.pointer, table.sin.pointer,
                       rows: rows, heads: heads, headDim: headDim, inverse: false)
        } }
        return Tensor.result("rope", shape: shape, storage: out, inputs: [self]) { y, g in
            let x = y.node!.inputs[0]
            let d = Storage(uninitializedCount: x.count)
            if rows > 0 { positions.withUnsafeBufferPointer { pos in
                ropeRotate(d.pointer, g.pointer, pos.baseAddress!, table.cos.pointer, table.sin.pointer,
                           rows: rows, heads: heads, headDim: headDim, inverse: true)
            } }
            return [Tensor(shape: x.shape, storage: d)]
        }
    }
}
