/// SiLU, y = x·σ(x) (LLaMA's SwiGLU activation): a fused, vectorised forward/backward pair,
/// parallel over chunks. σ(x) = 1/(1 + e^{−x}) through the vector exp; at x → −∞ e^{−x}
/// saturates at e^{88} and σ → 0, at x → +∞ e^{−x} → 0 and σ → 1.

@inline(__always)
func simdSigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
    1 / (1 + simdExp(-x))
}

// forward: inp (N) -> out (N)
func siluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count n: Int) {
    parallelChunks((n + 7) / 8, costPerItem: 8 * 8) { r in
        for blk in r {
            let i = blk * 8
            if i + 8 <= n {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: x * simdSigmoid(x), as: SIMD8<Float>.self)
            } else {
                for j in i..<n { out[j] = inp[j] * simdSigmoid(SIMD8(repeating: inp[j]))[0] }
            }
        }
    }
}

// backward: inp (N), dout (N) -> dinp (N) = dout · σ(x)·(1 + x·(1 − σ(x)))
func siluBackward(_ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, count n: Int) {
    @inline(__always) func grad(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let s = simdSigmoid(x)
        let one = SIMD8<Float>(repeating: 1)
        return s * (one + x * (one - s))
    }
    parallelChunks((n + 7) / 8, costPerItem: 8 * 10) { r in
        for blk in r {
            let i = blk * 8
            if i + 8 <= n {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: SIMD8<Float>.self)
                let g = UnsafeRawPointer(dout + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dinp + i).storeBytes(of: grad(x) * g, as: SIMD8<Float>.self)
            } else {
                for j in i..<n { dinp[j] = grad(SIMD8(repeating: inp[j]))[0] * dout[j] }
            }
        }
    }
}

extension Tensor {
    /// x·σ(x) (LLaMA's MLP activation).
    public func silu() -> Tensor {
        let out = Storage(uninitializedCount: count)
        siluForward(out.pointer, pointer, count: count)
        return Tensor.result("silu", shape: shape, storage: out, inputs: [self]) { y, g in
            let x = y.node!.inputs[0]
            let d = Storage(uninitializedCount: x.count)
            siluBackward(d.pointer, x.pointer, g.pointer, count: x.count)
            return [Tensor(shape: x.shape, storage: d)]
        }
    }
}
