import AlignTensor
import Foundation

/// How the next token is chosen from a row of logits, with Hugging Face `generate` semantics:
/// temperature scaling, then top-k, then top-p (nucleus) filtering, then a draw; greedy when
/// `temperature` is 0 (or `greedy` is set).
public struct SamplingConfig: Codable, Equatable, Sendable {
    public var temperature: Float = 1
    /// Keep only the k most likely tokens (0: no limit).
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches p (1: no limit).
    public var topP: Float = 1

    enum CodingKeys: String, CodingKey {
        case temperature
        case topK = "top_k"
        case topP = "top_p"
    }

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    public static let greedy = SamplingConfig(temperature: 0)

    public var isGreedy: Bool { temperature == 0 }

    /// A message naming the first invalid field, or nil.
    public var validationError: String? {
        if !(temperature >= 0) || !temperature.isFinite { return "temperature must be ≥ 0, got \(temperature)" }
        if topK < 0 { return "top_k must be ≥ 0, got \(topK)" }
        if !(topP > 0 && topP <= 1) { return "top_p must be in (0, 1], got \(topP)" }
        return nil
    }
}

/// One sampled token and its log-probability under the temperature-scaled distribution
/// (before top-k/top-p filtering: the quantity PPO's ratios use, as TRL computes it).
public struct SampledToken: Equatable, Sendable {
    public let id: Int
    public let logProb: Float
}

public enum Sampler {
    /// Chooses a token from `logits` (one row of V values).
    public static func sample(_ logits: UnsafeBufferPointer<Float>, config: SamplingConfig,
                              rng: inout RandomGenerator) -> SampledToken {
        let v = logits.count
        precondition(v > 0, "Sampler: empty logits row")
        let t = config.isGreedy ? 1 : config.temperature
        // log-softmax of logits / t, vectorised (FastMath's exp): one scaled copy, one log-sum-exp
        var scaled = [Float](repeating: 0, count: v)
        scaled.withUnsafeMutableBufferPointer { out in
            if t == 1 { out.baseAddress!.update(from: logits.baseAddress!, count: v) } else {
                let inv = 1 / t
                for i in 0..<v { out[i] = logits[i] * inv }
            }
        }
        let logZ = scaled.withUnsafeBufferPointer { VectorMath.logSumExp($0.baseAddress!, v) }
        func logProb(_ i: Int) -> Float { (t == 1 ? logits[i] : logits[i] * (1 / t)) - logZ }

        if config.isGreedy {
            var best = 0
            for i in 1..<v where logits[i] > logits[best] { best = i }
            return SampledToken(id: best, logProb: logProb(best))
        }
        let needSort = config.topK > 0 || config.topP < 1
        guard needSort else {
            // the whole distribution: p = exp(scaled − logZ), computed in place of the scaled copy
            scaled.withUnsafeMutableBufferPointer { w in _ = VectorMath.exp(w.baseAddress!, w.baseAddress!, v, shift: logZ) }
            let pick = rng.categorical(scaled)
            return SampledToken(id: pick, logProb: logProb(pick))
        }
        // candidates in descending probability (ties by lower id), cut by top-k then top-p
        var order = Array(0..<v)
        order.sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        if config.topK > 0 && config.topK < v { order.removeSubrange(config.topK...) }
        if config.topP < 1 {
            // renormalise over the top-k survivors, keep until the cumulative mass reaches p
            var kept = 0
            var cum = 0.0
            var mass = 0.0
            for i in order { mass += Foundation.exp(Double(logProb(i))) }
            for i in order {
                cum += Foundation.exp(Double(logProb(i))) / mass
                kept += 1
                if cum >= Double(config.topP) { break }
            }
            order.removeSubrange(kept...)
        }
        var weights = [Float](repeating: 0, count: order.count)
        for (k, i) in order.enumerated() { weights[k] = Float(Foundation.exp(Double(logProb(i)))) }
        let pick = order[rng.categorical(weights)]
        return SampledToken(id: pick, logProb: logProb(pick))
    }

    public static func sample(_ logits: [Float], config: SamplingConfig, rng: inout RandomGenerator) -> SampledToken {
        logits.withUnsafeBufferPointer { sample($0, config: config, rng: &rng) }
    }
}
