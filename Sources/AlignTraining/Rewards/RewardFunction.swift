import AlignData
import AlignNN
import AlignTensor
import Foundation
import IFEval

/// Running mean and variance of every score seen (Welford, merged batch by batch), for
/// `reward.normalize`; part of a checkpoint.
public struct RunningMoments: Codable, Equatable, Sendable {
    public var count: Double = 0
    public var mean: Double = 0
    public var m2: Double = 0

    public init() {}

    public var std: Double { count > 1 ? (m2 / (count - 1)).squareRoot() : 1 }

    public mutating func update(_ xs: [Double]) {
        for x in xs {
            count += 1
            let d = x - mean
            mean += d / count
            m2 += d * (x - mean)
        }
    }
}

/// One sample's reward: the final score the trainer uses and how it was made.
public struct RewardOutcome: Sendable, Equatable {
    /// After the EOS penalty, clipping and normalisation.
    public var score: Double
    /// The weighted sum of the sources, before any of those.
    public var raw: Double
    /// Each source's unweighted value: `model`, `program`, and the rules by name.
    public var sources: [String: Double]
    /// The reward model ensemble's standard deviation over heads (0 for one head), if any, on
    /// the model's raw scale.
    public var modelStd: Double?
    /// What a difference of 1 in `raw` is in `score`: 1/σ of the running normalisation when
    /// `normalize` is on, else 1 (clipping bounds scores, it does not rescale them). A spread on
    /// the raw scale times this is on the score's scale.
    public var scale: Double = 1
}

/// The `reward` section made real: a weighted sum of a reward model, rules and an external
/// program, then `missing_eos_score` or `missing_eos_penalty`, clipping and running normalisation (ALGORITHMS.md,
/// Rewards). The running statistics are state (`moments`) a checkpoint carries.
public final class RewardFunction {
    public let settings: RewardSettings
    public let rewardModel: LoadedRewardModel?
    let program: ProgramReward?
    public var moments = RunningMoments()
    public let batchSize: Int
    /// Appended to a response that ended with a stop token before the reward model scores it:
    /// what the chat template renders after the end-of-turn token (`ChatTemplate.turnSuffixIDs`,
    /// chatml's `\n`), so the model reads the position it was trained to read. Empty for
    /// responses that ran out of tokens, and for the rules and the program (they see text).
    public var turnSuffix: [Int] = []

    /// Loads the reward model (checking that it reads token ids as the policy does: the same
    /// vocabulary size and, when both have a tokenizer, the same token at every id) and prepares
    /// the program (started on first use).
    public init(_ settings: RewardSettings, policyVocabulary: Int, policyTokenizer: Tokenizer?, batchSize: Int = 8) throws {
        self.settings = settings
        self.batchSize = batchSize
        if let path = settings.model {
            let rm = try RewardModelStore.load(path)
            let v = rm.model.backbone.config.vocabSize
            guard v == policyVocabulary else {
                throw ModelConfigError("reward.model \(path) has a vocabulary of \(v) tokens, the policy \(policyVocabulary); a reward model scores the policy's token ids, so they must share a tokenizer")
            }
            if let mine = policyTokenizer, let theirs = rm.tokenizer {
                try mine.requireSameVocabulary(theirs, name: "reward.model", path: path, role: "a reward model")
            }
            rewardModel = rm
        } else {
            rewardModel = nil
        }
        program = settings.program.map { ProgramReward(command: $0, timeout: settings.programTimeout) }
    }

    /// The source names in metric order (`rewards/<name>/mean`).
    public var sourceNames: [String] {
        (rewardModel != nil ? ["model"] : []) + settings.rules.map(\.name) + (program != nil ? ["program"] : [])
    }

    /// Scores samples; `label(i)` names sample i in errors (its prompt's file and line).
    public func score(_ samples: [RewardSample], label: (Int) -> String) throws -> [RewardOutcome] {
        finish(samples, try measure(samples[...], label: label))
    }

