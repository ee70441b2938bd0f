import AlignData
import AlignTensor
import Foundation

/// One training run's configuration: a JSON file plus `--set` overrides, checked completely
/// before anything runs, with every default filled in.
///
/// ```swift
/// let config = try RunConfig.load(file: URL(fileURLWithPath: "run.json"), trainer: SFTConfig.schema,
///                                 overrides: ["optim.learning_rate=3e-4"])
/// try config.checkOutputDirectory()          // refuses to mix with an earlier run's checkpoints
/// try config.writeResolved()                 // output_dir/run.json
/// let sft = SFTConfig(config.trainer)        // the trainer's own section, typed
/// ```
///
/// Paths are absolute: relative paths in the file are resolved against the config file's
/// directory, relative paths given with `--set` against the current directory.
public struct RunConfig: Equatable, Sendable {
    /// The trainer the configuration was read for (`"sft"`, `"dpo"`, …).
    public let trainerName: String
    /// The whole resolved configuration (what `run.json` contains).
    public let values: ConfigSectionValue
    /// The config file as the user named it (for messages).
    public let configFile: String
    /// Where each written key came from, for errors found after loading.
    let origins: [String: ConfigOrigin]

    public let model: ModelConfig
    public let data: DataConfig
    public let optim: OptimConfig
    /// nil: all weights are trained.
    public let lora: LoRAConfig?
    /// The trainer's own section (typed view; trainers wrap it, e.g. `DPOConfig(config.trainer)`).
    public let trainer: ConfigSectionValue

    public let batchSize: Int
    public let gradAccum: Int
    /// nil only when `maxSteps` is set.
    public let epochs: Double?
    /// Overrides `epochs` when set.
    public let maxSteps: Int?
    public let seed: UInt64
    public let outputDir: URL
    public let logEvery: Int
    /// nil: evaluate at the end only.
    public let evalEvery: Int?
    /// nil: no intermediate checkpoints.
    public let saveEvery: Int?
    public let keepCheckpoints: Int
    public let resumeFrom: ResumeFrom?
    /// nil: no early stopping.
    public let earlyStopping: EarlyStopping?
    /// nil: a non-finite loss stops the run.
    public let recovery: Recovery?

    public enum ResumeFrom: Equatable, Sendable {
        /// The newest checkpoint in `output_dir`, or a fresh start when there is none.
        case latest
        /// A checkpoint directory (absolute path).
        case checkpoint(String)
    }

    /// Two configurations are equal when they resolve to the same values for the same trainer.
    public static func == (a: RunConfig, b: RunConfig) -> Bool { a.trainerName == b.trainerName && a.values == b.values }

    init(trainerName: String, values root: [String: ConfigValue], configFile: String, origins: [String: ConfigOrigin]) {
        let v = ConfigSectionValue(path: "", values: root)
        self.trainerName = trainerName
        self.values = v
        self.configFile = configFile
        self.origins = origins
        model = ModelConfig(v.section("model"))
        data = DataConfig(v.section("data"))
        optim = OptimConfig(v.section("optim"))
        lora = v.optionalSection("lora").map(LoRAConfig.init)
        trainer = v.section(trainerName)
        batchSize = v.int("batch_size")
        gradAccum = v.int("grad_accum")
        epochs = v.optionalFloat("epochs")
        maxSteps = v.optionalInt("max_steps")
        seed = UInt64(v.int("seed"))
        outputDir = URL(fileURLWithPath: v.string("output_dir"), isDirectory: true)
        logEvery = v.int("log_every")
        evalEvery = v.optionalInt("eval_every")
        saveEvery = v.optionalInt("save_every")
        keepCheckpoints = v.int("keep_checkpoints")
        recovery = v.optionalSection("recovery").map { Recovery(maxRecoveries: $0.int("max_recoveries"), learningRateFactor: Float($0.float("lr_factor"))) }
        earlyStopping = v.optionalSection("early_stopping").map { e in
            func minimize(_ metric: String, mode: String) -> Bool {
                switch mode {
                case "min": return true
                case "max": return false
                default: return metric.lowercased().contains("loss") || metric.lowercased().contains("perplexity")
                }
            }
            let metric = e.string("metric"), stop = e.optionalString("stop_metric")
            return EarlyStopping(metric: metric, minimize: minimize(metric, mode: e.string("mode")), patience: e.int("patience"),
                                 minDelta: e.float("min_delta"), restoreBest: e.bool("restore_best"), keepTop: e.int("keep_top"),
                                 stopMetric: stop, stopMinimize: stop.map { minimize($0, mode: e.string("stop_mode")) } ?? false)
        }
        switch v.optionalString("resume_from") {
        case nil: resumeFrom = nil
        case "latest"?: resumeFrom = .latest
        case let path?: resumeFrom = .checkpoint(path)
        }
    }

