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

    public static func evaluate(_ examples: [SFTExample], model: any CausalLM, padID: Int, batchSize: Int) -> Result {
        var total = 0.0, tokens = 0
        var i = 0
        while i < examples.count {
            let chunk = Array(examples[i..<min(i + batchSize, examples.count)])
            i += chunk.count
            let b = Batch(examples: chunk, padID: padID)
            let lp = withNoGrad { model.scoredLogProbs(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets) }
            total -= lp.scalars.reduce(0.0) { $0 + Double($1) }
            tokens += lp.count
        }
        return Result(sequences: examples.count, tokens: tokens, nll: tokens > 0 ? total / Double(tokens) : 0)
    }
}
