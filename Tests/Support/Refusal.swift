import Foundation

/// Bad input must be refused before a run writes anything: `refusal` runs `run` with its output
/// directory at `output` and returns what went wrong, for the test to assert on: nil when the
/// run was refused with an error mentioning `expected` and `output` was never created.
public enum Refusal {
    public static func problem(expected: String, output: URL, _ run: () throws -> Any) -> String? {
        var problems: [String] = []
        do {
            _ = try run()
            problems.append("accepted")
        } catch {
            if !"\(error)".contains(expected) { problems.append("\(error) does not mention \(expected)") }
        }
        if FileManager.default.fileExists(atPath: output.path) { problems.append("wrote \(output.path)") }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}
