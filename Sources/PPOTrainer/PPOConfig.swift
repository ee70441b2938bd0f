import AlignNN
import AlignOnline
import AlignTraining
import Foundation

/// How advantages are estimated (ALGORITHMS.md, PPO and Group advantages).
public enum AdvantageEstimator: String, Sendable, CaseIterable {
    /// GAE with a value head (or a separate critic), whitened over the batch.
    case gae
    /// (r − group mean) / (group std + 1e-4) over `num_generations` samples per prompt (TRL's GRPO).
    case grpo
    /// r − mean of the other samples of the prompt (TRL's RLOO).
    case rloo
}

/// `ppo`: online RL from rewards (ALGORITHMS.md, PPO). One iteration samples a rollout of
/// `batch_size × grad_accum × num_minibatches` responses, then runs `ppo_epochs` passes over
/// `num_minibatches` minibatches, one optimizer step each (`grad_accum` micro-batches of
/// `batch_size` rows per step).
public struct PPOConfig: TrainerSectionConfig {
    public let iterations: Int
    public let ppoEpochs: Int
    public let numMinibatches: Int
    public let advantage: AdvantageEstimator
    public let numGenerations: Int
    public let gamma: Double
    public let lambda: Double
    public let clipRange: Double
    /// Upper clip ε_high of the ratio (nil: `clipRange`).
    public let clipRangeHigh: Double?
    /// grpo: how per-token losses are aggregated (TRL's `loss_type`).
    public let lossType: PPOLosses.GRPOLossType
    /// grpo: how centred rewards are scaled (TRL's `scale_rewards`).
    public let scaleRewards: Advantages.RewardScaling
    /// rloo: normalise the advantages over the rollout (TRL's `normalize_advantages`).
    public let normalizeAdvantages: Bool
    public let clipRangeValue: Double
    public let vfCoef: Double
    public let entropyCoef: Double
    /// β with the default filled in: 0.05, or 0.0 for grpo (TRL's `beta` default).
    public let klCoef: Double
    public let klEstimator: PPOLosses.KLEstimator
    public let klBiasCorrection: Bool
    public let klTarget: Double?
    public let klHorizon: Double
    public let whitenAdvantages: Bool
    public let valueModel: String?
    public let maxKL: Double?
    public let samplesPerRollout: Int
    public let reward: RewardSettings

    /// Response length, temperature, top-k, top-p and the sampling weights.
    public let sampling: SamplingSettings

    public init(_ s: ConfigSectionValue) {
        sampling = SamplingSettings(s)
        iterations = s.int("iterations")
        ppoEpochs = s.int("ppo_epochs")
        numMinibatches = s.int("num_minibatches")
        advantage = s.choice("advantage")
        numGenerations = s.int("num_generations")
        gamma = s.float("gamma")
        lambda = s.float("lam")
        clipRange = s.float("cliprange")
        clipRangeHigh = s.optionalFloat("cliprange_high")
        lossType = s.choice("loss_type")
        scaleRewards = s.choice("scale_rewards")
        normalizeAdvantages = s.bool("normalize_advantages")
        clipRangeValue = s.float("cliprange_value")
        vfCoef = s.float("vf_coef")
        entropyCoef = s.float("entropy_coef")
        klCoef = s.optionalFloat("kl_coef") ?? (advantage == .grpo ? 0.0 : 0.05)
        klEstimator = s.choice("kl_estimator")
        klBiasCorrection = s.bool("kl_bias_correction")
        klTarget = s.optionalFloat("kl_target")
        klHorizon = s.float("kl_horizon")
        whitenAdvantages = s.bool("whiten_advantages")
        valueModel = s.optionalString("value_model")
        maxKL = s.optionalFloat("max_kl")
        samplesPerRollout = s.int("samples_per_rollout")
        reward = RewardSettings(s.section("reward"))
    }

    /// Whether the advantages need values (a value head or a critic).
    public var usesValues: Bool { advantage == .gae }

