/// A parsed JSON value (internal; used for safetensors headers).
///
/// Objects keep their members in document order. Integers that fit in
/// `Int64` and are written without fraction or exponent are `.integer`;
/// every other number is `.number`.
enum JSONValue {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// Member lookup for objects (nil for other kinds or a missing key).
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    /// A short name of the value's kind, for error messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Why a JSON document failed to parse, and at which byte.
struct JSONParseError: Error {
    var message: String
    var offset: Int
}

/// A strict RFC 8259 JSON parser over UTF-8 bytes: rejects trailing garbage,
/// control characters in strings, invalid UTF-8, unpaired surrogates,
/// duplicate object keys, and nesting deeper than `maximumDepth`.
struct JSONParser {
    static let maximumDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Parses one complete JSON document (surrounding whitespace allowed).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else {
            throw parser.error("unexpected data after the JSON value")
        }
        return value
    }

    private enum ASCII {
        static let quote = UInt8(ascii: "\"")
        static let backslash = UInt8(ascii: "\\")
        static let slash = UInt8(ascii: "/")
        static let openBrace = UInt8(ascii: "{")
        static let closeBrace = UInt8(ascii: "}")
        static let openBracket = UInt8(ascii: "[")
        static let closeBracket = UInt8(ascii: "]")
        static let comma = UInt8(ascii: ",")
        static let colon = UInt8(ascii: ":")
        static let minus = UInt8(ascii: "-")
        static let plus = UInt8(ascii: "+")
        static let dot = UInt8(ascii: ".")
        static let zero = UInt8(ascii: "0")
        static let nine = UInt8(ascii: "9")
    }

    private func error(_ message: String) -> JSONParseError {
        JSONParseError(message: message, offset: index)
    }

    private var atEnd: Bool { index >= bytes.count }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws -> JSONValue {
        guard !atEnd else { throw error("unexpected end of JSON") }
        switch bytes[index] {
        case ASCII.openBrace: return try parseObject()
        case ASCII.openBracket: return try parseArray()
        case ASCII.quote: return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case ASCII.minus, ASCII.zero ... ASCII.nine: return try parseNumber()
        default: throw error("unexpected byte 0x\(String(bytes[index], radix: 16)) where a value should start")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw error("unexpected end of JSON") }
        let matches = literal.withUTF8Buffer { lit in
            (0 ..< count).allSatisfy { bytes[index + $0] == lit[$0] }
        }
        guard matches else { throw error("invalid literal") }
        index += count
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= JSONParser.maximumDepth else {
            throw error("JSON nested deeper than \(JSONParser.maximumDepth) levels")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if !atEnd, bytes[index] == ASCII.closeBrace {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard !atEnd, bytes[index] == ASCII.quote else { throw error("expected a string object key") }
            let key = try parseString()
            guard seen.insert(key).inserted else { throw error("duplicate object key \"\(key)\"") }
            skipWhitespace()
            guard !atEnd, bytes[index] == ASCII.colon else { throw error("expected ':' after object key") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key: key, value: value))
            skipWhitespace()
            guard !atEnd else { throw error("unexpected end of JSON inside an object") }
            if bytes[index] == ASCII.comma { index += 1; continue }
            if bytes[index] == ASCII.closeBrace { index += 1; return .object(members) }
            throw error("expected ',' or '}' in object")
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if !atEnd, bytes[index] == ASCII.closeBracket {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard !atEnd else { throw error("unexpected end of JSON inside an array") }
            if bytes[index] == ASCII.comma { index += 1; continue }
            if bytes[index] == ASCII.closeBracket { index += 1; return .array(elements) }
            throw error("expected ',' or ']' in array")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0 ..< 4 {
            let c = bytes[index]
            let digit: UInt32
            switch c {
            case ASCII.zero ... ASCII.nine: digit = UInt32(c - ASCII.zero)
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func parseString() throws -> String {
        index += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard !atEnd else { throw error("unterminated string") }
            let c = bytes[index]
            index += 1
            switch c {
            case ASCII.quote:
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw error("string is not valid UTF-8")
                }
                return s
            case ASCII.backslash:
                guard !atEnd else { throw error("unterminated escape") }
                let e = bytes[index]
                index += 1
                switch e {
                case ASCII.quote, ASCII.backslash, ASCII.slash: out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800 ... 0xDBFF).contains(code) {
                        guard bytes.count - index >= 2, bytes[index] == ASCII.backslash,
                              bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired UTF-16 surrogate in \\u escape")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00 ... 0xDFFF).contains(low) else {
                            throw error("unpaired UTF-16 surrogate in \\u escape")
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00 ... 0xDFFF).contains(code) {
                        throw error("unpaired UTF-16 surrogate in \\u escape")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    UTF8.encode(scalar) { out.append($0) }
                default:
                    throw error("invalid escape sequence")
                }
            case 0x00 ..< 0x20:
                throw error("unescaped control character in string")
            default:
                out.append(c)
            }
        }
    }

    private mutating func skipDigits() -> Int {
        let start = index
        while !atEnd, (ASCII.zero ... ASCII.nine).contains(bytes[index]) { index += 1 }
        return index - start
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = index
        if bytes[index] == ASCII.minus { index += 1 }
        guard !atEnd else { throw error("truncated number") }
        if bytes[index] == ASCII.zero {
            index += 1
        } else if skipDigits() == 0 {
            throw error("invalid number")
        }
        var isInteger = true
        if !atEnd, bytes[index] == ASCII.dot {
            isInteger = false
            index += 1
            guard skipDigits() > 0 else { throw error("invalid number: no digits after '.'") }
        }
        if !atEnd, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if !atEnd, bytes[index] == ASCII.plus || bytes[index] == ASCII.minus { index += 1 }
            guard skipDigits() > 0 else { throw error("invalid number: no digits in exponent") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start ..< index]), as: UTF8.self)
        if isInteger, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text) else { throw error("invalid number") }
        return .number(value)
    }
}

/// `s` as a JSON string literal, escaped the way serde_json (and therefore the
/// reference safetensors implementation) does: `"` and `\` backslash-escaped,
/// control characters as `\n`-style or `\u00xx` escapes, everything else raw UTF-8.
func jsonQuoted(_ s: String) -> String {
    let hex: [Character] = Array("0123456789abcdef")
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar.value {
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0x08: out += "\\b"
        case 0x0C: out += "\\f"
        case 0x00 ..< 0x20:
            out += "\\u00"
            out.append(hex[Int(scalar.value >> 4)])
            out.append(hex[Int(scalar.value & 0xF)])
        default:
            out.unicodeScalars.append(scalar)
        }
    }
    out += "\""
    return out
}
