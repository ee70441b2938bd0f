import ArgumentParser

@main
struct Align: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "align",
        abstract: "Align causal language models on the CPU.",
        subcommands: [BenchCommand.self, DemoCommand.self]
    )
}
