import AlignNN
import AlignTraining
import Foundation

/// Where the reference log-probs come from.
public enum ReferenceSource {
    /// A frozen model.
    case model(any CausalLM)
    /// The policy with its LoRA adapters switched off (no second copy).
    case policyWithoutLoRA
    /// None (kl_coef 0): no reference pass, no KL computed or logged.
    case none
}

extension ReferenceSource {
    /// Whether there is a reference at all (not `.none`).
    public var exists: Bool { if case .none = self { return false } else { return true } }

    /// The frozen reference of an online run: the policy with its adapters switched off (LoRA
    /// without `model.reference`: no second copy), else `model.reference`, else a frozen copy of
    /// the starting weights. Its vocabulary must be the policy's.
    package static func frozen(for run: TrainerRun, orElse hint: String) throws -> ReferenceSource {
        let config = run.config
        if config.lora != nil && config.model.reference == nil { return .policyWithoutLoRA }
        let path: String
        if let r = config.model.reference { path = r } else if case .path(let p) = config.model.source { path = p } else {
            throw ModelConfigError("a freshly initialised policy has no reference: set model.reference\(hint)")
        }
        let ref = try ModelStore.load(path).model
        guard ref.config.vocabSize == run.model.config.vocabSize else {
            throw ModelConfigError("model.reference \(path) has a vocabulary of \(ref.config.vocabSize) tokens, the policy \(run.model.config.vocabSize); they must match")
        }
        return .model(ref)
    }
}
