import AlignData
import AlignNN
import AlignTensor
import AlignOnline
import AlignTraining
import Dispatch
import Foundation

/// Where values come from under `advantage: gae`.
public enum ValueSource {
    /// A scalar head on the policy's final hidden states (shared backbone).
    case head(ScalarHead)
    /// A separate critic: its own backbone and head (initialised from a reward model, as TRL).
    case critic(RewardModel)
}

/// PPO, GRPO and RLOO in the shared loop (ALGORITHMS.md, PPO and Group advantages).
///
/// The loop asks for micro-batches; when the current rollout is used up, `nextBatch` samples a
/// new one: responses from the policy (KV-cache generator), logp_old from the training forward
/// under no-grad on exactly the micro-batches of the first PPO epoch (so the first minibatch's
/// ratio is exactly 1), logp_ref, values, rewards, KL shaping and advantages. Then the rollout
/// hands out `ppo_epochs × num_minibatches × grad_accum` micro-batches, one optimizer step per
/// minibatch. Micro-batches are weighted by their response tokens, so a step's loss is the token
/// mean over its minibatch.
///
/// No pass the result does not need: with `kl_coef` 0 there is no reference (PPORun), and GRPO or
/// RLOO with one optimizer step per rollout (`ppo_epochs` 1 × `num_minibatches` 1, TRL's
/// `num_iterations` 1) computes no logp_old pass either (`usesOwnLogProbsAsOld`): each loss runs
/// on the parameters that sampled its rows, so logp_old is that forward's own log-probs, and the
/// rollout statistics that need them (`objective/entropy`, `objective/kl`, samples.jsonl's `kl`)
/// are finished from the losses' passes in `stepMetrics`: the same numbers as with the pass.
public final class PPOObjective: TrainingObjective, OnlineObjective {
    public typealias MicroBatch = PPOMicroBatch

    /// Prompts, sampling, the reward, the ranks, samples.jsonl and their checkpoint state.
    package let session: OnlineSession
    let reference: ReferenceSource
    let values: ValueSource?
    let config: PPOConfig
    /// Rows per rollout (batch_size × grad_accum × num_minibatches) and prompts per rollout.
    let rolloutRows: Int
    let promptsPerRollout: Int

    public private(set) var kl: KLController
    private var rollout: Rollout?
    /// When this process sampled its first rollout (for `elapsed_seconds`).
    private var firstRolloutStarted: UInt64?
    /// The rollout being trained on (tests read it).
    var currentRollout: Rollout? { rollout }

    /// Whether logp_old is the loss forward's own log-probs instead of a no-grad pass made with
    /// the rollout: GRPO or RLOO with one optimizer step per rollout (every micro-batch's loss
    /// runs on the parameters that sampled it, so the two are the same numbers: ratio exactly
    /// 1), when nothing needs logp_old before the losses run: RLOO's KL penalty enters its
    /// rewards, and an adaptive KL coefficient is updated from the rollout's KL before the
    /// losses read it, so both keep the pass.
    let usesOwnLogProbsAsOld: Bool
    /// Tests: false makes every rollout compute logp_old's pass, to compare the two ways.
    package nonisolated(unsafe) static var skipsUnneededPasses = true
    /// Statistics of the current rollout that its losses' passes finish (`usesOwnLogProbsAsOld`).
    private var pending: PendingStatistics?

    private struct PendingStatistics {
        var rolloutIndex: Int
        var samples: [RewardSample]
        var outcomes: [RewardOutcome]
        /// Per rollout row, from the loss that ran on it on this rank: Σ entropy and Σ KL to the
        /// reference over its response tokens.
        var rows: [Int: (entropy: Double, kl: Double)] = [:]
    }

