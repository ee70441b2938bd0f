import XCTest
@testable import AlignTraining

/// Every problem is reported at once, one self-contained line each, in file-line order then
/// `--set` order; a bad value does not cause follow-on errors in the checks that use it.
final class ConfigCollectAllErrorsTests: XCTestCase {
    func testAllProblemsTogetherInOrder() {
        let text = """
        {
          "model": {"path": "../missing-model.gguf"},
          "data": {
            "train": "data/train.jsonl",
            "format": "prompt_completon"
          },
          "optim": {
            "learning_rate": "3e-4",
            "warmup_steps": -5
          },
          "batch_sise": 4,
          "output_dir": "out/run"
        }
        """
        let lines = configErrors(text, overrides: ["lora.rank=0", "seed=abc"])
        XCTAssertEqual(lines, [
            #"run.json:2: model.path: model "../missing-model.gguf" does not exist (relative paths are resolved against the config file's directory)"#,
            #"run.json:5: data.format: "prompt_completon" is not one of auto, text, prompt_completion, alpaca, messages, preference; did you mean "prompt_completion"?"#,
            #"run.json:8: optim.learning_rate: expected a number, got the string "3e-4""#,
            #"run.json:9: optim.warmup_steps: must be >= 0, got -5"#,
            #"run.json:11: unknown key "batch_sise"; did you mean "batch_size"?"#,
            #"--set lora.rank=0: lora.rank: must be >= 1, got 0"#,
            #"--set seed=abc: seed: expected an integer, got "abc""#,
        ])
        // an invalid model.path is not also reported as "set model.path or model.init"
        XCTAssertFalse(lines.contains { $0.contains("model: set") })
    }

    func testErrorIsAConfigErrorWithOneIssuePerLine() {
        XCTAssertThrowsError(try loadConfig("{}")) { error in
            let configError = error as? ConfigError
            XCTAssertEqual(configError?.issues.count, 3)
            XCTAssertEqual(configError?.issues.first?.origin, .file("run.json", line: 1))
            XCTAssertEqual((error as? LocalizedError)?.errorDescription, configError?.description)
        }
    }
}
