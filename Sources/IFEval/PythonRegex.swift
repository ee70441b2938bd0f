import Foundation

/// A Python `re` pattern run by ICU (`NSRegularExpression`) with Python's meaning of the classes
/// that differ between the two engines: `\s` is `str.isspace()` (ICU's lacks U+001C…U+001F),
/// `\w` is `str.isalnum()` or `_` (ICU's takes combining marks), `\b` is the boundary of that
/// `\w`, `.` and `^`/`$` (MULTILINE) see only `\n` as a line end, and `(?P<name>…)` is a named
/// group. Used for the checks' own patterns and for the keywords and markers that IFEval's
/// records put into patterns. `NSRegularExpression` is immutable and documented as safe to
/// use from several threads at once, hence `@unchecked Sendable`.
public struct PythonRegex: @unchecked Sendable {
    public struct PatternError: Error, CustomStringConvertible {
        public var pattern: String
        public var reason: String
        public var description: String { "not a regular expression the checks can run: \(pattern) (\(reason))" }
    }

    let expression: NSRegularExpression

    static let space = #"[\t-\r\x{1C}-\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"#
    static let notSpace = #"[^\t-\r\x{1C}-\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"#
    static let word = #"[\p{L}\p{N}_]"#
    static let notWord = #"[^\p{L}\p{N}_]"#
    static let boundary = #"(?:(?<=[\p{L}\p{N}_])(?![\p{L}\p{N}_])|(?<![\p{L}\p{N}_])(?=[\p{L}\p{N}_]))"#
    static let notBoundary = #"(?:(?<=[\p{L}\p{N}_])(?=[\p{L}\p{N}_])|(?<![\p{L}\p{N}_])(?![\p{L}\p{N}_]))"#

    public init(_ pattern: String, ignoreCase: Bool = false, multiline: Bool = false) throws {
        var options: NSRegularExpression.Options = [.useUnixLineSeparators]
        if ignoreCase { options.insert(.caseInsensitive) }
        if multiline { options.insert(.anchorsMatchLines) }
        do {
            expression = try NSRegularExpression(pattern: Self.translate(pattern), options: options)
        } catch {
            throw PatternError(pattern: pattern, reason: "ICU refused it")
        }
    }

    /// The pattern in ICU's syntax with Python's classes.
    static func translate(_ pattern: String) -> String {
        var out = ""
        var inClass = false
        var it = Array(pattern.unicodeScalars)[...]
        while let c = it.popFirst() {
            if c == "\\", let e = it.popFirst() {
                switch e {
                case "s": out += inClass ? String(space.dropFirst().dropLast()) : space
                case "S": out += notSpace
                case "w": out += inClass ? #"\p{L}\p{N}_"# : word
                case "W": out += notWord
                case "b" where !inClass: out += boundary
                case "B" where !inClass: out += notBoundary
                case "Z": out += #"\z"#
                default: out += "\\" + String(e)
                }
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
                out.unicodeScalars.append(c)
                continue
            }
            if c == "[" {
                inClass = true
                out += "["
                // a leading ^ and a leading ] are part of the class
                if it.first == "^" { out += "^"; it.removeFirst() }
                if it.first == "]" { out += #"\]"#; it.removeFirst() }
                continue
            }
            if c == "(", it.starts(with: "?P<".unicodeScalars) {
                it.removeFirst(3)
                out += "(?<"
                continue
            }
            if c == "(", it.starts(with: "?P=".unicodeScalars) {
                it.removeFirst(3)
                var name = ""
                while let n = it.popFirst(), n != ")" { name.unicodeScalars.append(n) }
                out += #"\k<"# + name + ">"
                continue
            }
            out.unicodeScalars.append(c)
        }
        return out
    }

    private func ns(_ s: String) -> (NSString, NSRange) {
        let n = s as NSString
        return (n, NSRange(location: 0, length: n.length))
    }

    /// `re.search(...) is not None`.
    public func search(_ text: String) -> Bool {
        let (_, r) = ns(text)
        return expression.firstMatch(in: text, options: [], range: r) != nil
    }

    /// `re.findall(...)`, whole matches (Python returns groups when the pattern has some; their
    /// number is the same).
    public func findAll(_ text: String) -> [String] {
        let (n, r) = ns(text)
        return expression.matches(in: text, options: [], range: r).map { n.substring(with: $0.range) }
    }

    /// `len(re.findall(...))`.
    public func count(_ text: String) -> Int {
        let (_, r) = ns(text)
        return expression.numberOfMatches(in: text, options: [], range: r)
    }

    /// `re.split(...)` for a pattern without groups that cannot match the empty string.
    public func split(_ text: String) -> [String] {
        let (n, r) = ns(text)
        var pieces: [String] = []
        var start = 0
        for m in expression.matches(in: text, options: [], range: r) {
            pieces.append(n.substring(with: NSRange(location: start, length: m.range.location - start)))
            start = m.range.location + m.range.length
        }
        pieces.append(n.substring(from: start))
        return pieces
    }
}
