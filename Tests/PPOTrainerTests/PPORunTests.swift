import AlignData
import AlignNN
import AlignTensor
import AlignTestSupport
import AlignTraining
import Foundation
import XCTest
@testable import AlignOnline
@testable import BoNTrainer
@testable import PPOTrainer

/// `align ppo` end to end on a tiny model with a rule reward: the first-minibatch invariant,
/// the score on the last real token, exact resume, learning the rewarded word, and bad input.
final class PPORunTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-ppo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TinyPolicy.make(in: dir, prompts: 40, train: 32)
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "eval": "eval.jsonl", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"},
         "ppo": {"iterations": 3, "ppo_epochs": 2, "num_minibatches": 2, "max_new_tokens": 6, "temperature": 1.0,
                 "reward": {"rules": [{"type": "contains", "text": "blue"}]}},
         "batch_size": 2, "grad_accum": 2, "seed": 2, "log_every": 1, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ overrides: [String] = []) throws -> RunConfig {
        try RunConfig.load(file: dir.appendingPathComponent("run.json"), trainer: PPOConfig.schema, overrides: overrides)
    }

    func run(_ overrides: [String] = []) throws -> (summary: [String: Any], steps: [[String: Double]]) {
        var steps: [[String: Double]] = []
        let summary = try PPORun.run(config: load(overrides)) { e in
            if case .step(_, _, let m) = e { steps.append(m) }
        }
        return (summary, steps)
    }

    func testFirstMinibatchOfEveryRolloutHasRatioOneAndTheRunWritesItsFiles() throws {
        let (summary, steps) = try run()
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(steps.count, 12)   // 3 iterations × 2 epochs × 2 minibatches
        for (i, m) in steps.enumerated() {
            for key in ["objective/scores", "objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward",
                        "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg", "val/clipfrac_avg",
                        "policy/entropy_avg", "val/ratio", "val/ratio_var", "val/num_eos_tokens", "episode", "kl_coef",
                        "response_length", "rollout_seconds", "rewards/rule0_contains/mean"] {
                XCTAssertNotNil(m[key], "step \(i + 1): \(key)")
            }
            if i % 4 == 0 {   // the first optimizer step on a fresh rollout: nothing has moved
                XCTAssertEqual(m["val/ratio"], 1, "step \(i + 1)")
                XCTAssertEqual(m["policy/clipfrac_avg"], 0, "step \(i + 1)")
                XCTAssertEqual(m["policy/approxkl_avg"], 0, "step \(i + 1)")
                XCTAssertEqual(m["val/ratio_var"], 0, "step \(i + 1)")
            }
        }
        // the first rollout comes from the starting policy: its KL to the reference is exactly 0
        XCTAssertEqual(steps[0]["objective/kl"], 0)
        XCTAssertNotEqual(steps[4]["val/ratio"], steps[5]["val/ratio"])
        let out = dir.appendingPathComponent("out")
        for f in ["final/model.safetensors", "value_head.safetensors", "samples.jsonl", "metrics.jsonl", "curves.svg", "summary.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let samples = try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 3 * 4)
        let row = try JSONSerialization.jsonObject(with: Data(samples[0].utf8)) as! [String: Any]
        XCTAssertNotNil(row["response"] as? String)
        XCTAssertNotNil(row["score"] as? Double)
    }

    func testBFloat16SamplingWeightsKeepRatioOneBecauseLogProbsAreRecomputedInFloat32() throws {
        let (summary, steps) = try run(["ppo.sampling_weights=bfloat16"])
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(steps.count, 12)
        for i in stride(from: 0, to: steps.count, by: 4) {
            XCTAssertEqual(steps[i]["val/ratio"], 1, "step \(i + 1)")
            XCTAssertEqual(steps[i]["policy/clipfrac_avg"], 0, "step \(i + 1)")
            XCTAssertEqual(steps[i]["policy/approxkl_avg"], 0, "step \(i + 1)")
        }
        XCTAssertThrowsError(try load(["ppo.sampling_weights=float16"])) { e in
            XCTAssertTrue("\(e)".contains("ppo.sampling_weights"), "\(e)")
        }
    }

    func testGRPOLossTypesClipHigherAndRewardScalingRunWithRatioOneOnTheFirstMinibatch() throws {
        for (type, scale) in [("grpo", "none"), ("bnpo", "batch"), ("dr_grpo", "group")] {
            let (summary, steps) = try run(["output_dir=\(dir.path)/\(type)", "ppo.advantage=grpo", "ppo.num_generations=4",
                                            "ppo.loss_type=\(type)", "ppo.scale_rewards=\(scale)", "ppo.cliprange_high=0.28", "ppo.kl_coef=0.04"])
            XCTAssertEqual(summary["status"] as? String, "completed", type)
            for i in stride(from: 0, to: steps.count, by: 4) {
                XCTAssertEqual(steps[i]["val/ratio"], 1, "\(type) step \(i + 1)")
                XCTAssertEqual(steps[i]["clip_ratio/region_mean"], 0, "\(type) step \(i + 1)")
            }
            XCTAssertNotNil(steps[1]["clip_ratio/high_mean"])
        }
    }

    func testEarlyStoppingOnTheHeldOutScoreStopsAndRestoresTheBest() throws {
        let (summary, _) = try run(["output_dir=\(dir.path)/es", "ppo.iterations=6", "eval_every=2",
                                    #"early_stopping={"metric": "eval/objective/scores", "patience": 1}"#])
        XCTAssertEqual(summary["status"] as? String, "completed")
        let rows = try String(contentsOf: dir.appendingPathComponent("es/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.filter { $0["eval/objective/scores"] != nil }
        // replay the rule: patience 1, so the first evaluation that does not beat the best so far stops the run
        var best: (step: Int, value: Double)?, stop: Int?
        for r in rows {
            let value = r["eval/objective/scores"] as! Double, step = r["step"] as! Int
            if let b = best, value <= b.value { stop = step; break }
            best = (step, value)
        }
        XCTAssertNotNil(stop, "the held-out score never stalled: the test checks nothing")
        XCTAssertEqual(summary["stopped_early_at"] as? Int, stop, "\(rows.map { ($0["step"] ?? "-", $0["eval/objective/scores"] ?? "-") })")
        XCTAssertEqual(summary["best_step"] as? Int, best?.step)
    }

    func testGRPOLossTypeWeightsByHand() {
        // rows of 3 and 1 response tokens, max_new_tokens 4
        XCTAssertEqual(PPOLosses.GRPOLossType.dapo.weights(lengths: [3, 1], maxCompletionLength: 4), [0.25, 0.25, 0.25, 0.25])
        XCTAssertEqual(PPOLosses.GRPOLossType.bnpo.weights(lengths: [3, 1], maxCompletionLength: 4), [0.25, 0.25, 0.25, 0.25])
        XCTAssertEqual(PPOLosses.GRPOLossType.grpo.weights(lengths: [3, 1], maxCompletionLength: 4), [Float(1) / 6, Float(1) / 6, Float(1) / 6, 0.5])
        XCTAssertEqual(PPOLosses.GRPOLossType.drGRPO.weights(lengths: [3, 1], maxCompletionLength: 4), [0.125, 0.125, 0.125, 0.125])
        XCTAssertTrue(PPOLosses.GRPOLossType.dapo.weightsMicroBatchesByTokens)
        XCTAssertFalse(PPOLosses.GRPOLossType.grpo.weightsMicroBatchesByTokens)
    }

    func testTheScoreLandsOnTheLastRealTokenOfEveryRow() throws {
        // γ = 1, no KL, no whitening: the return of every token of a row is that row's score,
        // whatever the row's length, and the advantage is the return minus the value
        let config = try load(["ppo.kl_coef=0", "ppo.gamma=1.0", "ppo.lam=1.0", "ppo.whiten_advantages=false", "ppo.max_new_tokens=8"])
        let objective = try makeObjective(config)
        _ = try objective.nextBatch(progress: 0)
        let rollout = try XCTUnwrap(objective.currentRollout)
        let lengths = Set(rollout.responses.map(\.count))
        XCTAssertGreaterThan(lengths.count, 1, "rows of different lengths")
        let tokenizer = try ModelStore.loadTokenizer(dir.appendingPathComponent("base").path)
        for i in rollout.responses.indices {
            let text = tokenizer.decode(rollout.responses[i], skipSpecialTokens: true)
            let score: Float = text.lowercased().contains("blue") ? 1 : 0
            XCTAssertEqual(rollout.returns[i].count, rollout.responses[i].count)
            for (t, ret) in rollout.returns[i].enumerated() {
                XCTAssertEqual(ret, score, accuracy: 1e-6, "row \(i) token \(t)")
                XCTAssertEqual(rollout.advantages[i][t], score - rollout.oldValues[i][t], accuracy: 1e-6)
            }
        }
    }

    func makeObjective(_ config: RunConfig) throws -> PPOObjective {
        let ppo = config.trainerConfig(PPOConfig.self)
        let loaded = try ModelStore.load(dir.appendingPathComponent("base").path)
        let tok = try ModelStore.loadTokenizer(dir.appendingPathComponent("base").path)
        let prompts = try PromptDataset.read(dir.appendingPathComponent("prompts.jsonl"))
        let ids = try prompts.map { try PromptEncoding.ids($0.prompt, tokenizer: tok, template: .chatml) }
        var rng = RandomGenerator(seed: 3)
        let session = OnlineSession(policy: loaded.model, reward: try RewardFunction(ppo.reward, policyVocabulary: tok.vocabSize, policyTokenizer: tok),
                                    prompts: prompts, promptIDs: ids, tokenizer: tok,
                                    sampling: OnlineSampling(ppo.sampling, stopTokens: [0], padID: 0),
                                    batchSize: 2, gradAccum: 2, seed: 4, shuffle: true)
        return PPOObjective(session: session, reference: .model(try ModelStore.load(dir.appendingPathComponent("base").path).model),
                            values: .head(RewardModel.makeHead(hiddenSize: 32, heads: 1, rng: &rng)), config: ppo)
    }

    /// Recovery skips the step that failed: the rollout it trained on is dropped and the retried
    /// step samples a new one (new prompts, new samples), where a plain rollback samples the same.
    func testASkippedStepTrainsOnANewRollout() throws {
        let o = try makeObjective(try load(["output_dir=\(dir.path)/skip"]))
        let before = try o.saveState()
        _ = try o.nextBatch(progress: 0)
        let failed = try XCTUnwrap(o.currentRollout)
        try o.restoreState(before)
        _ = try o.nextBatch(progress: 0)
        XCTAssertEqual(o.currentRollout?.responses, failed.responses, "a rollback alone samples the same rollout")
        XCTAssertEqual(o.currentRollout?.prompts, failed.prompts)
        try o.restoreState(before)
        try o.skipStep(microBatches: 2, progress: 0)
        _ = try o.nextBatch(progress: 0)
        let retried = try XCTUnwrap(o.currentRollout)
        XCTAssertNotEqual(retried.prompts, failed.prompts, "the retried step samples a new rollout")
        XCTAssertEqual(retried.cursor, 1, "and starts it from its first micro-batch")
    }

    /// A resume with settings that shape the run changed is refused before anything is written;
    /// a finished run resumed is a no-op that says so.
    func testResumeRefusesChangedShapeAndAFinishedRunIsANoOp() throws {
        let out = dir.appendingPathComponent("shape")
        let args = ["output_dir=\(out.path)", "ppo.iterations=2", "save_every=2", "keep_checkpoints=10"]
        let first = try run(args)
        XCTAssertEqual(first.summary["status"] as? String, "completed")
        let files = ["run.json", "final/model.safetensors", "metrics.jsonl", "summary.json"]
        func stamps() throws -> [Data] { try files.map { try Data(contentsOf: out.appendingPathComponent($0)) } }
        let before = try stamps()
        // another batch geometry: refused, naming what changed
        XCTAssertThrowsError(try run(args + ["batch_size=4", "grad_accum=1", "resume_from=latest"])) { error in
            XCTAssertTrue("\(error)".contains("cannot resume: the checkpoint was written with other settings that shape the run: batch_size 2 → 4, grad_accum 2 → 1"), "\(error)")
        }
        XCTAssertThrowsError(try run(args + ["ppo.ppo_epochs=1", "ppo.iterations=4", "resume_from=latest"])) { error in
            XCTAssertTrue("\(error)".contains("ppo.ppo_epochs 2 → 1"), "\(error)")
        }
        XCTAssertEqual(try stamps(), before, "a refused resume wrote something")
        // the same settings on a finished run: nothing to do, nothing written
        var messages: [String] = []
        let again = try PPORun.run(config: load(args + ["resume_from=latest"])) { e in if case .message(let m) = e { messages.append(m) } }
        XCTAssertEqual(again["steps"] as? Int, first.summary["steps"] as? Int)
        XCTAssertTrue(messages.contains { $0.contains("holds a finished run of \(first.summary["total_steps"] as! Int) steps") && $0.contains("nothing to resume") }, "\(messages)")
        XCTAssertEqual(try stamps(), before, "resuming a finished run wrote something")
    }

    func testResumeContinuesExactlyLikeTheUninterruptedRun() throws {
        let whole = try run(["output_dir=\(dir.path)/whole", "ppo.iterations=2", "save_every=3", "keep_checkpoints=10"])
        XCTAssertEqual(whole.summary["status"] as? String, "completed")
        // a run stopped after step 3 (in the middle of the first rollout's passes), resumed
        let part = dir.appendingPathComponent("part")
        try FileManager.default.createDirectory(at: part.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("whole/checkpoints/step-3"), to: part.appendingPathComponent("checkpoints/step-3"))
        let resumed = try run(["output_dir=\(dir.path)/part", "ppo.iterations=2", "save_every=3", "keep_checkpoints=10", "resume_from=latest"])
        XCTAssertEqual(resumed.summary["status"] as? String, "completed")
        XCTAssertEqual(resumed.steps.count, 5)
        for (a, b) in zip(whole.steps.suffix(5), resumed.steps) {
            for key in ["loss", "objective/scores", "objective/kl", "val/ratio", "grad_norm"] { XCTAssertEqual(a[key], b[key], key) }
        }
        let x = try StateDictFiles.load(directory: dir.appendingPathComponent("whole/final"))
        let y = try StateDictFiles.load(directory: dir.appendingPathComponent("part/final"))
        XCTAssertEqual(Set(x.keys), Set(y.keys))
        for (k, t) in x { XCTAssertEqual(t.scalars, y[k]!.scalars, k) }
    }

    func testTheRewardedTextBecomesMoreFrequent() throws {
        // a response containing the letter e scores 1 (about 1 in 8 of the starting policy's)
        let (summary, steps) = try run(["ppo.reward.rules=[{\"type\": \"contains\", \"text\": \"e\"}]", "ppo.iterations=24", "ppo.ppo_epochs=2",
                                        "ppo.num_minibatches=1", "batch_size=8", "grad_accum=1", "optim.learning_rate=0.01"])
        XCTAssertEqual(summary["status"] as? String, "completed")
        let perRollout = stride(from: 0, to: steps.count, by: 2).map { steps[$0]["objective/scores"]! }
        let first = perRollout.prefix(4).reduce(0, +) / 4, last = perRollout.suffix(4).reduce(0, +) / 4
        XCTAssertGreaterThan(last, first + 0.4, "mean score per rollout \(perRollout)")
        XCTAssertGreaterThan(steps.last!["objective/kl"]!, 0)
    }

    func testWithLoRATheReferenceIsThePolicyWithoutItsAdapters() throws {
        // LoRA's B starts at zero: the first rollout's policy equals the reference exactly (KL 0),
        // with no second copy of the model; after training the adapters move the policy away
        let (summary, steps) = try run(["output_dir=\(dir.path)/lora", "lora={\"rank\": 4}", "ppo.iterations=2"])
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(steps[0]["objective/kl"], 0)
        XCTAssertNotEqual(steps.last!["objective/kl"], 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("lora/final/adapter/adapter_model.safetensors").path))
    }

    func testAKLSpikePastMaxKLIsAnAnomalyThatRecoveryRollsBack() throws {
        // the first rollout has KL 0; from the second on k3's estimate is positive (k1's may be
        // negative on a few samples), past a max_kl of 1e-9, also on the new rollout a retried
        // step samples
        XCTAssertThrowsError(try run(["output_dir=\(dir.path)/spike", "ppo.max_kl=1e-9", "ppo.kl_estimator=k3"])) { error in
            XCTAssertTrue("\(error)".contains("KL spike (objective/kl"), "\(error)")
            XCTAssertTrue("\(error)".contains("step 5"), "the second rollout's first step: \(error)")
        }
        var messages: [String] = []
        let config = try load(["output_dir=\(dir.path)/recover", "ppo.max_kl=1e-9", "ppo.kl_estimator=k3", "recovery={\"max_recoveries\": 2}"])
        XCTAssertThrowsError(try PPORun.run(config: config) { e in if case .message(let m) = e { messages.append(m) } })
        XCTAssertEqual(messages.filter { $0.contains("KL spike") && $0.contains("rolled back") }.count, 2, "\(messages)")
    }

    func testGRPOAndRLOORunWithoutAValueHead() throws {
        for adv in ["grpo", "rloo"] {
            let (summary, steps) = try run(["output_dir=\(dir.path)/\(adv)", "ppo.advantage=\(adv)", "ppo.num_generations=4", "ppo.iterations=2"])
            XCTAssertEqual(summary["status"] as? String, "completed", adv)
            XCTAssertNil(steps[0]["loss/value_avg"], adv)
            XCTAssertNotNil(steps[0]["frac_reward_zero_std"], adv)
            XCTAssertEqual(steps[0]["val/ratio"], 1, adv)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(adv)/value_head.safetensors").path), adv)
        }
    }

    func testBadInputIsRefusedBeforeAnythingIsWritten() throws {
        func refused(_ overrides: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
            do {
                _ = try PPORun.run(config: load(overrides + ["output_dir=\(dir.path)/refused"])) { _ in }
                XCTFail("accepted \(overrides)", file: file, line: line)
            } catch {
                let text = "\(error)"
                XCTAssertTrue(text.contains(expected), "\(text) does not mention \(expected)", file: file, line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("refused").path), "wrote output_dir", file: file, line: line)
        }
        try "".write(to: dir.appendingPathComponent("empty.jsonl"), atomically: true, encoding: .utf8)
        refused(["data.train=\(dir.appendingPathComponent("empty.jsonl").path)"], "holds no prompts")
        try "{\"prompt\": \"hi\"}\n{\"text\": 3}\n[1]\n".write(to: dir.appendingPathComponent("bad.jsonl"), atomically: true, encoding: .utf8)
        refused(["data.train=\(dir.appendingPathComponent("bad.jsonl").path)"], "bad.jsonl:3")
        refused(["ppo.max_new_tokens=60"], "exceeds the model's context length 64")
        refused(["ppo.max_new_tokens=20", "data.max_seq_len=48"], "exceeds data.max_seq_len 48 (prompt + response; the model's context length is 64)")
        refused(["ppo.advantage=grpo", "ppo.num_generations=1"], "num_generations must be ≥ 2")
        refused(["ppo.reward.rules=null"], "no reward")
        refused(["ppo.reward.missing_eos_penalty=1", "ppo.reward.missing_eos_score=0"], "ppo.reward.missing_eos_score: replaces a cut-off response's score")
        // the program is checked with the config: nothing is written for a command that cannot run
        refused(["ppo.reward.program=\(dir.path)"], "ppo.reward.program: \(dir.path) is a directory, not a program")
        refused(["ppo.reward.program=[\"no-such-judge-xyz\", \"--fast\"]"], "no-such-judge-xyz is not a program on PATH")
        // each rule's own keys are checked in the config, naming the rule
        refused([#"ppo.reward.rules=[{"type": "regex", "pattern": "("}]"#], "ppo.reward.rules[0].pattern: is not a valid regular expression")
        refused([#"ppo.reward.rules=[{"type": "length"}]"#], "ppo.reward.rules[0].max: a length rule needs")
        refused([#"ppo.reward.rules=[{"type": "match"}]"#], "ppo.reward.rules[0].field: a match rule needs")
        refused([#"ppo.reward.rules=[{"type": "contains"}]"#], "ppo.reward.rules[0].text: a contains rule needs")
        refused(["ppo.advantage=grpo", "ppo.num_generations=4", "ppo.value_model=\(dir.appendingPathComponent("base").path)"], "uses no values")
        refused(["ppo.loss_type=grpo"], "ppo.loss_type: loss_type applies to advantage \"grpo\", not \"gae\"")
        refused(["ppo.advantage=rloo", "ppo.num_generations=4", "ppo.scale_rewards=none"], "ppo.scale_rewards: scale_rewards applies to advantage \"grpo\"")
        refused(["ppo.advantage=grpo", "ppo.num_generations=4", "ppo.normalize_advantages=true"], "ppo.normalize_advantages: normalize_advantages applies to advantage \"rloo\"")
        refused(["ppo.advantage=grpo", "ppo.num_generations=4", "ppo.loss_type=drgrpo"], "ppo.loss_type")
        refused(["ppo.cliprange_high=0"], "ppo.cliprange_high")
        // an adaptive controller that could never move
        refused(["ppo.advantage=grpo", "ppo.num_generations=4", "ppo.kl_target=6"], "ppo.kl_target: the adaptive KL controller scales kl_coef, which is 0 (advantage \"grpo\"'s default)")
        refused(["ppo.kl_coef=0", "ppo.kl_target=6"], "ppo.kl_target: the adaptive KL controller scales kl_coef, which is 0, so it would stay 0")
        // a reward model over another vocabulary cannot score the policy's token ids
        var r = RandomGenerator(seed: 9)
        let other = try LlamaConfig.decode(json: Data(#"{"vocab_size": 300, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 64}"#.utf8))
        let rm = RewardModel(backbone: LlamaModel(other, rng: &r), head: RewardModel.makeHead(hiddenSize: 16, heads: 1, rng: &r), padID: 0)
        try RewardModelStore.save(rm, family: .llama, tokenizer: nil, to: dir.appendingPathComponent("rm-other"))
        refused(["ppo.reward.model=\(dir.appendingPathComponent("rm-other").path)"], "vocabulary of 300 tokens")
        // the same vocabulary size is not enough: a tokenizer that reads an id differently is refused
        let base = try ModelStore.load(dir.appendingPathComponent("base").path)
        let mine = try ModelStore.loadTokenizer(dir.appendingPathComponent("base").path)
        let lines = (0..<40).flatMap { _ in ["name a red thing", "a red thing", "blue", "name a blue thing", "a green thing", "name a cat thing",
                                              "a dog thing", "name a sun thing", "a sun thing", "name a dog thing", "a cat thing", "name a green thing"] }
        var theirs = try Tokenizer.train(on: lines, options: BPETrainingOptions(vocabSize: mine.vocabSize, specialTokens: ["<|endoftext|>"]))
        theirs.eosToken = "<|endoftext|>"
        XCTAssertEqual(theirs.vocabSize, mine.vocabSize)
        XCTAssertNotNil(mine.firstDifference(from: theirs))
        try ModelStore.save(base, tokenizer: theirs, to: dir.appendingPathComponent("ref-other-tok"))
        refused(["model.reference=\(dir.appendingPathComponent("ref-other-tok").path)", "ppo.kl_coef=0.05"],
                "model.reference: its tokenizer is not the policy's: token id")
        var r2 = RandomGenerator(seed: 4)
        try RewardModelStore.save(RewardModel(backbone: base.model, head: RewardModel.makeHead(hiddenSize: 32, heads: 1, rng: &r2), padID: 0),
                                  family: .llama, tokenizer: theirs, to: dir.appendingPathComponent("rm-other-tok"))
        refused(["ppo.reward.model=\(dir.appendingPathComponent("rm-other-tok").path)"], "reward.model: its tokenizer is not the policy's: token id")
        refused(["ppo.value_model=\(dir.appendingPathComponent("rm-other-tok").path)"], "ppo.value_model: its tokenizer is not the policy's: token id")
        func judge(_ name: String, _ script: String, expect: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let url = dir.appendingPathComponent(name)
            try script.write(to: url, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
            XCTAssertThrowsError(try PPORun.run(config: load(["ppo.reward.program=\(url.path)", "output_dir=\(dir.path)/judged"])) { _ in },
                                 file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(expect), "\(error)", file: file, line: line)
                XCTAssertTrue("\(error)".contains("prompt at line"), "names the sample: \(error)", file: file, line: line)
            }
        }
        try judge("words.sh", "#!/bin/sh\nwhile read line; do echo words; done\n", expect: "expected one number per line")
        try judge("crash.sh", "#!/bin/sh\nread line\nexit 3\n", expect: "exit status 3")
    }
}
