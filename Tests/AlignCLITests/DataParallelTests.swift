import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation
import XCTest

/// `mpirun -np 2 align …` against `align …` in one process, on tiny models over loopback: the
/// same global batch gives the same loss curve and parameters (up to summation order: measured
/// at most 2.2e-6 relative, held to `tolerance`), a 2-rank
/// checkpoint resumes bit-exactly in 2 ranks and at the same global batch in 1, a killed rank
/// stops the job with the checkpoint whole, and refusals come once with exit 2. The tests launch
/// the built `align` executable; they are skipped only when `mpirun` is not installed.
final class DataParallelTests: XCTestCase {
    var dir: URL!
    var mpirun: String!
    var align: String!

    /// Two runs of the same global batch agree to this, relative to max(1, |value|): the ranks
    /// sum their micro-batches' gradients and metrics in another order than one process does.
    static let tolerance = 2e-5

    override func setUpWithError() throws {
        let found = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipIf(found == nil, "mpirun not found: install Open MPI (scripts/install-deps.sh installs openmpi-bin) to run the data-parallel tests")
        mpirun = found
        align = try Self.alignExecutable()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-mpi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // a copy task for SFT and preference pairs for DPO, a tokenizer trained on their text
        let words = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree"]
        var rng = RandomGenerator(seed: 21)
        var lines: [String] = [], sft: [String] = [], pairs: [String] = []
        for _ in 0..<48 {
            let triple = (0..<3).map { _ in words[rng.int(below: words.count)] }.joined(separator: " ")
            lines += ["say \(triple)", triple]
            let msg: [String: Any] = ["messages": [["role": "user", "content": "say \(triple)"], ["role": "assistant", "content": triple]]]
            sft.append(String(decoding: try JSONSerialization.data(withJSONObject: msg), as: UTF8.self))
            let w = words[rng.int(below: words.count)]
            lines += ["name a \(w) thing", "a \(w) thing please"]
            let row: [String: Any] = ["prompt": "name a \(w) thing", "chosen": " a \(w) thing please", "rejected": " a \(w) thing"]
            pairs.append(String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self))
        }
        var tok = try Tokenizer.train(on: lines, options: BPETrainingOptions(vocabSize: 300, specialTokens: ["<|im_end|>", "<|im_start|>"]))
        tok.eosToken = "<|im_end|>"
        tok.chatTemplate = ChatTemplate.chatml.jinja
        try tok.save(to: dir.appendingPathComponent("tok"))
        var r = RandomGenerator(seed: 1)
        let config = try LlamaConfig.decode(json: Data(#"{"vocab_size": \#(tok.vocabSize), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64, "eos_token_id": 0}"#.utf8))
        try ModelStore.save(LoadedModel(family: .llama, model: LlamaModel(config, rng: &r), source: dir), tokenizer: tok,
                            to: dir.appendingPathComponent("base"))
        try (sft.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("sft.jsonl"), atomically: true, encoding: .utf8)
        try (pairs.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        // global batch 8 = batch_size 2 × grad_accum 4: two micro-batches per rank at 2 ranks, so
        // the ranks' sums run in another order than one process's
        try """
        {"model": {"path": "base"}, "data": {"train": "sft.jsonl", "format": "messages", "chat_template": "chatml", "max_seq_len": 48},
         "optim": {"learning_rate": 0.01, "schedule": "cosine", "warmup_steps": 1},
         "batch_size": 2, "grad_accum": 4, "max_steps": 6, "seed": 3, "log_every": 1, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("sft.json"), atomically: true, encoding: .utf8)
        try """
        {"model": {"path": "base"}, "data": {"train": "pairs.jsonl", "format": "preference", "max_seq_len": 32},
         "optim": {"learning_rate": 0.003, "schedule": "constant"}, "dpo": {"loss": "sigmoid"},
         "batch_size": 2, "grad_accum": 4, "max_steps": 6, "seed": 2, "log_every": 1, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("dpo.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { if let dir { try? FileManager.default.removeItem(at: dir) } }

    /// The `align` built beside this test bundle (`.build/<configuration>/align`).
    static func alignExecutable() throws -> String {
        var candidates = [Bundle(for: DataParallelTests.self).bundleURL.deletingLastPathComponent().appendingPathComponent("align").path]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/align").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("the align executable is not built (looked in \(candidates.joined(separator: ", "))); run swift build first")
        }
        return found
    }

    struct Outcome {
        var status: Int32
        var stderr: String
    }

    /// Runs `align arguments` in `dir`: in one process (`ranks` nil) or under `mpirun -np ranks`.
    /// `whileRunning` gets the launched process and may end it.
    @discardableResult
    func run(ranks: Int?, _ arguments: [String], whileRunning: ((Process) throws -> Void)? = nil) throws -> Outcome {
        let p = Process()
        if let ranks {
            p.executableURL = URL(fileURLWithPath: mpirun)
            p.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", align] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: align)
            p.arguments = arguments
        }
        p.currentDirectoryURL = dir
        let errURL = dir.appendingPathComponent("stderr-\(UUID().uuidString).txt")
        XCTAssertTrue(FileManager.default.createFile(atPath: errURL.path, contents: nil), errURL.path)
        let err = try FileHandle(forWritingTo: errURL)
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        if let whileRunning { try whileRunning(p) }
        p.waitUntilExit()
        try err.close()
        return Outcome(status: p.terminationStatus, stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    @discardableResult
    func trained(_ trainer: String, ranks: Int?, output: String, _ overrides: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let o = try run(ranks: ranks, [trainer, "--config", "\(trainer).json", "--set", "output_dir=\(output)"] + overrides.flatMap { ["--set", $0] })
        XCTAssertEqual(o.status, 0, o.stderr, file: file, line: line)
        return o
    }

    /// The logged training loss by step.
    func losses(_ output: String) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for line in try String(contentsOf: dir.appendingPathComponent("\(output)/metrics.jsonl"), encoding: .utf8).split(separator: "\n") {
            let m = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if let step = m["step"] as? Int, let loss = m["loss"] as? Double { out[step] = loss }
        }
        return out
    }

    func parameters(_ directory: String) throws -> [String: [Float]] {
        try StateDictFiles.load(directory: dir.appendingPathComponent(directory)).mapValues(\.scalars)
    }

    func summary(_ output: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("\(output)/summary.json"))) as! [String: Any]
    }

    /// The largest |a − b| / max(1, |a|) over every parameter (over those both hold when
    /// `sameNames` is false: a reward model's head is not in its base).
    func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]], sameNames: Bool = true,
                           file: StaticString = #filePath, line: UInt = #line) -> Double {
        if sameNames { XCTAssertEqual(Set(a.keys), Set(b.keys), file: file, line: line) }
        var worst = 0.0
        for (k, x) in a {
            if !sameNames && b[k] == nil { continue }
            guard let y = b[k], y.count == x.count else { XCTFail("\(k) differs in shape", file: file, line: line); continue }
            for (u, v) in zip(x, y) { worst = max(worst, Double(abs(u - v)) / max(1, Double(abs(u)))) }
        }
        return worst
    }

