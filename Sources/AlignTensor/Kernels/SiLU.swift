/// SiLU, y = x·σ(x) (LLaMA's SwiGLU activation): a fused, vectorised forward/backward pair,
/// parallel over chunks. σ(x) = 1/(1 + e^{−x}) through the vector exp; at x → −∞ e^{−x}
/// saturates at e^{88} and σ → 0, at x → +∞ e^{−x} → 0 and σ → 1.

@inline(__always)
func simdSigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
    1 / (1 + simdExp(-x))
}

// forward: inp (N) -> out (N)
func siluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count n: Int) {
    mapSIMD(out, inp, count: n, cost: 8) { x in x * simdSigmoid(x) }
}

// backward: inp (N), dout (N) -> dinp (N) = dout · σ(x)·(1 + x·(1 − σ(x)))
func siluBackward(_ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, count n: Int) {
    backwardSIMD(dinp, inp, dout, count: n, cost: 10) { x in
        let s = simdSigmoid(x)
        let one = SIMD8<Float>(repeating: 1)
        return s * (one + x * (one - s))
    }
}

extension Tensor {
    /// x·σ(x) (LLaMA's MLP activation).
    public func silu() -> Tensor {
        elementwise("silu", forward: { siluForward($0, $1, count: $2) }, backward: { siluBackward($0, $1, $2, count: $3) })
    }
}
