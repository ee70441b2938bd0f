/// A token inside a `{{ … }}` or `{% … %}` tag.
struct JinjaToken: Equatable {
    enum Kind: Equatable {
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: `+ - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }`.
        case op(String)
        /// The end of the tag.
        case end
    }

    var kind: Kind
    var pos: JinjaPosition
}

/// The template split into text and tags, whitespace control already applied.
enum JinjaSegment {
    case text(String, JinjaPosition)
    /// `{{ … }}`: the tokens between the delimiters, ending with `.end`.
    case output([JinjaToken], JinjaPosition)
    /// `{% … %}`: the tokens between the delimiters, ending with `.end`.
    case statement([JinjaToken], JinjaPosition)
}

/// Splits a template into segments like jinja2's lexer configured as transformers
/// configures it (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`):
///
/// - Newlines (`\r\n`, `\r`, `\n`) become `\n`, and one trailing newline of the source is dropped.
/// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` strip
///   all whitespace after it.
/// - trim_blocks: the first newline after `%}` or `#}` is removed (not after `}}`, and
///   not after `+%}`).
/// - lstrip_blocks: spaces and tabs between the start of a line and `{%` or `{#` are
///   removed (not before `{{`, and not before `{%+`).
/// - `{% raw %}…{% endraw %}` is text.
struct JinjaLexer {
    private let src: [Unicode.Scalar]
    private var i = 0
    /// Where each line starts in `src`, for positions.
    private var lineStarts: [Int] = [0]
    private var segments: [JinjaSegment] = []
    /// jinja2's `line_starting`: the previous match ended with a newline (true at the start).
    private var lineStarting = true

    static func tokenize(_ source: String) throws -> [JinjaSegment] {
        var lexer = JinjaLexer(normalized: normalize(source))
        try lexer.run()
        return lexer.segments
    }

    /// jinja2: `"\n".join(newline_re.split(source)[::2])`, minus one trailing empty line.
    static func normalize(_ source: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(source.unicodeScalars.count)
        var prevCR = false
        for s in source.unicodeScalars {
            if s == "\r" { out.append("\n"); prevCR = true; continue }
            if s == "\n" && prevCR { prevCR = false; continue }
            prevCR = false
            out.append(s)
        }
        if out.last == "\n" { out.removeLast() }
        return out
    }

    private init(normalized: [Unicode.Scalar]) {
        src = normalized
        for (k, s) in src.enumerated() where s == "\n" { lineStarts.append(k + 1) }
    }

    func position(_ offset: Int) -> JinjaPosition {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return JinjaPosition(line: lo + 1, column: offset - lineStarts[lo] + 1)
    }

    private func at(_ k: Int) -> Unicode.Scalar? { k < src.count ? src[k] : nil }

    private func matches(_ s: String, at k: Int) -> Bool {
        var j = k
        for c in s.unicodeScalars {
            guard j < src.count, src[j] == c else { return false }
            j += 1
        }
        return true
    }

    private enum TagKind { case block, variable, comment }

    /// The next tag opener at or after `from`.
    private func nextTag(from: Int) -> (Int, TagKind)? {
        var k = from
        while k + 1 < src.count {
            if src[k] == "{" {
                switch src[k + 1] {
                case "%": return (k, .block)
                case "{": return (k, .variable)
                case "#": return (k, .comment)
                default: break
                }
            }
            k += 1
        }
        return nil
    }