    /// Scores samples shared out over the ranks of a run: this rank runs the sources on
    /// `samples[shard]` (the shards of all ranks cover the samples in rank order), every rank
    /// gets every sample's source values, then the EOS penalty, clipping and the running
    /// normalisation run on all of them, identically on every rank. A source failing on any
    /// rank fails every rank (`Communicator.gatherShards`).
    public func score(_ samples: [RewardSample], shard: Range<Int>, communicator: Communicator,
                      label: (Int) -> String) throws -> [RewardOutcome] {
        guard communicator.size > 1 else { return try score(samples, label: label) }
        let names = sourceNames
        let parts = try communicator.gatherShards {
            let m = try measure(samples[shard]) { label(shard.lowerBound + $0) }
            var flat: [Double] = []
            for i in m.raw.indices {
                flat.append(m.raw[i])
                flat.append(m.modelStd[i] ?? .nan)
                for name in names { flat.append(m.sources[i][name] ?? .nan) }
            }
            return ShardBytes.encode(flat)
        }
        let width = 2 + names.count
        let flat = parts.flatMap { ShardBytes.decode($0, as: Double.self) }
        guard flat.count == samples.count * width else {
            throw RewardError("the ranks scored \(flat.count / width) samples of \(samples.count)")
        }
        var all = Measured(sources: [], raw: [], modelStd: [])
        for i in samples.indices {
            let row = flat[(i * width)..<((i + 1) * width)]
            all.raw.append(row[row.startIndex])
            let std = row[row.startIndex + 1]
            all.modelStd.append(rewardModel != nil ? std : nil)
            var sources: [String: Double] = [:]
            for (k, name) in names.enumerated() { sources[name] = row[row.startIndex + 2 + k] }
            all.sources.append(sources)
        }
        return finish(samples, all)
    }

    /// The sources' values of some samples, before the penalty, clipping and normalisation.
    struct Measured {
        var sources: [[String: Double]]
        var raw: [Double]
        var modelStd: [Double?]
    }

    /// Runs every source on `samples`; `label(i)` names the i-th of them (0-based) in errors.
    func measure(_ samples: ArraySlice<RewardSample>, label: (Int) -> String) throws -> Measured {
        let samples = Array(samples)
        var sources = samples.map { _ in [String: Double]() }
        var raw = [Double](repeating: 0, count: samples.count)
        var modelStd: [Double?] = Array(repeating: nil, count: samples.count)
        if let rm = rewardModel, !samples.isEmpty {
            let scores = rm.model.score(samples.map { $0.promptIDs + $0.responseIDs + ($0.endedWithEOS ? turnSuffix : []) },
                                        batchSize: batchSize)
            for (i, s) in scores.enumerated() {
                sources[i]["model"] = Double(s.reward)
                modelStd[i] = Double(s.std)
                raw[i] += settings.modelWeight * Double(s.reward)
            }
        }
        // the ifeval rules read each distinct prompt record once (a group's samples share it)
        var ifeval: [String: IFEvalRecord] = [:]
        if settings.rules.contains(where: { $0.kind == .ifeval }) {
            for s in samples where ifeval[s.record.json] == nil {
                ifeval[s.record.json] = try? RuleReward.ifevalRecord(s.record)
            }
        }
        for rule in settings.rules {
            for (i, s) in samples.enumerated() {
                let v = RuleReward.score(rule, s, ifeval: ifeval[s.record.json])
                sources[i][rule.name] = v
                raw[i] += rule.weight * v
            }
        }
        if let program, !samples.isEmpty {
            let values = try program.score(samples, label: label)
            for i in samples.indices {
                sources[i]["program"] = values[i]
                raw[i] += settings.programWeight * values[i]
            }
        }
        return Measured(sources: sources, raw: raw, modelStd: modelStd)
    }

    /// The EOS penalty, clipping and running normalisation over the measured samples.
    func finish(_ samples: [RewardSample], _ m: Measured) -> [RewardOutcome] {
        var scores = m.raw
        if let gate = settings.missingEOSScore {
            for (i, s) in samples.enumerated() where !s.endedWithEOS { scores[i] = gate }
        }
        if let penalty = settings.missingEOSPenalty {
            for (i, s) in samples.enumerated() where !s.endedWithEOS { scores[i] -= penalty }
        }
        if let c = settings.clip { scores = scores.map { Swift.min(Swift.max($0, -c), c) } }
        var scale = 1.0
        if settings.normalize {
            moments.update(scores)
            let (mean, sd) = (moments.mean, Swift.max(moments.std, 1e-8))
            scores = scores.map { ($0 - mean) / sd }
            scale = 1 / sd
        }
        return samples.indices.map { RewardOutcome(score: scores[$0], raw: m.raw[$0], sources: m.sources[$0], modelStd: m.modelStd[$0], scale: scale) }
    }

    public func close() { program?.close() }
}
