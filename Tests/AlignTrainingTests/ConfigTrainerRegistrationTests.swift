import XCTest
@testable import AlignTraining

/// A trainer registers its own section (fields + cross-field checks) and reads it through a
/// typed view; the shared sections and all the machinery come for free.
final class ConfigTrainerRegistrationTests: XCTestCase {
    struct PPOish: TrainerSectionConfig {
        let epochs: Int
        let klMode: String
        let clip: Double
        let rewardModel: String?

        init(_ s: ConfigSectionValue) {
            epochs = s.int("ppo_epochs")
            klMode = s.string("kl_estimator")
            clip = s.float("cliprange")
            rewardModel = s.optionalString("reward_model")
        }

        static let schema = TrainerSectionSchema(
            name: "ppo",
            doc: "Test trainer.",
            fields: [
                ConfigField("ppo_epochs", .int, default: 4, range: .atLeast(1), doc: "Passes over each rollout batch."),
                ConfigField("kl_estimator", .choice(["k1", "k3"]), default: "k1", doc: "Per-token KL estimator."),
                ConfigField("cliprange", .float, default: 1, range: .openClosed(0, 1), doc: "PPO ε."),
                ConfigField("reward_model", .path(.model), default: nil, doc: "Reward model."),
            ],
            checks: [
                { ctx in
                    if ctx.string("ppo.kl_estimator") == "k3", let epochs = ctx.int("ppo.ppo_epochs"), epochs > 2 {
                        ctx.fail("ppo.ppo_epochs", "k3 needs at most 2 epochs in this test, got \(epochs)")
                    }
                },
            ])
    }

    func testRegisteredSectionDecodesWithDefaultsAndChecks() throws {
        let config = try loadConfig(minimalSFT, trainer: PPOish.schema)
        let ppo = config.trainerConfig(PPOish.self)
        XCTAssertEqual(ppo.epochs, 4)
        XCTAssertEqual(ppo.klMode, "k1")
        XCTAssertEqual(ppo.clip, 1.0)
        XCTAssertEqual(config.trainer["cliprange"], .float(1.0), "integer default of a float field is a float")
        XCTAssertNil(ppo.rewardModel)

        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl"},
          "output_dir": "out/run",
          "ppo": {
            "kl_estimator": "k3",
            "cliprange": 0,
            "reward_modle": "../gpt2-tiny.gguf"
          }
        }
        """
        XCTAssertEqual(configErrors(text, trainer: PPOish.schema), [
            #"run.json:5: ppo.ppo_epochs: k3 needs at most 2 epochs in this test, got 4"#,
            #"run.json:7: ppo.cliprange: must be in (0, 1], got 0"#,
            #"run.json:8: unknown key "ppo.reward_modle"; did you mean "ppo.reward_model"?"#,
        ])
        XCTAssertTrue(RunConfig.referenceMarkdown(trainer: PPOish.schema).contains("| `ppo.kl_estimator` | `k1` \\| `k3` | `\"k1\"` | Per-token KL estimator. |"))
    }
}
