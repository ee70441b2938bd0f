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
        return .model(try ReferenceModel.ofRun(run, hint: hint))
    }
}