    package init(session: OnlineSession, reference: ReferenceSource, values: ValueSource?, config: PPOConfig) {
        precondition(config.usesValues == (values != nil), "PPOObjective: gae needs values, grpo/rloo none")
        self.session = session
        session.shape.merge(["ppo.num_generations": config.numGenerations, "ppo.ppo_epochs": config.ppoEpochs, "ppo.num_minibatches": config.numMinibatches]) { $1 }
        self.reference = reference
        self.values = values
        self.config = config
        rolloutRows = session.batchSize * session.gradAccum * config.numMinibatches
        promptsPerRollout = rolloutRows / config.numGenerations
        kl = KLController(initial: config.klCoef, target: config.klTarget, horizon: config.klHorizon)
        usesOwnLogProbsAsOld = Self.skipsUnneededPasses && config.advantage != .gae && config.ppoEpochs == 1 && config.numMinibatches == 1
            && (!reference.exists || (config.advantage == .grpo && config.klTarget == nil))
    }

    var hasReference: Bool { reference.exists }

    var microBatchesPerRollout: Int { config.ppoEpochs * config.numMinibatches * gradAccum }

    public func nextBatch(progress: Double) throws -> PPOMicroBatch {
        if rollout == nil || rollout!.cursor >= microBatchesPerRollout { rollout = try makeRollout() }
        let k = rollout!.cursor
        rollout!.cursor += 1
        return PPOMicroBatch.make(rollout!, rows: rollout!.rows(ofMicroBatch: k, batchSize: batchSize), padID: padID)
    }

    /// Recovery: the rollout this step would train on (sampled first when the step would sample
    /// it) is dropped, so the retried step trains on a new rollout, not the one that failed.
    public func skipStep(microBatches: Int, progress: Double) throws {
        if rollout == nil || rollout!.cursor >= microBatchesPerRollout { rollout = try makeRollout() }
        rollout = nil
        pending = nil
    }

    /// Response tokens (a token mean over the minibatch), rows for RLOO's sequence-level loss,
    /// or 1 for GRPO's loss types that TRL averages over micro-batches (grpo, bnpo, dr_grpo).
    public func weight(of b: PPOMicroBatch) -> Double {
        switch config.advantage {
        case .rloo: return Double(b.batch.batch)
        case .grpo where !config.lossType.weightsMicroBatchesByTokens: return 1
        default: return Double(b.batch.lossTokens)
        }
    }
    public func tokens(in b: PPOMicroBatch) -> Int { b.batch.rowLengths.reduce(0, +) }
    /// The current rollout's statistics, and `elapsed_seconds` since this process sampled its
    /// first rollout (wall time, for seconds per iteration).
    public func stepMetrics() throws -> [String: Double] {
        try finishPendingStatistics()
        var m = rollout?.metrics ?? [:]
        if let t0 = firstRolloutStarted { m["elapsed_seconds"] = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        return m
    }

    public func anomaly(in metrics: [String: Double]) -> String? {
        guard let limit = config.maxKL, let k = metrics["objective/kl"], k > limit else { return nil }
        return String(format: "KL spike (objective/kl %.4g > ppo.max_kl %.4g)", k, limit)
    }

    // MARK: - Forward passes

    /// One forward pass of the policy over a batch: scored log-probs, entropy and the values.
    func policyForward(_ b: Batch) -> (logProbs: Tensor, entropy: Tensor, values: Tensor?) {
        let f = policy.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets, entropy: true,
                                     temperature: Float(config.sampling.temperature))
        var v: Tensor?
        switch values {
        case .head(let head)?: v = head.perToken(f.hidden).reshaped([f.positions.count])
        case .critic(let critic)?:
            let h = critic.backbone.hiddenStates(ids: b.ids, batch: b.batch, length: b.length, positions: nil, keyMask: nil, cache: nil)
            let rows = h.reshaped([b.batch * b.length, h.shape[2]]).indexSelect(rows: f.positions)
            v = critic.head.perToken(rows).reshaped([f.positions.count])
        case nil: v = nil
        }
        return (f.logProbs, f.entropy!, v)
    }

