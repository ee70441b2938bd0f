import XCTest
@testable import AlignTraining

/// `output_dir/run.json` holds the resolved configuration (all defaults, absolute paths,
/// sorted keys); loading it again gives an equal configuration and the same bytes.
final class ConfigRoundTripTests: XCTestCase {
    func roundTrip(_ fixture: String, trainer: TrainerSectionSchema, overrides: [String] = []) throws {
        let out = try ConfigFixtures.temporaryDirectory(self).appendingPathComponent("run-out")
        let file = ConfigFixtures.directory.appendingPathComponent(fixture)
        let config = try RunConfig.load(file: file, trainer: trainer, overrides: overrides + ["output_dir=\(out.path)"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "loading creates nothing")
        let written = try config.writeResolved()
        XCTAssertEqual(written, out.appendingPathComponent("run.json"))
        let again = try RunConfig.load(file: written, trainer: trainer)
        XCTAssertEqual(again, config, fixture)
        XCTAssertEqual(again.resolvedJSON(), config.resolvedJSON(), fixture)
        XCTAssertEqual(try Data(contentsOf: written), config.resolvedJSON())
    }

    func testFixturesRoundTrip() throws {
        try roundTrip("sft.json", trainer: SFTConfig.schema)
        try roundTrip("sft.json", trainer: SFTConfig.schema, overrides: ["lora.target_modules=q_proj,k_proj", "resume_from=latest"])
        try roundTrip("pretrain-mixture.json", trainer: SFTConfig.schema)
        try roundTrip("dpo.json", trainer: DPOConfig.schema)
    }

    func testResolvedJSONIsSortedPrettyAndComplete() throws {
        let config = try loadConfig(minimalSFT, overrides: ["output_dir=/tmp/align-run"])
        let text = String(decoding: config.resolvedJSON(), as: UTF8.self)
        let model = ConfigFixtures.path("../llama-tiny.gguf"), train = ConfigFixtures.path("data/train.jsonl")
        XCTAssertEqual(text, """
        {
          "batch_size": 8,
          "data": {
            "chat_template": "auto",
            "completion_only_loss": null,
            "eval": null,
            "eval_fraction": null,
            "format": "auto",
            "max_seq_len": 512,
            "shuffle": true,
            "skip_invalid": false,
            "stride": null,
            "train": "\(train)",
            "truncation_side": "left"
          },
          "early_stopping": null,
          "epochs": 1.0,
          "eval_every": null,
          "grad_accum": 1,
          "keep_checkpoints": 2,
          "log_every": 10,
          "lora": null,
          "max_steps": null,
          "model": {
            "init": null,
            "path": "\(model)",
            "reference": null
          },
          "optim": {
            "beta1": 0.9,
            "beta2": 0.999,
            "eps": 1e-08,
            "learning_rate": 2e-05,
            "max_grad_norm": 1.0,
            "schedule": "linear",
            "warmup_ratio": 0.0,
            "warmup_steps": 0,
            "weight_decay": 0.0
          },
          "output_dir": "/tmp/align-run",
          "recovery": null,
          "resume_from": null,
          "save_every": null,
          "seed": 0,
          "sft": {
            "kl_coef": 0.0
          }
        }

        """)
    }

    func testMixtureAndSchedulesAreWrittenCompactly() throws {
        let config = try RunConfig.load(file: ConfigFixtures.directory.appendingPathComponent("pretrain-mixture.json"),
                                        trainer: SFTConfig.schema)
        let text = String(decoding: config.resolvedJSON(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""weight_schedule": [[0.0, 0.0], [0.7, 0.0], [1.0, 0.5]]"#), text)
        XCTAssertTrue(text.contains("\"train\": [\n      {\n"), text)
    }
}
