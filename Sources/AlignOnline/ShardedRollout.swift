import AlignNN
import AlignTensor
import AlignTraining
import Dispatch
import Foundation

/// How the online trainers share a rollout out over the ranks of a data-parallel run.
///
/// - Sampling: one random stream per row is forked from the trainer's generator in row order on
///   every rank (the draws a single process makes), and rank r generates the rows of its share
///   of the prompt groups (`rows(count:groupSize:communicator:)`). A row's sample depends on its
///   stream and its own logits only, so the rollout is the one a single process samples as long
///   as the logits are: they are on small models, but a large model's logits change in their last
///   bits with the batch a row is decoded in (padding, GEMM shapes), and a sampled token can then
///   differ, from where on the row is another sample of the same distribution. The sequences are
///   gathered to every rank.
/// - Passes over the rows (logp_old, the reference, values, embeddings): the rank that will train
///   on a micro-batch computes it (`owner(ofMicroBatch:gradAccum:communicator:)`, the loop's
///   i mod N = r within a step), so the first minibatch's ratio is exactly 1 on every rank; the
///   per-row results are gathered (`gatherRows`).
/// - Statistics (whitening, group advantages, KL, the filter) then run on the whole rollout,
///   identically on every rank.
package enum ShardedRollout {
    /// This rank's rows when `count` rows in groups of `groupSize` (a prompt's samples) are shared
    /// out by whole groups, contiguously in rank order.
    package static func rows(count: Int, groupSize: Int, communicator: Communicator) -> Range<Int> {
        let g = communicator.share(of: count / groupSize)
        return (g.lowerBound * groupSize)..<(g.upperBound * groupSize)
    }

    /// The rank that computes the loss of a rollout's micro-batch `k` (the k-th handed out since
    /// the rollout began, which starts at a step boundary): the loop gives micro-batch i of a step
    /// to rank i mod N.
    package static func owner(ofMicroBatch k: Int, gradAccum: Int, communicator: Communicator) -> Int {
        (k % gradAccum) % communicator.size
    }

    /// The sampled rows, every rank's shard gathered, and the slowest rank's generation time.
    package struct Sampled {
        package var sequences: [GeneratedSequence]
        package var seconds: Double
    }

    /// Samples one response per row of `prompts` (see the type's notes), generating this rank's
    /// rows in batches of `chunk` rows (all of them at once when nil).
    package static func sample(_ model: any CausalLM, prompts: [[Int]], groupSize: Int, config: GenerationConfig,
                               rng: inout RandomGenerator, communicator: Communicator, chunk: Int? = nil) throws -> Sampled {
        let streams = prompts.indices.map { _ in rng.fork() }
        let shard = rows(count: prompts.count, groupSize: groupSize, communicator: communicator)
        var seconds = 0.0
        var mine: [GeneratedSequence] = []
        // one set of bfloat16 weights for all of this rank's chunks
        let copies = config.weightsDtype == .bfloat16 ? BFloat16WeightCopies() : nil
        let parts = try communicator.gatherShards {
            let step = max(chunk ?? shard.count, 1)
            for start in stride(from: shard.lowerBound, to: shard.upperBound, by: step) {
                let end = min(start + step, shard.upperBound)
                var s = Array(streams[start..<end])
                let out = try generateRows(model, prompts: Array(prompts[start..<end]), config: config, streams: &s, copies: copies)
                mine += out.sequences
                seconds += out.totalSeconds
            }
            return communicator.size > 1 ? ShardBytes.encode(encode(mine)) : []
        }
        let slowest = Double(communicator.maximum(Int64(seconds * 1e9))) / 1e9
        guard communicator.size > 1 else { return Sampled(sequences: mine, seconds: seconds) }
        var all: [GeneratedSequence] = []
        for part in parts { all += decode(ShardBytes.decode(part, as: Int64.self)) }
        precondition(all.count == prompts.count, "ShardedRollout: the ranks sampled \(all.count) rows of \(prompts.count)")
        return Sampled(sequences: all, seconds: slowest)
    }

    /// One pass's results for one row, by name: per-token arrays (log-probs, values, pooled
    /// states, …) and numbers (sums).
    package struct RowResult: Equatable {
        package var row: Int
        package var arrays: [String: [Float]]
        package var numbers: [String: Double]

        package init(row: Int, arrays: [String: [Float]] = [:], numbers: [String: Double] = [:]) {
            self.row = row
            self.arrays = arrays
            self.numbers = numbers
        }
    }

    /// The gathered results of a pass over a rollout's `count` rows: `arrays[name][row]` and
    /// `numbers[name][row]`. A row no rank computed (a micro-batch without loss tokens) keeps an
    /// empty array and 0.
    package struct RowTable {
        package var arrays: [String: [[Float]]]
        package var numbers: [String: [Double]]

        init(count: Int, arrays: [String], numbers: [String]) {
            self.arrays = Dictionary(uniqueKeysWithValues: arrays.map { ($0, [[Float]](repeating: [], count: count)) })
            self.numbers = Dictionary(uniqueKeysWithValues: numbers.map { ($0, [Double](repeating: 0, count: count)) })
        }

        /// The per-row arrays called `name` (a name the pass did not declare is a programming error).
        package subscript(array name: String) -> [[Float]] {
            guard let a = arrays[name] else { preconditionFailure("RowTable: no array \(name) (declared: \(arrays.keys.sorted()))") }
            return a
        }

        package subscript(number name: String) -> [Double] {
            guard let n = numbers[name] else { preconditionFailure("RowTable: no number \(name) (declared: \(numbers.keys.sorted()))") }
            return n
        }

        mutating func store(_ r: RowResult) {
            for (k, v) in r.arrays { arrays[k]![r.row] = v }
            for (k, v) in r.numbers { numbers[k]![r.row] = v }
        }
    }

    /// Every rank's results of a pass over `count` rows (`body` computes this rank's rows), by
    /// the names declared in `arrays` and `numbers` (the order ranks send them in).
    package static func gatherRows(_ communicator: Communicator, count: Int, arrays: [String], numbers: [String] = [],
                                   _ body: () throws -> [RowResult]) throws -> RowTable {
        var table = RowTable(count: count, arrays: arrays, numbers: numbers)
        var mine: [RowResult] = []
        let parts = try communicator.gatherShards {
            mine = try body()
            for r in mine {
                precondition(Set(r.arrays.keys).isSubset(of: arrays) && Set(r.numbers.keys).isSubset(of: numbers) && (0..<count).contains(r.row),
                             "ShardedRollout.gatherRows: row \(r.row) with \(r.arrays.keys.sorted()) / \(r.numbers.keys.sorted()), declared \(arrays) / \(numbers) over \(count) rows")
            }
            guard communicator.size > 1 else { return [] }
            var flat: [Double] = []
            for r in mine {
                flat.append(Double(r.row))
                for name in arrays {
                    let a = r.arrays[name] ?? []
                    flat.append(Double(a.count))
                    flat += a.map(Double.init)   // exact: Float → Double → Float
                }
                for name in numbers { flat.append(r.numbers[name] ?? 0) }
            }
            return ShardBytes.encode(flat)
        }
        guard communicator.size > 1 else {
            for r in mine { table.store(r) }
            return table
        }
        for part in parts {
            let flat = ShardBytes.decode(part, as: Double.self)
            var i = 0
            func next() -> Double { defer { i += 1 }; return flat[i] }
            while i < flat.count {
                var r = RowResult(row: Int(next()))
                for name in arrays {
                    let n = Int(next())
                    r.arrays[name] = flat[i..<i + n].map(Float.init)
                    i += n
                }
                for name in numbers { r.numbers[name] = next() }
                table.store(r)
            }
        }
        return table
    }

    // MARK: - Sequences as plain values

    static func encode(_ sequences: [GeneratedSequence]) -> [Int64] {
        var out: [Int64] = []
        for s in sequences {
            out.append(Int64(s.tokens.count))
            out += s.tokens.map(Int64.init)
            out += s.logProbs.map { Int64($0.bitPattern) }
            out.append(Int64(s.promptTokens))
            out.append(Int64(FinishReason.allInOrder.firstIndex(of: s.finishReason)!))
        }
        return out
    }

    static func decode(_ flat: [Int64]) -> [GeneratedSequence] {
        var out: [GeneratedSequence] = [], i = 0
        while i < flat.count {
            let n = Int(flat[i])
            precondition(n >= 0 && i + 1 + 2 * n + 2 <= flat.count, "ShardedRollout: a malformed sample from another rank")
            let tokens = flat[(i + 1)..<(i + 1 + n)].map { Int($0) }
            let logProbs = flat[(i + 1 + n)..<(i + 1 + 2 * n)].map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
            let promptTokens = Int(flat[i + 1 + 2 * n])
            let reason = FinishReason.allInOrder[Int(flat[i + 2 + 2 * n])]
            out.append(GeneratedSequence(tokens: tokens, logProbs: logProbs, finishReason: reason, promptTokens: promptTokens))
            i += 3 + 2 * n
        }
        return out
    }
}

extension FinishReason {
    /// Every reason, in a fixed order (their index is how a rank sends one).
    static let allInOrder: [FinishReason] = [.stopToken, .maxNewTokens, .contextLength]
}

/// Continues `prompts` drawing row b from `streams[b]` (opens the existential model for `Generator`).
func generateRows<M: CausalLM>(_ model: M, prompts: [[Int]], config: GenerationConfig, streams: inout [RandomGenerator],
                               copies: BFloat16WeightCopies? = nil) throws -> GenerationResult {
    try Generator(model: model).generate(prompts: prompts, config: config, streams: &streams, copies: copies)
}
