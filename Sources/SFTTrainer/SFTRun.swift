import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// `align sft --config run.json`: everything from a validated run config to `final/`.
public enum SFTRun {
    /// Reads and tokenises the training and evaluation data, builds the objective and trains.
    /// Data problems (a malformed line, an empty data set, `max_seq_len` over the model's
    /// context) throw before anything is written to the output directory.
    @discardableResult
    public static func run(config: RunConfig, callback: @escaping TrainingCallback) throws -> [String: Any] {
        let sft = config.trainerConfig(SFTConfig.self)
        try config.checkOutputDirectory()
        let run = try TrainerRun(config: config, callback: callback)
        let model = run.model
        let data = config.data
        try run.checkSequenceLength()
        let template = try run.chatTemplate
        var sources: [MixtureSource<SFTExample>] = []
        var report: [String: Any] = [:]
        for src in data.train {
            let file = try readDataset(src.path, format: data.format, skipInvalid: data.skipInvalid)
            let options = TokenizationOptions(maxSeqLen: data.maxSeqLen, completionOnlyLoss: data.completionOnlyLoss(for: file.format),
                                              truncationSide: data.truncationSide, stride: data.stride, chatTemplate: template)
            let set = try file.sftExamples(tokenizer: run.tokenizer, options: options)
            guard !set.examples.isEmpty else {
                throw AlignDataError(.invalidArgument, path: src.path, "no training examples left after tokenisation (\(set.report))")
            }
            // some long examples may be cut (counted in the report); every one being cut means
            // max_seq_len is below the data's prompts, a configuration mistake rather than data
            if set.report.truncated == set.report.examples && set.report.examples > 0 && file.format != .text {
                throw AlignDataError(.invalidArgument, path: src.path,
                                     "data.max_seq_len \(data.maxSeqLen) is shorter than every example (all \(set.report.examples) would be truncated); raise data.max_seq_len")
            }
            callback(.message("train \(set.report)"))
            report[src.path] = set.report.description
            sources.append(run.mixtureSource(src, examples: set.examples))
        }
        var evalExamples: [SFTExample] = []
        if let evalPath = data.eval {
            let file = try readDataset(evalPath, format: data.format, skipInvalid: data.skipInvalid)
            let options = TokenizationOptions(maxSeqLen: data.maxSeqLen, completionOnlyLoss: data.completionOnlyLoss(for: file.format),
                                              truncationSide: data.truncationSide, stride: data.stride, chatTemplate: template)
            let set = try file.sftExamples(tokenizer: run.tokenizer, options: options)
            callback(.message("eval \(set.report)"))
            evalExamples = set.examples
        } else if sources.count == 1 {
            (sources[0].examples, evalExamples) = try run.holdOut(sources[0].examples)
        }
        let reference: (any CausalLM)? = sft.klCoef > 0 ? try ReferenceModel.ofRun(run, hint: " (sft.kl_coef needs one)") : nil
        let objective = try SFTObjective(model: model, train: sources, eval: evalExamples, batchSize: config.batchSize,
                                         seed: config.seed, shuffle: data.shuffle, padID: Batch.padID(for: run.tokenizer),
                                         klCoef: Float(sft.klCoef), reference: reference)
        objective.communicator = run.communicator
        let examples = sources.reduce(0) { $0 + $1.examples.count }
        return try run.train(objective, examples: examples, extraSummary: ["trainer": "sft", "train_examples": examples,
                                                                             "eval_examples": evalExamples.count, "data": report])
    }

    /// A data file: JSONL / JSON records, or plain text (`.txt`: one document per non-empty
    /// line, format `text`).
    static func readDataset(_ path: String, format: DatasetFormat, skipInvalid: Bool) throws -> DatasetFile {
        let url = URL(fileURLWithPath: path)
        guard url.pathExtension.lowercased() == "txt" else { return try DatasetFile.read(url, format: format, skipInvalid: skipInvalid) }
        guard format == .auto || format == .text else {
            throw AlignDataError(.invalidArgument, path: path, "a .txt file is raw text; data.format must be \"text\" or \"auto\", not \"\(format.rawValue)\"")
        }
        let text = try FileErrors.readText(path)  // names the line of invalid UTF-8
        var records: [DatasetRecord] = [], lines: [Int] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            records.append(.text(String(line)))
            lines.append(i + 1)
        }
        return try DatasetFile(records: records, source: path, lines: lines)
    }
}
