import AlignData
import AlignNN
import AlignTensor
import AlignOnline
import AlignTraining
import Foundation

/// `align bon --config run.json`: best-of-N rejection-sampling rounds to `final/` (the policy in
/// the Hugging Face layout). Per round, metrics.jsonl holds `bon/heldout_reward` (the policy's
/// mean reward on held-out prompts before the round), `bon/sample_reward_mean`,
/// `bon/kept_reward_mean`, `bon/kept_examples` and `bon/best_of_n_kl` (log N − (N−1)/N).
public enum BoNRun {
    @discardableResult
    public static func run(config: RunConfig, callback: @escaping TrainingCallback) throws -> [String: Any] {
        let bon = config.trainerConfig(BoNConfig.self)
        try config.checkOutputDirectory()
        let files = try OnlinePrompts.read(config, trainer: "bon", reward: bon.reward)   // file errors before the model is loaded
        let run = try TrainerRun(config: config, callback: callback)
        let data = try OnlinePrompts.prepare(files, config: config, run: run, trainer: "bon", maxNewTokens: bon.maxNewTokens, minimumPrompts: 1)
        let reward = try RewardFunction(bon.reward, policyVocabulary: run.model.config.vocabSize, batchSize: config.batchSize)
        try data.prepareRewardModel(reward, run: run, stopTokens: try OnlinePrompts.stopTokens(run), maxNewTokens: bon.maxNewTokens,
                                    trainer: "bon", files: files)
        defer { reward.close() }
        let objective = BoNObjective(policy: run.model, config: bon, reward: reward, prompts: data.train, promptIDs: data.trainIDs,
                                     evalPrompts: data.eval, evalPromptIDs: data.evalIDs, tokenizer: run.tokenizer,
                                     stopTokens: try OnlinePrompts.stopTokens(run), padID: Batch.padID(for: run.tokenizer),
                                     batchSize: config.batchSize, gradAccum: config.gradAccum, seed: config.seed, shuffle: config.data.shuffle,
                                     communicator: run.communicator)
        let total = config.maxSteps ?? bon.rounds * bon.stepsPerRound
        let perRound = bon.promptsPerRound ?? data.train.count
        callback(.message("\(data.train.count) prompts (\(data.eval.count) held out); \(bon.rounds) rounds of \(perRound) prompts × \(bon.numSamples) samples, best \(bon.keep) kept, \(bon.stepsPerRound) SFT steps each; reward: \(reward.sourceNames.joined(separator: ", "))"))
        return try run.train(objective, examples: perRound * bon.keep, totalSteps: total,
                             extraSummary: ["trainer": "bon", "rounds": bon.rounds, "num_samples": bon.numSamples, "keep": bon.keep,
                                            "train_prompts": data.train.count, "eval_prompts": data.eval.count,
                                            "best_of_n_kl": BoNConfig.bestOfNKL(bon.numSamples)])
    }
}
