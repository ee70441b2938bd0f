import Foundation

/// A JSON value as written in a config file (or a `--set` argument), with where it was written.
///
/// Foundation's `JSONSerialization` forgets positions; this keeps the origin (file line or
/// `--set` argument) of every value and every object key, so errors can name the line.
/// Object members keep document order and duplicates (the decoder reports duplicates).
struct ConfigJSON {
    struct Member {
        var key: String
        /// Where the key was written (the line reported for unknown or duplicate keys).
        var keyOrigin: ConfigOrigin
        var value: ConfigJSON
    }

    enum Kind {
        case null
        case bool(Bool)
        /// The number and its literal text (`8`, `8.0`, `2e-5`).
        case number(Double, text: String)
        case string(String)
        case array([ConfigJSON])
        case object([Member])
    }

    var kind: Kind
    /// Where the value starts.
    var origin: ConfigOrigin

    init(_ kind: Kind, _ origin: ConfigOrigin) {
        self.kind = kind
        self.origin = origin
    }

    /// How a value is named in "expected …, got …" messages: `the string "fast"`, `8.5`,
    /// `true`, `null`, `a list`, `an object`.
    var gotDescription: String {
        switch kind {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(_, let text): return text
        case .string(let s): return "the string \(ConfigJSONWriter.quote(s))"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

/// A JSON syntax error at a line and column (both 1-based; the column counts characters).
struct ConfigJSONSyntaxError: Error {
    var message: String
    var line: Int
    var column: Int
}

/// Strict JSON (RFC 8259) reader that records the line of every value and key.
///
/// Messages name common slips: trailing commas, comments, single quotes, Python's
/// `True`/`False`/`None`, a missing comma between members.
struct ConfigJSONReader {
    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
    /// Builds the origin of a value that starts on a given line.
    private let origin: (Int) -> ConfigOrigin

    /// Parses one complete JSON document. `origin` maps a 1-based line to the origin recorded on
    /// values (a file line, or the `--set` argument for every line).
    static func parse(_ text: String, origin: @escaping (Int) -> ConfigOrigin) throws -> ConfigJSON {
        var reader = ConfigJSONReader(bytes: Array(text.utf8), origin: origin)
        return try reader.document()
    }

    private init(bytes: [UInt8], origin: @escaping (Int) -> ConfigOrigin) {
        self.bytes = bytes
        self.origin = origin
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3; lineStart = 3 }  // UTF-8 byte order mark
    }

    // MARK: positions and errors

    private func column(at offset: Int) -> Int {
        var col = 1
        var i = lineStart
        while i < offset && i < bytes.count {
            if bytes[i] & 0xC0 != 0x80 { col += 1 }
            i += 1
        }
        return col
    }

    private func error(_ message: String, at offset: Int? = nil) -> ConfigJSONSyntaxError {
        ConfigJSONSyntaxError(message: message, line: line, column: column(at: offset ?? pos))
    }

    /// The character at `pos` for messages: `'x'`, or "the end of the file".
    private var found: String {
        guard pos < bytes.count else { return "the end of the text" }
        var end = pos + 1
        while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
        let ch = String(decoding: bytes[pos..<end], as: UTF8.self)
        switch ch {
        case "\n": return "a line break"
        case "\t": return "a tab"
        default: return "'\(ch)'"
        }
    }

    private mutating func skipWhitespace() throws {
        while pos < bytes.count {
            switch bytes[pos] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                pos += 1
            case UInt8(ascii: "\n"):
                pos += 1
                line += 1
                lineStart = pos
            case UInt8(ascii: "/") where pos + 1 < bytes.count && (bytes[pos + 1] == UInt8(ascii: "/") || bytes[pos + 1] == UInt8(ascii: "*")):
                throw error("comments are not allowed in JSON")
            case UInt8(ascii: "#"):
                throw error("comments are not allowed in JSON")
            default:
                return
            }
        }
    }

    // MARK: grammar

    private mutating func document() throws -> ConfigJSON {
        try skipWhitespace()
        guard pos < bytes.count else { throw error("the text is empty; expected a JSON object") }
        let value = try self.value(after: nil)
        try skipWhitespace()
        guard pos >= bytes.count else {
            throw error("unexpected \(found) after the end of the JSON value (a missing '[' or '{', or text after the closing brace?)")
        }
        return value
    }

    /// `after` names what precedes the value, for messages (`"lr"` for a member value).
    private mutating func value(after key: String?) throws -> ConfigJSON {
        let here = origin(line)
        guard pos < bytes.count else {
            throw error(key.map { "unexpected end of the text; expected the value of \"\($0)\"" } ?? "unexpected end of the text; expected a value")
        }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return ConfigJSON(.string(try string()), here)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case UInt8(ascii: "'"): throw error("strings must be in double quotes (\")")
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
            let start = pos
            while pos < bytes.count, isWordByte(bytes[pos]) { pos += 1 }
            let word = String(decoding: bytes[start..<pos], as: UTF8.self)
            switch word {
            case "true": return ConfigJSON(.bool(true), here)
            case "false": return ConfigJSON(.bool(false), here)
            case "null": return ConfigJSON(.null, here)
            case "True", "TRUE": throw error("\(word) is not JSON; write true", at: start)
            case "False", "FALSE": throw error("\(word) is not JSON; write false", at: start)
            case "None", "NULL", "Null", "nil": throw error("\(word) is not JSON; write null", at: start)
            case "NaN", "Infinity", "inf", "nan": throw error("\(word) is not a JSON number", at: start)
            default: throw error("unexpected word \(word); strings must be in double quotes", at: start)
            }
        default:
            throw error(key.map { "expected the value of \"\($0)\", got \(found)" } ?? "expected a value, got \(found)")
        }
    }