    private mutating func emitText(_ start: Int, _ end: Int) {
        guard start < end else { return }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: src[start ..< end])
        segments.append(.text(String(s), position(start)))
    }

    /// The end of `text` (src[start..<end]) after whitespace control for a tag opener
    /// with `sign` ("-", "+" or nil) of `kind`.
    private func strippedEnd(start: Int, end: Int, sign: Unicode.Scalar?, kind: TagKind) -> Int {
        if sign == "-" {
            var e = end
            while e > start, isPythonSpace(src[e - 1]) { e -= 1 }
            return e
        }
        if sign == "+" || kind == .variable { return end }
        // lstrip_blocks
        var lineStart = end
        while lineStart > start, src[lineStart - 1] != "\n" { lineStart -= 1 }
        guard lineStart > start || lineStarting else { return end }
        for k in lineStart ..< end where src[k] != " " && src[k] != "\t" { return end }
        return lineStart
    }

    /// After a `%}`/`#}` (or `-%}`/`+%}`) closer whose sign is `sign`, at `k` (just past
    /// the closer): where the following text starts.
    private mutating func afterCloser(_ k: Int, sign: Unicode.Scalar?, trims: Bool) -> Int {
        var j = k
        if sign == "-" {
            while j < src.count, isPythonSpace(src[j]) { j += 1 }
        } else if sign == nil && trims && at(j) == "\n" {
            j += 1
        }
        // jinja2: line_starting = the closer's match ends with "\n".
        lineStarting = j > k && src[j - 1] == "\n"
        return j
    }

    private mutating func run() throws {
        var textStart = 0
        while true {
            guard let (tagStart, kind) = nextTag(from: i) else {
                emitText(textStart, src.count)
                return
            }
            var k = tagStart + 2
            var sign: Unicode.Scalar?
            if let c = at(k), c == "-" || c == "+" { sign = c; k += 1 }

            // {% raw %}
            if kind == .block, let rawEnd = rawOpener(at: k) {
                emitText(textStart, strippedEnd(start: textStart, end: tagStart, sign: sign, kind: .block))
                let (bodyEnd, resume) = try rawBody(from: rawEnd.bodyStart, opener: tagStart)
                var bodyStop = bodyEnd.textEnd
                if bodyEnd.sign == "-" {
                    while bodyStop > rawEnd.bodyStart, isPythonSpace(src[bodyStop - 1]) { bodyStop -= 1 }
                }
                emitText(rawEnd.bodyStart, bodyStop)
                i = afterCloser(resume.closerEnd, sign: resume.sign, trims: true)
                textStart = i
                continue
            }

            emitText(textStart, strippedEnd(start: textStart, end: tagStart, sign: sign, kind: kind))
            lineStarting = false
            let tagPos = position(tagStart)
            switch kind {
            case .comment:
                var j = k
                while j + 1 < src.count && !(src[j] == "#" && src[j + 1] == "}") { j += 1 }
                guard j + 1 < src.count else { throw JinjaError.syntax("missing end of comment tag", at: tagPos) }
                let closerSign: Unicode.Scalar? = (j > k && (src[j - 1] == "-" || src[j - 1] == "+")) ? src[j - 1] : nil
                i = afterCloser(j + 2, sign: closerSign, trims: true)
            case .variable, .block:
                let (tokens, closerEnd, closerSign) = try tagTokens(from: k, kind: kind, tagPos: tagPos)
                segments.append(kind == .block ? .statement(tokens, tagPos) : .output(tokens, tagPos))
                i = afterCloser(closerEnd, sign: closerSign, trims: kind == .block)
            }
            textStart = i
        }
    }

    /// If `{%[-+]?` at `k` continues with `\s*raw\s*(-%}|%})`, where the raw body starts.
    private func rawOpener(at k: Int) -> (bodyStart: Int, Void)? {
        var j = k
        while let c = at(j), isPythonSpace(c) { j += 1 }
        guard matches("raw", at: j) else { return nil }
        j += 3
        while let c = at(j), isPythonSpace(c) { j += 1 }
        if matches("-%}", at: j) {
            j += 3
            while let c = at(j), isPythonSpace(c) { j += 1 }
            return (j, ())
        }
        if matches("%}", at: j) { return (j + 2, ()) }
        return nil
    }

    /// Finds `{%[-+]?\s*endraw\s*[-+]?%}` after a raw opener.
    private func rawBody(from start: Int, opener: Int) throws
        -> (bodyEnd: (textEnd: Int, sign: Unicode.Scalar?), resume: (closerEnd: Int, sign: Unicode.Scalar?)) {
        var k = start
        while let (tag, kind) = nextTag(from: k) {
            k = tag + 2
            guard kind == .block else { continue }
            var j = tag + 2
            var sign: Unicode.Scalar?
            if let c = at(j), c == "-" || c == "+" { sign = c; j += 1 }
            while let c = at(j), isPythonSpace(c) { j += 1 }
            guard matches("endraw", at: j) else { continue }
            j += 6
            while let c = at(j), isPythonSpace(c) { j += 1 }
            var closerSign: Unicode.Scalar?
            if let c = at(j), c == "-" || c == "+" { closerSign = c; j += 1 }
            guard matches("%}", at: j) else { continue }
            var textEnd = tag
            if sign != "-" && sign != "+" {
                // lstrip_blocks applies before {% endraw %} as before any block tag.
                var lineStart = textEnd
                while lineStart > start, src[lineStart - 1] != "\n" { lineStart -= 1 }
                if lineStart > start, src[lineStart ..< textEnd].allSatisfy({ $0 == " " || $0 == "\t" }) { textEnd = lineStart }
            }
            return ((textEnd, sign), (j + 2, closerSign))
        }
        throw JinjaError.syntax("missing {% endraw %} for {% raw %}", at: position(opener))
    }

    /// Tokens of a `{{`/`{%` tag starting at `k`, up to its closer.
    private func tagTokens(from start: Int, kind: TagKind, tagPos: JinjaPosition) throws
        -> ([JinjaToken], Int, Unicode.Scalar?) {
        let close: Unicode.Scalar = kind == .block ? "%" : "}"
        var tokens: [JinjaToken] = []
        var depth = 0
        var k = start
        while true {
            guard k < src.count else {
                throw JinjaError.syntax(kind == .block ? "unexpected end of template: missing '%}' for the tag" :
                                            "unexpected end of template: missing '}}' for the expression", at: tagPos)
            }
            let c = src[k]
            if depth == 0 {
                // closers: `-%}` / `+%}` / `%}` (block) or `-}}` / `}}` (variable)
                if (c == "-" || (c == "+" && kind == .block)) && at(k + 1) == close && at(k + 2) == "}" {
                    tokens.append(JinjaToken(kind: .end, pos: position(k)))
                    return (tokens, k + 3, c)
                }
                if c == close && at(k + 1) == "}" {
                    tokens.append(JinjaToken(kind: .end, pos: position(k)))
                    return (tokens, k + 2, nil)
                }
            }
            if isPythonSpace(c) { k += 1; continue }
            let pos = position(k)
            if c.properties.numericType == .decimal && c.isASCII {
                let (tok, next) = try number(at: k, afterDot: tokens.last?.kind == .op("."), pos: pos)
                tokens.append(tok)
                k = next
                continue
            }
            if c == "_" || c.properties.isAlphabetic {
                var j = k + 1
                while let d = at(j), d == "_" || d.properties.isAlphabetic || d.properties.numericType != nil { j += 1 }
                var s = String.UnicodeScalarView()
                s.append(contentsOf: src[k ..< j])
                tokens.append(JinjaToken(kind: .name(String(s)), pos: pos))
                k = j
                continue
            }
            if c == "'" || c == "\"" {
                let (value, next) = try string(at: k, pos: pos)
                tokens.append(JinjaToken(kind: .string(value), pos: pos))
                k = next
                continue
            }
            var op: String?
            for two in ["//", "**", "==", "!=", ">=", "<="] where matches(two, at: k) { op = two; break }
            if op == nil, "+-/*%~[](){}><=.:|,;".unicodeScalars.contains(c) { op = String(c) }
            guard let op else {
                throw JinjaError.syntax("unexpected character \(String(c).debugDescription) in the tag", at: pos)
            }
            switch op {
            case "(", "[", "{": depth += 1
            case ")", "]", "}":
                if depth == 0 { throw JinjaError.syntax("unexpected '\(op)'", at: pos) }
                depth -= 1
            default: break
            }
            tokens.append(JinjaToken(kind: .op(op), pos: pos))
            k += op.unicodeScalars.count
        }
    }

    /// An integer or float literal (digits may be grouped with `_`).
    private func number(at start: Int, afterDot: Bool, pos: JinjaPosition) throws -> (JinjaToken, Int) {
        func digits(_ k: Int) -> Int? {  // end of `(\d+_)*\d+` at k, or nil
            guard let c = at(k), c.isASCII, c.properties.numericType == .decimal else { return nil }
            var j = k
            while true {
                while let d = at(j), d.isASCII, d.properties.numericType == .decimal { j += 1 }
                if at(j) == "_", let d = at(j + 1), d.isASCII, d.properties.numericType == .decimal { j += 1; continue }
                return j
            }
        }
        guard var end = digits(start) else { throw JinjaError.syntax("bad number", at: pos) }
        var isFloat = false
        if !afterDot {
            if at(end) == ".", let f = digits(end + 1) { end = f; isFloat = true }
            if let e = at(end), e == "e" || e == "E" {
                var j = end + 1
                if let s = at(j), s == "+" || s == "-" { j += 1 }
                if let x = digits(j) { end = x; isFloat = true }
            }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: src[start ..< end].filter { $0 != "_" })
        let s = String(text)
        if isFloat {
            guard let d = Double(s) else { throw JinjaError.syntax("bad float literal \(s)", at: pos) }
            return (JinjaToken(kind: .float(d), pos: pos), end)
        }
        guard let n = Int(s) else { throw JinjaError.unsupported("integer literal \(s) does not fit in 64 bits", at: pos) }
        return (JinjaToken(kind: .integer(n), pos: pos), end)
    }

    /// A quoted string with Python's escapes (`\n`, `\t`, `\\`, `\'`, `\xHH`, `\uHHHH`, `\UHHHHHHHH`, octal).
    private func string(at start: Int, pos: JinjaPosition) throws -> (String, Int) {
        let quote = src[start]
        var out = String.UnicodeScalarView()
        var k = start + 1
        func hex(_ n: Int) throws -> Unicode.Scalar {
            guard k + n < src.count else { throw JinjaError.syntax("truncated escape in string literal", at: pos) }
            var v: UInt32 = 0
            for j in 1 ... n {
                guard let d = src[k + j].properties.numericType != nil || "abcdefABCDEF".unicodeScalars.contains(src[k + j])
                    ? UInt32(String(src[k + j]), radix: 16) : nil else {
                    throw JinjaError.syntax("bad \\x/\\u escape in string literal", at: pos)
                }
                v = v * 16 + d
            }
            guard let s = Unicode.Scalar(v) else { throw JinjaError.unsupported("escape \\u\(String(v, radix: 16)) is not a Unicode scalar", at: pos) }
            k += n
            return s
        }
        while true {
            guard k < src.count else { throw JinjaError.syntax("unterminated string literal", at: pos) }
            let c = src[k]
            if c == quote { return (String(out), k + 1) }
            if c != "\\" { out.append(c); k += 1; continue }
            guard k + 1 < src.count else { throw JinjaError.syntax("unterminated string literal", at: pos) }
            k += 1
            let e = src[k]
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "\n": break  // line continuation
            case "x": out.append(try hex(2))
            case "u": out.append(try hex(4))
            case "U": out.append(try hex(8))
            case "0" ... "7":
                var v: UInt32 = 0, n = 0
                while n < 3, k < src.count, ("0" ... "7").contains(src[k]) { v = v * 8 + (src[k].value - 48); k += 1; n += 1 }
                k -= 1
                out.append(Unicode.Scalar(v)!)
            case "N": throw JinjaError.unsupported("\\N{…} escapes in string literals are not supported", at: pos)
            default: out.append("\\"); out.append(e)  // Python keeps unknown escapes
            }
            k += 1
        }
    }
}

/// Python's `str.isspace()` for one scalar (Unicode White_Space plus \x1c–\x1f).
func isPythonSpace(_ s: Unicode.Scalar) -> Bool {
    s.properties.isWhitespace || (s.value >= 0x1C && s.value <= 0x1F)
}
