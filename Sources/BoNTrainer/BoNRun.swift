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
        let setup = try OnlineSetup.prepare(config, callback: callback, trainer: "bon", reward: bon.reward, maxNewTokens: bon.sampling.maxNewTokens,
                                            minimumPrompts: 1)
        let (reward, data) = (setup.reward, setup.data)
        defer { reward.close() }
        let session = setup.session(bon.sampling, samplesFile: false)
        let objective = BoNObjective(session: session, config: bon)
        let total = config.maxSteps ?? bon.rounds * bon.stepsPerRound
        let perRound = bon.promptsPerRound ?? data.train.count
        callback(.message("\(data.train.count) prompts (\(data.eval.count) held out); \(bon.rounds) rounds of \(perRound) prompts × \(bon.numSamples) samples, best \(bon.keep) kept, \(bon.stepsPerRound) SFT steps each; reward: \(reward.sourceNames.joined(separator: ", "))"))
        return try setup.run.train(objective, examples: perRound * bon.keep, totalSteps: total,
                             extraSummary: ["trainer": "bon", "rounds": bon.rounds, "num_samples": bon.numSamples, "keep": bon.keep,
                                            "train_prompts": data.train.count, "eval_prompts": data.eval.count,
                                            "best_of_n_kl": BoNConfig.bestOfNKL(bon.numSamples)])
    }
}
