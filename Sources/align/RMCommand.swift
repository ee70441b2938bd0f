import AlignData
import AlignTraining
import ArgumentParser
import Foundation
import RewardTrainer

/// `align rm --config run.json`: reward-model training (ALGORITHMS.md, Reward model);
/// `align rm score`: rewards for prompt/response lines with a trained reward model.
struct RMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Train a reward model (Bradley–Terry, optionally an ensemble of heads) from a JSON run config.",
        discussion: """
            Data: preference pairs {"prompt", "chosen", "rejected"} (strings or message lists, optional "margin"). \
            Writes output_dir/run.json, metrics.jsonl, checkpoints/step-N/, summary.json and final/: a Hugging Face \
            sequence-classification model (AutoModelForSequenceClassification, num_labels = rm.num_heads) with \
            eval_margins.svg. Score with `align rm score --model output_dir/final --input lines.jsonl`.
            """,
        subcommands: [RMScoreCommand.self])

    @OptionGroup var options: TrainOptions

    func run() throws {
        let summary = try options.execute(trainer: RMConfig.schema) { config, callback in try RMRun.run(config: config, callback: callback) }
        if let accuracy = summary["eval/accuracy"] as? Double {
            print(String(format: "eval accuracy %.3f, eval margin mean %.3f", accuracy, summary["eval/margin_mean"] as? Double ?? .nan))
        }
    }
}

/// `align rm score --model DIR --input FILE [--output FILE]`.
struct RMScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score {\"prompt\", \"response\"} lines (or preference pairs) with a reward model; one JSON line each.",
        discussion: """
            Each output line has "line" and "reward" ("std" and per-head "rewards" with an ensemble); a preference line \
            gives "chosen_reward", "rejected_reward", "margin" and "chosen_wins", and a summary of the pairs goes to stderr.
            """)

    @Option(help: "A reward model directory (align rm's output_dir/final).") var model: String
    @Option(help: "JSONL file of {\"prompt\", \"response\"} or {\"prompt\", \"chosen\", \"rejected\"} objects.") var input: String
    @Option(help: "Write the JSON lines to this file instead of standard output.") var output: String?
    @Option(parsing: .unconditional, help: "Sequences per forward pass.") var batchSize = 8
    @Option(parsing: .unconditional, help: "Truncate prompt+response to this many tokens (default: the model's context length).") var maxSeqLen: Int?
    @Flag(help: "Include the token ids of each scored sequence (for comparisons with transformers).") var includeIds = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("--input \(input): no such file") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be ≥ 1") }
        try OutputPaths.check(inputs: [("--input", input), ("--model", model)], outputs: output.map { [OutputPaths.Output.file("--output", $0)] } ?? [])
        if let m = maxSeqLen, m < 2 { throw ValidationError("--max-seq-len must be ≥ 2") }
    }

    func run() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: input))
        let loaded = try RewardModelStore.load(model)
        let rows = try RewardScoring.score(loaded, input: data, source: input, maxSeqLen: maxSeqLen, batchSize: batchSize, includeIDs: includeIds)
        let text = try RewardScoring.jsonLines(rows)
        if let output {
            try writeFileAtomically(Data(text.utf8), to: URL(fileURLWithPath: output))
        } else {
            print(text, terminator: "")
        }
        let pairs = rows.compactMap { $0["chosen_wins"] as? Bool }
        if !pairs.isEmpty {
            let wins = pairs.filter { $0 }.count
            printError(String(format: "%d pairs: chosen wins %d (accuracy %.3f)", pairs.count, wins, Double(wins) / Double(pairs.count)))
        }
        if let output { printError("wrote \(rows.count) lines to \(output)") }
    }
}
