import AlignNN
import Foundation

/// How an online trainer samples its responses (and greedy-decodes for evaluation): the
/// response budget, temperature / top-k / top-p, the stop tokens and the pad token.
struct OnlineSampling {
    var maxNewTokens: Int
    var temperature: Double
    var topK: Int
    var topP: Double
    var stopTokens: [Int]
    var padID: Int

    /// The generator's configuration, sampling or greedy.
    func generation(greedy: Bool) -> GenerationConfig {
        GenerationConfig(maxNewTokens: maxNewTokens,
                         sampling: greedy ? .greedy : SamplingConfig(temperature: Float(temperature), topK: topK, topP: Float(topP)),
                         stopTokenIDs: stopTokens, padTokenID: padID)
    }
}
