import Foundation

/// A `metrics.jsonl` read back: one JSON object per line, each with a `step`. Values that are
/// not numbers (or `null`, written for non-finite values) are skipped per key.
public struct MetricsFile {
    public let path: String
    /// The rows in file order: step and the numeric fields of that line.
    public let rows: [(step: Int, values: [String: Double])]

    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(description: "\(path): cannot read the metrics file")
        }
        try self.init(path: path, text: String(decoding: data, as: UTF8.self))
    }

    public init(path: String, text: String) throws {
        self.path = path
        var rows: [(Int, [String: Double])] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw ReadError(description: "\(path):\(i + 1): not a JSON object")
            }
            guard let step = (object["step"] as? NSNumber)?.intValue else {
                throw ReadError(description: "\(path):\(i + 1): no integer \"step\"")
            }
            var values: [String: Double] = [:]
            for (key, value) in object where key != "step" {
                // true/false arrive as a boolean NSNumber, which also casts to a number
                if let number = value as? NSNumber, !String(describing: type(of: value)).contains("Boolean") {
                    values[key] = number.doubleValue
                }
            }
            rows.append((step, values))
        }
        self.rows = rows
    }

    /// Every numeric key that occurs in some row, sorted.
    public var keys: [String] { Array(Set(rows.flatMap(\.values.keys))).sorted() }

    /// The key of `keys` closest to a mistyped `key`, if one is close (as for config keys).
    public static func suggestion(for key: String, among keys: [String]) -> String? { nearest(key, among: keys) }

    /// (step, value) of every row that has `key`, in file order.
    public func series(_ key: String) -> [(step: Int, value: Double)] {
        rows.compactMap { row in row.values[key].map { (row.step, $0) } }
    }
}
