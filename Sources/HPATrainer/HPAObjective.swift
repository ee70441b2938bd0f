import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import DPOTrainer
import Dispatch
import Foundation
import AlignOnline

/// HPA in the shared loop (ALGORITHMS.md "HPA", seed 000).
///
/// When the first micro-batch of a step needs a new rollout, `nextBatch` samples
/// `num_candidates` responses to each of the step's `batch_size × grad_accum` prompts, scores
/// them (`reward`), runs the policy and the reference over every candidate (each one's KL to the
/// reference for `objective/kl`, `max_kl` and the window; the reference's embeddings for the
/// diversity bonus), shapes the scores (uncertainty penalty on the score's scale, diversity
/// bonus against the bank), whitens the shaped rewards over all candidates into advantages
/// (so, filtered, the kept ones are positive), filters, and computes logp_old and the
/// reference's log-probs and pooled states for the kept candidates on exactly the micro-batches
/// the loss will see (so the first step's ratio is exactly 1 and, from an unchanged policy, both
/// KL terms exactly 0). The rollout then serves `ppo_epochs` steps; each micro-batch also draws
/// `batch_size` offline pairs from the DPO objective.
public final class HPAObjective: TrainingObjective {
    public typealias MicroBatch = HPAMicroBatch

    let policy: any CausalLM
    let reference: ReferenceSource
    let config: HPAConfig
    let reward: RewardFunction
    /// The offline term: `align dpo`'s objective over the preference pairs (nil without one).
    let offline: DPOObjective?
    let prompts: [PromptRecord]
    let promptIDs: [[Int]]
    let evalPrompts: [PromptRecord]
    let evalPromptIDs: [[Int]]
    let tokenizer: Tokenizer
    let stopTokens: [Int]
    let padID: Int
    let batchSize: Int
    let gradAccum: Int
    let samplesURL: URL?
    /// The ranks a rollout is shared out over (one: a single process).
    let communicator: Communicator

    private var cursor: EpochCursor
    private var rng: RandomGenerator
    private var bank: DiversityBank
    private var rollout: HPARollout?
    private var rollouts = 0
    /// Per rollout: mean reward and KL per token over every candidate (the window score and the
    /// spike check).
    private var history: [HistoryEntry] = []
    /// The rollout being trained on (tests read it).
    var currentRollout: HPARollout? { rollout }
    var diversityBank: DiversityBank { bank }

    struct HistoryEntry: Codable, Equatable {
        var reward: Double
        var kl: Double
    }

    public init(policy: any CausalLM, reference: ReferenceSource, config: HPAConfig, reward: RewardFunction, offline: DPOObjective?,
                prompts: [PromptRecord], promptIDs: [[Int]], evalPrompts: [PromptRecord], evalPromptIDs: [[Int]],
                tokenizer: Tokenizer, stopTokens: [Int], padID: Int, batchSize: Int, gradAccum: Int, seed: UInt64, shuffle: Bool,
                samplesURL: URL?, communicator: Communicator = SingleProcessCommunicator()) {
        precondition(!prompts.isEmpty && prompts.count == promptIDs.count, "HPAObjective: no prompts")
        if case .none = reference { preconditionFailure("HPAObjective: the KL terms need a reference") }
        self.policy = policy
        self.reference = reference
        self.config = config
        self.reward = reward
        self.offline = offline
        self.prompts = prompts
        self.promptIDs = promptIDs
        self.evalPrompts = evalPrompts
        self.evalPromptIDs = evalPromptIDs
        self.tokenizer = tokenizer
        self.stopTokens = stopTokens
        self.padID = padID
        self.batchSize = batchSize
        self.gradAccum = gradAccum
        self.samplesURL = samplesURL
        self.communicator = communicator
        var root = RandomGenerator(seed: seed)
        cursor = EpochCursor(count: prompts.count, rng: root.fork(), shuffle: shuffle)
        rng = root.fork()
        bank = DiversityBank(capacity: config.diversityBank)
    }

    var microBatchesPerRollout: Int { config.ppoEpochs * gradAccum }

