import XCTest
@testable import AlignTraining

/// Numbers outside their documented range are reported with the range and the value as written.
final class ConfigRangeTests: XCTestCase {
    func testOutOfRangeValues() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl", "max_seq_len": 4, "eval_fraction": 0.7},
          "output_dir": "out/run",
          "batch_size": 0,
          "epochs": 0,
          "optim": {"learning_rate": -1e-4, "beta2": 1.0},
          "lora": {"dropout": 1},
          "sft": {"kl_coef": -0.5}
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:3: data.max_seq_len: must be >= 8, got 4"#,
            #"run.json:3: data.eval_fraction: must be in (0, 0.5], got 0.7"#,
            #"run.json:5: batch_size: must be >= 1, got 0"#,
            #"run.json:6: epochs: must be > 0, got 0"#,
            #"run.json:7: optim.learning_rate: must be > 0, got -1e-4"#,
            #"run.json:7: optim.beta2: must be in [0, 1), got 1.0"#,
            #"run.json:8: lora.dropout: must be in [0, 1), got 1"#,
            #"run.json:9: sft.kl_coef: must be >= 0, got -0.5"#,
        ])
    }

    func testSetValueOutOfRangeNamesTheArgument() {
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["batch_size=0"]), ["--set batch_size=0: batch_size: must be >= 1, got 0"])
    }

    func testBoundaryValuesAreAccepted() throws {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl", "eval_fraction": 0.5, "max_seq_len": 8},
          "optim": {"beta1": 0, "warmup_ratio": 1},
          "output_dir": "out/run"
        }
        """
        let config = try loadConfig(text)
        XCTAssertEqual(config.optim.beta1, 0)
        XCTAssertEqual(config.optim.warmupRatio, 1)
        XCTAssertEqual(config.data.evalFraction, 0.5)
        XCTAssertEqual(config.data.maxSeqLen, 8)
    }
}
