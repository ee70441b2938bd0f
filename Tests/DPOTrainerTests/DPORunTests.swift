import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation
import XCTest
@testable import DPOTrainer

/// `align dpo` end to end on a tiny model: the step-0 invariant, the reference cache, learning
/// the preferred responses, exact resume, and bad input.
final class DPORunTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-dpo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let words = ["red", "blue", "green", "cat", "dog", "sun"]
        var rng = RandomGenerator(seed: 5)
        var lines: [String] = [], rows: [String] = []
        for _ in 0..<40 {
            let w = words[rng.int(below: words.count)]
            lines += ["name a \(w) thing", "a \(w) thing please", "a \(w) thing"]
            let row: [String: Any] = ["prompt": "name a \(w) thing", "chosen": " a \(w) thing please", "rejected": " a \(w) thing"]
            rows.append(String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self))
        }
        var tok = try Tokenizer.train(on: lines, options: BPETrainingOptions(vocabSize: 280, specialTokens: ["<|im_end|>"]))
        tok.eosToken = "<|im_end|>"
        var r = RandomGenerator(seed: 1)
        let config = try LlamaConfig.decode(json: Data(#"{"vocab_size": \#(tok.vocabSize), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64, "eos_token_id": 0}"#.utf8))
        let base = LoadedModel(family: .llama, model: LlamaModel(config, rng: &r), source: dir)
        try ModelStore.save(base, tokenizer: tok, to: dir.appendingPathComponent("base"))
        try (rows.prefix(32).joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        try (rows.suffix(8).joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("eval.jsonl"), atomically: true, encoding: .utf8)
        try """
        {"model": {"path": "base"}, "data": {"train": "train.jsonl", "eval": "eval.jsonl", "format": "preference", "max_seq_len": 32},
         "optim": {"learning_rate": 0.003, "schedule": "constant"}, "dpo": {"loss": "sigmoid"},
         "batch_size": 8, "max_steps": 30, "seed": 2, "log_every": 1, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ overrides: [String] = []) throws -> RunConfig {
        try RunConfig.load(file: dir.appendingPathComponent("run.json"), trainer: DPOConfig.schema, overrides: overrides)
    }

    func testStepZeroIsLn2AndTheChosenResponsesWin() throws {
        var steps: [[String: Double]] = []
        var evals: [[String: Double]] = []
        let summary = try DPORun.run(config: load()) { e in
            if case .step(_, _, let m) = e { steps.append(m) }
            if case .evaluation(_, let m) = e { evals.append(m) }
        }
        XCTAssertEqual(summary["status"] as? String, "completed")
        // policy = reference at step 0: loss ln 2 and rewards exactly 0, so no pair counts as won
        // (the reference cache was computed on the first epoch's micro-batches: the same rows and
        // shapes as the policy's first forward, not float noise of 1e-7 counted as wins)
        XCTAssertEqual(evals.first!["eval/loss"]!, log(2), accuracy: 1e-6)
        XCTAssertEqual(steps.first!["loss"]!, log(2), accuracy: 1e-6)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"] {
            XCTAssertEqual(steps.first![key], 0, key)
            XCTAssertEqual(evals.first!["eval/" + key], 0, "eval/" + key)
        }
        XCTAssertEqual(evals.last!["eval/rewards/accuracies"]!, 1)
        XCTAssertGreaterThan(evals.last!["eval/rewards/margins"]!, 0.5)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected"] {
            XCTAssertNotNil(steps.last![key], key)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/reference_logps.json").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/final/model.safetensors").path))
        // `align eval --task preference` on the saved model and its reference gives the run's last eval metrics
        let tok = try ModelStore.loadTokenizer(dir.appendingPathComponent("base").path)
        let pairs = try DatasetFile.read(dir.appendingPathComponent("eval.jsonl"), format: .preference)
            .preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 32, chatTemplate: .chatml)).examples
        let measured = PreferenceAccuracy.evaluate(pairs, policy: try ModelStore.load(dir.appendingPathComponent("out/final").path).model,
                                                   reference: try ModelStore.load(dir.appendingPathComponent("base").path).model,
                                                   beta: 0.1, padID: Batch.padID(for: tok), batchSize: 3)
        XCTAssertEqual(measured.pairs, 8)
        XCTAssertEqual(measured.accuracy, evals.last!["eval/rewards/accuracies"]!, accuracy: 1e-9)
        XCTAssertEqual(measured.marginMean, evals.last!["eval/rewards/margins"]!, accuracy: 1e-4)
        XCTAssertEqual(measured.chosenMean, evals.last!["eval/rewards/chosen"]!, accuracy: 1e-4)
        // curves.svg: loss, the reward metrics and the learning rate, train and eval lines
        let svg = try String(contentsOf: dir.appendingPathComponent("out/curves.svg"), encoding: .utf8)
        for panel in ["loss", "rewards/chosen", "rewards/margins", "rewards/accuracies", "learning_rate"] {
            XCTAssertTrue(svg.contains(">\(panel)</text>"), panel)
        }
        XCTAssertTrue(svg.contains("data-label=\"eval\""))
        XCTAssertTrue(svg.contains("data-label=\"train\""))
    }

    /// Rows of different lengths in shuffled micro-batches: the reference cache is computed on the
    /// first epoch's micro-batches, so at step 0 (policy = reference) every logπ − logπ_ref is
    /// exactly 0 and no pair counts as won (computed in file order, padding and matrix shapes
    /// differ from the policy's batches and noise of 1e-7 decides `rewards/accuracies`).
    func testStepZeroRewardsAreExactlyZeroOnRowsOfDifferentLengths() throws {
        var rng = RandomGenerator(seed: 11)
        let words = ["red", "blue", "green", "cat", "dog", "sun"]
        var rows: [String] = []
        for _ in 0..<24 {
            let w = words[rng.int(below: words.count)]
            let extra = String(repeating: " \(w)", count: rng.int(below: 6))
            let row: [String: Any] = ["prompt": "name a\(extra) \(w) thing", "chosen": " a\(extra) \(w) thing please",
                                      "rejected": " a \(w)\(String(repeating: " thing", count: 1 + rng.int(below: 4)))"]
            rows.append(String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self))
        }
        try (rows.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("varied.jsonl"), atomically: true, encoding: .utf8)
        var first: [String: Double]?
        _ = try DPORun.run(config: load(["data.train=\(dir.appendingPathComponent("varied.jsonl").path)", "data.eval=null", "batch_size=3",
                                         "grad_accum=2", "max_steps=2", "output_dir=\(dir.appendingPathComponent("varied").path)"])) { e in
            if case .step(_, _, let m) = e, first == nil { first = m }
        }
        let m = try XCTUnwrap(first)
        XCTAssertEqual(m["loss"]!, log(2), accuracy: 1e-6)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"] { XCTAssertEqual(m[key], 0, key) }
    }

    /// Without `model.reference` the cached log-probs come from the policy itself before training
    /// (no second copy is loaded); they equal those of the same weights loaded as a reference.
    func testLoRAWithDropoutResumesExactly() throws {
        // LoRA dropout draws from per-adapter streams; a checkpoint must carry them (the loop's),
        // or the resumed run drops other activations than the uninterrupted one
        let common = ["lora={\"rank\": 4, \"dropout\": 0.3}", "max_steps=6", "save_every=3", "keep_checkpoints=10", "lora.merge=false"]
        let whole = try DPORun.run(config: load(common + ["output_dir=\(dir.path)/whole"])) { _ in }
        XCTAssertEqual(whole["status"] as? String, "completed")
        let part = dir.appendingPathComponent("part/checkpoints")
        try FileManager.default.createDirectory(at: part, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("whole/checkpoints/step-3"), to: part.appendingPathComponent("step-3"))
        try FileManager.default.copyItem(at: dir.appendingPathComponent("whole/reference_logps.json"), to: dir.appendingPathComponent("part/reference_logps.json"))
        try FileManager.default.copyItem(at: dir.appendingPathComponent("whole/reference_logps_eval.json"), to: dir.appendingPathComponent("part/reference_logps_eval.json"))
        let resumed = try DPORun.run(config: load(common + ["output_dir=\(dir.path)/part", "resume_from=latest"])) { _ in }
        XCTAssertEqual(resumed["status"] as? String, "completed")
        let a = try StateDictFiles.load(file: dir.appendingPathComponent("whole/final/adapter/adapter_model.safetensors"))
        let b = try StateDictFiles.load(file: dir.appendingPathComponent("part/final/adapter/adapter_model.safetensors"))
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, t) in a { XCTAssertTrue(t.scalars == b[k]!.scalars, "\(k) differs after resuming") }
        XCTAssertEqual(whole["final/loss"] as? Double, resumed["final/loss"] as? Double)
    }

    func testStartingPolicyAsReferenceEqualsALoadedReference() throws {
        _ = try DPORun.run(config: load(["max_steps=1", "output_dir=\(dir.path)/a"])) { _ in }
        _ = try DPORun.run(config: load(["max_steps=1", "output_dir=\(dir.path)/b", "model.reference=\(dir.path)/base"])) { _ in }
        for file in ["reference_logps.json", "reference_logps_eval.json"] {
            let a = try Data(contentsOf: dir.appendingPathComponent("a/\(file)")), b = try Data(contentsOf: dir.appendingPathComponent("b/\(file)"))
            XCTAssertEqual(a, b, "\(file): \(String(decoding: a, as: UTF8.self)) vs \(String(decoding: b, as: UTF8.self))")   // bit-equal values, sorted keys
        }
    }

    func testReferenceCacheIsReusedOnResumeAndSimPONeedsNone() throws {
        var messages: [String] = []
        _ = try DPORun.run(config: load(["max_steps=4", "save_every=2"])) { e in if case .message(let m) = e { messages.append(m) } }
        XCTAssertTrue(messages.contains { $0.contains("computed once") })
        messages = []
        _ = try DPORun.run(config: load(["max_steps=6", "save_every=2", "resume_from=latest"])) { e in if case .message(let m) = e { messages.append(m) } }
        XCTAssertTrue(messages.contains { $0.contains("reused") }, "\(messages)")
        let simpo = try DPORun.run(config: load(["dpo.loss=simpo", "output_dir=\(dir.path)/simpo", "max_steps=3"])) { _ in }
        XCTAssertEqual(simpo["status"] as? String, "completed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("simpo/reference_logps.json").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("simpo/final/model.safetensors").path))
    }

    /// A run resumed from a checkpoint of another ends exactly as that one did: every logged
    /// metric after the checkpoint (but the throughput) and every final weight bit-equal.
    func testResumeContinuesExactly() throws {
        _ = try DPORun.run(config: load(["max_steps=6", "save_every=3", "eval_every=null", "output_dir=\(dir.path)/whole"])) { _ in }
        let checkpoint = dir.appendingPathComponent("whole/checkpoints/step-3")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path))
        var resumed = false
        _ = try DPORun.run(config: load(["max_steps=6", "save_every=3", "eval_every=null", "output_dir=\(dir.path)/resumed",
                                         "resume_from=\(checkpoint.path)"])) { e in if case .resumed = e { resumed = true } }
        XCTAssertTrue(resumed)
        let a = try StateDictFiles.load(directory: dir.appendingPathComponent("whole/final"))
        let b = try StateDictFiles.load(directory: dir.appendingPathComponent("resumed/final"))
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, t) in a { XCTAssertEqual(t.scalars, b[k]!.scalars, k) }
        func steps(_ run: String) throws -> [Int: [String: Double]] {
            var out: [Int: [String: Double]] = [:]
            for line in try String(contentsOf: dir.appendingPathComponent("\(run)/metrics.jsonl"), encoding: .utf8).split(separator: "\n") {
                var m = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]).compactMapValues { $0 as? Double }
                m["tokens_per_second"] = nil
                if let step = m["step"], step > 3 { out[Int(step), default: [:]].merge(m) { $1 } }
            }
            return out
        }
        let whole = try steps("whole"), again = try steps("resumed")
        XCTAssertEqual(Set(whole.keys), [4, 5, 6])
        XCTAssertEqual(whole, again)
    }

    func testBadPreferenceInput() throws {
        try #"{"prompt": "x", "chosen": " a"}"# .write(to: dir.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DPORun.run(config: load()) { _ in }) { e in
            XCTAssertTrue("\(e)".contains("train.jsonl:1") && "\(e)".contains("rejected"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }
}

/// The remaining bad preference inputs of a new user.
extension DPORunTests {
    func testIdenticalPairsAreCountedAndSkippedAndAForeignReferenceIsAnError() throws {
        let t = self
        // half the pairs identical: counted in the report and skipped, training still runs
        var lines = try String(contentsOf: dir.appendingPathComponent("train.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        for i in stride(from: 0, to: lines.count, by: 2) {
            var obj = try JSONSerialization.jsonObject(with: Data(lines[i].utf8)) as! [String: Any]
            obj["rejected"] = obj["chosen"]
            lines[i] = String(decoding: try JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        var messages: [String] = []
        _ = try DPORun.run(config: t.load(["max_steps=2"])) { e in if case .message(let m) = e { messages.append(m) } }
        XCTAssertTrue(messages.contains { $0.contains("32 records → 16 examples") && $0.contains("16 identical pairs skipped") }, "\(messages)")
        // an empty response: dropped and counted
        let tok = try Tokenizer(directory: dir.appendingPathComponent("base"))
        let file = try DatasetFile.parse(Data(#"{"prompt": "name a red thing", "chosen": " a red thing", "rejected": ""}"#.utf8) + Data("\n".utf8)
                                         + Data(#"{"prompt": "name a cat thing", "chosen": " a cat thing please", "rejected": " a cat thing"}"#.utf8),
                                         source: "empty.jsonl")
        let set = try file.preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 32))
        XCTAssertEqual(set.examples.count, 1)
        XCTAssertEqual(set.report.dropped, ["empty response": 1])
        // a reference model with another vocabulary
        var r = RandomGenerator(seed: 9)
        let other = try LlamaConfig.decode(json: Data(#"{"vocab_size": 300, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64}"#.utf8))
        try ModelStore.save(LoadedModel(family: .llama, model: LlamaModel(other, rng: &r), source: dir), to: dir.appendingPathComponent("other"))
        XCTAssertThrowsError(try DPORun.run(config: t.load(["model.reference=\(dir.path)/other", "output_dir=\(dir.path)/ref"])) { _ in }) { e in
            XCTAssertTrue("\(e)".contains("vocabulary of 300 tokens"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("ref").path))
    }
}
