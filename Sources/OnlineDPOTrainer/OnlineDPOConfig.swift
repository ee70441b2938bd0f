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

    /// The nested `online_dpo.dpo` section: the fields of `align dpo`'s section.
    static let dpoSection = ConfigSectionSchema(
        name: "dpo", doc: "The DPO-family loss on the fresh pairs: the fields of `align dpo`'s section (`loss`, `beta`, …).",
        fields: DPOConfig.schema.section.fields)

    public static let schema = TrainerSectionSchema(
        name: "online_dpo",
        doc: "Online DPO: per prompt, num_generations fresh samples from the policy; the reward picks chosen (best) and rejected (worst); a DPO-family loss on those pairs.",
        fields: [
            ConfigField("iterations", .int, default: 20, range: .atLeast(1), aliases: ["num_iterations", "rollouts"],
                        doc: "Rollouts, one optimizer step each (unless max_steps is set)."),
            ConfigField("num_generations", .int, default: 2, range: .atLeast(2), aliases: ["num_samples"],
                        doc: "Responses sampled per prompt; the best by reward is chosen, the worst rejected (TRL samples 2; ties: the first is chosen, the last rejected)."),
            ConfigField("dpo", .section(dpoSection), default: .sectionDefaults, doc: "The DPO-family loss (see `dpo`)."),
            ConfigField("samples_per_rollout", .int, default: 4, range: .atLeast(0), doc: "Pairs of each rollout written to samples.jsonl."),
            ConfigField("reward", .section(RewardSettings.schema), default: .sectionDefaults, doc: "The reward that ranks the samples (see `reward`)."),
        ] + SamplingSettings.fields(temperature: 0.9, maxNewTokensAliases: ["max_completion_length"]),
        checks: [
            RewardSettings.checks(prefix: "online_dpo.reward"),
            { ctx in
                if let f = ctx.string("data.format"), f != "auto" {
                    ctx.fail("data.format", "align online-dpo reads prompts ({\"prompt\"} or {\"messages\"} ending in a user turn); leave data.format \"auto\", not \"\(f)\"")
                }
                guard let loss = ctx.string("online_dpo.dpo.loss") else { return }
                if let eps = ctx.float("online_dpo.dpo.label_smoothing"), eps > 0, loss != "sigmoid", loss != "robust" {
                    ctx.fail("online_dpo.dpo.label_smoothing", "applies to loss \"sigmoid\" and \"robust\" only, not \"\(loss)\"")
                }
                if loss == "simpo" && ctx.isSet("model.reference") {
                    ctx.fail("model.reference", "online_dpo.dpo.loss \"simpo\" uses no reference model; remove model.reference (or choose another loss)")
                }
            },
        ])
}
