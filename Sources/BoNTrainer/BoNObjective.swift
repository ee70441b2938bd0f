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
public final class BoNObjective: TrainingObjective, OnlineObjective {
    public typealias MicroBatch = Batch

    /// Prompts, sampling, the reward, the ranks and their checkpoint state (`rollouts` counts rounds).
    package let session: OnlineSession
    let config: BoNConfig

    struct Kept: Codable, Equatable {
        var prompt: [Int]
        var response: [Int]
    }

    private var kept: [Kept] = []
    private var keptCursor: EpochCursor?
    private var round: Int { session.rollouts }
    private var drawnInRound = 0
    private var roundMetrics: [String: Double] = [:]

    package init(session: OnlineSession, config: BoNConfig) {
        self.session = session
        session.shape.merge(["bon.num_samples": config.numSamples, "bon.keep": config.keep, "bon.steps_per_round": config.stepsPerRound,
                             "bon.prompts_per_round": config.promptsPerRound ?? session.prompts.count]) { $1 }
        self.config = config
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
        if !session.evalPrompts.isEmpty { m["bon/heldout_reward"] = try session.evaluate()["eval/objective/scores"] }
        let P = config.promptsPerRound ?? session.prompts.count
        let N = config.numSamples
        // each rank samples (in batches of max(batch_size, 8) rows) and scores its share of the
        // prompts; every rank keeps the same samples
        let s = try session.sampleAndScore(session.draw(P, groupSize: N), groupSize: N, chunk: max(batchSize, 8), what: "round \(round + 1)")
        let (samples, outcomes) = (s.samples, s.outcomes)
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
        session.finishRollout()
        drawnInRound = 0
        keptCursor = EpochCursor(count: kept.count, rng: session.rng.fork(), shuffle: true)
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
        try session.evaluate()
    }

    struct SavedState: Codable {
        var session: OnlineSession.State
        var kept: [Kept]
        var keptCursor: EpochCursor?
        var drawnInRound: Int
        var roundMetrics: [String: Double]
    }

    public func saveState() throws -> Data {
        try JSONEncoder().encode(SavedState(session: session.state, kept: kept, keptCursor: keptCursor, drawnInRound: drawnInRound,
                                            roundMetrics: roundMetrics))
    }

    public func restoreState(_ data: Data) throws {
        let s = try JSONDecoder().decode(SavedState.self, from: data)
        try session.restore(s.session)
        kept = s.kept
        keptCursor = s.keptCursor
        drawnInRound = s.drawnInRound
        roundMetrics = s.roundMetrics
    }

    public var plottedMetrics: [String] { ["bon/kept_reward_mean", "bon/sample_reward_mean", "bon/heldout_reward"] }
}
