import XCTest
@testable import AlignTraining

/// Unknown keys are reported at their line with the nearest valid key: a misspelling, a key
/// written in the wrong section, or the name TRL/transformers use for it.
final class ConfigUnknownKeyTests: XCTestCase {
    func testMisspeltKeySuggestsTheNearestKeyOfItsSection() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "output_dir": "out/run",
          "optim": {
            "warmup_steps": 10,
            "learing_rate": 3e-4
          }
        }
        """
        XCTAssertEqual(configErrors(text), [#"run.json:7: unknown key "optim.learing_rate"; did you mean "optim.learning_rate"?"#])
    }

    func testKeyInTheWrongSectionSuggestsWhereItBelongs() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl", "batch_size": 4},
          "learning_rate": 1e-4,
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:3: unknown key "data.batch_size"; did you mean "batch_size"?"#,
            #"run.json:4: unknown key "learning_rate"; did you mean "optim.learning_rate"?"#,
        ])
    }

    func testTRLNamesSuggestTheAlignKey() {
        let text = """
        {
          "model": {"model_name_or_path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl", "max_length": 256},
          "num_train_epochs": 3,
          "per_device_train_batch_size": 4,
          "gradient_accumulation_steps": 2,
          "lora": {"r": 16, "lora_alpha": 32},
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:2: unknown key "model.model_name_or_path"; did you mean "model.path"?"#,
            #"run.json:2: model: set "model.path" (a model directory or .gguf file) or "model.init" (a new model's shape and tokenizer)"#,
            #"run.json:3: unknown key "data.max_length"; did you mean "data.max_seq_len"?"#,
            #"run.json:4: unknown key "num_train_epochs"; did you mean "epochs"?"#,
            #"run.json:5: unknown key "per_device_train_batch_size"; did you mean "batch_size"?"#,
            #"run.json:6: unknown key "gradient_accumulation_steps"; did you mean "grad_accum"?"#,
            #"run.json:7: unknown key "lora.r"; did you mean "lora.rank"?"#,
            #"run.json:7: unknown key "lora.lora_alpha"; did you mean "lora.alpha"?"#,
        ])
    }

    func testKeyWithNoNearMatchListsTheSectionsKeys() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "optim": {"momentum": 0.9},
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:4: unknown key "optim.momentum" (keys of "optim": learning_rate, schedule, warmup_steps, warmup_ratio, weight_decay, beta1, beta2, eps, max_grad_norm)"#,
        ])
    }

    func testAnotherTrainersSectionIsNamed() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "output_dir": "out/run",
          "dpo": {"beta": 0.1}
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:5: unknown key "dpo": this is the section of "align dpo"; "align sft" reads "sft""#,
        ])
    }

    func testDuplicateKeyNamesBothLines() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "batch_size": 4,
          "output_dir": "out/run",
          "batch_size": 8
        }
        """
        XCTAssertEqual(configErrors(text), [#"run.json:6: duplicate key "batch_size" (also written at line 4)"#])
    }

    func testSetOnAnUnknownPathSuggestsTheKey() {
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["optim.learing_rate=3e-4"]), [
            #"--set optim.learing_rate=3e-4: unknown key "optim.learing_rate"; did you mean "optim.learning_rate"?"#,
        ])
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["lr=3e-4"]), [
            #"--set lr=3e-4: unknown key "lr"; did you mean "optim.learning_rate"?"#,
        ])
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["optim.learning_rate.peak=1"]), [
            #"--set optim.learning_rate.peak=1: "optim.learning_rate" is a value (float), not a section; set it as a whole with --set optim.learning_rate=…"#,
        ])
    }
}
