import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation
import XCTest
@testable import AlignTraining
@testable import RewardTrainer

/// `align rm` end to end on a tiny generated task (the chosen response ends with "thanks", the
/// rejected one does not): held-out accuracy, the Hugging Face layout of `final/`, reloading and
/// scoring, an ensemble, exact resume, LoRA, and bad input.
final class RMRunTests: XCTestCase {
    static let words = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "rock", "fish"]

    /// A directory with a tokenizer trained on the task's text, text pairs (train/eval) and
    /// conversational pairs; made once for the class.
    static let fixture: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-rm-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 5)
        func pick(_ n: Int) -> String { (0..<n).map { _ in words[rng.int(below: words.count)] }.joined(separator: " ") }
        var lines: [String] = [], text: [String] = [], chat: [String] = []
        func json(_ o: Any) -> String { String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self) }
        for _ in 0..<112 {
            let prompt = "rate \(pick(2))", body = pick(2)
            let chosen = "\(body) thanks", rejected = "\(body) \(pick(1))"
            lines += [prompt, chosen, rejected]
            text.append(json(["prompt": prompt, "chosen": chosen, "rejected": rejected]))
            chat.append(json(["prompt": [["role": "user", "content": prompt]], "chosen": [["role": "assistant", "content": chosen]],
                              "rejected": [["role": "assistant", "content": rejected]]]))
        }
        var tok = try! Tokenizer.train(on: lines, options: BPETrainingOptions(vocabSize: 300, specialTokens: ["<|im_end|>", "<|im_start|>"]))
        tok.eosToken = "<|im_end|>"
        tok.chatTemplate = ChatTemplate.chatml.jinja
        try! tok.save(to: dir.appendingPathComponent("tok"))
        func write(_ rows: ArraySlice<String>, _ name: String) {
            try! (rows.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        write(text.prefix(96), "train.jsonl")
        write(text.suffix(16), "eval.jsonl")
        write(chat.prefix(96), "chat-train.jsonl")
        write(chat.suffix(16), "chat-eval.jsonl")
        return dir
    }()

    override class func tearDown() { try? FileManager.default.removeItem(at: fixture) }

    var dir: URL { Self.fixture }

    func config(output: String, train: String = "train.jsonl", eval: String = "eval.jsonl", _ extra: String = "") -> URL {
        let text = """
        {
          "model": {"init": {"architecture": "llama", "hidden_size": 32, "layers": 2, "heads": 4, "kv_heads": 2,
                             "context_length": 64, "tokenizer": "tok"}},
          "data": {"train": "\(train)", "eval": "\(eval)", "max_seq_len": 48},
          "optim": {"learning_rate": 0.003, "schedule": "cosine", "warmup_steps": 2},
          "batch_size": 8, "max_steps": 60, "seed": 3, "log_every": 5, "output_dir": "\(output)"\(extra)
        }
        """
        let url = dir.appendingPathComponent("run-\(output).json")
        try! text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The baseline run (K = 1, text pairs), trained once and shared.
    static var baseline: [String: Any]?
    func trainedBaseline() throws -> [String: Any] {
        if let s = Self.baseline { return s }
        let cfg = try RunConfig.load(file: config(output: "base"), trainer: RMConfig.schema)
        let s = try RMRun.run(config: cfg) { _ in }
        Self.baseline = s
        return s
    }

    func testTrainsToHeldOutAccuracyAndWritesTheHFLayout() throws {
        let summary = try trainedBaseline()
        XCTAssertEqual(summary["status"] as? String, "completed")
        let accuracy = try XCTUnwrap(summary["eval/accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(accuracy, 0.8, "held-out accuracy")
        print("rm baseline: eval/accuracy \(accuracy), eval/margin_mean \(summary["eval/margin_mean"] ?? "?")")
        let out = dir.appendingPathComponent("base"), final = out.appendingPathComponent("final")
        for f in ["run.json", "metrics.jsonl", "summary.json", "final/config.json", "final/model.safetensors", "final/tokenizer.json",
                  "final/eval_margins.svg", "final/reward_config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: final.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["LlamaForSequenceClassification"])
        XCTAssertEqual(config["num_labels"] as? Int, 1)
        let tok = try ModelStore.loadTokenizer(dir.appendingPathComponent("tok").path)
        XCTAssertEqual(config["pad_token_id"] as? Int, tok.eosTokenID)  // no pad token: pad = EOS, as TRL
        let weights = try SafeTensorsFile(url: final.appendingPathComponent("model.safetensors"))
        XCTAssertTrue(weights.names.contains("score.weight"))
        XCTAssertFalse(weights.names.contains("lm_head.weight"))  // tied
        XCTAssertEqual(weights.tensors.first { $0.name == "score.weight" }?.shape, [1, 32])
        // metrics: training and eval names, and the margins of the final eval in the summary
        let rows = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertTrue(rows.contains { $0["accuracy"] != nil && $0["margin_mean"] != nil && $0["margin_std"] != nil && $0["loss"] != nil })
        XCTAssertTrue(rows.contains { $0["eval/accuracy"] != nil && $0["eval/margin_mean"] != nil && $0["eval/loss"] != nil })
        let margins = try XCTUnwrap(summary["eval_margins"] as? [Double])
        XCTAssertEqual(margins.count, 16)
        XCTAssertEqual(Double(margins.filter { $0 > 0 }.count) / 16, accuracy, accuracy: 1e-12)
        let svg = try String(contentsOf: final.appendingPathComponent("eval_margins.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("16 pairs"))
    }

    func testSavedModelReloadsAndScoresIdentically() throws {
        let summary = try trainedBaseline()
        let final = dir.appendingPathComponent("base/final")
        let loaded = try RewardModelStore.load(final.path)
        XCTAssertEqual(loaded.model.numHeads, 1)
        XCTAssertEqual(loaded.chatTemplate?.family, .chatml)
        XCTAssertEqual(loaded.maxSeqLen, 48)
        // the reloaded model reproduces the trained model's eval margins
        let tok = try XCTUnwrap(loaded.tokenizer)
        let file = try DatasetFile.read(dir.appendingPathComponent("eval.jsonl"))
        let pairs = try file.preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 48)).examples
        let s = loaded.model.score(pairs.flatMap { [$0.prompt + $0.chosen, $0.prompt + $0.rejected] }, batchSize: 8)
        let margins = (0..<pairs.count).map { Double(s[2 * $0].reward - s[2 * $0 + 1].reward) }
        let trained = try XCTUnwrap(summary["eval_margins"] as? [Double])
        XCTAssertEqual(margins.count, trained.count)
        for (a, b) in zip(margins, trained) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // a second load scores bit-identically; batching does not change a row's reward
        let reloaded = try RewardModelStore.load(final.path).model
        XCTAssertEqual(reloaded.score(pairs.flatMap { [$0.prompt + $0.chosen, $0.prompt + $0.rejected] }, batchSize: 8), s)
        let again = reloaded.score(pairs.map { $0.prompt + $0.chosen }, batchSize: 3)
        XCTAssertEqual(again.count, pairs.count)
        for (i, x) in again.enumerated() { XCTAssertEqual(x.reward, s[2 * i].reward, accuracy: 1e-5) }
        let one = loaded.model.score([pairs[0].prompt + pairs[0].chosen], batchSize: 1)[0]
        XCTAssertEqual(one, loaded.model.score([pairs[0].prompt + pairs[0].chosen], batchSize: 1)[0])

        // `align rm score`: prompt/response lines and pairs, in one file
        let input = """
        {"prompt": "rate red cat", "response": "dog sun thanks"}
        {"prompt": "rate red cat", "chosen": "dog sun thanks", "rejected": "dog sun moon"}

        {"prompt": "rate red cat", "response": "dog sun moon"}
        """
        let rows = try RewardScoring.score(loaded, input: Data(input.utf8), source: "pairs.jsonl", includeIDs: true)
        XCTAssertEqual(rows.map { $0["line"] as? Int }, [1, 2, 4])
        // the same sequence in another batch (other padding length): equal up to float rounding
        XCTAssertEqual(try XCTUnwrap(rows[0]["reward"] as? Double), try XCTUnwrap(rows[1]["chosen_reward"] as? Double), accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(rows[2]["reward"] as? Double), try XCTUnwrap(rows[1]["rejected_reward"] as? Double), accuracy: 1e-5)
        XCTAssertEqual(rows[1]["chosen_wins"] as? Bool, true)
        XCTAssertNil(rows[0]["std"])  // one head: no ensemble spread
        let ids = try XCTUnwrap(rows[0]["input_ids"] as? [Int])
        XCTAssertEqual(ids.last, tok.eosTokenID)  // a text response ends with EOS, as in training
        XCTAssertEqual(ids, tok.encode("rate red cat", addSpecialTokens: false) + tok.encode("dog sun thanks", addSpecialTokens: false) + [tok.eosTokenID!])
        let text = try RewardScoring.jsonLines(rows)
        XCTAssertEqual(text.split(separator: "\n").count, 3)
    }

    /// model.path = a reward model directory: the run starts from its backbone and its head (the
    /// step-1 eval equals the saved model's), and a head count that differs is a clear error.
    func testContinuesTrainingFromARewardModelDirectory() throws {
        let base = try trainedBaseline()
        let final = dir.appendingPathComponent("base/final").path
        let text = """
        {
          "model": {"path": "\(final)"},
          "data": {"train": "train.jsonl", "eval": "eval.jsonl", "max_seq_len": 48},
          "optim": {"learning_rate": 1e-9},
          "batch_size": 8, "max_steps": 1, "seed": 3, "output_dir": "continued"
        }
        """
        let url = dir.appendingPathComponent("run-continued.json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        var messages: [String] = []
        var firstEval: [String: Double]?
        let summary = try RMRun.run(config: try RunConfig.load(file: url, trainer: RMConfig.schema)) { event in
            if case .message(let m) = event { messages.append(m) }
            if case .evaluation(_, let m) = event, firstEval == nil { firstEval = m }
        }
        XCTAssertTrue(messages.contains { $0.contains("continuing from the reward head") }, "\(messages)")
        // a learning rate of 1e-9 leaves the model as it was: its eval accuracy and margins are the saved model's
        XCTAssertEqual(summary["eval/accuracy"] as? Double, base["eval/accuracy"] as? Double)
        let before = try XCTUnwrap(base["eval_margins"] as? [Double]), after = try XCTUnwrap(summary["eval_margins"] as? [Double])
        XCTAssertEqual(before.count, after.count)
        for (a, b) in zip(before, after) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        // the step-1 evaluation (before any update) is the saved model's
        let first = try XCTUnwrap(firstEval)
        XCTAssertEqual(first["eval/accuracy"], base["eval/accuracy"] as? Double)
        XCTAssertEqual(try XCTUnwrap(first["eval/loss"]), try XCTUnwrap(base["eval/loss"] as? Double), accuracy: 1e-5)
        // three heads asked of a one-head reward model
        let three = try RunConfig.load(file: url, trainer: RMConfig.schema, overrides: ["rm.num_heads=3", "output_dir=continued3"])
        XCTAssertThrowsError(try RMRun.run(config: three) { _ in }) { error in
            XCTAssertTrue("\(error)".contains("rm.num_heads is 3 but model.path"), "\(error)")
            XCTAssertTrue("\(error)".contains("1 head"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("continued3").path))
    }

    func testScoreInputErrorsNameFileAndLine() throws {
        _ = try trainedBaseline()
        let loaded = try RewardModelStore.load(dir.appendingPathComponent("base/final").path)
        let cases: [(String, String)] = [
            ("{\"prompt\": \"a\", \"response\": \"b\"}\n{not json\n", "in.jsonl:2"),
            ("\n\n{\"prompt\": \"a\", \"answer\": \"b\"}\n", "in.jsonl:3"),
            ("{\"prompt\": \"a\", \"chosen\": \"b\"}\n", "in.jsonl:1"),
            ("{\"prompt\": 3, \"response\": \"b\"}\n", "in.jsonl:1"),
        ]
        for (input, location) in cases {
            XCTAssertThrowsError(try RewardScoring.score(loaded, input: Data(input.utf8), source: "in.jsonl")) { e in
                XCTAssertTrue("\(e)".hasPrefix(location + ":"), "\(e)")
            }
        }
        // a causal LM directory is not a reward model
        let lm = dir.appendingPathComponent("plain-lm")
        try saveRandomLM(to: lm)
        XCTAssertThrowsError(try RewardModelStore.load(lm.path)) { e in XCTAssertTrue("\(e)".contains("score.weight"), "\(e)") }
    }

    func testEnsembleOfThreeHeadsOnConversations() throws {
        let cfg = try RunConfig.load(file: config(output: "ens", train: "chat-train.jsonl", eval: "chat-eval.jsonl"), trainer: RMConfig.schema,
                                     overrides: ["rm.num_heads=3", "max_steps=30", "rm.center_rewards_coefficient=0.01"])
        var stepMetrics: [String: Double] = [:]
        let summary = try RMRun.run(config: cfg) { e in if case .step(_, _, let m) = e { stepMetrics = m } }
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertNotNil(stepMetrics["reward_std"])
        XCTAssertNotNil(summary["eval/reward_std"])
        let final = dir.appendingPathComponent("ens/final")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: final.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["num_labels"] as? Int, 3)
        XCTAssertEqual((config["id2label"] as? [String: String])?.count, 3)
        let loaded = try RewardModelStore.load(final.path)
        XCTAssertEqual(loaded.model.numHeads, 3)
        let input = """
        {"prompt": [{"role": "user", "content": "rate red cat"}], "response": [{"role": "assistant", "content": "dog sun thanks"}]}
        {"prompt": [{"role": "user", "content": "rate sun"}], "chosen": [{"role": "assistant", "content": "fish thanks"}], "rejected": [{"role": "assistant", "content": "fish rock"}]}
        """
        let rows = try RewardScoring.score(loaded, input: Data(input.utf8), source: "chat.jsonl", includeIDs: true)
        let heads = try XCTUnwrap(rows[0]["rewards"] as? [Double])
        XCTAssertEqual(heads.count, 3)
        let mean = heads.reduce(0, +) / 3
        XCTAssertEqual(try XCTUnwrap(rows[0]["reward"] as? Double), mean, accuracy: 1e-6)
        let std = try XCTUnwrap(rows[0]["std"] as? Double)
        XCTAssertGreaterThanOrEqual(std, 0)
        XCTAssertEqual(std, (heads.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot(), accuracy: 1e-6)
        XCTAssertGreaterThan(std, 0)  // independently initialised, bootstrapped heads disagree
        XCTAssertNotNil(rows[1]["chosen_std"])
        // conversations go through the chat template, as in training, to the end of the rendered
        // text: the ids of apply_chat_template(conversation), the "\n" after <|im_end|> included
        let tok = try XCTUnwrap(loaded.tokenizer)
        let ids = try XCTUnwrap(rows[0]["input_ids"] as? [Int])
        XCTAssertEqual(tok.decode(ids), "<|im_start|>user\nrate red cat<|im_end|>\n<|im_start|>assistant\ndog sun thanks<|im_end|>\n")
    }

    func testResumeContinuesExactly() throws {
        let a = try RunConfig.load(file: config(output: "ra"), trainer: RMConfig.schema,
                                   overrides: ["rm.num_heads=2", "max_steps=12", "save_every=6", "eval_every=null"])
        _ = try RMRun.run(config: a) { _ in }
        let ckpt = dir.appendingPathComponent("ra/checkpoints/step-6")
        XCTAssertTrue(FileManager.default.fileExists(atPath: ckpt.path))
        let b = try RunConfig.load(file: config(output: "rb"), trainer: RMConfig.schema,
                                   overrides: ["rm.num_heads=2", "max_steps=12", "save_every=6", "eval_every=null", "resume_from=\(ckpt.path)"])
        var resumed = false
        _ = try RMRun.run(config: b) { e in if case .resumed = e { resumed = true } }
        XCTAssertTrue(resumed)
        let wa = try StateDictFiles.load(directory: dir.appendingPathComponent("ra/final"))
        let wb = try StateDictFiles.load(directory: dir.appendingPathComponent("rb/final"))
        XCTAssertEqual(Set(wa.keys), Set(wb.keys))
        for (k, t) in wa { XCTAssertEqual(t.scalars, wb[k]!.scalars, k) }
    }

    /// A head count this machine cannot hold is an error naming `rm.num_heads` before the head is
    /// built; nothing is trained.
    func testAbsurdHeadCountsAreRefusedBeforeTheHeadIsBuilt() throws {
        for heads in [1 << 31 - 1, 1 << 32 - 1, 100_000_000] {
            let cfg = try RunConfig.load(file: config(output: "heads-\(heads)"), trainer: RMConfig.schema,
                                         overrides: ["rm.num_heads=\(heads)", "max_steps=1"])
            XCTAssertThrowsError(try RMRun.run(config: cfg) { _ in }) { error in
                XCTAssertTrue("\(error)".hasPrefix("rm.num_heads = \(heads) implies \(heads * 32) parameters"), "\(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("heads-\(heads)/final").path))
        }
    }

    func testLoRATrainsAdaptersAndHeadAndSavesAPEFTSequenceClassificationAdapter() throws {
        let base = dir.appendingPathComponent("lora-base")
        try saveRandomLM(to: base)
        let cfg = try RunConfig.load(file: config(output: "lora"), trainer: RMConfig.schema,
                                     overrides: ["model.path=\(base.path)", "model.init=null", "lora.rank=4", "max_steps=8"])
        let summary = try RMRun.run(config: cfg) { _ in }
        XCTAssertEqual(summary["status"] as? String, "completed")
        let final = dir.appendingPathComponent("lora/final")
        let adapter = try SafeTensorsFile(url: final.appendingPathComponent("adapter/adapter_model.safetensors"))
        XCTAssertEqual(adapter.names.count, 2 * 2 * 2 + 1)
        XCTAssertTrue(adapter.names.contains("base_model.model.score.weight"))
        let peft = try JSONSerialization.jsonObject(with: Data(contentsOf: final.appendingPathComponent("adapter/adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(peft["task_type"] as? String, "SEQ_CLS")
        XCTAssertTrue((peft["modules_to_save"] as? [String])?.contains("score") ?? false)
        // merged: only q/v projections moved, plus the new head
        let merged = try StateDictFiles.load(directory: final), original = try StateDictFiles.load(directory: base)
        XCTAssertEqual(Set(merged.keys), Set(original.keys).union(["score.weight"]))
        for (k, t) in original {
            XCTAssertEqual(t.scalars != merged[k]!.scalars, k.contains("q_proj") || k.contains("v_proj"), k)
        }
        XCTAssertNoThrow(try RewardModelStore.load(final.path))
    }

    func testBadDataLeavesNothingBehind() throws {
        // SFT data under align rm: named, before output_dir exists
        try "{\"prompt\": \"a\", \"completion\": \"b\"}\n".write(to: dir.appendingPathComponent("sft.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RMRun.run(config: RunConfig.load(file: config(output: "bad", train: "sft.jsonl"), trainer: RMConfig.schema)) { _ in }) { e in
            XCTAssertTrue("\(e)".contains("sft.jsonl") && "\(e)".contains("preference"), "\(e)")
        }
        // a non-preference data.format is refused by the config check
        XCTAssertThrowsError(try RunConfig.load(file: config(output: "bad"), trainer: RMConfig.schema, overrides: ["data.format=messages"]))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
    }

    /// A small random LLaMA causal LM with the fixture's tokenizer, saved as a model directory.
    func saveRandomLM(to url: URL) throws {
        let tok = try ModelStore.loadTokenizer(dir.appendingPathComponent("tok").path)
        let json: [String: Any] = ["model_type": "llama", "vocab_size": tok.vocabSize, "hidden_size": 32, "num_hidden_layers": 2,
                                   "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 64,
                                   "max_position_embeddings": 64, "tie_word_embeddings": true, "eos_token_id": tok.eosTokenID!]
        var rng = RandomGenerator(seed: 9)
        let model = LlamaModel(try LlamaConfig.decode(json: JSONSerialization.data(withJSONObject: json)), rng: &rng)
        try ModelStore.save(LoadedModel(family: .llama, model: model, source: url), tokenizer: tok, to: url)
    }
}
