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
    public let scaling: RoPEScaling
    public let maxPositions: Int
    /// The D/2 frequencies after scaling.
    public let inverseFrequencies: [Float]
    /// (maxPositions, D/2) each
    let cos: Storage
    let sin: Storage

    public init(headDim: Int, theta: Float = 10000, scaling: RoPEScaling = .none, maxPositions: Int) {
        precondition(headDim > 0 && headDim % 2 == 0, "RoPETable: head dimension \(headDim) must be positive and even")
        precondition(theta > 0, "RoPETable: theta \(theta) must be positive")
        precondition(maxPositions >= 0, "RoPETable: negative position count \(maxPositions)")
        self.headDim = headDim
        self.theta = theta
        self.scaling = scaling
        self.maxPositions = maxPositions
        let half = headDim / 2
        let invFreq = scaling.apply(to: RoPEScaling.baseInverseFrequencies(headDim: headDim, theta: theta))
        inverseFrequencies = invFreq
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

/// Position-interpolation variants of RoPE, as transformers' `ROPE_INIT_FUNCTIONS` compute the
/// scaled frequencies (`inv_freq`); the attention scale is unchanged for both.
public enum RoPEScaling: Equatable, Sendable {
    case none
    /// Every frequency divided by `factor`.
    case linear(factor: Double)
    /// Llama 3.1/3.2: wavelengths shorter than original/high_freq_factor are kept, longer than
    /// original/low_freq_factor divided by `factor`, and in between interpolated smoothly.
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalContext: Int)

    /// θ^(−2i/D) for i < D/2, computed as transformers does in float32.
    public static func baseInverseFrequencies(headDim: Int, theta: Float) -> [Float] {
        (0..<headDim / 2).map { i in
            let exponent = Float(2 * i) / Float(headDim)
            return 1 / Float(Foundation.pow(Double(theta), Double(exponent)))
        }
    }

    /// The scaled frequencies (float32 arithmetic, in transformers' order of operations).
    public func apply(to invFreq: [Float]) -> [Float] {
        switch self {
        case .none:
            return invFreq
        case .linear(let factor):
            return invFreq.map { $0 / Float(factor) }
        case .llama3(let factor, let low, let high, let original):
            let f = Float(factor), lo = Float(low), hi = Float(high), old = Float(original)
            let lowWavelength = Float(Double(original) / low), highWavelength = Float(Double(original) / high)
            return invFreq.map { freq in
                let wavelength = Float(2 * Double.pi) / freq
                if wavelength < highWavelength { return freq }
                if wavelength > lowWavelength { return freq / f }
                let smooth = (old / wavelength - lo) / (hi - lo)
                return (1 - smooth) * freq / f + smooth * freq
            }
        }
    }

    /// Per-frequency divisors base/scaled: llama.cpp's `rope_freqs.weight` tensor.
    public func frequencyFactors(headDim: Int, theta: Float) -> [Float] {
        let base = Self.baseInverseFrequencies(headDim: headDim, theta: theta)
        return zip(base, apply(to: base)).map { $0 / $1 }
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
