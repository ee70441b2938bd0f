import Foundation

/// A JSON value together with where it sits (`model.merges[3]`) and which file
/// it came from, so every complaint names both.
struct LocatedJSON {
    let value: JSONValue
    /// JSON path, e.g. `pre_tokenizer.pretokenizers[1]`; "" for the document root.
    let path: String
    /// The file, as shown in error messages.
    let file: String

    /// Parses a whole file's bytes; malformed JSON is reported with line and column.
    static func parse(_ data: Data, file: String) throws -> LocatedJSON {
        let value: JSONValue = try data.withUnsafeBytes { raw in
            do {
                return try JSONParser.parse(raw)
            } catch let e as JSONParseError {
                let (line, column) = lineAndColumn(raw, offset: e.offset)
                throw AlignDataError(.malformed, path: file, "malformed JSON at line \(line), column \(column): \(e.message)")
            }
        }
        return LocatedJSON(value: value, path: "", file: file)
    }

    /// 1-based line and column (in bytes) of a byte offset.
    static func lineAndColumn(_ bytes: UnsafeRawBufferPointer, offset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for i in 0 ..< min(offset, bytes.count) {
            if bytes[i] == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    private func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// `self[key]`, or nil when absent or JSON null.
    subscript(key: String) -> LocatedJSON? {
        guard let v = value[key] else { return nil }
        if case .null = v { return nil }
        return LocatedJSON(value: v, path: childPath(key), file: file)
    }

    /// `self[key]`, throwing when absent or null.
    func require(_ key: String) throws -> LocatedJSON {
        guard case .object = value else { throw typeError("an object") }
        guard let v = self[key] else {
            throw AlignDataError(.malformed, path: file, "\(childPath(key)) is missing")
        }
        return v
    }

    func typeError(_ expected: String) -> AlignDataError {
        AlignDataError(.malformed, path: file, "\(path.isEmpty ? "the document" : path) is \(value.kindName), expected \(expected)")
    }

    /// `"<path><what> is not supported"`; `what` starts with `.field …` or a space.
    func unsupported(_ what: String) -> AlignDataError {
        AlignDataError(.unsupported, path: file, "\(path)\(what) is not supported")
    }

    func malformed(_ what: String) -> AlignDataError {
        AlignDataError(.malformed, path: file, "\(path.isEmpty ? "" : path + " ")\(what)")
    }

    var string: String {
        get throws {
            guard case .string(let s) = value else { throw typeError("a string") }
            return s
        }
    }

    var bool: Bool {
        get throws {
            guard case .bool(let b) = value else { throw typeError("a boolean") }
            return b
        }
    }

    var int: Int {
        get throws {
            guard case .integer(let i) = value, let v = Int(exactly: i) else { throw typeError("an integer") }
            return v
        }
    }

    var array: [LocatedJSON] {
        get throws {
            guard case .array(let a) = value else { throw typeError("an array") }
            return a.enumerated().map { LocatedJSON(value: $0.element, path: "\(path)[\($0.offset)]", file: file) }
        }
    }

    var members: [(key: String, value: LocatedJSON)] {
        get throws {
            guard case .object(let m) = value else { throw typeError("an object") }
            return m.map { (key: $0.key, value: LocatedJSON(value: $0.value, path: childPath($0.key), file: file)) }
        }
    }

    /// An optional boolean member with a default.
    func bool(_ key: String, default value: Bool) throws -> Bool {
        try self[key]?.bool ?? value
    }

    /// The `type` member, as used by every tokenizer.json component.
    var typeName: String {
        get throws { try require("type").string }
    }
}

/// Serialises a `JSONValue` the way tokenizer.json files look: two-space
/// indentation, arrays of scalars on one line, members in stored order.
enum JSONWriter {
    static func write(_ value: JSONValue) -> String {
        var out = ""
        out.reserveCapacity(1 << 16)
        write(value, indent: 0, into: &out)
        out += "\n"
        return out
    }

    private static func isScalar(_ v: JSONValue) -> Bool {
        switch v {
        case .array, .object: return false
        default: return true
        }
    }

    private static func write(_ value: JSONValue, indent: Int, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .number(let d): out += d.isFinite ? "\(d)" : "null"
        case .string(let s): out += jsonQuoted(s)
        case .array(let elements):
            if elements.isEmpty { out += "[]"; return }
            if elements.allSatisfy(isScalar) {
                out += "["
                for (i, e) in elements.enumerated() {
                    if i > 0 { out += ", " }
                    write(e, indent: indent, into: &out)
                }
                out += "]"
                return
            }
            let pad = String(repeating: " ", count: indent + 2)
            out += "[\n"
            for (i, e) in elements.enumerated() {
                out += pad
                write(e, indent: indent + 2, into: &out)
                out += i + 1 < elements.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            let pad = String(repeating: " ", count: indent + 2)
            out += "{\n"
            for (i, m) in members.enumerated() {
                out += pad
                out += jsonQuoted(m.key)
                out += ": "
                write(m.value, indent: indent + 2, into: &out)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }
}

extension JSONValue {
    /// Convenience for building objects in document order.
    static func obj(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(members.map { (key: $0.key, value: $0.value) })
    }

    static func int(_ v: Int) -> JSONValue { .integer(Int64(v)) }
}

/// Reads a whole file, turning failures into `AlignDataError(.io)` naming it.
func readFileData(_ url: URL) throws -> Data {
    do {
        return try Data(contentsOf: url)
    } catch {
        let shown = displayPath(of: url)
        if !FileManager.default.fileExists(atPath: url.path) {
            throw AlignDataError(.io, path: shown, "file not found")
        }
        throw AlignDataError(.io, path: shown, "cannot read: \(error.localizedDescription)")
    }
}

/// Writes `text` to `url` atomically (temporary file + fsync + rename).
func writeFileAtomically(_ text: String, to url: URL) throws {
    let writer = try AtomicFileWriter(url: url)
    var text = text
    try text.withUTF8 { try writer.append(UnsafeRawBufferPointer($0)) }
    try writer.commit()
}
