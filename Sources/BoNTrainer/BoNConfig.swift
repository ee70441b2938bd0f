import AlignNN
import AlignOnline
import AlignTraining
import Foundation

/// `bon`: best-of-N rejection-sampling rounds (seed 003, as Llama 2 did; ALGORITHMS.md, PPO
/// "Best-of-N"): each round samples `num_samples` responses per prompt, keeps the `keep` best by
/// reward, and fine-tunes (SFT) for `steps_per_round` steps on every sample kept so far.
public struct BoNConfig: TrainerSectionConfig {
    public let rounds: Int
    public let numSamples: Int
    public let keep: Int
    public let promptsPerRound: Int?
    public let stepsPerRound: Int
    public let reward: RewardSettings

    /// Response length, temperature, top-k, top-p and the sampling weights.
    public let sampling: SamplingSettings

    public init(_ s: ConfigSectionValue) {
        sampling = SamplingSettings(s)
        rounds = s.int("rounds")
        numSamples = s.int("num_samples")
        keep = s.int("keep")
        promptsPerRound = s.optionalInt("prompts_per_round")
        stepsPerRound = s.int("steps_per_round")
        reward = RewardSettings(s.section("reward"))
    }

    /// KL between the best-of-N distribution and the sampling policy, log N − (N−1)/N (seed 003).
    public static func bestOfNKL(_ n: Int) -> Double { Foundation.log(Double(n)) - Double(n - 1) / Double(n) }

    public static let schema = TrainerSectionSchema(
        name: "bon",
        doc: "Best-of-N rounds: sample num_samples responses per prompt, keep the best `keep` by reward, SFT on all kept samples so far.",
        fields: [
            ConfigField("rounds", .int, default: 3, range: .atLeast(1), doc: "Sampling rounds."),
            ConfigField("num_samples", .int, default: 8, range: .atLeast(2), aliases: ["n", "best_of"], doc: "Responses sampled per prompt (N)."),
            ConfigField("keep", .int, default: 1, range: .atLeast(1), aliases: ["top_k_kept", "k"], doc: "Best responses kept per prompt."),
            ConfigField("prompts_per_round", .int, default: nil, range: .atLeast(1), defaultText: "`null` (every training prompt)",
                        doc: "Prompts sampled per round (cycling through the shuffled prompts)."),
            ConfigField("steps_per_round", .int, default: 20, range: .atLeast(1), doc: "SFT optimizer steps after each round, on all samples kept so far."),
            ConfigField("reward", .section(RewardSettings.schema), default: .sectionDefaults, doc: "The reward (see `reward`)."),
        ] + SamplingSettings.fields(temperature: 0.8),
        checks: [
            RewardSettings.checks(prefix: "bon.reward"),
            SamplingSettings.promptFormatCheck("bon"),
            { ctx in
                if let k = ctx.int("bon.keep"), let n = ctx.int("bon.num_samples"), k >= n {
                    ctx.fail("bon.keep", "keeps \(k) of \(n) samples per prompt; keep must be smaller than num_samples or nothing is rejected")
                }
            },
        ])
}
