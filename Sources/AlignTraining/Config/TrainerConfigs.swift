import Foundation

/// A trainer's typed section. A new trainer declares its fields in `schema` (with cross-field
/// checks) and reads them in `init`; `RunConfig.load(file:trainer: T.schema, …)` then
/// `T(config.trainer)`.
public protocol TrainerSectionConfig: Equatable, Sendable {
    static var schema: TrainerSectionSchema { get }
    init(_ section: ConfigSectionValue)
}

extension RunConfig {
    /// The trainer section as its typed struct (the config must have been loaded for `T.schema`).
    public func trainerConfig<T: TrainerSectionConfig>(_ type: T.Type) -> T {
        precondition(trainerName == T.schema.name, "config was loaded for \(trainerName), not \(T.schema.name)")
        return T(trainer)
    }
}

/// Fails `data.format` unless it is `auto` or `preference` (pairwise trainers).
private func requirePreferenceData(_ trainer: String) -> @Sendable (ConfigCheckContext) -> Void {
    { ctx in
        if let format = ctx.string("data.format"), format != "auto", format != "preference" {
            ctx.fail("data.format", "align \(trainer) trains on preference pairs (chosen/rejected); use \"preference\" or \"auto\", not \"\(format)\"")
        }
    }
}

/// `sft`: supervised fine-tuning, optionally KL-regularised (ALGORITHMS.md, SFT).
public struct SFTConfig: TrainerSectionConfig {
    /// Weight of the mean squared token log-ratio to the reference (0 = plain SFT).
    public let klCoef: Double

    public init(_ s: ConfigSectionValue) {
        klCoef = s.float("kl_coef")
    }

    public static let schema = TrainerSectionSchema(
        name: "sft",
        doc: "Supervised fine-tuning: mean token NLL over response tokens (all tokens for raw text).",
        fields: [
            ConfigField("kl_coef", .float, default: 0.0, range: .atLeast(0), aliases: ["kl", "beta"],
                        doc: "KL-SFT: adds kl_coef · mean over response tokens of (logπθ − logπ_ref)² (0 = plain SFT)."),
        ],
        checks: [
            EvalMetricNames.check { _ in EvalMetricNames.sft },
            { ctx in
                if ctx.string("data.format") == "preference" {
                    ctx.fail("data.format", "\"preference\" data is for align dpo and align rm; align sft trains on text, prompt_completion, alpaca or messages")
                }
            },
        ])
}

/// The DPO-family losses (ALGORITHMS.md, DPO family).
public enum DPOLoss: String, Sendable, CaseIterable {
    case sigmoid, robust, hinge, ipo, dpop
    case lnDPO = "ln_dpo"
    case simpo
}

/// `dpo`: direct preference optimisation and its variants.
public struct DPOConfig: TrainerSectionConfig {
    public let loss: DPOLoss
    /// β with the default filled in: 0.1, or 2.0 for SimPO.
    public let beta: Double
    public let labelSmoothing: Double
    public let dpopLambda: Double
    public let simpoGamma: Double
    public let sftWeight: Double
    public let precomputeRefLogProbs: Bool

    public init(_ s: ConfigSectionValue) {
        loss = s.choice("loss")
        beta = s.optionalFloat("beta") ?? (loss == .simpo ? 2.0 : 0.1)
        labelSmoothing = s.float("label_smoothing")
        dpopLambda = s.float("dpop_lambda")
        simpoGamma = s.float("simpo_gamma")
        sftWeight = s.float("sft_weight")
        precomputeRefLogProbs = s.bool("precompute_ref_log_probs")
    }

    /// Whether the loss uses the reference model.
    public var usesReference: Bool { loss != .simpo }