    func referenceLogProbs(_ b: Batch) -> [Float] {
        session.referenceForward(reference, b)?.logProbs.scalars ?? []
    }

    // MARK: - Rollouts

    func makeRollout() throws -> Rollout {
        let started = DispatchTime.now().uptimeNanoseconds
        if firstRolloutStarted == nil { firstRolloutStarted = started }
        let G = config.numGenerations
        let s = try session.sampleAndScore(session.draw(promptsPerRollout, groupSize: G), groupSize: G, what: "rollout \(session.rollouts)")
        let (rowPrompts, responses, scores, R) = (s.prompts, s.responses, s.scores, s.count)
        // row order of each PPO epoch, then the first epoch's passes
        let order = (0..<config.ppoEpochs).map { _ in session.rng.permutation(R) }
        let ownOld = usesOwnLogProbsAsOld
        let pass = try firstEpochPasses(prompts: rowPrompts, responses: responses, order: order[0])
        let (old, vals, ref, entropySums) = (pass[array: "old"], pass[array: "values"], pass[array: "reference"], pass[number: "entropy"])

        // per-token KL to the reference (zeros without one; not yet known without logp_old's
        // pass: GRPO's advantages do not need it) and the shaping / group advantages
        let knowsKL = hasReference && !ownOld
        let kls: [[Float]] = knowsKL ? (0..<R).map { PPOLosses.kl(old[$0], reference: ref[$0], estimator: config.klEstimator) }
                                     : (0..<R).map { [Float](repeating: 0, count: responses[$0].count) }
        let klSums = kls.map { $0.reduce(0.0) { $0 + Double($1) } }
        let beta = kl.value
        var advantages: [[Float]] = [], returns: [[Float]] = []
        var nonScore = [Double](repeating: 0, count: R)
        switch config.advantage {
        case .gae:
            var rawAdv: [[Double]] = [], rets: [[Double]] = []
            for i in 0..<R {
                var r = kls[i].map { -beta * Double($0) }
                nonScore[i] = r.reduce(0, +)
                if !r.isEmpty { r[r.count - 1] += scores[i] }   // the score at the last real response token
                let g = Advantages.gae(rewards: r, values: vals[i].map(Double.init), gamma: config.gamma, lambda: config.lambda)
                rawAdv.append(g.advantages)
                rets.append(g.returns)
            }
            let flat = rawAdv.flatMap { $0 }
            let white = config.whitenAdvantages ? Advantages.whiten(flat) : flat
            advantages = [[Float]].unflatten(white.map(Float.init), lengths: rawAdv.map(\.count))
            returns = rets.map { $0.map(Float.init) }
        case .grpo:
            let a = Advantages.grpo(rewards: scores, groupSize: G, scale: config.scaleRewards)
            advantages = (0..<R).map { Array(repeating: Float(a[$0]), count: responses[$0].count) }
        case .rloo:
            let rewardsWithKL = (0..<R).map { scores[$0] - beta * klSums[$0] }
            for i in 0..<R { nonScore[i] = -beta * klSums[i] }
            let a = Advantages.rloo(rewards: rewardsWithKL, groupSize: G, normalize: config.normalizeAdvantages)
            advantages = (0..<R).map { Array(repeating: Float(a[$0]), count: responses[$0].count) }
        }
        if knowsKL { kl.update(kl: klSums.reduce(0, +) / Double(R), samples: R) }

        // statistics
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        var m: [String: Double] = [:]
        m["objective/scores"] = mean(scores)
        m["objective/raw_scores"] = mean(s.outcomes.map(\.raw))
        if knowsKL {
            m["objective/kl"] = mean(klSums)
            m["objective/non_score_reward"] = mean(nonScore)
            m["objective/rlhf_reward"] = mean(zip(scores, nonScore).map(+))
        }
        if !ownOld { m["objective/entropy"] = mean(entropySums) }
        m["kl_coef"] = beta
        m.merge(session.rolloutMetrics(s)) { $1 }
        m["completions/mean_length"] = m["response_length"]
        m["reward"] = mean(scores)
        let sd = { (xs: [Double]) -> Double in
            let mu = mean(xs)
            return xs.count > 1 ? (xs.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(xs.count - 1)).squareRoot() : 0
        }
        m["reward_std"] = sd(scores)
        if s.outcomes.contains(where: { $0.modelStd != nil }) { m["rewards/model/std_over_heads"] = mean(s.outcomes.compactMap(\.modelStd)) }
        if G > 1 {
            let groups = stride(from: 0, to: R, by: G).map { Array(scores[$0..<$0 + G]) }
            m["frac_reward_zero_std"] = Double(groups.filter { sd($0) == 0 }.count) / Double(groups.count)
        }
        m["rollout_seconds"] = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9

        if ownOld {
            pending = PendingStatistics(rolloutIndex: session.rollouts, samples: s.samples, outcomes: s.outcomes)
        } else {
            pending = nil
            try logSamples(samples: s.samples, outcomes: s.outcomes, klSums: knowsKL ? klSums : nil, rollout: session.rollouts)
        }
        session.finishRollout()
        return Rollout(prompts: rowPrompts, responses: responses, oldLogProbs: ownOld ? [] : old,
                       referenceLogProbs: config.advantage == .grpo && (beta > 0 || (ownOld && hasReference)) ? ref : [],
                       oldValues: config.usesValues ? vals : [],
                       advantages: advantages, returns: returns, order: order, cursor: 0, metrics: m)
    }

