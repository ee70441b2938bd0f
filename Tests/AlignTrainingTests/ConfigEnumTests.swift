import XCTest
@testable import AlignTraining

/// Enum-valued keys list their allowed values, with the nearest one when close.
final class ConfigEnumTests: XCTestCase {
    func testUnknownValueListsTheAllowedValues() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/prefs.jsonl", "format": "chat"},
          "output_dir": "out/run",
          "dpo": {"loss": "sigmod"}
        }
        """
        XCTAssertEqual(configErrors(text, trainer: DPOConfig.schema), [
            #"run.json:3: data.format: "chat" is not one of auto, text, prompt_completion, alpaca, messages, preference"#,
            #"run.json:5: dpo.loss: "sigmod" is not one of sigmoid, robust, hinge, ipo, dpop, ln_dpo, simpo; did you mean "sigmoid"?"#,
        ])
    }

    func testEnumValuesAreTyped() throws {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/prefs.jsonl", "chat_template": "chatml", "truncation_side": "right"},
          "optim": {"schedule": "cosine"},
          "output_dir": "out/run",
          "dpo": {"loss": "ln_dpo"}
        }
        """
        let config = try loadConfig(text, trainer: DPOConfig.schema)
        XCTAssertEqual(config.data.chatTemplate, .chatml)
        XCTAssertEqual(config.data.truncationSide, .right)
        XCTAssertEqual(config.optim.schedule, .cosine)
        XCTAssertEqual(config.trainerConfig(DPOConfig.self).loss, .lnDPO)
    }
}
