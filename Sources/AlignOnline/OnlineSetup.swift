import AlignData
import AlignNN
import AlignTraining
import Foundation

/// The start every online run shares, in the order that keeps bad input from costing anything:
/// the prompt files are read and their records checked by the reward's rules before the model
/// is loaded, then the prompts are encoded and checked against the context, the reward is built
/// (a reward model's vocabulary and context checked) and the stop and pad tokens are found.
package struct OnlineSetup {
    package let run: TrainerRun
    package let data: OnlinePrompts
    package let reward: RewardFunction
    package let stopTokens: [Int]
    package let padID: Int

    /// `trainer` is the command and config section (`ppo`, `hpa`, `bon`), named in errors;
    /// `minimumPrompts` what one rollout draws.
    package static func prepare(_ config: RunConfig, callback: @escaping TrainingCallback, trainer: String, reward settings: RewardSettings,
                                maxNewTokens: Int, minimumPrompts: Int) throws -> OnlineSetup {
        try config.checkOutputDirectory()
        let files = try OnlinePrompts.read(config, trainer: trainer, reward: settings)   // file errors before the model is loaded
        for note in files.notes { callback(.message(note)) }
        let run = try TrainerRun(config: config, callback: callback)
        let data = try OnlinePrompts.prepare(files, config: config, run: run, trainer: trainer, maxNewTokens: maxNewTokens,
                                             minimumPrompts: minimumPrompts)
        let reward = try RewardFunction(settings, policyVocabulary: run.model.config.vocabSize, policyTokenizer: run.tokenizer, batchSize: config.batchSize)
        let stops = try OnlinePrompts.stopTokens(run)
        try data.prepareRewardModel(reward, run: run, stopTokens: stops, maxNewTokens: maxNewTokens, trainer: trainer, files: files)
        return OnlineSetup(run: run, data: data, reward: reward, stopTokens: stops, padID: Batch.padID(for: run.tokenizer))
    }

    /// The session over the training prompts, sampling as the trainer's section says (with the
    /// stop and pad tokens found here), samples.jsonl on the writing rank when `samplesFile`.
    package func session(_ settings: SamplingSettings, samplesFile: Bool) -> OnlineSession {
        let config = run.config
        return OnlineSession(policy: run.model, reward: reward, prompts: data.train, promptIDs: data.trainIDs, evalPrompts: data.eval,
                             evalPromptIDs: data.evalIDs, tokenizer: run.tokenizer,
                             sampling: OnlineSampling(settings, stopTokens: stopTokens, padID: padID),
                             batchSize: config.batchSize, gradAccum: config.gradAccum, seed: config.seed, shuffle: config.data.shuffle,
                             samplesURL: samplesFile && run.communicator.isWriter ? config.outputDir.appendingPathComponent("samples.jsonl") : nil,
                             communicator: run.communicator)
    }
}