    // MARK: loading

    /// Reads `file`, applies `overrides` (`key.path=value`, as given to `--set`) and checks
    /// everything. Throws a `ConfigError` listing every problem, one per line, each naming the
    /// file and line (or the `--set` argument). Creates nothing.
    ///
    /// `currentDirectory` (default: the process's) resolves relative paths given with `--set`.
    public static func load(file: URL, trainer: TrainerSectionSchema, overrides: [String] = [],
                            currentDirectory: URL? = nil) throws -> RunConfig
    {
        let display = file.isFileURL ? file.relativePath : file.absoluteString
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            let exists = FileManager.default.fileExists(atPath: file.path)
            throw ConfigError(file: display, exists ? "cannot read the config file" : "config file does not exist")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigError(file: display, "the config file is not UTF-8 text") }
        return try parse(text, file: display, directory: file.deletingLastPathComponent(), trainer: trainer,
                         overrides: overrides, currentDirectory: currentDirectory)
    }

    /// Like `load`, for config text already in memory: `file` names it in messages and
    /// `directory` resolves its relative paths.
    public static func parse(_ text: String, file: String, directory: URL, trainer: TrainerSectionSchema,
                             overrides: [String] = [], currentDirectory: URL? = nil) throws -> RunConfig
    {
        let schema = RunConfigSchema.root(trainer: trainer)
        let collector = ConfigIssueCollector()
        let cwd = currentDirectory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        var tree: ConfigJSON
        do {
            tree = try ConfigJSONReader.parse(text) { .file(file, line: $0) }
        } catch let e as ConfigJSONSyntaxError {
            collector.add(ConfigIssue(.file(file, line: e.line), column: e.column, "invalid JSON: \(e.message)"))
            var empty = ConfigJSON(.object([]), .file(file, line: 1))
            ConfigOverrides.apply(overrides, to: &empty, schema: schema, trainerName: trainer.name, collector: collector)  // their own mistakes too
            throw ConfigError(collector.sorted)
        }
        ConfigOverrides.apply(overrides, to: &tree, schema: schema, trainerName: trainer.name, collector: collector)
        var decoder = ConfigDecoder(root: schema, collector: collector, fileDirectory: directory.absoluteURL.standardizedFileURL,
                                    currentDirectory: cwd.absoluteURL.standardizedFileURL, trainerName: trainer.name)
        guard let values = decoder.decodeRoot(tree) else { throw ConfigError(collector.sorted) }
        let context = ConfigCheckContext(root: values, origins: decoder.origins, invalid: decoder.invalid,
                                         fallback: .file(file, line: 1), collector: collector)
        for check in RunConfigSchema.checks + trainer.checks { check(context) }
        guard collector.issues.isEmpty else { throw ConfigError(collector.sorted) }
        return RunConfig(trainerName: trainer.name, values: values, configFile: file, origins: decoder.origins)
    }

    // MARK: output

    /// The resolved configuration as pretty JSON with sorted keys: every key, defaults filled
    /// in, paths absolute. Loading it again gives an equal `RunConfig`.
    public func resolvedJSON() -> Data {
        Data(ConfigJSONWriter.pretty(.section(values.values)).utf8)
    }

    /// Writes `resolvedJSON()` to `output_dir/run.json` (atomically; creates `output_dir`).
    /// Call it after `checkOutputDirectory()`, when the run is about to start.
    @discardableResult
    public func writeResolved() throws -> URL {
        try FileManager.default.createDirectory(at: outputDir, withIntermediateDirectories: true)
        let url = outputDir.appendingPathComponent("run.json")
        try writeFileAtomically(resolvedJSON(), to: url)
        return url
    }

    /// Checks `output_dir` against the run about to start: if it holds checkpoints of an earlier
    /// run and `resume_from` is null, throws a `ConfigError` (at the line of `output_dir`)
    /// suggesting `resume_from: "latest"` or a new directory, so a rerun never silently mixes
    /// runs. Also refuses a finished run without checkpoints and inputs inside what the run
    /// writes (`outputDirectoryIssues()`). Reads only; the CLI calls it after `load` and before
    /// creating anything.
    public func checkOutputDirectory() throws {
        let issues = outputDirectoryIssues()
        guard issues.isEmpty else { throw ConfigError(issues) }
        guard resumeFrom == nil else { return }
        let existing = Checkpoint.list(outputDir)
        guard !existing.isEmpty else { return }
        let steps = existing.map { String($0.step) }.joined(separator: ", ")
        let origin = origins["output_dir"] ?? .file(configFile, line: 1)
        throw ConfigError([ConfigIssue(origin,
            "output_dir: \(ConfigJSONWriter.quote(outputDir.path)) already holds checkpoints of an earlier run (steps \(steps)); "
                + "set resume_from: \"latest\" to continue it (--set resume_from=latest), or choose a new output_dir")])
    }

    /// The checkpoint directory to resume from: `resume_from` itself, the newest checkpoint in
    /// `output_dir` for `"latest"`, or nil (start fresh).
    public func resumeCheckpoint() -> URL? {
        switch resumeFrom {
        case nil: return nil
        case .latest: return Checkpoint.list(outputDir).last?.url
        case .checkpoint(let path): return URL(fileURLWithPath: path, isDirectory: true)
        }
    }

    // MARK: reference

    /// The whole schema for `trainer` (shared sections plus its own).
    public static func schema(trainer: TrainerSectionSchema) -> ConfigSectionSchema { RunConfigSchema.root(trainer: trainer) }

    /// Markdown reference of every key for `trainer`: a table per section (key, type,
    /// default, description) after a summary of paths, `--set` and validation.
    public static func referenceMarkdown(trainer: TrainerSectionSchema) -> String {
        ConfigReference.markdown(schema: RunConfigSchema.root(trainer: trainer), trainer: trainer.name)
    }
}