    /// The passes over the first epoch's micro-batches, each computed by the rank that trains on
    /// it, then gathered: per row logp_old (`old`), `values`, the reference's log-probs
    /// (`reference`) and Σ entropy (`entropy`). Without logp_old's pass (`usesOwnLogProbsAsOld`)
    /// only the reference's, if there is one.
    func firstEpochPasses(prompts: [[Int]], responses: [[Int]], order: [Int]) throws -> ShardedRollout.RowTable {
        let ownOld = usesOwnLogProbsAsOld
        return try ShardedRollout.gatherRows(communicator, count: responses.count, arrays: ["old", "values", "reference"], numbers: ["entropy"]) {
            withNoGrad {
                var out: [ShardedRollout.RowResult] = []
                for (k, start) in stride(from: 0, to: responses.count, by: batchSize).enumerated()
                where ShardedRollout.owner(ofMicroBatch: k, gradAccum: gradAccum, communicator: communicator) == communicator.rank
                    && (!ownOld || hasReference) {
                    let rows = Array(order[start..<start + batchSize])
                    let b = PPOMicroBatch.batch(prompts: prompts, responses: responses, rows: rows, padID: padID)
                    let lengths = rows.map { responses[$0].count }
                    // the reference's pass first: no other pass's result depends on it
                    let ref = hasReference ? [[Float]].unflatten(referenceLogProbs(b), lengths: lengths) : nil
                    if ownOld {
                        for (j, row) in rows.enumerated() { out.append(.init(row: row, arrays: ["reference": ref![j]])) }
                        continue
                    }
                    let f = policyForward(b)
                    let lp = [[Float]].unflatten(f.logProbs.scalars, lengths: lengths)
                    let ent = [[Float]].unflatten(f.entropy.scalars, lengths: lengths)
                    let v = f.values.map { [[Float]].unflatten($0.scalars, lengths: lengths) }
                    for (j, row) in rows.enumerated() {
                        var arrays = ["old": lp[j]]
                        if let v { arrays["values"] = v[j] }
                        if let ref { arrays["reference"] = ref[j] }
                        out.append(.init(row: row, arrays: arrays, numbers: ["entropy": ent[j].reduce(0.0) { $0 + Double($1) }]))
                    }
                }
                return out
            }
        }
    }

