import XCTest
@testable import AlignTraining

/// A rerun into an output directory that holds an earlier run's checkpoints must say how it
/// relates to that run (`resume_from`), so CI never silently mixes runs.
final class ConfigOutputDirectoryTests: XCTestCase {
    func config(output: URL, overrides: [String] = []) throws -> RunConfig {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "output_dir": "\(output.path)"
        }
        """
        return try loadConfig(text, overrides: overrides)
    }

    func makeCheckpoint(_ output: URL, step: Int) throws {
        let dir = Checkpoint.root(output).appendingPathComponent("step-\(step)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: dir.appendingPathComponent("state.json"))
    }

    func testFreshOrEmptyDirectoryIsFine() throws {
        let output = try ConfigFixtures.temporaryDirectory(self).appendingPathComponent("out")
        let fresh = try config(output: output)
        XCTAssertNoThrow(try fresh.checkOutputDirectory())
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "neither loading nor checking creates anything")
        XCTAssertNil(fresh.resumeCheckpoint())
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        XCTAssertNoThrow(try config(output: output).checkOutputDirectory())
        XCTAssertNil(try config(output: output, overrides: ["resume_from=latest"]).resumeCheckpoint(), "latest with none: start fresh")
    }

    func testCheckpointsWithoutResumeFromAreRefused() throws {
        let output = try ConfigFixtures.temporaryDirectory(self).appendingPathComponent("out")
        try makeCheckpoint(output, step: 10)
        try makeCheckpoint(output, step: 20)
        XCTAssertThrowsError(try config(output: output).checkOutputDirectory()) { error in
            XCTAssertEqual("\(error)", "run.json:4: output_dir: \"\(output.path)\" already holds checkpoints of an earlier run (steps 10, 20); "
                + "set resume_from: \"latest\" to continue it (--set resume_from=latest), or choose a new output_dir")
        }
        let resuming = try config(output: output, overrides: ["resume_from=latest"])
        XCTAssertNoThrow(try resuming.checkOutputDirectory())
        XCTAssertEqual(resuming.resumeFrom, .latest)
        XCTAssertEqual(resuming.resumeCheckpoint()?.lastPathComponent, "step-20")

        let explicit = Checkpoint.root(output).appendingPathComponent("step-10")
        let pinned = try config(output: output, overrides: ["resume_from=\(explicit.path)"])
        XCTAssertNoThrow(try pinned.checkOutputDirectory())
        XCTAssertEqual(pinned.resumeFrom, .checkpoint(explicit.path))
    }

    func testResumeFromAMissingCheckpointIsAConfigError() {
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["resume_from=/nonexistent/step-5"]), [
            #"--set resume_from=/nonexistent/step-5: resume_from: directory "/nonexistent/step-5" does not exist"#,
        ])
    }
}
