import AlignOnline
import AlignTraining
import Foundation

/// `online_dpo`: online DPO (Guo et al. 2024, "Direct Language Model Alignment from Online AI
/// Feedback"; TRL's `OnlineDPOTrainer`). Every optimizer step samples `num_generations`
/// responses from the current policy to each of `batch_size × grad_accum` prompts, lets the
/// reward (a reward model, rules such as `ifeval`, a program) pick the best as chosen and the
/// worst as rejected, and takes one step on a DPO-family loss (`dpo`, the fields of `align dpo`)
/// over those fresh pairs against the frozen reference.
public struct OnlineDPOConfig: TrainerSectionConfig {
    public let iterations: Int
    public let numGenerations: Int
    public let dpo: DPOConfig
    public let samplesPerRollout: Int
    public let reward: RewardSettings
    /// Response length, temperature, top-k, top-p and the sampling weights.
    public let sampling: SamplingSettings

    public init(_ s: ConfigSectionValue) {
        sampling = SamplingSettings(s)
        iterations = s.int("iterations")
        numGenerations = s.int("num_generations")
        dpo = DPOConfig(s.section("dpo"))
        samplesPerRollout = s.int("samples_per_rollout")
        reward = RewardSettings(s.section("reward"))
    }

    public static let schema = TrainerSectionSchema(
        name: "online_dpo",
        doc: "Online DPO: per prompt, num_generations fresh samples from the policy; the reward picks chosen (best) and rejected (worst); a DPO-family loss on those pairs.",
        fields: [
            ConfigField("iterations", .int, default: 20, range: .atLeast(1), aliases: ["num_iterations", "rollouts"],
                        doc: "Rollouts, one optimizer step each (unless max_steps is set)."),
            ConfigField("num_generations", .int, default: 2, range: .atLeast(2), aliases: ["num_samples"],
                        doc: "Responses sampled per prompt; the best by reward is chosen, the worst rejected (TRL samples 2; ties: the first is chosen, the last rejected)."),
            ConfigField("dpo", .section(DPOConfig.nestedSection(on: "the fresh pairs")), default: .sectionDefaults, doc: "The DPO-family loss (see `dpo`)."),
            ConfigField("samples_per_rollout", .int, default: 4, range: .atLeast(0), doc: "Pairs of each rollout written to samples.jsonl."),
            ConfigField("reward", .section(RewardSettings.schema), default: .sectionDefaults, doc: "The reward that ranks the samples (see `reward`)."),
        ] + SamplingSettings.fields(temperature: 0.9, maxNewTokensAliases: ["max_completion_length"]),
        checks: [
            RewardSettings.checks(prefix: "online_dpo.reward"),
            SamplingSettings.promptFormatCheck("online-dpo"),
            DPOConfig.nestedChecks(prefix: "online_dpo.dpo"),
        ])
}
