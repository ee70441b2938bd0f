import AlignData
import Foundation

/// `curves.svg` in a run's output directory: the run's own metrics.jsonl drawn with `LineChart`,
/// a panel per metric (loss first, then the trainer's headline metrics, then the learning
/// rate), each with the training values and, where logged, the `eval/` values of the same name.
public enum TrainingCurves {
    public static let fileName = "curves.svg"

    /// The panels for `keys`: series "train" (key) and "eval" (`eval/` + key) where present;
    /// keys with no value at all are left out.
    public static func panels(_ file: MetricsFile, keys: [String]) -> [LineChart.Panel] {
        keys.compactMap { key in
            var series: [LineChart.Series] = []
            let train = file.series(key), eval = file.series("eval/\(key)")
            if !train.isEmpty { series.append(.init(label: "train", points: train.map { (Double($0.step), $0.value) })) }
            if !eval.isEmpty { series.append(.init(label: "eval", points: eval.map { (Double($0.step), $0.value) })) }
            return series.isEmpty ? nil : LineChart.Panel(title: key, series: series)
        }
    }

    /// Draws the run's curves next to its metrics.jsonl.
    public static func write(outputDirectory: URL, title: String, keys: [String]) throws {
        let file = try MetricsFile(path: outputDirectory.appendingPathComponent("metrics.jsonl").path)
        let panels = panels(file, keys: keys)
        guard !panels.isEmpty else { return }
        try writeFileAtomically(Data(LineChart.svg(panels: panels, title: title).utf8), to: outputDirectory.appendingPathComponent(fileName))
    }
}
