import AlignData
import AlignNN
import AlignTensor
import Foundation

/// Preference-data cleaning (seed 000's `PreferenceDataCleaner`, ALGORITHMS.md HPA: `align
/// clean`). A pair is dropped by the first rule it fails, in this order:
/// 1. `margin`: the reward model's r(chosen) − r(rejected) < `minMargin` (0.5): likely noise;
/// 2. `similar`: chosen and rejected too alike, cosine similarity of their embeddings
///    (`ResponseEmbedding` under the policy) > `maxSimilarity` (0.9);
/// 3. `learned`: |logπ(y_w) − logπ(y_l)| > `maxLogProbGap` (2.0) under the policy: already
///    told apart, nothing left to learn.
/// A rule whose measurement is not given is not applied.
public enum PreferenceCleaning {
    public struct Rules: Sendable, Equatable {
        public var minMargin: Double = 0.5
        public var maxSimilarity: Double = 0.9
        public var maxLogProbGap: Double = 2.0
        public init() {}
    }

    public enum Verdict: String, Sendable, CaseIterable {
        case kept, margin, similar, learned
    }

    public static func verdicts(margins: [Double]?, similarities: [Double]?, logProbGaps: [Double]?, count: Int,
                                rules: Rules) -> [Verdict] {
        (0..<count).map { i in
            if let m = margins?[i], m < rules.minMargin { return .margin }
            if let s = similarities?[i], s > rules.maxSimilarity { return .similar }
            if let g = logProbGaps?[i], abs(g) > rules.maxLogProbGap { return .learned }
            return .kept
        }
    }

    /// Per pair, cosine similarity of the chosen and rejected responses' embeddings
    /// (`ResponseEmbedding`: the mean final hidden state over the positions predicting the
    /// response, prompt in context); 0 when either is all zeros (an empty response).
    public static func similarities(_ pairs: [PreferenceExample], model: any CausalLM) -> [Double] {
        func embedding(_ prompt: [Int], _ response: [Int]) -> [Double] {
            model.responseEmbedding(prompt: prompt, response: response).map(Double.init)
        }
        return pairs.map { p in
            let a = embedding(p.prompt, p.chosen), b = embedding(p.prompt, p.rejected)
            let dot = zip(a, b).map { $0 * $1 }.reduce(0, +)
            let norms = (a.map { $0 * $0 }.reduce(0, +) * b.map { $0 * $0 }.reduce(0, +)).squareRoot()
            return norms > 0 ? dot / norms : 0
        }
    }

    /// Per pair, logπ(y_w) − logπ(y_l) under `model` (sums over the response tokens).
    public static func logProbGaps(_ pairs: [PreferenceExample], model: any CausalLM, padID: Int, batchSize: Int) -> [Double] {
        let (c, r) = PreferenceAccuracy.logProbs(model, pairs, padID: padID, batchSize: batchSize)
        return zip(c, r).map { $0 - $1 }
    }
}
