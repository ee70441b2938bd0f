import Foundation

/// A resolved configuration value: what a field holds after decoding (defaults filled in,
/// file paths made absolute).
public indirect enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([ConfigValue])
    /// A section: every key of its schema is present.
    case section([String: ConfigValue])

    /// The value as compact JSON (`"text"`, `3`, `2e-05`, `["a", "b"]`), for messages and docs.
    public var description: String {
        var out = ""
        ConfigJSONWriter.write(self, into: &out, indent: nil)
        return out
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
}

extension ConfigValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByStringLiteral, ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// A decoded section with typed accessors, e.g. `section.float("kl_coef")`.
///
/// Values are guaranteed by the schema they were decoded with, so asking for a key the schema
/// does not declare, or with the wrong type, is a programming error and traps with the key path.
public struct ConfigSectionValue: Equatable, Sendable {
    /// Key path of the section (`"optim"`, `"data.train[1]"`; `""` for the top level).
    public let path: String
    /// Every key of the section's schema and its resolved value.
    public let values: [String: ConfigValue]

    public init(path: String, values: [String: ConfigValue]) {
        self.path = path
        self.values = values
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public subscript(key: String) -> ConfigValue {
        guard let value = values[key] else { preconditionFailure("config key \(keyPath(key)) is not in the schema") }
        return value
    }

    private func mismatch(_ key: String, _ type: String) -> Never {
        preconditionFailure("config key \(keyPath(key)) holds \(self[key]), not \(type)")
    }

    public func int(_ key: String) -> Int {
        guard case .int(let v) = self[key] else { mismatch(key, "an int") }
        return v
    }

    public func optionalInt(_ key: String) -> Int? {
        if case .null = self[key] { return nil }
        return int(key)
    }

    /// A float field (ints are accepted too).
    public func float(_ key: String) -> Double {
        switch self[key] {
        case .float(let v): return v
        case .int(let v): return Double(v)
        default: mismatch(key, "a float")
        }
    }

    public func optionalFloat(_ key: String) -> Double? {
        if case .null = self[key] { return nil }
        return float(key)
    }

    public func bool(_ key: String) -> Bool {
        guard case .bool(let v) = self[key] else { mismatch(key, "a bool") }
        return v
    }

    public func optionalBool(_ key: String) -> Bool? {
        if case .null = self[key] { return nil }
        return bool(key)
    }

    /// A string, enum or path field (paths are absolute).
    public func string(_ key: String) -> String {
        guard case .string(let v) = self[key] else { mismatch(key, "a string") }
        return v
    }

    public func optionalString(_ key: String) -> String? {
        if case .null = self[key] { return nil }
        return string(key)
    }

    /// An enum field as a Swift enum whose raw values are the allowed strings.
    public func choice<T: RawRepresentable>(_ key: String, as type: T.Type = T.self) -> T where T.RawValue == String {
        guard let v = T(rawValue: string(key)) else { mismatch(key, "a \(T.self)") }
        return v
    }

    /// A string-or-list field.
    public func strings(_ key: String) -> [String] {
        guard case .list(let items) = self[key] else { mismatch(key, "a list of strings") }
        return items.map { item in
            guard case .string(let s) = item else { mismatch(key, "a list of strings") }
            return s
        }
    }

    public func optionalStrings(_ key: String) -> [String]? {
        if case .null = self[key] { return nil }
        return strings(key)
    }

    public func section(_ key: String) -> ConfigSectionValue {
        guard case .section(let v) = self[key] else { mismatch(key, "a section") }
        return ConfigSectionValue(path: keyPath(key), values: v)
    }

    public func optionalSection(_ key: String) -> ConfigSectionValue? {
        if case .null = self[key] { return nil }
        return section(key)
    }

    /// A list-of-sections field that may be null (nil then).
    public func optionalSections(_ key: String) -> [ConfigSectionValue]? {
        if case .null = self[key] { return nil }
        return sections(key)
    }

    /// A list-of-sections field.
    public func sections(_ key: String) -> [ConfigSectionValue] {
        guard case .list(let items) = self[key] else { mismatch(key, "a list of sections") }
        return items.enumerated().map { i, item in
            guard case .section(let v) = item else { mismatch(key, "a list of sections") }
            return ConfigSectionValue(path: "\(keyPath(key))[\(i)]", values: v)
        }
    }
}

/// Writes `ConfigValue`s as JSON: keys sorted, two-space indentation, floats always with a
/// fraction or exponent (`1.0`, `2e-05`) so the file shows which fields are floats, and every
/// number written so that it reads back to the same bits.
enum ConfigJSONWriter {
    static func pretty(_ value: ConfigValue) -> String {
        var out = ""
        write(value, into: &out, indent: 0)
        return out + "\n"
    }

    static func write(_ value: ConfigValue, into out: inout String, indent: Int?) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d): out += formatFloat(d)
        case .string(let s): out += quote(s)
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            // Lists of scalars (and [progress, weight] points) stay on one line.
            let flat = indent == nil || items.allSatisfy { item in
                switch item {
                case .section: return false
                case .list(let inner): return inner.allSatisfy { if case .list = $0 { return false }; if case .section = $0 { return false }; return true }
                default: return true
                }
            }
            if flat {
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += ", " }
                    write(item, into: &out, indent: nil)
                }
                out += "]"
            } else {
                let inner = (indent ?? 0) + 2
                out += "[\n"
                for (i, item) in items.enumerated() {
                    out += String(repeating: " ", count: inner)
                    write(item, into: &out, indent: inner)
                    out += i == items.count - 1 ? "\n" : ",\n"
                }
                out += String(repeating: " ", count: indent ?? 0) + "]"
            }
        case .section(let members):
            if members.isEmpty { out += "{}"; return }
            let keys = members.keys.sorted()
            guard let indent else {
                out += "{"
                for (i, key) in keys.enumerated() {
                    if i > 0 { out += ", " }
                    out += quote(key) + ": "
                    write(members[key]!, into: &out, indent: nil)
                }
                out += "}"
                return
            }
            let inner = indent + 2
            out += "{\n"
            for (i, key) in keys.enumerated() {
                out += String(repeating: " ", count: inner) + quote(key) + ": "
                write(members[key]!, into: &out, indent: inner)
                out += i == keys.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    /// Shortest text that reads back to `d`, always marked as a float (`1.0`, `2e-05`).
    static func formatFloat(_ d: Double) -> String {
        precondition(d.isFinite, "config floats are finite")
        let s = "\(d)"
        return s.contains(".") || s.contains("e") ? s : s + ".0"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
