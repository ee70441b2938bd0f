/// SwiGLU's gate, y = silu(gate) ⊙ up (LLaMA's MLP before down_proj), as one fused, vectorised
/// forward/backward pair: the op keeps only its two inputs, where silu(gate) followed by a
/// product kept silu(gate) too, an (N, intermediate) activation per layer. The arithmetic is
/// the unfused ops' in the same order, so the results are bit-for-bit the same.

// forward: gate (N), up (N) -> out (N) = (gate·σ(gate))·up
func swigluForward(_ out: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
    parallelChunks((n + 7) / 8, costPerItem: 8 * 9) { r in
        for blk in r {
            let i = blk * 8
            if i + 8 <= n {
                let x = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD8<Float>.self)
                let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: (x * simdSigmoid(x)) * u, as: SIMD8<Float>.self)
            } else {
                for j in i..<n {
                    let x = SIMD8<Float>(repeating: gate[j])
                    out[j] = (x * simdSigmoid(x))[0] * up[j]
                }
            }
        }
    }
}

// backward: gate (N), up (N), dout (N) -> dgate (N) = silu′(gate)·(dout·up), dup (N) = dout·silu(gate)
func swigluBackward(_ dgate: UnsafeMutablePointer<Float>, _ dup: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>,
                    _ up: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, count n: Int) {
    let one = SIMD8<Float>(repeating: 1)
    parallelChunks((n + 7) / 8, costPerItem: 8 * 12) { r in
        for blk in r {
            let i = blk * 8
            if i + 8 <= n {
                let x = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD8<Float>.self)
                let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD8<Float>.self)
                let g = UnsafeRawPointer(dout + i).loadUnaligned(as: SIMD8<Float>.self)
                let s = simdSigmoid(x)
                UnsafeMutableRawPointer(dgate + i).storeBytes(of: (s * (one + x * (one - s))) * (g * u), as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dup + i).storeBytes(of: g * (x * s), as: SIMD8<Float>.self)
            } else {
                for j in i..<n {
                    let x = SIMD8<Float>(repeating: gate[j]), s = simdSigmoid(x)
                    dgate[j] = (s * (one + x * (one - s)))[0] * (dout[j] * up[j])
                    dup[j] = dout[j] * (x * s)[0]
                }
            }
        }
    }
}

extension Tensor {
    /// silu(gate) ⊙ up for two tensors of one shape (LLaMA's SwiGLU), fused.
    public static func swiglu(gate: Tensor, up: Tensor) -> Tensor {
        precondition(gate.shape == up.shape, "swiglu: gate \(gate.shape) and up \(up.shape) differ")
        let out = Storage(uninitializedCount: gate.count)
        swigluForward(out.pointer, gate.pointer, up.pointer, count: gate.count)
        return Tensor.result("swiglu", shape: gate.shape, storage: out, inputs: [gate, up]) { y, g in
            let (x, u) = (y.node!.inputs[0], y.node!.inputs[1])
            let dx = Storage(uninitializedCount: x.count), du = Storage(uninitializedCount: u.count)
            swigluBackward(dx.pointer, du.pointer, x.pointer, u.pointer, g.pointer, count: x.count)
            return [Tensor(shape: x.shape, storage: dx), Tensor(shape: u.shape, storage: du)]
        }
    }
}
