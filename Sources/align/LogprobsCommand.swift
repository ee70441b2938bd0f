import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import ArgumentParser
import Foundation

/// `align logprobs`: per-token log-probabilities of responses given prompts, for scoring and
/// debugging. Prompt and response are encoded separately (no special tokens added) and
/// concatenated, as TRL does; the logits at position t score token t+1.
struct LogprobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logprobs",
        abstract: "Score {\"prompt\", \"response\"} JSON lines: response tokens, their log-probs and the sum.")

    @OptionGroup var model: ModelOptions
    @Option(help: "JSONL file of {\"prompt\": …, \"response\": …} objects.") var input: String
    @Option(help: "Write the results here (atomically) instead of standard output.") var output: String?

    func validate() throws {
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("--input \(input): no such file") }
        try OutputPaths.check(inputs: [("--input", input), ("--model", model.model)], outputs: output.map { [OutputPaths.Output.file("--output", $0)] } ?? [])
    }

    struct Pair { let line: Int; let prompt: String; let response: String }

    /// Every line parsed before anything runs; each bad line is reported with its number.
    func readPairs() throws -> [Pair] {
        let pairs = try JSONLines.read(input) { (obj: [String: Any], line: Int) throws -> Pair in
            guard let prompt = obj["prompt"] as? String else { throw JSONLines.Problem("missing string field \"prompt\"") }
            guard let response = obj["response"] as? String else { throw JSONLines.Problem("missing string field \"response\"") }
            guard !response.isEmpty else { throw JSONLines.Problem("empty \"response\"") }
            return Pair(line: line, prompt: prompt, response: response)
        }
        guard !pairs.isEmpty else { throw ValidationError("\(input): no {\"prompt\", \"response\"} lines") }
        return pairs
    }

    func run() throws {
        let pairs = try readPairs()
        let (loaded, tokenizer) = try model.load()
        let lm = loaded.model
        var lines: [String] = []
        for pair in pairs {
            let p = tokenizer.encode(pair.prompt, addSpecialTokens: false)
            let r = tokenizer.encode(pair.response, addSpecialTokens: false)
            let ids = p + r
            guard ids.count <= lm.config.contextLength else {
                throw ValidationError("\(input):\(pair.line): \(ids.count) tokens exceed the model's context length \(lm.config.contextLength)")
            }
            guard !p.isEmpty else {
                throw ValidationError("\(input):\(pair.line): empty prompt (the first response token would have no context)")
            }
            // targets: token t+1 at position t for the response positions, ignored elsewhere
            var targets = [Int](repeating: -100, count: ids.count)
            for j in 0..<r.count { targets[p.count + j - 1] = r[j] }
            let lp = withNoGrad { lm.logits(ids: ids, batch: 1, length: ids.count).logProbs(ofTargets: targets) }.scalars
            let values = (0..<r.count).map { lp[p.count + $0 - 1] }
            let sum = values.reduce(0.0) { $0 + Double($1) }
            let object: [String: Any] = ["prompt_tokens": p.count, "response_tokens": r,
                                         "logprobs": values.map(Double.init), "sum": sum]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        }
        let text = lines.joined(separator: "\n") + "\n"
        if let output {
            try writeFileAtomically(Data(text.utf8), to: URL(fileURLWithPath: output))
        } else {
            print(text, terminator: "")
        }
    }
}
