import AlignData
import AlignNN
import AlignTensor
import AlignOnline
import AlignTraining
import SFTTrainer
import Dispatch
import Foundation

/// Best-of-N in the shared loop: every `steps_per_round` optimizer steps a new round samples
/// N responses per prompt, keeps the best `keep` by reward and adds them to the SFT set; the
/// micro-batches in between are SFT batches (token-mean NLL of the kept responses) drawn from
/// every sample kept so far, so rounds accumulate (not only the last round's samples).
public final class BoNObjective: TrainingObjective {
    public typealias MicroBatch = Batch

    let policy: any CausalLM
    let config: BoNConfig
    let reward: RewardFunction
    let prompts: [PromptRecord]
    let promptIDs: [[Int]]
    let evalPrompts: [PromptRecord]
    let evalPromptIDs: [[Int]]
    let tokenizer: Tokenizer
    let stopTokens: [Int]
    let padID: Int
    let batchSize: Int
    let gradAccum: Int
    /// The ranks a round's samples are shared out over (one: a single process).
    let communicator: Communicator

    struct Kept: Codable, Equatable {
        var prompt: [Int]
        var response: [Int]
    }

    private var promptCursor: EpochCursor
    private var rng: RandomGenerator
    private var kept: [Kept] = []
    private var keptCursor: EpochCursor?
    private var round = 0
    private var drawnInRound = 0
    private var roundMetrics: [String: Double] = [:]

    public init(policy: any CausalLM, config: BoNConfig, reward: RewardFunction, prompts: [PromptRecord], promptIDs: [[Int]],
                evalPrompts: [PromptRecord], evalPromptIDs: [[Int]], tokenizer: Tokenizer, stopTokens: [Int], padID: Int,
                batchSize: Int, gradAccum: Int, seed: UInt64, shuffle: Bool, communicator: Communicator = SingleProcessCommunicator()) {
        self.policy = policy
        self.config = config
        self.reward = reward
        self.prompts = prompts
        self.promptIDs = promptIDs
        self.evalPrompts = evalPrompts
        self.evalPromptIDs = evalPromptIDs
        self.tokenizer = tokenizer
        self.stopTokens = stopTokens
        self.padID = padID
        self.batchSize = batchSize
        self.gradAccum = gradAccum
        self.communicator = communicator
        var root = RandomGenerator(seed: seed)
        promptCursor = EpochCursor(count: prompts.count, rng: root.fork(), shuffle: shuffle)
        rng = root.fork()
    }

    func generationConfig(greedy: Bool) -> GenerationConfig {
        OnlineSampling(maxNewTokens: config.maxNewTokens, temperature: config.temperature, topK: config.topK, topP: config.topP,
                       stopTokens: stopTokens, padID: padID, samplingWeights: config.samplingWeights).generation(greedy: greedy)
    }

    public func nextBatch(progress: Double) throws -> Batch {
        if round == 0 || drawnInRound >= config.stepsPerRound * gradAccum { try sampleRound() }
        drawnInRound += 1
        let rows = (0..<batchSize).map { _ in kept[keptCursor!.next()] }
        return Batch.promptResponse(rows.map { ($0.prompt, $0.response) }, padID: padID)
    }

