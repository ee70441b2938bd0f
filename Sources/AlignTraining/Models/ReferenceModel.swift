import AlignData
import AlignNN
import Foundation

/// The frozen reference a policy is compared with (KL-SFT, the DPO family, the online trainers,
/// `align eval --reference`, `align generate --kl-guard`): one loader and one vocabulary check,
/// so every command refuses a reference that scores other token ids with the same message.
public enum ReferenceModel {
    /// The model at `path` as the reference of `policy`, whose tokenizer is `tokenizer`. `name`
    /// is how the user gave it (`model.reference`, `--reference`) and is named in the error. The
    /// two must read token ids alike: the same vocabulary size, and when the reference has a
    /// tokenizer of its own, the same token at every id.
    public static func load(_ path: String, for policy: any CausalLM, tokenizer: Tokenizer, name: String) throws -> any CausalLM {
        let reference = try ModelStore.load(path).model
        let (mine, theirs) = (reference.config.vocabSize, policy.config.vocabSize)
        guard mine == theirs else {
            throw ModelConfigError("\(name) \(path) has a vocabulary of \(mine) tokens, the policy \(theirs); a reference scores the policy's token ids, so they must match")
        }
        if let own = try? ModelStore.loadTokenizer(path) {
            try tokenizer.requireSameVocabulary(own, name: name, path: path, role: "a reference")
        }
        return reference
    }

    /// The reference of a training run: `model.reference`, else a frozen copy of the starting
    /// weights. A freshly initialised policy has none: `hint` ends that error (what to set).
    public static func ofRun(_ run: TrainerRun, hint: String) throws -> any CausalLM {
        if let path = run.config.model.reference { return try load(path, for: run.model, tokenizer: run.tokenizer, name: "model.reference") }
        guard case .path(let path) = run.config.model.source else {
            throw ModelConfigError("a freshly initialised policy has no reference: set model.reference\(hint)")
        }
        return try load(path, for: run.model, tokenizer: run.tokenizer, name: "model.path")
    }
}