    /// The statistics of a rollout without logp_old's pass, from the passes of its losses (every
    /// rank's rows gathered, summed in row order as `makeRollout` sums them), and its samples.
    private func finishPendingStatistics() throws {
        guard let p = pending, var r = rollout, r.cursor >= microBatchesPerRollout else { return }
        pending = nil
        let R = r.responses.count
        // rows whose micro-batch had no loss (no response token) keep 0, as their sums are
        let gathered = try ShardedRollout.gatherRows(communicator, count: R, arrays: [], numbers: ["entropy", "kl"]) {
            p.rows.keys.sorted().map { .init(row: $0, numbers: ["entropy": p.rows[$0]!.entropy, "kl": p.rows[$0]!.kl]) }
        }
        let (entropySums, klSums) = (gathered[number: "entropy"], gathered[number: "kl"])
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        r.metrics["objective/entropy"] = mean(entropySums)
        if hasReference {
            // GRPO: the KL is in the loss, not the rewards (no non-score reward)
            let scores = p.outcomes.map(\.score)
            r.metrics["objective/kl"] = mean(klSums)
            r.metrics["objective/non_score_reward"] = 0
            r.metrics["objective/rlhf_reward"] = mean(zip(scores, [Double](repeating: 0, count: R)).map(+))
        }
        rollout = r
        try logSamples(samples: p.samples, outcomes: p.outcomes, klSums: hasReference ? klSums : nil, rollout: p.rolloutIndex)
    }

    func logSamples(samples: [RewardSample], outcomes: [RewardOutcome], klSums: [Double]?, rollout index: Int) throws {
        try session.appendSamples((0..<min(config.samplesPerRollout, samples.count)).map { i in
            var row: [String: Any] = ["rollout": index, "prompt": samples[i].record.userText, "response": samples[i].response,
                                      "score": outcomes[i].score, "ended_with_eos": samples[i].endedWithEOS]
            if let klSums { row["kl"] = klSums[i] }
            return row
        })
    }

    // MARK: - Loss

