import XCTest
@testable import AlignTraining

/// `--set key.path=value` replaces any key after the file is read; the value is read by the
/// key's type and validated like a value in the file.
final class ConfigOverrideTests: XCTestCase {
    let base = """
    {
      "model": {"path": "../llama-tiny.gguf"},
      "data": {"train": "data/train.jsonl", "eval": "data/eval.jsonl"},
      "optim": {"learning_rate": 1e-5},
      "output_dir": "out/run"
    }
    """

    func testValuesAreReadByTheKeysType() throws {
        let config = try loadConfig(base, overrides: [
            "optim.learning_rate=3e-4", "optim.warmup_ratio=.05", "batch_size=2", "epochs=0.5", "data.shuffle=false",
            "optim.schedule=cosine", "data.eval=null", "optim.max_grad_norm=null", "lora.target_modules=q_proj, k_proj,v_proj",
            "sft.kl_coef=0.1", "seed=42",
        ])
        XCTAssertEqual(config.optim.learningRate, 3e-4)
        XCTAssertEqual(config.optim.warmupRatio, 0.05)
        XCTAssertEqual(config.batchSize, 2)
        XCTAssertEqual(config.epochs, 0.5)
        XCTAssertEqual(config.data.shuffle, false)
        XCTAssertEqual(config.optim.schedule, .cosine)
        XCTAssertNil(config.data.eval)
        XCTAssertNil(config.optim.maxGradNorm)
        XCTAssertEqual(config.lora?.targetModules, ["q_proj", "k_proj", "v_proj"])
        XCTAssertEqual(config.lora?.rank, 8, "a key inside a null section creates it with its defaults")
        XCTAssertEqual(config.trainerConfig(SFTConfig.self).klCoef, 0.1)
        XCTAssertEqual(config.seed, 42)
    }

    func testLaterOverridesWinAndJSONValuesAreAccepted() throws {
        let config = try loadConfig(base, overrides: [
            "batch_size=2", "batch_size=3",
            #"data.train=[{"path": "data/train.jsonl", "weight": 2}, {"path": "data/web.jsonl"}]"#,
            #"lora={"rank": 4, "target_modules": ["c_attn"]}"#,
            #"output_dir="out/with=sign""#,
        ])
        XCTAssertEqual(config.batchSize, 3)
        XCTAssertEqual(config.data.train.map(\.weight), [2, 1])
        XCTAssertTrue(config.data.isMixture)
        XCTAssertEqual(config.lora?.rank, 4)
        XCTAssertEqual(config.lora?.targetModules(for: .gpt2), ["c_attn"])
        XCTAssertEqual(config.outputDir.lastPathComponent, "with=sign")
    }

    func testBadValuesNameTheArgument() {
        XCTAssertEqual(configErrors(base, overrides: [
            "optim.learning_rate=fast", "data.shuffle=yes", "batch_size=2.5", "dpo.beta=1", "optim.schedule=cosin",
            "lora={rank: 4}", "max_steps", "=3", "grad_accum=null",
        ]), [
            #"--set optim.learning_rate=fast: optim.learning_rate: expected a number, got "fast""#,
            #"--set data.shuffle=yes: data.shuffle: expected true or false, got "yes""#,
            #"--set batch_size=2.5: batch_size: expected an integer, got 2.5"#,
            #"--set dpo.beta=1: unknown key "dpo": this is the section of "align dpo"; "align sft" reads "sft""#,
            #"--set optim.schedule=cosin: optim.schedule: "cosin" is not one of constant, linear, cosine; did you mean "cosine"?"#,
            #"--set lora={rank: 4}: lora: invalid JSON value at column 2: expected a key in double quotes, got 'r'"#,
            #"--set max_steps: expected key.path=value (e.g. --set optim.learning_rate=3e-4)"#,
            #"--set =3: expected key.path=value (e.g. --set optim.learning_rate=3e-4)"#,
            #"--set grad_accum=null: grad_accum: expected an integer, got null"#,
        ])
    }

    func testMultiLineValueStaysOnOneErrorLine() {
        XCTAssertEqual(configErrors(base, overrides: ["lora={\n  \"rank\": 0\n}"]), [
            #"--set lora={ "rank": 0 }: lora.rank: must be >= 1, got 0"#,
        ])
    }

    func testOverrideErrorsFollowFileErrors() {
        let text = base.replacingOccurrences(of: "1e-5", with: "\"small\"")
        XCTAssertEqual(configErrors(text, overrides: ["batch_size=0"]), [
            #"run.json:4: optim.learning_rate: expected a number, got the string "small""#,
            #"--set batch_size=0: batch_size: must be >= 1, got 0"#,
        ])
    }

    func testOverridingAValueFixesTheFilesError() throws {
        let text = base.replacingOccurrences(of: "1e-5", with: "\"small\"")
        XCTAssertEqual(try loadConfig(text, overrides: ["optim.learning_rate=1e-6"]).optim.learningRate, 1e-6)
    }
}
