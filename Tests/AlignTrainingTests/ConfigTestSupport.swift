import Foundation
import XCTest
@testable import AlignTraining

/// Shared helpers of the Config* tests: config text is parsed as if it were `run.json` in
/// `Fixtures/configs` (which holds `data/train.jsonl`, `data/eval.jsonl`, `data/prefs.jsonl`,
/// `data/web.jsonl`; the tiny models are one directory up).
enum ConfigFixtures {
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("configs")
    }

    static func path(_ relative: String) -> String {
        directory.appendingPathComponent(relative).standardizedFileURL.path
    }

    /// A fresh temporary directory, removed after the test.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}

/// Parses `text` as `run.json` in the fixtures directory.
func loadConfig(_ text: String, trainer: TrainerSectionSchema = SFTConfig.schema, overrides: [String] = [],
                currentDirectory: URL? = nil) throws -> RunConfig {
    try RunConfig.parse(text, file: "run.json", directory: ConfigFixtures.directory, trainer: trainer,
                        overrides: overrides, currentDirectory: currentDirectory ?? ConfigFixtures.directory)
}

/// The error lines `text` produces (fails the test when it loads without error).
func configErrors(_ text: String, trainer: TrainerSectionSchema = SFTConfig.schema, overrides: [String] = [],
                  currentDirectory: URL? = nil, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    do {
        _ = try loadConfig(text, trainer: trainer, overrides: overrides, currentDirectory: currentDirectory)
        XCTFail("expected a ConfigError", file: file, line: line)
        return []
    } catch let error as ConfigError {
        return error.description.components(separatedBy: "\n")
    } catch {
        XCTFail("expected a ConfigError, got \(error)", file: file, line: line)
        return []
    }
}

/// A valid minimal SFT config (7 lines).
let minimalSFT = """
{
  "model": {"path": "../llama-tiny.gguf"},
  "data": {
    "train": "data/train.jsonl"
  },
  "output_dir": "out/run"
}
"""
