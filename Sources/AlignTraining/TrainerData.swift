import AlignData
import AlignNN
import AlignTensor
import Foundation

/// Data set-up every trainer shares: the sequence-length check, the chat template, a mixture
/// source per `data.train` entry, and the `eval_fraction` hold-out.
extension TrainerRun {
    /// `data.max_seq_len` must fit the model's context.
    public func checkSequenceLength() throws {
        let data = config.data
        guard data.maxSeqLen <= model.config.contextLength else {
            throw ModelConfigError("data.max_seq_len \(data.maxSeqLen) exceeds the model's context length \(model.config.contextLength)")
        }
    }

    /// `data.chat_template`, else the model's own template (`ChatTemplate.model`: native when
    /// it renders like a native family, else the Jinja engine), else ChatML when the tokenizer
    /// has none. A model template the engine cannot parse is an error naming the construct.
    public var chatTemplate: ChatTemplate {
        get throws { try ChatTemplate.resolve(config.data.chatTemplate, tokenizer: tokenizer) }
    }

    /// A training source of `examples` with the weight (schedule) of `source`.
    public func mixtureSource<Example>(_ source: DataSource, examples: [Example]) -> MixtureSource<Example> {
        let schedule = source.weightSchedule.flatMap { points in try? WeightSchedule(points.map { (p: $0.progress, weight: $0.weight) }) }
        return MixtureSource(name: source.path, examples: examples, schedule: schedule ?? .constant(source.weight))
    }

    /// With `data.eval_fraction` (and no `data.eval`), a deterministic held-out slice of a single
    /// training set: returns (train, eval). Otherwise `examples` unchanged and no eval examples.
    public func holdOut<Example>(_ examples: [Example]) throws -> (train: [Example], eval: [Example]) {
        guard config.data.eval == nil, let fraction = config.data.evalFraction else { return (examples, []) }
        var rng = RandomGenerator(seed: config.seed ^ 0x5EED)
        let order = rng.permutation(examples.count)
        let n = max(1, Int(Double(order.count) * fraction))
        guard n < order.count else {
            throw AlignDataError(.invalidArgument, path: config.data.train[0].path, "data.eval_fraction \(fraction) leaves no training examples")
        }
        return (order.dropFirst(n).map { examples[$0] }, order.prefix(n).map { examples[$0] })
    }

    /// A preference file tokenised into pairs for `trainer` (`"rm"`, `"dpo"`): records of another
    /// format, no pair left, or every pair truncated (max_seq_len below the data) are errors
    /// naming the file.
    /// With `readAsPreference`, an `auto` format reads every record as a pair (so a record of
    /// another kind is reported line by line) instead of detecting the file's format.
    public func preferencePairs(_ path: String, trainer: String, options: TokenizationOptions,
                                readAsPreference: Bool = false) throws -> PreferenceDataset {
        let data = config.data
        let file = try DatasetFile.read(URL(fileURLWithPath: path), format: data.format == .auto && readAsPreference ? .preference : data.format,
                                        skipInvalid: data.skipInvalid)
        guard file.format == .preference else {
            throw AlignDataError(.invalidArgument, path: path,
                                 "align \(trainer) trains on preference pairs ({\"prompt\", \"chosen\", \"rejected\"}); this file holds \(file.format.rawValue) records")
        }
        let set = try file.preferenceExamples(tokenizer: tokenizer, options: options)
        guard !set.examples.isEmpty else {
            throw AlignDataError(.invalidArgument, path: path, "no preference pairs left after tokenisation (\(set.report))")
        }
        if set.report.truncated == set.report.examples {
            throw AlignDataError(.invalidArgument, path: path,
                                 "data.max_seq_len \(data.maxSeqLen) is shorter than every pair (all \(set.report.examples) would be truncated); raise data.max_seq_len")
        }
        return set
    }
}
