import Foundation

/// The schema of the sections every trainer shares. Each key is declared once here; decoding,
/// `--set`, the reference (`--help-config`) and `output_dir/run.json` all follow it.
public enum RunConfigSchema {
    public static let modelInit = ConfigSectionSchema(
        name: "model.init",
        doc: "A new, randomly initialised model (pretraining from scratch). Give either this or `model.path`.",
        fields: [
            ConfigField("architecture", .choice(["gpt2", "llama"]), default: .required, aliases: ["model_type", "arch"],
                        doc: "Model family."),
            ConfigField("vocab_size", .int, default: nil, range: .atLeast(1), defaultText: "the tokenizer's size",
                        doc: "Embedding rows; at least the tokenizer's vocabulary size."),
            ConfigField("hidden_size", .int, default: 256, range: .atLeast(1), aliases: ["n_embd", "d_model", "width"],
                        doc: "Width of the residual stream."),
            ConfigField("layers", .int, default: 4, range: .atLeast(1), aliases: ["num_hidden_layers", "n_layer", "num_layers"],
                        doc: "Transformer blocks."),
            ConfigField("heads", .int, default: 4, range: .atLeast(1), aliases: ["num_attention_heads", "n_head"],
                        doc: "Attention heads; must divide hidden_size."),
            ConfigField("kv_heads", .int, default: nil, range: .atLeast(1), defaultText: "`heads`",
                        aliases: ["num_key_value_heads", "n_kv_heads"],
                        doc: "llama only: key/value heads (grouped-query attention); must divide heads."),
            ConfigField("intermediate_size", .int, default: nil, range: .atLeast(1),
                        defaultText: "4 × hidden_size (gpt2); 8/3 × hidden_size rounded up to a multiple of 64 (llama)",
                        aliases: ["n_inner", "ffn_dim"], doc: "Width of the feed-forward layer."),
            ConfigField("context_length", .int, default: 512, range: .atLeast(8),
                        aliases: ["max_position_embeddings", "n_positions", "n_ctx"],
                        doc: "Longest sequence the model accepts; at least data.max_seq_len."),
            ConfigField("tokenizer", .path(.tokenizer), default: .required, aliases: ["tokenizer_path", "tokenizer_name"],
                        doc: "A tokenizer.json, a model directory containing one, or a .gguf file."),
        ])

    public static let model = ConfigSectionSchema(
        name: "model",
        doc: "The model to train: exactly one of `path` (a pretrained model) or `init` (a new one).",
        fields: [
            ConfigField("path", .path(.model), default: nil, aliases: ["model_name_or_path", "name_or_path", "pretrained"],
                        doc: "A Hugging Face model directory (config.json, safetensors, tokenizer.json) or a .gguf file."),
            ConfigField("init", .section(modelInit), default: nil, aliases: ["config", "from_scratch"],
                        doc: "Shape and tokenizer of a new model (see `model.init`)."),
            ConfigField("reference", .path(.model), default: nil, defaultText: "`null` (the starting policy)",
                        aliases: ["ref_model", "reference_model", "ref"],
                        doc: "Frozen reference model (DPO family, KL-SFT); null = a frozen copy of the starting model."),
        ])

    public static let trainSource = ConfigSectionSchema(
        name: "data.train[]",
        doc: "One dataset of a mixture. Sampling probabilities are the weights at the current training progress, normalised.",
        fields: [
            ConfigField("path", .path(.file), default: .required, aliases: ["file", "dataset"], doc: "A JSONL file."),
            ConfigField("weight", .float, default: 1.0, range: .atLeast(0), doc: "Relative sampling weight."),
            ConfigField("weight_schedule", .points, default: nil, range: .atLeast(0), defaultText: "`null` (constant `weight`)",
                        aliases: ["schedule"],
                        doc: "`[[progress, weight], …]`, progress in [0, 1]: weight linear between points, constant outside; replaces `weight`."),
        ])

