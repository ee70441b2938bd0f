import AlignData
import AlignNN
import AlignOnline
import AlignTensor
import AlignTraining
import DPOTrainer
import Dispatch
import Foundation

/// Online DPO in the shared loop (TRL's `OnlineDPOTrainer.training_step`, with any DPO-family
/// loss). When a step begins, `nextBatch` samples `num_generations` responses to each of the
/// step's `batch_size × grad_accum` prompts and scores them; per prompt the best response is
/// chosen and the worst rejected (`pair(_:)`). Micro-batch k holds prompts k·batch_size …: its
/// chosen rows, then its rejected rows. The loss forward scores them under the policy (with
/// the graph) and the reference (no-grad, at temperature 1 as TRL's `_forward`), and
/// `DPOLosses.step` gives the loss of `align dpo`. Metrics under TRL's names.
public final class OnlineDPOObjective: TrainingObjective, OnlineObjective {
    public typealias MicroBatch = OnlineDPOMicroBatch

    package let session: OnlineSession
    /// `.none` for simpo (reference-free); the KL metrics then are not logged.
    let reference: ReferenceSource
    let config: OnlineDPOConfig
    private var rollout: OnlinePairs?

    package init(session: OnlineSession, reference: ReferenceSource, config: OnlineDPOConfig) {
        precondition(reference.exists == config.dpo.usesReference, "OnlineDPOObjective: loss \(config.dpo.loss.rawValue) with reference \(reference.exists)")
        self.session = session
        session.shape.merge(["online_dpo.num_generations": config.numGenerations]) { $1 }
        self.reference = reference
        self.config = config
    }

    /// Which of a prompt's samples are chosen and rejected: the first of the highest scores and
    /// the last of the lowest (two samples with equal scores: the first is chosen, as TRL's
    /// `first_half >= second_half`), so the two are distinct samples.
    public static func pair(_ scores: [Double]) -> (chosen: Int, rejected: Int) {
        precondition(scores.count >= 2, "OnlineDPOObjective.pair: \(scores.count) samples")
        var best = 0, worst = scores.count - 1
        for i in scores.indices where scores[i] > scores[best] { best = i }
        for i in scores.indices.reversed() where scores[i] < scores[worst] { worst = i }
        return (best, worst)   // distinct: equal scores give (0, G − 1), unequal ones a higher and a lower sample
    }

    public func nextBatch(progress: Double) throws -> OnlineDPOMicroBatch {
        if rollout == nil || rollout!.cursor >= gradAccum { rollout = try makeRollout() }
        let k = rollout!.cursor
        rollout!.cursor += 1
        return OnlineDPOMicroBatch(rollout!, prompts: Array(k * batchSize..<(k + 1) * batchSize), padID: padID)
    }

    /// Recovery: the rollout this step would train on (sampled first when the step would sample
    /// it) is dropped, so the retried step trains on a new rollout, not the one that failed.
    public func skipStep(microBatches: Int, progress: Double) throws {
        if rollout == nil || rollout!.cursor >= gradAccum { rollout = try makeRollout() }
        rollout = nil
    }

    public func weight(of b: OnlineDPOMicroBatch) -> Double { Double(b.pairs) }
    public func tokens(in b: OnlineDPOMicroBatch) -> Int { b.rows.rowLengths.reduce(0, +) }
    public func stepMetrics() -> [String: Double] { rollout?.metrics ?? [:] }

    // MARK: - Rollouts

    func makeRollout() throws -> OnlinePairs {
        let started = DispatchTime.now().uptimeNanoseconds
        let G = config.numGenerations
        let s = try session.sampleAndScore(session.draw(batchSize * gradAccum, groupSize: G), groupSize: G, what: "rollout \(session.rollouts)")
        var r = OnlinePairs(prompts: [], chosen: [], rejected: [], chosenScores: [], rejectedScores: [], meanScores: [], eosFractions: [], metrics: [:])
        var logged: [[String: Any]] = []
        for start in stride(from: 0, to: s.count, by: G) {
            let group = Array(start..<start + G)
            let scores = group.map { s.scores[$0] }
            let (c, w) = Self.pair(scores)
            r.prompts.append(s.prompts[start])
            r.chosen.append(s.sequences[start + c].tokens)
            r.rejected.append(s.sequences[start + w].tokens)
            r.chosenScores.append(scores[c])
            r.rejectedScores.append(scores[w])
            r.meanScores.append(scores.reduce(0, +) / Double(G))
            r.eosFractions.append(Double(group.filter { s.sequences[$0].finishReason == .stopToken }.count) / Double(G))
            if logged.count < config.samplesPerRollout {
                logged.append(["rollout": session.rollouts, "prompt": s.samples[start].record.userText,
                               "chosen": s.samples[start + c].response, "rejected": s.samples[start + w].response,
                               "chosen_score": scores[c], "rejected_score": scores[w]])
            }
        }
        var m = session.rolloutMetrics(s)
        m["rollout_seconds"] = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        r.metrics = m
        try session.appendSamples(logged)
        session.finishRollout()
        return r
    }

    // MARK: - Loss