    func assertSameRun(_ a: String, _ b: String, steps: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let la = try losses(a), lb = try losses(b)
        XCTAssertEqual(Set(la.keys), Set(1...steps), file: file, line: line)
        XCTAssertEqual(Set(la.keys), Set(lb.keys), file: file, line: line)
        for (step, x) in la {
            XCTAssertEqual(x, lb[step] ?? .nan, accuracy: Self.tolerance * max(1, abs(x)), "loss at step \(step)", file: file, line: line)
        }
        let d = largestDifference(try parameters("\(a)/final"), try parameters("\(b)/final"), file: file, line: line)
        XCTAssertLessThanOrEqual(d, Self.tolerance, "largest relative parameter difference", file: file, line: line)
        // the parameters did move: agreeing on untouched weights would prove nothing
        let moved = largestDifference(try parameters("base"), try parameters("\(a)/final"), sameNames: false, file: file, line: line)
        XCTAssertGreaterThan(moved, 100 * Self.tolerance, file: file, line: line)
    }

    /// Held-out evaluation every 3 steps: its chunks are shared out over the ranks and gathered.
    static let evaluation = ["data.eval_fraction=0.25", "eval_every=3"]

    /// The evaluations of two runs: the same keys at the same steps, equal at step 0 and within the
    /// tolerance after.
    func assertSameEvaluations(_ a: String, _ b: String, keys: [String], steps: [Int] = [0, 3, 6],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        for key in keys {
            let x = try metric(key, a), y = try metric(key, b)
            XCTAssertEqual(x.keys.sorted(), steps, key, file: file, line: line)
            XCTAssertEqual(Set(x.keys), Set(y.keys), key, file: file, line: line)
            // before training the parameters are the same bits, and the chunks' results are summed
            // in chunk order on every rank: the same bits
            XCTAssertEqual(x[0], y[0], "\(key) at step 0", file: file, line: line)
            for (step, v) in x {
                XCTAssertEqual(v, y[step] ?? .nan, accuracy: Self.tolerance * max(1, abs(v)), "\(key) at step \(step)", file: file, line: line)
            }
        }
    }