    public static let data = ConfigSectionSchema(
        name: "data",
        doc: "Training and evaluation data (JSONL) and how records become token sequences.",
        fields: [
            ConfigField("train", .either(.path(.file), .sections(trainSource)), default: .required,
                        aliases: ["dataset", "dataset_name", "train_file", "train_dataset", "train_path"],
                        doc: "A JSONL file, or a list of `{path, weight, weight_schedule}` for a mixture (see `data.train[]`)."),
            ConfigField("eval", .path(.file), default: nil, aliases: ["eval_file", "eval_dataset", "validation", "eval_path"],
                        doc: "Held-out JSONL file; null = none (or `eval_fraction` of train)."),
            ConfigField("format", .choice(DataFormats.all), default: "auto", aliases: ["dataset_format"],
                        doc: "Record format; `auto` detects it from the keys of the first record."),
            ConfigField("chat_template", .choice(["auto", "chatml", "llama3", "alpaca", "plain"]), default: "auto",
                        aliases: ["template"],
                        doc: "Template for chat (`messages`) data; `auto` = the tokenizer's own Jinja `chat_template` (native when it renders the same), else chatml when it has none."),
            ConfigField("max_seq_len", .int, default: 512, range: .atLeast(8),
                        aliases: ["max_length", "max_seq_length", "seq_len", "block_size"],
                        doc: "Longest tokenized example (prompt + response) or raw-text window."),
            ConfigField("truncation_side", .choice(["left", "right"]), default: "left",
                        doc: "Which end of an over-long prompt is cut (`left` keeps the end next to the response)."),
            ConfigField("stride", .int, default: nil, range: .atLeast(1), defaultText: "`null` (= max_seq_len, no overlap)",
                        doc: "Raw text: tokens between the starts of consecutive windows; nothing is dropped."),
            ConfigField("completion_only_loss", .bool, default: nil, defaultText: "`null` (auto: on, except for raw text)",
                        aliases: ["assistant_only_loss", "train_on_completions_only"],
                        doc: "Loss on completion / assistant tokens only."),
            ConfigField("skip_invalid", .bool, default: false,
                        doc: "Skip (and count) malformed records instead of stopping at the first one."),
            ConfigField("shuffle", .bool, default: true, doc: "Shuffle training examples each epoch (seeded by `seed`)."),
            ConfigField("eval_fraction", .float, default: nil, range: .openClosed(0, 0.5), aliases: ["validation_split", "test_size"],
                        doc: "When `eval` is null: hold out this fraction of train (seeded) for evaluation."),
        ])

    public static let optim = ConfigSectionSchema(
        name: "optim",
        doc: "AdamW and the learning-rate schedule.",
        fields: [
            ConfigField("learning_rate", .float, default: 2e-5, range: .greaterThan(0), aliases: ["lr"],
                        doc: "Peak learning rate."),
            ConfigField("schedule", .choice(["constant", "linear", "cosine"]), default: "linear",
                        aliases: ["lr_scheduler_type", "scheduler", "lr_schedule"],
                        doc: "Decay after warmup (transformers' formulas); `linear` as TRL."),
            ConfigField("warmup_steps", .int, default: 0, range: .atLeast(0), doc: "Linear warmup over this many optimizer steps."),
            ConfigField("warmup_ratio", .float, default: 0.0, range: .closed(0, 1),
                        doc: "Warmup as a fraction of all steps; use this or `warmup_steps`."),
            ConfigField("weight_decay", .float, default: 0.0, range: .atLeast(0), doc: "Decoupled weight decay (AdamW)."),
            ConfigField("beta1", .float, default: 0.9, range: .halfOpen(0, 1), aliases: ["adam_beta1"], doc: "AdamW β1."),
            ConfigField("beta2", .float, default: 0.999, range: .halfOpen(0, 1), aliases: ["adam_beta2"], doc: "AdamW β2."),
            ConfigField("eps", .float, default: 1e-8, range: .greaterThan(0), aliases: ["adam_epsilon", "epsilon"], doc: "AdamW ε."),
            ConfigField("max_grad_norm", .float, default: 1.0, nullable: true, range: .greaterThan(0), aliases: ["clip_grad_norm", "grad_clip"],
                        doc: "Clip the global gradient norm to this; null disables clipping."),
        ])

