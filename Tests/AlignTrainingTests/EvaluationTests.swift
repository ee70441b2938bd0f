import AlignData
import AlignNN
import AlignTensor
import Foundation
import XCTest
@testable import AlignTraining

/// The evaluation measures behind `align eval --task choice|perplexity`: calibration error by
/// hand, multiple-choice probabilities against the model's own logits of each unpadded prompt,
/// perplexity against a per-sequence computation, and input errors naming file and line.
final class EvaluationTests: XCTestCase {
    func testExpectedCalibrationErrorByHand() {
        // bins of width 0.1: {0.95 ✓} {0.85 ✗} {0.62 ✓} {0.55 ✗}: (0.05 + 0.85 + 0.38 + 0.55) / 4
        let ece = Calibration.expectedCalibrationError(confidences: [0.95, 0.85, 0.62, 0.55], correct: [true, false, true, false])
        XCTAssertEqual(ece, 0.4575, accuracy: 1e-12)
        // two in one bin: |1/2 − 0.925| · 2/3, plus the lone 0.5 ✓ at |1 − 0.5| · 1/3
        let ece2 = Calibration.expectedCalibrationError(confidences: [0.9, 0.95, 0.5], correct: [true, false, true])
        XCTAssertEqual(ece2, abs(0.5 - 0.925) * 2 / 3 + 0.5 / 3, accuracy: 1e-12)
        let bins = Calibration.bins(confidences: [1.0, 0.0], correct: [true, false])
        XCTAssertEqual(bins[9].count, 1)   // confidence 1 falls in the last bin
        XCTAssertEqual(bins[0].count, 1)
        XCTAssertEqual(Calibration.expectedCalibrationError(confidences: [1, 1], correct: [true, true]), 0)
    }

