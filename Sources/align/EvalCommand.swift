import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import ArgumentParser
import Foundation

/// `align eval`: what ALGORITHMS.md's Evaluation section measures on a model.
/// - `--task contains` (default): alignment accuracy, the fraction of greedy answers to
///   held-out `{"prompt", "answer"}` lines that contain the expected text, case-insensitively.
/// - `--task choice`: multiple-choice accuracy from the option letters' logits (seed 003's
///   C-Eval recipe) on `{"question", "choices", "answer"}` lines, with the expected
///   calibration error of those probabilities (seed 004).
/// - `--task perplexity`: exp(mean NLL) over the loss tokens of SFT-format data.
/// - `--task preference`: accuracy and margins of the policy's rewards on held-out preference
///   pairs: DPO's implicit rewards β·(logπ − logπ_ref) with `--reference`, else logπ.
/// - `--task ifeval`: greedy answers to IFEval-format prompts scored by IFEval's checks, strict
///   and loose, prompt- and instruction-level, per instruction id (`IFEvalTask.swift`).
/// - `--task samples`: sampled answers to `{"prompt"}` lines: token entropy, distinct-1/2, and
///   with `--reference` the KL to it, with `--reward-model` too the win rate against its samples.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model: alignment accuracy of greedy answers, multiple-choice accuracy and calibration, perplexity, preference accuracy, or sampled answers' entropy, diversity, KL and win rate.")

    enum Task: String, ExpressibleByArgument, CaseIterable {
        case contains, choice, perplexity, preference, samples, ifeval
    }

    @OptionGroup var model: ModelOptions
    @Option(help: "JSONL input: {\"prompt\", \"answer\"} (contains), {\"question\", \"choices\", \"answer\"} (choice), SFT data: text, prompt/completion or messages (perplexity), IFEval records {\"key\", \"prompt\", \"instruction_id_list\", \"kwargs\"} (ifeval).") var input: String
    @Option(help: "What to measure: contains, choice, perplexity, preference, samples or ifeval.") var task: Task = .contains
    @Option(help: "preference, samples: the reference model (implicit rewards; KL to it, and the other side of the win rate).") var reference: String?
    @Option(parsing: .unconditional, help: "preference: β of the implicit reward with --reference.") var beta: Double = 0.1
    @Option(help: "samples: a reward model (align rm) judging policy against reference samples.") var rewardModel: String?
    @Option(parsing: .unconditional, help: "samples: answers sampled per prompt.") var samplesPerPrompt = 4
    @Option(parsing: .unconditional, help: "samples: sampling temperature.") var temperature: Float = 1
    @Option(parsing: .unconditional, help: "samples: nucleus (top-p) threshold.") var topP: Float = 1
    @Option(parsing: .unconditional, help: "samples: seed of the first round of samples (round k uses seed + k).") var seed: UInt64 = 0
    @Flag(inversion: .prefixedNo, help: "Apply the model's chat template to each prompt (default on).") var chat = true
    @Option(parsing: .unconditional, help: "Maximum tokens per answer (default: 32 for contains and samples, 512 for ifeval).") var maxNewTokens: Int?
    @Option(name: .customLong("batch-size"), parsing: .unconditional,
            help: "Sequences per batch (default: 8 for ifeval, whose decode steps run the few-row kernel up to 8 rows; 16 otherwise).")
    var batchSizeOption: Int?
    var batchSize: Int { batchSizeOption ?? (task == .ifeval ? 8 : 16) }
    @Option(parsing: .unconditional, help: "Longest sequence for perplexity (longer ones are truncated from the left; default: the model's context).") var maxSeqLen: Int?
    @Option(parsing: .unconditional, help: "Show this many examples.") var show = 5
    @Flag(help: "Print one JSON object with the results.") var json = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("--input \(input): no such file") }
        guard (maxNewTokens ?? 1) >= 1, batchSize >= 1 else { throw ValidationError("--max-new-tokens and --batch-size must be ≥ 1") }
        guard show >= 0 else { throw ValidationError("--show \(show): must be ≥ 0") }
        if task == .preference, !(beta > 0) {
            throw ValidationError("--beta \(beta): must be > 0 (the implicit reward β·(logπ − logπ_ref) is meaningless at β ≤ 0)")
        }
        if let maxSeqLen, maxSeqLen < 2 { throw ValidationError("--max-seq-len must be ≥ 2") }
        if task == .samples {
            guard samplesPerPrompt >= 1 else { throw ValidationError("--samples-per-prompt must be ≥ 1") }
            if let error = SamplingConfig(temperature: temperature, topP: topP).validationError { throw ValidationError(error) }
            guard temperature > 0 else { throw ValidationError("--temperature must be > 0 for --task samples (greedy answers have no spread)") }
            if rewardModel != nil && reference == nil { throw ValidationError("--reward-model judges policy against reference samples: give --reference too") }
            for path in [reference, rewardModel].compactMap({ $0 }) where !FileManager.default.fileExists(atPath: path) {
                throw ValidationError("\(path): no such file or directory")
            }
        } else if rewardModel != nil || (reference != nil && task != .preference) {
            throw ValidationError("--reference belongs to --task preference or samples, --reward-model to --task samples")
        }
        if let reference, !FileManager.default.fileExists(atPath: reference) { throw ValidationError("--reference \(reference): no such file or directory") }
    }

    func run() throws {
        switch task {
        case .contains: try runContains()
        case .choice: try runChoice()
        case .perplexity: try runPerplexity()
        case .preference: try runPreference()
        case .samples: try runSamples()
        case .ifeval: try runIFEval()
        }
    }

    func printJSON(_ object: [String: Any]) throws {
        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]), as: UTF8.self))
    }

    func runChoice() throws {
        let questions = try MultipleChoice.read(input)
        let (loaded, tokenizer) = try model.load()
        let template = chat ? try ChatTemplate.resolve(nil, tokenizer: tokenizer) : nil
        let results = try MultipleChoice.evaluate(questions, model: loaded.model, tokenizer: tokenizer, template: template, batchSize: batchSize)
        let correct = results.filter(\.correct).count
        let accuracy = Double(correct) / Double(results.count)
        let confidences = results.map(\.confidence), hits = results.map(\.correct)
        let ece = Calibration.expectedCalibrationError(confidences: confidences, correct: hits)
        let meanConfidence = confidences.reduce(0, +) / Double(results.count)
        let chance = questions.map { 1 / Double($0.choices.count) }.reduce(0, +) / Double(questions.count)
        if json {
            let rows = zip(questions, results).map { q, r -> [String: Any] in
                ["question": q.question, "answer": MultipleChoice.letters[q.answer], "predicted": MultipleChoice.letters[r.predicted],
                 "probabilities": r.probabilities, "correct": r.correct]
            }
            try printJSON(["accuracy": accuracy, "correct": correct, "total": results.count, "chance": chance, "ece": ece,
                           "mean_confidence": meanConfidence, "questions": rows])
            return
        }
        for (q, r) in zip(questions, results).prefix(show) {
            print("  \(r.correct ? "✓" : "✗") \(q.question) → \(MultipleChoice.letters[r.predicted]) (p \(String(format: "%.2f", r.confidence)); answer \(MultipleChoice.letters[q.answer]))")
        }
        print(String(format: "accuracy %.1f%% (%d/%d; chance %.1f%%)  ECE %.3f  mean confidence %.3f",
                     100 * accuracy, correct, results.count, 100 * chance, ece, meanConfidence))
    }

    func runPerplexity() throws {
        let (loaded, tokenizer) = try model.load()
        let file = try DatasetFile.read(URL(fileURLWithPath: input))
        guard file.format != .preference else {
            throw ValidationError("\(input): preference pairs have no single text to score; give text, prompt/completion or messages lines")
        }
        let template = try ChatTemplate.resolve(nil, tokenizer: tokenizer)
        let options = TokenizationOptions(maxSeqLen: maxSeqLen ?? loaded.model.config.contextLength, chatTemplate: template)
        let set = try file.sftExamples(tokenizer: tokenizer, options: options)
        guard !set.examples.isEmpty else { throw ValidationError("\(input): no examples (\(set.report))") }
        let r = try Perplexity.evaluate(set.examples, model: loaded.model, padID: Batch.padID(for: tokenizer), batchSize: batchSize)
        if json {
            try printJSON(["perplexity": r.perplexity, "nll": r.nll, "tokens": r.tokens, "sequences": r.sequences, "format": file.format.rawValue])
            return
        }
        print(String(format: "perplexity %.3f (mean NLL %.4f nats over %d scored tokens of %d sequences, %@)",
                     r.perplexity, r.nll, r.tokens, r.sequences, file.format.rawValue))
    }

    func runPreference() throws {
        let (loaded, tokenizer) = try model.load()
        let file = try DatasetFile.read(URL(fileURLWithPath: input), format: .preference)
        let template = try ChatTemplate.resolve(nil, tokenizer: tokenizer)
        let options = TokenizationOptions(maxSeqLen: maxSeqLen ?? loaded.model.config.contextLength, chatTemplate: template)
        let set = try file.preferenceExamples(tokenizer: tokenizer, options: options)
        guard !set.examples.isEmpty else { throw ValidationError("\(input): no preference pairs (\(set.report))") }
        let referenceModel = try reference.map { try ReferenceModel.load($0, for: loaded.model, tokenizer: tokenizer, name: "--reference") }
        let r = PreferenceAccuracy.evaluate(set.examples, policy: loaded.model, reference: referenceModel, beta: beta,
                                            padID: Batch.padID(for: tokenizer), batchSize: batchSize)
        let kind = referenceModel == nil ? "log-probability" : "implicit reward β·(logπ − logπ_ref), β \(beta)"
        if json {
            try printJSON(["pairs": r.pairs, "accuracy": r.accuracy, "margin_mean": r.marginMean, "margin_std": r.marginStd,
                           "chosen_mean": r.chosenMean, "rejected_mean": r.rejectedMean, "reward": kind, "margins": r.margins])
            return
        }
        print(String(format: "%d pairs (%@): accuracy %.3f, margin %.3f ± %.3f, chosen %.3f, rejected %.3f",
                     r.pairs, kind, r.accuracy, r.marginMean, r.marginStd, r.chosenMean, r.rejectedMean))
    }

    func runSamples() throws {
        let prompts = try readPrompts(input).map(\.userText)
        let (loaded, tokenizer) = try model.load()
        let policy = loaded.model
        let referenceModel = try reference.map { try ReferenceModel.load($0, for: policy, tokenizer: tokenizer, name: "--reference") }
        let ids = try promptIDs(prompts, tokenizer: tokenizer, chat: chat)
        let config = GenerationConfig(maxNewTokens: maxNewTokens ?? 32, sampling: SamplingConfig(temperature: temperature, topP: topP),
                                      stopTokenIDs: stopTokenIDs(policy, tokenizer), seed: seed, padTokenID: tokenizer.padTokenID)
        let bar = EvalProgress("samples", total: ids.count * samplesPerPrompt)
        let samples = try SampleStatistics.sample(policy, prompts: ids, count: samplesPerPrompt, config: config, tokenizer: tokenizer,
                                                  batchSize: batchSize) { done, _ in bar.update(done) }
        var referenceSamples: [SampleStatistics.Sample]?
        var judge: (([SampleStatistics.Sample]) throws -> [Double])?
        if let rewardModel, let referenceModel {
            let rm = try RewardModelStore.load(rewardModel)
            guard rm.model.backbone.config.vocabSize == policy.config.vocabSize else {
                throw ValidationError("--reward-model \(rewardModel): a vocabulary of \(rm.model.backbone.config.vocabSize) tokens, the model \(policy.config.vocabSize); they must match")
            }
            if let theirs = rm.tokenizer { try tokenizer.requireSameVocabulary(theirs, name: "--reward-model", path: rewardModel, role: "a reward model") }
            let referenceBar = EvalProgress("reference samples", total: ids.count * samplesPerPrompt)
            referenceSamples = try SampleStatistics.sample(referenceModel, prompts: ids, count: samplesPerPrompt, config: config,
                                                           tokenizer: tokenizer, batchSize: batchSize) { done, _ in referenceBar.update(done) }
            // a reply that ended with a stop token is scored with what the chat template renders
            // after it (ChatTemplate.turnSuffixIDs), as the reward model was trained
            let stops = stopTokenIDs(policy, tokenizer)
            let suffix = chat ? try ChatTemplate.resolve(nil, tokenizer: tokenizer).turnSuffixIDs(tokenizer: tokenizer, stopTokens: stops) : []
            let context = rm.model.backbone.config.contextLength
            func row(_ s: SampleStatistics.Sample) -> [Int] {
                let ended = s.tokens.last.map(stops.contains) ?? false
                let ids = s.prompt + s.tokens
                return ended && ids.count + suffix.count <= context ? ids + suffix : ids
            }
            judge = { batch in rm.model.score(batch.map(row), batchSize: self.batchSize).map { Double($0.reward) } }
        }
        let r = try SampleStatistics.evaluate(policy: policy, reference: referenceModel, samples: samples,
                                              referenceSamples: referenceSamples, judge: judge)
        if json {
            var obj: [String: Any] = ["samples": r.samples, "mean_length": r.meanLength, "entropy": r.entropy,
                                      "distinct_1": r.distinct1, "distinct_2": r.distinct2,
                                      "texts": samples.map(\.text)]
            if let kl = r.kl { obj["kl"] = kl; obj["kl_per_token"] = r.klPerToken! }
            if let w = r.winRate { obj["win_rate"] = w }
            try printJSON(obj)
            return
        }
        for (p, s) in zip(prompts, samples).prefix(show) { print("  \(p) → \(s.text.trimmingCharacters(in: .whitespacesAndNewlines))") }
        var line = String(format: "%d samples, %.1f tokens each: entropy %.3f nats/token, distinct-1 %.3f, distinct-2 %.3f",
                          r.samples, r.meanLength, r.entropy, r.distinct1, r.distinct2)
        if let kl = r.kl { line += String(format: ", KL to the reference %.3f nats/sample (%.4f/token)", kl, r.klPerToken!) }
        if let w = r.winRate { line += String(format: ", win rate vs the reference %.1f%%", 100 * w) }
        print(line)
    }

    func runContains() throws {
        let items = try readPrompts(input).map { r -> (prompt: String, answer: String) in
            guard let answer = r.fields["answer"] else {
                throw ValidationError("\(input):\(r.line): expected a string field \"answer\" beside \"prompt\"")
            }
            return (r.userText, answer)
        }
        let (loaded, tokenizer) = try model.load()
        let answers = try greedyAnswers(model: loaded.model, tokenizer: tokenizer, prompts: items.map(\.prompt), chat: chat,
                                        maxNewTokens: maxNewTokens ?? 32, batchSize: batchSize)
        let correct = zip(items, answers).map { $1.lowercased().contains($0.answer.lowercased()) }
        let accuracy = Double(correct.filter { $0 }.count) / Double(items.count)
        if json {
            let rows = zip(items, zip(answers, correct)).map { ["prompt": $0.prompt, "expected": $0.answer, "answer": $1.0, "correct": $1.1] as [String: Any] }
            try printJSON(["accuracy": accuracy, "correct": correct.filter { $0 }.count, "total": items.count, "answers": rows])
            return
        }
        for i in 0..<min(show, items.count) {
            print("  \(correct[i] ? "✓" : "✗") \(items[i].prompt) → \(answers[i])")
        }
        print(String(format: "accuracy %.1f%% (%d/%d answers contain the expected text)", 100 * accuracy, correct.filter { $0 }.count, items.count))
    }
}

/// Greedy answers to `prompts` (chat-templated when `chat`), decoded without special tokens.
func greedyAnswers(model: any CausalLM, tokenizer: Tokenizer, prompts: [String], chat: Bool, maxNewTokens: Int, batchSize: Int) throws -> [String] {
    try greedyGenerations(model: model, tokenizer: tokenizer, prompts: prompts, chat: chat, maxNewTokens: maxNewTokens,
                          batchSize: batchSize, label: "answers")
        .map { tokenizer.decode($0.tokens, skipSpecialTokens: true).trimmingCharacters(in: .whitespacesAndNewlines) }
}