    public static let lora = ConfigSectionSchema(
        name: "lora",
        doc: "Low-rank adapters: train only A·B added to the target projections (`\"lora\": {}` enables them with these defaults).",
        fields: [
            ConfigField("rank", .int, default: 8, range: .atLeast(1), aliases: ["r", "lora_r"], doc: "Rank of the adapters."),
            ConfigField("alpha", .float, default: 16.0, range: .greaterThan(0), aliases: ["lora_alpha"],
                        doc: "Scale: the update is (alpha / rank)·B·A."),
            ConfigField("dropout", .float, default: 0.0, range: .halfOpen(0, 1), aliases: ["lora_dropout"],
                        doc: "Dropout on the adapter input."),
            ConfigField("target_modules", .strings, default: nil,
                        defaultText: "`null` (`[\"q_proj\", \"v_proj\"]` for llama, `[\"c_attn\"]` for gpt2)",
                        aliases: ["lora_target_modules", "targets", "modules"],
                        doc: "Module names to adapt (a list, or a comma-separated string)."),
            ConfigField("merge", .bool, default: true, aliases: ["merge_adapters", "merge_weights"],
                        doc: "Merge the adapters into the saved final model (the adapter is saved too)."),
        ])

    public static let earlyStopping = ConfigSectionSchema(
        name: "early_stopping",
        doc: "Stop when an evaluation metric stops improving, and end on the best parameters (`\"early_stopping\": {}` enables it with these defaults; needs eval data and eval_every).",
        fields: [
            ConfigField("metric", .string, default: "eval/loss", aliases: ["metric_for_best_model", "monitor"],
                        doc: "The evaluation metric to watch, as written in metrics.jsonl (e.g. `eval/loss`, `eval/rewards/accuracies`, `eval/accuracy`)."),
            ConfigField("mode", .choice(["auto", "min", "max"]), default: "auto",
                        doc: "Whether lower or higher is better; `auto`: lower for metrics named loss or perplexity, higher otherwise."),
            ConfigField("patience", .int, default: 3, range: .atLeast(1), aliases: ["early_stopping_patience"],
                        doc: "Evaluations in a row without improvement that stop the run."),
            ConfigField("min_delta", .float, default: 0.0, range: .atLeast(0), aliases: ["threshold", "early_stopping_threshold"],
                        doc: "An improvement must beat the best value by more than this."),
            ConfigField("restore_best", .bool, default: true, aliases: ["load_best_model_at_end"],
                        doc: "End on the best parameters, so final/ is the best model (they are kept in checkpoints/best/)."),
            ConfigField("keep_top", .int, default: 1, range: .atLeast(1), aliases: ["top_k", "save_top_k"],
                        doc: "Also keep the trainable parameters of the k best evaluations by `metric` in checkpoints/top/step-N/ (seed 000's top-k checkpoints; 1: checkpoints/best/ only)."),
            ConfigField("stop_metric", .string, default: nil, defaultText: "`null` (`metric`)",
                        doc: "The metric patience watches, when it is not `metric` (e.g. align hpa's `eval/reward_window_score`, with `metric` the validation reward choosing best/ and top/)."),
            ConfigField("stop_mode", .choice(["auto", "min", "max"]), default: "auto", doc: "`mode` of stop_metric."),
        ])

    public static let recovery = ConfigSectionSchema(
        name: "recovery",
        doc: "Roll back to the last checkpoint after a non-finite loss or gradient, lower the learning rate and skip the offending batch (`\"recovery\": {}` enables it with these defaults).",
        fields: [
            ConfigField("max_recoveries", .int, default: 3, range: .atLeast(1), aliases: ["max_rollbacks"],
                        doc: "Rollbacks allowed before the run stops as without recovery."),
            ConfigField("lr_factor", .float, default: 0.5, range: .openClosed(0, 1), aliases: ["learning_rate_factor"],
                        doc: "Each rollback multiplies the learning rate by this."),
        ])

