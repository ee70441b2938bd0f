import Foundation

/// Progress of a long evaluation or generation on standard error: a bar redrawn on one line on
/// a terminal, otherwise a plain line each time another `every` of the work is done.
final class EvalProgress {
    let label: String
    let total: Int
    let interactive: Bool
    let every: Double
    let started = Date()
    private var lastReported = 0.0
    private var shown = false

    init(_ label: String, total: Int, every: Double = 0.05) {
        self.label = label
        self.total = max(total, 1)
        self.every = every
        interactive = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil
    }

    func update(_ done: Int, detail: String = "") {
        let frac = Double(done) / Double(total)
        let elapsed = Date().timeIntervalSince(started)
        let eta = frac > 0 ? elapsed * (1 - frac) / frac : 0
        let tail = "\(done)/\(total)\(detail.isEmpty ? "" : "  " + detail)  elapsed \(ProgressRenderer.duration(elapsed))  ETA \(ProgressRenderer.duration(eta))"
        if interactive {
            write("\r\u{1B}[2K\(label) [\(ProgressRenderer.bar(frac))] \(tail)")
            shown = true
            if done >= total { write("\n"); shown = false }
        } else if frac - lastReported >= every || done >= total {
            lastReported = frac
            write("\(label): \(tail)\n")
        }
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
