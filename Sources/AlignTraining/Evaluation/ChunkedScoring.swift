import AlignData
import AlignNN
import AlignTensor
import Foundation

/// The one chunked, no-grad pass over a list: consecutive chunks of at most `batchSize` items,
/// each turned into results by `body`, concatenated in order, with optional progress.
public enum ChunkedScoring {
    public static func map<Item, Result>(_ items: [Item], batchSize: Int, progress: ((Int, Int) -> Void)? = nil,
                                         _ body: (_ chunk: [Item], _ offset: Int) throws -> [Result]) rethrows -> [Result] {
        precondition(batchSize > 0, "ChunkedScoring.map: batchSize must be positive")
        var out: [Result] = []
        out.reserveCapacity(items.count)
        var i = 0
        while i < items.count {
            let chunk = Array(items[i..<min(i + batchSize, items.count)])
            out += try withNoGrad { try body(chunk, i) }
            i += chunk.count
            progress?(i, items.count)
        }
        return out
    }

    /// The same pass with one result per chunk, the chunks shared out over the ranks of
    /// `communicator` (chunk c on rank c mod N, `Communicator.mapChunks`) and every chunk's result
    /// handed to every rank in chunk order: sums over them are one process's bits.
    public static func map<Item, Result: Codable>(_ items: [Item], batchSize: Int, communicator: Communicator,
                                                  _ body: (_ chunk: [Item], _ offset: Int) throws -> Result) throws -> [Result] {
        guard communicator.size > 1 else { return try map(items, batchSize: batchSize) { chunk, offset in [try body(chunk, offset)] } }
        return try communicator.mapChunks(count: items.count, batchSize: batchSize) { range in
            try withNoGrad { try body(Array(items[range]), range.lowerBound) }
        }
    }

    /// logπ(y_w|x) and logπ(y_l|x) of every pair under `model` (DPO's reference cache, preference
    /// evaluation), `batchSize` pairs per forward pass.
    public static func pairLogProbs(_ model: any CausalLM, _ pairs: [PreferenceExample], padID: Int, batchSize: Int,
                                    progress: ((Int, Int) -> Void)? = nil) -> (chosen: [Float], rejected: [Float]) {
        let both: [(Float, Float)] = map(pairs, batchSize: batchSize, progress: progress) { chunk, _ in
            let rows = PreferenceBatch(examples: chunk, padID: padID).rows
            let lp = model.sequenceLogProbs(ids: rows.ids, batch: rows.batch, length: rows.length, targets: rows.targets).scalars
            return (0..<chunk.count).map { (lp[$0], lp[chunk.count + $0]) }
        }
        return (both.map(\.0), both.map(\.1))
    }
}
