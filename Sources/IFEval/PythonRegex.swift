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

    /// `ignoreCase` is Python's `re.IGNORECASE` on str: a letter matches the characters whose
    /// simple lowercase mapping is its own (İ matches i), or is in one of `sre`'s equivalence
    /// groups with it (i and ı, s and ſ, …); ICU's full case folding (ß = SS) is not used for
    /// literal text.
    public init(_ pattern: String, ignoreCase: Bool = false, multiline: Bool = false) throws {
        var options: NSRegularExpression.Options = [.useUnixLineSeparators]
        if multiline { options.insert(.anchorsMatchLines) }
        do {
            expression = try NSRegularExpression(pattern: Self.translate(pattern, ignoreCase: ignoreCase), options: options)
        } catch {
            throw PatternError(pattern: pattern, reason: "ICU refused it")
        }
    }

    /// The pattern in ICU's syntax with Python's classes (and, with `ignoreCase`, each cased
    /// literal as the class of what Python's `re` lets it match; a bracketed class runs in
    /// ICU's `(?i:…)`).
    static func translate(_ pattern: String, ignoreCase: Bool = false) -> String {
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
                if c == "]" {
                    inClass = false
                    out += ignoreCase ? "])" : "]"
                } else if c == "[" || c == "&" {
                    out += "\\" + String(c)   // literal in Python's classes, set syntax in ICU's
                } else {
                    out.unicodeScalars.append(c)
                }
                continue
            }
            if c == "[" {
                inClass = true
                out += ignoreCase ? "(?i:[" : "["
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
            if c == "(", it.first == "?" {
                // a group's flags or name are not literal text: copy them as they are
                out += "(?"
                it.removeFirst()
                while let n = it.popFirst() {
                    out.unicodeScalars.append(n)
                    if ":)>=!".unicodeScalars.contains(n) { break }
                }
                continue
            }
            if ignoreCase {
                let group = caseClass(c)
                if group.count > 1 {
                    out += "[" + group.map { String(format: "\\x{%X}", $0.value) }.joined() + "]"
                    continue
                }
            }
            out.unicodeScalars.append(c)
        }
        return out
    }

    /// Python `sre`'s lowercase of a code point: Unicode's simple mapping (İ → i, where the full
    /// mapping is i + U+0307).
    static func simpleLower(_ s: Unicode.Scalar) -> Unicode.Scalar {
        if s.value == 0x130 { return "i" }
        let m = s.properties.lowercaseMapping.unicodeScalars
        return m.count == 1 ? m.first! : s
    }

    /// `sre_compile`'s groups of lowercase letters that match each other under IGNORECASE.
    static let equivalences: [[UInt32]] = [
        [0x69, 0x131], [0x73, 0x17F], [0xB5, 0x3BC], [0x345, 0x3B9, 0x1FBE], [0x390, 0x1FD3], [0x3B0, 0x1FE3],
        [0x3B2, 0x3D0], [0x3B5, 0x3F5], [0x3B8, 0x3D1], [0x3BA, 0x3F0], [0x3C0, 0x3D6], [0x3C1, 0x3F1],
        [0x3C2, 0x3C3], [0x3C6, 0x3D5], [0x1E61, 0x1E9B], [0xFB05, 0xFB06],
    ]

    /// For each lowercase code point, the code points whose simple lowercase it is.
    static let lowercaseInverse: [UInt32: [UInt32]] = {
        var map: [UInt32: [UInt32]] = [:]
        for v in UInt32(0)...0x1FFFF {
            guard let s = Unicode.Scalar(v), s.properties.changesWhenLowercased else { continue }
            map[simpleLower(s).value, default: []].append(v)
        }
        return map
    }()

    /// What a literal `c` matches under Python's IGNORECASE.
    static func caseClass(_ c: Unicode.Scalar) -> [Unicode.Scalar] {
        let lo = simpleLower(c).value
        let group = equivalences.first { $0.contains(lo) } ?? [lo]
        var set = Set<UInt32>()
        for l in group {
            set.insert(l)
            set.formUnion(lowercaseInverse[l] ?? [])
        }
        return set.sorted().compactMap(Unicode.Scalar.init)
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
