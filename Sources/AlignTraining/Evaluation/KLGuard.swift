import AlignData
import AlignNN
import AlignTensor
import Foundation

/// KL-guarded generation (seed 000 §6.1, ALGORITHMS.md HPA): a response whose mean token KL to
/// the reference, mean_t (logπ(y_t) − logπ_ref(y_t)) at temperature 1 teacher-forced on prompt +
/// response, exceeds `threshold` is generated once more at `retryTemperature`; the second
/// response is kept whatever its KL (both are reported).
public struct KLGuard: Sendable {
    public var threshold: Double
    public var retryTemperature: Float

    public init(threshold: Double, retryTemperature: Float = 0.5) {
        precondition(threshold >= 0 && retryTemperature > 0, "KLGuard: threshold \(threshold), retry temperature \(retryTemperature)")
        self.threshold = threshold
        self.retryTemperature = retryTemperature
    }

    public struct Outcome: Sendable {
        /// The kept response (the regenerated one when the first was over the threshold).
        public var sequence: GeneratedSequence
        /// Its mean token KL to the reference.
        public var kl: Double
        /// The first response's mean token KL when it was regenerated, else nil.
        public var rejectedKL: Double?
        public var regenerated: Bool { rejectedKL != nil }
    }

    /// Mean token KL of each response to the reference (0 for an empty response).
    public static func meanTokenKL(policy: any CausalLM, reference: any CausalLM, prompts: [[Int]], responses: [[Int]]) -> [Double] {
        let samples = zip(prompts, responses).map { SampleStatistics.Sample(prompt: $0, tokens: $1, text: "") }
        let mine = SampleStatistics.score(policy, samples), theirs = SampleStatistics.score(reference, samples)
        return zip(mine, theirs).map { a, b in
            a.logProbs.isEmpty ? 0 : zip(a.logProbs, b.logProbs).reduce(0.0) { $0 + $1.0 - $1.1 } / Double(a.logProbs.count)
        }
    }

    /// Generates for `prompts` with `config`, checks every response, and regenerates the ones
    /// over the threshold (in one batch, at `retryTemperature`, same seed, top-k and top-p).
    public func generate(policy: any CausalLM, reference: any CausalLM, prompts: [[Int]], config: GenerationConfig) throws -> [Outcome] {
        let first = try policy.generate(prompts: prompts, config: config).sequences
        let kls = Self.meanTokenKL(policy: policy, reference: reference, prompts: prompts, responses: first.map(\.tokens))
        var out = zip(first, kls).map { Outcome(sequence: $0, kl: $1, rejectedKL: nil) }
        let over = kls.indices.filter { kls[$0] > threshold }
        guard !over.isEmpty else { return out }
        var retry = config
        retry.sampling = SamplingConfig(temperature: retryTemperature, topK: config.sampling.topK, topP: config.sampling.topP)
        let again = try policy.generate(prompts: over.map { prompts[$0] }, config: retry).sequences
        let againKL = Self.meanTokenKL(policy: policy, reference: reference, prompts: over.map { prompts[$0] }, responses: again.map(\.tokens))
        for (j, i) in over.enumerated() { out[i] = Outcome(sequence: again[j], kl: againKL[j], rejectedKL: kls[i]) }
        return out
    }
}
