import AlignData
import AlignNN
import AlignTraining
import Foundation

/// The policy's mean reward on held-out prompts, from greedy responses (deterministic, so
/// evaluations at different steps compare): `eval/objective/scores`, the raw sum before the
/// EOS penalty / clipping / normalisation, the response length and each source's mean. The
/// running normalisation of training rewards is left untouched.
package enum HeldOutReward {
    package static func evaluate(policy: any CausalLM, prompts: [PromptRecord], promptIDs: [[Int]], config: GenerationConfig,
                         tokenizer: Tokenizer, reward: RewardFunction, batchSize: Int) throws -> [String: Double] {
        guard !prompts.isEmpty else { return [:] }
        var samples: [RewardSample] = []
        for start in stride(from: 0, to: prompts.count, by: batchSize) {
            let idx = Array(start..<min(start + batchSize, prompts.count))
            let out = try generate(model: policy, prompts: idx.map { promptIDs[$0] }, config: config)
            for (j, i) in idx.enumerated() {
                samples.append(RewardSample(record: prompts[i], promptIDs: promptIDs[i], generated: out.sequences[j], tokenizer: tokenizer))
            }
        }
        let saved = reward.moments
        defer { reward.moments = saved }
        let outcomes = try reward.score(samples) { "the response to the eval prompt at line \(prompts[$0].line)" }
        let n = Double(samples.count)
        var m = ["eval/objective/scores": outcomes.reduce(0) { $0 + $1.score } / n,
                 "eval/objective/raw_scores": outcomes.reduce(0) { $0 + $1.raw } / n,
                 "eval/response_length": samples.reduce(0) { $0 + Double($1.responseIDs.count) } / n]
        for name in reward.sourceNames { m["eval/rewards/\(name)/mean"] = outcomes.reduce(0) { $0 + ($1.sources[name] ?? 0) } / n }
        return m
    }
}
