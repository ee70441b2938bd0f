import AlignData
import AlignTestSupport
import AlignTraining
import Foundation
import XCTest
@testable import AlignOnline
@testable import BoNTrainer
@testable import PPOTrainer

/// The `ifeval` reward rule: IFEval's checks of each prompt record's `instruction_id_list` and
/// `kwargs` as a reward (fraction followed, or all-or-nothing), and records it cannot read
/// refused before a run writes anything, naming the file and line.
final class IFEvalRewardTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-ifeval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TinyPolicy.make(in: dir, prompts: 8, train: 8)
        let lines = (0..<8).map { i in
            #"{"key": \#(i), "prompt": "name a blue thing", "instruction_id_list": ["punctuation:no_comma", "change_case:english_lowercase"], "kwargs": [{}, {}]}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("ifeval.jsonl"), atomically: true, encoding: .utf8)
        try """
        {"model": {"path": "base"}, "data": {"train": "ifeval.jsonl", "max_seq_len": 64},
         "optim": {"learning_rate": 0.003, "schedule": "constant"},
         "ppo": {"advantage": "grpo", "num_generations": 2, "iterations": 1, "ppo_epochs": 1, "num_minibatches": 1, "max_new_tokens": 6,
                 "reward": {"rules": [{"type": "ifeval"}]}},
         "batch_size": 4, "seed": 2, "log_every": 1, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func load(_ overrides: [String] = []) throws -> RunConfig {
        try RunConfig.load(file: dir.appendingPathComponent("run.json"), trainer: PPOConfig.schema, overrides: overrides)
    }

    func sample(_ response: String, json: String) -> RewardSample {
        RewardSample(record: PromptRecord(prompt: .text("p"), json: json, line: 1), promptIDs: [1], responseIDs: [2], response: response, endedWithEOS: true)
    }

    func testTheRuleScoresTheFractionOrAllOfTheRecordsInstructions() {
        let json = #"{"prompt": "p", "instruction_id_list": ["punctuation:no_comma", "startend:quotation"], "kwargs": [{}, {}]}"#
        let fraction = RewardSettings.Rule(kind: .ifeval)
        let all = RewardSettings.Rule(kind: .ifeval, ifevalMode: .all)
        let loose = RewardSettings.Rule(kind: .ifeval, ifevalMode: .all, loose: true)
        XCTAssertEqual(RuleReward.score(fraction, sample("\"no commas\"", json: json)), 1)
        XCTAssertEqual(RuleReward.score(fraction, sample("no commas", json: json)), 0.5)
        XCTAssertEqual(RuleReward.score(fraction, sample("a, b", json: json)), 0)
        XCTAssertEqual(RuleReward.score(all, sample("no commas", json: json)), 0)
        XCTAssertEqual(RuleReward.score(all, sample("Sure:\n\"no commas\"", json: json)), 0)       // strict: the first line breaks the quotes
        XCTAssertEqual(RuleReward.score(loose, sample("Sure:\n\"no commas\"", json: json)), 1)     // loose: without the first line it holds
    }

    func testARunScoresWithTheRule() throws {
        var steps: [[String: Double]] = []
        _ = try PPORun.run(config: load(["output_dir=\(dir.path)/out"])) { e in
            if case .step(_, _, let m) = e { steps.append(m) }
        }
        let mean = try XCTUnwrap(steps.first?["rewards/rule0_ifeval/mean"], "\(steps.first?.keys.sorted() ?? [])")
        XCTAssertTrue((0...1).contains(mean), "\(mean)")
    }

    func testBadRecordsAndModesAreRefusedBeforeAnythingIsWritten() throws {
        var lines = try String(contentsOf: dir.appendingPathComponent("ifeval.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        lines[2] = #"{"prompt": "name a red thing", "instruction_id_list": ["keywords:existence"], "kwargs": [{"keywords": "red"}]}"#
        lines[4] = #"{"prompt": "name a red thing", "instruction_id_list": ["keywords:nonsense"], "kwargs": [{}]}"#
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("bad.jsonl"), atomically: true, encoding: .utf8)
        func refused(_ overrides: [String], _ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try PPORun.run(config: load(overrides + ["output_dir=\(dir.path)/refused"])) { _ in }, file: file, line: line) { error in
                for e in expected { XCTAssertTrue("\(error)".contains(e), "\(error) does not mention \(e)", file: file, line: line) }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("refused").path), "wrote output_dir", file: file, line: line)
        }
        refused(["data.train=\(dir.appendingPathComponent("bad.jsonl").path)"],
                ["bad.jsonl:3: instruction 0 (keywords:existence): kwargs[0].keywords: must be a list of strings",
                 "bad.jsonl:5: instruction 0 (keywords:nonsense): unknown instruction id"])
        refused([#"ppo.reward.rules=[{"type": "ifeval", "mode": "exact"}]"#], ["ppo.reward.rules[0].mode: an ifeval rule's mode is fraction or all"])
        refused([#"ppo.reward.rules=[{"type": "match", "field": "answer", "mode": "all"}]"#], ["ppo.reward.rules[0].mode: a match rule's mode is exact or contains"])
    }
}
