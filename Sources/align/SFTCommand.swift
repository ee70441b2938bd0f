import AlignTraining
import ArgumentParser
import Foundation
import SFTTrainer

/// `align sft --config run.json`: supervised fine-tuning (or pre-training on raw text).
struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning (and raw-text training) from a JSON run config.",
        discussion: "Writes output_dir/run.json, metrics.jsonl, checkpoints/step-N/, final/ (Hugging Face layout) and summary.json.")

    @OptionGroup var options: TrainOptions

    func run() throws {
        try options.execute(trainer: SFTConfig.schema) { config, callback in try SFTRun.run(config: config, callback: callback) }
    }
}
