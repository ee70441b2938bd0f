import AlignData
import AlignTensor
import AlignTraining
import ArgumentParser
import Foundation

@main
struct Align: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Align causal language models on the CPU.",
        subcommands: [SFTCommand.self, RMCommand.self, DPOCommand.self, PPOCommand.self, HPACommand.self, BoNCommand.self, OnlineDPOCommand.self, EvalCommand.self, GenerateCommand.self, ConvertCommand.self, LogprobsCommand.self, CleanCommand.self, SynthCommand.self, PlotCommand.self, TokenizerCommand.self, BenchCommand.self, DemoCommand.self]
    )

    /// Runs the command line. Every failure prints one line naming the problem on stderr
    /// (`ExitStatus.describe`) and exits with `ExitStatus.code(for:)`: 2 when the input is
    /// refused, 1 when the run failed after it started (a write, standard output, a diverged
    /// run), 130 after an interrupt; help and version requests exit 0. A command that returns
    /// has its standard output flushed and checked: output that could not be written exits 1.
    ///
    /// Started by an MPI launcher (`mpirun -np N align sft …`), the process joins the launch as
    /// one rank of a data-parallel run; ranks other than 0 print nothing (rank 0 reports for all).
    static func main() {
        MallocTuning.apply()   // before anything allocates much (see MallocTuning)
        ExitStatus.exitOnSignals()
        let ranks = ProcessGroup.startFromEnvironment()
        if let problem = FewRowsGemm.environmentProblem {
            // a kernel asked for by name that this machine cannot run: refused before any work
            printError("align: " + problem)
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
            StandardOutput.finish()
            ProcessGroup.finish()
        } catch {
            if ranks.rank != 0 {
                // the same error reaches every rank of a launch (same config, same data): rank 0 reports it
                Foundation.exit(error is CleanExit ? 0 : (error as? ExitCode)?.rawValue ?? ExitStatus.code(for: error))
            }
            let code = exitCode(for: error)
            if code == .success || error is CleanExit {
                exit(withError: error)
            }
            fflush(stdout)
            if let e = error as? ExitCode, e != .failure {
                Foundation.exit(e.rawValue)
            }
            var message = ExitStatus.describe(error) ?? message(for: error)
            if message.isEmpty { message = "\(error)" }
            printError("align: " + message.trimmingCharacters(in: .whitespacesAndNewlines))
            Foundation.exit(ExitStatus.code(for: error))
        }
    }
}
