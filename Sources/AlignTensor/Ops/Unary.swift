import Foundation

/// Element-wise functions of one tensor. Each records a backward that uses the input `x`, the
/// output `y` and the upstream gradient `g` at the same position.

extension Tensor {
    /// Applies `f` element-wise; `df(x, y, g)` is the gradient contribution at one element.
    func unary(_ name: String, cost: Int = 4,
               _ f: @escaping (Float) -> Float,
               _ df: @escaping (_ x: Float, _ y: Float, _ g: Float) -> Float) -> Tensor {
        let n = count
        let out = Storage(uninitializedCount: n)
        let src = pointer, dst = out.pointer
        parallelChunks(n, costPerItem: cost) { r in
            for i in r { dst[i] = f(src[i]) }
        }
        return Tensor.result(name, shape: shape, storage: out, inputs: [self]) { y, g in
            let x = y.node!.inputs[0]
            let gx = Storage(uninitializedCount: n)
            let xp = x.pointer, yp = y.pointer, gp = g.pointer, dp = gx.pointer
            parallelChunks(n, costPerItem: cost) { r in
                for i in r { dp[i] = df(xp[i], yp[i], gp[i]) }
            }
            return [Tensor(shape: x.shape, storage: gx)]
        }
    }

    public func neg() -> Tensor { unary("neg", cost: 1, { -$0 }, { _, _, g in -g }) }
    public static prefix func - (x: Tensor) -> Tensor { x.neg() }

    public func exp() -> Tensor { unary("exp", Foundation.exp, { _, y, g in g * y }) }
    public func log() -> Tensor { unary("log", Foundation.log, { x, _, g in g / x }) }
    public func sqrt() -> Tensor { unary("sqrt", { $0.squareRoot() }, { _, y, g in g * 0.5 / y }) }
    public func rsqrt() -> Tensor { unary("rsqrt", { 1 / $0.squareRoot() }, { x, y, g in -0.5 * g * y / x }) }
    public func abs() -> Tensor { unary("abs", cost: 1, { Swift.abs($0) }, { x, _, g in x > 0 ? g : (x < 0 ? -g : 0) }) }

    /// x^p for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return unary("pow", cost: 1, { $0 * $0 }, { x, _, g in 2 * x * g }) }
        return unary("pow", { Foundation.pow($0, p) }, { x, _, g in g * p * Foundation.pow(x, p - 1) })
    }

    public func square() -> Tensor { pow(2) }

    public func tanh() -> Tensor { unary("tanh", Foundation.tanh, { _, y, g in g * (1 - y * y) }) }

    public func sigmoid() -> Tensor { unary("sigmoid", stableSigmoid, { _, y, g in g * y * (1 - y) }) }

    /// log σ(x) = −softplus(−x), stable for any x.
    public func logSigmoid() -> Tensor {
        unary("logSigmoid", { -stableSoftplus(-$0) }, { x, _, g in g * stableSigmoid(-x) })
    }

    /// log(1 + eˣ), stable for any x.
    public func softplus() -> Tensor {
        unary("softplus", stableSoftplus, { x, _, g in g * stableSigmoid(x) })
    }

    public func relu() -> Tensor { unary("relu", cost: 1, { Swift.max($0, 0) }, { x, _, g in x > 0 ? g : 0 }) }

    /// Limits values to [low, high]; the gradient passes where low ≤ x ≤ high (as PyTorch).
    public func clamp(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        precondition(low <= high, "clamp: min \(low) is greater than max \(high)")
        return unary("clamp", cost: 1, { Swift.min(Swift.max($0, low), high) },
                     { x, _, g in (x >= low && x <= high) ? g : 0 })
    }

    // MARK: scalar arithmetic

    public static func + (x: Tensor, s: Float) -> Tensor { x.unary("addScalar", cost: 1, { $0 + s }, { _, _, g in g }) }
    public static func + (s: Float, x: Tensor) -> Tensor { x + s }
    public static func - (x: Tensor, s: Float) -> Tensor { x + (-s) }
    public static func - (s: Float, x: Tensor) -> Tensor { x.unary("rsubScalar", cost: 1, { s - $0 }, { _, _, g in -g }) }
    public static func * (x: Tensor, s: Float) -> Tensor { x.unary("mulScalar", cost: 1, { $0 * s }, { _, _, g in g * s }) }
    public static func * (s: Float, x: Tensor) -> Tensor { x * s }
    public static func / (x: Tensor, s: Float) -> Tensor { x * (1 / s) }
    public static func / (s: Float, x: Tensor) -> Tensor {
        x.unary("rdivScalar", cost: 1, { s / $0 }, { x, _, g in -g * s / (x * x) })
    }
}

/// σ(x) without overflow for large |x|.
@inline(__always)
public func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + exp(-x)) }
    let e = exp(x)
    return e / (1 + e)
}

/// log(1 + eˣ) without overflow or loss of precision for large |x|.
@inline(__always)
public func stableSoftplus(_ x: Float) -> Float {
    Swift.max(x, 0) + log1p(exp(-Swift.abs(x)))
}
