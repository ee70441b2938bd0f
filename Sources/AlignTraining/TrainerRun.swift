import AlignData
import AlignNN
import AlignTensor
import Foundation

/// What every `align <trainer> --config` run does around its objective: validate the output
/// directory, build or load the model and tokenizer, attach LoRA, build the optimizer, work out
/// the step count, write `run.json`, open `metrics.jsonl`, run the shared loop (resuming when
/// asked), save `final/` in the Hugging Face layout (LoRA merged, the adapter also saved) and
/// write `summary.json`.
///
/// Under a launcher every rank builds the same run (same config, same seed: same initial
/// weights and data order); rank 0 alone holds the lock and writes files.
public final class TrainerRun {
    public let config: RunConfig
    public let loaded: LoadedModel
    public let tokenizer: Tokenizer
    /// The parameters the optimizer trains (all, or the LoRA adapters), by name.
    public let trainable: [(String, Tensor)]
    public let callback: TrainingCallback
    /// The hold on `output_dir` (taken first, released when the run object goes away); held by
    /// rank 0 alone in a data-parallel run.
    public let lock: RunDirectoryLock?
    /// The ranks of the run (`ProcessGroup.current` unless given).
    public let communicator: Communicator
    public var model: any CausalLM { loaded.model }

    /// Takes the lock on `output_dir` (`RunDirectoryLock`: refused while another run holds it),
    /// loads the model named by the config (or initialises a new one) and its tokenizer, and
    /// attaches LoRA when configured. Nothing but the lock file is written yet (and a directory
    /// the lock created is removed again if the run ends before writing anything).
    public init(config: RunConfig, callback: @escaping TrainingCallback, communicator: Communicator = ProcessGroup.current) throws {
        self.config = config
        self.callback = callback
        self.communicator = communicator
        lock = communicator.isWriter ? try RunDirectoryLock(outputDir: config.outputDir) : nil
        if let note = lock?.note { callback(.message(note)) }
        var rng = RandomGenerator(seed: config.seed)
        switch config.model.source {
        case .path(let path):
            loaded = try ModelStore.load(path)
            tokenizer = try ModelStore.loadTokenizer(path)
            if let score = loaded.scoreWeight {
                callback(.message("\(path) is a reward model (score.weight \(score.shape)); its backbone loads as the causal LM"))
            }
        case .initialize(let spec):
            tokenizer = try ModelStore.loadTokenizer(spec.tokenizer)
            loaded = try Self.initialize(spec, tokenizer: tokenizer, rng: &rng)
        }
        if let lora = config.lora {
            let options = LoRAOptions(rank: lora.rank, alpha: Float(lora.alpha), dropout: Float(lora.dropout),
                                      targetModules: lora.targetModules(for: loaded.family))
            var loraRNG = rng.fork()
            trainable = try loaded.model.applyLoRA(options, rng: &loraRNG)
            if options.dropout > 0 {
                for (_, linear) in loaded.model.namedLinears() where linear.lora != nil { linear.lora?.dropoutRNG = loraRNG.fork() }
                LoRADropoutState.separate(loaded.model, rank: communicator.rank)
            }
        } else {
            trainable = loaded.model.namedParameters()
        }
    }

    /// A freshly initialised model of `spec`'s shape (GPT-2 init: N(0, 0.02)).
    static func initialize(_ spec: ModelInitConfig, tokenizer: Tokenizer, rng: inout RandomGenerator) throws -> LoadedModel {
        let vocab = spec.vocabSize ?? tokenizer.vocabSize
        guard vocab >= tokenizer.vocabSize else {
            throw ModelConfigError("model.init.vocab_size \(vocab) is smaller than the tokenizer's vocabulary (\(tokenizer.vocabSize))")
        }
        var json: [String: Any]
        switch spec.architecture {
        case .gpt2:
            json = ["model_type": "gpt2", "vocab_size": vocab, "n_embd": spec.hiddenSize, "n_layer": spec.layers, "n_head": spec.heads,
                    "n_positions": spec.contextLength, "n_inner": spec.intermediateSize]
        case .llama:
            json = ["model_type": "llama", "vocab_size": vocab, "hidden_size": spec.hiddenSize, "num_hidden_layers": spec.layers,
                    "num_attention_heads": spec.heads, "num_key_value_heads": spec.kvHeads, "intermediate_size": spec.intermediateSize,
                    "max_position_embeddings": spec.contextLength, "tie_word_embeddings": true, "rope_theta": 10000.0]
        }
        if let b = tokenizer.bosTokenID { json["bos_token_id"] = b }
        if let e = tokenizer.eosTokenID { json["eos_token_id"] = e }
        if let p = tokenizer.padTokenID { json["pad_token_id"] = p }
        let data = try JSONSerialization.data(withJSONObject: json)
        let model: any CausalLM
        switch spec.architecture {
        case .gpt2:
            let config = try GPT2Config.decode(json: data)
            try ParameterBudget.check(config, source: "run config", training: true, rename: ModelInitConfig.configKey)
            model = GPT2Model(config, rng: &rng)
        case .llama:
            let config = try LlamaConfig.decode(json: data)
            try ParameterBudget.check(config, source: "run config", training: true, rename: ModelInitConfig.configKey)
            model = LlamaModel(config, rng: &rng)
        }
        return LoadedModel(family: spec.architecture, model: model, source: URL(fileURLWithPath: spec.tokenizer))
    }

