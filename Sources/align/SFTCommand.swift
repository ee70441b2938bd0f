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
        if options.helpConfig {
            print(RunConfig.referenceMarkdown(trainer: SFTConfig.schema))
            return
        }
        let config = try options.load(trainer: SFTConfig.schema)
        let progress = ProgressRenderer()
        let summary = try SFTRun.run(config: config) { progress.handle($0) }
        progress.finish()
        if summary["status"] as? String == "interrupted" {
            printError("align: interrupted; checkpoint \(summary["checkpoint"] ?? "?"); continue with --resume")
            throw ExitCode(130)
        }
        print("done: \(summary["final_model"] ?? config.outputDir.path)")
    }
}
