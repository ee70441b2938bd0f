/// Element-wise functions of two tensors with numpy/PyTorch broadcasting.
///
/// Fast paths cover equal shapes and a right-aligned suffix (a bias (C) added to (N, C));
/// everything else walks broadcast strides. Gradients of broadcast inputs are summed back to
/// the input's shape.

/// How the elements of a binary op's inputs line up with its output.
enum BroadcastPlan {
    case same
    /// b repeats every `inner` elements of the output (b's shape is a suffix of the output's).
    case bSuffix(inner: Int)
    case aSuffix(inner: Int)
    case general(aStrides: [Int], bStrides: [Int])

    init(_ a: [Int], _ b: [Int], out: [Int]) {
        if a == out && b == out { self = .same; return }
        if a == out, Self.isSuffix(b, of: out) { self = .bSuffix(inner: shapeCount(b)); return }
        if b == out, Self.isSuffix(a, of: out) { self = .aSuffix(inner: shapeCount(a)); return }
        self = .general(aStrides: broadcastStrides(a, to: out), bStrides: broadcastStrides(b, to: out))
    }

    /// `s` without its leading 1s equals the trailing dimensions of `out`.
    static func isSuffix(_ s: [Int], of out: [Int]) -> Bool {
        let trimmed = Array(s.drop(while: { $0 == 1 }))
        return trimmed.count <= out.count && Array(out.suffix(trimmed.count)) == trimmed
    }

    /// Calls body(outIndex, aIndex, bIndex) for every output element, serially.
    func forEach(count n: Int, outShape: [Int], _ body: (Int, Int, Int) -> Void) {
        switch self {
        case .same:
            for i in 0..<n { body(i, i, i) }
        case .bSuffix(let inner):
            if inner == 0 { return }
            for i in 0..<n { body(i, i, i % inner) }
        case .aSuffix(let inner):
            if inner == 0 { return }
            for i in 0..<n { body(i, i % inner, i) }
        case .general(let sa, let sb):
            forEachBroadcast(outShape, [sa, sb]) { o, off in body(o, off[0], off[1]) }
        }
    }

    /// Same as `forEach` but split across cores when every output element is independent.
    func forEachParallel(count n: Int, outShape: [Int], cost: Int, _ body: (Int, Int, Int) -> Void) {
        switch self {
        case .same:
            parallelChunks(n, costPerItem: cost) { r in for i in r { body(i, i, i) } }
        case .bSuffix(let inner):
            if inner == 0 { return }
            parallelChunks(n, costPerItem: cost) { r in for i in r { body(i, i, i % inner) } }
        case .aSuffix(let inner):
            if inner == 0 { return }
            parallelChunks(n, costPerItem: cost) { r in for i in r { body(i, i % inner, i) } }
        case .general:
            forEach(count: n, outShape: outShape, body)
        }
    }
}

extension Tensor {
    /// `f(a, b)` element-wise with broadcasting; `da`, `db` give ∂f/∂a and ∂f/∂b at (a, b).
    static func binary(_ name: String, _ a: Tensor, _ b: Tensor,
                       _ f: @escaping (Float, Float) -> Float,
                       da: @escaping (Float, Float) -> Float,
                       db: @escaping (Float, Float) -> Float) -> Tensor {
        let outShape = broadcastShapes(a.shape, b.shape, op: name)
        let n = shapeCount(outShape)
        let plan = BroadcastPlan(a.shape, b.shape, out: outShape)
        let out = Storage(uninitializedCount: n)
        let ap = a.pointer, bp = b.pointer, op = out.pointer
        plan.forEachParallel(count: n, outShape: outShape, cost: 2) { o, i, j in op[o] = f(ap[i], bp[j]) }
        return result(name, shape: outShape, storage: out, inputs: [a, b]) { y, g in
            let a = y.node!.inputs[0], b = y.node!.inputs[1]
            let ap = a.pointer, bp = b.pointer, gp = g.pointer
            var ga: Tensor?, gb: Tensor?
            if a.requiresGrad {
                let s = Storage(count: a.count, repeating: 0)
                let sp = s.pointer
                if a.shape == outShape {
                    plan.forEachParallel(count: n, outShape: outShape, cost: 2) { o, i, j in sp[i] = gp[o] * da(ap[i], bp[j]) }
                } else {
                    plan.forEach(count: n, outShape: outShape) { o, i, j in sp[i] += gp[o] * da(ap[i], bp[j]) }
                }
                ga = Tensor(shape: a.shape, storage: s)
            }
            if b.requiresGrad {
                let s = Storage(count: b.count, repeating: 0)
                let sp = s.pointer
                if b.shape == outShape {
                    plan.forEachParallel(count: n, outShape: outShape, cost: 2) { o, i, j in sp[j] = gp[o] * db(ap[i], bp[j]) }
                } else {
                    plan.forEach(count: n, outShape: outShape) { o, i, j in sp[j] += gp[o] * db(ap[i], bp[j]) }
                }
                gb = Tensor(shape: b.shape, storage: s)
            }
            return [ga, gb]
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binary("add", a, b, { $0 + $1 }, da: { _, _ in 1 }, db: { _, _ in 1 })
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binary("sub", a, b, { $0 - $1 }, da: { _, _ in 1 }, db: { _, _ in -1 })
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        binary("mul", a, b, { $0 * $1 }, da: { _, y in y }, db: { x, _ in x })
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        binary("div", a, b, { $0 / $1 }, da: { _, y in 1 / y }, db: { x, y in -x / (y * y) })
    }

    /// Element-wise maximum; at ties each side gets half the gradient (as PyTorch).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary("maximum", a, b, { Swift.max($0, $1) },
               da: { x, y in x > y ? 1 : (x == y ? 0.5 : 0) },
               db: { x, y in y > x ? 1 : (x == y ? 0.5 : 0) })
    }

    /// Element-wise minimum; at ties each side gets half the gradient (as PyTorch).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        binary("minimum", a, b, { Swift.min($0, $1) },
               da: { x, y in x < y ? 1 : (x == y ? 0.5 : 0) },
               db: { x, y in y < x ? 1 : (x == y ? 0.5 : 0) })
    }
}
