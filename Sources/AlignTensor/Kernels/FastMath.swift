/// Vectorised exp for the hot loops (softmax, cross-entropy, attention, GELU).
///
/// Cephes' single-precision `expf` (range reduction by ln 2 split in two constants, degree-6
/// polynomial on [−ln2/2, ln2/2]), eight lanes at a time. Relative error ≤ 2 ulp over the float range; inputs
/// below −87.3 give exactly 0 and −inf gives 0 (masked scores); NaN propagates.

@inline(__always)
func simdExp(_ v: SIMD8<Float>) -> SIMD8<Float> {
    let hi = SIMD8<Float>(repeating: 88.3762626647949)
    let lo = SIMD8<Float>(repeating: -87.3365478515625)
    var x = v
    x.replace(with: hi, where: x .> hi)
    x.replace(with: lo, where: x .< lo)
    // n = round(x·log₂e) by the 1.5·2²³ trick: after adding the magic constant the integer n
    // sits in the low mantissa bits of t, so both the float n and the integer n come from
    // plain adds and a bit cast (no lane-by-lane rounding or conversion on any x86-64 level)
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let t = x * 1.44269504088896341 + magic
    let fx = t - magic
    let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
    x = x - fx * 0.693359375
    x = x + fx * 2.12194440e-4
    let z = x * x
    var y = SIMD8<Float>(repeating: 1.9875691500e-4)
    y = y * x + 1.3981999507e-3
    y = y * x + 8.3334519073e-3
    y = y * x + 4.1665795894e-2
    y = y * x + 1.6666665459e-1
    y = y * x + 5.0000001201e-1
    y = y * z + x + 1
    let bits = (n &+ 127) &<< 23
    var r = y * unsafeBitCast(bits, to: SIMD8<Float>.self)
    r.replace(with: 0, where: v .< lo)
    r.replace(with: v, where: v .!= v) // NaN in, NaN out
    return r
}

/// exp of one value through the vector kernel (tails of rows).
@inline(__always)
func fastExp(_ x: Float) -> Float { simdExp(SIMD8<Float>(repeating: x))[0] }

/// y[i] = scale · exp(x[i] − shift) for i in 0..<n; returns Σ exp(x[i] − shift) (unscaled).
/// `y` may equal `x`.
@inline(__always)
func expShifted(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, shift: Float,
                scale: Float = 1) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    let s = SIMD8<Float>(repeating: shift)
    let k = SIMD8<Float>(repeating: scale)
    while i + 8 <= n {
        let v = simdExp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - s)
        UnsafeMutableRawPointer(y + i).storeBytes(of: v * k, as: SIMD8<Float>.self)
        acc += v
        i += 8
    }
    var total = acc.sum()
    while i < n { let e = fastExp(x[i] - shift); y[i] = e * scale; total += e; i += 1 }
    return total
}

/// Σ exp(x[i] − shift) without storing the terms.
@inline(__always)
func sumExpShifted(_ x: UnsafePointer<Float>, _ n: Int, shift: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    let s = SIMD8<Float>(repeating: shift)
    while i + 8 <= n {
        acc += simdExp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - s)
        i += 8
    }
    var total = acc.sum()
    while i < n { total += fastExp(x[i] - shift); i += 1 }
    return total
}

/// max over x[0..<n] (−inf for n = 0).
@inline(__always)
func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        m.replace(with: v, where: v .> m)
        i += 8
    }
    var r = m.max()
    while i < n { r = Swift.max(r, x[i]); i += 1 }
    return r
}

/// out[i] = f(x[i]), eight lanes at a time (the tail through a broadcast vector), parallel
/// over chunks. `cost` is a rough FLOP count per element for the parallel split.
@inline(__always)
func mapSIMD(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count n: Int, cost: Int,
             _ f: (SIMD8<Float>) -> SIMD8<Float>) {
    parallelChunks((n + 7) / 8, costPerItem: 8 * cost) { r in
        for blk in r {
            let i = blk * 8
            if i + 8 <= n {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: f(x), as: SIMD8<Float>.self)
            } else {
                for j in i..<n { out[j] = f(SIMD8(repeating: inp[j]))[0] }
            }
        }
    }
}

/// dinp[i] = f′(x[i]) · dout[i] for an element-wise f, given `derivative` = f′ (see `mapSIMD`).
@inline(__always)
func backwardSIMD(_ dinp: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                  count n: Int, cost: Int, _ derivative: (SIMD8<Float>) -> SIMD8<Float>) {
    parallelChunks((n + 7) / 8, costPerItem: 8 * cost) { r in
        for blk in r {
            let i = blk * 8
            if i + 8 <= n {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: SIMD8<Float>.self)
                let g = UnsafeRawPointer(dout + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dinp + i).storeBytes(of: derivative(x) * g, as: SIMD8<Float>.self)
            } else {
                for j in i..<n { dinp[j] = derivative(SIMD8(repeating: inp[j]))[0] * dout[j] }
            }
        }
    }
}

extension Tensor {
    /// A recorded element-wise op from a forward kernel `inp (N) -> out (N)` and a backward kernel
    /// `inp (N), dout (N) -> dinp (N)` (GELU, SiLU).
    func elementwise(_ name: String, forward: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int) -> Void,
                     backward: @escaping (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Void) -> Tensor {
        let out = Storage(uninitializedCount: count)
        forward(out.pointer, pointer, count)
        return Tensor.result(name, shape: shape, storage: out, inputs: [self]) { y, g in
            let x = y.node!.inputs[0]
            let d = Storage(uninitializedCount: x.count)
            backward(d.pointer, x.pointer, g.pointer, x.count)
            return [Tensor(shape: x.shape, storage: d)]
        }
    }
}
