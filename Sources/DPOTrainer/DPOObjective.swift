import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// The DPO family (ALGORITHMS.md): per step, the policy's sequence log-probs of chosen and
/// rejected responses against the cached reference log-probs, through the loss chosen in the
/// config (`DPOLosses`), plus `sft_weight` · NLL of the chosen responses. Metrics carry TRL's names.
public final class DPOObjective: TrainingObjective {
    public typealias MicroBatch = PreferenceBatch

    let model: any CausalLM
    let config: DPOConfig
    let padID: Int
    let train: [PreferenceExample]
    let eval: [PreferenceExample]
    /// Reference log-probs of the training pairs (nil for SimPO).
    let trainReference: ReferenceLogProbCache?
    let evalReference: ReferenceLogProbCache?
    let batchSize: Int
    /// Without cached reference log-probs (`precompute_ref_log_probs: false`), the reference
    /// model scores every batch again.
    let referenceModel: (any CausalLM)?
    private var loader: DataLoader<PreferenceExample>
    /// The ranks the evaluation is shared out over (one: a single process).
    public var communicator: Communicator = SingleProcessCommunicator()

    public init(model: any CausalLM, config: DPOConfig, train: [PreferenceExample], eval: [PreferenceExample],
                trainReference: ReferenceLogProbCache?, evalReference: ReferenceLogProbCache?, referenceModel: (any CausalLM)? = nil,
                batchSize: Int, seed: UInt64, shuffle: Bool, padID: Int) {
        precondition(config.loss == .simpo || trainReference != nil || referenceModel != nil,
                     "DPOObjective: \(config.loss.rawValue) needs reference log-probs or a reference model")
        self.referenceModel = referenceModel
        self.model = model
        self.config = config
        self.padID = padID
        self.train = train
        self.eval = eval
        self.trainReference = trainReference
        self.evalReference = evalReference
        self.batchSize = batchSize
        loader = Self.loader(train, batchSize: batchSize, seed: seed, shuffle: shuffle)
    }

    /// The training loader: endless epochs of seeded permutations.
    static func loader(_ train: [PreferenceExample], batchSize: Int, seed: UInt64, shuffle: Bool) -> DataLoader<PreferenceExample> {
        DataLoader(examples: train, batchSize: batchSize, seed: seed, epochs: nil, shuffle: shuffle)
    }

    /// The pair indices of the first epoch in the order the objective's loader batches them, for
    /// computing the reference cache on exactly those micro-batches (`ReferenceLogProbCache.compute`).
    public static func firstEpochOrder(_ train: [PreferenceExample], batchSize: Int, seed: UInt64, shuffle: Bool) -> [Int] {
        var l = loader(train, batchSize: batchSize, seed: seed, shuffle: shuffle)
        return (0 ..< l.batchesPerEpoch).flatMap { _ in l.nextIndices()! }
    }

    public func nextBatch(progress: Double) throws -> PreferenceBatch { loader.nextBatch(padID: padID)! }
    public func weight(of b: PreferenceBatch) -> Double { Double(b.pairs) }
    public func tokens(in b: PreferenceBatch) -> Int { b.rows.rowLengths.reduce(0, +) }

    /// Loss and metrics of one batch against reference log-probs looked up by pair index.
    func evaluate(_ b: PreferenceBatch, reference: ReferenceLogProbCache?) -> (loss: Tensor, metrics: [String: Double]) {
        let lp = sequenceLogProbs(model: model, rows: b.rows)
        let p = b.pairs
        let chosen = lp.slice(axis: 0, 0..<p), rejected = lp.slice(axis: 0, p..<2 * p)
        let lengths = b.rows.rowLossTokens.map(Float.init)
        let chosenLength = Tensor(Array(lengths[0..<p]), shape: [p]), rejectedLength = Tensor(Array(lengths[p..<2 * p]), shape: [p])
        var refC: Tensor?, refR: Tensor?
        if config.usesReference {
            if let reference {
                refC = Tensor(b.exampleIndices.map { reference.chosen[$0] }, shape: [p])
                refR = Tensor(b.exampleIndices.map { reference.rejected[$0] }, shape: [p])
            } else if let referenceModel {
                let r = withNoGrad { sequenceLogProbs(model: referenceModel, rows: b.rows) }
                refC = r.slice(axis: 0, 0..<p)
                refR = r.slice(axis: 0, p..<2 * p)
            }
        }
        return DPOLosses.step(config, policyChosen: chosen, policyRejected: rejected, referenceChosen: refC, referenceRejected: refR,
                              chosenLength: chosenLength, rejectedLength: rejectedLength)
    }

    public func loss(_ b: PreferenceBatch, context: StepContext) -> (loss: Tensor, metrics: [String: Double]) {
        evaluate(b, reference: trainReference)
    }

    /// `eval/loss`, `eval/rewards/…` and `eval/logps/…`, pair-weighted over the eval set.
    public func evaluate() throws -> [String: Double] {
        guard !eval.isEmpty else { return [:] }
        // per chunk (shared out over the ranks): the loss and metrics times its pairs, summed in chunk order
        let chunks: [[String: Double]] = try ChunkedScoring.map(eval, batchSize: batchSize, communicator: communicator) { chunk, offset in
            var b = PreferenceBatch(examples: chunk, padID: padID)
            b.exampleIndices = Array(offset..<offset + chunk.count)
            let (loss, m) = evaluate(b, reference: evalReference)
            var out = ["loss": Double(loss.item) * Double(chunk.count)]
            for (k, v) in m { out[k] = v * Double(chunk.count) }
            return out
        }
        var sums: [String: Double] = [:]
        for c in chunks { for (k, v) in c { sums[k, default: 0] += v } }
        return Dictionary(uniqueKeysWithValues: sums.map { ("eval/\($0.key)", $0.value / Double(eval.count)) })
    }

    public var plottedMetrics: [String] { ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"] }

    public func saveState() throws -> Data { try JSONEncoder().encode(loader.state) }
    public func restoreState(_ data: Data) throws { try loader.restore(JSONDecoder().decode(DataLoaderState.self, from: data)) }
}