    public func nextBatch(progress: Double) throws -> HPAMicroBatch {
        if rollout == nil || rollout!.cursor >= microBatchesPerRollout { rollout = try makeRollout() }
        let r = rollout!
        let k = r.cursor
        rollout!.cursor += 1
        let groups = r.groups[k / gradAccum]
        let online = HPAMicroBatch.online(r, rows: groups[k % gradAccum], padID: padID)
        let pairs = try offline.map { try $0.nextBatch(progress: progress) }
        let scale = offline != nil ? gradAccum : groups.filter { !$0.isEmpty }.count
        return HPAMicroBatch(online: online, pairs: pairs, scale: scale, stepTokens: r.keptTokens, stepRows: r.prompts.count)
    }

    public func weight(of b: HPAMicroBatch) -> Double { b.isEmpty ? 0 : 1 }
    public func tokens(in b: HPAMicroBatch) -> Int {
        (b.online?.batch.rowLengths.reduce(0, +) ?? 0) + (b.pairs?.rows.rowLengths.reduce(0, +) ?? 0)
    }
    public func stepMetrics() -> [String: Double] { rollout?.metrics ?? [:] }

    public func anomaly(in metrics: [String: Double]) -> String? {
        if let limit = config.maxKL, let k = metrics["objective/kl_per_token"], k > limit {
            return String(format: "KL spike (objective/kl_per_token %.4g > hpa.max_kl %.4g)", k, limit)
        }
        if let limit = config.maxRewardZScore, let z = metrics["reward_zscore"], abs(z) > limit {
            return String(format: "reward spike (reward_mean %.4g is %.3g standard deviations from the last rollouts' > hpa.max_reward_zscore %.4g)",
                          metrics["reward_mean"] ?? .nan, z, limit)
        }
        return nil
    }

    // MARK: - Forward passes

    var temperature: Float { Float(config.temperature) }

