import AlignData
import AlignNN
import AlignTensor
import Foundation

/// Perplexity of a model on tokenised examples: exp of the mean NLL over their loss tokens
/// (response tokens of chat / prompt-completion data, every token of raw text), the same
/// quantity as SFT's `eval/perplexity`.
public enum Perplexity {
    public struct Result: Sendable, Equatable {
        public var sequences: Int
        public var tokens: Int
        /// Mean negative log-likelihood per scored token (nats).
        public var nll: Double
        public var perplexity: Double { Foundation.exp(nll) }
    }

    /// On several ranks (`communicator`) the chunks are shared out and every rank gets the result
    /// one process computes.
    public static func evaluate(_ examples: [SFTExample], model: any CausalLM, padID: Int, batchSize: Int,
                                communicator: Communicator = SingleProcessCommunicator()) throws -> Result {
        // per chunk: [Σ −log p over its scored tokens, scored tokens]
        let sums: [[Double]] = try ChunkedScoring.map(examples, batchSize: batchSize, communicator: communicator) { chunk, _ in
            let b = Batch(examples: chunk, padID: padID)
            let lp = model.scoredLogProbs(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets)
            return [-lp.scalars.reduce(0.0) { $0 + Double($1) }, Double(lp.count)]
        }
        let total = sums.reduce(0.0) { $0 + $1[0] }, tokens = sums.reduce(0) { $0 + Int($1[1]) }
        return Result(sequences: examples.count, tokens: tokens, nll: tokens > 0 ? total / Double(tokens) : 0)
    }
}
