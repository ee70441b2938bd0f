/// A place in a Jinja template's source: 1-based line and column (in characters),
/// after jinja2's newline normalisation (`\r\n` and `\r` count as one newline).
public struct JinjaPosition: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// Errors of the Jinja engine. Every one is an `AlignDataError` (empty path) whose
/// message starts with "chat template" and names the line and column:
/// - `.malformed`: the template does not parse (jinja2's `TemplateSyntaxError`).
/// - `.unsupported`: a construct jinja2 has but this engine does not (`include`,
///   `extends`, an unknown filter, …), or a limit was hit (output size, loop iterations,
///   recursion depth, integer overflow).
/// - `.invalidArgument`: rendering failed the way jinja2 would fail at render time
///   (`raise_exception(msg)`, an undefined value used, a type error, an unsafe
///   attribute of the immutable sandbox). `raise_exception`'s message is kept verbatim
///   after "raise_exception: ".
enum JinjaError {
    static let subject = "chat template"

    static func syntax(_ message: String, at pos: JinjaPosition) -> AlignDataError {
        AlignDataError(.malformed, path: "", "\(subject) \(pos): \(message)")
    }

    static func unsupported(_ message: String, at pos: JinjaPosition) -> AlignDataError {
        AlignDataError(.unsupported, path: "", "\(subject) \(pos): \(message)")
    }

    static func runtime(_ message: String, at pos: JinjaPosition) -> AlignDataError {
        AlignDataError(.invalidArgument, path: "", "\(subject) \(pos): \(message)")
    }

    static func limit(_ message: String, at pos: JinjaPosition) -> AlignDataError {
        AlignDataError(.unsupported, path: "", "\(subject) \(pos): \(message)")
    }
}

/// A failure raised by a value operation that does not know where in the template
/// it happened; the interpreter adds the position (see `JinjaInterpreter.located`).
struct JinjaValueError: Error {
    enum Kind { case runtime, unsupported }
    var kind: Kind
    var message: String

    static func type(_ message: String) -> JinjaValueError { JinjaValueError(kind: .runtime, message: message) }
    static func unsupported(_ message: String) -> JinjaValueError { JinjaValueError(kind: .unsupported, message: message) }
}
