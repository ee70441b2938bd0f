import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// Supervised fine-tuning (ALGORITHMS.md, SFT): mean token NLL over the learned tokens of each
/// step (prompt and padding masked), optionally plus `kl_coef` · the squared log-ratio to the
/// frozen starting model. Batches come from one data set or a mixture whose weights follow
/// training progress.
public final class SFTObjective: TrainingObjective {
    public typealias MicroBatch = Batch

    let model: any CausalLM
    let reference: (any CausalLM)?
    let klCoef: Float
    let padID: Int
    let evalExamples: [SFTExample]
    let evalBatchSize: Int
    private var source: ExampleSource<SFTExample>
    /// The ranks the evaluation is shared out over (one: a single process).
    public var communicator: Communicator = SingleProcessCommunicator()

    /// `train`: one source, or several with weight schedules (a mixture).
    public init(model: any CausalLM, train: [MixtureSource<SFTExample>], eval: [SFTExample], batchSize: Int, seed: UInt64,
                shuffle: Bool, padID: Int, klCoef: Float = 0, reference: (any CausalLM)? = nil) throws {
        precondition(!train.isEmpty, "SFTObjective: no training data")
        self.model = model
        self.reference = reference
        self.klCoef = klCoef
        self.padID = padID
        evalExamples = eval
        evalBatchSize = batchSize
        source = try ExampleSource(train, batchSize: batchSize, seed: seed, shuffle: shuffle)
    }

    public func nextBatch(progress: Double) throws -> Batch {
        let (examples, indices) = source.next(progress: progress)
        return Batch(examples: examples, padID: padID, exampleIndices: indices)
    }

    public func weight(of batch: Batch) -> Double { Double(batch.lossTokens) }
    public func tokens(in batch: Batch) -> Int { batch.rowLengths.reduce(0, +) }

    public func loss(_ batch: Batch, context: StepContext) -> (loss: Tensor, metrics: [String: Double]) {
        // right padding: causal attention never lets a real token see the padding after it, so
        // no key mask is needed; only the learned positions go through the LM head
        let lp = model.scoredLogProbs(ids: batch.ids, batch: batch.batch, length: batch.length, targets: batch.targets)
        var loss = SFTLosses.nll(scoredLogProbs: lp)
        var metrics: [String: Double] = ["nll": Double(loss.item)]
        if klCoef > 0, let reference {
            let refLP = withNoGrad { reference.scoredLogProbs(ids: batch.ids, batch: batch.batch, length: batch.length, targets: batch.targets) }
            let kl = SFTLosses.squaredLogRatio(policy: lp, reference: refLP)
            metrics["kl"] = Double(kl.item)
            loss = loss + kl * klCoef
        }
        return (loss, metrics)
    }

    /// `eval/loss` (token-weighted mean NLL over the eval set) and `eval/perplexity`.
    public func evaluate() throws -> [String: Double] {
        guard !evalExamples.isEmpty else { return [:] }
        let r = try Perplexity.evaluate(evalExamples, model: model, padID: padID, batchSize: evalBatchSize, communicator: communicator)
        guard r.tokens > 0 else { return [:] }
        let loss = r.nll
        return ["eval/loss": loss, "eval/perplexity": Foundation.exp(loss)]
    }

    public func saveState() throws -> Data { try JSONEncoder().encode(source.state) }

    public var plottedMetrics: [String] { ["kl"] }   // nll equals the loss without KL-SFT

    public func restoreState(_ data: Data) throws {
        try source.restore(JSONDecoder().decode(ExampleSource<SFTExample>.State.self, from: data))
    }
}
