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

extension Communicator {
    /// The results of `count` items taken in consecutive chunks of `batchSize`, chunk c computed
    /// by rank c mod N (`body` gets the chunk's item range), every rank receiving every chunk's
    /// result in chunk order: what one process computing them all in order gets, so sums over
    /// them are the same bits at any world size. One rank: `body` over every chunk in order.
    public func mapChunks<R: Codable>(count: Int, batchSize: Int, _ body: (Range<Int>) throws -> R) throws -> [R] {
        precondition(batchSize > 0, "mapChunks: batchSize must be positive")
        let chunks = stride(from: 0, to: count, by: batchSize).map { $0..<Swift.min($0 + batchSize, count) }
        guard size > 1 else { return try chunks.map(body) }
        let encoder = JSONEncoder(), decoder = JSONDecoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let parts = try gatherShards {
            var mine: [R] = []
            for (c, range) in chunks.enumerated() where c % size == rank { mine.append(try body(range)) }
            return [UInt8](try encoder.encode(mine))
        }
        let perRank = try parts.map { try decoder.decode([R].self, from: Data($0)) }
        var next = [Int](repeating: 0, count: size)
        return chunks.indices.map { c in
            defer { next[c % size] += 1 }
            return perRank[c % size][next[c % size]]
        }
    }
}
