/// GELU in GPT-2's tanh form, y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))): a fused, vectorised
/// forward/backward pair, parallel over chunks.

private let geluK: Float = 0.7978845608028654 // √(2/π)
private let geluC: Float = 0.044715

/// tanh(u) = 1 − 2/(e^{2u} + 1), eight lanes (saturates cleanly at ±1).
@inline(__always)
func simdTanh(_ u: SIMD8<Float>) -> SIMD8<Float> {
    1 - 2 / (simdExp(2 * u) + 1)
}

// forward: inp (N) -> out (N)
func geluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count n: Int) {
    mapSIMD(out, inp, count: n, cost: 12) { x in
        let u: SIMD8<Float> = geluK * (x + geluC * x * x * x)
        let t: SIMD8<Float> = simdTanh(u)
        return 0.5 * x * (1 + t)
    }
}

// backward: inp (N), dout (N) -> dinp (N)
func geluBackward(_ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, count n: Int) {
    backwardSIMD(dinp, inp, dout, count: n, cost: 16) { x in
        let x2: SIMD8<Float> = x * x
        let u: SIMD8<Float> = geluK * (x + geluC * x2 * x)
        let t: SIMD8<Float> = simdTanh(u)
        let du: SIMD8<Float> = geluK * (1 + 3 * geluC * x2)
        let left: SIMD8<Float> = 0.5 * (1 + t)
        let right: SIMD8<Float> = 0.5 * x * (1 - t * t) * du
        return left + right
    }
}

extension Tensor {
    /// GELU, tanh approximation (GPT-2's `gelu_new`, PyTorch `approximate="tanh"`).
    public func gelu() -> Tensor {
        elementwise("gelu", forward: { geluForward($0, $1, count: $2) }, backward: { geluBackward($0, $1, $2, count: $3) })
    }
}