    /// The whole schema for one trainer: the shared sections plus the trainer's own.
    public static func root(trainer: TrainerSectionSchema) -> ConfigSectionSchema {
        return ConfigSectionSchema(
            name: "",
            doc: "Top-level keys.",
            fields: [
                ConfigField("model", .section(model), default: .required, doc: "The model to train (see `model`)."),
                ConfigField("data", .section(data), default: .required, doc: "Training and evaluation data (see `data`)."),
                ConfigField("optim", .section(optim), default: .sectionDefaults, aliases: ["optimizer", "optimization"],
                            doc: "Optimizer and learning-rate schedule (see `optim`)."),
                ConfigField("batch_size", .int, default: 8, range: .atLeast(1),
                            aliases: ["per_device_train_batch_size", "train_batch_size", "batch"],
                            doc: "Examples (or preference pairs) per micro-batch."),
                ConfigField("grad_accum", .int, default: 1, range: .closed(1, 1024),
                            aliases: ["gradient_accumulation_steps", "gradient_accumulation", "accum_steps"],
                            doc: "Micro-batches per optimizer step (same gradient as one batch of batch_size × grad_accum); at most 1024."),
                ConfigField("epochs", .float, default: 1.0, nullable: true, range: .greaterThan(0),
                            aliases: ["num_train_epochs", "num_epochs", "epoch"],
                            doc: "Passes over the training data (fractions allowed); ignored when max_steps is set; null requires max_steps."),
                ConfigField("max_steps", .int, default: nil, range: .atLeast(1), aliases: ["steps", "num_steps", "total_steps"],
                            doc: "Optimizer steps to run; overrides epochs."),
                ConfigField("seed", .int, default: 0, range: .atLeast(0), aliases: ["random_seed"],
                            doc: "Seed for initialisation, shuffling, dropout and sampling."),
                ConfigField("output_dir", .path(.output), default: .required, aliases: ["output", "out_dir", "output_path", "outdir"],
                            doc: "Directory for run.json, logs, checkpoints and the final model (created when the run starts)."),
                ConfigField("log_every", .int, default: 10, range: .atLeast(1), aliases: ["logging_steps", "log_steps", "log_interval"],
                            doc: "Log metrics every this many optimizer steps."),
                ConfigField("eval_every", .int, default: nil, range: .atLeast(1), defaultText: "`null` (only at the end)",
                            aliases: ["eval_steps", "eval_interval"],
                            doc: "Evaluate every this many optimizer steps (needs data.eval or data.eval_fraction)."),
                ConfigField("save_every", .int, default: nil, range: .atLeast(1), defaultText: "`null` (only the final model)",
                            aliases: ["save_steps", "checkpoint_every", "save_interval"],
                            doc: "Write a resumable checkpoint every this many optimizer steps."),
                ConfigField("keep_checkpoints", .int, default: 2, range: .atLeast(1), aliases: ["save_total_limit", "keep_last"],
                            doc: "Checkpoints kept; older ones are deleted."),
                ConfigField("early_stopping", .section(earlyStopping), default: nil, defaultText: "`null` (run to the end)",
                            doc: "Early stopping on an evaluation metric (see `early_stopping`)."),
                ConfigField("recovery", .section(recovery), default: nil, defaultText: "`null` (a non-finite loss stops the run)",
                            doc: "Crash recovery by rollback (see `recovery`); checkpoints via save_every bound the work lost."),
                ConfigField("resume_from", .path(.directory, keywords: ["latest"]), default: nil,
                            defaultText: "`null` (start fresh)", aliases: ["resume_from_checkpoint", "resume"],
                            doc: "`\"latest\"` = the newest checkpoint in output_dir (none: start fresh), or a checkpoint directory."),
                ConfigField("lora", .section(lora), default: nil, defaultText: "`null` (train all weights)",
                            aliases: ["peft", "peft_config", "adapter"],
                            doc: "Train low-rank adapters instead of all weights (see `lora`)."),
                ConfigField(trainer.name, .section(trainer.section), default: .sectionDefaults,
                            doc: "Settings of `align \(trainer.name)` (see `\(trainer.name)`)."),
            ])
    }