    public static let schema = TrainerSectionSchema(
        name: "ppo",
        doc: "Online RL: sample responses to prompts, score them (`reward`), and update the policy with PPO-clip (GAE with a value head, or GRPO/RLOO group advantages).",
        fields: [
            ConfigField("iterations", .int, default: 20, range: .atLeast(1), aliases: ["num_iterations", "total_episodes_batches"],
                        doc: "Rollouts; total optimizer steps = iterations × ppo_epochs × num_minibatches (unless max_steps is set)."),
            ConfigField("ppo_epochs", .int, default: 4, range: .atLeast(1), aliases: ["num_ppo_epochs"],
                        doc: "Passes over each rollout."),
            ConfigField("num_minibatches", .int, default: 1, range: .atLeast(1), aliases: ["num_mini_batches"],
                        doc: "Minibatches (optimizer steps) per pass; each holds batch_size × grad_accum responses."),
            ConfigField("advantage", .choice(AdvantageEstimator.allCases.map(\.rawValue)), default: "gae", aliases: ["advantage_estimator"],
                        doc: "gae (value head), grpo (group-normalised rewards) or rloo (leave-one-out baseline)."),
            ConfigField("num_generations", .int, default: 1, range: .atLeast(1), aliases: ["num_samples", "group_size"],
                        doc: "Samples per prompt in a rollout (≥ 2 for grpo and rloo)."),
            ConfigField("gamma", .float, default: 1.0, range: .closed(0, 1), doc: "GAE discount γ."),
            ConfigField("lam", .float, default: 0.95, range: .closed(0, 1), aliases: ["lambda", "gae_lambda"], doc: "GAE λ."),
            ConfigField("cliprange", .float, default: 0.2, range: .greaterThan(0), aliases: ["clip_range", "epsilon"],
                        doc: "Policy ratio clip ε."),
            ConfigField("cliprange_high", .float, default: nil, range: .greaterThan(0), defaultText: "`null` (= cliprange)",
                        aliases: ["epsilon_high", "clip_range_high"],
                        doc: "Upper clip of the ratio, 1 + cliprange_high (DAPO's clip-higher; TRL's epsilon_high); the lower stays 1 − cliprange."),
            ConfigField("loss_type", .choice(PPOLosses.GRPOLossType.allCases.map(\.rawValue)), default: "dapo",
                        doc: "grpo: dapo (token mean over the step, TRL 1.16's default), grpo (mean of per-sequence token means), bnpo (token mean per micro-batch) or dr_grpo (token sum / (rows × max_new_tokens))."),
            ConfigField("scale_rewards", .choice(Advantages.RewardScaling.allCases.map(\.rawValue)), default: "group",
                        doc: "grpo: divide centred rewards by the group's std (group), the rollout's (batch) or not at all (none, Dr. GRPO)."),
            ConfigField("normalize_advantages", .bool, default: false,
                        doc: "rloo: normalise the advantages to mean 0, std 1 over the rollout (TRL's normalize_advantages)."),
            ConfigField("cliprange_value", .float, default: 0.2, range: .greaterThan(0), aliases: ["clip_range_value"],
                        doc: "Value clip ε_v around the rollout's values."),
            ConfigField("vf_coef", .float, default: 0.1, range: .atLeast(0), doc: "Weight of the value loss."),
            ConfigField("entropy_coef", .float, default: 0.0, range: .atLeast(0), aliases: ["ent_coef"],
                        doc: "Weight of the entropy bonus (subtracted from the loss)."),
            ConfigField("kl_coef", .float, default: nil, range: .atLeast(0), defaultText: "`null` (0.05; 0.0 for grpo)",
                        aliases: ["beta", "init_kl_coef"],
                        doc: "β of the KL to the reference: a per-token shaping reward (gae), a loss term (grpo), or in the reward (rloo)."),
            ConfigField("kl_estimator", .choice(PPOLosses.KLEstimator.allCases.map(\.rawValue)), default: "k1",
                        doc: "k1 (logp − logp_ref) or k3 ((e^{logr} − 1) − logr) for the shaping KL; grpo's loss always uses k3."),
            ConfigField("kl_bias_correction", .bool, default: true, aliases: ["use_bias_correction_kl"],
                        doc: "grpo: multiply the k3 KL term by the importance ratio (TRL 1.16's default), making its gradient the unbiased reverse-KL gradient."),
            ConfigField("kl_target", .float, default: nil, range: .greaterThan(0), aliases: ["target", "target_kl"],
                        doc: "Adaptive KL controller: the target KL per sequence (6.0 in Ziegler et al.); null keeps kl_coef fixed."),
            ConfigField("kl_horizon", .float, default: 10000.0, range: .greaterThan(0), aliases: ["horizon"],
                        doc: "Adaptive KL controller horizon."),
            ConfigField("whiten_advantages", .bool, default: true, doc: "gae: whiten the advantages over the rollout's response tokens."),
            ConfigField("value_model", .path(.directory), default: nil, defaultText: "`null` (a value head on the policy's backbone)",
                        aliases: ["critic"], doc: "gae: a separate critic initialised from this reward-model directory (as TRL), trained beside the policy."),
            ConfigField("max_kl", .float, default: nil, range: .greaterThan(0),
                        doc: "A rollout whose mean KL per sequence exceeds this is an anomaly: with `recovery` the run rolls back, else it stops."),
            ConfigField("samples_per_rollout", .int, default: 4, range: .atLeast(0), doc: "Rows of each rollout written to samples.jsonl."),
            ConfigField("reward", .section(RewardSettings.schema), default: .sectionDefaults, doc: "The reward (see `reward`)."),
        ] + SamplingSettings.fields(temperature: 0.7, maxNewTokensAliases: ["response_length", "max_completion_length"]),
        checks: [
            RewardSettings.checks(prefix: "ppo.reward"),
            SamplingSettings.promptFormatCheck("ppo"),
            { ctx in
                guard let adv = ctx.string("ppo.advantage") else { return }
                let g = ctx.int("ppo.num_generations") ?? 1
                if adv != "gae" && g < 2 {
                    ctx.fail("ppo.num_generations", "advantage \"\(adv)\" compares the samples of a prompt: num_generations must be ≥ 2, not \(g)")
                }
                for key in ["loss_type", "scale_rewards"] where adv != "grpo" && ctx.isGiven("ppo.\(key)") {
                    ctx.fail("ppo.\(key)", "\(key) applies to advantage \"grpo\", not \"\(adv)\"; remove it")
                }
                if adv != "rloo" && ctx.isGiven("ppo.normalize_advantages") {
                    ctx.fail("ppo.normalize_advantages", "normalize_advantages applies to advantage \"rloo\", not \"\(adv)\"; remove it")
                }
                if adv != "gae" && ctx.isSet("ppo.value_model") {
                    ctx.fail("ppo.value_model", "advantage \"\(adv)\" uses no values; remove ppo.value_model (or use advantage \"gae\")")
                }
                // the adaptive controller multiplies kl_coef: from 0 (grpo's default) it never moves
                let beta = ctx.float("ppo.kl_coef") ?? (adv == "grpo" ? 0 : 0.05)
                if ctx.isSet("ppo.kl_target") && beta == 0 {
                    ctx.fail("ppo.kl_target", "the adaptive KL controller scales kl_coef, which is 0\(ctx.isSet("ppo.kl_coef") ? "" : " (advantage \"\(adv)\"'s default)"), so it would stay 0: set ppo.kl_coef > 0 as its start (e.g. 0.04), or remove kl_target")
                }
                if let b = ctx.int("batch_size"), let a = ctx.int("grad_accum"), let m = ctx.int("ppo.num_minibatches"), (b * a * m) % g != 0 {
                    ctx.fail("ppo.num_generations", "a rollout of batch_size × grad_accum × num_minibatches = \(b * a * m) responses cannot hold whole groups of \(g)")
                }
            },
        ])
}
