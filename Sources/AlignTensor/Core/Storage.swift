import Foundation

/// A fixed-size, 64-byte aligned buffer of `Float` that tensors share.
///
/// Storage is a reference type: a reshaped tensor shares its input's storage, and optimizers
/// update parameters in place through it. Everything else treats storage as immutable once
/// the op that produced it has returned.
public final class Storage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Uninitialised storage of `count` floats.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "Storage: negative element count \(count)")
        self.count = count
        // Model, adapter and head sizes are checked against the machine before they are built
        // (ParameterBudget); a buffer larger than physical memory can only fail later (or be
        // killed), so it ends the process here with its size instead of a trap.
        guard let bytes = MemoryBudget.floatBytes(Swift.max(count, 1)), bytes <= MemoryBudget.physicalBytes else {
            MemoryBudget.allocationFailed(bytes: MemoryBudget.floatBytes(count) ?? Int.max, what: "a tensor of \(count) values")
        }
        pointer = BufferPool.shared.allocate(bytes: bytes).bindMemory(to: Float.self, capacity: Swift.max(count, 1))
    }

    /// Storage of `count` copies of `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        if value == 0 {
            memset(pointer, 0, count * MemoryLayout<Float>.stride)
        } else {
            pointer.initialize(repeating: value, count: count)
        }
    }

    /// Storage holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(uninitializedCount: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.initialize(from: base, count: values.count) }
        }
    }

    deinit { BufferPool.shared.release(UnsafeMutableRawPointer(pointer), bytes: Swift.max(count, 1) * MemoryLayout<Float>.stride) }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    /// A new storage holding a copy of this one.
    public func copy() -> Storage {
        let s = Storage(uninitializedCount: count)
        s.pointer.initialize(from: pointer, count: count)
        return s
    }
}
