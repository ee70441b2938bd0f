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

/// `align bon` end to end on a tiny model: kept samples beat the sampled ones, the kept set
/// accumulates over rounds, the rewarded text becomes more frequent, and exact resume.
final class BoNRunTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-bon-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TinyPolicy.make(in: dir, prompts: 24, train: 16)
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "eval": "eval.jsonl", "max_seq_len": 64},
         "optim": {"learning_rate": 0.01, "schedule": "constant"},
         "bon": {"rounds": 3, "num_samples": 6, "keep": 1, "steps_per_round": 6, "max_new_tokens": 6, "temperature": 1.0,
                 "reward": {"rules": [{"type": "contains", "text": "e"}]}},
         "batch_size": 4, "seed": 2, "log_every": 1, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func run(_ overrides: [String] = []) throws -> (summary: [String: Any], steps: [[String: Double]]) {
        var steps: [[String: Double]] = []
        let config = try RunConfig.load(file: dir.appendingPathComponent("run.json"), trainer: BoNConfig.schema, overrides: overrides)
        let summary = try BoNRun.run(config: config) { e in if case .step(_, _, let m) = e { steps.append(m) } }
        return (summary, steps)
    }

    func testRoundsKeepTheBestAndAccumulate() throws {
        let (summary, steps) = try run()
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(steps.count, 18)
        let rounds = stride(from: 0, to: 18, by: 6).map { steps[$0] }
        for (i, m) in rounds.enumerated() {
            XCTAssertEqual(m["bon/round"], Double(i + 1))
            XCTAssertEqual(m["bon/kept_examples"], Double(16 * (i + 1)), "every round adds one kept sample per prompt")
            XCTAssertGreaterThanOrEqual(m["bon/kept_reward_mean"]!, m["bon/sample_reward_mean"]!)
            XCTAssertNotNil(m["bon/heldout_reward"])
            XCTAssertEqual(m["bon/best_of_n_kl"]!, log(6) - 5.0 / 6, accuracy: 1e-12)
        }
        XCTAssertGreaterThan(rounds[2]["bon/sample_reward_mean"]!, rounds[0]["bon/sample_reward_mean"]!,
                             "the policy samples the rewarded text more often after two rounds: \(rounds.map { $0["bon/sample_reward_mean"]! })")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/final/model.safetensors").path))
    }

    func testBFloat16SamplingWeightsRunAndStillKeepTheBest() throws {
        let (summary, steps) = try run(["output_dir=\(dir.path)/half", "bon.rounds=1", "bon.sampling_weights=bfloat16"])
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertEqual(steps[0]["bon/kept_examples"], 16)
        XCTAssertGreaterThanOrEqual(steps[0]["bon/kept_reward_mean"]!, steps[0]["bon/sample_reward_mean"]!)
    }

    func testResumeInTheMiddleOfARoundIsExact() throws {
        let whole = try run(["output_dir=\(dir.path)/whole", "save_every=4", "keep_checkpoints=10", "bon.rounds=2"])
        let part = dir.appendingPathComponent("part/checkpoints")
        try FileManager.default.createDirectory(at: part, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("whole/checkpoints/step-8"), to: part.appendingPathComponent("step-8"))
        let resumed = try run(["output_dir=\(dir.path)/part", "save_every=4", "keep_checkpoints=10", "bon.rounds=2", "resume_from=latest"])
        XCTAssertEqual(resumed.steps.count, 4)
        for (a, b) in zip(whole.steps.suffix(4), resumed.steps) { XCTAssertEqual(a["loss"], b["loss"]) }
        let x = try StateDictFiles.load(directory: dir.appendingPathComponent("whole/final"))
        let y = try StateDictFiles.load(directory: dir.appendingPathComponent("part/final"))
        for (k, t) in x { XCTAssertTrue(t.scalars == y[k]!.scalars, k) }
        XCTAssertEqual(whole.summary["status"] as? String, "completed")
    }
}
