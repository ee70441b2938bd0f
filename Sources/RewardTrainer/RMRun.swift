import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// `align rm --config run.json`: everything from a validated run config to `final/`.
///
/// The model is the run's causal LM (loaded or initialised by `TrainerRun`, with LoRA when
/// configured) plus a new `score` head of `rm.num_heads` outputs, initialised
/// N(0, 1/√(hidden + 1)) (see `RewardModel.HeadInit`); when `model.path` is a reward model
/// directory, training continues from its head instead. The optimizer trains the backbone (or
/// its LoRA adapters) and always the head. `final/` is a Hugging Face sequence-classification
/// directory (`RewardModelStore`) with `eval_margins.svg`, a histogram of the final eval
/// margins, which `summary.json` also lists (`eval_margins`).
public enum RMRun {
    /// Reads and tokenises the preference data (conversations through the chat template),
    /// builds the objective and trains. Data problems throw before anything is written.
    @discardableResult
    public static func run(config: RunConfig, callback: @escaping TrainingCallback) throws -> [String: Any] {
        let rm = config.trainerConfig(RMConfig.self)
        try config.checkOutputDirectory()
        let run = try TrainerRun(config: config, callback: callback)
        let backbone = run.model
        let data = config.data
        try run.checkSequenceLength()
        let template = try run.chatTemplate
        let options = TokenizationOptions(maxSeqLen: data.maxSeqLen, truncationSide: data.truncationSide, chatTemplate: template)
        var sources: [MixtureSource<PreferenceExample>] = []
        var report: [String: Any] = [:]
        for src in data.train {
            let set = try run.preferencePairs(src.path, trainer: "rm", options: options)
            callback(.message("train \(set.report)"))
            report[src.path] = set.report.description
            sources.append(run.mixtureSource(src, examples: set.examples))
        }
        var evalExamples: [PreferenceExample] = []
        if let evalPath = data.eval {
            let set = try run.preferencePairs(evalPath, trainer: "rm", options: options)
            callback(.message("eval \(set.report)"))
            evalExamples = set.examples
        } else if sources.count == 1 {
            (sources[0].examples, evalExamples) = try run.holdOut(sources[0].examples)
        }

        let padID = Batch.padID(for: run.tokenizer)
        let head: ScalarHead
        if let score = run.loaded.scoreWeight {
            // model.path is a reward model: training continues from its head
            guard score.shape[0] == rm.numHeads else {
                throw ModelConfigError("rm.num_heads is \(rm.numHeads) but model.path \(run.loaded.source.path) is a reward model with \(score.shape[0]) head\(score.shape[0] == 1 ? "" : "s") (score.weight \(score.shape)); set rm.num_heads to \(score.shape[0]) to continue training it")
            }
            head = ScalarHead(weight: score)
            callback(.message("continuing from the reward head (score.weight \(score.shape)) in \(run.loaded.source.path)"))
        } else {
            try ParameterBudget.checkHead(key: "rm.num_heads", outputs: rm.numHeads, hiddenSize: backbone.config.hiddenSize)
            var headRNG = RandomGenerator(seed: config.seed ^ 0x5C0E_4EAD)
            head = RewardModel.makeHead(hiddenSize: backbone.config.hiddenSize, heads: rm.numHeads, rng: &headRNG)
        }
        let model = RewardModel(backbone: backbone, head: head, padID: padID)
        let objective = try RewardObjective(model: model, train: sources, eval: evalExamples, batchSize: config.batchSize,
                                            seed: config.seed, shuffle: data.shuffle, padID: padID,
                                            centerCoefficient: Float(rm.centerRewardsCoefficient))
        objective.communicator = run.communicator
        let examples = sources.reduce(0) { $0 + $1.examples.count }
        let parameters = run.trainable + model.prefixed(ScalarHead.huggingFaceName, head)
        return try train(run, model: model, objective: objective, parameters: parameters, examples: examples, template: template,
                         extraSummary: ["trainer": "rm", "num_heads": rm.numHeads, "train_examples": examples,
                                        "eval_examples": evalExamples.count, "data": report])
    }

    /// `TrainerRun.train` with the head among the trained parameters and a reward-model `final/`
    /// (with the eval-margin histogram).
    static func train(_ run: TrainerRun, model: RewardModel, objective: RewardObjective, parameters: [(String, Tensor)],
                      examples: Int, template: ChatTemplate, extraSummary: [String: Any]) throws -> [String: Any] {
        let head = parameters.filter { p in !run.trainable.contains { $0.1 === p.1 } }
        return try run.train(objective, examples: examples, extraSummary: extraSummary, additionalParameters: head) { final in
            try saveFinal(run, model: model, template: template, to: final)
            guard !objective.lastEvalMargins.isEmpty else { return [:] }
            let svg = MarginHistogram.svg(margins: objective.lastEvalMargins,
                                          title: "Eval margins r(chosen) − r(rejected), \(objective.lastEvalMargins.count) pairs")
            try writeFileAtomically(Data(svg.utf8), to: final.appendingPathComponent("eval_margins.svg"))
            return ["eval_margins": objective.lastEvalMargins.map(Double.init)]
        }
    }

    /// `final/`: with LoRA, the adapter alone in `final/adapter/` as a PEFT `SEQ_CLS` adapter
    /// (the head saved as `base_model.model.score.weight`, `modules_to_save: ["score"]`); then
    /// the reward model (LoRA merged unless `lora.merge` is false) via `RewardModelStore`.
    static func saveFinal(_ run: TrainerRun, model: RewardModel, template: ChatTemplate, to dir: URL) throws {
        let config = run.config
        if let lora = config.lora {
            var adapter = Dictionary(uniqueKeysWithValues: model.backbone.loraParameters().map { ("base_model.model.\($0.0)", $0.1.copy()) })
            adapter["base_model.model.\(RewardModelStore.headKey)"] = model.head.score.weight.copy()
            try StateDictFiles.save(adapter, to: dir.appendingPathComponent("adapter"), fileName: "adapter_model.safetensors")
            var base = ""
            if case .path(let p) = config.model.source { base = p }
            let peft: [String: Any] = ["peft_type": "LORA", "task_type": "SEQ_CLS", "r": lora.rank, "lora_alpha": lora.alpha,
                                       "lora_dropout": lora.dropout, "target_modules": lora.targetModules(for: run.loaded.family),
                                       "modules_to_save": ["classifier", "score"], "bias": "none",
                                       "fan_in_fan_out": run.loaded.family == .gpt2, "inference_mode": true, "base_model_name_or_path": base]
            try RewardModelStore.writeJSON(peft, to: dir.appendingPathComponent("adapter/adapter_config.json"))
            if lora.merge { model.backbone.mergeLoRA() }
        }
        try RewardModelStore.save(model, family: run.loaded.family, tokenizer: run.tokenizer, chatTemplate: template,
                                  maxSeqLen: config.data.maxSeqLen, to: dir)
    }
}
