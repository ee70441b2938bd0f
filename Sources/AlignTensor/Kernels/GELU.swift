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
    parallelChunks((n + 7) / 8, costPerItem: 8 * 12) { r in
        for blk in r {
            let i = blk * 8
            if i + 8 <= n {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: SIMD8<Float>.self)
                let u: SIMD8<Float> = geluK * (x + geluC * x * x * x)
                let t: SIMD8<Float> = simdTanh(u)
                let y: SIMD8<Float> = 0.5 * x * (1 + t)
                UnsafeMutableRawPointer(out + i).storeBytes(of: y, as: SIMD8<Float>.self)
            } else {
                for j in i..<n {
                    let x = inp[j]
                    let t = simdTanh(SIMD8(repeating: geluK * (x + geluC * x * x * x)))[0]
                    out[j] = 0.5 * x * (1 + t)
                }
            }
        }
    }
}

// backward: inp (N), dout (N) -> dinp (N)
func geluBackward(_ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, count n: Int) {
    @inline(__always) func grad(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let x2: SIMD8<Float> = x * x
        let u: SIMD8<Float> = geluK * (x + geluC * x2 * x)
        let t: SIMD8<Float> = simdTanh(u)
        let du: SIMD8<Float> = geluK * (1 + 3 * geluC * x2)
        let left: SIMD8<Float> = 0.5 * (1 + t)
        let right: SIMD8<Float> = 0.5 * x * (1 - t * t) * du
        return left + right
    }
    parallelChunks((n + 7) / 8, costPerItem: 8 * 16) { r in
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
    /// GELU, tanh approximation (GPT-2's `gelu_new`, PyTorch `approximate="tanh"`).
    public func gelu() -> Tensor {
        let out = Storage(uninitializedCount: count)
        geluForward(out.pointer, pointer, count: count)
        return Tensor.result("gelu", shape: shape, storage: out, inputs: [self]) { y, g in
            let x = y.node!.inputs[0]
            let d = Storage(uninitializedCount: x.count)
            geluBackward(d.pointer, x.pointer, g.pointer, count: x.count)
            return [Tensor(shape: x.shape, storage: d)]
        }
    }
}
