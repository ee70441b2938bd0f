import AlignTraining
import ArgumentParser
import Foundation
import HPATrainer

/// `align hpa --config run.json`: hybrid preference alignment (seed 000).
struct HPACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hpa",
        abstract: "Hybrid preference alignment from a JSON run config: PPO on fresh, filtered samples with a shaped reward + a DPO-family loss on offline pairs + a hierarchical KL, in one optimizer step.",
        discussion: "Writes output_dir/run.json, metrics.jsonl (ppo_loss, dpo_loss, kl_loss, token_kl, semantic_kl, lambda_token, lambda_semantic, reward_mean, reward_std, uncertainty_mean, diversity_mean, kept_fraction, rewards/*, reward_window_score, …), samples.jsonl, reference_logps*.json, checkpoints/, final/, curves.svg and summary.json.")

    @OptionGroup var options: TrainOptions

    func run() throws {
        try options.execute(trainer: HPAConfig.schema) { config, callback in try HPARun.run(config: config, callback: callback) }
    }
}
