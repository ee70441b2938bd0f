import AlignData
import AlignNN
import AlignTraining
import ArgumentParser
import Foundation

/// `align synth`: preference pairs made by a strong and a weak model and judged by a reward model
/// (seed 000): each model samples answers to every prompt, and each strong answer that the reward
/// model scores more than `--min-margin` above a weak answer makes a pair, strong chosen.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Make preference pairs: a strong and a weak model answer each prompt, a reward model picks pairs with a clear margin.")

    @Option(help: "Prompts, JSONL with a string \"prompt\" per line.") var prompts: String
    @Option(help: "The strong model (its answers become chosen).") var strong: String
    @Option(help: "The weak model (its answers become rejected).") var weak: String
    @Option(help: "The reward model judging both (align rm).") var rewardModel: String
    @Option(help: "Where to write the pairs (JSONL, TRL's conversational form; replaced atomically).") var output: String
    @Option(parsing: .unconditional, help: "Answers per model and prompt.") var samples = 3
    @Option(parsing: .unconditional, help: "Sampling temperature of the strong model.") var strongTemperature: Float = 0.7
    @Option(parsing: .unconditional, help: "Sampling temperature of the weak model.") var weakTemperature: Float = 0.9
    @Option(parsing: .unconditional, help: "Keep a pair when r(strong) > r(weak) + this.") var minMargin: Double = 1.0
    @Option(parsing: .unconditional, help: "Maximum tokens per answer.") var maxNewTokens = 64
    @Option(parsing: .unconditional, help: "Seed of the samples.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Prompts per generation batch.") var batchSize = 8
    @Flag(inversion: .prefixedNo, help: "Apply each model's chat template (default on).") var chat = true

    func validate() throws {
        for (flag, path) in [("--prompts", prompts), ("--strong", strong), ("--weak", weak), ("--reward-model", rewardModel)]
            where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(flag) \(path): no such file or directory")
        }
        try OutputPaths.check(inputs: [("--prompts", prompts), ("--strong", strong), ("--weak", weak), ("--reward-model", rewardModel)],
                              outputs: [.file("--output", output)])
        guard samples >= 1, maxNewTokens >= 1, batchSize >= 1 else { throw ValidationError("--samples, --max-new-tokens and --batch-size must be ≥ 1") }
        guard strongTemperature > 0, weakTemperature > 0 else { throw ValidationError("temperatures must be > 0 (greedy answers repeat)") }
    }

    /// `samples` answers per prompt from the model at `path`, as text: [prompt][sample].
    func answers(_ path: String, temperature: Float, texts: [String]) throws -> [[String]] {
        let loaded = try ModelStore.load(path)
        let tokenizer = try ModelStore.loadTokenizer(path)
        let ids = try promptIDs(texts, tokenizer: tokenizer, chat: chat)
        let config = GenerationConfig(maxNewTokens: maxNewTokens, sampling: SamplingConfig(temperature: temperature),
                                      stopTokenIDs: stopTokenIDs(loaded.model, tokenizer), seed: seed, padTokenID: tokenizer.padTokenID)
        let drawn = try SampleStatistics.sample(loaded.model, prompts: ids, count: samples, config: config, tokenizer: tokenizer, batchSize: batchSize)
        // drawn is round-major: sample k of prompt i is at k·P + i
        return texts.indices.map { i in (0..<samples).map { drawn[$0 * texts.count + i].text.trimmingCharacters(in: .whitespacesAndNewlines) } }
    }

    func run() throws {
        let texts = try readPrompts(prompts).map(\.userText)
        let rm = try RewardModelStore.load(rewardModel)
        guard let rmTokenizer = rm.tokenizer else { throw ValidationError("--reward-model \(rewardModel): no tokenizer saved with it") }
        let strongAnswers = try answers(strong, temperature: strongTemperature, texts: texts)
        let weakAnswers = try answers(weak, temperature: weakTemperature, texts: texts)
        let options = TokenizationOptions(maxSeqLen: rm.maxSeqLen ?? rm.model.backbone.config.contextLength,
                                          chatTemplate: try ChatTemplate.resolve(rm.chatTemplate, tokenizer: rmTokenizer))
        func rewards(_ prompt: String, _ answers: [String]) throws -> [Double] {
            let sequences = try answers.map { a in
                try RewardScoring.tokenize(prompt: .conversation([.user(prompt)]), response: .conversation([.assistant(a.isEmpty ? " " : a)]),
                                           tokenizer: rmTokenizer, options: options, location: prompts)
            }
            return rm.model.score(sequences, batchSize: batchSize).map { Double($0.reward) }
        }
        var lines = ""
        var made = 0, duplicates = 0, margins: [Double] = []
        for (i, prompt) in texts.enumerated() {
            let rs = try rewards(prompt, strongAnswers[i]), rw = try rewards(prompt, weakAnswers[i])
            var seen = Set<[String]>()
            for (s, w) in SyntheticPreferences.pairs(strongRewards: rs, weakRewards: rw, minMargin: minMargin)
                where strongAnswers[i][s] != weakAnswers[i][w] && !strongAnswers[i][s].isEmpty && !weakAnswers[i][w].isEmpty {
                // the same two answers drawn twice make one pair
                guard seen.insert([strongAnswers[i][s], weakAnswers[i][w]]).inserted else { duplicates += 1; continue }
                let row: [String: Any] = ["prompt": [["role": "user", "content": prompt]],
                                          "chosen": [["role": "assistant", "content": strongAnswers[i][s]]],
                                          "rejected": [["role": "assistant", "content": weakAnswers[i][w]]]]
                lines += String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) + "\n"
                made += 1
                margins.append(rs[s] - rw[w])
            }
        }
        try writeFileAtomically(Data(lines.utf8), to: URL(fileURLWithPath: output))
        let mean = margins.isEmpty ? 0 : margins.reduce(0, +) / Double(margins.count)
        print(String(format: "%d prompts × %d answers per model: %d distinct pairs with r(strong) > r(weak) + %g (mean margin %.3f, %d repeats dropped); wrote %@",
                     texts.count, samples, made, minMargin, mean, duplicates, output))
    }
}