    /// The reference's log-probs and final hidden states at the scored positions, under no-grad.
    func referenceForward(_ b: Batch) -> ScoredForward {
        withNoGrad {
            switch reference {
            case .model(let m):
                return m.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets, temperature: temperature)
            case .policyWithoutLoRA, .none:
                return policy.withLoRADisabled {
                    policy.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets, temperature: temperature)
                }
            }
        }
    }

    // MARK: - Rollouts

    func generationConfig(greedy: Bool) -> GenerationConfig {
        OnlineSampling(maxNewTokens: config.maxNewTokens, temperature: config.temperature, topK: config.topK, topP: config.topP,
                       stopTokens: stopTokens, padID: padID, samplingWeights: config.samplingWeights).generation(greedy: greedy)
    }

    func makeRollout() throws -> HPARollout {
        let started = DispatchTime.now().uptimeNanoseconds
        let N = config.numCandidates
        var promptIndex: [Int] = []
        for _ in 0..<batchSize * gradAccum {
            let p = cursor.next()
            promptIndex += Array(repeating: p, count: N)
        }
        let rowPrompts = promptIndex.map { promptIDs[$0] }
        // every rank samples and scores its share of the prompts (whole groups of candidates);
        // the rollout is gathered to every rank (ShardedRollout)
        let sampled = try ShardedRollout.sample(policy, prompts: rowPrompts, groupSize: N, config: generationConfig(greedy: false),
                                                rng: &rng, communicator: communicator)
        let sequences = sampled.sequences
        let responses = sequences.map(\.tokens)
        let R = rowPrompts.count
        let rank = communicator.rank

        // rewards, their ensemble spread and the diversity bonus
        let samples = (0..<R).map {
            RewardSample(record: prompts[promptIndex[$0]], promptIDs: rowPrompts[$0], generated: sequences[$0], tokenizer: tokenizer)
        }
        let shard = ShardedRollout.rows(count: R, groupSize: N, communicator: communicator)
        let outcomes = try reward.score(samples, shard: shard, communicator: communicator) { i in
            "the response to the prompt at line \(self.prompts[promptIndex[i]].line) (rollout \(self.rollouts), candidate \(i))"
        }
        let scores = outcomes.map(\.score)
        // σ is on the reward model's raw scale; the score may be normalised: σ goes with it
        let uncertainty = outcomes.map { ($0.modelStd ?? 0) * config.reward.modelWeight * $0.scale }
        // the policy and the reference over every candidate, in batches of batch_size rows (batch
        // c on rank c mod size): their log-probs give each candidate's KL (exactly 0 while the
        // policy is the reference, whatever the sampling weights), the reference's pooled states
        // the diversity bonus
        var embeddings = [[Float]](repeating: [], count: R), policyAll = embeddings, referenceAll = embeddings
        let computedAll = try ShardedRollout.gatherRows(communicator) {
            var out: [ShardedRollout.RowResult] = []
            for (c, start) in stride(from: 0, to: R, by: batchSize).enumerated() where c % communicator.size == rank {
                let rows = Array(start..<min(start + batchSize, R))
                let b = Batch.promptResponse(rows.map { (rowPrompts[$0], responses[$0]) }, padID: padID)
                let f = referenceForward(b)
                let lengths = rows.map { responses[$0].count }
                let pooled = [[Float]].unflatten(ResponseEmbedding.meanPool(f.hidden, lengths: lengths).scalars,
                                                 lengths: Array(repeating: f.hidden.shape[1], count: rows.count))
                let logProbs = [[Float]].unflatten(f.logProbs.scalars, lengths: lengths)
                let own = withNoGrad { policy.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets, temperature: temperature) }
                let ownRows = [[Float]].unflatten(own.logProbs.scalars, lengths: lengths)
                for (j, row) in rows.enumerated() { out.append(.init(row: row, arrays: [pooled[j], logProbs[j], ownRows[j]])) }
            }
            return out
        }
        for c in computedAll {
            embeddings[c.row] = c.arrays[0]
            referenceAll[c.row] = c.arrays[1]
            policyAll[c.row] = c.arrays[2]
        }
        // per candidate Σ_t (logπ − logπ_ref) at the sampling temperature (k1: unbiased for the
        // sampled tokens)
        let klSums = (0..<R).map { i in zip(policyAll[i], referenceAll[i]).reduce(0.0) { $0 + Double($1.0 - $1.1) } }
        let totalTokens = responses.reduce(0) { $0 + $1.count }
        let klPerToken = totalTokens > 0 ? klSums.reduce(0, +) / Double(totalTokens) : 0
        var diversity = [Double](repeating: 0, count: R)
        if config.diversityCoef > 0 {
            diversity = embeddings.map { bank.diversity($0) }
            bank.append(embeddings)
        }
        let shaped = (0..<R).map {
            HPALosses.shapedReward(score: scores[$0], uncertainty: uncertainty[$0], diversity: diversity[$0],
                                   uncertaintyCoef: config.uncertaintyCoef, diversityCoef: config.diversityCoef)
        }
        let advantages = Advantages.whiten(shaped).map(Float.init)
        let kept = HPALosses.filter(shaped, groupSize: N, k: config.filterStd)

        // micro-batches of every epoch; logp_old and the reference on epoch 0's
        let groups = (0..<config.ppoEpochs).map { _ in HPARollout.groups(permutation: rng.permutation(kept.count), microBatches: gradAccum) }
        var r = HPARollout(prompts: kept.map { rowPrompts[$0] }, responses: kept.map { responses[$0] }, advantages: kept.map { advantages[$0] },
                           oldLogProbs: Array(repeating: [], count: kept.count), referenceLogProbs: Array(repeating: [], count: kept.count),
                           referencePooled: Array(repeating: [], count: kept.count), groups: groups, metrics: [:])
        let computed = try ShardedRollout.gatherRows(communicator) {
            var out: [ShardedRollout.RowResult] = []
            for (m, rows) in groups[0].enumerated()
            where !rows.isEmpty && ShardedRollout.owner(ofMicroBatch: m, gradAccum: gradAccum, communicator: communicator) == rank {
                let b = Batch.promptResponse(rows.map { (r.prompts[$0], r.responses[$0]) }, padID: padID)
                let lengths = rows.map { r.responses[$0].count }
                let old = withNoGrad { policy.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets, temperature: temperature).logProbs.scalars }
                let ref = referenceForward(b)
                let c = ref.hidden.shape[1]
                let oldRows = [[Float]].unflatten(old, lengths: lengths), refRows = [[Float]].unflatten(ref.logProbs.scalars, lengths: lengths)
                let pooled = [[Float]].unflatten(ResponseEmbedding.meanPool(ref.hidden, lengths: lengths).scalars, lengths: Array(repeating: c, count: rows.count))
                for (j, row) in rows.enumerated() { out.append(.init(row: row, arrays: [oldRows[j], refRows[j], pooled[j]])) }
            }
            return out
        }
        for c in computed {
            r.oldLogProbs[c.row] = c.arrays[0]
            r.referenceLogProbs[c.row] = c.arrays[1]
            r.referencePooled[c.row] = c.arrays[2]
        }

        // statistics
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        var m: [String: Double] = [:]
        m["reward_mean"] = mean(scores)
        m["reward_std"] = HPALosses.meanAndStd(scores).std
        m["reward_raw_mean"] = mean(outcomes.map(\.raw))
        m["uncertainty_mean"] = mean(uncertainty)
        if config.diversityCoef > 0 { m["diversity_mean"] = mean(diversity) }
        m["shaped_reward_mean"] = mean(shaped)
        m["kept_reward_mean"] = mean(kept.map { scores[$0] })
        m["kept_fraction"] = Double(kept.count) / Double(R)
        // over every candidate, not only the kept ones (those are the highest rewards)
        m["objective/kl"] = mean(klSums)
        m["objective/kl_per_token"] = klPerToken
        m["response_length"] = mean(responses.map { Double($0.count) })
        m["val/num_eos_tokens"] = Double(sequences.filter { $0.finishReason == .stopToken }.count)
        m["episode"] = Double((rollouts + 1) * R)
        for name in reward.sourceNames { m["rewards/\(name)/mean"] = mean(outcomes.compactMap { $0.sources[name] }) }
        let recent = history.suffix(config.window)
        if let z = HPALosses.zScore(m["reward_mean"]!, history: recent.map(\.reward)) { m["reward_zscore"] = z }
        history.append(HistoryEntry(reward: m["reward_mean"]!, kl: klPerToken))
        m["reward_window_score"] = windowScore()
        m["rollout_seconds"] = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        m["generation_seconds"] = sampled.seconds
        r.metrics = m

        try logSamples(samples, scores: scores, shaped: shaped, uncertainty: uncertainty, diversity: diversity, kept: Set(kept))
        rollouts += 1
        return r
    }

    /// Seed 000's early-stop metric over the last `window` rollouts.
    func windowScore() -> Double? {
        let w = history.suffix(config.window)
        guard !w.isEmpty else { return nil }
        return HPALosses.windowScore(rewards: w.map(\.reward), kls: w.map(\.kl), klCoef: config.windowKLCoef, stdCoef: config.windowStdCoef)
    }

    func logSamples(_ samples: [RewardSample], scores: [Double], shaped: [Double], uncertainty: [Double], diversity: [Double], kept: Set<Int>) throws {
        guard let url = samplesURL, config.samplesPerRollout > 0 else { return }
        var text = ""
        for i in 0..<min(config.samplesPerRollout, samples.count) {
            let row: [String: Any] = ["rollout": rollouts, "prompt": samples[i].record.userText, "response": samples[i].response,
                                      "score": scores[i], "shaped": shaped[i], "uncertainty": uncertainty[i], "diversity": diversity[i],
                                      "kept": kept.contains(i), "ended_with_eos": samples[i].endedWithEOS]
            let data = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes])
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        try appendText(text, to: url)
    }

    // MARK: - Loss

    public func loss(_ b: HPAMicroBatch, context: StepContext) -> (loss: Tensor, metrics: [String: Double]) {
        let p = context.progress
        let lambdaToken = config.schedule.token(p), lambdaSemantic = config.schedule.semantic(p)
        var m: [String: Double] = ["lambda_token": lambdaToken, "lambda_semantic": lambdaSemantic]
        let scale = Float(b.scale)
        var ppoTerm = Tensor(scalar: 0), tokenKL = Tensor(scalar: 0), semanticKL = Tensor(scalar: 0)
        if let o = b.online {
            let f = policy.scoredForward(ids: o.batch.ids, batch: o.batch.batch, length: o.batch.length, targets: o.batch.targets,
                                         temperature: temperature)
            let n = Float(o.oldLogProbs.count)
            let share = n / Float(max(b.stepTokens, 1)) * scale   // token mean over the step's kept tokens
            let pol = PPOLosses.policy(newLogProbs: f.logProbs, oldLogProbs: o.oldLogProbs, advantages: o.advantages, clip: Float(config.clipRange))
            ppoTerm = pol.loss * share
            tokenKL = HPALosses.tokenKLSum(logProbs: f.logProbs, reference: o.referenceLogProbs, estimator: config.tokenKL)
                * (scale / Float(max(b.stepTokens, 1)))
            semanticKL = HPALosses.semanticKLSum(pooled: ResponseEmbedding.meanPool(f.hidden, lengths: o.lengths), reference: o.referencePooled)
                * (scale / Float(max(b.stepRows, 1)))
            let s = Double(share)
            m["policy/approxkl_avg"] = pol.approxKL * s
            m["policy/clipfrac_avg"] = pol.clipFraction * s
            m["val/ratio"] = pol.ratioMean * s
        }
        var dpoTerm: Tensor?
        if let pairs = b.pairs, let offline {
            let (l, dm) = offline.loss(pairs, context: context)
            // every micro-batch carries pairs, so scale = grad_accum and each one's pair mean counts 1/grad_accum
            dpoTerm = l
            for (k, v) in dm { m[k] = v }
        }
        let loss = HPALosses.mixed(ppo: ppoTerm, dpo: dpoTerm, tokenKL: tokenKL, semanticKL: semanticKL,
                                   lambdaToken: Float(lambdaToken), lambdaSemantic: Float(lambdaSemantic),
                                   ppoWeight: Float(config.ppoWeight), dpoWeight: Float(config.dpoWeight), klWeight: Float(config.klWeight))
        let tk = Double(tokenKL.item), sk = Double(semanticKL.item)
        m["ppo_loss"] = Double(ppoTerm.item)
        m["dpo_loss"] = dpoTerm.map { Double($0.item) } ?? 0
        m["token_kl"] = tk
        m["semantic_kl"] = sk
        m["kl_loss"] = lambdaToken * tk + lambdaSemantic * sk
        return (loss, m)
    }

    // MARK: - Evaluation

    /// `eval/objective/scores` (mean reward of greedy responses to the held-out prompts, the
    /// validation reward), the offline pairs' `eval/dpo_*`, and `eval/reward_window_score`.
    public func evaluate() throws -> [String: Double] {
        var m = try HeldOutReward.evaluate(policy: policy, prompts: evalPrompts, promptIDs: evalPromptIDs, config: generationConfig(greedy: true),
                                           tokenizer: tokenizer, reward: reward, batchSize: batchSize, communicator: communicator)
        if let offline {
            for (k, v) in try offline.evaluate() { m["eval/dpo_" + k.dropFirst("eval/".count)] = v }
        }
        if let w = windowScore() { m["eval/reward_window_score"] = w }
        return m
    }

    // MARK: - State

    struct SavedState: Codable {
        var cursor: EpochCursor
        var rng: RandomGenerator
        var bank: DiversityBank
        var rollout: HPARollout?
        var rollouts: Int
        var history: [HistoryEntry]
        var moments: RunningMoments
        var offline: Data?
    }

    public func saveState() throws -> Data {
        try JSONEncoder().encode(SavedState(cursor: cursor, rng: rng, bank: bank, rollout: rollout, rollouts: rollouts, history: history,
                                            moments: reward.moments, offline: try offline?.saveState()))
    }

    public func restoreState(_ data: Data) throws {
        let s = try JSONDecoder().decode(SavedState.self, from: data)
        try OnlinePrompts.checkResume(s.cursor, prompts: prompts.count)
        guard s.bank.capacity == config.diversityBank else {
            throw AlignDataError(.invalidArgument, path: "", "cannot resume: the checkpoint's diversity bank holds \(s.bank.capacity) embeddings, hpa.diversity_bank is \(config.diversityBank)")
        }
        guard (s.offline != nil) == (offline != nil) else {
            throw AlignDataError(.invalidArgument, path: "", "cannot resume: the checkpoint was written \(s.offline == nil ? "without" : "with") a DPO term, this run is \(offline == nil ? "without" : "with") one")
        }
        cursor = s.cursor
        rng = s.rng
        bank = s.bank
        rollout = s.rollout
        rollouts = s.rollouts
        history = s.history
        reward.moments = s.moments
        if let d = s.offline { try offline?.restoreState(d) }
    }

    public var plottedMetrics: [String] { ["reward_mean", "objective/kl", "kept_fraction", "dpo_loss"] }
}

/// Appends `text` to the file at `url`, creating it.
func appendText(_ text: String, to url: URL) throws {
    if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
    let h = try FileHandle(forWritingTo: url)
    defer { try? h.close() }
    try h.seekToEnd()
    try h.write(contentsOf: Data(text.utf8))
}