    public static let schema = TrainerSectionSchema(
        name: "dpo",
        doc: "Direct preference optimisation on chosen/rejected pairs; `loss` picks the variant.",
        fields: [
            ConfigField("loss", .choice(DPOLoss.allCases.map(\.rawValue)), default: "sigmoid", aliases: ["loss_type"],
                        doc: "sigmoid (DPO, cDPO with label_smoothing), robust, hinge, ipo, dpop (Smaug), ln_dpo (length-normalised), simpo (no reference)."),
            ConfigField("beta", .float, default: nil, range: .greaterThan(0), defaultText: "`null` (0.1; 2.0 for simpo)",
                        doc: "Inverse temperature β of the implicit reward."),
            ConfigField("label_smoothing", .float, default: 0.0, range: .halfOpen(0, 0.5), aliases: ["epsilon", "cdpo_epsilon"],
                        doc: "Assumed fraction ε of flipped labels (sigmoid and robust)."),
            ConfigField("dpop_lambda", .float, default: 50.0, range: .atLeast(0), aliases: ["lambda", "dpop_lambda_coef"],
                        doc: "dpop: weight λ of the penalty on a falling chosen log-ratio."),
            ConfigField("simpo_gamma", .float, default: 0.5, range: .atLeast(0), aliases: ["gamma"],
                        doc: "simpo: target reward margin γ."),
            ConfigField("sft_weight", .float, default: 0.0, range: .atLeast(0), aliases: ["rpo_alpha", "sft_coef"],
                        doc: "Adds sft_weight · NLL(chosen) (RPO)."),
            ConfigField("precompute_ref_log_probs", .bool, default: true, aliases: ["precompute_ref_logps"],
                        doc: "Compute the reference log-probs once per pair and cache them."),
        ],
        checks: [
            requirePreferenceData("dpo"),
            EvalMetricNames.check { ctx in ctx.float("dpo.sft_weight").map(EvalMetricNames.dpo(sftWeight:)) },
            { ctx in
                guard let loss = ctx.string("dpo.loss") else { return }
                if loss == "simpo" && ctx.isSet("model.reference") {
                    ctx.fail("model.reference", "dpo.loss \"simpo\" uses no reference model; remove model.reference (or choose another loss)")
                }
                if let eps = ctx.float("dpo.label_smoothing"), eps > 0, loss != "sigmoid", loss != "robust" {
                    ctx.fail("dpo.label_smoothing", "applies to loss \"sigmoid\" and \"robust\" only, not \"\(loss)\"")
                }
            },
        ])
}

extension DPOConfig {
    /// `align dpo`'s fields as a section nested in another trainer's (`hpa.dpo`, `online_dpo.dpo`);
    /// `what` says which pairs its loss is on.
    public static func nestedSection(on what: String) -> ConfigSectionSchema {
        ConfigSectionSchema(name: "dpo", doc: "The DPO-family loss on \(what): the fields of `align dpo`'s section (`loss`, `beta`, …).",
                            fields: schema.section.fields)
    }

    /// `align dpo`'s own cross-field checks for a section nested at `prefix` (`hpa.dpo`).
    public static func nestedChecks(prefix: String) -> @Sendable (ConfigCheckContext) -> Void {
        { ctx in
            guard let loss = ctx.string("\(prefix).loss") else { return }
            if let eps = ctx.float("\(prefix).label_smoothing"), eps > 0, loss != "sigmoid", loss != "robust" {
                ctx.fail("\(prefix).label_smoothing", "applies to loss \"sigmoid\" and \"robust\" only, not \"\(loss)\"")
            }
            if loss == "simpo" && ctx.isSet("model.reference") {
                ctx.fail("model.reference", "\(prefix).loss \"simpo\" uses no reference model; remove model.reference (or choose another loss)")
            }
        }
    }
}

/// `rm`: Bradley-Terry reward model (ALGORITHMS.md, Reward model). The optional per-pair
/// `margin` is a field of the data, not of the configuration.
public struct RMConfig: TrainerSectionConfig {
    /// Independent scalar heads on one backbone (an ensemble; ≥ 1).
    public let numHeads: Int
    public let centerRewardsCoefficient: Double

    public init(_ s: ConfigSectionValue) {
        numHeads = s.int("num_heads")
        centerRewardsCoefficient = s.float("center_rewards_coefficient")
    }

    public static let schema = TrainerSectionSchema(
        name: "rm",
        doc: "Reward model: LM backbone + scalar head(s) trained with −logσ(r_chosen − r_rejected − margin).",
        fields: [
            ConfigField("num_heads", .int, default: 1, range: .atLeast(1), aliases: ["heads", "ensemble_size"],
                        doc: "Independent scalar heads (an ensemble; reward = mean, uncertainty = std over heads)."),
            ConfigField("center_rewards_coefficient", .float, default: 0.0, range: .atLeast(0), aliases: ["center_rewards"],
                        doc: "Adds coefficient · mean((r_chosen + r_rejected)²); 0.01 is recommended."),
        ],
        checks: [
            requirePreferenceData("rm"),
            EvalMetricNames.check { ctx in ctx.int("rm.num_heads").map(EvalMetricNames.rm(numHeads:)) },
            { ctx in
                if ctx.isSet("model.reference") { ctx.fail("model.reference", "align rm uses no reference model; remove model.reference") }
            },
        ])
}
