import AlignTensor
import Foundation

/// A position in an endless sequence of epochs over `count` items, each epoch a fresh
/// permutation drawn from a seeded `RandomGenerator` (or the identity without shuffling).
///
/// `Codable` stores (count, shuffle, epoch, index, the generator as it was before drawing this
/// epoch's permutation); decoding redraws the permutation, so a restored cursor continues
/// with exactly the items the original would have produced.
public struct EpochCursor: Sendable, Equatable, Codable {
    public let count: Int
    public let shuffle: Bool
    /// The epoch the next item comes from (0-based), until `index` reaches `count`.
    public private(set) var epoch: Int
    /// Items of this epoch's order already produced.
    public private(set) var index: Int
    /// The generator as it was before drawing this epoch's order.
    public private(set) var epochRNG: RandomGenerator
    private var order: [Int] = []
    private var nextRNG: RandomGenerator

    public init(count: Int, rng: RandomGenerator, shuffle: Bool = true) {
        precondition(count > 0, "EpochCursor: count must be positive")
        self.count = count
        self.shuffle = shuffle
        epoch = 0
        index = 0
        epochRNG = rng
        nextRNG = rng
        startEpoch(0, rng)
    }

    private mutating func startEpoch(_ e: Int, _ rng: RandomGenerator) {
        epoch = e
        index = 0
        epochRNG = rng
        var r = rng
        order = shuffle ? r.permutation(count) : Array(0 ..< count)
        nextRNG = r
    }

    /// Items left in the current epoch (0 at its end; the next `next()` starts a new one).
    public var remainingInEpoch: Int { count - index }

    /// The next item, starting a new epoch when the current one is exhausted.
    public mutating func next() -> Int {
        if index == count { startEpoch(epoch + 1, nextRNG) }
        let item = order[index]
        index += 1
        return item
    }

    private enum CodingKeys: String, CodingKey { case count, shuffle, epoch, index, rng }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        count = try c.decode(Int.self, forKey: .count)
        shuffle = try c.decode(Bool.self, forKey: .shuffle)
        let epoch = try c.decode(Int.self, forKey: .epoch)
        let index = try c.decode(Int.self, forKey: .index)
        let rng = try c.decode(RandomGenerator.self, forKey: .rng)
        guard count > 0, epoch >= 0, (0 ... count).contains(index), rng.state.count == 4 else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                                                    debugDescription: "EpochCursor: inconsistent state (count \(count), epoch \(epoch), index \(index))"))
        }
        self.epoch = 0
        self.index = 0
        epochRNG = rng
        nextRNG = rng
        startEpoch(epoch, rng)
        self.index = index
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        try c.encode(shuffle, forKey: .shuffle)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(index, forKey: .index)
        try c.encode(epochRNG, forKey: .rng)
    }
}

/// Where a `DataLoader` is: enough to continue a run exactly.
public struct DataLoaderState: Sendable, Equatable, Codable {
    public var cursor: EpochCursor
    /// Batches produced so far.
    public var step: Int
    public var batchSize: Int

    public var epoch: Int { cursor.epoch }
    /// Position within the epoch's permutation.
    public var index: Int { cursor.index }
}

/// Batches of examples in a seeded, per-epoch shuffled order.
///
/// Batches never span two epochs, and nothing is dropped: each epoch ends with its partial
/// batch (so an epoch has ⌈n / batchSize⌉ batches). `epochs` = nil runs forever.
/// `state` / `restore(_:)` checkpoint the position: a loader restored from the state saved
/// after step k produces exactly the batches the original produced after step k.
public struct DataLoader<Example: Sendable>: Sendable {
    public let examples: [Example]
    public let batchSize: Int
    public let epochs: Int?
    public private(set) var cursor: EpochCursor
    /// Batches produced so far.
    public private(set) var step: Int = 0

    public init(examples: [Example], batchSize: Int, seed: UInt64, epochs: Int? = 1, shuffle: Bool = true) {
        precondition(!examples.isEmpty, "DataLoader: no examples")
        precondition(batchSize > 0, "DataLoader: batchSize must be positive, got \(batchSize)")
        precondition(epochs.map { $0 > 0 } ?? true, "DataLoader: epochs must be positive")
        self.examples = examples
        self.batchSize = batchSize
        self.epochs = epochs
        cursor = EpochCursor(count: examples.count, rng: RandomGenerator(seed: seed), shuffle: shuffle)
    }

    public var batchesPerEpoch: Int { (examples.count + batchSize - 1) / batchSize }
    /// Batches in the whole run (nil when endless).
    public var totalBatches: Int? { epochs.map { $0 * batchesPerEpoch } }
    /// Fraction of the run done, in [0, 1] (0 when endless).
    public var progress: Double { totalBatches.map { Double(step) / Double(max($0, 1)) } ?? 0 }

    public var isFinished: Bool {
        guard let epochs else { return false }
        return cursor.remainingInEpoch == 0 && cursor.epoch + 1 >= epochs
    }

    /// The dataset indices of the next batch, or nil after the last epoch.
    public mutating func nextIndices() -> [Int]? {
        if isFinished { return nil }
        let available = cursor.remainingInEpoch == 0 ? cursor.count : cursor.remainingInEpoch
        let take = min(batchSize, available)
        var indices: [Int] = []
        indices.reserveCapacity(take)
        for _ in 0 ..< take { indices.append(cursor.next()) }
        step += 1
        return indices
    }

    /// The examples of the next batch, or nil after the last epoch.
    public mutating func next() -> [Example]? {
        nextIndices().map { $0.map { examples[$0] } }
    }

    public var state: DataLoaderState { DataLoaderState(cursor: cursor, step: step, batchSize: batchSize) }

    /// Continues from a saved state; the data set size, batch size and shuffling must match.
    public mutating func restore(_ state: DataLoaderState) throws {
        guard state.cursor.count == examples.count else {
            throw AlignDataError(.invalidArgument, path: "",
                                 "cannot resume: the saved loader state is for \(state.cursor.count) examples, this data set has \(examples.count)")
        }
        guard state.batchSize == batchSize, state.cursor.shuffle == cursor.shuffle else {
            throw AlignDataError(.invalidArgument, path: "",
                                 "cannot resume: the saved loader state has batch size \(state.batchSize), shuffle \(state.cursor.shuffle); "
                                     + "this loader has \(batchSize), \(cursor.shuffle)")
        }
        cursor = state.cursor
        step = state.step
    }
}

extension DataLoader where Example == SFTExample {
    /// The next batch, padded with `padID`, or nil after the last epoch.
    public mutating func nextBatch(padID: Int) -> Batch? {
        guard let indices = nextIndices() else { return nil }
        return Batch(examples: indices.map { examples[$0] }, padID: padID, exampleIndices: indices)
    }
}

extension DataLoader where Example == PreferenceExample {
    /// The next batch of pairs (2·B rows, chosen first), or nil after the last epoch.
    public mutating func nextBatch(padID: Int) -> PreferenceBatch? {
        guard let indices = nextIndices() else { return nil }
        return PreferenceBatch(examples: indices.map { examples[$0] }, padID: padID, exampleIndices: indices)
    }
}
