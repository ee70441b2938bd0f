import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import ArgumentParser
import Foundation

/// `align eval`: alignment accuracy (ALGORITHMS.md, Evaluation): the fraction of greedy answers
/// to held-out prompts that satisfy the target — here, that the answer contains the expected
/// text ({"prompt", "answer"} JSONL), case-insensitively.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Answer held-out {\"prompt\", \"answer\"} lines greedily and report the fraction whose answer contains the expected text.")

    @OptionGroup var model: ModelOptions
    @Option(help: "JSONL file of {\"prompt\": …, \"answer\": …} objects.") var input: String
    @Flag(inversion: .prefixedNo, help: "Apply the model's chat template to each prompt (default on).") var chat = true
    @Option(help: "Maximum tokens per answer.") var maxNewTokens = 32
    @Option(help: "Prompts per generation batch.") var batchSize = 16
    @Option(help: "Show this many question/answer examples.") var show = 5
    @Flag(help: "Print one JSON object with the accuracy and every answer.") var json = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("--input \(input): no such file") }
        guard maxNewTokens >= 1, batchSize >= 1 else { throw ValidationError("--max-new-tokens and --batch-size must be ≥ 1") }
    }

    func run() throws {
        var items: [(prompt: String, answer: String)] = []
        let text = try String(contentsOfFile: input, encoding: .utf8)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let p = obj["prompt"] as? String, let a = obj["answer"] as? String else {
                throw ValidationError("\(input):\(i + 1): expected a JSON object with string fields \"prompt\" and \"answer\"")
            }
            items.append((p, a))
        }
        guard !items.isEmpty else { throw ValidationError("\(input): no prompts") }
        let (loaded, tokenizer) = try model.load()
        let answers = try greedyAnswers(model: loaded.model, tokenizer: tokenizer, prompts: items.map(\.prompt), chat: chat,
                                        maxNewTokens: maxNewTokens, batchSize: batchSize)
        let correct = zip(items, answers).map { $1.lowercased().contains($0.answer.lowercased()) }
        let accuracy = Double(correct.filter { $0 }.count) / Double(items.count)
        if json {
            let rows = zip(items, zip(answers, correct)).map { ["prompt": $0.prompt, "expected": $0.answer, "answer": $1.0, "correct": $1.1] as [String: Any] }
            let obj: [String: Any] = ["accuracy": accuracy, "correct": correct.filter { $0 }.count, "total": items.count, "answers": rows]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]), as: UTF8.self))
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
    let template = chat ? ChatTemplate.detect(tokenizer) ?? .chatml : nil
    var stops = model.config.eosTokenIDs
    if let eos = tokenizer.eosTokenID, !stops.contains(eos) { stops.append(eos) }
    let config = GenerationConfig(maxNewTokens: maxNewTokens, stopTokenIDs: stops, padTokenID: tokenizer.padTokenID)
    var out: [String] = []
    var i = 0
    while i < prompts.count {
        let chunk = Array(prompts[i..<min(i + batchSize, prompts.count)])
        i += chunk.count
        let ids = try chunk.map { p in
            try template.map { try $0.encode([.user(p)], with: tokenizer, addGenerationPrompt: true).ids } ?? tokenizer.encode(p)
        }
        let result = try generate(model: model, prompts: ids, config: config)
        out += result.sequences.map { tokenizer.decode($0.tokens, skipSpecialTokens: true).trimmingCharacters(in: .whitespacesAndNewlines) }
    }
    return out
}
