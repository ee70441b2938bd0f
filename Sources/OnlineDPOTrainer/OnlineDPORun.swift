import AlignData
import AlignNN
import AlignOnline
import AlignTraining
import Foundation

/// `align online-dpo --config run.json`: prompts and the reward checked before anything is
/// written, then `OnlineDPOObjective` in the shared loop → `final/` (LoRA merged unless
/// `lora.merge` is false) and `samples.jsonl` (a few pairs of every rollout).
public enum OnlineDPORun {
    @discardableResult
    public static func run(config: RunConfig, callback: @escaping TrainingCallback) throws -> [String: Any] {
        let odpo = config.trainerConfig(OnlineDPOConfig.self)
        let promptsPerStep = config.batchSize * config.gradAccum
        let setup = try OnlineSetup.prepare(config, callback: callback, trainer: "online_dpo", reward: odpo.reward,
                                            maxNewTokens: odpo.sampling.maxNewTokens, minimumPrompts: promptsPerStep)
        let (run, reward, data) = (setup.run, setup.reward, setup.data)
        defer { reward.close() }
        let reference: ReferenceSource = odpo.dpo.usesReference ? try .frozen(for: run, orElse: " (or use loss \"simpo\")") : .none
        let objective = OnlineDPOObjective(session: setup.session(odpo.sampling, samplesFile: true), reference: reference, config: odpo)
        let total = config.maxSteps ?? odpo.iterations
        callback(.message("\(data.train.count) prompts (\(data.eval.count) held out); \(promptsPerStep) prompts × \(odpo.numGenerations) samples per step, \(total) optimizer steps; loss \(odpo.dpo.loss.rawValue), β \(odpo.dpo.beta); reward: \(reward.sourceNames.joined(separator: ", "))"))
        return try run.train(objective, examples: data.train.count * odpo.numGenerations, totalSteps: total,
                             extraSummary: ["trainer": "online_dpo", "loss": odpo.dpo.loss.rawValue, "train_prompts": data.train.count,
                                            "eval_prompts": data.eval.count])
    }
}