    /// One round: the held-out reward of the policy as it stands, N samples for the round's
    /// prompts, the best `keep` of each prompt added to the kept set.
    func sampleRound() throws {
        let started = DispatchTime.now().uptimeNanoseconds
        var m: [String: Double] = [:]
        if !evalPrompts.isEmpty {
            let e = try HeldOutReward.evaluate(policy: policy, prompts: evalPrompts, promptIDs: evalPromptIDs, config: generationConfig(greedy: true),
                                               tokenizer: tokenizer, reward: reward, batchSize: batchSize, communicator: communicator)
            m["bon/heldout_reward"] = e["eval/objective/scores"]
        }
        let P = config.promptsPerRound ?? prompts.count
        let chosen = (0..<P).map { _ in promptCursor.next() }
        let N = config.numSamples
        let rowsPrompt = chosen.flatMap { Array(repeating: $0, count: N) }
        // each rank samples (in batches of max(batch_size, 8) rows) and scores its share of the
        // prompts; every rank keeps the same samples
        let sampled = try ShardedRollout.sample(policy, prompts: rowsPrompt.map { promptIDs[$0] }, groupSize: N,
                                                config: generationConfig(greedy: false), rng: &rng, communicator: communicator,
                                                chunk: max(batchSize, 8))
        let samples = rowsPrompt.indices.map {
            RewardSample(record: prompts[rowsPrompt[$0]], promptIDs: promptIDs[rowsPrompt[$0]], generated: sampled.sequences[$0], tokenizer: tokenizer)
        }
        let shard = ShardedRollout.rows(count: samples.count, groupSize: N, communicator: communicator)
        let outcomes = try reward.score(samples, shard: shard, communicator: communicator) { i in
            "the response to the prompt at line \(self.prompts[rowsPrompt[i]].line) (round \(self.round + 1))"
        }
        var keptScores: [Double] = []
        for g in 0..<P {
            let range = (g * N)..<((g + 1) * N)
            // the best `keep` of the group; ties keep the earlier sample
            let best = range.sorted { outcomes[$0].score > outcomes[$1].score || (outcomes[$0].score == outcomes[$1].score && $0 < $1) }.prefix(config.keep)
            for i in best where !samples[i].responseIDs.isEmpty {
                kept.append(Kept(prompt: samples[i].promptIDs, response: samples[i].responseIDs))
                keptScores.append(outcomes[i].score)
            }
        }
        guard !kept.isEmpty else { throw RewardError("best-of-N round \(round + 1): every sampled response was empty; nothing to fine-tune on") }
        round += 1
        drawnInRound = 0
        keptCursor = EpochCursor(count: kept.count, rng: rng.fork(), shuffle: true)
        m["bon/round"] = Double(round)
        m["bon/sample_reward_mean"] = outcomes.reduce(0) { $0 + $1.score } / Double(outcomes.count)
        m["bon/kept_reward_mean"] = keptScores.isEmpty ? 0 : keptScores.reduce(0, +) / Double(keptScores.count)
        m["bon/kept_examples"] = Double(kept.count)
        m["bon/best_of_n_kl"] = BoNConfig.bestOfNKL(N)
        m["bon/round_seconds"] = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        for name in reward.sourceNames { m["rewards/\(name)/mean"] = outcomes.reduce(0) { $0 + ($1.sources[name] ?? 0) } / Double(outcomes.count) }
        roundMetrics = m
    }

    public func weight(of b: Batch) -> Double { Double(b.lossTokens) }
    public func tokens(in b: Batch) -> Int { b.rowLengths.reduce(0, +) }
    public func stepMetrics() -> [String: Double] { roundMetrics }

    /// Token-mean NLL of the kept responses.
    public func loss(_ b: Batch, context: StepContext) -> (loss: Tensor, metrics: [String: Double]) {
        let lp = policy.scoredLogProbs(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets)
        let nll = SFTLosses.nll(scoredLogProbs: lp)
        return (nll, ["nll": Double(nll.item)])
    }

    public func evaluate() throws -> [String: Double] {
        try HeldOutReward.evaluate(policy: policy, prompts: evalPrompts, promptIDs: evalPromptIDs, config: generationConfig(greedy: true),
                                   tokenizer: tokenizer, reward: reward, batchSize: batchSize, communicator: communicator)
    }

    struct SavedState: Codable {
        var promptCursor: EpochCursor
        var rng: RandomGenerator
        var kept: [Kept]
        var keptCursor: EpochCursor?
        var round: Int
        var drawnInRound: Int
        var roundMetrics: [String: Double]
        var moments: RunningMoments
    }

    public func saveState() throws -> Data {
        try JSONEncoder().encode(SavedState(promptCursor: promptCursor, rng: rng, kept: kept, keptCursor: keptCursor, round: round,
                                            drawnInRound: drawnInRound, roundMetrics: roundMetrics, moments: reward.moments))
    }

    public func restoreState(_ data: Data) throws {
        let s = try JSONDecoder().decode(SavedState.self, from: data)
        try OnlinePrompts.checkResume(s.promptCursor, prompts: prompts.count)
        promptCursor = s.promptCursor
        rng = s.rng
        kept = s.kept
        keptCursor = s.keptCursor
        round = s.round
        drawnInRound = s.drawnInRound
        roundMetrics = s.roundMetrics
        reward.moments = s.moments
    }

    public var plottedMetrics: [String] { ["bon/kept_reward_mean", "bon/sample_reward_mean", "bon/heldout_reward"] }
}