    /// The DPO step on the micro-batch's pairs and TRL's online metrics: `objective/scores` (the
    /// mean score of every sample of its prompts), `objective/scores_margin`,
    /// `val/contain_eos_token`, and over its chosen and rejected rows `objective/kl` (Σ_t logπ −
    /// logπ_ref per row), `objective/non_score_reward` (−β·that), `objective/rlhf_reward` (score +
    /// non-score reward), `objective/entropy` (−Σ_t logπ), plus `align dpo`'s metrics and `beta`.
    public func loss(_ b: OnlineDPOMicroBatch, context: StepContext) -> (loss: Tensor, metrics: [String: Double]) {
        let p = b.pairs
        let lp = policy.sequenceLogProbs(ids: b.rows.ids, batch: b.rows.batch, length: b.rows.length, targets: b.rows.targets)   // (2P)
        let ref = session.referenceForward(reference, b.rows, temperature: 1).map {
            rowSums($0.logProbs, targets: b.rows.targets, batch: b.rows.batch, length: b.rows.length)
        }
        let lengths = b.rows.rowLossTokens.map(Float.init)
        let (loss, dpoMetrics) = DPOLosses.step(config.dpo, policyChosen: lp.slice(axis: 0, 0..<p), policyRejected: lp.slice(axis: 0, p..<2 * p),
                                                referenceChosen: ref?.slice(axis: 0, 0..<p), referenceRejected: ref?.slice(axis: 0, p..<2 * p),
                                                chosenLength: Tensor(Array(lengths[0..<p]), shape: [p]),
                                                rejectedLength: Tensor(Array(lengths[p..<2 * p]), shape: [p]))
        let online = Self.onlineMetrics(policy: lp.scalars.map(Double.init), reference: ref?.scalars.map(Double.init), chosenScores: b.chosenScores,
                                        rejectedScores: b.rejectedScores, meanScores: b.meanScores, eosFractions: b.eosFractions, beta: config.dpo.beta)
        let m = dpoMetrics.merging(online) { $1 }
        return (loss, m)
    }

    /// TRL's online metrics of a batch of P pairs from the summed log-probs of its 2P rows
    /// (chosen rows first) under the policy and the reference (nil: no KL metrics) and the
    /// prompts' scores.
    public static func onlineMetrics(policy: [Double], reference: [Double]?, chosenScores: [Double], rejectedScores: [Double],
                                     meanScores: [Double], eosFractions: [Double], beta: Double) -> [String: Double] {
        func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }
        var m: [String: Double] = ["beta": beta]
        m["objective/scores"] = mean(meanScores)
        m["objective/scores_margin"] = mean(zip(chosenScores, rejectedScores).map(-))
        m["val/contain_eos_token"] = mean(eosFractions)
        m["objective/entropy"] = -mean(policy)
        if let reference {
            let kl = zip(policy, reference).map(-)
            let nonScore = kl.map { -beta * $0 }
            m["objective/kl"] = mean(kl)
            m["objective/non_score_reward"] = mean(nonScore)
            m["objective/rlhf_reward"] = mean(zip(chosenScores + rejectedScores, nonScore).map(+))
        }
        return m
    }

    // MARK: - Evaluation and state

    /// The held-out reward of greedy responses (`eval/objective/scores`, …).
    public func evaluate() throws -> [String: Double] { try session.evaluate() }

    struct SavedState: Codable {
        var session: OnlineSession.State
        var rollout: OnlinePairs?
    }

    public func saveState() throws -> Data { try JSONEncoder().encode(SavedState(session: session.state, rollout: rollout)) }

    public func restoreState(_ data: Data) throws {
        let s = try JSONDecoder().decode(SavedState.self, from: data)
        try session.restore(s.session)
        rollout = s.rollout
    }

    public var plottedMetrics: [String] { ["objective/scores", "objective/kl", "rewards/margins"] }
}

/// One online DPO rollout: per prompt its chosen and rejected responses and what the metrics
/// need. Part of a checkpoint.
struct OnlinePairs: Codable, Equatable {
    var prompts: [[Int]]
    var chosen: [[Int]]
    var rejected: [[Int]]
    var chosenScores: [Double]
    var rejectedScores: [Double]
    /// Per prompt: the mean score of all its samples, and the fraction that ended with EOS.
    var meanScores: [Double]
    var eosFractions: [Double]
    /// Micro-batches handed out so far.
    var cursor: Int = 0
    var metrics: [String: Double]
}

/// A micro-batch of fresh pairs: rows 0..<P the chosen responses, P..<2P the rejected ones
/// (prompt + response, the response tokens scored), and their prompts' scores.
public struct OnlineDPOMicroBatch {
    public let rows: Batch
    public let pairs: Int
    public let chosenScores: [Double]
    public let rejectedScores: [Double]
    public let meanScores: [Double]
    public let eosFractions: [Double]

    init(_ r: OnlinePairs, prompts: [Int], padID: Int) {
        rows = Batch.promptResponse(prompts.map { (r.prompts[$0], r.chosen[$0]) } + prompts.map { (r.prompts[$0], r.rejected[$0]) }, padID: padID)
        pairs = prompts.count
        chosenScores = prompts.map { r.chosenScores[$0] }
        rejectedScores = prompts.map { r.rejectedScores[$0] }
        meanScores = prompts.map { r.meanScores[$0] }
        eosFractions = prompts.map { r.eosFractions[$0] }
    }
}
