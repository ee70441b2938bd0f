import Foundation

/// Another rank failed in work every rank shares (its shard of a rollout's samples, rewards or
/// forward passes): every rank stops with that rank's message instead of waiting for it forever.
public struct PeerRankError: Error, CustomStringConvertible, LocalizedError {
    public let rank: Int
    public let message: String

    public init(rank: Int, message: String) {
        self.rank = rank
        self.message = message
    }

    public var description: String { "rank \(rank): \(message)" }
    public var errorDescription: String? { description }
}

extension Communicator {
    /// Runs `body` (this rank's shard of some work) and gathers every rank's result in rank
    /// order. When `body` throws on any rank, every rank throws after the gather: a failing
    /// rank its own error, the others a `PeerRankError` with the lowest failing rank's message.
    /// One rank: `body`'s bytes, its error thrown as is.
    public func gatherShards(_ body: () throws -> [UInt8]) throws -> [[UInt8]] {
        guard size > 1 else { return [try body()] }
        var mine: [UInt8]
        var failure: Error?
        do {
            mine = [0] + (try body())
        } catch {
            failure = error
            mine = [1] + Array(String(describing: (error as? LocalizedError)?.errorDescription ?? "\(error)").utf8)
        }
        let parts = allGather(mine)
        if let failure { throw failure }
        if let (r, part) = parts.enumerated().first(where: { $0.element.first != 0 }) {
            throw PeerRankError(rank: r, message: String(decoding: part.dropFirst(), as: UTF8.self))
        }
        return parts.map { Array($0.dropFirst()) }
    }

    /// Every rank's `values` (of any fixed-size plain type), concatenated in rank order.
    public func allGatherValues<T: BitwiseCopyable>(_ values: [T]) -> [T] {
        guard size > 1 else { return values }
        return allGather(ShardBytes.encode(values)).flatMap { ShardBytes.decode($0, as: T.self) }
    }

    /// The largest of every rank's `value`.
    public func maximum(_ value: Int64) -> Int64 {
        guard size > 1 else { return value }
        var v = [value]
        v.withUnsafeMutableBufferPointer { allReduceMax($0) }
        return v[0]
    }
}

/// Plain values to bytes and back, for the gathers of sharded work.
public enum ShardBytes {
    public static func encode<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { [UInt8]($0) }
    }

    public static func decode<T: BitwiseCopyable>(_ bytes: [UInt8], as: T.Type) -> [T] {
        let n = bytes.count / MemoryLayout<T>.stride
        precondition(n * MemoryLayout<T>.stride == bytes.count, "ShardBytes: \(bytes.count) bytes are not a whole number of \(T.self)")
        return [T](unsafeUninitializedCapacity: n) { buffer, count in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            }
            count = n
        }
    }
}
