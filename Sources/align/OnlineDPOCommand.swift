import AlignTraining
import ArgumentParser
import Foundation
import OnlineDPOTrainer

/// `align online-dpo --config run.json`: DPO on pairs the reward picks from the policy's own samples.
struct OnlineDPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online-dpo",
        abstract: "Online DPO from a JSON run config: sample responses to prompts, let the reward (model, rules, program) pick chosen and rejected, and train a DPO-family loss on the fresh pairs.",
        discussion: "Writes output_dir/run.json, metrics.jsonl (objective/scores, objective/scores_margin, objective/kl, rewards/margins, rewards/accuracies, logps/chosen, …), samples.jsonl, checkpoints/, final/, curves.svg and summary.json.")

    @OptionGroup var options: TrainOptions

    func run() throws {
        try options.execute(trainer: OnlineDPOConfig.schema) { config, callback in try OnlineDPORun.run(config: config, callback: callback) }
    }
}
