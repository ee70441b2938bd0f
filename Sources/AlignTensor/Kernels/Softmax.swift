import Foundation

/// Softmax and log-softmax over the last axis: fused, max-subtracted forward/backward pairs on
/// flat rows, parallel over rows.

// forward: inp (R,V) -> out (R,V) probabilities
func softmaxForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, rows: Int, cols: Int) {
    parallelChunks(rows, costPerItem: cols * 4) { r in
        for row in r {
            let x = inp + row * cols, y = out + row * cols
            let mx = rowMax(x, cols)
            if mx == -.infinity { for j in 0..<cols { y[j] = 0 }; continue } // fully masked row
            let inv = 1 / expShifted(x, y, cols, shift: mx)
            for j in 0..<cols { y[j] *= inv }
        }
    }
}

// backward: dinp (R,V) = y ⊙ (dout − Σ dout⊙y), y (R,V) probabilities, dout (R,V)
func softmaxBackward(_ dinp: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                     rows: Int, cols: Int) {
    parallelChunks(rows, costPerItem: cols * 3) { r in
        for row in r {
            let p = y + row * cols, g = dout + row * cols, d = dinp + row * cols
            var dot: Float = 0
            for j in 0..<cols { dot += p[j] * g[j] }
            for j in 0..<cols { d[j] = p[j] * (g[j] - dot) }
        }
    }
}

// forward: inp (R,V) -> out (R,V) log-probabilities
func logSoftmaxForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, rows: Int, cols: Int) {
    parallelChunks(rows, costPerItem: cols * 4) { r in
        for row in r {
            let x = inp + row * cols, y = out + row * cols
            // (x − max) − log Σ exp(x − max): subtracting the max first keeps full precision
            // when |x| is large (log Σ is then O(1) rather than O(|x|))
            let (mx, logSum) = shiftedLogSumExp(x, cols)
            if !mx.isFinite { for j in 0..<cols { y[j] = x[j] - mx }; continue }
            for j in 0..<cols { y[j] = (x[j] - mx) - logSum }
        }
    }
}

// backward: dinp (R,V) = dout − softmax · Σ dout, y (R,V) log-probabilities
func logSoftmaxBackward(_ dinp: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                        rows: Int, cols: Int) {
    parallelChunks(rows, costPerItem: cols * 3) { r in
        for row in r {
            let ly = y + row * cols, g = dout + row * cols, d = dinp + row * cols
            var s: Float = 0
            for j in 0..<cols { s += g[j] }
            _ = expShifted(ly, d, cols, shift: 0, scale: -s)
            for j in 0..<cols { d[j] += g[j] }
        }
    }
}

/// log Σ exp(x) over one row as (max, log Σ exp(x − max)); the max is −inf for an empty or
/// all −inf row (and log Σ then 0).
@inline(__always)
func shiftedLogSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> (max: Float, logSum: Float) {
    let mx = rowMax(x, n)
    if !mx.isFinite { return (mx, 0) }
    return (mx, Foundation.log(sumExpShifted(x, n, shift: mx)))
}

extension Tensor {
    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        precondition(rank >= 1, "softmax: needs rank ≥ 1, got shape \(shape)")
        let cols = shape[rank - 1], rows = count / Swift.max(cols, 1)
        let out = Storage(uninitializedCount: count)
        softmaxForward(out.pointer, pointer, rows: rows, cols: cols)
        return Tensor.result("softmax", shape: shape, storage: out, inputs: [self]) { y, g in
            let d = Storage(uninitializedCount: y.count)
            softmaxBackward(d.pointer, y.pointer, g.pointer, rows: rows, cols: cols)
            return [Tensor(shape: y.shape, storage: d)]
        }
    }

    /// Log-softmax over the last axis; finite for any finite input.
    public func logSoftmax() -> Tensor {
        precondition(rank >= 1, "logSoftmax: needs rank ≥ 1, got shape \(shape)")
        let cols = shape[rank - 1], rows = count / Swift.max(cols, 1)
        let out = Storage(uninitializedCount: count)
        logSoftmaxForward(out.pointer, pointer, rows: rows, cols: cols)
        return Tensor.result("logSoftmax", shape: shape, storage: out, inputs: [self]) { y, g in
            let d = Storage(uninitializedCount: y.count)
            logSoftmaxBackward(d.pointer, y.pointer, g.pointer, rows: rows, cols: cols)
            return [Tensor(shape: y.shape, storage: d)]
        }
    }
}
