/// Reductions over axes: sum, mean, max, variance. Reduced axes are kept as size 1 when
/// `keepDims` is true, removed otherwise.

/// The shape of a reduction and how to walk it: the input viewed as (outer, reduced, inner)
/// when the reduced axes are adjacent, or a general index map otherwise.
struct ReductionPlan {
    let inShape: [Int]
    let axes: [Int]            // sorted, unique, normalised
    let keptShape: [Int]       // reduced axes set to 1
    let outShape: [Int]        // keptShape, or with the reduced axes removed

    init(shape: [Int], axes: [Int]?, keepDims: Bool, op: String) {
        inShape = shape
        let all = Array(0..<shape.count)
        let norm = (axes ?? all).map { normalizeAxis($0, rank: shape.count, op: op, shape: shape) }
        let sortedAxes = Array(Set(norm)).sorted()
        self.axes = sortedAxes
        var kept = shape
        for a in sortedAxes { kept[a] = 1 }
        keptShape = kept
        outShape = keepDims ? kept : shape.enumerated().filter { !sortedAxes.contains($0.offset) }.map(\.element)
    }

    /// For each input element, the flat index of its output element.
    func outputIndex() -> [Int] {
        var map = [Int](repeating: 0, count: shapeCount(inShape))
        let strides = broadcastStrides(keptShape, to: inShape)
        var i = 0
        forEachBroadcast(inShape, [strides]) { _, off in map[i] = off[0]; i += 1 }
        return map
    }

    /// (outer, reduced, inner) when the reduced axes are one contiguous run.
    var contiguousRun: (outer: Int, reduced: Int, inner: Int)? {
        guard let first = axes.first, let last = axes.last, last - first + 1 == axes.count else {
            return axes.isEmpty ? (shapeCount(inShape), 1, 1) : nil
        }
        return (shapeCount(Array(inShape[..<first])), shapeCount(Array(inShape[first...last])),
                shapeCount(Array(inShape[(last + 1)...])))
    }
}

extension Tensor {
    /// Sum over `axes` (all axes when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let plan = ReductionPlan(shape: shape, axes: axes, keepDims: keepDims, op: "sum")
        let out = Storage(count: shapeCount(plan.outShape), repeating: 0)
        let src = pointer, dst = out.pointer
        if let (outer, red, inner) = plan.contiguousRun {
            if inner == 1 {
                parallelChunks(outer, costPerItem: red) { r in
                    for o in r {
                        var acc: Float = 0
                        let row = src + o * red
                        for k in 0..<red { acc += row[k] }
                        dst[o] = acc
                    }
                }
            } else {
                parallelChunks(outer, costPerItem: red * inner) { r in
                    for o in r {
                        for k in 0..<red {
                            let row = src + (o * red + k) * inner
                            let d = dst + o * inner
                            for j in 0..<inner { d[j] += row[j] }
                        }
                    }
                }
            }
        } else {
            let map = plan.outputIndex()
            for i in 0..<count { dst[map[i]] += src[i] }
        }
        return Tensor.result("sum", shape: plan.outShape, storage: out, inputs: [self]) { y, g in
            [g.reshaped(plan.keptShape).broadcast(to: plan.inShape)]
        }
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let plan = ReductionPlan(shape: shape, axes: axes, keepDims: keepDims, op: "mean")
        let n = plan.axes.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Variance over `axes` with `correction` (0: population, 1: sample/unbiased as torch.var).
    public func variance(axes: [Int]? = nil, correction: Int = 0, keepDims: Bool = false) -> Tensor {
        let plan = ReductionPlan(shape: shape, axes: axes, keepDims: keepDims, op: "variance")
        let n = plan.axes.reduce(1) { $0 * shape[$1] }
        precondition(n - correction > 0, "variance: \(n) elements with correction \(correction) over shape \(shape)")
        let centered = self - mean(axes: axes, keepDims: true)
        return (centered * centered).sum(axes: axes, keepDims: keepDims) * (1 / Float(n - correction))
    }

    /// Maximum over `axes`; the gradient goes to the first maximal element of each group.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let plan = ReductionPlan(shape: shape, axes: axes, keepDims: keepDims, op: "max")
        let outCount = shapeCount(plan.outShape)
        precondition(count > 0 || outCount == 0, "max: empty reduction over shape \(shape)")
        let out = Storage(count: outCount, repeating: -.infinity)
        var argmax = [Int](repeating: -1, count: outCount)
        let map = plan.outputIndex()
        let src = pointer, dst = out.pointer
        for i in 0..<count {
            let o = map[i]
            if argmax[o] < 0 || src[i] > dst[o] || (src[i].isNaN && !dst[o].isNaN) {
                dst[o] = src[i]
                argmax[o] = i
            }
        }
        let inShape = shape
        return Tensor.result("max", shape: plan.outShape, storage: out, inputs: [self]) { _, g in
            let gx = Storage(count: shapeCount(inShape), repeating: 0)
            for o in 0..<outCount where argmax[o] >= 0 { gx.pointer[argmax[o]] += g.pointer[o] }
            return [Tensor(shape: inShape, storage: gx)]
        }
    }

    public func max(axis: Int, keepDims: Bool = false) -> Tensor { self.max(axes: [axis], keepDims: keepDims) }

    /// Minimum over `axes` (the maximum of the negation).
    public func min(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        -(neg().max(axes: axes, keepDims: keepDims))
    }

    public func min(axis: Int, keepDims: Bool = false) -> Tensor { self.min(axes: [axis], keepDims: keepDims) }
}