    func testSFTOnTwoRanksMatchesOneProcessAtTheSameGlobalBatch() throws {
        let alone = try trained("sft", ranks: nil, output: "one", Self.evaluation)
        let two = try trained("sft", ranks: 2, output: "two", Self.evaluation)
        XCTAssertFalse(alone.stderr.contains("data-parallel"), alone.stderr)
        // rank 0 alone reports: the line appears once
        XCTAssertEqual(two.stderr.components(separatedBy: "data-parallel over 2 ranks: global batch 2 × 4 micro-batches").count, 2, two.stderr)
        XCTAssertNil(try summary("one")["world_size"])
        XCTAssertEqual(try summary("two")["world_size"] as? Int, 2)
        try assertSameRun("one", "two", steps: 6)
        try assertSameEvaluations("one", "two", keys: ["eval/loss", "eval/perplexity"])
        // rank 0 alone wrote: one checkpoint-free run directory holding what one process writes
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("two").path))
        XCTAssertEqual(names, Set(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("one").path)))
    }

    func testDPOOnTwoRanksMatchesOneProcessAtTheSameGlobalBatch() throws {
        try trained("dpo", ranks: nil, output: "one", Self.evaluation)
        try trained("dpo", ranks: 2, output: "two", Self.evaluation)
        XCTAssertEqual(try summary("two")["world_size"] as? Int, 2)
        // the reference cache computed in two shards equals the one computed whole
        let cache = { (run: String) throws -> ReferenceValues in
            try JSONDecoder().decode(ReferenceValues.self, from: Data(contentsOf: self.dir.appendingPathComponent("\(run)/reference_logps.json")))
        }
        let a = try cache("one"), b = try cache("two")
        XCTAssertEqual(a.chosen.count, b.chosen.count)
        for (x, y) in zip(a.chosen + a.rejected, b.chosen + b.rejected) { XCTAssertEqual(Double(x), Double(y), accuracy: 1e-5 * max(1, Double(abs(x)))) }
        try assertSameRun("one", "two", steps: 6)
        try assertSameEvaluations("one", "two", keys: ["eval/loss", "eval/rewards/accuracies", "eval/rewards/margins", "eval/logps/chosen"])
    }

    func testRMOnTwoRanksMatchesOneProcessAtTheSameGlobalBatch() throws {
        try """
        {"model": {"path": "base"}, "data": {"train": "pairs.jsonl", "format": "preference", "max_seq_len": 32},
         "optim": {"learning_rate": 0.003, "schedule": "constant"},
         "batch_size": 2, "grad_accum": 4, "max_steps": 6, "seed": 4, "log_every": 1, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("rm.json"), atomically: true, encoding: .utf8)
        try trained("rm", ranks: nil, output: "one", Self.evaluation)
        try trained("rm", ranks: 2, output: "two", Self.evaluation)
        XCTAssertEqual(try summary("two")["world_size"] as? Int, 2)
        try assertSameRun("one", "two", steps: 6)
        try assertSameEvaluations("one", "two", keys: ["eval/loss", "eval/accuracy", "eval/margin_mean", "eval/margin_std"])
    }

    struct ReferenceValues: Decodable { var chosen: [Float]; var rejected: [Float] }

    func testATwoRankCheckpointResumesExactlyOnTwoRanksAndAtTheSameGlobalBatchOnOne() throws {
        try trained("sft", ranks: 2, output: "whole", ["save_every=3"])
        let checkpoint = dir.appendingPathComponent("whole/checkpoints/step-3").path
        let state = try Checkpoint.load(URL(fileURLWithPath: checkpoint)).state
        XCTAssertEqual(state.worldSize, 2)
        try trained("sft", ranks: 2, output: "again", ["save_every=3", "resume_from=\(checkpoint)"])
        try trained("sft", ranks: nil, output: "single", ["save_every=3", "resume_from=\(checkpoint)"])
        // two ranks again: the same bits
        let whole = try parameters("whole/final")
        XCTAssertEqual(whole, try parameters("again/final"))
        let lw = try losses("whole"), la = try losses("again"), ls = try losses("single")
        for step in 4...6 { XCTAssertEqual(lw[step], la[step], "step \(step)") }
        // one process: the same global batches, so the same run up to summation order
        for step in 4...6 { XCTAssertEqual(lw[step] ?? .nan, ls[step] ?? .nan, accuracy: Self.tolerance * max(1, abs(lw[step] ?? 0)), "step \(step)") }
        XCTAssertLessThanOrEqual(largestDifference(whole, try parameters("single/final")), Self.tolerance)
    }

    func testLoRADropoutStreamsOfEveryRankAreCheckpointedAndResumeExactly() throws {
        let lora = ["lora={\"rank\": 4, \"dropout\": 0.3}", "lora.merge=false", "save_every=3", "keep_checkpoints=5"]
        try trained("sft", ranks: 2, output: "whole", lora)
        let checkpoint = dir.appendingPathComponent("whole/checkpoints/step-3").path
        let state = try Checkpoint.load(URL(fileURLWithPath: checkpoint)).state
        let ranks = try XCTUnwrap(state.loraDropoutRanks)
        XCTAssertEqual(ranks.count, 2)
        XCTAssertEqual(ranks[0].count, ranks[1].count)
        XCTAssertEqual(state.loraDropout.map { $0.compactMap { $0 }.count }, ranks[0].compactMap { $0 }.count)
        XCTAssertGreaterThan(ranks[0].compactMap { $0 }.count, 0)
        // each rank draws its own masks
        XCTAssertNotEqual(try JSONEncoder().encode(ranks[0]), try JSONEncoder().encode(ranks[1]))
        try trained("sft", ranks: 2, output: "again", lora + ["resume_from=\(checkpoint)"])
        let adapter = { (run: String) throws -> [String: [Float]] in
            try StateDictFiles.load(file: self.dir.appendingPathComponent("\(run)/final/adapter/adapter_model.safetensors")).mapValues(\.scalars)
        }
        let trained = try adapter("whole")
        XCTAssertFalse(trained.isEmpty)
        XCTAssertEqual(trained, try adapter("again"))
        let lw = try losses("whole"), la = try losses("again")
        for step in 4...6 { XCTAssertEqual(lw[step], la[step], "step \(step)") }
    }

    func testAKilledRankStopsTheJobLeavesTheCheckpointWholeAndResumeFinishes() throws {
        let steps = ["max_steps=300", "save_every=10", "keep_checkpoints=2", "log_every=50"]
        let killed = try run(ranks: 2, ["sft", "--config", "sft.json", "--set", "output_dir=run"] + steps.flatMap { ["--set", $0] }) { p in
            // once a checkpoint exists, SIGKILL rank 1 (the launched process's child whose rank is 1)
            let checkpoints = self.dir.appendingPathComponent("run/checkpoints")
            let deadline = Date().addingTimeInterval(120)
            while Checkpoint.list(self.dir.appendingPathComponent("run")).isEmpty && p.isRunning && Date() < deadline { usleep(20_000) }
            XCTAssertTrue(p.isRunning, "the run ended before a rank could be killed")
            let rank1 = try XCTUnwrap(Self.child(of: p.processIdentifier, withRank: 1), "no rank 1 among \(checkpoints.path)'s launch")
            XCTAssertEqual(kill(rank1, SIGKILL), 0)
        }
        XCTAssertNotEqual(killed.status, 0, "the job must fail when a rank dies")
        let out = dir.appendingPathComponent("run")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("final").path))
        let last = try XCTUnwrap(Checkpoint.list(out).last)
        XCTAssertLessThan(last.step, 300)
        // whole: its state, parameters and moments load
        let ckpt = try Checkpoint.load(last.url)
        XCTAssertEqual(ckpt.state.step, last.step)
        XCTAssertFalse(try StateDictFiles.load(file: last.url.appendingPathComponent("trainable.safetensors")).isEmpty)
        XCTAssertFalse(try StateDictFiles.load(file: last.url.appendingPathComponent("optimizer.safetensors")).isEmpty)
        let resumed = try run(ranks: 2, ["sft", "--config", "sft.json", "--resume", "--set", "output_dir=run"] + steps.flatMap { ["--set", $0] })
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let s = try summary("run")
        XCTAssertEqual(s["steps"] as? Int, 300)
        XCTAssertEqual(s["status"] as? String, "completed")
    }

    /// The child of `parent` whose environment says it is MPI rank `rank`.
    static func child(of parent: Int32, withRank rank: Int) -> Int32? {
        guard let text = try? String(contentsOfFile: "/proc/\(parent)/task/\(parent)/children", encoding: .utf8) else { return nil }
        for pid in text.split(separator: " ").compactMap({ Int32($0) }) {
            guard let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            if env.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(rank)" }) { return pid }
        }
        return nil
    }

    func testAConfigErrorIsReportedOnceWithExit2AndNothingWritten() throws {
        let o = try run(ranks: 2, ["sft", "--config", "sft.json", "--set", "output_dir=bad", "--set", "data.train=missing.jsonl"])
        XCTAssertEqual(o.status, 2, o.stderr)
        let reports = o.stderr.split(separator: "\n").filter { $0.hasPrefix("align:") }
        XCTAssertEqual(reports.count, 1, o.stderr)
        XCTAssertTrue(reports.first?.contains("missing.jsonl") ?? false, o.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad").path))
    }

    func writePrompts() throws {
        let prompts = (0..<16).map { #"{"prompt": "say red \#($0)", "answer": "red"}"# }
        try (prompts.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
    }

    /// Every logged value of `key` by step.
    func metric(_ key: String, _ output: String) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for line in try String(contentsOf: dir.appendingPathComponent("\(output)/metrics.jsonl"), encoding: .utf8).split(separator: "\n") {
            let m = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if let step = m["step"] as? Int, let v = m[key] as? Double { out[step] = v }
        }
        return out
    }

    /// samples.jsonl's rows: rollout, prompt and response.
    func sampledRows(_ output: String) throws -> [String] {
        try String(contentsOf: dir.appendingPathComponent("\(output)/samples.jsonl"), encoding: .utf8).split(separator: "\n").map { line in
            let m = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            // a sample, or an online DPO pair
            let response = m["response"] ?? "\(m["chosen"] ?? "?") > \(m["rejected"] ?? "?")"
            return "\(m["rollout"] ?? "?") | \(m["prompt"] ?? "?") | \(response)"
        }
    }

    static let ruleReward = #"{"rules": [{"type": "match", "field": "answer", "mode": "contains", "name": "ok"}]}"#

    func writePPO(_ section: String, steps: Int = 4) throws {
        try writePrompts()
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "chat_template": "chatml", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"}, "batch_size": 2, "grad_accum": 4, "max_steps": \(steps), "seed": 5,
         "log_every": 1, "output_dir": "out", "ppo": \(section)}
        """.write(to: dir.appendingPathComponent("ppo.json"), atomically: true, encoding: .utf8)
    }

    /// The rollouts are sampled by prompt over the ranks (each row from its own stream): two ranks
    /// must sample exactly the rows one process samples (on this small model the logits do not
    /// depend on the batch a row is decoded in), then train to the same parameters.
    func testGRPOOnTwoRanksMatchesOneProcessAtTheSameGlobalBatch() throws {
        // 2 prompts × 4 generations per rollout, 8 rows = batch_size 2 × grad_accum 4
        try writePPO(#"{"advantage": "grpo", "num_generations": 4, "ppo_epochs": 1, "num_minibatches": 1, "max_new_tokens": 6, "kl_coef": 0.05, "samples_per_rollout": 8, "reward": \#(Self.ruleReward)}"#)
        // held-out prompts: the greedy responses and their rewards are shared out by prompt
        let evaluation = ["data.eval_fraction=0.25", "eval_every=2"]
        try trained("ppo", ranks: nil, output: "one", evaluation)
        try trained("ppo", ranks: 2, output: "two", evaluation)
        XCTAssertEqual(try summary("two")["world_size"] as? Int, 2)
        try assertSameEvaluations("one", "two", keys: ["eval/objective/scores", "eval/response_length"], steps: [0, 2, 4])
        let rows = try sampledRows("one")
        XCTAssertEqual(rows.count, 4 * 8)
        XCTAssertEqual(try sampledRows("two"), rows)
        try assertSameRun("one", "two", steps: 4)
    }

    /// PPO with a value head, two epochs of two minibatches per rollout: logp_old and the values
    /// are computed by the rank that trains on each first-epoch micro-batch and gathered, so the
    /// first step of a rollout has ratio exactly 1 on two ranks, and the later epochs (other row
    /// orders) and the whitened advantages (global statistics) give one process's run.
    func testPPOWithValuesOnTwoRanksMatchesOneProcessAndStartsAtRatioOne() throws {
        // 16 rows per rollout = batch_size 2 × grad_accum 4 × 2 minibatches, one sample per prompt
        try writePPO(#"{"advantage": "gae", "ppo_epochs": 2, "num_minibatches": 2, "max_new_tokens": 6, "kl_coef": 0.05, "samples_per_rollout": 16, "reward": \#(Self.ruleReward)}"#, steps: 8)
        try trained("ppo", ranks: nil, output: "one")
        try trained("ppo", ranks: 2, output: "two")
        XCTAssertEqual(try sampledRows("one").count, 2 * 16)
        XCTAssertEqual(try sampledRows("two"), try sampledRows("one"))
        let ratio = try metric("val/ratio", "two"), clipped = try metric("policy/clipfrac_avg", "two")
        XCTAssertEqual(ratio[1], 1, "the first minibatch of a rollout trains on the policy that sampled it")
        XCTAssertEqual(ratio[5], 1, "the second rollout's first minibatch")
        XCTAssertEqual(clipped[1], 0)
        XCTAssertNotEqual(ratio[2] ?? 1, 1, "the second minibatch follows an update")
        try assertSameRun("one", "two", steps: 8)
        XCTAssertEqual(try metric("loss/value_avg", "two").count, 8)
    }

    /// A checkpoint in the middle of a rollout (step 2 of 4) holds the gathered rollout: two ranks
    /// resume it to the same bits, one process at the same global batch.
    func testATwoRankPPOCheckpointInsideARolloutResumesExactlyOnTwoRanksAndOnOne() throws {
        try writePPO(#"{"advantage": "gae", "ppo_epochs": 2, "num_minibatches": 2, "max_new_tokens": 6, "kl_coef": 0.05, "reward": \#(Self.ruleReward)}"#, steps: 8)
        try trained("ppo", ranks: 2, output: "whole", ["save_every=2", "keep_checkpoints=5"])
        let checkpoint = dir.appendingPathComponent("whole/checkpoints/step-2").path
        try trained("ppo", ranks: 2, output: "again", ["save_every=2", "resume_from=\(checkpoint)"])
        try trained("ppo", ranks: nil, output: "single", ["save_every=2", "resume_from=\(checkpoint)"])
        let whole = try parameters("whole/final")
        XCTAssertEqual(whole, try parameters("again/final"))
        let lw = try losses("whole"), la = try losses("again"), ls = try losses("single")
        for step in 3...8 {
            XCTAssertEqual(lw[step], la[step], "step \(step)")
            XCTAssertEqual(lw[step] ?? .nan, ls[step] ?? .nan, accuracy: Self.tolerance * max(1, abs(lw[step] ?? 0)), "step \(step)")
        }
        XCTAssertLessThanOrEqual(largestDifference(whole, try parameters("single/final")), Self.tolerance)
    }

    /// HPA shares out its candidates, rewards, diversity embeddings and first-epoch passes, and its
    /// DPO term's reference cache; the shaping, whitening, filter and diversity bank use the whole
    /// rollout on every rank.
    func testHPAOnTwoRanksMatchesOneProcessAtTheSameGlobalBatch() throws {
        try writePrompts()
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "chat_template": "chatml", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"}, "batch_size": 2, "grad_accum": 4, "max_steps": 4, "seed": 7,
         "log_every": 1, "output_dir": "out",
         "hpa": {"num_candidates": 2, "max_new_tokens": 6, "ppo_epochs": 2, "filter_std": -10, "diversity_coef": 0.5,
                 "preferences": "pairs.jsonl", "samples_per_rollout": 16, "reward": \(Self.ruleReward)}}
        """.write(to: dir.appendingPathComponent("hpa.json"), atomically: true, encoding: .utf8)
        try trained("hpa", ranks: nil, output: "one")
        try trained("hpa", ranks: 2, output: "two")
        XCTAssertEqual(try summary("two")["world_size"] as? Int, 2)
        XCTAssertEqual(try sampledRows("one").count, 2 * 16)
        XCTAssertEqual(try sampledRows("two"), try sampledRows("one"))
        let diversity = try metric("diversity_mean", "two")
        XCTAssertGreaterThan(diversity[3] ?? 0, 0, "the second rollout is scored against the bank")
        for key in ["diversity_mean", "kept_fraction", "reward_mean", "objective/kl", "dpo_loss"] {
            let a = try metric(key, "one"), b = try metric(key, "two")
            XCTAssertEqual(Set(a.keys), Set(b.keys), key)
            for (step, x) in a { XCTAssertEqual(x, b[step] ?? .nan, accuracy: Self.tolerance * max(1, abs(x)), "\(key) at step \(step)") }
        }
        try assertSameRun("one", "two", steps: 4)
    }

    /// Best-of-N: each rank samples and scores its share of a round's prompts; every rank keeps
    /// the same samples and fine-tunes on them data-parallel.
    func testBestOfNOnTwoRanksMatchesOneProcessAtTheSameGlobalBatch() throws {
        try writePrompts()
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "chat_template": "chatml", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"}, "batch_size": 2, "grad_accum": 4, "seed": 9,
         "log_every": 1, "output_dir": "out",
         "bon": {"rounds": 2, "num_samples": 4, "prompts_per_round": 5, "steps_per_round": 2, "max_new_tokens": 6,
                 "reward": \(Self.ruleReward)}}
        """.write(to: dir.appendingPathComponent("bon.json"), atomically: true, encoding: .utf8)
        try trained("bon", ranks: nil, output: "one")
        try trained("bon", ranks: 2, output: "two")
        XCTAssertEqual(try summary("two")["world_size"] as? Int, 2)
        for key in ["bon/sample_reward_mean", "bon/kept_reward_mean", "bon/kept_examples"] {
            let a = try metric(key, "one"), b = try metric(key, "two")
            XCTAssertEqual(a.count, 4, key)
            XCTAssertEqual(a, b, key)   // the same samples and rewards: exact
        }
        try assertSameRun("one", "two", steps: 4)
    }

    /// Online DPO: each rank samples and scores its share of a step's prompts; every rank holds the
    /// same pairs and trains on its micro-batches of them.
    func testOnlineDPOOnTwoRanksMatchesOneProcessAtTheSameGlobalBatch() throws {
        try writePrompts()
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "chat_template": "chatml", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"}, "batch_size": 2, "grad_accum": 4, "max_steps": 4, "seed": 5,
         "log_every": 1, "output_dir": "out",
         "online_dpo": {"num_generations": 3, "max_new_tokens": 6, "samples_per_rollout": 8, "reward": \(Self.ruleReward)}}
        """.write(to: dir.appendingPathComponent("online-dpo.json"), atomically: true, encoding: .utf8)
        try trained("online-dpo", ranks: nil, output: "one")
        try trained("online-dpo", ranks: 2, output: "two")
        XCTAssertEqual(try summary("two")["world_size"] as? Int, 2)
        XCTAssertEqual(try sampledRows("one").count, 4 * 8)
        XCTAssertEqual(try sampledRows("two"), try sampledRows("one"))
        for key in ["objective/scores", "objective/scores_margin", "objective/kl", "rewards/margins"] {
            let a = try metric(key, "one"), b = try metric(key, "two")
            XCTAssertEqual(Set(a.keys), Set(b.keys), key)
            for (step, x) in a { XCTAssertEqual(x, b[step] ?? .nan, accuracy: Self.tolerance * max(1, abs(x)), "\(key) at step \(step)") }
        }
        try assertSameRun("one", "two", steps: 4)
    }

    /// A reward source failing on one rank's share stops every rank; rank 0 reports it once.
    func testARewardProgramFailingOnOneRanksShareStopsTheJobWithOneReport() throws {
        // the judge fails in rank 1's process only (it inherits the launcher's rank variable)
        try """
        import os, sys
        for line in sys.stdin:
            if os.environ.get("OMPI_COMM_WORLD_RANK") == "1":
                sys.exit("judge: cannot score this response")
            print(1.0, flush=True)
        """.write(to: dir.appendingPathComponent("judge.py"), atomically: true, encoding: .utf8)
        try writePPO(#"{"advantage": "grpo", "num_generations": 2, "ppo_epochs": 1, "num_minibatches": 1, "max_new_tokens": 4, "kl_coef": 0, "reward": {"program": ["python3", "judge.py"]}}"#, steps: 2)
        let o = try run(ranks: 2, ["ppo", "--config", "ppo.json", "--set", "output_dir=failed"])
        XCTAssertNotEqual(o.status, 0, o.stderr)
        let reports = o.stderr.split(separator: "\n").filter { $0.hasPrefix("align:") }
        XCTAssertEqual(reports.count, 1, o.stderr)
        XCTAssertTrue(reports.first?.contains("rank 1") ?? false, o.stderr)
        XCTAssertTrue(reports.first?.contains("cannot score") ?? false, o.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("failed/final").path))
    }
}
