import AlignTraining
import Foundation

/// Shows training events: a progress bar with ETA redrawn on one line when standard error is a
/// terminal, plain log lines otherwise (CI logs, pipes).
final class ProgressRenderer {
    let interactive: Bool
    let started = Date()
    private var barShown = false

    init() {
        interactive = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] == nil
    }

    func handle(_ event: TrainingEvent) {
        switch event {
        case .step(let step, let total, let m):
            let core = String(format: "loss %.4f  lr %.2e  grad_norm %.3f  %.0f tok/s",
                              m["loss"] ?? .nan, m["learning_rate"] ?? .nan, m["grad_norm"] ?? .nan, m["tokens_per_second"] ?? 0)
            let extras = m.keys.filter { !["loss", "learning_rate", "grad_norm", "tokens_per_second", "num_tokens", "step", "epoch"].contains($0) }.sorted()
                .map { String(format: "%@ %.4g", $0, m[$0]!) }.joined(separator: "  ")
            if interactive {
                let frac = Double(step) / Double(max(total, 1))
                let elapsed = Date().timeIntervalSince(started)
                let eta = frac > 0 ? elapsed * (1 - frac) / frac : 0
                write("\r\u{1B}[2K[\(Self.bar(frac))] \(step)/\(total)  \(core)  ETA \(Self.duration(eta))")
                barShown = true
            } else {
                line("step \(step)/\(total)  epoch \(String(format: "%.2f", m["epoch"] ?? 0))  \(core)\(extras.isEmpty ? "" : "  " + extras)")
            }
        case .evaluation(let step, let m):
            line("eval at step \(step): " + m.keys.sorted().map { String(format: "%@ %.4f", $0, m[$0]!) }.joined(separator: "  "))
        case .checkpoint(let step, let path):
            line("checkpoint step \(step): \(path)")
        case .resumed(let step, let path):
            line("resumed at step \(step) from \(path)")
        case .message(let text):
            line(text)
        }
    }

    private func line(_ text: String) {
        if barShown { write("\n"); barShown = false }
        write(text + "\n")
    }

    func finish() { if barShown { write("\n"); barShown = false } }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    /// A 24-character bar filled to `fraction`.
    static func bar(_ fraction: Double) -> String {
        let width = 24, filled = max(0, min(width, Int(fraction * Double(width))))
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