// MARK: - typed sections

/// `model`.
public struct ModelConfig: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// A Hugging Face directory or a .gguf file (absolute path).
        case path(String)
        /// A new model.
        case initialize(ModelInitConfig)
    }

    public let source: Source
    /// The frozen reference model; nil = a frozen copy of the starting model.
    public let reference: String?

    init(_ s: ConfigSectionValue) {
        if let path = s.optionalString("path") {
            source = .path(path)
        } else {
            source = .initialize(ModelInitConfig(s.section("init")))
        }
        reference = s.optionalString("reference")
    }
}

/// `model.init`: the shape of a new model.
public struct ModelInitConfig: Equatable, Sendable {
    public let architecture: ModelFamily
    /// nil: the tokenizer's vocabulary size.
    public let vocabSize: Int?
    public let hiddenSize: Int
    public let layers: Int
    public let heads: Int
    /// Key/value heads (llama); `heads` when not given.
    public let kvHeads: Int
    /// Feed-forward width, with the family default filled in.
    public let intermediateSize: Int
    public let contextLength: Int
    /// Absolute path of a tokenizer.json, a model directory or a .gguf file.
    public let tokenizer: String

    init(_ s: ConfigSectionValue) {
        architecture = s.choice("architecture")
        vocabSize = s.optionalInt("vocab_size")
        hiddenSize = s.int("hidden_size")
        layers = s.int("layers")
        heads = s.int("heads")
        kvHeads = s.optionalInt("kv_heads") ?? heads
        intermediateSize = s.optionalInt("intermediate_size")
            ?? Self.defaultIntermediateSize(architecture: architecture, hiddenSize: hiddenSize)
        contextLength = s.int("context_length")
        tokenizer = s.string("tokenizer")
    }

    /// 4·hidden for gpt2 (its `n_inner` default); for llama's three-matrix SwiGLU, 8/3·hidden
    /// rounded up to a multiple of 64 (the same parameter count).
    public static func defaultIntermediateSize(architecture: ModelFamily, hiddenSize: Int) -> Int {
        // saturating: an absurd hidden_size is refused with its size before the model is built
        guard hiddenSize <= Int.max / 8 - 64 else { return Int.max }
        switch architecture {
        case .gpt2: return 4 * hiddenSize
        case .llama: return ((8 * hiddenSize + 2) / 3 + 63) / 64 * 64
        }
    }

    /// The `model.init` key that sets a model config.json key (for errors about the sizes).
    public static func configKey(forModelKey key: String) -> String {
        switch key {
        case "vocab_size": return "model.init.vocab_size"
        case "hidden_size", "n_embd", "head_dim": return "model.init.hidden_size"
        case "num_hidden_layers", "n_layer": return "model.init.layers"
        case "num_attention_heads", "n_head": return "model.init.heads"
        case "num_key_value_heads": return "model.init.kv_heads"
        case "intermediate_size", "n_inner": return "model.init.intermediate_size"
        case "max_position_embeddings", "n_positions": return "model.init.context_length"
        default: return "model.init (\(key))"
        }
    }
}

/// One dataset of `data.train`.
public struct DataSource: Equatable, Sendable {
    /// Absolute path of a JSONL file.
    public let path: String
    public let weight: Double
    /// `(progress, weight)` points, progress non-decreasing in [0, 1]; nil = constant `weight`.
    public let weightSchedule: [WeightPoint]?

    public struct WeightPoint: Equatable, Sendable {
        public let progress: Double
        public let weight: Double
    }

    public init(path: String, weight: Double = 1, weightSchedule: [WeightPoint]? = nil) {
        self.path = path
        self.weight = weight
        self.weightSchedule = weightSchedule
    }

