import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation
import XCTest
@testable import SFTTrainer

/// `align sft` end to end on a tiny generated task: outputs, falling eval loss, LoRA, and bad
/// input that leaves the output directory untouched.
final class SFTRunTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-sft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // a tokenizer trained on the task's own text, and chat data: "say a b c" → "a b c" (a copy
        // task, which a tiny model generalises to word triples it has not seen)
        var lines: [String] = [], rows: [String] = []
        let words = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "rock", "fish"]
        var rng = RandomGenerator(seed: 11)
        for _ in 0..<48 {
            let triple = (0..<3).map { _ in words[rng.int(below: words.count)] }.joined(separator: " ")
            let q = "say \(triple)", r = triple
            lines += [q, r]
            let msg: [String: Any] = ["messages": [["role": "user", "content": q], ["role": "assistant", "content": r]]]
            rows.append(String(decoding: try JSONSerialization.data(withJSONObject: msg), as: UTF8.self))
        }
        var tok = try Tokenizer.train(on: lines, options: BPETrainingOptions(vocabSize: 300, specialTokens: ["<|im_end|>", "<|im_start|>"]))
        tok.eosToken = "<|im_end|>"
        tok.chatTemplate = ChatTemplate.chatml.jinja
        try tok.save(to: dir.appendingPathComponent("tok"))
        try (rows.prefix(40).joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        try (rows.suffix(8).joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("eval.jsonl"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func config(_ extra: String = "", output: String = "out") -> URL {
        let text = """
        {
          "model": {"init": {"architecture": "llama", "hidden_size": 32, "layers": 2, "heads": 4, "kv_heads": 2,
                             "context_length": 64, "tokenizer": "tok"}},
          "data": {"train": "train.jsonl", "eval": "eval.jsonl", "format": "messages", "chat_template": "chatml", "max_seq_len": 48},
          "optim": {"learning_rate": 0.005, "schedule": "cosine", "warmup_steps": 2},
          "batch_size": 8, "max_steps": 120, "seed": 3, "log_every": 5, "save_every": 60, "output_dir": "\(output)"\(extra)
        }
        """
        let url = dir.appendingPathComponent("run-\(output).json")
        try! text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testTrainsWritesEveryOutputAndEvalLossFalls() throws {
        let cfg = try RunConfig.load(file: config(), trainer: SFTConfig.schema)
        let summary = try SFTRun.run(config: cfg) { _ in }
        XCTAssertEqual(summary["status"] as? String, "completed")
        let out = dir.appendingPathComponent("out")
        for f in ["run.json", "metrics.jsonl", "summary.json", "final/config.json", "final/model.safetensors", "final/tokenizer.json",
                  "final/generation_config.json", "checkpoints/step-60/state.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let evals = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["eval/loss"] as? Double }
        XCTAssertGreaterThanOrEqual(evals.count, 2)
        XCTAssertLessThan(evals.last!, evals.first! - 1.0, "eval/loss \(evals)")
        // the saved model loads and reproduces the trained model's eval metric
        let final = out.appendingPathComponent("final").path
        let reloaded = try ModelStore.load(final)
        XCTAssertEqual(reloaded.family, .llama)
        let tokenizer = try ModelStore.loadTokenizer(final)
        let file = try SFTRun.readDataset(dir.appendingPathComponent("eval.jsonl").path, format: cfg.data.format, skipInvalid: false)
        let options = TokenizationOptions(maxSeqLen: cfg.data.maxSeqLen, completionOnlyLoss: cfg.data.completionOnlyLoss(for: file.format),
                                          truncationSide: cfg.data.truncationSide, stride: cfg.data.stride, chatTemplate: .chatml)
        let examples = try file.sftExamples(tokenizer: tokenizer, options: options).examples
        let reproduced = try Perplexity.evaluate(examples, model: reloaded.model, padID: Batch.padID(for: tokenizer), batchSize: cfg.batchSize)
        let trained = try XCTUnwrap(summary["eval/loss"] as? Double)
        XCTAssertEqual(reproduced.nll, trained, accuracy: 1e-5 * max(1, trained))
        XCTAssertEqual(evals.last!, trained, accuracy: 1e-12, "the summary's eval/loss is the last logged one")
    }

    /// Early stopping: watching eval/loss as if higher were better, no evaluation after step 0
    /// "improves", so the run stops after `patience` evaluations and ends on the step-0 weights;
    /// watching it the right way round, the run continues and final/ is the best evaluated model.
    func testEarlyStoppingStopsAndEndsOnTheBestParameters() throws {
        var messages: [String] = []
        let cfg = try RunConfig.load(file: config(#", "eval_every": 5, "early_stopping": {"metric": "eval/loss", "mode": "max", "patience": 2}"#, output: "es"),
                                     trainer: SFTConfig.schema)
        let summary = try SFTRun.run(config: cfg) { if case .message(let m) = $0 { messages.append(m) } }
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(summary["stopped_early_at"] as? Int, 10)
        XCTAssertEqual(summary["best_step"] as? Int, 0)
        XCTAssertTrue(messages.contains { $0.hasPrefix("early stopping at step 10") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.hasPrefix("restored the best parameters (step 0") }, "\(messages)")
        let out = dir.appendingPathComponent("es")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("checkpoints/best/trainable.safetensors").path))
        // final/ holds the step-0 parameters: its eval loss is the step-0 one
        let rows = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let evals = rows.compactMap { r in (r["eval/loss"] as? Double).map { (r["step"] as! Int, $0) } }
        XCTAssertEqual(evals.first?.0, 0)
        XCTAssertEqual(evals.last!.1, evals.first!.1, accuracy: 1e-9)   // the final evaluation, of the restored model
        XCTAssertLessThan(evals[1].1, evals[0].1)                         // training did lower it
        XCTAssertEqual(summary["eval/loss"] as! Double, evals.first!.1, accuracy: 1e-9)

        // the right direction: the best of the evaluations (here the last) is the final model
        let good = try RunConfig.load(file: config(#", "eval_every": 10, "early_stopping": {"patience": 2}"#, output: "es2"),
                                      trainer: SFTConfig.schema, overrides: ["max_steps=30", "save_every=null"])
        let s2 = try SFTRun.run(config: good) { _ in }
        XCTAssertNil(s2["stopped_early_at"])
        XCTAssertEqual(s2["best_step"] as? Int, 30)
        XCTAssertEqual((s2["best_metric"] as? [String: Double])?["eval/loss"]!, s2["eval/loss"] as? Double)
    }

    /// `keep_top`: the k best evaluations by the metric keep their parameters in
    /// checkpoints/top/step-N/, exactly those (evicted ones are removed), listed in the summary.
    func testKeepTopKeepsTheKBestEvaluations() throws {
        let cfg = try RunConfig.load(file: config(#", "eval_every": 4, "early_stopping": {"patience": 50, "keep_top": 3}"#, output: "top"),
                                     trainer: SFTConfig.schema, overrides: ["max_steps=24", "save_every=null", "optim.learning_rate=0.02"])
        let summary = try SFTRun.run(config: cfg) { _ in }
        let out = dir.appendingPathComponent("top")
        let rows = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        var byStep: [Int: Double] = [:]
        for r in rows { if let v = r["eval/loss"] as? Double { byStep[r["step"] as! Int] = byStep[r["step"] as! Int] ?? v } }
        XCTAssertEqual(byStep.count, 7, "steps 0, 4, …, 24")
        let expected = byStep.sorted { $0.value < $1.value }.prefix(3).map(\.key)
        let listed = (summary["top_checkpoints"] as? [[String: Any]])?.compactMap { $0["step"] as? Int }
        XCTAssertEqual(listed, expected)
        let dirs = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("checkpoints/top").path).sorted()
        XCTAssertEqual(dirs, expected.sorted().map { "step-\($0)" }.sorted())
        for step in expected {
            let info = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("checkpoints/top/step-\(step)/top.json"))) as! [String: Any]
            XCTAssertEqual(info["value"] as! Double, byStep[step]!, accuracy: 1e-12)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("checkpoints/top/step-\(step)/trainable.safetensors").path))
        }
        // the best of the top is the one in best/
        XCTAssertEqual(summary["best_step"] as? Int, expected[0])
    }

    func testEarlyStoppingRuleAndConfigErrors() throws {
        let es = EarlyStopping(metric: "eval/loss", minimize: true, patience: 2, minDelta: 0.1)
        var state = EarlyStopping.State()
        XCTAssertTrue(es.update(&state, value: 1.0, step: 0))
        XCTAssertFalse(es.update(&state, value: 0.95, step: 1))   // within min_delta
        XCTAssertFalse(es.shouldStop(state))
        XCTAssertTrue(es.update(&state, value: 0.85, step: 2))    // resets the count
        XCTAssertFalse(es.update(&state, value: 0.9, step: 3))
        XCTAssertFalse(es.update(&state, value: 0.8, step: 4))
        XCTAssertTrue(es.shouldStop(state))
        XCTAssertEqual(state.bestStep, 2)
        let up = EarlyStopping(metric: "eval/accuracy", minimize: false, patience: 1)
        var s2 = EarlyStopping.State()
        XCTAssertTrue(up.update(&s2, value: 0.5, step: 0))
        XCTAssertTrue(up.update(&s2, value: 0.6, step: 1))
        XCTAssertFalse(up.update(&s2, value: 0.6, step: 2))
        // the state survives a checkpoint
        let data = try JSONEncoder().encode(state)
        XCTAssertEqual(try JSONDecoder().decode(EarlyStopping.State.self, from: data), state)
        // auto mode
        XCTAssertEqual(try RunConfig.load(file: config(#", "eval_every": 5, "early_stopping": {"metric": "eval/perplexity"}"#, output: "a"), trainer: SFTConfig.schema).earlyStopping?.minimize, true)
        XCTAssertEqual(try RunConfig.load(file: config(#", "eval_every": 5, "early_stopping": {"metric": "eval/accuracy"}"#, output: "b"), trainer: RMConfig.schema,
                                          overrides: ["data.format=auto"]).earlyStopping?.minimize, false)
        // without evaluations during the run: a config error naming the key
        XCTAssertThrowsError(try RunConfig.load(file: config(#", "early_stopping": {}"#, output: "c"), trainer: SFTConfig.schema)) { error in
            XCTAssertTrue("\(error)".contains("early_stopping: needs evaluations during the run; set eval_every"), "\(error)")
        }
        XCTAssertThrowsError(try RunConfig.load(file: config(#", "recovery": {"lr_factor": 0}"#, output: "r"), trainer: SFTConfig.schema)) { error in
            XCTAssertTrue("\(error)".contains("recovery.lr_factor"), "\(error)")
        }
        XCTAssertEqual(try RunConfig.load(file: config(#", "recovery": {}"#, output: "r2"), trainer: SFTConfig.schema).recovery,
                       Recovery(maxRecoveries: 3, learningRateFactor: 0.5))
        // a metric the trainer does not report: a config error at its line, naming the ones it does, before anything runs
        XCTAssertThrowsError(try RunConfig.load(file: config(#", "eval_every": 5, "early_stopping": {"metric": "eval/acuracy"}"#, output: "d"), trainer: SFTConfig.schema)) { error in
            XCTAssertTrue("\(error)".contains("run-d.json:6: early_stopping.metric: \"eval/acuracy\" is not an evaluation metric of this run; it writes: eval/loss, eval/perplexity"), "\(error)")
        }
    }

    func testLoRATrainsOnlyAdaptersAndSavesMergedModelAndAdapter() throws {
        // base: a short full run; then LoRA on top of its final model
        _ = try SFTRun.run(config: RunConfig.load(file: config(), trainer: SFTConfig.schema)) { _ in }
        let base = dir.appendingPathComponent("out/final").path
        let cfg = try RunConfig.load(file: config(output: "lora"), trainer: SFTConfig.schema,
                                     overrides: ["model.path=\(base)", "model.init=null", "lora.rank=4", "max_steps=10", "save_every=null"])
        let summary = try SFTRun.run(config: cfg) { _ in }
        XCTAssertEqual(summary["status"] as? String, "completed")
        let final = dir.appendingPathComponent("lora/final")
        let adapter = try SafeTensorsFile(url: final.appendingPathComponent("adapter/adapter_model.safetensors"))
        XCTAssertEqual(adapter.names.count, 2 * 2 * 2)  // A, B × q_proj, v_proj × 2 layers
        XCTAssertTrue(adapter.names.allSatisfy { $0.hasPrefix("base_model.model.model.layers.") })
        // merged: the final model has no adapter keys and differs from the base in q/v only
        let merged = try StateDictFiles.load(directory: final), original = try StateDictFiles.load(directory: URL(fileURLWithPath: base))
        XCTAssertEqual(Set(merged.keys), Set(original.keys))
        for (k, t) in merged {
            let changed = t.scalars != original[k]!.scalars
            XCTAssertEqual(changed, k.contains("q_proj") || k.contains("v_proj"), k)
        }
    }

    func testKLSFTReportsTheSquaredLogRatioAgainstTheStartingModel() throws {
        _ = try SFTRun.run(config: RunConfig.load(file: config(), trainer: SFTConfig.schema, overrides: ["max_steps=20", "save_every=null"])) { _ in }
        let base = dir.appendingPathComponent("out/final").path
        let cfg = try RunConfig.load(file: config(output: "kl"), trainer: SFTConfig.schema,
                                     overrides: ["model.path=\(base)", "model.init=null", "sft.kl_coef=0.5", "max_steps=10", "save_every=null"])
        var kls: [Double] = []
        _ = try SFTRun.run(config: cfg) { e in if case .step(_, _, let m) = e, let kl = m["kl"] { kls.append(kl) } }
        XCTAssertEqual(kls.first ?? -1, 0, accuracy: 1e-9)   // step 1 starts at the reference
        XCTAssertGreaterThan(kls.last ?? 0, 0)               // and moves away from it
    }

    /// With data.chat_template "auto", the tokenizer's own template: one the native renderers
    /// do not reproduce is rendered by the Jinja engine; one the engine cannot parse is refused
    /// naming the construct, before anything is written.
    func testTheModelsOwnTemplateIsRenderedOrRefused() throws {
        let tokDir = dir.appendingPathComponent("tok")
        var tok = try Tokenizer(directory: tokDir)
        tok.chatTemplate = "{% for m in messages %}{{ '<|im_start|>' + m.role | upper + ': ' + m.content | trim + '<|im_end|>' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>ASSISTANT: ' }}{% endif %}"
        try tok.save(to: tokDir)
        let template = try XCTUnwrap(try ChatTemplate.model(Tokenizer(directory: tokDir)))
        XCTAssertNil(template.family)
        let cfg = try RunConfig.load(file: config(), trainer: SFTConfig.schema, overrides: ["data.chat_template=auto", "max_steps=4", "save_every=4"])
        let summary = try SFTRun.run(config: cfg) { _ in }
        XCTAssertEqual(summary["status"] as? String, "completed")

        tok.chatTemplate = "{% for m in messages %}{% include 'turn.jinja' %}{% endfor %}"
        try tok.save(to: tokDir)
        let bad = try RunConfig.load(file: config(output: "bad"), trainer: SFTConfig.schema, overrides: ["data.chat_template=auto"])
        XCTAssertThrowsError(try SFTRun.run(config: bad) { _ in }) { e in
            XCTAssertTrue("\(e)".hasPrefix("chat template line 1, column "), "\(e)")
            XCTAssertTrue("\(e)".contains("include"), "\(e)")
            XCTAssertFalse("\(e)".contains("\n"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
        // data.chat_template still overrides the model's (unparsable) template
        let chatml = try RunConfig.load(file: config(output: "chatml"), trainer: SFTConfig.schema, overrides: ["max_steps=2", "save_every=2"])
        XCTAssertEqual(try SFTRun.run(config: chatml) { _ in }["status"] as? String, "completed")
    }

    func testBadInputLeavesNothingBehind() throws {
        let out = dir.appendingPathComponent("out")
        // a data file that does not exist: the config check names it; nothing is created
        XCTAssertThrowsError(try RunConfig.load(file: config(), trainer: SFTConfig.schema, overrides: ["data.train=missing.jsonl"])) { e in
            XCTAssertTrue("\(e)".contains("missing.jsonl"), "\(e)")
        }
        // a broken line in the data: reported with file and line, before output_dir exists
        try "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, {\"role\": \"assistant\", \"content\": \"y\"}]}\n{not json\n"
            .write(to: dir.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SFTRun.run(config: RunConfig.load(file: config(), trainer: SFTConfig.schema)) { _ in }) { e in
            XCTAssertTrue("\(e)".contains("train.jsonl:2"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        // max_seq_len beyond the model's context
        XCTAssertThrowsError(try SFTRun.run(config: RunConfig.load(file: config(), trainer: SFTConfig.schema,
                                                                   overrides: ["data.max_seq_len=128", "data.skip_invalid=true"])) { _ in }) { e in
            XCTAssertTrue("\(e)".contains("max_seq_len") , "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
