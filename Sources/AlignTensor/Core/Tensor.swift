import Foundation

/// A dense, row-major Float32 tensor of any rank.
///
/// A tensor is immutable once created (optimizers are the exception: they update parameter
/// storage in place). An op that involves a tensor with `requiresGrad` while gradient
/// recording is on (see `withNoGrad`) records a `Node` naming its inputs and its backward
/// function; `backward()` walks those records. Identity is object identity: gradients are
/// keyed by the tensor object.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: Storage
    /// True for parameters (leaves) and for results computed from them while recording.
    /// A leaf's flag can be switched with `setRequiresGrad(_:)` (freezing a layer); it affects
    /// ops recorded afterwards.
    public private(set) var requiresGrad: Bool
    /// The op that produced this tensor, when it was recorded.
    let node: Node?

    /// Wraps existing storage (shared, not copied).
    public init(shape: [Int], storage: Storage, requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(shapeCount(shape) == storage.count,
                     "Tensor: shape \(shape) needs \(shapeCount(shape)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
        self.node = nil
    }

    /// A result of a recorded op.
    init(shape: [Int], storage: Storage, node: Node) {
        self.shape = shape
        self.storage = storage
        self.requiresGrad = true
        self.node = node
    }

    /// A tensor holding a copy of `data`.
    public convenience init(_ data: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(shapeCount(shape) == data.count,
                     "Tensor: shape \(shape) needs \(shapeCount(shape)) elements, got \(data.count) values")
        self.init(shape: shape, storage: Storage(data), requiresGrad: requiresGrad)
    }

    /// A rank-0 tensor.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init([scalar], shape: [], requiresGrad: requiresGrad)
    }

    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, storage: Storage(count: shapeCount(shape), repeating: 0), requiresGrad: requiresGrad)
    }

    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, storage: Storage(count: shapeCount(shape), repeating: value), requiresGrad: requiresGrad)
    }

    /// `0, 1, …, n-1` as floats.
    public static func arange(_ n: Int) -> Tensor {
        Tensor((0..<n).map(Float.init), shape: [n])
    }

    /// Normal(mean, std) entries drawn from `rng`.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RandomGenerator,
                             requiresGrad: Bool = false) -> Tensor {
        if ParameterInitialization.isDeferred { return zeros(shape, requiresGrad: requiresGrad) }
        let s = Storage(uninitializedCount: shapeCount(shape))
        rng.fillNormal(s.buffer, mean: mean, std: std)
        return Tensor(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    /// Uniform[low, high) entries drawn from `rng`.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RandomGenerator,
                               requiresGrad: Bool = false) -> Tensor {
        if ParameterInitialization.isDeferred { return zeros(shape, requiresGrad: requiresGrad) }
        let s = Storage(uninitializedCount: shapeCount(shape))
        rng.fillUniform(s.buffer, low: low, high: high)
        return Tensor(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    public var rank: Int { shape.count }
    public var count: Int { storage.count }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// A copy of the elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.pointer[0]
    }

    /// Size of `axis` (negative counts from the end).
    public func size(_ axis: Int) -> Int {
        shape[normalizeAxis(axis, rank: rank, op: "size", shape: shape)]
    }

    /// Freezes (false) or unfreezes (true) a leaf such as a model parameter.
    public func setRequiresGrad(_ flag: Bool) {
        precondition(node == nil, "setRequiresGrad: only leaves can be frozen or unfrozen; this tensor is the result of \(node!.op)")
        requiresGrad = flag
    }

    /// The same values, cut off from the graph: no gradient flows through the result.
    public func detached() -> Tensor {
        node == nil && !requiresGrad ? self : Tensor(shape: shape, storage: storage)
    }

    /// A leaf that requires gradients and shares this tensor's values (a new parameter).
    public func asParameter() -> Tensor {
        Tensor(shape: shape, storage: storage, requiresGrad: true)
    }

    /// A contiguous deep copy with no graph.
    public func copy() -> Tensor {
        Tensor(shape: shape, storage: storage.copy())
    }

    /// The name of the op that produced this tensor, or nil for a leaf.
    public var opName: String? { node?.op }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")]\(requiresGrad ? ", requiresGrad" : ""))"
    }
}
