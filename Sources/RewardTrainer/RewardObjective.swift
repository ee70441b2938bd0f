import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// Reward-model training (ALGORITHMS.md, Reward model): each micro-batch of B preference pairs
/// is one forward pass over its 2B rows (chosen first); the K head outputs at each row's
/// reading position give r_w and r_l, and the loss is `RewardLosses.pairwise`.
///
/// With K > 1 heads (an ensemble) every head is trained on its own bootstrap of the pairs: each
/// micro-batch draws, per head, B pair indices with replacement from a seeded generator that is
/// part of the saved state (so a resumed run draws the same resamples). K = 1 uses every pair
/// once (the plain reward model). Metrics use the ensemble reward (mean over heads) of every
/// pair: `accuracy` (fraction with r_w > r_l), `margin_mean`, `margin_std` (population std
/// over the batch's pairs of r_w − r_l), and `reward_std` (mean over rows of the heads' std)
/// for ensembles.
public final class RewardObjective: TrainingObjective {
    public typealias MicroBatch = PreferenceBatch

    public let model: RewardModel
    let centerCoefficient: Float
    let padID: Int
    let evalExamples: [PreferenceExample]
    let evalBatchSize: Int
    private var source: ExampleSource<PreferenceExample>
    /// The ranks the evaluation is shared out over (one: a single process).
    public var communicator: Communicator = SingleProcessCommunicator()
    /// Draws the ensemble heads' bootstrap resamples (unused with one head).
    public private(set) var bootstrapRNG: RandomGenerator
    /// Ensemble-mean margins r_w − r_l of the eval pairs at the last `evaluate()`, in eval order.
    public private(set) var lastEvalMargins: [Float] = []

    /// `train`: one source, or several with weight schedules (a mixture). `seed` seeds the loader
    /// and (derived from it) the bootstrap generator.
    public init(model: RewardModel, train: [MixtureSource<PreferenceExample>], eval: [PreferenceExample], batchSize: Int,
                seed: UInt64, shuffle: Bool = true, padID: Int, centerCoefficient: Float = 0) throws {
        precondition(!train.isEmpty, "RewardObjective: no training data")
        self.model = model
        self.centerCoefficient = centerCoefficient
        self.padID = padID
        evalExamples = eval
        evalBatchSize = batchSize
        bootstrapRNG = RandomGenerator(seed: seed ^ 0xB007_57A9_E45E_3B1E)
        source = try ExampleSource(train, batchSize: batchSize, seed: seed, shuffle: shuffle)
    }

    public func nextBatch(progress: Double) throws -> PreferenceBatch {
        let (examples, indices) = source.next(progress: progress)
        return PreferenceBatch(examples: examples, padID: padID, exampleIndices: indices)
    }

    public func weight(of batch: PreferenceBatch) -> Double { Double(batch.pairs) }
    public func tokens(in batch: PreferenceBatch) -> Int { batch.rows.rowLengths.reduce(0, +) }

    /// Chosen and rejected rewards (pairs, K) of a batch.
    func rewards(_ batch: PreferenceBatch) -> (all: Tensor, chosen: Tensor, rejected: Tensor) {
        let s = model.scores(batch.rows)
        let P = batch.pairs
        return (s, s.slice(axis: 0, 0..<P), s.slice(axis: 0, P..<2 * P))
    }

    public func loss(_ batch: PreferenceBatch, context: StepContext) -> (loss: Tensor, metrics: [String: Double]) {
        let (all, chosen, rejected) = rewards(batch)
        let K = model.numHeads
        let weights = K > 1 ? RewardLosses.bootstrapWeights(pairs: batch.pairs, heads: K, rng: &bootstrapRNG) : nil
        let loss = RewardLosses.pairwise(chosen: chosen, rejected: rejected, margins: batch.hasMargins ? batch.margins : nil,
                                         centerCoefficient: centerCoefficient, weights: weights)
        let scores = Self.rowScores(all, heads: K)
        let margins = (0..<batch.pairs).map { scores[$0].reward - scores[batch.pairs + $0].reward }
        let st = RewardLosses.statistics(margins: margins)
        var metrics = ["accuracy": st.accuracy, "margin_mean": st.mean, "margin_std": st.std]
        if K > 1 { metrics["reward_std"] = scores.reduce(0.0) { $0 + Double($1.std) } / Double(scores.count) }
        return (loss, metrics)
    }

    static func rowScores(_ scores: Tensor, heads K: Int) -> [RewardScore] {
        let v = scores.scalars
        return (0..<scores.shape[0]).map { RewardScore(heads: Array(v[$0 * K..<($0 + 1) * K])) }
    }

    /// `eval/loss` (the loss with every pair and head weighted equally, no bootstrap),
    /// `eval/accuracy`, `eval/margin_mean`, `eval/margin_std` (and `eval/reward_std` for an
    /// ensemble) over the eval pairs; keeps the margins in `lastEvalMargins`.
    public func evaluate() throws -> [String: Double] {
        guard !evalExamples.isEmpty else { return [:] }
        // per chunk (shared out over the ranks): its loss times its pairs, margins and summed ensemble spread
        struct Chunk: Codable { var loss: Double; var margins: [Float]; var std: Double }
        let chunks: [Chunk] = try ChunkedScoring.map(evalExamples, batchSize: evalBatchSize, communicator: communicator) { chunk, _ in
            let b = PreferenceBatch(examples: chunk, padID: padID)
            let (all, chosen, rejected) = rewards(b)
            let loss = RewardLosses.pairwise(chosen: chosen, rejected: rejected, margins: b.hasMargins ? b.margins : nil,
                                             centerCoefficient: centerCoefficient)
            let scores = Self.rowScores(all, heads: model.numHeads)
            return Chunk(loss: Double(loss.item) * Double(b.pairs), margins: (0..<b.pairs).map { scores[$0].reward - scores[b.pairs + $0].reward },
                         std: scores.reduce(0.0) { $0 + Double($1.std) })
        }
        var total = 0.0, stdSum = 0.0
        var margins: [Float] = []
        margins.reserveCapacity(evalExamples.count)
        for c in chunks {
            total += c.loss
            margins += c.margins
            stdSum += c.std
        }
        lastEvalMargins = margins
        let st = RewardLosses.statistics(margins: margins)
        var m = ["eval/loss": total / Double(evalExamples.count), "eval/accuracy": st.accuracy,
                 "eval/margin_mean": st.mean, "eval/margin_std": st.std]
        if model.numHeads > 1 { m["eval/reward_std"] = stdSum / Double(2 * evalExamples.count) }
        return m
    }

    struct SavedState: Codable {
        var source: ExampleSource<PreferenceExample>.State
        var bootstrap: RandomGenerator
    }

    public func saveState() throws -> Data {
        try JSONEncoder().encode(SavedState(source: source.state, bootstrap: bootstrapRNG))
    }

    public var plottedMetrics: [String] { ["accuracy", "margin_mean"] }

    public func restoreState(_ data: Data) throws {
        let s = try JSONDecoder().decode(SavedState.self, from: data)
        try source.restore(s.source)
        bootstrapRNG = s.bootstrap
    }
}
