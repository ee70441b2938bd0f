import XCTest
@testable import AlignTraining

/// Settings that used to be found only after work had started (after the step-0 evaluation, the
/// DPO reference pass, or a gigabyte allocation) are config errors with a line, before anything.
final class ConfigEarlyChecksTests: XCTestCase {
    func sft(_ extra: String) -> String {
        """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": "data/train.jsonl", "eval": "data/eval.jsonl"},
          "eval_every": 5,
          "output_dir": "out/run"\(extra)
        }
        """
    }

    func testSettingsThatCanBeCheckedBeforeLoadingTheModelAre() {
        // an early-stopping metric the trainer does not write, for each trainer
        XCTAssertEqual(configErrors(sft(#", "early_stopping": {"metric": "eval/accuracy"}"#)), [
            #"run.json:5: early_stopping.metric: "eval/accuracy" is not an evaluation metric of this run; it writes: eval/loss, eval/perplexity"#,
        ])
        let prefs = sft(#", "early_stopping": {"metric": "eval/rewards/acuracies"}"#).replacingOccurrences(of: "data/train.jsonl", with: "data/prefs.jsonl")
            .replacingOccurrences(of: "data/eval.jsonl", with: "data/prefs.jsonl")
        let dpo = configErrors(prefs, trainer: DPOConfig.schema)
        XCTAssertEqual(dpo.count, 1)
        XCTAssertTrue(dpo.first?.hasPrefix(#"run.json:5: early_stopping.metric: "eval/rewards/acuracies" is not an evaluation metric of this run; did you mean "eval/rewards/accuracies"?"#) == true, "\(dpo)")
        XCTAssertNoThrow(try loadConfig(prefs, trainer: DPOConfig.schema, overrides: ["early_stopping.metric=eval/rewards/margins"]))
        XCTAssertNoThrow(try loadConfig(prefs, trainer: DPOConfig.schema, overrides: ["early_stopping.metric=eval/nll_loss", "dpo.sft_weight=1"]))
        XCTAssertTrue(configErrors(prefs, trainer: DPOConfig.schema, overrides: ["early_stopping.metric=eval/nll_loss"]).first?.contains("eval/nll_loss") == true)
        XCTAssertNoThrow(try loadConfig(prefs, trainer: RMConfig.schema, overrides: ["early_stopping.metric=eval/accuracy"]))
        XCTAssertNoThrow(try loadConfig(prefs, trainer: RMConfig.schema, overrides: ["early_stopping.metric=eval/reward_std", "rm.num_heads=3"]))
        XCTAssertEqual(configErrors(prefs, trainer: RMConfig.schema, overrides: ["early_stopping.metric=eval/reward_std"]).count, 1)

        // a mixture with nothing to sample at some point of training: the file, line and key
        let mixture = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {"train": [
            {"path": "data/web.jsonl", "weight_schedule": [[0, 1], [0.5, 0]]},
            {"path": "data/train.jsonl", "weight": 0}
          ]},
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(mixture), [
            "run.json:3: data.train: the mixture weights are all 0 at progress 0.5, so there is nothing to sample; give some dataset a weight > 0 there",
        ])
        XCTAssertNoThrow(try loadConfig(mixture.replacingOccurrences(of: #""weight": 0}"#, with: #""weight": 0.1}"#)))

        // grad_accum has an upper bound
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["grad_accum=1000000"]).count, 1)
        XCTAssertTrue(configErrors(minimalSFT, overrides: ["grad_accum=1000000"]).first?.contains("grad_accum") == true)
    }
}
