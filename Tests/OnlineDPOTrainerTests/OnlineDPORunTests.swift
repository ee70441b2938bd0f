import AlignData
import AlignNN
import AlignTensor
import AlignTestSupport
import AlignTraining
import Foundation
import XCTest
@testable import OnlineDPOTrainer

/// `align online-dpo` end to end on a tiny model with a rule reward: the first step's invariants
/// (policy = reference: implicit rewards and KL exactly 0), exact gradient accumulation, exact
/// resume, LoRA, simpo without a reference, learning and bad input.
final class OnlineDPORunTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-odpo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TinyPolicy.make(in: dir, prompts: 40, train: 32)
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "eval": "eval.jsonl", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"},
         "online_dpo": {"iterations": 3, "num_generations": 2, "max_new_tokens": 6, "temperature": 1.0,
                        "reward": {"rules": [{"type": "contains", "text": "blue"}, {"type": "length", "min": 2, "max": 4, "weight": 0.5}]}},
         "batch_size": 2, "grad_accum": 2, "seed": 2, "log_every": 1, "eval_every": 2, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ overrides: [String] = []) throws -> RunConfig {
        try RunConfig.load(file: dir.appendingPathComponent("run.json"), trainer: OnlineDPOConfig.schema, overrides: overrides)
    }

    func run(_ overrides: [String] = []) throws -> (summary: [String: Any], steps: [[String: Double]]) {
        var steps: [[String: Double]] = []
        let summary = try OnlineDPORun.run(config: load(overrides)) { e in
            if case .step(_, _, let m) = e { steps.append(m) }
        }
        return (summary, steps)
    }

    func testTheFirstStepStartsAtTheReferenceAndTheRunWritesTRLsMetricsAndItsFiles() throws {
        let (summary, steps) = try run()
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(summary["trainer"] as? String, "online_dpo")
        XCTAssertEqual(steps.count, 3)
        for (i, m) in steps.enumerated() {
            for key in ["loss", "grad_norm", "objective/scores", "objective/scores_margin", "val/contain_eos_token", "objective/kl",
                        "objective/non_score_reward", "objective/rlhf_reward", "objective/entropy", "rewards/chosen", "rewards/rejected",
                        "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected", "beta", "response_length",
                        "rewards/rule0_contains/mean", "rewards/rule1_length/mean", "generation_seconds", "episode"] {
                XCTAssertNotNil(m[key], "step \(i + 1): \(key)")
            }
            // the best is chosen: the margin of the reward is never negative
            XCTAssertGreaterThanOrEqual(m["objective/scores_margin"]!, 0, "step \(i + 1)")
        }
        // policy = reference at the first step: implicit rewards, KL and accuracy exactly 0, the loss log 2
        for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "objective/kl"] { XCTAssertEqual(steps[0][key], 0, key) }
        XCTAssertEqual(steps[0]["loss"]!, log(2), accuracy: 1e-6)
        XCTAssertNotEqual(steps[2]["objective/kl"], 0)
        XCTAssertNotEqual(steps[2]["rewards/margins"], 0)
        let out = dir.appendingPathComponent("out")
        for f in ["final/model.safetensors", "samples.jsonl", "metrics.jsonl", "curves.svg", "summary.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let samples = try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 3 * 4, "4 pairs of each rollout")
        let row = try JSONSerialization.jsonObject(with: Data(samples[0].utf8)) as! [String: Any]
        XCTAssertGreaterThanOrEqual(row["chosen_score"] as! Double, row["rejected_score"] as! Double)
        for key in ["prompt", "chosen", "rejected"] { XCTAssertNotNil(row[key] as? String, key) }
        let evals = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.filter { $0["eval/objective/scores"] != nil }
        XCTAssertEqual(evals.map { $0["step"] as? Int }, [0, 2, 3])
    }

    func testGradientAccumulationGivesTheStepOfOneLargeBatch() throws {
        // the same 4 prompts × 2 samples as 2 micro-batches of 2 pairs or 1 of 4: a pair mean either way
        let split = try run(["output_dir=\(dir.path)/split", "online_dpo.iterations=2", "eval_every=null"])
        let whole = try run(["output_dir=\(dir.path)/whole", "online_dpo.iterations=2", "eval_every=null", "batch_size=4", "grad_accum=1"])
        for step in 0..<2 {
            XCTAssertEqual(split.steps[step]["objective/scores"], whole.steps[step]["objective/scores"], "the same samples")
            for key in ["loss", "grad_norm", "rewards/margins", "objective/kl", "objective/entropy"] {
                let a = split.steps[step][key]!, b = whole.steps[step][key]!
                XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "step \(step + 1) \(key)")
            }
        }
    }

    func testResumeContinuesExactlyLikeTheUninterruptedRun() throws {
        let args = ["online_dpo.iterations=4", "save_every=2", "keep_checkpoints=10", "eval_every=null"]
        let whole = try run(args + ["output_dir=\(dir.path)/whole"])
        let part = dir.appendingPathComponent("part")
        try FileManager.default.createDirectory(at: part.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("whole/checkpoints/step-2"), to: part.appendingPathComponent("checkpoints/step-2"))
        let resumed = try run(args + ["output_dir=\(dir.path)/part", "resume_from=latest"])
        XCTAssertEqual(resumed.steps.count, 2)
        for (a, b) in zip(whole.steps.suffix(2), resumed.steps) {
            for key in ["loss", "objective/scores", "objective/kl", "rewards/margins", "grad_norm"] { XCTAssertEqual(a[key], b[key], key) }
        }
        let x = try StateDictFiles.load(directory: dir.appendingPathComponent("whole/final"))
        let y = try StateDictFiles.load(directory: dir.appendingPathComponent("part/final"))
        XCTAssertEqual(Set(x.keys), Set(y.keys))
        for (k, t) in x { XCTAssertEqual(t.scalars, y[k]!.scalars, k) }
    }

    func testWithLoRATheReferenceIsThePolicyWithoutItsAdaptersAndSimPOHasNone() throws {
        let lora = try run(["output_dir=\(dir.path)/lora", "lora={\"rank\": 4}", "eval_every=null"])
        XCTAssertEqual(lora.steps[0]["objective/kl"], 0)
        XCTAssertEqual(lora.steps[0]["rewards/margins"], 0)
        XCTAssertNotEqual(lora.steps.last!["objective/kl"], 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("lora/final/adapter/adapter_model.safetensors").path))
        let simpo = try run(["output_dir=\(dir.path)/simpo", "online_dpo.dpo.loss=simpo", "eval_every=null"])
        XCTAssertEqual(simpo.summary["status"] as? String, "completed")
        XCTAssertNil(simpo.steps[0]["objective/kl"], "no reference: no KL")
        XCTAssertNotNil(simpo.steps[0]["rewards/margins"])
    }

    func testTheRewardedTextBecomesMoreFrequent() throws {
        // a response containing the letter e scores 1: the chosen sample has it whenever one of the two does
        let (summary, steps) = try run(["online_dpo.reward.rules=[{\"type\": \"contains\", \"text\": \"e\"}]", "online_dpo.iterations=24",
                                        "batch_size=4", "grad_accum=1", "optim.learning_rate=0.01", "eval_every=null"])
        XCTAssertEqual(summary["status"] as? String, "completed")
        let scores = steps.map { $0["objective/scores"]! }
        let first = scores.prefix(5).reduce(0, +) / 5, last = scores.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(last, first + 0.3, "mean reward per rollout \(scores)")
    }

    func testBadInputIsRefusedBeforeAnythingIsWritten() throws {
        func refused(_ overrides: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            let out = dir.appendingPathComponent("refused")
            let problem = Refusal.problem(expected: expected, output: out) {
                try OnlineDPORun.run(config: load(overrides + ["output_dir=\(out.path)"])) { _ in }
            }
            XCTAssertNil(problem, "\(overrides)", file: file, line: line)
        }
        refused(["online_dpo.num_generations=1"], "online_dpo.num_generations")
        refused(["online_dpo.reward.rules=null"], "no reward")
        refused(["online_dpo.dpo.loss=ipo", "online_dpo.dpo.label_smoothing=0.1"], "online_dpo.dpo.label_smoothing: applies to loss")
        refused(["online_dpo.dpo.loss=simpo", "model.reference=base"], "model.reference")
        refused(["online_dpo.max_new_tokens=60"], "exceeds the model's context length 64")
        refused(["online_dpo.max_new_tokens=20", "data.max_seq_len=48"], "exceeds data.max_seq_len 48 (prompt + response; the model's context length is 64)")
        refused(["online_dpo.reward.rules=[{\"type\": \"ifeval\"}]"], "prompts.jsonl:1")
        refused(["data.train=\(dir.appendingPathComponent("missing.jsonl").path)"], "missing.jsonl")
    }
}
