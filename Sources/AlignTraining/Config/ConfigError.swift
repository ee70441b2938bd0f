import Foundation

/// Where a configuration value came from: a line of the config file, or one `--set` argument.
public enum ConfigOrigin: Equatable, Hashable, Sendable {
    /// Line `line` (1-based; 0 = the file as a whole) of the config file, spelled `file` as the caller gave it.
    case file(String, line: Int)
    /// The `index`-th `--set` argument (0-based), `argument` as the user typed it (`key.path=value`).
    case override(index: Int, argument: String)

    /// `run.json:12` or `--set optim.learning_rate=fast`: the start of an error line.
    public var label: String {
        switch self {
        case .file(let file, let line): return "\(file):\(line)"
        case .override(_, let argument):
            // keep the message on one line even for a multi-line JSON value
            return "--set " + argument.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: " ")
        }
    }

    /// Sort key: file lines in order, then `--set` arguments in the order given.
    var order: (Int, Int) {
        switch self {
        case .file(_, let line): return (0, line)
        case .override(let index, _): return (1, index)
        }
    }
}

/// One problem with a run configuration, self-contained on one line:
/// `run.json:12: optim.learning_rate: expected a number, got the string "fast"`.
public struct ConfigIssue: Equatable, Sendable, CustomStringConvertible {
    /// Where the offending key or value was written.
    public let origin: ConfigOrigin
    /// Column (1-based) for JSON syntax errors in a file, else nil.
    public let column: Int?
    /// What is wrong, starting with the key path it is about (when there is one).
    public let message: String

    public init(_ origin: ConfigOrigin, column: Int? = nil, _ message: String) {
        self.origin = origin
        self.column = column
        self.message = message
    }

    /// `file:line: message`, `file:line:column: message`, `--set arg: message`, or
    /// `file: message` for an issue about the whole file (line 0).
    public var description: String {
        if case .file(let file, let line) = origin {
            if line == 0 { return "\(file): \(message)" }
            if let column { return "\(file):\(line):\(column): \(message)" }
        }
        return "\(origin.label): \(message)"
    }
}

/// Everything wrong with a run configuration, found before anything runs.
///
/// `description` is one issue per line (file order, then `--set` order). The CLI prints it and
/// exits with status 2.
public struct ConfigError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    public let issues: [ConfigIssue]

    public init(_ issues: [ConfigIssue]) { self.issues = issues }

    /// A single issue not tied to a line (e.g. an unreadable file): `run.json: message`.
    public init(file: String, _ message: String) {
        self.issues = [ConfigIssue(.file(file, line: 0), message)]
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }

    public var errorDescription: String? { description }
}

/// Collects issues while a configuration is decoded and checked.
final class ConfigIssueCollector {
    private(set) var issues: [ConfigIssue] = []

    func add(_ origin: ConfigOrigin, _ message: String) { issues.append(ConfigIssue(origin, message)) }
    func add(_ issue: ConfigIssue) { issues.append(issue) }

    /// Issues in file-line order, then `--set` order; stable within a line.
    var sorted: [ConfigIssue] {
        issues.enumerated().sorted { a, b in
            let ka = a.element.origin.order, kb = b.element.origin.order
            if ka != kb { return ka < kb }
            return a.offset < b.offset
        }.map(\.element)
    }
}
