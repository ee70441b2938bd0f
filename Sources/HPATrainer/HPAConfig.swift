import AlignNN
import AlignOnline
import AlignTraining
import Foundation

/// `hpa`: hybrid preference alignment (ALGORITHMS.md "HPA", seed 000). Every optimizer step
/// samples `num_candidates` responses to each of `batch_size × grad_accum` prompts, shapes their
/// rewards (`r − α_σ·σ + α_div·div`), keeps the ones above `mean + filter_std·std`, and takes one
/// step on `ppo_weight·L_ppo + dpo_weight·L_dpo + kl_weight·L_kl`: PPO-clip on the kept samples,
/// a DPO-family loss (`dpo`) on `batch_size` offline pairs per micro-batch, and the hierarchical
/// KL (a per-token KL estimate and the semantic distance on the kept samples, weighted by a
/// schedule over progress).
public struct HPAConfig: TrainerSectionConfig {
    public let iterations: Int
    public let ppoEpochs: Int
    public let numCandidates: Int
    public let uncertaintyCoef: Double
    public let diversityCoef: Double
    public let diversityBank: Int
    /// nil: keep every candidate (no dynamic sampling).
    public let filterStd: Double?
    public let ppoWeight: Double
    public let dpoWeight: Double
    public let klWeight: Double
    public let clipRange: Double
    public let schedule: KLSchedule
    public let tokenKL: HPALosses.TokenKLEstimator
    public let preferences: String?
    public let preferencesEval: String?
    public let dpo: DPOConfig
    public let maxKL: Double?
    public let maxRewardZScore: Double?
    public let window: Int
    public let windowKLCoef: Double
    public let windowStdCoef: Double
    public let samplesPerRollout: Int
    public let reward: RewardSettings

    /// Response length, temperature, top-k, top-p and the sampling weights.
    public let sampling: SamplingSettings

    public init(_ s: ConfigSectionValue) {
        sampling = SamplingSettings(s)
        iterations = s.int("iterations")
        ppoEpochs = s.int("ppo_epochs")
        numCandidates = s.int("num_candidates")
        uncertaintyCoef = s.float("uncertainty_coef")
        diversityCoef = s.float("diversity_coef")
        diversityBank = s.int("diversity_bank")
        filterStd = s.optionalFloat("filter_std")
        ppoWeight = s.float("ppo_weight")
        dpoWeight = s.float("dpo_weight")
        klWeight = s.float("kl_weight")
        clipRange = s.float("cliprange")
        schedule = KLSchedule(tokenStart: s.float("token_kl_start"), tokenEnd: s.float("token_kl_end"),
                              semanticStart: s.float("semantic_kl_start"), semanticEnd: s.float("semantic_kl_end"))
        tokenKL = s.choice("token_kl")
        preferences = s.optionalString("preferences")
        preferencesEval = s.optionalString("preferences_eval")
        dpo = DPOConfig(s.section("dpo"))
        maxKL = s.optionalFloat("max_kl")
        maxRewardZScore = s.optionalFloat("max_reward_zscore")
        window = s.int("window")
        windowKLCoef = s.float("window_kl_coef")
        windowStdCoef = s.float("window_std_coef")
        samplesPerRollout = s.int("samples_per_rollout")
        reward = RewardSettings(s.section("reward"))
    }

    /// Whether the step has an offline DPO term (a weight and pairs to train on).
    public var usesPreferences: Bool { dpoWeight > 0 && preferences != nil }

