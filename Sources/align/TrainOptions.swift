import AlignTraining
import ArgumentParser
import Foundation

/// Options every `align <trainer>` command shares.
struct TrainOptions: ParsableArguments {
    @Option(help: "The run configuration (JSON). Relative paths inside it are resolved against its directory.")
    var config: String?
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key, e.g. --set optim.learning_rate=3e-4 (repeatable).", valueName: "key.path=value"))
    var overrides: [String] = []
    @Flag(help: "Continue from the newest checkpoint in output_dir (same as --set resume_from=latest).")
    var resume = false
    @Flag(help: "Print every config key with its type, default and meaning (Markdown), and exit.")
    var helpConfig = false

    /// The validated run config; throws one line per problem. (`--config` is checked here, not
    /// in `validate()`: a trainer command's subcommands, such as `align rm score`, parse these
    /// options too without needing a config.)
    func load(trainer: TrainerSectionSchema) throws -> RunConfig {
        guard let config else { throw ValidationError("--config is required (or --help-config for the reference)") }
        var all = overrides
        if resume {
            let aliases = ["resume_from", "resume_from_checkpoint", "resume"]
            if let given = overrides.first(where: { o in aliases.contains { o.hasPrefix($0 + "=") } }) {
                throw ValidationError("--resume (the newest checkpoint) and --set \(given) both say where to resume from; give one of them")
            }
            all.append("resume_from=latest")
        }
        return try RunConfig.load(file: URL(fileURLWithPath: config), trainer: trainer, overrides: all)
    }
}

extension TrainOptions {
    /// What every trainer command does: `--help-config`, load and validate the config, run the
    /// trainer with progress rendering, and report the outcome (exit 130 after an interrupt).
    @discardableResult
    func execute(trainer: TrainerSectionSchema,
                 _ body: (RunConfig, @escaping TrainingCallback) throws -> [String: Any]) throws -> [String: Any] {
        if helpConfig {
            print(RunConfig.referenceMarkdown(trainer: trainer))
            return [:]
        }
        let config = try load(trainer: trainer)
        let reports = ProcessGroup.current.isWriter   // in a data-parallel run rank 0 reports for all
        let progress = ProgressRenderer()
        defer { ExitStatus.exitOnSignals() }  // the run's own handler is gone: back to exit 130 at once
        let summary = try body(config) { if reports { progress.handle($0) } }
        guard reports else {
            if summary["status"] as? String == "interrupted" { throw ExitCode(130) }
            return summary
        }
        progress.finish()
        if summary["status"] as? String == "interrupted" {
            printError("align: interrupted; checkpoint \(summary["checkpoint"] ?? "?"); continue with --resume")
            throw ExitCode(130)
        }
        print("done: \(summary["final_model"] ?? config.outputDir.path)")
        return summary
    }
}