    /// Optimizer steps for `examples` training examples under the config (max_steps wins).
    public func totalSteps(examples: Int) -> Int {
        if let m = config.maxSteps { return m }
        let perStep = config.batchSize * config.gradAccum
        let stepsPerEpoch = Double(examples) / Double(perStep)
        return max(1, Int((stepsPerEpoch * (config.epochs ?? 1)).rounded(.up)))
    }

    public func optimizer(for parameters: [(String, Tensor)]) -> AdamW {
        let o = config.optim
        let cfg = AdamWConfig(beta1: Float(o.beta1), beta2: Float(o.beta2), eps: Float(o.eps), weightDecay: Float(o.weightDecay))
        return AdamW(parameters: parameters.map(\.1), config: cfg)
    }

    public func loopSettings(totalSteps: Int, examples: Int) -> LoopSettings {
        var s = LoopSettings(totalSteps: totalSteps, learningRate: Float(config.optim.learningRate))
        s.gradAccum = config.gradAccum
        s.schedule = config.optim.schedule
        s.warmupSteps = config.optim.warmupSteps(totalSteps: totalSteps)
        s.maxGradNorm = config.optim.maxGradNorm.map(Float.init)
        s.logEvery = config.logEvery
        s.evalEvery = config.evalEvery
        s.saveEvery = config.saveEvery
        s.keepCheckpoints = config.keepCheckpoints
        s.earlyStopping = config.earlyStopping
        s.recovery = config.recovery
        s.stepsPerEpoch = Double(examples) / Double(config.batchSize * config.gradAccum)
        return s
    }

    /// Runs `objective` in the shared loop and writes the outputs. Returns the summary.
    ///
    /// `additionalParameters` train beside `trainable` (a reward model's head). `finalize`
    /// replaces the default `final/` (`saveFinal()`): it gets the `final/` directory and returns
    /// entries for the summary.
    @discardableResult
    /// The summary of a run that completed in `out` (nil when there is none, or it did not).
    static func completedSummary(in out: URL) -> [String: Any]? {
        guard let data = try? Data(contentsOf: out.appendingPathComponent("summary.json")),
              let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              summary["status"] as? String == "completed" else { return nil }
        return summary
    }

