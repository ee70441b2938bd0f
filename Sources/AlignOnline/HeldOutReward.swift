import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// The policy's mean reward on held-out prompts, from greedy responses (deterministic, so
/// evaluations at different steps compare): `eval/objective/scores`, the raw sum before the
/// EOS penalty / clipping / normalisation, the response length and each source's mean. The
/// running normalisation of training rewards is left untouched.
package enum HeldOutReward {
    /// On several ranks each greedy-decodes and scores its share of the prompts and every rank
    /// gets the same figures.
    package static func evaluate(policy: any CausalLM, prompts: [PromptRecord], promptIDs: [[Int]], config: GenerationConfig,
                                 tokenizer: Tokenizer, reward: RewardFunction, batchSize: Int,
                                 communicator: Communicator = SingleProcessCommunicator()) throws -> [String: Double] {
        guard !prompts.isEmpty else { return [:] }
        var rng = RandomGenerator(seed: config.seed)   // greedy: nothing is drawn
        let sampled = try ShardedRollout.sample(policy, prompts: promptIDs, groupSize: 1, config: config, rng: &rng,
                                                communicator: communicator, chunk: batchSize)
        let samples = prompts.indices.map {
            RewardSample(record: prompts[$0], promptIDs: promptIDs[$0], generated: sampled.sequences[$0], tokenizer: tokenizer)
        }
        let saved = reward.moments
        defer { reward.moments = saved }
        let shard = ShardedRollout.rows(count: samples.count, groupSize: 1, communicator: communicator)
        let outcomes = try reward.score(samples, shard: shard, communicator: communicator) {
            "the response to the eval prompt at line \(prompts[$0].line)"
        }
        let n = Double(samples.count)
        var m = ["eval/objective/scores": outcomes.reduce(0) { $0 + $1.score } / n,
                 "eval/objective/raw_scores": outcomes.reduce(0) { $0 + $1.raw } / n,
                 "eval/response_length": samples.reduce(0) { $0 + Double($1.responseIDs.count) } / n]
        for name in reward.sourceNames { m["eval/rewards/\(name)/mean"] = outcomes.reduce(0) { $0 + ($1.sources[name] ?? 0) } / n }
        return m
    }
}
