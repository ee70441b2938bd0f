import AlignTraining
import ArgumentParser
import BoNTrainer
import Foundation

/// `align bon --config run.json`: best-of-N rejection sampling with SFT on the kept samples.
struct BoNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bon",
        abstract: "Best-of-N rounds from a JSON run config: sample N responses per prompt, keep the best by reward, fine-tune on every kept sample so far.",
        discussion: "Writes output_dir/run.json, metrics.jsonl (bon/heldout_reward, bon/sample_reward_mean, bon/kept_reward_mean, bon/kept_examples, nll, …), checkpoints/, final/, curves.svg and summary.json.")

    @OptionGroup var options: TrainOptions

    func run() throws {
        try options.execute(trainer: BoNConfig.schema) { config, callback in try BoNRun.run(config: config, callback: callback) }
    }
}
