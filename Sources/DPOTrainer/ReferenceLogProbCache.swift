import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// The reference model's logπ_ref(y_w|x) and logπ_ref(y_l|x) for every training pair. They never
/// change, so they are computed once before training (one forward per pair instead of one per
/// step) and written next to the run (`reference_logps.json`), so a resumed run reuses them.
public struct ReferenceLogProbCache: Codable, Equatable {
    public var chosen: [Float]
    public var rejected: [Float]
    /// A fingerprint of the pairs, so a cache written for other data is never reused.
    public var fingerprint: UInt64

    public static func fingerprint(_ examples: [PreferenceExample]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ v: Int) { h = (h ^ UInt64(bitPattern: Int64(v))) &* 0x100_0000_01B3 }
        for e in examples {
            for seq in [e.prompt, e.chosen, e.rejected] { mix(seq.count); for t in seq { mix(t) } }
        }
        return h
    }

    /// Computes the cache with `reference` under no-grad, `batchSize` pairs at a time. With
    /// several ranks each scores its contiguous share of the pairs and the shares are gathered
    /// once, so every rank holds the whole cache.
    public static func compute(reference: any CausalLM, examples: [PreferenceExample], padID: Int, batchSize: Int,
                               communicator: Communicator = SingleProcessCommunicator(),
                               progress: (Int, Int) -> Void = { _, _ in }) -> ReferenceLogProbCache {
        let shard = Array(examples[communicator.share(of: examples.count)])
        var (chosen, rejected) = withoutActuallyEscaping(progress) { p in
            ChunkedScoring.pairLogProbs(reference, shard, padID: padID, batchSize: batchSize, progress: p)
        }
        chosen = communicator.allGather(chosen)
        rejected = communicator.allGather(rejected)
        return ReferenceLogProbCache(chosen: chosen, rejected: rejected, fingerprint: fingerprint(examples))
    }

    /// The cache at `url` if it was written for exactly these pairs.
    public static func load(_ url: URL, for examples: [PreferenceExample]) -> ReferenceLogProbCache? {
        guard let data = try? Data(contentsOf: url),
              let cache = try? JSONDecoder().decode(ReferenceLogProbCache.self, from: data),
              cache.fingerprint == fingerprint(examples), cache.chosen.count == examples.count else { return nil }
        return cache
    }

    public func save(_ url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]   // the same values give the same bytes
        try writeFileAtomically(try encoder.encode(self), to: url)
    }
}