    init(_ s: ConfigSectionValue) {
        path = s.string("path")
        weight = s.float("weight")
        if case .list(let points) = s["weight_schedule"] {
            weightSchedule = points.map { point in
                guard case .list(let pair) = point, case .float(let p) = pair[0], case .float(let w) = pair[1] else {
                    preconditionFailure("\(s.path).weight_schedule: malformed point \(point)")
                }
                return WeightPoint(progress: p, weight: w)
            }
        } else {
            weightSchedule = nil
        }
    }

    /// The weight at training progress `p` ∈ [0, 1]: linear between schedule points, the first
    /// (last) point's weight before (after) them; `weight` without a schedule.
    public func weight(atProgress p: Double) -> Double {
        guard let points = weightSchedule, let first = points.first, let last = points.last else { return weight }
        if p <= first.progress { return first.weight }
        if p >= last.progress { return last.weight }
        for (a, b) in zip(points, points.dropFirst()) where p >= a.progress && p <= b.progress {
            if b.progress == a.progress { return b.weight }
            return a.weight + (b.weight - a.weight) * (p - a.progress) / (b.progress - a.progress)
        }
        return last.weight
    }
}

/// `data`.
public struct DataConfig: Equatable, Sendable {
    /// One source (weight 1) for a single file, several for a mixture.
    public let train: [DataSource]
    /// True when `data.train` was written as a list (a mixture, even of one).
    public let isMixture: Bool
    public let eval: String?
    public let format: DatasetFormat
    /// nil: `auto` (the tokenizer's template, else chatml).
    public let chatTemplate: ChatTemplate?
    public let maxSeqLen: Int
    public let truncationSide: TruncationSide
    public let stride: Int?
    /// nil: auto (on, except for raw text).
    public let completionOnlyLoss: Bool?
    public let skipInvalid: Bool
    public let shuffle: Bool
    public let evalFraction: Double?

    init(_ s: ConfigSectionValue) {
        if case .string(let path) = s["train"] {
            train = [DataSource(path: path)]
            isMixture = false
        } else {
            train = s.sections("train").map(DataSource.init)
            isMixture = true
        }
        eval = s.optionalString("eval")
        format = s.choice("format")
        let template = s.string("chat_template")
        chatTemplate = template == "auto" ? nil : ChatTemplate(s.choice("chat_template", as: ChatTemplate.Family.self))
        maxSeqLen = s.int("max_seq_len")
        truncationSide = s.choice("truncation_side")
        stride = s.optionalInt("stride")
        completionOnlyLoss = s.optionalBool("completion_only_loss")
        skipInvalid = s.bool("skip_invalid")
        shuffle = s.bool("shuffle")
        evalFraction = s.optionalFloat("eval_fraction")
    }

    /// `completion_only_loss` with `auto` decided for a dataset of `format`.
    public func completionOnlyLoss(for format: DatasetFormat) -> Bool { completionOnlyLoss ?? (format != .text) }
}

/// `optim`.
public struct OptimConfig: Equatable, Sendable {
    public let learningRate: Double
    public let schedule: LRSchedule
    public let warmupSteps: Int
    public let warmupRatio: Double
    public let weightDecay: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    /// nil: no clipping.
    public let maxGradNorm: Double?

    init(_ s: ConfigSectionValue) {
        learningRate = s.float("learning_rate")
        schedule = s.choice("schedule")
        warmupSteps = s.int("warmup_steps")
        warmupRatio = s.float("warmup_ratio")
        weightDecay = s.float("weight_decay")
        beta1 = s.float("beta1")
        beta2 = s.float("beta2")
        eps = s.float("eps")
        maxGradNorm = s.optionalFloat("max_grad_norm")
    }

    /// Warmup steps for a run of `totalSteps` (`warmup_ratio` rounded up, as transformers does).
    public func warmupSteps(totalSteps: Int) -> Int {
        warmupRatio > 0 ? Int((warmupRatio * Double(totalSteps)).rounded(.up)) : warmupSteps
    }
}

/// `lora`.
public struct LoRAConfig: Equatable, Sendable {
    public let rank: Int
    public let alpha: Double
    public let dropout: Double
    /// nil: the family default (`targetModules(for:)`).
    public let targetModules: [String]?
    public let merge: Bool

    init(_ s: ConfigSectionValue) {
        rank = s.int("rank")
        alpha = s.float("alpha")
        dropout = s.float("dropout")
        targetModules = s.optionalStrings("target_modules")
        merge = s.bool("merge")
    }

    /// The modules to adapt in a model of `family`.
    public func targetModules(for family: ModelFamily) -> [String] {
        targetModules ?? (family == .llama ? ["q_proj", "v_proj"] : ["c_attn"])
    }
}
