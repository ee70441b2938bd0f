import AlignData
import AlignTensor
import AlignTraining
import Foundation
import XCTest
@testable import SFTTrainer

/// What a run does to its output_dir: one run at a time (a lock naming its holder, taken over
/// from a dead run, which also clears its half-written checkpoints), run.json only for an
/// accepted resume, and no finished run or input overwritten.
final class SFTRunDirectoryTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-sftdir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var lines: [String] = [], rows: [String] = []
        let words = ["red", "blue", "green", "cat", "dog", "sun"]
        var rng = RandomGenerator(seed: 5)
        for _ in 0..<24 {
            let triple = (0..<3).map { _ in words[rng.int(below: words.count)] }.joined(separator: " ")
            lines += ["say \(triple)", triple]
            let msg: [String: Any] = ["messages": [["role": "user", "content": "say \(triple)"], ["role": "assistant", "content": triple]]]
            rows.append(String(decoding: try JSONSerialization.data(withJSONObject: msg), as: UTF8.self))
        }
        var tok = try Tokenizer.train(on: lines, options: BPETrainingOptions(vocabSize: 280, specialTokens: ["<|im_end|>", "<|im_start|>"]))
        tok.eosToken = "<|im_end|>"
        try tok.save(to: dir.appendingPathComponent("tok"))
        try (rows.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var out: URL { dir.appendingPathComponent("out") }

    func config(_ overrides: [String] = []) throws -> RunConfig {
        let text = """
        {
          "model": {"init": {"architecture": "llama", "hidden_size": 16, "layers": 1, "heads": 2,
                             "context_length": 32, "tokenizer": "tok"}},
          "data": {"train": "train.jsonl", "format": "messages", "chat_template": "chatml", "max_seq_len": 32},
          "batch_size": 4, "max_steps": 4, "save_every": 2, "log_every": 2, "output_dir": "out"
        }
        """
        let url = dir.appendingPathComponent("run.json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return try RunConfig.load(file: url, trainer: SFTConfig.schema, overrides: overrides, currentDirectory: dir)
    }

    func testOneRunPerOutputDirAndDeadRunsAreCleanedUp() throws {
        // a second run while one holds the lock: refused, naming the holder, nothing written
        let held = try RunDirectoryLock(outputDir: out)
        XCTAssertThrowsError(try SFTRun.run(config: config()) { _ in }) { error in
            XCTAssertTrue(error is RunDirectoryLock.Busy, "\(error)")
            XCTAssertTrue("\(error)".contains("is in use by another run (pid \(getpid()) on "), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [RunDirectoryLock.fileName])
        held.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "a lock that created output_dir and wrote nothing removes it")

        // a run killed mid-checkpoint: its lock file names it, its temporary folder is left
        let temp = Checkpoint.root(out).appendingPathComponent(".step-2.tmp-999999")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        try "pid=999999\nhost=elsewhere\nstarted=2026-01-01T00:00:00Z\n".write(to: out.appendingPathComponent(RunDirectoryLock.fileName),
                                                                               atomically: true, encoding: .utf8)
        var messages: [String] = []
        let summary = try SFTRun.run(config: config()) { event in if case .message(let m) = event { messages.append(m) } }
        XCTAssertEqual(summary["status"] as? String, "completed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.path))
        XCTAssertTrue(messages.contains { $0.contains("pid 999999 on elsewhere") && $0.contains(".step-2.tmp-999999") }, "\(messages)")
    }

    func testRefusedResumeAndFinishedRunsLeaveTheRunAsItWas() throws {
        _ = try SFTRun.run(config: config()) { _ in }
        let runJSON = out.appendingPathComponent("run.json")
        let before = try Data(contentsOf: runJSON)
        // a resume with another configuration (LoRA on a full-weight checkpoint) is refused ...
        XCTAssertThrowsError(try SFTRun.run(config: config(["resume_from=latest", "lora={}"])) { _ in }) { error in
            XCTAssertTrue("\(error)".contains("checkpoint lacks parameter"), "\(error)")
        }
        // ... and run.json still describes the checkpoints and final/
        XCTAssertEqual(try Data(contentsOf: runJSON), before)

        // a finished run without checkpoints: final/ is not replaced
        try FileManager.default.removeItem(at: Checkpoint.root(out))
        for overrides in [[], ["resume_from=latest"]] {
            XCTAssertThrowsError(try SFTRun.run(config: config(overrides)) { _ in }) { error in
                XCTAssertTrue("\(error)".contains("run.json:5: output_dir: \"\(out.path)\" already holds a finished run (final/ and summary.json)"), "\(error)")
            }
        }
        // a model inside what the run writes
        let fromFinal = ["model.init=null", "model.path=\(out.path)/final", "output_dir=\(out.path)"]
        XCTAssertThrowsError(try config(fromFinal).checkOutputDirectory()) { error in
            XCTAssertTrue("\(error)".contains("model.path: output_dir \(out.path) would overwrite the input model.path \(out.path)/final"), "\(error)")
        }
        XCTAssertNoThrow(try config(["model.init=null", "model.path=\(out.path)/final", "output_dir=\(dir.path)/next"]).checkOutputDirectory())
    }
}
