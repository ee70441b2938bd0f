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
public final class HPAObjective: TrainingObjective, OnlineObjective {
    public typealias MicroBatch = HPAMicroBatch

    /// Prompts, sampling, the reward, the ranks, samples.jsonl and their checkpoint state.
    package let session: OnlineSession
    let reference: ReferenceSource
    let config: HPAConfig
    /// The offline term: `align dpo`'s objective over the preference pairs (nil without one).
    let offline: DPOObjective?

    private var bank: DiversityBank
    private var rollout: HPARollout?
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

    package init(session: OnlineSession, reference: ReferenceSource, config: HPAConfig, offline: DPOObjective?) {
        if case .none = reference { preconditionFailure("HPAObjective: the KL terms need a reference") }
        self.session = session
        session.shape.merge(["hpa.num_candidates": config.numCandidates, "hpa.ppo_epochs": config.ppoEpochs]) { $1 }
        self.reference = reference
        self.config = config
        self.offline = offline
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

    /// Recovery: the rollout this step would train on (sampled first when the step would sample
    /// it) is dropped, so the retried step trains on a new rollout, not the one that failed.
    public func skipStep(microBatches: Int, progress: Double) throws {
        if rollout == nil || rollout!.cursor >= microBatchesPerRollout { rollout = try makeRollout() }
        rollout = nil
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

    var temperature: Float { Float(config.sampling.temperature) }

    /// The reference's log-probs and final hidden states at the scored positions, under no-grad.
    func referenceForward(_ b: Batch) -> ScoredForward { session.referenceForward(reference, b)! }

    /// The policy's log-probs at the scored positions, under no-grad.
    func policyLogProbs(_ b: Batch) -> [Float] {
        withNoGrad { policy.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets, temperature: temperature).logProbs.scalars }
    }

    // MARK: - Rollouts

    func makeRollout() throws -> HPARollout {
        let started = DispatchTime.now().uptimeNanoseconds
        let N = config.numCandidates
        // every rank samples and scores its share of the prompts (whole groups of candidates)
        let s = try session.sampleAndScore(session.draw(batchSize * gradAccum, groupSize: N), groupSize: N, what: "rollout \(session.rollouts)")
        let (scores, R) = (s.scores, s.count)
        // σ is on the reward model's raw scale; the score may be normalised: σ goes with it
        let uncertainty = s.outcomes.map { ($0.modelStd ?? 0) * config.reward.modelWeight * $0.scale }
        let all = try candidatePass(prompts: s.prompts, responses: s.responses)
        // per candidate Σ_t (logπ − logπ_ref) at the sampling temperature (k1: unbiased for the
        // sampled tokens); exactly 0 while the policy is the reference, whatever the sampling weights
        let klSums = (0..<R).map { i in zip(all[array: "policy"][i], all[array: "reference"][i]).reduce(0.0) { $0 + Double($1.0 - $1.1) } }
        let klPerToken = s.generatedTokens > 0 ? klSums.reduce(0, +) / Double(s.generatedTokens) : 0
        var diversity = [Double](repeating: 0, count: R)
        if config.diversityCoef > 0 {
            let embeddings = all[array: "embedding"]
            diversity = embeddings.map { bank.diversity($0) }
            bank.append(embeddings)
        }
        let shaped = (0..<R).map {
            HPALosses.shapedReward(score: scores[$0], uncertainty: uncertainty[$0], diversity: diversity[$0],
                                   uncertaintyCoef: config.uncertaintyCoef, diversityCoef: config.diversityCoef)
        }
        // whitened over all candidates, then filtered: with filter_std ≥ 0 the kept ones are positive
        let advantages = Advantages.whiten(shaped).map(Float.init)
        let kept = HPALosses.filter(shaped, groupSize: N, k: config.filterStd)

        // micro-batches of every epoch; logp_old and the reference on epoch 0's
        let groups = (0..<config.ppoEpochs).map { _ in HPARollout.groups(permutation: session.rng.permutation(kept.count), microBatches: gradAccum) }
        var r = HPARollout(prompts: kept.map { s.prompts[$0] }, responses: kept.map { s.sequences[$0].tokens }, advantages: kept.map { advantages[$0] },
                           oldLogProbs: [], referenceLogProbs: [], referencePooled: [], groups: groups, metrics: [:])
        let pass = try keptPass(r, microBatches: groups[0])
        (r.oldLogProbs, r.referenceLogProbs, r.referencePooled) = (pass[array: "old"], pass[array: "reference"], pass[array: "embedding"])

        // statistics
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        var m = session.rolloutMetrics(s)
        m["reward_mean"] = mean(scores)
        m["reward_std"] = HPALosses.meanAndStd(scores).std
        m["reward_raw_mean"] = mean(s.outcomes.map(\.raw))
        m["uncertainty_mean"] = mean(uncertainty)
        if config.diversityCoef > 0 { m["diversity_mean"] = mean(diversity) }
        m["shaped_reward_mean"] = mean(shaped)
        m["kept_reward_mean"] = mean(kept.map { scores[$0] })
        m["kept_fraction"] = Double(kept.count) / Double(R)
        // over every candidate, not only the kept ones (those are the highest rewards)
        m["objective/kl"] = mean(klSums)
        m["objective/kl_per_token"] = klPerToken
        let recent = history.suffix(config.window)
        if let z = HPALosses.zScore(m["reward_mean"]!, history: recent.map(\.reward)) { m["reward_zscore"] = z }
        history.append(HistoryEntry(reward: m["reward_mean"]!, kl: klPerToken))
        m["reward_window_score"] = windowScore()
        m["rollout_seconds"] = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        r.metrics = m

        try logSamples(s.samples, scores: scores, shaped: shaped, uncertainty: uncertainty, diversity: diversity, kept: Set(kept))
        session.finishRollout()
        return r
    }

    /// The policy and the reference over every candidate, in batches of batch_size rows (batch c
    /// on rank c mod size), gathered: per row the policy's and the reference's log-probs (`policy`,
    /// `reference`) and the reference's response embedding (`embedding`).
    func candidatePass(prompts: [[Int]], responses: [[Int]]) throws -> ShardedRollout.RowTable {
        try ShardedRollout.gatherRows(communicator, count: responses.count, arrays: ["policy", "reference", "embedding"]) {
            var out: [ShardedRollout.RowResult] = []
            for (c, start) in stride(from: 0, to: responses.count, by: batchSize).enumerated() where c % communicator.size == communicator.rank {
                let rows = Array(start..<min(start + batchSize, responses.count))
                let b = Batch.promptResponse(rows.map { (prompts[$0], responses[$0]) }, padID: padID)
                out += rowResults(rows: rows, lengths: rows.map { responses[$0].count }, policy: policyLogProbs(b), reference: referenceForward(b))
            }
            return out
        }
    }

    /// logp_old and the reference's log-probs and embeddings of the kept candidates (`old`,
    /// `reference`, `embedding`), on exactly the micro-batches the loss will see, each computed
    /// by the rank that trains on it: the first step's ratio is exactly 1 and, from an unchanged
    /// policy, both KL terms exactly 0.
    func keptPass(_ r: HPARollout, microBatches: [[Int]]) throws -> ShardedRollout.RowTable {
        try ShardedRollout.gatherRows(communicator, count: r.responses.count, arrays: ["old", "reference", "embedding"]) {
            var out: [ShardedRollout.RowResult] = []
            for (m, rows) in microBatches.enumerated()
            where !rows.isEmpty && ShardedRollout.owner(ofMicroBatch: m, gradAccum: gradAccum, communicator: communicator) == communicator.rank {
                let b = Batch.promptResponse(rows.map { (r.prompts[$0], r.responses[$0]) }, padID: padID)
                out += rowResults(rows: rows, lengths: rows.map { r.responses[$0].count }, policy: policyLogProbs(b), reference: referenceForward(b),
                                  policyName: "old")
            }
            return out
        }
    }

    /// One batch's per-row results: the policy's log-probs, the reference's and its embeddings.
    func rowResults(rows: [Int], lengths: [Int], policy: [Float], reference f: ScoredForward, policyName: String = "policy") -> [ShardedRollout.RowResult] {
        let own = [[Float]].unflatten(policy, lengths: lengths), ref = [[Float]].unflatten(f.logProbs.scalars, lengths: lengths)
        let embeddings = [[Float]].unflatten(ResponseEmbedding.meanPool(f.hidden, lengths: lengths).scalars,
                                             lengths: Array(repeating: f.hidden.shape[1], count: rows.count))
        return rows.enumerated().map { j, row in .init(row: row, arrays: [policyName: own[j], "reference": ref[j], "embedding": embeddings[j]]) }
    }

    /// Seed 000's early-stop metric over the last `window` rollouts.
    func windowScore() -> Double? {
        let w = history.suffix(config.window)
        guard !w.isEmpty else { return nil }
        return HPALosses.windowScore(rewards: w.map(\.reward), kls: w.map(\.kl), klCoef: config.windowKLCoef, stdCoef: config.windowStdCoef)
    }

    func logSamples(_ samples: [RewardSample], scores: [Double], shaped: [Double], uncertainty: [Double], diversity: [Double], kept: Set<Int>) throws {
        try session.appendSamples((0..<min(config.samplesPerRollout, samples.count)).map { i in
            ["rollout": session.rollouts, "prompt": samples[i].record.userText, "response": samples[i].response,
             "score": scores[i], "shaped": shaped[i], "uncertainty": uncertainty[i], "diversity": diversity[i],
             "kept": kept.contains(i), "ended_with_eos": samples[i].endedWithEOS]
        })
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
        var m = try session.evaluate()
        if let offline {
            for (k, v) in try offline.evaluate() { m["eval/dpo_" + k.dropFirst("eval/".count)] = v }
        }
        if let w = windowScore() { m["eval/reward_window_score"] = w }
        return m
    }

    // MARK: - State

    struct SavedState: Codable {
        var session: OnlineSession.State
        var bank: DiversityBank
        var rollout: HPARollout?
        var history: [HistoryEntry]
        var offline: Data?
    }

    public func saveState() throws -> Data {
        try JSONEncoder().encode(SavedState(session: session.state, bank: bank, rollout: rollout, history: history, offline: try offline?.saveState()))
    }

    public func restoreState(_ data: Data) throws {
        let s = try JSONDecoder().decode(SavedState.self, from: data)
        guard s.bank.capacity == config.diversityBank else {
            throw AlignDataError(.invalidArgument, path: "", "cannot resume: the checkpoint's diversity bank holds \(s.bank.capacity) embeddings, hpa.diversity_bank is \(config.diversityBank)")
        }
        guard (s.offline != nil) == (offline != nil) else {
            throw AlignDataError(.invalidArgument, path: "", "cannot resume: the checkpoint was written \(s.offline == nil ? "without" : "with") a DPO term, this run is \(offline == nil ? "without" : "with") one")
        }
        try session.restore(s.session)
        bank = s.bank
        rollout = s.rollout
        history = s.history
        if let d = s.offline { try offline?.restoreState(d) }
    }

    public var plottedMetrics: [String] { ["reward_mean", "objective/kl", "kept_fraction", "dpo_loss"] }
}
