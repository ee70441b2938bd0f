import AlignData
import AlignNN
import AlignTensor
import Foundation

/// What RLHF does to a policy's samples (seed 001: entropy and diversity collapse, drift from
/// the reference), measured on sampled answers to held-out prompts (ALGORITHMS.md Evaluation):
/// - `entropy`: mean over generated tokens of the policy's next-token entropy −Σ p·log p (nats)
///   at that position, teacher-forced on the sample;
/// - `kl`: mean over samples of Σ_t (logπ(y_t) − logπ_ref(y_t)), the sequence-level estimate of
///   KL(π‖π_ref) from the policy's own samples (TRL's `objective/kl`), and per token;
/// - `distinct-1`, `distinct-2`: distinct word uni-/bigrams over all of them, across samples;
/// - `win_rate`: with a judge (e.g. a reward model), the fraction of prompts where the policy's
///   sample scores above the reference's sample of the same index (ties count one half).
public enum SampleStatistics {
    public struct Sample: Sendable {
        public var prompt: [Int]
        public var tokens: [Int]
        public var text: String
    }

    public struct Result: Sendable {
        public var samples: Int
        public var meanLength: Double
        public var entropy: Double
        public var kl: Double?
        public var klPerToken: Double?
        public var distinct1: Double
        public var distinct2: Double
        public var winRate: Double?
    }

    /// `count` samples per prompt from `model`: round k draws from a generator seeded with
    /// `config.seed + k` (the same streams for any model and any batch size).
    /// `progress(done, total)` after each batch, in samples.
    public static func sample(_ model: any CausalLM, prompts: [[Int]], count: Int, config: GenerationConfig,
                              tokenizer: Tokenizer, batchSize: Int, progress: ((Int, Int) -> Void)? = nil) throws -> [Sample] {
        var out: [Sample] = []
        for round in 0..<count {
            // one generator per round, forked once per prompt in order: a sample depends on the
            // seed, the round and the prompt's index, not on the batch size
            var rng = RandomGenerator(seed: config.seed &+ UInt64(round))
            var i = 0
            while i < prompts.count {
                let chunk = Array(prompts[i..<min(i + batchSize, prompts.count)])
                i += chunk.count
                let result = try generate(model, chunk, config, &rng)
                for (p, s) in zip(chunk, result.sequences) {
                    out.append(Sample(prompt: p, tokens: s.tokens, text: tokenizer.decode(s.tokens, skipSpecialTokens: true)))
                }
                progress?(out.count, prompts.count * count)
            }
        }
        return out
    }

    static func generate<M: CausalLM>(_ model: M, _ prompts: [[Int]], _ config: GenerationConfig,
                                      _ rng: inout RandomGenerator) throws -> GenerationResult {
        try Generator(model: model).generate(prompts: prompts, config: config, rng: &rng)
    }

    /// Per sample: the model's log-probabilities of the sampled tokens and its entropy at each of
    /// those positions (teacher-forced on prompt + sample).
    public static func score(_ model: any CausalLM, _ samples: [Sample]) -> [(logProbs: [Double], entropies: [Double])] {
        samples.map { s in
            guard !s.tokens.isEmpty else { return ([], []) }
            let ids = s.prompt + s.tokens
            let V = model.config.vocabSize
            let logits = withNoGrad { model.logits(ids: ids, batch: 1, length: ids.count) }.scalars
            var lps: [Double] = [], hs: [Double] = []
            for (j, token) in s.tokens.enumerated() {
                let row = (s.prompt.count - 1 + j) * V
                var top = -Double.infinity
                for v in 0..<V { top = max(top, Double(logits[row + v])) }
                var z = 0.0
                for v in 0..<V { z += Foundation.exp(Double(logits[row + v]) - top) }
                let logZ = top + Foundation.log(z)
                var h = 0.0
                for v in 0..<V {
                    let lp = Double(logits[row + v]) - logZ
                    h -= Foundation.exp(lp) * lp
                }
                lps.append(Double(logits[row + token]) - logZ)
                hs.append(h)
            }
            return (lps, hs)
        }
    }

    /// Distinct word n-grams over all texts / all word n-grams (0 when there are none).
    public static func distinct(_ texts: [String], n: Int) -> Double {
        var seen = Set<[Substring]>(), total = 0
        for t in texts {
            let words = t.split(whereSeparator: \.isWhitespace)
            guard words.count >= n else { continue }
            for i in 0...(words.count - n) {
                seen.insert(Array(words[i..<i + n]))
                total += 1
            }
        }
        return total > 0 ? Double(seen.count) / Double(total) : 0
    }

    /// The statistics of `samples` from `policy`; `reference` adds the KL, `judge` (scores of
    /// policy samples, then of the reference's samples of the same prompts) the win rate.
    public static func evaluate(policy: any CausalLM, reference: (any CausalLM)?, samples: [Sample],
                                referenceSamples: [Sample]? = nil, judge: (([Sample]) throws -> [Double])? = nil) throws -> Result {
        let mine = score(policy, samples)
        let tokens = mine.map(\.logProbs.count).reduce(0, +)
        let entropy = mine.flatMap(\.entropies).reduce(0, +) / Double(max(tokens, 1))
        var kl: Double?, klPerToken: Double?
        if let reference {
            let theirs = score(reference, samples)
            let perSample = zip(mine, theirs).map { zip($0.logProbs, $1.logProbs).map { $0 - $1 }.reduce(0, +) }
            kl = perSample.reduce(0, +) / Double(max(samples.count, 1))
            klPerToken = perSample.reduce(0, +) / Double(max(tokens, 1))
        }
        var winRate: Double?
        if let judge, let referenceSamples {
            precondition(referenceSamples.count == samples.count, "SampleStatistics: one reference sample per policy sample")
            let a = try judge(samples), b = try judge(referenceSamples)
            winRate = zip(a, b).map { $0 > $1 ? 1.0 : ($0 == $1 ? 0.5 : 0) }.reduce(0, +) / Double(max(a.count, 1))
        }
        let texts = samples.map(\.text)
        return Result(samples: samples.count, meanLength: Double(tokens) / Double(max(samples.count, 1)), entropy: entropy,
                      kl: kl, klPerToken: klPerToken, distinct1: distinct(texts, n: 1), distinct2: distinct(texts, n: 2), winRate: winRate)
    }
}
