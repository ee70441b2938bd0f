import AlignTraining
import ArgumentParser
import Foundation
import PPOTrainer

/// `align ppo --config run.json`: online RL (PPO with GAE, GRPO, RLOO) from rewards.
struct PPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "Online RL from a JSON run config: sample responses to prompts, score them (reward model, rules, program), update with PPO-clip (GAE, GRPO or RLOO advantages).",
        discussion: "Writes output_dir/run.json, metrics.jsonl (objective/scores, objective/kl, kl_coef, policy/clipfrac_avg, loss/policy_avg, …), samples.jsonl, checkpoints/, final/ (the policy), value_head.safetensors or critic/, curves.svg and summary.json.")

    @OptionGroup var options: TrainOptions

    func run() throws {
        try options.execute(trainer: PPOConfig.schema) { config, callback in try PPORun.run(config: config, callback: callback) }
    }
}