    public static let schema = TrainerSectionSchema(
        name: "hpa",
        doc: "Hybrid preference alignment (seed 000): PPO on fresh, filtered samples with a shaped reward + a DPO-family loss on offline pairs + a hierarchical KL, in one optimizer step.",
        fields: [
            ConfigField("iterations", .int, default: 20, range: .atLeast(1), aliases: ["num_iterations", "rollouts"],
                        doc: "Rollouts; total optimizer steps = iterations × ppo_epochs (unless max_steps is set)."),
            ConfigField("ppo_epochs", .int, default: 1, range: .atLeast(1), aliases: ["num_ppo_epochs"],
                        doc: "Optimizer steps on each rollout's kept samples (each with fresh offline pairs)."),
            ConfigField("num_candidates", .int, default: 4, range: .atLeast(2), aliases: ["num_generations", "num_return_sequences"],
                        doc: "Responses sampled per prompt; a rollout holds batch_size × grad_accum prompts."),
            ConfigField("uncertainty_coef", .float, default: 0.5, range: .atLeast(0), aliases: ["alpha_sigma"],
                        doc: "α_σ: weight of the reward ensemble's spread σ (std over the heads of `reward.model`) subtracted from the reward."),
            ConfigField("diversity_coef", .float, default: 0.2, range: .atLeast(0), aliases: ["alpha_div"],
                        doc: "α_div: weight of the diversity bonus 1 − mean cosine similarity to the bank of recent response embeddings (0 turns the bank off)."),
            ConfigField("diversity_bank", .int, default: 256, range: .atLeast(1), doc: "Recent response embeddings kept for the diversity bonus (FIFO)."),
            ConfigField("filter_std", .float, default: 1.0, doc: "Dynamic sampling: keep candidates whose shaped reward exceeds mean + filter_std·std over the rollout (the best per prompt when none does); null keeps every candidate."),
            ConfigField("ppo_weight", .float, default: 0.4, range: .atLeast(0), doc: "w_ppo: weight of the PPO-clip loss on the kept samples."),
            ConfigField("dpo_weight", .float, default: 0.4, range: .atLeast(0), doc: "w_dpo: weight of the DPO-family loss on the offline pairs."),
            ConfigField("kl_weight", .float, default: 0.2, range: .atLeast(0), doc: "w_kl: weight of the hierarchical KL on the kept samples."),
            ConfigField("cliprange", .float, default: 0.2, range: .greaterThan(0), aliases: ["clip_range", "epsilon"], doc: "PPO ratio clip ε."),
            ConfigField("token_kl", .choice(HPALosses.TokenKLEstimator.allCases.map(\.rawValue)), default: "k3", aliases: ["token_kl_estimator"],
                        doc: "The token KL term's per-token estimate: k3, e^{logπ_ref − logπθ} − (logπ_ref − logπθ) − 1 (zero gradient where πθ = π_ref: it holds the policy near the reference), or k1_seed, seed 000's literal logπθ − logπ_ref (as a loss it lowers the kept samples' probability even at πθ = π_ref: for reproducing the seed only)."),
            ConfigField("token_kl_start", .float, default: 1.0, range: .atLeast(0), doc: "λ_tok at progress 0 (linear to token_kl_end; seed: 1 − 0.8p)."),
            ConfigField("token_kl_end", .float, default: 0.2, range: .atLeast(0), doc: "λ_tok at progress 1."),
            ConfigField("semantic_kl_start", .float, default: 0.2, range: .atLeast(0), doc: "λ_sem at progress 0 (linear to semantic_kl_end; seed: 0.2 + 0.8p)."),
            ConfigField("semantic_kl_end", .float, default: 1.0, range: .atLeast(0), doc: "λ_sem at progress 1."),
            ConfigField("preferences", .path(.file), default: nil, aliases: ["preference_data", "dpo_data"],
                        doc: "The offline preference pairs ({prompt, chosen, rejected}); required when dpo_weight > 0."),
            ConfigField("preferences_eval", .path(.file), default: nil,
                        doc: "Held-out pairs for `eval/dpo_*` (else data.eval_fraction of the pairs, else none)."),
            ConfigField("dpo", .section(DPOConfig.nestedSection(on: "the offline pairs")), default: .sectionDefaults, doc: "The DPO-family loss (see `dpo`)."),
            ConfigField("max_kl", .float, default: nil, range: .greaterThan(0),
                        doc: "A rollout whose KL to the reference per token (`objective/kl_per_token`, over every candidate) exceeds this is an anomaly: with `recovery` the run rolls back, else it stops."),
            ConfigField("max_reward_zscore", .float, default: nil, range: .greaterThan(0),
                        doc: "A rollout whose mean reward lies more than this many standard deviations from the previous `window` rollouts' (3 at least) is an anomaly, as max_kl."),
            ConfigField("window", .int, default: 10, range: .atLeast(1),
                        doc: "Rollouts in the window of `reward_window_score` (seed 000's early-stop metric) and of the reward spike check."),
            ConfigField("window_kl_coef", .float, default: 0.5, range: .atLeast(0), doc: "reward_window_score = mean reward − window_kl_coef·mean KL − window_std_coef·std reward."),
            ConfigField("window_std_coef", .float, default: 0.3, range: .atLeast(0), doc: "See window_kl_coef."),
            ConfigField("samples_per_rollout", .int, default: 4, range: .atLeast(0), doc: "Candidates of each rollout written to samples.jsonl."),
            ConfigField("reward", .section(RewardSettings.schema), default: .sectionDefaults, doc: "The reward (see `reward`)."),
        ] + SamplingSettings.fields(temperature: 0.7),
        checks: [
            RewardSettings.checks(prefix: "hpa.reward"),
            SamplingSettings.promptFormatCheck("hpa", extra: " from data.train and pairs from hpa.preferences"),
            DPOConfig.nestedChecks(prefix: "hpa.dpo"),
            { ctx in
                let w = ["ppo_weight", "dpo_weight", "kl_weight"].map { ctx.float("hpa.\($0)") ?? 0 }
                if w.allSatisfy({ $0 == 0 }) {
                    ctx.fail("hpa.ppo_weight", "ppo_weight, dpo_weight and kl_weight are all 0: the step would have no loss")
                }
                if (ctx.float("hpa.dpo_weight") ?? 0) > 0 && !ctx.isSet("hpa.preferences") {
                    ctx.fail("hpa.preferences", "dpo_weight \(ctx.float("hpa.dpo_weight") ?? 0) needs offline pairs: set hpa.preferences (or dpo_weight 0)")
                }
                if ctx.isSet("hpa.preferences_eval") && !ctx.isSet("hpa.preferences") {
                    ctx.fail("hpa.preferences_eval", "held-out pairs without training pairs: set hpa.preferences too")
                }
            },
        ])
}

/// The hierarchical KL's weights over training progress p ∈ [0, 1]: linear from start to end
/// (seed 000: λ_tok = 1 − 0.8p, λ_sem = 0.2 + 0.8p).
public struct KLSchedule: Equatable, Sendable {
    public var tokenStart, tokenEnd, semanticStart, semanticEnd: Double

    public init(tokenStart: Double = 1.0, tokenEnd: Double = 0.2, semanticStart: Double = 0.2, semanticEnd: Double = 1.0) {
        self.tokenStart = tokenStart
        self.tokenEnd = tokenEnd
        self.semanticStart = semanticStart
        self.semanticEnd = semanticEnd
    }

    public func token(_ p: Double) -> Double { tokenStart + (tokenEnd - tokenStart) * p }
    public func semantic(_ p: Double) -> Double { semanticStart + (semanticEnd - semanticStart) * p }
}