    public func loss(_ b: PPOMicroBatch, context: StepContext) -> (loss: Tensor, metrics: [String: Double]) {
        let f = policyForward(b.batch)
        // without logp_old's pass (usesOwnLogProbsAsOld) this forward's own log-probs, the same numbers
        let oldLogProbs = usesOwnLogProbsAsOld ? f.logProbs.scalars : b.oldLogProbs
        if usesOwnLogProbsAsOld { recordRowStatistics(b, logProbs: oldLogProbs, entropy: f.entropy.scalars) }
        let clipHigh = config.clipRangeHigh.map(Float.init)
        // GRPO's aggregation of per-token losses (nil: the token mean)
        let grpoWeights = config.advantage == .grpo && config.lossType != .dapo
            ? config.lossType.weights(lengths: b.batch.rowLossTokens, maxCompletionLength: config.sampling.maxNewTokens) : nil
        let p: PPOLosses.PolicyOutput
        if config.advantage == .rloo {
            // TRL 1.16's RLOO: one importance ratio per sequence, e^{Σ logp − Σ logp_old}, clipped,
            // averaged over the sequences (micro-batches are weighted by rows for it)
            let rows = b.batch.rowLossTokens
            var old: [Float] = [], adv: [Float] = [], i = 0
            for n in rows {
                old.append(oldLogProbs[i..<i + n].reduce(0, +))
                adv.append(n > 0 ? b.advantages[i] : 0)
                i += n
            }
            p = PPOLosses.policy(newLogProbs: rowSums(f.logProbs, targets: b.batch.targets, batch: b.batch.batch, length: b.batch.length),
                                 oldLogProbs: old, advantages: adv, clip: Float(config.clipRange), clipHigh: clipHigh)
        } else {
            p = PPOLosses.policy(newLogProbs: f.logProbs, oldLogProbs: oldLogProbs, advantages: b.advantages, clip: Float(config.clipRange),
                                 clipHigh: clipHigh, weights: grpoWeights)
        }
        var loss = p.loss
        let n = Float(max(f.logProbs.count, 1))
        let entropyMean = f.entropy.sum() * (1 / n)
        var m: [String: Double] = ["policy/approxkl_avg": p.approxKL, "policy/clipfrac_avg": p.clipFraction,
                                   "loss/policy_avg": Double(p.loss.item), "val/ratio": p.ratioMean, "val/ratio_var": p.ratioVariance,
                                   "policy/entropy_avg": Double(entropyMean.item), "entropy": Double(entropyMean.item),
                                   "clip_ratio/region_mean": p.clipFraction, "clip_ratio/low_mean": p.lowClipFraction,
                                   "clip_ratio/high_mean": p.highClipFraction]
        if let v = f.values {
            let vl = PPOLosses.value(values: v, oldValues: b.oldValues, returns: b.returns, clip: Float(config.clipRangeValue))
            loss = loss + vl.loss * Float(config.vfCoef)
            m["loss/value_avg"] = Double(vl.loss.item)
            m["val/clipfrac_avg"] = vl.clipFraction
        }
        if config.advantage == .grpo, kl.value > 0, !b.referenceLogProbs.isEmpty {
            let perToken = PPOLosses.grpoKL(newLogProbs: f.logProbs, oldLogProbs: oldLogProbs, reference: b.referenceLogProbs,
                                            biasCorrected: config.klBiasCorrection)
            let k3 = grpoWeights.map { (perToken * Tensor($0, shape: [$0.count])).sum() } ?? perToken.sum() * (1 / n)
            m["kl"] = perToken.scalars.reduce(0.0) { $0 + Double($1) } / Double(n)   // the token mean, whatever the aggregation
            loss = loss + k3 * Float(kl.value)
        }
        if config.entropyCoef > 0 { loss = loss - entropyMean * Float(config.entropyCoef) }
        return (loss, m)
    }

    /// Σ entropy and Σ KL to the reference of each row of `b` (a loss without logp_old's pass),
    /// computed as `makeRollout` computes them from its pass.
    private func recordRowStatistics(_ b: PPOMicroBatch, logProbs: [Float], entropy: [Float]) {
        guard pending != nil else { return }
        let lengths = b.batch.rowLossTokens
        let lp = [[Float]].unflatten(logProbs, lengths: lengths), ent = [[Float]].unflatten(entropy, lengths: lengths)
        let ref = b.referenceLogProbs.isEmpty ? nil : [[Float]].unflatten(b.referenceLogProbs, lengths: lengths)
        for (j, row) in b.rows.enumerated() {
            let kl = ref.map { PPOLosses.kl(lp[j], reference: $0[j], estimator: config.klEstimator).reduce(0.0) { $0 + Double($1) } } ?? 0
            pending!.rows[row] = (ent[j].reduce(0.0) { $0 + Double($1) }, kl)
        }
    }

    // MARK: - Evaluation

    /// `eval/objective/scores` (mean reward of greedy responses to the held-out prompts) and
    /// `eval/response_length`.
    public func evaluate() throws -> [String: Double] {
        try session.evaluate()
    }

    // MARK: - State

    struct SavedState: Codable {
        var session: OnlineSession.State
        var kl: KLController
        var rollout: Rollout?
    }

    public func saveState() throws -> Data {
        try JSONEncoder().encode(SavedState(session: session.state, kl: kl, rollout: rollout))
    }

    public func restoreState(_ data: Data) throws {
        let s = try JSONDecoder().decode(SavedState.self, from: data)
        try session.restore(s.session)
        kl = s.kl
        rollout = s.rollout
        pending = nil   // a checkpoint is taken between steps, when no rollout's statistics wait
    }

    public var plottedMetrics: [String] { ["objective/scores", "objective/kl", "kl_coef"] }
}
