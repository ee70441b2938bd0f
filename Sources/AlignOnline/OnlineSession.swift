import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// What every online trainer (PPO/GRPO/RLOO, HPA, best-of-N) shares, so that a trainer holds only
/// its own state and maths: the policy, the prompts and the order they are drawn in, sampling,
/// the reward, the ranks a rollout is shared over, samples.jsonl, the held-out reward and the
/// part of a checkpoint all of this needs.
///
/// Random streams: `init` forks the prompt order's generator, then the sampling generator, from
/// `RandomGenerator(seed:)`, as each trainer did before it moved here, so runs are unchanged.
package final class OnlineSession {
    package let policy: any CausalLM
    package let reward: RewardFunction
    package let prompts: [PromptRecord]
    package let promptIDs: [[Int]]
    package let evalPrompts: [PromptRecord]
    package let evalPromptIDs: [[Int]]
    package let tokenizer: Tokenizer
    package let sampling: OnlineSampling
    package let batchSize: Int
    package let gradAccum: Int
    /// Where a few rows of every rollout are appended (samples.jsonl), if anywhere.
    package let samplesURL: URL?
    /// The ranks the rollouts are shared out over (one: a single process).
    package let communicator: Communicator

    private(set) var cursor: EpochCursor
    /// The trainer's own random stream after the prompt order's: samples, then anything the
    /// trainer draws (minibatch orders, a kept set's order).
    package var rng: RandomGenerator
    /// Rollouts (rounds) sampled so far.
    package private(set) var rollouts = 0
    /// The settings that shape the rollouts and steps (`batch_size`, `grad_accum` and what the
    /// trainer adds: samples per prompt, epochs per rollout, …): a checkpoint written with
    /// others cannot be resumed.
    package var shape: [String: Int]

    package var padID: Int { sampling.padID }

    package init(policy: any CausalLM, reward: RewardFunction, prompts: [PromptRecord], promptIDs: [[Int]],
                 evalPrompts: [PromptRecord] = [], evalPromptIDs: [[Int]] = [], tokenizer: Tokenizer, sampling: OnlineSampling,
                 batchSize: Int, gradAccum: Int, seed: UInt64, shuffle: Bool, samplesURL: URL? = nil,
                 communicator: Communicator = SingleProcessCommunicator()) {
        precondition(!prompts.isEmpty && prompts.count == promptIDs.count && evalPrompts.count == evalPromptIDs.count,
                     "OnlineSession: \(prompts.count) prompts with \(promptIDs.count) encodings")
        self.policy = policy
        self.reward = reward
        self.prompts = prompts
        self.promptIDs = promptIDs
        self.evalPrompts = evalPrompts
        self.evalPromptIDs = evalPromptIDs
        self.tokenizer = tokenizer
        self.sampling = sampling
        self.batchSize = batchSize
        self.gradAccum = gradAccum
        self.samplesURL = samplesURL
        self.communicator = communicator
        shape = ["batch_size": batchSize, "grad_accum": gradAccum]
        var root = RandomGenerator(seed: seed)
        cursor = EpochCursor(count: prompts.count, rng: root.fork(), shuffle: shuffle)
        rng = root.fork()
    }

    // MARK: - Sampling and scoring

    /// The next `count` prompts of the epoch order, each `groupSize` times in a row (a prompt's
    /// group of samples): per row, the index of its prompt.
    package func draw(_ count: Int, groupSize: Int) -> [Int] {
        (0..<count).flatMap { _ in Array(repeating: cursor.next(), count: groupSize) }
    }

    /// One sampled and scored response per row.
    package struct ScoredRows {
        /// Per row: the prompt's token ids.
        package var prompts: [[Int]]
        package var sequences: [GeneratedSequence]
        package var samples: [RewardSample]
        package var outcomes: [RewardOutcome]
        /// The slowest rank's generation time.
        package var generationSeconds: Double

        package var count: Int { sequences.count }
        package var responses: [[Int]] { sequences.map(\.tokens) }
        package var scores: [Double] { outcomes.map(\.score) }
        package var generatedTokens: Int { sequences.reduce(0) { $0 + $1.tokens.count } }
    }

    /// Samples one response per row (`promptIndex`, in groups of `groupSize` rows per prompt,
    /// shared out over the ranks by whole groups; this rank's rows generated in batches of `chunk`
    /// rows, all at once when nil) and scores every response with the reward. `what` names the
    /// rollout in errors ("rollout 3", "round 2").
    package func sampleAndScore(_ promptIndex: [Int], groupSize: Int, chunk: Int? = nil, what: String) throws -> ScoredRows {
        let rowPrompts = promptIndex.map { promptIDs[$0] }
        let sampled = try ShardedRollout.sample(policy, prompts: rowPrompts, groupSize: groupSize, config: sampling.generation(greedy: false),
                                                rng: &rng, communicator: communicator, chunk: chunk)
        let samples = promptIndex.indices.map {
            RewardSample(record: prompts[promptIndex[$0]], promptIDs: rowPrompts[$0], generated: sampled.sequences[$0], tokenizer: tokenizer)
        }
        let shard = ShardedRollout.rows(count: samples.count, groupSize: groupSize, communicator: communicator)
        let outcomes = try reward.score(samples, shard: shard, communicator: communicator) { i in
            "the response to the prompt at line \(self.prompts[promptIndex[i]].line) (\(what), row \(i))"
        }
        return ScoredRows(prompts: rowPrompts, sequences: sampled.sequences, samples: samples,
                          outcomes: outcomes, generationSeconds: sampled.seconds)
    }

    /// Counts a finished rollout (after its samples are logged).
    package func finishRollout() { rollouts += 1 }

    /// The metrics every online trainer reports for a rollout under TRL's names: the mean score
    /// and raw score, each source's mean (`rewards/<name>/mean`), the response length, how many
    /// ended with EOS, the episode count and the generation speed.
    package func rolloutMetrics(_ s: ScoredRows) -> [String: Double] {
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        var m: [String: Double] = [:]
        m["response_length"] = mean(s.sequences.map { Double($0.tokens.count) })
        m["val/num_eos_tokens"] = Double(s.sequences.filter { $0.finishReason == .stopToken }.count)
        m["episode"] = Double((rollouts + 1) * s.count)
        for name in reward.sourceNames { m["rewards/\(name)/mean"] = mean(s.outcomes.compactMap { $0.sources[name] }) }
        m["generation_seconds"] = s.generationSeconds
        m["generated_tokens_per_second"] = s.generationSeconds > 0 ? Double(s.generatedTokens) / s.generationSeconds : 0
        return m
    }

    // MARK: - The reference

    /// The reference's scored forward over a prompt + response batch, under no-grad, at
    /// `temperature` (the sampling temperature when nil; nil without a reference).
    package func referenceForward(_ reference: ReferenceSource, _ b: Batch, temperature: Float? = nil) -> ScoredForward? {
        let temperature = temperature ?? Float(sampling.temperature)
        return withNoGrad {
            switch reference {
            case .model(let m):
                return m.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets, temperature: temperature)
            case .policyWithoutLoRA:
                return policy.withLoRADisabled {
                    policy.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets, temperature: temperature)
                }
            case .none:
                return nil
            }
        }
    }

    // MARK: - samples.jsonl

    /// Appends one JSON object per row to samples.jsonl (keys sorted; nothing without a file).
    package func appendSamples(_ rows: [[String: Any]]) throws {
        guard let url = samplesURL, !rows.isEmpty else { return }
        var text = ""
        for row in rows {
            let data = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes])
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
    }

    // MARK: - Evaluation

    /// The held-out reward of greedy responses (`HeldOutReward`); nothing without eval prompts.
    package func evaluate() throws -> [String: Double] {
        try HeldOutReward.evaluate(policy: policy, prompts: evalPrompts, promptIDs: evalPromptIDs, config: sampling.generation(greedy: true),
                                   tokenizer: tokenizer, reward: reward, batchSize: batchSize, communicator: communicator)
    }

    // MARK: - Checkpoints

    /// The session's part of a checkpoint: where the prompt order is, the sampling stream, the
    /// rollouts so far and the reward's running moments.
    package struct State: Codable, Equatable {
        var cursor: EpochCursor
        var rng: RandomGenerator
        var rollouts: Int
        var moments: RunningMoments
        var shape: [String: Int]
    }

    package var state: State { State(cursor: cursor, rng: rng, rollouts: rollouts, moments: reward.moments, shape: shape) }

    /// Restores `s`, refusing a checkpoint written for another number of prompts or with other
    /// settings that shape the run (each difference named).
    package func restore(_ s: State) throws {
        let changed = Set(s.shape.keys).union(shape.keys).sorted().filter { s.shape[$0] != shape[$0] }
        guard changed.isEmpty else {
            let what = changed.map { "\($0) \(s.shape[$0].map(String.init) ?? "unset") → \(shape[$0].map(String.init) ?? "unset")" }
            throw AlignDataError(.invalidArgument, path: "", "cannot resume: the checkpoint was written with other settings that shape the run: \(what.joined(separator: ", ")) (checkpoint → this run); resume with the checkpoint's settings, or start a new output_dir")
        }
        try OnlinePrompts.checkResume(s.cursor, prompts: prompts.count)
        cursor = s.cursor
        rng = s.rng
        rollouts = s.rollouts
        reward.moments = s.moments
    }
}
