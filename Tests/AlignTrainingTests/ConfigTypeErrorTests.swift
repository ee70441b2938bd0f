import XCTest
@testable import AlignTraining

/// A value of the wrong JSON type is reported at its line with what was expected and what
/// was written.
final class ConfigTypeErrorTests: XCTestCase {
    func testStringWhereANumberBelongs() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "output_dir": "out/run",
          "optim": {
            "learning_rate": "fast"
          }
        }
        """
        XCTAssertEqual(configErrors(text), [#"run.json:6: optim.learning_rate: expected a number, got the string "fast""#])
    }

    func testEachKindOfMismatch() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl", "shuffle": "yes", "max_seq_len": 256.5},
          "output_dir": "out/run",
          "batch_size": "8",
          "grad_accum": null,
          "seed": [1],
          "lora": true,
          "optim": {"learning_rate": {"peak": 1}}
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:3: data.max_seq_len: expected an integer, got 256.5"#,
            #"run.json:3: data.shuffle: expected true or false, got the string "yes""#,
            #"run.json:5: batch_size: expected an integer, got the string "8""#,
            #"run.json:6: grad_accum: expected an integer, got null"#,
            #"run.json:7: seed: expected an integer, got a list"#,
            #"run.json:8: lora: expected an object, got true"#,
            #"run.json:9: optim.learning_rate: expected a number, got an object"#,
        ])
    }

    func testIntegralNumbersAreIntegers() throws {
        let text = minimalSFT.replacingOccurrences(of: #""output_dir""#, with: #""batch_size": 16.0, "max_steps": 1e3, "output_dir""#)
        let config = try loadConfig(text)
        XCTAssertEqual(config.batchSize, 16)
        XCTAssertEqual(config.maxSteps, 1000)
    }

    func testTopLevelMustBeAnObject() {
        XCTAssertEqual(configErrors("[1, 2]"),
                       [#"run.json:1: the configuration must be a JSON object ({"model": …, "data": …}), got a list"#])
    }

    func testMissingRequiredKeysAreNamedWithTheirMeaning() {
        XCTAssertEqual(configErrors("{\n  \"batch_size\": 4\n}"), [
            #"run.json:1: missing required key "model": The model to train (see `model`)."#,
            #"run.json:1: missing required key "data": Training and evaluation data (see `data`)."#,
            #"run.json:1: missing required key "output_dir": Directory for run.json, logs, checkpoints and the final model (created when the run starts)."#,
        ])
    }
}
