/// Ops driven by integer indices or masks: gather along the last axis (token log-probs),
/// index-select of rows (embeddings), where / masked-fill, and dropout.

extension Tensor {
    /// out[..., j] = self[..., indices[..., j]] along the last axis.
    /// `indices` has shape `self.shape.dropLast() + [k]` (flattened, row-major).
    public func gather(lastAxis indices: [Int], k: Int = 1) -> Tensor {
        precondition(rank >= 1, "gather: needs rank ≥ 1, got shape \(shape)")
        let v = shape[rank - 1]
        let rows = count / Swift.max(v, 1)
        precondition(indices.count == rows * k,
                     "gather: \(indices.count) indices for shape \(shape) with k=\(k) (need \(rows * k))")
        for (i, ix) in indices.enumerated() {
            precondition(ix >= 0 && ix < v, "gather: index \(ix) at position \(i) out of range 0..<\(v) for shape \(shape)")
        }
        let outShape = Array(shape.dropLast()) + [k]
        let out = Storage(uninitializedCount: rows * k)
        for r in 0..<rows { for j in 0..<k { out.pointer[r * k + j] = pointer[r * v + indices[r * k + j]] } }
        let inShape = shape
        return Tensor.result("gather", shape: outShape, storage: out, inputs: [self]) { _, g in
            let gx = Storage(count: rows * v, repeating: 0)
            for r in 0..<rows { for j in 0..<k { gx.pointer[r * v + indices[r * k + j]] += g.pointer[r * k + j] } }
            return [Tensor(shape: inShape, storage: gx)]
        }
    }

    /// Rows of a (V, C) table: out has shape `indexShape + [C]` (embedding lookup).
    public func indexSelect(rows indices: [Int], indexShape: [Int]? = nil) -> Tensor {
        precondition(rank == 2, "indexSelect: table must be (V, C), got shape \(shape)")
        let shapeOfIndices = indexShape ?? [indices.count]
        precondition(shapeCount(shapeOfIndices) == indices.count,
                     "indexSelect: index shape \(shapeOfIndices) does not hold \(indices.count) indices")
        let vocab = shape[0], c = shape[1]
        for (i, ix) in indices.enumerated() {
            precondition(ix >= 0 && ix < vocab, "indexSelect: index \(ix) at position \(i) out of range 0..<\(vocab) for table \(shape)")
        }
        let n = indices.count
        let out = Storage(uninitializedCount: n * c)
        let src = pointer, dst = out.pointer
        parallelChunks(n, costPerItem: c) { r in
            for i in r { (dst + i * c).update(from: src + indices[i] * c, count: c) }
        }
        let inShape = shape
        return Tensor.result("indexSelect", shape: shapeOfIndices + [c], storage: out, inputs: [self]) { _, g in
            let gx = Storage(count: vocab * c, repeating: 0)
            for i in 0..<n { addInPlace(gx.pointer + indices[i] * c, g.pointer + i * c, count: c) }
            return [Tensor(shape: inShape, storage: gx)]
        }
    }

    /// Element-wise choice: `a` where `condition` is non-zero, else `b`. All three broadcast.
    /// `condition` carries no gradient.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let ab = broadcastShapes(a.shape, b.shape, op: "where")
        let outShape = broadcastShapes(condition.shape, ab, op: "where")
        let strides = [condition.shape, a.shape, b.shape].map { broadcastStrides($0, to: outShape) }
        let n = shapeCount(outShape)
        let out = Storage(uninitializedCount: n)
        let cp = condition.pointer, ap = a.pointer, bp = b.pointer, op = out.pointer
        forEachBroadcast(outShape, strides) { o, off in op[o] = cp[off[0]] != 0 ? ap[off[1]] : bp[off[2]] }
        return result("where", shape: outShape, storage: out, inputs: [a, b]) { [condition] y, g in
            let a = y.node!.inputs[0], b = y.node!.inputs[1]
            let cp = condition.pointer
            let ga = a.requiresGrad ? Storage(count: a.count, repeating: 0) : nil
            let gb = b.requiresGrad ? Storage(count: b.count, repeating: 0) : nil
            let gp = g.pointer
            forEachBroadcast(outShape, strides) { o, off in
                if cp[off[0]] != 0 { ga?.pointer[off[1]] += gp[o] } else { gb?.pointer[off[2]] += gp[o] }
            }
            return [ga.map { Tensor(shape: a.shape, storage: $0) }, gb.map { Tensor(shape: b.shape, storage: $0) }]
        }
    }

    /// `value` where `mask` is non-zero, self elsewhere (mask broadcasts to self's shape).
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        let outShape = broadcastShapes(mask.shape, shape, op: "maskedFill")
        precondition(outShape == shape, "maskedFill: mask \(mask.shape) does not broadcast to \(shape)")
        return Tensor.where(mask, Tensor(scalar: value), self)
    }

    /// Zeroes each element with probability `p` and scales the rest by 1/(1−p). The mask comes
    /// from `rng`, so a seed reproduces it.
    public func dropout(_ p: Float, rng: inout RandomGenerator) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout: probability \(p) must be in [0, 1)")
        if p == 0 { return self }
        let n = count
        let mask = Storage(uninitializedCount: n)
        let scale = 1 / (1 - p)
        for i in 0..<n { mask.pointer[i] = rng.uniform() < p ? 0 : scale }
        let out = Storage(uninitializedCount: n)
        for i in 0..<n { out.pointer[i] = pointer[i] * mask.pointer[i] }
        return Tensor.result("dropout", shape: shape, storage: out, inputs: [self]) { x, g in
            let gx = Storage(uninitializedCount: n)
            for i in 0..<n { gx.pointer[i] = g.pointer[i] * mask.pointer[i] }
            return [Tensor(shape: x.shape, storage: gx)]
        }
    }
}
