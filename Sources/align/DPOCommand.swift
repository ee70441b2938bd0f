import AlignTraining
import ArgumentParser
import DPOTrainer
import Foundation

/// `align dpo --config run.json`: the DPO family (sigmoid, robust, hinge, ipo, dpop, ln_dpo, simpo).
struct DPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Preference optimisation (DPO, cDPO, robust, hinge, IPO, DPOP, length-normalised, SimPO) from a JSON run config.",
        discussion: "Writes output_dir/run.json, reference_logps.json, metrics.jsonl (rewards/chosen, rewards/rejected, rewards/margins, rewards/accuracies, logps/chosen, logps/rejected, …), checkpoints/, final/ and summary.json.")

    @OptionGroup var options: TrainOptions

    func run() throws {
        try options.execute(trainer: DPOConfig.schema) { config, callback in try DPORun.run(config: config, callback: callback) }
    }
}