    private func isWordByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    private mutating func enter() throws {
        depth += 1
        if depth > 256 { throw error("nesting deeper than 256 levels") }
    }

    private mutating func object() throws -> ConfigJSON {
        let here = origin(line)
        try enter()
        defer { depth -= 1 }
        pos += 1  // {
        var members: [ConfigJSON.Member] = []
        try skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return ConfigJSON(.object([]), here)
        }
        while true {
            guard pos < bytes.count else { throw error("unexpected end of the text inside an object; expected a key or '}'") }
            guard bytes[pos] == UInt8(ascii: "\"") else {
                if bytes[pos] == UInt8(ascii: "'") { throw error("keys must be in double quotes (\")") }
                throw error("expected a key in double quotes, got \(found)")
            }
            let keyOrigin = origin(line)
            let key = try string()
            try skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
                throw error("expected ':' after the key \"\(key)\", got \(found)")
            }
            pos += 1
            try skipWhitespace()
            let value = try self.value(after: key)
            members.append(ConfigJSON.Member(key: key, keyOrigin: keyOrigin, value: value))
            try skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of the text; expected ',' or '}' after the value of \"\(key)\"") }
            if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return ConfigJSON(.object(members), here)
            }
            guard bytes[pos] == UInt8(ascii: ",") else {
                let hint = bytes[pos] == UInt8(ascii: "\"") ? " (missing comma?)" : ""
                throw error("expected ',' or '}' after the value of \"\(key)\", got \(found)\(hint)")
            }
            let (commaLine, commaStart, comma) = (line, lineStart, pos)
            pos += 1
            try skipWhitespace()
            if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
                line = commaLine
                lineStart = commaStart
                throw error("trailing comma before '}' (JSON does not allow one after the last member)", at: comma)
            }
        }
    }

    private mutating func array() throws -> ConfigJSON {
        let here = origin(line)
        try enter()
        defer { depth -= 1 }
        pos += 1  // [
        var items: [ConfigJSON] = []
        try skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return ConfigJSON(.array([]), here)
        }
        while true {
            items.append(try value(after: nil))
            try skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of the text inside a list; expected ',' or ']'") }
            if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return ConfigJSON(.array(items), here)
            }
            guard bytes[pos] == UInt8(ascii: ",") else { throw error("expected ',' or ']' in a list, got \(found)") }
            let (commaLine, commaStart, comma) = (line, lineStart, pos)
            pos += 1
            try skipWhitespace()
            if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
                line = commaLine
                lineStart = commaStart
                throw error("trailing comma before ']' (JSON does not allow one after the last item)", at: comma)
            }
        }
    }

    private mutating func number() throws -> ConfigJSON {
        let here = origin(line)
        let start = pos
        func digits() -> Int {
            let s = pos
            while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
            return pos - s
        }
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        let intStart = pos
        let intDigits = digits()
        guard intDigits > 0 else { throw error("invalid number: expected a digit after '-'", at: start) }
        if intDigits > 1 && bytes[intStart] == UInt8(ascii: "0") { throw error("invalid number: leading zeros are not allowed", at: start) }
        if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw error("invalid number: expected a digit after '.'", at: start) }
        }
        if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard digits() > 0 else { throw error("invalid number: expected a digit in the exponent", at: start) }
        }
        if pos < bytes.count, isWordByte(bytes[pos]) || bytes[pos] == UInt8(ascii: ".") {
            throw error("invalid number: unexpected \(found)", at: start)
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw error("number \(text) is out of range", at: start) }
        return ConfigJSON(.number(value, text: text), here)
    }

    private mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("incomplete \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape: \(found) is not a hex digit")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    private mutating func string() throws -> String {
        let start = pos
        pos += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: start) }
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\n"):
                throw error("unterminated string (a string cannot span lines; write \\n for a line break)", at: start)
            case UInt8(ascii: "\\"):
                pos += 1
                guard pos < bytes.count else { throw error("unterminated string", at: start) }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw error("invalid \\u escape: unpaired surrogate")
                        }
                        pos += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("invalid \\u escape: unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw error("invalid \\u escape: unpaired surrogate")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
                default:
                    pos -= 1
                    let escaped = found.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
                    throw error("invalid escape \\\(escaped) in a string (a Windows path? write \\\\ or /)", at: pos - 1)
                }
            default:
                if b < 0x20 { throw error("control character in a string (write it escaped, e.g. \\t)") }
                out.append(b)
                pos += 1
            }
        }
    }
}
