import Foundation

/// Ops that move elements without arithmetic: reshape, broadcast, transpose/permute, slice,
/// concatenation. Only `reshaped` shares storage; the others copy into a new contiguous tensor.

extension Tensor {
    /// The same elements viewed with a new shape (one dimension may be -1). Shares storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0,
                         "reshape: cannot reshape \(shape) (\(count) elements) to \(newShape)")
            target[inferred] = count / known
        }
        precondition(shapeCount(target) == count && target.allSatisfy { $0 >= 0 },
                     "reshape: cannot reshape \(shape) (\(count) elements) to \(newShape)")
        if target == shape { return self }
        let inShape = shape
        return Tensor.result("reshape", shape: target, storage: storage, inputs: [self]) { _, g in
            [g.reshaped(inShape)]
        }
    }

    /// Repeats the tensor along size-1 (or missing leading) dimensions to `target`.
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let outShape = broadcastShapes(shape, target, op: "broadcast")
        precondition(outShape == target, "broadcast: cannot broadcast \(shape) to \(target)")
        let strides = broadcastStrides(shape, to: target)
        let out = Storage(uninitializedCount: shapeCount(target))
        let src = pointer, dst = out.pointer
        forEachBroadcast(target, [strides]) { o, off in dst[o] = src[off[0]] }
        let inShape = shape
        return Tensor.result("broadcast", shape: target, storage: out, inputs: [self]) { _, g in
            [g.sumToShape(inShape)]
        }
    }

    /// Sums a broadcast gradient back down to `target` (the inverse of `broadcast(to:)`).
    func sumToShape(_ target: [Int]) -> Tensor {
        if target == shape { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return sum(axes: axes, keepDims: false).reshaped(target)
    }

    /// Reorders dimensions: result dimension i is input dimension `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.count == rank && Set(order) == Set(0..<rank),
                     "permute: order \(order) is not a permutation of the \(rank) axes of shape \(shape)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let inStrides = contiguousStrides(shape)
        let readStrides = order.map { inStrides[$0] }
        let out = Storage(uninitializedCount: count)
        let src = pointer, dst = out.pointer
        // fast path: swap of the last two axes with everything before them kept (batched transpose)
        if rank >= 2, order[..<(rank - 2)] == ArraySlice(0..<(rank - 2)), order[rank - 2] == rank - 1 {
            let rows = shape[rank - 2], cols = shape[rank - 1]
            let batches = count / Swift.max(rows * cols, 1)
            parallelChunks(batches, costPerItem: rows * cols) { r in
                for b in r {
                    let s = src + b * rows * cols, d = dst + b * rows * cols
                    for i in 0..<rows { for j in 0..<cols { d[j * rows + i] = s[i * cols + j] } }
                }
            }
        } else {
            forEachBroadcast(outShape, [readStrides]) { o, off in dst[o] = src[off[0]] }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.result("permute", shape: outShape, storage: out, inputs: [self]) { _, g in
            [g.permuted(inverse)]
        }
    }

    /// Swaps two axes.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        let x = normalizeAxis(a, rank: rank, op: "transpose", shape: shape)
        let y = normalizeAxis(b, rank: rank, op: "transpose", shape: shape)
        var order = Array(0..<rank)
        order.swapAt(x, y)
        return permuted(order)
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank, op: "slice", shape: shape)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax],
                     "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        var outShape = shape
        outShape[ax] = range.count
        let outer = shapeCount(Array(shape[..<ax]))
        let inner = shapeCount(Array(shape[(ax + 1)...]))
        let full = shape[ax]
        let out = Storage(uninitializedCount: shapeCount(outShape))
        let src = pointer, dst = out.pointer
        let len = range.count * inner, start = range.lowerBound * inner
        for o in 0..<outer { (dst + o * len).update(from: src + o * full * inner + start, count: len) }
        let inShape = shape
        return Tensor.result("slice", shape: outShape, storage: out, inputs: [self]) { _, g in
            let gx = Storage(count: shapeCount(inShape), repeating: 0)
            for o in 0..<outer { (gx.pointer + o * full * inner + start).update(from: g.pointer + o * len, count: len) }
            return [Tensor(shape: inShape, storage: gx)]
        }
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let ax = normalizeAxis(axis, rank: first.rank, op: "concat", shape: first.shape)
        for t in tensors {
            var a = t.shape, b = first.shape
            precondition(a.count == b.count, "concat: shapes \(first.shape) and \(t.shape) differ in rank")
            a[ax] = 0; b[ax] = 0
            precondition(a == b, "concat: shapes \(first.shape) and \(t.shape) differ outside axis \(axis)")
        }
        var outShape = first.shape
        outShape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        let outer = shapeCount(Array(first.shape[..<ax]))
        let inner = shapeCount(Array(first.shape[(ax + 1)...]))
        let outRow = outShape[ax] * inner
        let out = Storage(uninitializedCount: shapeCount(outShape))
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            let len = t.shape[ax] * inner
            for o in 0..<outer { (out.pointer + o * outRow + offset).update(from: t.pointer + o * len, count: len) }
            offsets.append(offset)
            offset += len
        }
        let shapes = tensors.map(\.shape)
        return result("concat", shape: outShape, storage: out, inputs: tensors) { y, g in
            zip(y.node!.inputs, zip(shapes, offsets)).map { t, so in
                guard t.requiresGrad else { return nil }
                let (s, off) = so
                let len = s[ax] * inner
                let gs = Storage(uninitializedCount: shapeCount(s))
                for o in 0..<outer { (gs.pointer + o * len).update(from: g.pointer + o * outRow + off, count: len) }
                return Tensor(shape: s, storage: gs)
            }
        }
    }

    /// Adds a size-1 axis at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        let ax = axis < 0 ? axis + rank + 1 : axis
        precondition(ax >= 0 && ax <= rank, "unsqueeze: axis \(axis) out of range for shape \(shape)")
        var s = shape
        s.insert(1, at: ax)
        return reshaped(s)
    }

    /// Removes a size-1 axis.
    public func squeezed(_ axis: Int) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank, op: "squeeze", shape: shape)
        precondition(shape[ax] == 1, "squeeze: axis \(axis) of shape \(shape) has size \(shape[ax]), not 1")
        var s = shape
        s.remove(at: ax)
        return reshaped(s)
    }
}
