import AlignData
import AlignTraining
import ArgumentParser
import Foundation

/// `align plot`: training curves of one or more runs as one SVG, a panel per metric and a line
/// per run, read from their `metrics.jsonl`.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot metrics of one or more runs (their output directories or metrics.jsonl files) into one SVG.",
        discussion: "Example: align plot runs/seed002/sigmoid runs/seed002/dpop --metric rewards/chosen --metric rewards/margins --out curves.svg")

    @Argument(help: "Run output directories or metrics.jsonl files.") var runs: [String]
    @Option(name: .customLong("metric"), help: "A metric key to plot (repeat for more panels; default: loss).") var metrics: [String] = []
    @Option(name: .customLong("label"), help: "Legend label of each run, in order (default: the run directory's name).") var labels: [String] = []
    @Option(help: "Output SVG file.") var out: String
    @Option(help: "Title above the panels.") var title: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory or metrics.jsonl file") }
        guard labels.isEmpty || labels.count == runs.count else {
            throw ValidationError("\(labels.count) --label values for \(runs.count) runs: give one per run or none")
        }
        guard out.lowercased().hasSuffix(".svg") else { throw ValidationError("--out \(out): the file name must end in .svg") }
        try OutputPaths.check(inputs: runs.map { (option: "run", path: Optional(Self.metricsPath($0))) }, outputs: [.file("--out", out)])
    }

    /// The metrics file of a run argument: the file itself, or `metrics.jsonl` inside a directory.
    static func metricsPath(_ run: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: run, isDirectory: &isDirectory), isDirectory.boolValue {
            return (run as NSString).appendingPathComponent("metrics.jsonl")
        }
        return run
    }

    static func defaultLabel(_ run: String) -> String {
        let url = URL(fileURLWithPath: run).standardizedFileURL
        return url.lastPathComponent == "metrics.jsonl" ? url.deletingLastPathComponent().lastPathComponent : url.lastPathComponent
    }

    func run() throws {
        let files = try runs.map { run -> MetricsFile in
            let path = Self.metricsPath(run)
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError(path == run ? "\(run): no such run directory or metrics file" : "\(path): no such file (is \(run) a run's output directory?)")
            }
            do { return try MetricsFile(path: path) } catch let e as MetricsFile.ReadError { throw ValidationError(e.description) }
        }
        let names = labels.isEmpty ? runs.map(Self.defaultLabel) : labels
        let keys = metrics.isEmpty ? ["loss"] : metrics
        for key in keys where !files.contains(where: { !$0.series(key).isEmpty }) {
            let known = Set(files.flatMap(\.keys)).sorted()
            let hint = MetricsFile.suggestion(for: key, among: known).map { "did you mean \"\($0)\"? " } ?? ""
            throw ValidationError("no run has metric \"\(key)\"; \(hint)the runs have: \(known.joined(separator: ", "))")
        }
        let panels = keys.map { key in
            LineChart.Panel(title: key, series: zip(names, files).map { name, file in
                LineChart.Series(label: name, points: file.series(key).map { (Double($0.step), $0.value) })
            })
        }
        let svg = LineChart.svg(panels: panels, title: title ?? keys.joined(separator: ", "))
        try writeFileAtomically(Data(svg.utf8), to: URL(fileURLWithPath: out))
        print("wrote \(out): \(keys.count) panel\(keys.count == 1 ? "" : "s"), \(files.count) run\(files.count == 1 ? "" : "s")")
    }
}
