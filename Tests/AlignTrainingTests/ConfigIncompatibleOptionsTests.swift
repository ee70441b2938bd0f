import XCTest
@testable import AlignTraining

/// Options that are valid alone but not together are reported at the line of the key that
/// conflicts, naming both.
final class ConfigIncompatibleOptionsTests: XCTestCase {
    func testModelPathAndInitTogether() {
        let text = """
        {
          "model": {
            "path": "../llama-tiny.gguf",
            "init": {"architecture": "llama", "tokenizer": "../llama-tiny.gguf"}
          },
          "data": {"train": "data/train.jsonl"},
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:4: model.init: set either "model.path" (a pretrained model) or "model.init" (a new model), not both"#,
        ])
    }

    func testNeitherModelPathNorInit() {
        let text = """
        {
          "model": {"reference": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:2: model: set "model.path" (a model directory or .gguf file) or "model.init" (a new model's shape and tokenizer)"#,
        ])
    }

    func testNullingOneOfThemWithSetResolvesTheConflict() throws {
        let text = """
        {
          "model": {
            "path": "../llama-tiny.gguf",
            "init": {"architecture": "gpt2", "tokenizer": "../gpt2-tiny.gguf"}
          },
          "data": {"train": "data/train.jsonl"},
          "output_dir": "out/run"
        }
        """
        let config = try loadConfig(text, overrides: ["model.path=null"])
        guard case .initialize(let shape) = config.model.source else { return XCTFail("expected model.init") }
        XCTAssertEqual(shape.architecture, .gpt2)
        XCTAssertEqual(shape.intermediateSize, 4 * 256)
    }

    func testNewModelShapeMustBeConsistent() {
        let text = """
        {
          "model": {
            "init": {"architecture": "gpt2", "hidden_size": 100, "heads": 3, "kv_heads": 1,
                     "context_length": 128, "tokenizer": "../gpt2-tiny.gguf"}
          },
          "data": {"train": "data/train.jsonl", "max_seq_len": 256},
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:3: model.init.heads: hidden_size 100 is not divisible by heads 3"#,
            #"run.json:3: model.init.kv_heads: applies to llama only (gpt2 has no grouped-query attention)"#,
            #"run.json:6: data.max_seq_len: 256 is longer than model.init.context_length 128"#,
        ])
    }

    func testWarmupStepsAndRatio() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "optim": {
            "warmup_steps": 100,
            "warmup_ratio": 0.1
          },
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:6: optim.warmup_ratio: set either optim.warmup_steps (100) or optim.warmup_ratio (0.1), not both"#,
        ])
    }

    func testSimPOWithAReferenceModel() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf", "reference": "../llama-tiny.gguf"},
          "data": {"train": "data/prefs.jsonl"},
          "output_dir": "out/run",
          "dpo": {"loss": "simpo", "label_smoothing": 0.1}
        }
        """
        XCTAssertEqual(configErrors(text, trainer: DPOConfig.schema), [
            #"run.json:2: model.reference: dpo.loss "simpo" uses no reference model; remove model.reference (or choose another loss)"#,
            #"run.json:5: dpo.label_smoothing: applies to loss "sigmoid" and "robust" only, not "simpo""#,
        ])
    }

    func testRunLengthAndEvaluationData() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl", "eval": "data/eval.jsonl", "eval_fraction": 0.1},
          "epochs": null,
          "eval_every": 50,
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:3: data.eval_fraction: holds out part of data.train when data.eval is null, but data.eval is set; remove one of them"#,
            #"run.json:4: epochs: is null and max_steps is null; set one of them to bound the run"#,
        ])
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["eval_every=50"]), [
            #"--set eval_every=50: eval_every: there is no eval data; set data.eval or data.eval_fraction, or remove eval_every"#,
        ])
    }

    func testTrainerAndDataFormat() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl", "format": "prompt_completion", "stride": 128},
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text, trainer: DPOConfig.schema), [
            #"run.json:3: data.stride: applies to raw text windows (format "text"), not format "prompt_completion""#,
            #"run.json:3: data.format: align dpo trains on preference pairs (chosen/rejected); use "preference" or "auto", not "prompt_completion""#,
        ])
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["data.format=preference"]), [
            #"--set data.format=preference: data.format: "preference" data is for align dpo and align rm; align sft trains on text, prompt_completion, alpaca or messages"#,
        ])
        XCTAssertEqual(configErrors(minimalSFT, trainer: RMConfig.schema, overrides: ["model.reference=../llama-tiny.gguf"]), [
            #"--set model.reference=../llama-tiny.gguf: model.reference: align rm uses no reference model; remove model.reference"#,
        ])
    }
}