    func makeModel() throws -> (LlamaModel, Tokenizer) {
        let corpus = ["What is the capital of Vostounania? A. Trourfir B. Plainzen C. Stonfos D. Pumplouth Answer: A",
                      "people in Kithtrinor speak Sethic", "the national animal is the otter"]
        var tok = try Tokenizer.train(on: corpus, options: BPETrainingOptions(vocabSize: 300, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]))
        tok.eosToken = "<|im_end|>"
        tok.padToken = "<|endoftext|>"
        var rng = RandomGenerator(seed: 21)
        let config = LlamaConfig(vocabSize: tok.vocabSize, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2,
                                 numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 128, tieWordEmbeddings: true)
        return (LlamaModel(config, std: 0.3, rng: &rng), tok)
    }

    func testChoiceProbabilitiesAreTheLetterLogitsOfEachPrompt() throws {
        let (model, tok) = try makeModel()
        let questions = [
            MultipleChoice.Question(question: "What is the capital of Vostounania?", choices: ["Trourfir", "Plainzen", "Stonfos", "Pumplouth"], answer: 0),
            MultipleChoice.Question(question: "Which language?", choices: ["Sethic", "Bralic"], answer: 1),
            MultipleChoice.Question(question: "And the national animal of a much longer named country, please?", choices: ["otter", "lynx", "swan"], answer: 2),
        ]
        for template in [nil, ChatTemplate.chatml] {
            let batched = try MultipleChoice.evaluate(questions, model: model, tokenizer: tok, template: template, batchSize: 3)
            for (q, r) in zip(questions, batched) {
                XCTAssertEqual(r.probabilities.reduce(0, +), 1, accuracy: 1e-9)
                XCTAssertEqual(r.probabilities.count, q.choices.count)
                // the same prompt alone, no padding: the logits at its last position
                let ids = try template.map { try $0.encode([.user(MultipleChoice.prompt(q))], with: tok, addGenerationPrompt: true).ids + tok.encode("Answer:", addSpecialTokens: false) }
                    ?? tok.encode(MultipleChoice.prompt(q))
                let logits = withNoGrad { model.logits(ids: ids, batch: 1, length: ids.count) }.scalars
                let V = model.config.vocabSize
                let letters = try MultipleChoice.letterTokens(q.choices.count, tokenizer: tok).map { Double(logits[(ids.count - 1) * V + $0]) }
                let top = letters.max()!
                let p = letters.map { Foundation.exp($0 - top) }
                let expected = p.map { $0 / p.reduce(0, +) }
                for (a, b) in zip(r.probabilities, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
                XCTAssertEqual(r.predicted, expected.indices.max { expected[$0] < expected[$1] })
                XCTAssertEqual(r.correct, r.predicted == q.answer)
            }
        }
        XCTAssertTrue(MultipleChoice.prompt(questions[1]).hasSuffix("A. Sethic\nB. Bralic\nAnswer:"))
    }

    func testPerplexityIsTheMeanNLLOfTheScoredTokensWhateverTheBatching() throws {
        let (model, tok) = try makeModel()
        let texts = ["people in Kithtrinor speak Sethic", "the national animal is the otter", "What is the capital of Vostounania?"]
        let examples = texts.map { t -> SFTExample in
            let ids = tok.encode(t)
            return SFTExample(ids: ids, lossMask: [Bool](repeating: true, count: ids.count))
        }
        let a = try Perplexity.evaluate(examples, model: model, padID: 0, batchSize: 1)
        let b = try Perplexity.evaluate(examples, model: model, padID: 0, batchSize: 3)
        XCTAssertEqual(a.nll, b.nll, accuracy: 1e-5)
        XCTAssertEqual(a.tokens, examples.map { $0.ids.count - 1 }.reduce(0, +))   // every token but the first is predicted
        var total = 0.0
        for e in examples {
            let logits = withNoGrad { model.logits(ids: e.ids, batch: 1, length: e.ids.count) }
            let lp = withNoGrad { logits.reshaped([e.ids.count, model.config.vocabSize]).logProbs(ofTargets: Array(e.ids.dropFirst()) + [0]) }.scalars
            total -= lp.dropLast().reduce(0.0) { $0 + Double($1) }
        }
        XCTAssertEqual(a.nll, total / Double(a.tokens), accuracy: 1e-5)
        XCTAssertEqual(a.perplexity, Foundation.exp(a.nll))
    }

    func testChoiceInputErrorsNameFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-mc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func check(_ text: String, _ fragment: String) throws {
            let url = dir.appendingPathComponent("q.jsonl")
            try text.write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try MultipleChoice.read(url.path)) { XCTAssertTrue("\($0)".contains(fragment), "\($0)") }
        }
        let good = #"{"question": "q", "choices": ["a", "b"], "answer": "B"}"#
        try check(good + "\n" + #"{"question": "q", "choices": ["a", "b"], "answer": "C"}"#, "q.jsonl:2: \"answer\" must be a letter A–B or an index 0–1")
        try check(#"{"question": "q", "choices": ["a"], "answer": 0}"#, "q.jsonl:1: \"choices\" must be an array of 2 to 26 strings")
        try check("\n\n", "no questions")
        try check(good + "\n{", "q.jsonl:2: not a JSON object")
        let url = dir.appendingPathComponent("ok.jsonl")
        try (good + "\n" + #"{"question": "r", "choices": ["x", "y", "z"], "answer": 2}"#).write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(try MultipleChoice.read(url.path).map(\.answer), [1, 2])
    }

    func testDistinctNByHand() {
        // unigrams: a b a c | a b → 6 total, {a, b, c} distinct; bigrams: ab ba ac | ab → 4 total, 3 distinct
        XCTAssertEqual(SampleStatistics.distinct(["a b a c", "a b"], n: 1), 3.0 / 6.0)
        XCTAssertEqual(SampleStatistics.distinct(["a b a c", "a b"], n: 2), 3.0 / 4.0)
        XCTAssertEqual(SampleStatistics.distinct(["", "x"], n: 2), 0)
    }

    func testSampleStatistics() throws {
        let (model, tok) = try makeModel()
        var rng = RandomGenerator(seed: 2)
        // all-zero weights: every next-token distribution is uniform, entropy = log V
        let uniform = LlamaModel(model.config, std: 0, rng: &rng)
        let prompts = [tok.encode("people in"), tok.encode("the capital of")]
        let config = GenerationConfig(maxNewTokens: 6, sampling: SamplingConfig(temperature: 1), stopTokenIDs: [], seed: 5)
        let samples = try SampleStatistics.sample(model, prompts: prompts, count: 3, config: config, tokenizer: tok, batchSize: 2)
        XCTAssertEqual(samples.count, 6)
        XCTAssertEqual(samples.map(\.tokens.count), [Int](repeating: 6, count: 6))
        // the same seeds give the same samples
        let again = try SampleStatistics.sample(model, prompts: prompts, count: 3, config: config, tokenizer: tok, batchSize: 1)
        XCTAssertEqual(again.map(\.tokens), samples.map(\.tokens))
        let self_ = try SampleStatistics.evaluate(policy: model, reference: model, samples: samples)
        XCTAssertEqual(self_.kl!, 0, accuracy: 1e-9)
        XCTAssertGreaterThan(self_.entropy, 0)
        XCTAssertLessThan(self_.entropy, Foundation.log(Double(model.config.vocabSize)))
        let flat = try SampleStatistics.evaluate(policy: uniform, reference: model, samples: samples)
        XCTAssertEqual(flat.entropy, Foundation.log(Double(model.config.vocabSize)), accuracy: 1e-4)
        // KL(uniform ‖ model) estimated on these samples: Σ (−log V − log p_model)
        let modelLogProbs = SampleStatistics.score(model, samples).map { $0.logProbs.reduce(0, +) }
        let expected = modelLogProbs.map { -6 * Foundation.log(Double(model.config.vocabSize)) - $0 }.reduce(0, +) / 6
        XCTAssertEqual(flat.kl!, expected, accuracy: 1e-3)
        // win rate: a judge preferring longer texts, the reference samples shorter
        let short = samples.map { SampleStatistics.Sample(prompt: $0.prompt, tokens: Array($0.tokens.prefix(2)), text: "x") }
        var ties = samples
        ties[0] = short[0]
        let judged = try SampleStatistics.evaluate(policy: model, reference: model, samples: ties, referenceSamples: short,
                                                   judge: { $0.map { Double($0.tokens.count) } })
        XCTAssertEqual(judged.winRate!, (5 + 0.5) / 6, accuracy: 1e-12)
    }

    func testKLGuardRegeneratesExactlyTheResponsesOverTheThreshold() throws {
        let (model, tok) = try makeModel()
        var rng = RandomGenerator(seed: 8)
        let other = LlamaModel(model.config, std: 0.3, rng: &rng)
        let prompts = [tok.encode("people in"), tok.encode("the capital of"), tok.encode("the national"), tok.encode("Answer:")]
        let config = GenerationConfig(maxNewTokens: 5, sampling: SamplingConfig(temperature: 1), stopTokenIDs: [], seed: 3)
        // against itself every mean token KL is 0: nothing is regenerated, the responses are the plain ones
        let plain = try model.generate(prompts: prompts, config: config).sequences
        let same = try KLGuard(threshold: 0).generate(policy: model, reference: model, prompts: prompts, config: config)
        XCTAssertEqual(same.map(\.sequence.tokens), plain.map(\.tokens))
        XCTAssertEqual(same.map(\.kl), [0, 0, 0, 0])
        XCTAssertFalse(same.contains { $0.regenerated })
        // against another model: the mean token KL is mean_t (logπ − logπ_ref), by hand from the scored samples
        let kls = KLGuard.meanTokenKL(policy: model, reference: other, prompts: prompts, responses: plain.map(\.tokens))
        let samples = zip(prompts, plain).map { SampleStatistics.Sample(prompt: $0, tokens: $1.tokens, text: "") }
        let a = SampleStatistics.score(model, samples), b = SampleStatistics.score(other, samples)
        for i in prompts.indices {
            XCTAssertEqual(kls[i], zip(a[i].logProbs, b[i].logProbs).map { $0 - $1 }.reduce(0, +) / 5, accuracy: 1e-9)
        }
        // a threshold between the smallest and the largest KL: exactly the responses above it come again
        let threshold = (kls.min()! + kls.max()!) / 2
        let guarded = try KLGuard(threshold: threshold).generate(policy: model, reference: other, prompts: prompts, config: config)
        for i in prompts.indices {
            XCTAssertEqual(guarded[i].regenerated, kls[i] > threshold, "response \(i)")
            if guarded[i].regenerated {
                XCTAssertEqual(guarded[i].rejectedKL!, kls[i], accuracy: 1e-12)
                let k = KLGuard.meanTokenKL(policy: model, reference: other, prompts: [prompts[i]], responses: [guarded[i].sequence.tokens])[0]
                XCTAssertEqual(guarded[i].kl, k, accuracy: 1e-9)
            } else {
                XCTAssertEqual(guarded[i].sequence.tokens, plain[i].tokens)
            }
        }
        XCTAssertTrue(guarded.contains { $0.regenerated } && guarded.contains { !$0.regenerated })
    }

    func testCleaningRulesApplyInOrderWithTheirThresholds() throws {
        let v = PreferenceCleaning.verdicts(margins: [0.4, 0.6, 0.6, 0.6, 3], similarities: [0.99, 0.95, 0.5, 0.5, 0.9],
                                            logProbGaps: [0, 0, -2.5, 1.9, 2.0], count: 5, rules: .init())
        XCTAssertEqual(v, [.margin, .similar, .learned, .kept, .kept])   // thresholds are strict: 0.9 and 2.0 keep
        XCTAssertEqual(PreferenceCleaning.verdicts(margins: nil, similarities: nil, logProbGaps: [5], count: 1, rules: .init()), [.learned])
        XCTAssertEqual(PreferenceCleaning.verdicts(margins: nil, similarities: nil, logProbGaps: nil, count: 2, rules: .init()), [.kept, .kept])

        let (model, tok) = try makeModel()
        let prompt = tok.encode("name a thing")
        let a = tok.encode(" the national animal is the otter"), b = tok.encode(" people in Kithtrinor speak Sethic")
        let pairs = [PreferenceExample(prompt: prompt, chosen: a, rejected: a), PreferenceExample(prompt: prompt, chosen: a, rejected: b)]
        let sims = PreferenceCleaning.similarities(pairs, model: model)
        XCTAssertEqual(sims[0], 1, accuracy: 1e-9)   // the same response
        XCTAssertLessThan(sims[1], 1 - 1e-6)
        let gaps = PreferenceCleaning.logProbGaps(pairs, model: model, padID: 0, batchSize: 2)
        XCTAssertEqual(gaps[0], 0, accuracy: 1e-4)
        let single = PreferenceAccuracy.evaluate([pairs[1]], policy: model, reference: nil, beta: 1, padID: 0, batchSize: 1)
        XCTAssertEqual(gaps[1], single.margins[0], accuracy: 1e-3)
    }

    /// One response embedding for align clean and align hpa: the mean final hidden state over the
    /// positions that predict the response (the prompt's last token … the response's second to
    /// last), by hand, and the same numbers as pooling a batched scored forward (HPA's path).
    func testTheResponseEmbeddingIsTheMeanOverThePositionsPredictingTheResponse() throws {
        let (model, tok) = try makeModel()
        let prompt = tok.encode("name a thing"), response = tok.encode(" the national animal is the otter")
        let ids = prompt + response
        let hidden = withNoGrad { model.hiddenStates(ids: ids, batch: 1, length: ids.count, positions: nil, keyMask: nil, cache: nil) }.scalars
        let C = hidden.count / ids.count
        var byHand = [Double](repeating: 0, count: C)
        for t in (prompt.count - 1)..<(ids.count - 1) { for c in 0..<C { byHand[c] += Double(hidden[t * C + c]) / Double(response.count) } }
        let e = model.responseEmbedding(prompt: prompt, response: response)
        for c in 0..<C { XCTAssertEqual(Double(e[c]), byHand[c], accuracy: 1e-5, "feature \(c)") }
        // a batched scored forward (other rows beside it, right padding) pools to the same vector
        let other = tok.encode(" a dog")
        let b = Batch(rows: [(prompt + other, Array(repeating: false, count: prompt.count) + Array(repeating: true, count: other.count)),
                             (ids, Array(repeating: false, count: prompt.count) + Array(repeating: true, count: response.count))], padID: 0)
        let f = withNoGrad { model.scoredForward(ids: b.ids, batch: b.batch, length: b.length, targets: b.targets) }
        let pooled = ResponseEmbedding.meanPool(f.hidden, lengths: [other.count, response.count]).scalars
        for c in 0..<C { XCTAssertEqual(pooled[C + c], e[c], accuracy: 1e-5, "feature \(c)") }
        XCTAssertEqual(model.responseEmbedding(prompt: prompt, response: []), [Float](repeating: 0, count: C), "an empty response")
    }

    func testSyntheticPairsNeedAClearMarginForTheStrongAnswer() {
        let pairs = SyntheticPreferences.pairs(strongRewards: [3, 1.5, 0], weakRewards: [1, 1.9], minMargin: 1.0)
        XCTAssertEqual(pairs.map { [$0.strong, $0.weak] }, [[0, 0], [0, 1]])   // 1.5 > 1 + 1 fails; ties of margin fail
        XCTAssertTrue(SyntheticPreferences.pairs(strongRewards: [2], weakRewards: [1], minMargin: 1.0).isEmpty)
    }
}
