/// Whether Python's `json.loads` accepts a string (IFEval's `detectable_format:json_format`):
/// CPython's C scanner, strict mode. Whitespace is only space, tab, LF and CR; numbers use
/// ASCII digits, and an integer of more than 4,300 digits is refused (CPython's int
/// conversion limit); `NaN`, `Infinity` and `-Infinity` are accepted; control characters
/// inside strings, a byte-order mark, trailing commas and anything after the value are not;
/// unpaired surrogate escapes are accepted. Nesting deeper than `maximumDepth` counts as not
/// JSON (CPython would raise RecursionError there).
public enum PythonJSON {
    public static let maximumDepth = 900

    public static func accepts(_ text: String) -> Bool {
        let u = Array(text.unicodeScalars)
        if u.first == "\u{FEFF}" { return false }
        var p = Parser(u: u)
        p.skipWhitespace()
        guard p.value(depth: 0) else { return false }
        p.skipWhitespace()
        return p.i == u.count
    }

    private struct Parser {
        let u: [Unicode.Scalar]
        var i = 0

        mutating func skipWhitespace() {
            while i < u.count, u[i] == " " || u[i] == "\t" || u[i] == "\n" || u[i] == "\r" { i += 1 }
        }

        func peek(_ s: String) -> Bool {
            let w = Array(s.unicodeScalars)
            return i + w.count <= u.count && u[i..<(i + w.count)].elementsEqual(w)
        }

        mutating func literal(_ s: String) -> Bool {
            guard peek(s) else { return false }
            i += s.unicodeScalars.count
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard i < u.count, depth < PythonJSON.maximumDepth else { return false }
            switch u[i] {
            case "\"": i += 1; return string()
            case "{": i += 1; return object(depth: depth + 1)
            case "[": i += 1; return array(depth: depth + 1)
            case "n": return literal("null")
            case "t": return literal("true")
            case "f": return literal("false")
            case "N": return literal("NaN")
            case "I": return literal("Infinity")
            case "-" where peek("-Infinity"): return literal("-Infinity")
            default: return number()
            }
        }

        static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
        static func isHex(_ s: Unicode.Scalar) -> Bool {
            isDigit(s) || (s.value >= 0x41 && s.value <= 0x46) || (s.value >= 0x61 && s.value <= 0x66)
        }

        mutating func number() -> Bool {
            var j = i
            if j < u.count, u[j] == "-" { j += 1 }
            guard j < u.count, Self.isDigit(u[j]) else { return false }
            let intStart = j
            if u[j] == "0" {
                j += 1
            } else {
                while j < u.count, Self.isDigit(u[j]) { j += 1 }
            }
            let intDigits = j - intStart
            var isFloat = false
            if j + 1 < u.count, u[j] == ".", Self.isDigit(u[j + 1]) {
                j += 2
                while j < u.count, Self.isDigit(u[j]) { j += 1 }
                isFloat = true
            }
            if j < u.count, u[j] == "e" || u[j] == "E" {
                var k = j + 1
                if k < u.count, u[k] == "+" || u[k] == "-" { k += 1 }
                if k < u.count, Self.isDigit(u[k]) {
                    while k < u.count, Self.isDigit(u[k]) { k += 1 }
                    j = k
                    isFloat = true
                }
            }
            if !isFloat && intDigits > 4300 { return false }
            i = j
            return true
        }

        mutating func string() -> Bool {
            while i < u.count {
                let c = u[i]
                if c == "\"" { i += 1; return true }
                if c.value < 0x20 { return false }
                if c == "\\" {
                    guard i + 1 < u.count else { return false }
                    let e = u[i + 1]
                    switch e {
                    case "\"", "\\", "/", "b", "f", "n", "r", "t":
                        i += 2
                    case "u":
                        guard i + 6 <= u.count, u[(i + 2)..<(i + 6)].allSatisfy(Self.isHex) else { return false }
                        i += 6
                    default:
                        return false
                    }
                    continue
                }
                i += 1
            }
            return false
        }

        mutating func object(depth: Int) -> Bool {
            skipWhitespace()
            if i < u.count, u[i] == "}" { i += 1; return true }
            while true {
                guard i < u.count, u[i] == "\"" else { return false }
                i += 1
                guard string() else { return false }
                skipWhitespace()
                guard i < u.count, u[i] == ":" else { return false }
                i += 1
                skipWhitespace()
                guard value(depth: depth) else { return false }
                skipWhitespace()
                guard i < u.count else { return false }
                if u[i] == "}" { i += 1; return true }
                guard u[i] == "," else { return false }
                i += 1
                skipWhitespace()
            }
        }

        mutating func array(depth: Int) -> Bool {
            skipWhitespace()
            if i < u.count, u[i] == "]" { i += 1; return true }
            while true {
                guard value(depth: depth) else { return false }
                skipWhitespace()
                guard i < u.count else { return false }
                if u[i] == "]" { i += 1; return true }
                guard u[i] == "," else { return false }
                i += 1
                skipWhitespace()
            }
        }
    }
}
