import AlignData
import AlignNN
import AlignTensor
import Foundation

/// Preference accuracy and reward margins of a policy on held-out pairs (ALGORITHMS.md
/// Evaluation). With a reference, the rewards are DPO's implicit ones, β·(logπ(y) − logπ_ref(y))
/// (TRL's `rewards/*`); without one, the policy's sequence log-probabilities logπ(y). A pair
/// counts as correct when the chosen reward is strictly higher.
public enum PreferenceAccuracy {
    public struct Result: Sendable, Equatable {
        public var pairs: Int
        public var accuracy: Double
        public var marginMean: Double
        public var marginStd: Double
        public var chosenMean: Double
        public var rejectedMean: Double
        /// Per pair, chosen − rejected reward.
        public var margins: [Double]
    }

    /// logπ(y) of every chosen then rejected response of `pairs`, batched.
    static func logProbs(_ model: any CausalLM, _ pairs: [PreferenceExample], padID: Int, batchSize: Int) -> (chosen: [Double], rejected: [Double]) {
        let (c, r) = ChunkedScoring.pairLogProbs(model, pairs, padID: padID, batchSize: batchSize)
        return (c.map(Double.init), r.map(Double.init))
    }

    public static func evaluate(_ pairs: [PreferenceExample], policy: any CausalLM, reference: (any CausalLM)?, beta: Double,
                                padID: Int, batchSize: Int) -> Result {
        var (c, r) = logProbs(policy, pairs, padID: padID, batchSize: batchSize)
        if let reference {
            let (rc, rr) = logProbs(reference, pairs, padID: padID, batchSize: batchSize)
            c = zip(c, rc).map { beta * ($0 - $1) }
            r = zip(r, rr).map { beta * ($0 - $1) }
        }
        let margins = zip(c, r).map { $0 - $1 }
        let n = Double(max(pairs.count, 1))
        let mean = margins.reduce(0, +) / n
        let variance = margins.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
        return Result(pairs: pairs.count, accuracy: Double(margins.filter { $0 > 0 }.count) / n, marginMean: mean,
                      marginStd: variance.squareRoot(), chosenMean: c.reduce(0, +) / n, rejectedMean: r.reduce(0, +) / n,
                      margins: margins)
    }
}
