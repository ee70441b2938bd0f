/// transformers' `tojson` filter: Python's `json.dumps(x, ensure_ascii=False,
/// indent=None, separators=None, sort_keys=False)` with those four settable.
/// With no indent items are separated by `", "` and keys by `": "`; with an indent
/// by `","` plus a newline, and `": "`. Floats print like Python's `repr`
/// (NaN/Infinity as Python writes them). Undefined values, namespaces and functions
/// are not serialisable (an error, as in Python).
struct JinjaJSON {
    var ensureASCII = false
    /// nil: one line; otherwise the string each level of nesting is indented by.
    var indent: String?
    var itemSeparator: String
    var keySeparator: String
    var sortKeys = false

    init(ensureASCII: Bool = false, indent: String? = nil, separators: (String, String)? = nil, sortKeys: Bool = false) {
        self.ensureASCII = ensureASCII
        self.indent = indent
        self.itemSeparator = separators?.0 ?? (indent == nil ? ", " : ",")
        self.keySeparator = separators?.1 ?? ": "
        self.sortKeys = sortKeys
    }

    func encode(_ v: JinjaValue) throws -> String {
        var out = ""
        try write(v, level: 0, into: &out)
        return out
    }

    private func newline(_ level: Int, _ out: inout String) {
        guard let indent else { return }
        out += "\n"
        for _ in 0 ..< level { out += indent }
    }

    private func write(_ v: JinjaValue, level: Int, into out: inout String) throws {
        guard level < 200 else { throw JinjaValueError.unsupported("tojson: value nested deeper than 200 levels") }
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d): out += Self.float(d)
        case .string(let s): out += quote(s)
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += itemSeparator }
                newline(level + 1, &out)
                try write(item, level: level + 1, into: &out)
            }
            newline(level, &out)
            out += "]"
        case .dict(let d):
            if d.isEmpty { out += "{}"; return }
            var pairs = d.map { ($0.key, $0.value) }
            if sortKeys {
                var failure: Error?
                pairs.sort { a, b in
                    do { return try JinjaValue.lessThan(a.0, b.0) } catch { failure = error; return false }
                }
                if let failure { throw failure }
            }
            out += "{"
            for (k, (key, value)) in pairs.enumerated() {
                if k > 0 { out += itemSeparator }
                newline(level + 1, &out)
                out += quote(try keyString(key))
                out += keySeparator
                try write(value, level: level + 1, into: &out)
            }
            newline(level, &out)
            out += "}"
        case .undefined, .object, .function:
            throw JinjaValueError.type("Object of type \(v.pythonTypeName) is not JSON serializable")
        }
    }

    private func keyString(_ key: JinjaValue) throws -> String {
        switch key {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .float(let d): return Self.float(d)
        case .bool(let b): return b ? "true" : "false"
        case .none: return "null"
        default: throw JinjaValueError.type("keys must be str, int, float, bool or None, not \(key.pythonTypeName)")
        }
    }

    static func float(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return pythonFloatRepr(d)
    }

    private func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 || (ensureASCII && u.value > 0x7E) {
                    if u.value > 0xFFFF {
                        let v = u.value - 0x10000
                        out += Self.hex4(0xD800 + (v >> 10)) + Self.hex4(0xDC00 + (v & 0x3FF))
                    } else {
                        out += Self.hex4(u.value)
                    }
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - h.count) + h
    }
}