    public func train<O: TrainingObjective>(_ objective: O, examples: Int, totalSteps planned: Int? = nil,
                                           extraSummary: [String: Any] = [:],
                                           additionalParameters: [(String, Tensor)] = [],
                                           finalize: ((URL) throws -> [String: Any])? = nil) throws -> [String: Any] {
        let out = config.outputDir
        let writer = communicator.isWriter
        if writer { try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true) }
        let total = planned ?? totalSteps(examples: examples)
        let parameters = trainable + additionalParameters
        let loop = TrainingLoop(objective: objective, parameters: parameters, optimizer: optimizer(for: parameters),
                                settings: loopSettings(totalSteps: total, examples: examples), outputDir: out,
                                dropoutModel: model, communicator: communicator, callback: callback)
        if communicator.size > 1 {
            let n = communicator.size, g = config.gradAccum
            callback(.message("data-parallel over \(n) ranks: global batch \(config.batchSize) × \(g) micro-batches, rank r computes micro-batches i with i mod \(n) = r"
                + (g % n == 0 ? "" : "; grad_accum \(g) is not a multiple of \(n), so some ranks compute fewer micro-batches and wait")))
        }
        let resume = config.resumeCheckpoint()
        if let resume { try loop.resume(from: resume) }   // refuses a checkpoint of other settings, in memory only
        if case .latest? = config.resumeFrom, let done = Self.completedSummary(in: out), done["total_steps"] as? Int == total {
            // resuming a finished run of the same length trains nothing and writes nothing
            callback(.message("\(out.path) holds a finished run of \(total) steps (summary.json, status completed): nothing to resume; to train further, raise the steps and resume"))
            return done
        }
        // every rank has resumed before rank 0 writes: a rank that cannot (an unreadable checkpoint)
        // exits non-zero without reaching here, and the launcher ends the others
        communicator.barrier()
        if writer { _ = try config.writeResolved() }  // only once a resume has been accepted: run.json describes the checkpoints
        let log = writer ? try MetricsLog(url: out.appendingPathComponent("metrics.jsonl"), truncateAfterStep: resume == nil ? nil : loop.step) : nil
        let callback = self.callback
        let stop = StopSignal(acknowledge: { sig in
            callback(.message("\(StopSignal.name(sig)) received: stopping after the current micro-batch with a checkpoint (send it again to abort at once; the last checkpoint stays intact)"))
        })
        stop.install()
        loop.stop = stop
        defer { stop.uninstall() }
        if resume == nil { try loop.evaluate(log: log) }  // eval at step 0: the curve starts before training
        let started = Date()
        let outcome = try loop.run(metrics: log)
        var summary: [String: Any] = extraSummary
        summary["steps"] = loop.step
        summary["total_steps"] = total
        summary["tokens_seen"] = loop.tokensSeen
        if config.recovery != nil { summary["recoveries"] = loop.recovery.count }
        summary["seconds"] = Date().timeIntervalSince(started)
        for (k, v) in loop.lastMetrics { summary["final/\(k)"] = v }
        if communicator.size > 1 { summary["world_size"] = communicator.size }
        // the final evaluation, on every rank (its chunks are shared out): of the best parameters
        // when they are restored (rank 0 wrote them; every rank waits for that), else a tracked one
        var finalEval: [String: Double] = [:]
        if case .interrupted = outcome {} else {
            communicator.barrier()
            let restored = try loop.restoreBestIfRequested()
            finalEval = try loop.evaluate(log: log, track: restored == nil)
        }
        guard writer else {
            // the other ranks of a data-parallel run write nothing
            if case .interrupted = outcome { summary["status"] = "interrupted" } else { summary["status"] = "completed" }
            return summary
        }
        if case .interrupted(let step) = outcome {
            summary["status"] = "interrupted"
            summary["checkpoint"] = Checkpoint.list(out).last?.url.path
            callback(.message("interrupted at step \(step)"))
        } else {
            if case .stoppedEarly(let step) = outcome { summary["stopped_early_at"] = step }
            for (k, v) in finalEval { summary[k] = v }
            if let es = config.earlyStopping {
                summary["best_step"] = loop.earlyStoppingState.bestStep
                summary["best_metric"] = [es.metric: loop.earlyStoppingState.best]
                if es.keepTop > 1 {
                    summary["top_checkpoints"] = loop.earlyStoppingState.top.map {
                        ["step": $0.step, "value": $0.value, "path": EarlyStopping.topDirectory(out, step: $0.step).path] as [String: Any]
                    }
                }
            }
            let final = out.appendingPathComponent("final")
            if let finalize {
                for (k, v) in try finalize(final) { summary[k] = v }
                callback(.message("saved \(final.path)"))
            } else {
                try saveFinal()
            }
            summary["status"] = "completed"
            summary["final_model"] = final.path
        }
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try writeFileAtomically(data, to: out.appendingPathComponent("summary.json"))
        try TrainingCurves.write(outputDirectory: out, title: "\(out.lastPathComponent): \(extraSummary["trainer"] as? String ?? "training")",
                                 keys: ["loss"] + objective.plottedMetrics + ["learning_rate"])
        return summary
    }

    /// `final/`: the model in the Hugging Face layout (LoRA merged unless `lora.merge` is false)
    /// and, with LoRA, the adapter alone in `final/adapter/` (PEFT names).
    public func saveFinal() throws {
        let dir = config.outputDir.appendingPathComponent("final")
        if config.lora != nil {
            let adapter = Dictionary(uniqueKeysWithValues: model.loraParameters().map { ("base_model.model.\($0.0)", $0.1.copy()) })
            try StateDictFiles.save(adapter, to: dir.appendingPathComponent("adapter"), fileName: "adapter_model.safetensors")
            if let lora = config.lora {
                // PEFT's adapter_config.json, so `PeftModel.from_pretrained(base, dir/adapter)` can read it
                let peft: [String: Any] = ["peft_type": "LORA", "task_type": "CAUSAL_LM", "r": lora.rank, "lora_alpha": lora.alpha,
                                           "lora_dropout": lora.dropout, "target_modules": lora.targetModules(for: loaded.family),
                                           "bias": "none", "fan_in_fan_out": loaded.family == .gpt2, "inference_mode": true,
                                           "base_model_name_or_path": {
                                               if case .path(let p) = config.model.source { return p } else { return "" }
                                           }()]
                try writeFileAtomically(try JSONSerialization.data(withJSONObject: peft, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                                        to: dir.appendingPathComponent("adapter/adapter_config.json"))
            }
            if config.lora?.merge ?? true { model.mergeLoRA() }
        }
        try ModelStore.save(loaded, tokenizer: tokenizer, to: dir)
        callback(.message("saved \(dir.path)"))
    }
}
