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

    /// Computes the cache with `reference` under no-grad, `batchSize` pairs at a time, taking the
    /// pairs in `order` (a permutation of the indices; the identity by default).
    ///
    /// Given the first epoch's order, the cache is computed on exactly the micro-batches the
    /// policy sees first (the same rows, the same padding, so the same matrix shapes and
    /// summation order): while the policy still equals the reference, logπ − logπ_ref is exactly
    /// 0 and step 0 logs rewards of 0 and `rewards/accuracies` 0, as TRL does, instead of float
    /// noise of 1e-7 that counts as half the pairs won. With several ranks each scores a
    /// contiguous share of those micro-batches and the shares are gathered once, so every rank
    /// holds the whole cache.
    public static func compute(reference: any CausalLM, examples: [PreferenceExample], padID: Int, batchSize: Int,
                               order: [Int]? = nil, communicator: Communicator = SingleProcessCommunicator(),
                               progress: (Int, Int) -> Void = { _, _ in }) -> ReferenceLogProbCache {
        let order = order ?? Array(examples.indices)
        precondition(order.sorted() == Array(examples.indices), "ReferenceLogProbCache.compute: order is not a permutation of the pairs")
        let batches = communicator.share(of: (order.count + batchSize - 1) / batchSize)
        let mine = order[Swift.min(batches.lowerBound * batchSize, order.count) ..< Swift.min(batches.upperBound * batchSize, order.count)]
        var (c, r) = withoutActuallyEscaping(progress) { p in
            ChunkedScoring.pairLogProbs(reference, mine.map { examples[$0] }, padID: padID, batchSize: batchSize, progress: p)
        }
        c = communicator.allGather(c)
        r = communicator.allGather(r)
        var chosen = [Float](repeating: 0, count: examples.count), rejected = chosen
        for (k, i) in order.enumerated() { (chosen[i], rejected[i]) = (c[k], r[k]) }
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
