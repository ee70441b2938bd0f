import AlignData
import AlignNN
import AlignTensor
import Foundation

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
    /// The reward model ensemble's standard deviation over heads (0 for one head), if any.
    public var modelStd: Double?
}

/// The `reward` section made real: a weighted sum of a reward model, rules and an external
/// program, then `missing_eos_penalty`, clipping and running normalisation (ALGORITHMS.md,
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

    /// Loads the reward model (checking its vocabulary against the policy's) and prepares the
    /// program (started on first use).
    public init(_ settings: RewardSettings, policyVocabulary: Int, batchSize: Int = 8) throws {
        self.settings = settings
        self.batchSize = batchSize
        if let path = settings.model {
            let rm = try RewardModelStore.load(path)
            let v = rm.model.backbone.config.vocabSize
            guard v == policyVocabulary else {
                throw ModelConfigError("reward.model \(path) has a vocabulary of \(v) tokens, the policy \(policyVocabulary); a reward model scores the policy's token ids, so they must share a tokenizer")
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
        var sources = samples.map { _ in [String: Double]() }
        var raw = [Double](repeating: 0, count: samples.count)
        var modelStd: [Double?] = Array(repeating: nil, count: samples.count)
        if let rm = rewardModel {
            let scores = rm.model.score(samples.map { $0.promptIDs + $0.responseIDs + ($0.endedWithEOS ? turnSuffix : []) },
                                        batchSize: batchSize)
            for (i, s) in scores.enumerated() {
                sources[i]["model"] = Double(s.reward)
                modelStd[i] = Double(s.std)
                raw[i] += settings.modelWeight * Double(s.reward)
            }
        }
        for rule in settings.rules {
            for (i, s) in samples.enumerated() {
                let v = RuleReward.score(rule, s)
                sources[i][rule.name] = v
                raw[i] += rule.weight * v
            }
        }
        if let program {
            let values = try program.score(samples, label: label)
            for i in samples.indices {
                sources[i]["program"] = values[i]
                raw[i] += settings.programWeight * values[i]
            }
        }
        var scores = raw
        if let penalty = settings.missingEOSPenalty {
            for (i, s) in samples.enumerated() where !s.endedWithEOS { scores[i] -= penalty }
        }
        if let c = settings.clip { scores = scores.map { Swift.min(Swift.max($0, -c), c) } }
        if settings.normalize {
            moments.update(scores)
            let (m, sd) = (moments.mean, Swift.max(moments.std, 1e-8))
            scores = scores.map { ($0 - m) / sd }
        }
        return samples.indices.map { RewardOutcome(score: scores[$0], raw: raw[$0], sources: sources[$0], modelStd: modelStd[$0]) }
    }

    public func close() { program?.close() }
}
