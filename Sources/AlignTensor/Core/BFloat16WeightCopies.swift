import Foundation

/// bfloat16 copies of weight matrices for decoding: half the bytes read per decoded token.
///
/// Batch-1 decoding of float32 weights is bound by memory bandwidth (every weight is read once
/// per token); a bfloat16 copy halves what is read. Inside `copies.reading { … }`, every no-grad
/// `Tensor.linear` reads a bfloat16 copy of its weight, made on first use and kept as long as
/// `copies` lives, through the few-row kernel (`FewRowsGemm`, 8 rows at a time); x, the
/// accumulation and the output stay float32. The generator enters that scope for its decode
/// steps only: the prompt pass, log-probs, training and everything that records gradients keep
/// the float32 weights. The weights must not change while the copies live (generation under
/// no-grad does not change them).
///
/// Costs: one conversion pass over the weights per generation call and 2 bytes per weight while
/// it lasts.
public final class BFloat16WeightCopies: @unchecked Sendable {
    @TaskLocal static var current: BFloat16WeightCopies?

    private struct Copy {
        let storage: Storage          // keeps the identifier below from being reused
        let bits: UnsafeMutablePointer<UInt16>
        let count: Int
    }
    private struct Key: Hashable {
        let storage: ObjectIdentifier
        let transposed: Bool
    }
    private var copies: [Key: Copy] = [:]
    private let lock = NSLock()

    public init() {}

    /// Runs `body` with no-grad linear products reading these copies; on the OpenBLAS path
    /// (`FewRowsGemm.readsBFloat16` false: no few-row kernel on this CPU, or
    /// `ALIGN_FEW_ROWS_KERNEL=openblas`) `body` reads the float32 weights.
    public func reading<T>(_ body: () throws -> T) rethrows -> T {
        guard FewRowsGemm.readsBFloat16 else { return try body() }
        return try BFloat16WeightCopies.$current.withValue(self, operation: body)
    }

    deinit {
        for c in copies.values { c.bits.deallocate() }
    }

    /// Bytes held by the copies made so far.
    public var bytes: Int {
        lock.lock(); defer { lock.unlock() }
        return copies.values.reduce(0) { $0 + 2 * $1.count }
    }

    /// The (out, in) bfloat16 copy of `weight` (transposed from an (in, out) layout).
    func copy(of weight: Tensor, transposed: Bool) -> UnsafePointer<UInt16> {
        precondition(weight.rank == 2, "BFloat16WeightCopies: weight of shape \(weight.shape)")
        let key = Key(storage: ObjectIdentifier(weight.storage), transposed: transposed)
        lock.lock(); defer { lock.unlock() }
        if let c = copies[key] { return UnsafePointer(c.bits) }
        let count = weight.count
        let bits = UnsafeMutablePointer<UInt16>.allocate(capacity: Swift.max(count, 1))
        if transposed {
            // weight (IN, OUT) → copy (OUT, IN)
            let rows = weight.shape[0], cols = weight.shape[1]
            let row = UnsafeMutablePointer<UInt16>.allocate(capacity: cols)
            defer { row.deallocate() }
            for i in 0..<rows {
                BFloat16.convert(weight.pointer + i * cols, to: row, count: cols)
                for j in 0..<cols { bits[j * rows + i] = row[j] }
            }
        } else {
            BFloat16.convert(weight.pointer, to: bits, count: count)
        }
        copies[key] = Copy(storage: weight.storage, bits: bits, count: count)
        return UnsafePointer(bits)
    }
}
