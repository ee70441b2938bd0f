import AlignNN
import AlignTraining
import Foundation

/// How an online trainer samples its responses, as its config section says it (`ppo`, `hpa`,
/// `bon`): the same five keys in each, with the trainer's own defaults.
public struct SamplingSettings: Equatable, Sendable {
    public let maxNewTokens: Int
    public let temperature: Double
    public let topK: Int
    public let topP: Double
    /// The weights rollout decode steps read (`sampling_weights`).
    public let samplingWeights: GenerationConfig.WeightsDtype

    public init(_ s: ConfigSectionValue) {
        maxNewTokens = s.int("max_new_tokens")
        temperature = s.float("temperature")
        topK = s.int("top_k")
        topP = s.float("top_p")
        samplingWeights = s.choice("sampling_weights")
    }

    /// The five fields of a trainer section, with its default temperature and the other names
    /// `max_new_tokens` is known by in TRL's configs.
    public static func fields(temperature: Double, maxNewTokensAliases: [String] = ["max_completion_length"]) -> [ConfigField] {
        [
            ConfigField("temperature", .float, default: .value(.float(temperature)), range: .greaterThan(0),
                        doc: "Sampling temperature; log-probs are computed at this temperature too (as TRL)."),
            ConfigField("top_k", .int, default: 0, range: .atLeast(0), doc: "Sample among the k most likely tokens (0 = all)."),
            ConfigField("top_p", .float, default: 1.0, range: .openClosed(0, 1), doc: "Nucleus sampling mass."),
            ConfigField("sampling_weights", .choice(GenerationConfig.WeightsDtype.allCases.map(\.rawValue)), default: "float32",
                        doc: "Weights the rollout's decode steps read: float32, or bfloat16 copies made per rollout (half the bytes per token; the prompt pass, log-probs and training stay float32)."),
            ConfigField("max_new_tokens", .int, default: 48, range: .atLeast(1), aliases: maxNewTokensAliases,
                        doc: "Longest response; generation stops at EOS."),
        ]
    }
}

extension SamplingSettings {
    /// The check every online trainer's section makes: its prompts are read as prompts, whatever
    /// `data.format` says (`extra` says where else it reads, e.g. HPA's pairs).
    public static func promptFormatCheck(_ command: String, extra: String = "") -> @Sendable (ConfigCheckContext) -> Void {
        { ctx in
            if let f = ctx.string("data.format"), f != "auto" {
                ctx.fail("data.format", "align \(command) reads prompts ({\"prompt\"} or {\"messages\"} ending in a user turn)\(extra); leave data.format \"auto\", not \"\(f)\"")
            }
        }
    }
}
