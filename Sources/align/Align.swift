import ArgumentParser
import Foundation

@main
struct Align: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Align causal language models on the CPU.",
        subcommands: [SFTCommand.self, RMCommand.self, DPOCommand.self, PPOCommand.self, BoNCommand.self, EvalCommand.self, GenerateCommand.self, ConvertCommand.self, LogprobsCommand.self, CleanCommand.self, SynthCommand.self, PlotCommand.self, TokenizerCommand.self, BenchCommand.self, DemoCommand.self]
    )

    /// Runs the command line. Every failure a user can cause (an unknown option, a value out of
    /// range, a missing or malformed file) prints one message naming the problem on stderr and
    /// exits with status 2; help and version requests exit 0.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is CleanExit {
                exit(withError: error)
            }
            if let e = error as? ExitCode, e != .failure {
                Foundation.exit(e.rawValue)
            }
            var message = message(for: error)
            if message.isEmpty { message = "\(error)" }
            FileHandle.standardError.write(Data(("align: " + message.trimmingCharacters(in: .whitespacesAndNewlines) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
