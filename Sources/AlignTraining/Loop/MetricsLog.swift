import Foundation

/// Appends one JSON object per line to `metrics.jsonl`; each line is written with a single
/// `write` and flushed, so a crash leaves only whole lines behind. On resume the lines of steps
/// after the checkpoint are dropped first, so the file reads as one uninterrupted run.
public final class MetricsLog {
    public let url: URL
    private let handle: FileHandle

    public init(url: URL, truncateAfterStep: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        if let keep = truncateAfterStep, fm.fileExists(atPath: url.path) {
            let text = try String(contentsOf: url, encoding: .utf8)
            let kept = text.split(separator: "\n").filter { line in
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let step = obj["step"] as? Int else { return false }
                return step <= keep
            }
            let body = kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n"
            try body.write(to: url, atomically: true, encoding: .utf8)
        } else if truncateAfterStep == nil || !fm.fileExists(atPath: url.path) {
            try Data().write(to: url)
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Appends `fields` as one line (keys sorted; non-finite numbers written as null).
    public func append(_ fields: [String: Any]) throws {
        var clean: [String: Any] = [:]
        for (k, v) in fields {
            if let d = v as? Double, !d.isFinite { clean[k] = NSNull() } else { clean[k] = v }
        }
        var data = try JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }
}
