import Foundation

/// The JSONL reader of the commands that take simple `{"prompt", …}` lines (`logprobs`, `synth`,
/// `eval`): every non-empty line is parsed and converted, and every bad line is reported, one
/// line per problem (`file:line: what is wrong`), before anything runs.
public enum JSONLines {
    /// What is wrong with one line (thrown by a conversion).
    public struct Problem: Error {
        public let message: String
        public init(_ message: String) { self.message = message }
    }

    /// Reports at most this many problems (then how many more there are).
    public static let maxReported = 50

    /// The converted non-empty lines of `path`, in order. `convert` gets each line's JSON object
    /// and 1-based line number and throws a `Problem` for a bad one. Throws an `AlignDataError`
    /// listing every problem (invalid UTF-8, a line that is not a JSON object, each `Problem`).
    public static func read<T>(_ path: String, _ convert: ([String: Any], Int) throws -> T) throws -> [T] {
        let text = try FileErrors.readText(path)
        var values: [T] = [], problems: [String] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                problems.append("\(path):\(i + 1): not a JSON object")
                continue
            }
            do {
                values.append(try convert(obj, i + 1))
            } catch let p as Problem {
                problems.append("\(path):\(i + 1): \(p.message)")
            }
        }
        guard problems.isEmpty else {
            var shown = Array(problems.prefix(maxReported))
            if problems.count > maxReported { shown.append("\(path): … and \(problems.count - maxReported) more bad lines") }
            throw AlignDataError(.malformed, path: "", shown.joined(separator: "\n"))
        }
        return values
    }

    /// `read` for conversions that do not need the line number.
    public static func read<T>(_ path: String, _ convert: ([String: Any]) throws -> T) throws -> [T] {
        try read(path) { obj, _ in try convert(obj) }
    }
}
