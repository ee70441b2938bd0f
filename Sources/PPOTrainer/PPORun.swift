import AlignData
import AlignNN
import AlignTensor
import AlignOnline
import AlignTraining
import Foundation

/// `align ppo --config run.json`: everything from a validated run config to `final/`.
///
/// Prompts and the reward are checked before anything is written. `final/` is the policy in the
/// Hugging Face layout (LoRA merged unless `lora.merge` is false); the shared value head is saved
/// beside it as `value_head.safetensors` (`score.weight`, (1, hidden)), a separate critic as the
/// reward-model directory `critic/`; `samples.jsonl` holds a few rows of every rollout.
public enum PPORun {
    @discardableResult
    public static func run(config: RunConfig, callback: @escaping TrainingCallback) throws -> [String: Any] {
        let ppo = config.trainerConfig(PPOConfig.self)
        let promptsPerRollout = config.batchSize * config.gradAccum * ppo.numMinibatches / ppo.numGenerations
        let setup = try OnlineSetup.prepare(config, callback: callback, trainer: "ppo", reward: ppo.reward, maxNewTokens: ppo.sampling.maxNewTokens,
                                            minimumPrompts: promptsPerRollout)
        let (run, reward, policy) = (setup.run, setup.reward, setup.run.model)
        let (train, eval) = (setup.data.train, setup.data.eval)
        defer { reward.close() }

        // the reference: the policy without its adapters (LoRA), model.reference, or a frozen copy;
        // none with kl_coef 0 (a coefficient of 0 stays 0, adaptive or not: no reference pass)
        let reference: ReferenceSource
        if ppo.klCoef == 0 {
            reference = .none
        } else {
            reference = try .frozen(for: run, orElse: " (or set kl_coef 0)")
        }

        // values: a head on the policy's backbone, or a separate critic from a reward model
        var values: ValueSource?
        var valueParameters: [(String, Tensor)] = []
        var criticFamily = ModelFamily.llama
        if ppo.usesValues {
            if let path = ppo.valueModel {
                let critic = try RewardModelStore.load(path)
                guard critic.model.numHeads == 1 else {
                    throw ModelConfigError("ppo.value_model \(path) has \(critic.model.numHeads) heads; a critic needs one")
                }
                guard critic.model.backbone.config.vocabSize == policy.config.vocabSize else {
                    throw ModelConfigError("ppo.value_model \(path) has a vocabulary of \(critic.model.backbone.config.vocabSize) tokens, the policy \(policy.config.vocabSize); a critic reads the policy's token ids, so they must share a tokenizer")
                }
                if let theirs = critic.tokenizer {
                    try run.tokenizer.requireSameVocabulary(theirs, name: "ppo.value_model", path: path, role: "a critic")
                }
                values = .critic(critic.model)
                criticFamily = critic.backbone.family
                valueParameters = critic.model.namedParameters().map { ("critic.\($0.0)", $0.1) }
            } else {
                var rng = RandomGenerator(seed: config.seed ^ 0x7A1E_4EAD)
                // zeros: the first advantages are the (whitened) λ-returns, not the noise of a random
                // critic, whose bootstrapped values bias GAE (λ < 1) until the head has learned
                let head = RewardModel.makeHead(hiddenSize: policy.config.hiddenSize, heads: 1, initialization: .zeros, rng: &rng)
                values = .head(head)
                valueParameters = head.namedParameters().map { ("value_head.\($0.0)", $0.1) }
            }
        }
        let session = setup.session(ppo.sampling, samplesFile: true)
        let objective = PPOObjective(session: session, reference: reference, values: values, config: ppo)
        let total = config.maxSteps ?? ppo.iterations * ppo.ppoEpochs * ppo.numMinibatches
        callback(.message("\(train.count) prompts (\(eval.count) held out); \(promptsPerRollout) prompts × \(ppo.numGenerations) per rollout, \(ppo.ppoEpochs) epochs × \(ppo.numMinibatches) minibatches per rollout, \(total) optimizer steps; advantage \(ppo.advantage.rawValue); reward: \(reward.sourceNames.joined(separator: ", "))"))
        return try run.train(objective, examples: train.count * ppo.numGenerations * ppo.ppoEpochs, totalSteps: total,
                             extraSummary: ["trainer": "ppo", "advantage": ppo.advantage.rawValue, "train_prompts": train.count,
                                            "eval_prompts": eval.count, "final_kl_coef": objective.kl.value],
                             additionalParameters: valueParameters) { final in
            try run.saveFinal()
            switch values {
            case .head(let head)?:
                let url = config.outputDir.appendingPathComponent("value_head.safetensors")
                try StateDictFiles.save(["score.weight": head.score.weight.copy()], to: config.outputDir, fileName: "value_head.safetensors")
                return ["value_head": url.path]
            case .critic(let critic)?:
                let dir = config.outputDir.appendingPathComponent("critic")
                try RewardModelStore.save(critic, family: criticFamily, tokenizer: run.tokenizer, to: dir)
                return ["critic": dir.path]
            case nil:
                return [:]
            }
        }
    }
}