    /// Cross-field checks of the shared sections (trainer sections add their own).
    static let checks: [@Sendable (ConfigCheckContext) -> Void] = [
        MixtureWeightCheck.check,
        // model: exactly one of path / init
        { ctx in
            guard case .section? = ctx.value("model") else { return }
            let hasPath = ctx.isGiven("model.path") && ctx.value("model.path")?.isNull != true
            let hasInit = ctx.isGiven("model.init") && ctx.value("model.init")?.isNull != true
            if hasPath && hasInit {
                ctx.fail("model.init", "set either \"model.path\" (a pretrained model) or \"model.init\" (a new model), not both")
            } else if !hasPath && !hasInit {
                ctx.fail("model", "set \"model.path\" (a model directory or .gguf file) or \"model.init\" (a new model's shape and tokenizer)")
            }
        },
        // model.init: a consistent shape
        { ctx in
            guard let arch = ctx.string("model.init.architecture") else { return }
            let heads = ctx.int("model.init.heads")
            if let h = ctx.int("model.init.hidden_size"), let n = heads {
                if h % n != 0 {
                    ctx.fail("model.init.heads", "hidden_size \(h) is not divisible by heads \(n)")
                } else if arch == "llama" && (h / n) % 2 != 0 {
                    ctx.fail("model.init.heads", "llama needs an even head size for rotary embeddings; hidden_size / heads = \(h / n)")
                }
            }
            if ctx.isSet("model.init.kv_heads") {
                if arch == "gpt2" {
                    ctx.fail("model.init.kv_heads", "applies to llama only (gpt2 has no grouped-query attention)")
                } else if let kv = ctx.int("model.init.kv_heads"), let n = heads, n % kv != 0 {
                    ctx.fail("model.init.kv_heads", "heads \(n) is not divisible by kv_heads \(kv)")
                }
            }
            if let length = ctx.int("model.init.context_length"), let maxLen = ctx.int("data.max_seq_len"), maxLen > length {
                ctx.fail("data.max_seq_len", "\(maxLen) is longer than model.init.context_length \(length)")
            }
        },
        // run length
        { ctx in
            if ctx.value("epochs") == .null && ctx.value("max_steps") == .null {
                ctx.fail("epochs", "is null and max_steps is null; set one of them to bound the run")
            }
        },
        // warmup
        { ctx in
            if let ratio = ctx.float("optim.warmup_ratio"), ratio > 0, let steps = ctx.int("optim.warmup_steps"), steps > 0 {
                ctx.fail("optim.warmup_ratio", "set either optim.warmup_steps (\(steps)) or optim.warmup_ratio (\(formatNumber(ratio))), not both")
            }
        },
        // evaluation data
        { ctx in
            if ctx.isSet("data.eval_fraction") && ctx.isSet("data.eval") {
                ctx.fail("data.eval_fraction", "holds out part of data.train when data.eval is null, but data.eval is set; remove one of them")
            }
            if ctx.isSet("eval_every") && ctx.value("data.eval") == .null && ctx.value("data.eval_fraction") == .null {
                ctx.fail("eval_every", "there is no eval data; set data.eval or data.eval_fraction, or remove eval_every")
            }
        },
        // early stopping needs evaluations to watch
        { ctx in
            guard case .section? = ctx.value("early_stopping") else { return }
            if ctx.value("data.eval") == .null && ctx.value("data.eval_fraction") == .null {
                ctx.fail("early_stopping", "watches an evaluation metric, but there is no eval data; set data.eval or data.eval_fraction")
            } else if ctx.value("eval_every") == .null {
                ctx.fail("early_stopping", "needs evaluations during the run; set eval_every")
            }
        },
        // options that apply to some formats only
        { ctx in
            guard let format = ctx.string("data.format") else { return }
            if ctx.isSet("data.stride") && format != "auto" && format != "text" {
                ctx.fail("data.stride", "applies to raw text windows (format \"text\"), not format \"\(format)\"")
            }
            if ctx.bool("data.completion_only_loss") == true && format == "text" {
                ctx.fail("data.completion_only_loss", "raw text (format \"text\") has no completion; the loss is on every token")
            }
        },
    ]
}

/// The `data.format` values (AlignData's `DatasetFormat` raw values).
enum DataFormats {
    static let all = ["auto", "text", "prompt_completion", "alpaca", "messages", "preference"]
}
