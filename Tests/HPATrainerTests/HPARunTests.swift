import AlignData
import AlignNN
import AlignTensor
import AlignTestSupport
import AlignTraining
import Foundation
import XCTest
@testable import HPATrainer

/// `align hpa` end to end on a tiny model with a rule reward and offline pairs: the first step's
/// invariants (ratio 1, both KL terms 0), exact gradient accumulation, exact resume (the
/// diversity bank and every RNG included), LoRA, learning, anomalies and bad input.
final class HPARunTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-hpa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TinyPolicy.make(in: dir, prompts: 40, train: 32)
        try TinyPolicy.writePairs(in: dir, count: 24)
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "eval": "eval.jsonl", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"},
         "hpa": {"iterations": 3, "num_candidates": 4, "max_new_tokens": 6, "temperature": 1.0, "preferences": "pairs.jsonl",
                 "reward": {"rules": [{"type": "contains", "text": "blue"}, {"type": "length", "min": 2, "max": 4, "weight": 0.5}]}},
         "batch_size": 2, "grad_accum": 2, "seed": 2, "log_every": 1, "eval_every": 2, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ overrides: [String] = []) throws -> RunConfig {
        try RunConfig.load(file: dir.appendingPathComponent("run.json"), trainer: HPAConfig.schema, overrides: overrides)
    }

    func run(_ overrides: [String] = [], messages: ((String) -> Void)? = nil) throws -> (summary: [String: Any], steps: [[String: Double]]) {
        var steps: [[String: Double]] = []
        let summary = try HPARun.run(config: load(overrides)) { e in
            if case .step(_, _, let m) = e { steps.append(m) }
            if case .message(let m) = e { messages?(m) }
        }
        return (summary, steps)
    }

    func testTheFirstStepHasRatioOneAndNoKLAndTheRunWritesItsMetricsAndFiles() throws {
        let (summary, steps) = try run()
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(summary["trainer"] as? String, "hpa")
        XCTAssertEqual(steps.count, 3)
        for (i, m) in steps.enumerated() {
            for key in ["ppo_loss", "dpo_loss", "kl_loss", "token_kl", "semantic_kl", "lambda_token", "lambda_semantic", "reward_mean", "reward_std",
                        "uncertainty_mean", "diversity_mean", "kept_fraction", "rewards/chosen", "rewards/rejected", "rewards/accuracies",
                        "rewards/margins", "objective/kl", "objective/kl_per_token", "policy/clipfrac_avg", "response_length", "rollout_seconds",
                        "rewards/rule0_contains/mean", "rewards/rule1_length/mean", "reward_window_score", "loss", "grad_norm"] {
                XCTAssertNotNil(m[key], "step \(i + 1): \(key)")
            }
            let kept = m["kept_fraction"]!
            XCTAssertTrue(kept > 0 && kept <= 1, "kept_fraction \(kept)")
            // one optimizer step per rollout: logp_old is the same forward, so the ratio is exactly 1
            XCTAssertEqual(m["val/ratio"]!, 1, accuracy: 1e-6, "step \(i + 1)")
            XCTAssertEqual(m["policy/clipfrac_avg"], 0, "step \(i + 1)")
        }
        // the first step's offline DPO batch: policy = reference, so its rewards are exactly 0 and no
        // pair counts as won (rows of different lengths are pinned by DPORunTests, same mechanism)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"] { XCTAssertEqual(steps[0][key], 0, key) }
        // the starting policy is the reference: both KL terms and the rollout's KL are exactly 0
        XCTAssertEqual(steps[0]["token_kl"], 0)
        XCTAssertEqual(steps[0]["semantic_kl"], 0)
        XCTAssertEqual(steps[0]["objective/kl"], 0)
        XCTAssertEqual(steps[0]["objective/kl_per_token"], 0)
        XCTAssertNotEqual(steps[2]["objective/kl_per_token"], 0)
        XCTAssertEqual(steps[0]["diversity_mean"], 0, "the bank is empty at the first rollout")
        XCTAssertGreaterThan(steps[1]["diversity_mean"]!, 0)
        XCTAssertNotEqual(steps[2]["token_kl"], 0)
        XCTAssertNotEqual(steps[2]["semantic_kl"], 0)
        // the schedule at progress 0, 1/3, 2/3
        for (i, p) in [0.0, 1.0 / 3, 2.0 / 3].enumerated() {
            XCTAssertEqual(steps[i]["lambda_token"]!, 1 - 0.8 * p, accuracy: 1e-12)
            XCTAssertEqual(steps[i]["lambda_semantic"]!, 0.2 + 0.8 * p, accuracy: 1e-12)
            XCTAssertEqual(steps[i]["kl_loss"]!, steps[i]["lambda_token"]! * steps[i]["token_kl"]! + steps[i]["lambda_semantic"]! * steps[i]["semantic_kl"]!,
                           accuracy: 1e-9)
        }
        let out = dir.appendingPathComponent("out")
        for f in ["final/model.safetensors", "samples.jsonl", "metrics.jsonl", "curves.svg", "summary.json", "reference_logps.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let samples = try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 3 * 4)
        let row = try JSONSerialization.jsonObject(with: Data(samples[0].utf8)) as! [String: Any]
        for key in ["response", "score", "shaped", "uncertainty", "diversity", "kept"] { XCTAssertNotNil(row[key], key) }
        let evals = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.filter { $0["eval/objective/scores"] != nil }
        XCTAssertEqual(evals.map { $0["step"] as? Int }, [0, 2, 3])
        XCTAssertNil(evals[0]["eval/reward_window_score"], "no rollout yet at step 0")
        XCTAssertNotNil(evals[1]["eval/reward_window_score"])
    }

    func testGradientAccumulationGivesTheStepOfOneLargeBatch() throws {
        // the same 4 prompts × 4 candidates and 4 pairs as 2 micro-batches of 2 or 1 of 4: the
        // terms are normalised by the step's totals, so the losses agree up to summation order
        let split = try run(["output_dir=\(dir.path)/split", "hpa.iterations=1", "eval_every=null"])
        let whole = try run(["output_dir=\(dir.path)/whole", "hpa.iterations=1", "eval_every=null", "batch_size=4", "grad_accum=1"])
        XCTAssertEqual(split.steps[0]["reward_mean"], whole.steps[0]["reward_mean"], "the same samples")
        XCTAssertEqual(split.steps[0]["kept_fraction"], whole.steps[0]["kept_fraction"])
        for key in ["loss", "ppo_loss", "dpo_loss", "grad_norm", "rewards/margins"] {
            let a = split.steps[0][key]!, b = whole.steps[0][key]!
            XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), key)
        }
    }

    func testResumeContinuesExactlyLikeTheUninterruptedRun() throws {
        let args = ["hpa.iterations=4", "save_every=2", "keep_checkpoints=10", "hpa.diversity_bank=6", "eval_every=null"]
        let whole = try run(args + ["output_dir=\(dir.path)/whole"])
        XCTAssertEqual(whole.summary["status"] as? String, "completed")
        let part = dir.appendingPathComponent("part")
        try FileManager.default.createDirectory(at: part.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("whole/checkpoints/step-2"), to: part.appendingPathComponent("checkpoints/step-2"))
        let resumed = try run(args + ["output_dir=\(dir.path)/part", "resume_from=latest"])
        XCTAssertEqual(resumed.steps.count, 2)
        for (a, b) in zip(whole.steps.suffix(2), resumed.steps) {
            for key in ["loss", "reward_mean", "diversity_mean", "token_kl", "semantic_kl", "dpo_loss", "kept_fraction", "reward_window_score", "grad_norm"] {
                XCTAssertEqual(a[key], b[key], key)
            }
        }
        let x = try StateDictFiles.load(directory: dir.appendingPathComponent("whole/final"))
        let y = try StateDictFiles.load(directory: dir.appendingPathComponent("part/final"))
        XCTAssertEqual(Set(x.keys), Set(y.keys))
        for (k, t) in x { XCTAssertEqual(t.scalars, y[k]!.scalars, k) }
    }

    func testWithLoRATheReferenceIsThePolicyWithoutItsAdapters() throws {
        let (summary, steps) = try run(["output_dir=\(dir.path)/lora", "lora={\"rank\": 4}", "eval_every=null"])
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(steps[0]["token_kl"], 0)
        XCTAssertEqual(steps[0]["semantic_kl"], 0)
        XCTAssertEqual(steps[0]["rewards/margins"], 0, "policy = reference on the pairs too")
        XCTAssertNotEqual(steps.last!["objective/kl"], 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("lora/final/adapter/adapter_model.safetensors").path))
    }

    func testBFloat16SamplingWeightsWithLoRAKeepRatioOneAndNoKLAtTheStart() throws {
        // the candidates come from bfloat16 copies of the (frozen, adapter-wrapped) weights; the
        // ratio and the KL are computed in float32 from the same forward, so they stay exact
        let (summary, steps) = try run(["output_dir=\(dir.path)/half", "lora={\"rank\": 4}", "eval_every=null",
                                        "hpa.sampling_weights=bfloat16"])
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(steps[0]["token_kl"], 0)
        for (i, m) in steps.enumerated() { XCTAssertEqual(m["val/ratio"]!, 1, accuracy: 1e-6, "step \(i + 1)") }
    }

    func testTheRewardedTextBecomesMoreFrequent() throws {
        // a response containing the letter e scores 1; no DPO term, so the online part alone learns it
        let (summary, steps) = try run(["hpa.reward.rules=[{\"type\": \"contains\", \"text\": \"e\"}]", "hpa.iterations=24", "hpa.dpo_weight=0",
                                        "hpa.preferences=null", "batch_size=4", "grad_accum=1", "optim.learning_rate=0.01", "eval_every=null"])
        XCTAssertEqual(summary["status"] as? String, "completed")
        let rewards = steps.map { $0["reward_mean"]! }
        let first = rewards.prefix(5).reduce(0, +) / 5, last = rewards.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(last, first + 0.3, "mean reward per rollout \(rewards)")
        XCTAssertNil(steps[0]["rewards/chosen"], "no DPO term")
    }

    func testAKLSpikeIsAnAnomalyThatRecoveryRollsBack() throws {
        XCTAssertThrowsError(try run(["output_dir=\(dir.path)/spike", "hpa.max_kl=1e-9", "eval_every=null"])) { error in
            XCTAssertTrue("\(error)".contains("KL spike (objective/kl_per_token"), "\(error)")
            // the first rollout's KL is exactly 0; a later one's (a k1 estimate over every candidate) is positive or negative
            XCTAssertFalse("\(error)".contains("at step 1;"), "\(error)")
        }
        var messages: [String] = []
        XCTAssertThrowsError(try run(["output_dir=\(dir.path)/recover", "hpa.max_kl=1e-9", "recovery={\"max_recoveries\": 2}", "eval_every=null"]) {
            messages.append($0)
        })
        XCTAssertEqual(messages.filter { $0.contains("KL spike") && $0.contains("rolled back") }.count, 2, "\(messages)")
        // a reward spike needs 3 earlier rollouts to compare with: the 4th rollout is the first that can be one
        XCTAssertThrowsError(try run(["output_dir=\(dir.path)/reward-spike", "hpa.max_reward_zscore=1e-9", "hpa.iterations=5", "eval_every=null"])) { error in
            XCTAssertTrue("\(error)".contains("reward spike (reward_mean"), "\(error)")
            XCTAssertTrue("\(error)".contains("at step 4;"), "\(error)")
        }
    }

    func testEarlyStoppingOnTheWindowScoreWithTopKByValidationReward() throws {
        // seed 000: patience watches the reward-window score, the validation reward picks best/ and top/
        let (summary, _) = try run(["output_dir=\(dir.path)/es", "hpa.iterations=8", "eval_every=1", "hpa.window=2",
                                    #"early_stopping={"metric": "eval/objective/scores", "stop_metric": "eval/reward_window_score", "patience": 1, "keep_top": 2}"#])
        XCTAssertEqual(summary["status"] as? String, "completed")
        let rows = try String(contentsOf: dir.appendingPathComponent("es/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.filter { $0["eval/objective/scores"] != nil }
        // replay the rule: the first evaluation whose window score does not beat the best so far stops the run
        var best: Double?, stop: Int?
        for r in rows {
            guard let w = r["eval/reward_window_score"] as? Double else { continue }
            if let b = best, w <= b { stop = r["step"] as? Int; break }
            best = w
        }
        XCTAssertNotNil(stop, "the window score never stalled in 8 rollouts: the test checks nothing")
        XCTAssertEqual(summary["stopped_early_at"] as? Int, stop, "\(rows.map { ($0["step"] ?? "-", $0["eval/reward_window_score"] ?? "-") })")
        let top = try XCTUnwrap(summary["top_checkpoints"] as? [[String: Any]])
        XCTAssertEqual(top.count, 2)
        XCTAssertEqual(top.first?["step"] as? Int, summary["best_step"] as? Int)
    }

    func testBadInputIsRefusedBeforeAnythingIsWritten() throws {
        func refused(_ overrides: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            let out = dir.appendingPathComponent("refused")
            let problem = Refusal.problem(expected: expected, output: out) {
                try HPARun.run(config: load(overrides + ["output_dir=\(out.path)"])) { _ in }
            }
            XCTAssertNil(problem, "\(overrides)", file: file, line: line)
        }
        refused(["hpa.preferences=null"], "hpa.preferences: dpo_weight 0.4 needs offline pairs")
        refused(["hpa.ppo_weight=0", "hpa.dpo_weight=0", "hpa.kl_weight=0"], "the step would have no loss")
        refused(["hpa.dpo.loss=ipo", "hpa.dpo.label_smoothing=0.1"], "hpa.dpo.label_smoothing: applies to loss")
        refused(["hpa.num_candidates=1"], "hpa.num_candidates")
        refused(["hpa.reward.rules=null"], "no reward")
        refused(["hpa.max_new_tokens=60"], "exceeds the model's context length 64")
        refused(["hpa.max_new_tokens=20", "data.max_seq_len=48"], "exceeds data.max_seq_len 48 (prompt + response; the model's context length is 64)")
        try "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}\n{\"prompt\": \"a\"}\n".write(to: dir.appendingPathComponent("badpairs.jsonl"), atomically: true, encoding: .utf8)
        refused(["hpa.preferences=\(dir.appendingPathComponent("badpairs.jsonl").path)"], "badpairs.jsonl:2")
        refused(["hpa.preferences=\(dir.appendingPathComponent("missing.jsonl").path)"], "missing.jsonl")
        refused(["hpa.preferences_eval=\(dir.appendingPathComponent("badpairs.jsonl").path)"], "badpairs.jsonl:2")
    }
}
