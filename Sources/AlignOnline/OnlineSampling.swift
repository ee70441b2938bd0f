import AlignData
import AlignNN
import AlignTraining
import Foundation

/// How an online trainer samples its responses (and greedy-decodes for evaluation): the
/// response budget, temperature / top-k / top-p, the stop tokens and the pad token.
package struct OnlineSampling {
    package var maxNewTokens: Int
    package var temperature: Double
    package var topK: Int
    package var topP: Double
    package var stopTokens: [Int]
    package var padID: Int
    /// The weights sampling decode steps read (greedy evaluation always reads float32).
    package var samplingWeights: GenerationConfig.WeightsDtype

    package init(maxNewTokens: Int, temperature: Double, topK: Int, topP: Double, stopTokens: [Int], padID: Int,
                 samplingWeights: GenerationConfig.WeightsDtype = .float32) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.stopTokens = stopTokens
        self.padID = padID
        self.samplingWeights = samplingWeights
    }

    /// A trainer section's sampling with the model's stop tokens and the pad token.
    package init(_ settings: SamplingSettings, stopTokens: [Int], padID: Int) {
        self.init(maxNewTokens: settings.maxNewTokens, temperature: settings.temperature, topK: settings.topK, topP: settings.topP,
                  stopTokens: stopTokens, padID: padID, samplingWeights: settings.samplingWeights)
    }

    /// The generator's configuration, sampling or greedy.
    package func generation(greedy: Bool) -> GenerationConfig {
        GenerationConfig(maxNewTokens: maxNewTokens,
                         sampling: greedy ? .greedy : SamplingConfig(temperature: Float(temperature), topK: topK, topP: Float(topP)),
                         stopTokenIDs: stopTokens, padTokenID: padID, weightsDtype: greedy ? .float32 : samplingWeights)
    }
}

extension Batch {
    /// Right-padded prompt + response rows with only the response tokens scored (the batches of
    /// every online trainer: PPO's minibatches, best-of-N's SFT on kept samples).
    package static func promptResponse(_ rows: [(prompt: [Int], response: [Int])], padID: Int) -> Batch {
        Batch(rows: rows.map { ($0.prompt + $0.response, Array(repeating: false, count: $0.prompt.count) + Array(repeating: true, count: $0.response.count)) },
              padID: padID)
    }
}

extension RewardSample {
    /// A generated sequence as the reward sources see it: decoded without special tokens, and
    /// whether it ended with a stop token.
    package init(record: PromptRecord, promptIDs: [Int], generated s: GeneratedSequence, tokenizer: Tokenizer) {
        self.init(record: record, promptIDs: promptIDs, responseIDs: s.tokens,
                  response: tokenizer.decode(s.tokens, skipSpecialTokens: true), endedWithEOS: s.finishReason == .stopToken)
    }
}
