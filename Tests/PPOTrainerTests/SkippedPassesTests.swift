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

/// Passes a rollout does not need are not made, and the results are those of the run that
/// makes them: GRPO/RLOO with one optimizer step per rollout take logp_old from the loss's own
/// forward, and kl_coef 0 makes no reference pass.
final class SkippedPassesTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-skip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TinyPolicy.make(in: dir, prompts: 40, train: 32)
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "eval": "eval.jsonl", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"},
         "ppo": {"iterations": 3, "ppo_epochs": 1, "num_minibatches": 1, "max_new_tokens": 6, "temperature": 1.0,
                 "advantage": "grpo", "num_generations": 4, "samples_per_rollout": 8,
                 "reward": {"rules": [{"type": "contains", "text": "blue"}]}},
         "batch_size": 2, "grad_accum": 4, "seed": 2, "log_every": 1, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        PPOObjective.skipsUnneededPasses = true
        try? FileManager.default.removeItem(at: dir)
    }

    func load(_ overrides: [String]) throws -> RunConfig {
        try RunConfig.load(file: dir.appendingPathComponent("run.json"), trainer: PPOConfig.schema, overrides: overrides)
    }

    func run(_ overrides: [String], skipping: Bool, name: String) throws -> [[String: Double]] {
        PPOObjective.skipsUnneededPasses = skipping
        defer { PPOObjective.skipsUnneededPasses = true }
        var steps: [[String: Double]] = []
        let summary = try PPORun.run(config: load(overrides + ["output_dir=\(dir.path)/\(name)"])) { e in
            if case .step(_, _, let m) = e { steps.append(m) }
        }
        XCTAssertEqual(summary["status"] as? String, "completed", name)
        return steps
    }

    /// Wall-clock metrics differ between any two runs; everything else must not.
    static let timings: Set<String> = ["rollout_seconds", "generation_seconds", "generated_tokens_per_second", "tokens_per_second",
                                       "elapsed_seconds"]

    func testTheLossesOwnLogProbsGiveTheRunThatComputesLogpOld() throws {
        let cases: [(String, [String])] = [
            ("grpo-kl", ["ppo.kl_coef=0.04"]),                 // the reference pass stays; objective/kl from the losses
            ("grpo", ["ppo.kl_coef=0"]),                       // no pass at all besides sampling
            ("dr-grpo", ["ppo.kl_coef=0.04", "ppo.loss_type=dr_grpo", "ppo.cliprange_high=0.28"]),
            ("rloo", ["ppo.advantage=rloo", "ppo.kl_coef=0"]),
        ]
        for (name, overrides) in cases {
            let skipped = try run(overrides, skipping: true, name: "\(name)-skipped")
            let full = try run(overrides, skipping: false, name: "\(name)-full")
            XCTAssertEqual(skipped.count, 3, name)
            XCTAssertEqual(skipped.count, full.count, name)
            for (i, (a, b)) in zip(skipped, full).enumerated() {
                XCTAssertEqual(Set(a.keys), Set(b.keys), "\(name) step \(i + 1)")
                for (k, v) in b where !Self.timings.contains(k) {
                    XCTAssertEqual(a[k], v, "\(name) step \(i + 1): \(k)")
                }
                XCTAssertEqual(a["val/ratio"], 1, "\(name) step \(i + 1)")
                XCTAssertEqual(a["policy/clipfrac_avg"], 0, "\(name) step \(i + 1)")
                XCTAssertNotNil(a["objective/entropy"], "\(name) step \(i + 1)")
                XCTAssertEqual(a["objective/kl"] != nil, name.hasSuffix("kl") || name == "dr-grpo", "\(name) step \(i + 1)")
            }
            // the KL moves away from 0 once the policy has: the statistic is really computed
            if name == "grpo-kl" { XCTAssertGreaterThan(skipped.last!["objective/kl"]!, 0) }
            let out = dir.appendingPathComponent("\(name)-skipped"), ref = dir.appendingPathComponent("\(name)-full")
            XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8),
                           try String(contentsOf: ref.appendingPathComponent("samples.jsonl"), encoding: .utf8), name)
            let x = try StateDictFiles.load(directory: out.appendingPathComponent("final"))
            let y = try StateDictFiles.load(directory: ref.appendingPathComponent("final"))
            XCTAssertEqual(Set(x.keys), Set(y.keys), name)
            for (k, t) in x { XCTAssertEqual(t.scalars.map(\.bitPattern), y[k]!.scalars.map(\.bitPattern), "\(name) \(k)") }
        }
    }

    func testWhichRunsSkipLogpOldsPass() throws {
        let loaded = try ModelStore.load(dir.appendingPathComponent("base").path)
        let tok = try ModelStore.loadTokenizer(dir.appendingPathComponent("base").path)
        let prompts = try PromptDataset.read(dir.appendingPathComponent("prompts.jsonl"))
        let ids = try prompts.map { try PromptEncoding.ids($0.prompt, tokenizer: tok, template: .chatml) }
        func objective(_ overrides: [String], reference: ReferenceSource) throws -> PPOObjective {
            let ppo = try load(overrides).trainerConfig(PPOConfig.self)
            var rng = RandomGenerator(seed: 3)
            let session = OnlineSession(policy: loaded.model, reward: try RewardFunction(ppo.reward, policyVocabulary: tok.vocabSize, policyTokenizer: tok),
                                        prompts: prompts, promptIDs: ids, tokenizer: tok,
                                        sampling: OnlineSampling(ppo.sampling, stopTokens: [0], padID: 0),
                                        batchSize: 2, gradAccum: 4, seed: 4, shuffle: true)
            return PPOObjective(session: session, reference: reference,
                                values: ppo.usesValues ? .head(RewardModel.makeHead(hiddenSize: 32, heads: 1, rng: &rng)) : nil, config: ppo)
        }
        let ref = ReferenceSource.model(loaded.model)
        XCTAssertTrue(try objective([], reference: .none).usesOwnLogProbsAsOld)
        XCTAssertTrue(try objective(["ppo.kl_coef=0.04"], reference: ref).usesOwnLogProbsAsOld)
        XCTAssertTrue(try objective(["ppo.advantage=rloo", "ppo.kl_coef=0"], reference: .none).usesOwnLogProbsAsOld)
        // a second pass over the rollout, a second minibatch, a KL in RLOO's rewards, an adaptive KL, or values: the pass stays
        XCTAssertFalse(try objective(["ppo.ppo_epochs=2"], reference: .none).usesOwnLogProbsAsOld)
        XCTAssertFalse(try objective(["ppo.num_minibatches=2"], reference: .none).usesOwnLogProbsAsOld)
        XCTAssertFalse(try objective(["ppo.advantage=rloo", "ppo.kl_coef=0.05"], reference: ref).usesOwnLogProbsAsOld)
        XCTAssertFalse(try objective(["ppo.kl_coef=0.04", "ppo.kl_target=0.1"], reference: ref).usesOwnLogProbsAsOld)
        XCTAssertFalse(try objective(["ppo.advantage=gae", "ppo.num_generations=1"], reference: ref).usesOwnLogProbsAsOld)
        // the rollout carries no logp_old then
        let o = try objective(["ppo.kl_coef=0.04"], reference: ref)
        _ = try o.nextBatch(progress: 0)
        XCTAssertTrue(try XCTUnwrap(o.currentRollout).oldLogProbs.isEmpty)
        XCTAssertFalse(try XCTUnwrap(o.currentRollout).referenceLogProbs.isEmpty)
    }

    func testKLCoefficientZeroMakesNoReferencePass() throws {
        // PPO with values: kl_coef 0 gives no reference (no KL statistic, no reference pass),
        // even with model.reference set; a coefficient brings both back
        let base = ["ppo.advantage=gae", "ppo.num_generations=1", "ppo.ppo_epochs=2", "model.reference=\(dir.path)/base"]
        let without = try run(base + ["ppo.kl_coef=0"], skipping: true, name: "gae")
        XCTAssertEqual(without.count, 6)
        for m in without {
            XCTAssertNil(m["objective/kl"])
            XCTAssertNotNil(m["objective/entropy"])
            XCTAssertNotNil(m["objective/scores"])
        }
        let with = try run(base + ["ppo.kl_coef=0.05"], skipping: true, name: "gae-kl")
        for m in with { XCTAssertNotNil(m["objective/kl"]) }
        // the score still reaches the advantages without a KL: the same first rollout scores
        XCTAssertEqual(without[0]["objective/scores"], with[0]["objective/scores"])
    }
}
