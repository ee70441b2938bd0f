import Foundation

/// Layer normalisation over the last axis (GPT-2), and RMS normalisation (LLaMA): fused
/// forward/backward pairs on flat rows, parallel over rows.

// forward: inp (R,C), weight (C), bias (C) -> out (R,C), mean (R), rstd (R)
func layerNormForward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                      _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                      rows: Int, cols: Int, eps: Float) {
    parallelChunks(rows, costPerItem: cols * 4) { r in
        for row in r {
            let x = inp + row * cols, y = out + row * cols
            var m: Float = 0
            for j in 0..<cols { m += x[j] }
            m /= Float(cols)
            var v: Float = 0
            for j in 0..<cols { let d = x[j] - m; v += d * d }
            v /= Float(cols)
            let s = 1 / (v + eps).squareRoot()
            for j in 0..<cols { y[j] = (x[j] - m) * s * weight[j] + bias[j] }
            mean[row] = m
            rstd[row] = s
        }
    }
}

// backward: dout (R,C), inp (R,C), weight (C), mean (R), rstd (R)
//   -> dinp (R,C) (if non-nil); returns dweight‖dbias (2C) summed over rows
func layerNormBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                       _ weight: UnsafePointer<Float>, _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
                       rows: Int, cols: Int) -> Storage {
    parallelPartials(rows, width: 2 * cols, costPerItem: cols * 8) { r, acc in
        let dw = acc, db = acc + cols
        for row in r {
            let x = inp + row * cols, g = dout + row * cols
            let m = mean[row], s = rstd[row]
            var dnormMean: Float = 0, dnormNormMean: Float = 0
            for j in 0..<cols {
                let n = (x[j] - m) * s
                let dn = weight[j] * g[j]
                dnormMean += dn
                dnormNormMean += dn * n
                db[j] += g[j]
                dw[j] += n * g[j]
            }
            dnormMean /= Float(cols)
            dnormNormMean /= Float(cols)
            if let dinp {
                let d = dinp + row * cols
                for j in 0..<cols {
                    let n = (x[j] - m) * s
                    d[j] = (weight[j] * g[j] - dnormMean - n * dnormNormMean) * s
                }
            }
        }
    }
}

// forward: inp (R,C), weight (C) -> out (R,C), rrms (R) = 1/sqrt(mean(x²)+eps)
func rmsNormForward(_ out: UnsafeMutablePointer<Float>, _ rrms: UnsafeMutablePointer<Float>,
                    _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, rows: Int, cols: Int, eps: Float) {
    parallelChunks(rows, costPerItem: cols * 3) { r in
        for row in r {
            let x = inp + row * cols, y = out + row * cols
            var ss: Float = 0
            for j in 0..<cols { ss += x[j] * x[j] }
            let s = 1 / (ss / Float(cols) + eps).squareRoot()
            for j in 0..<cols { y[j] = x[j] * s * weight[j] }
            rrms[row] = s
        }
    }
}

// backward: dout (R,C), inp (R,C), weight (C), rrms (R) -> dinp (R,C) (if non-nil); returns dweight (C)
func rmsNormBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                     _ weight: UnsafePointer<Float>, _ rrms: UnsafePointer<Float>, rows: Int, cols: Int) -> Storage {
    parallelPartials(rows, width: cols, costPerItem: cols * 6) { r, dw in
        for row in r {
            let x = inp + row * cols, g = dout + row * cols, s = rrms[row]
            var dot: Float = 0
            for j in 0..<cols {
                let n = x[j] * s
                dot += weight[j] * g[j] * n
                dw[j] += g[j] * n
            }
            dot /= Float(cols)
            if let dinp {
                let d = dinp + row * cols
                for j in 0..<cols { d[j] = s * (weight[j] * g[j] - x[j] * s * dot) }
            }
        }
    }
}

extension Tensor {
    /// LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · weight + bias.
    public func layerNorm(weight: Tensor, bias: Tensor, eps: Float = 1e-5) -> Tensor {
        let c = shape.last ?? 0
        precondition(weight.shape == [c] && bias.shape == [c],
                     "layerNorm: weight \(weight.shape) and bias \(bias.shape) must be [\(c)] for input \(shape)")
        let rows = count / Swift.max(c, 1)
        let out = Storage(uninitializedCount: count)
        let mean = Storage(uninitializedCount: rows), rstd = Storage(uninitializedCount: rows)
        layerNormForward(out.pointer, mean.pointer, rstd.pointer, pointer, weight.pointer, bias.pointer,
                         rows: rows, cols: c, eps: eps)
        return Tensor.result("layerNorm", shape: shape, storage: out, inputs: [self, weight, bias]) { y, g in
            let x = y.node!.inputs[0], w = y.node!.inputs[1], b = y.node!.inputs[2]
            let dx = x.requiresGrad ? Storage(uninitializedCount: x.count) : nil
            let dwb = layerNormBackward(dx?.pointer, g.pointer, x.pointer, w.pointer, mean.pointer, rstd.pointer,
                                        rows: rows, cols: c)
            let dw = Storage(uninitializedCount: c), db = Storage(uninitializedCount: c)
            dw.pointer.update(from: dwb.pointer, count: c)
            db.pointer.update(from: dwb.pointer + c, count: c)
            return [dx.map { Tensor(shape: x.shape, storage: $0) },
                    w.requiresGrad ? Tensor(shape: [c], storage: dw) : nil,
                    b.requiresGrad ? Tensor(shape: [c], storage: db) : nil]
        }
    }

    /// RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight (LLaMA).
    public func rmsNorm(weight: Tensor, eps: Float = 1e-6) -> Tensor {
        let c = shape.last ?? 0
        precondition(weight.shape == [c], "rmsNorm: weight \(weight.shape) must be [\(c)] for input \(shape)")
        let rows = count / Swift.max(c, 1)
        let out = Storage(uninitializedCount: count)
        let rrms = Storage(uninitializedCount: rows)
        rmsNormForward(out.pointer, rrms.pointer, pointer, weight.pointer, rows: rows, cols: c, eps: eps)
        return Tensor.result("rmsNorm", shape: shape, storage: out, inputs: [self, weight]) { y, g in
            let x = y.node!.inputs[0], w = y.node!.inputs[1]
            let dx = x.requiresGrad ? Storage(uninitializedCount: x.count) : nil
            let dw = rmsNormBackward(dx?.pointer, g.pointer, x.pointer, w.pointer, rrms.pointer, rows: rows, cols: c)
            return [dx.map { Tensor(shape: x.shape, storage: $0) }, w.requiresGrad ? Tensor(shape: [c], storage: dw) : nil]
        }
    }
}
