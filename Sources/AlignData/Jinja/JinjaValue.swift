import Foundation

/// A value seen by a Jinja template, with Python's semantics (what jinja2 sees when
/// transformers passes it JSON-like data): `none`, `bool`, `int`, `float`, `str`,
/// `list`, `dict` (insertion-ordered), plus jinja2's undefined and the engine's
/// objects (namespaces, `loop`) and callables (globals, macros, methods).
public enum JinjaValue: Equatable {
    case undefined(JinjaUndefined)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([JinjaValue])
    case dict(JinjaDict)
    case object(JinjaObject)
    case function(JinjaFunction)

    /// An undefined value with no hint (a missing variable without a name).
    public static let missing = JinjaValue.undefined(JinjaUndefined(hint: nil))

    /// A value from Foundation JSON (`JSONSerialization` output: `NSNull`, `Bool`/`NSNumber`,
    /// `String`, arrays, dictionaries); nil for anything else. Dictionary keys are
    /// sorted (Foundation dictionaries have no order); use `.dict` to keep an order.
    public init?(json: Any) {
        switch json {
        case is NSNull: self = .none
        case let s as String: self = .string(s)
        case let n as NSNumber:
            let type = String(cString: n.objCType)
            if type == "c" || type == "B" { self = .bool(n.boolValue); return }
            if type == "d" || type == "f" { self = .float(n.doubleValue) } else { self = .int(n.intValue) }
        case let a as [Any]:
            var items: [JinjaValue] = []
            for x in a { guard let v = JinjaValue(json: x) else { return nil }; items.append(v) }
            self = .list(items)
        case let d as [String: Any]:
            var dict = JinjaDict()
            for k in d.keys.sorted() { guard let v = JinjaValue(json: d[k]!) else { return nil }; dict[.string(k)] = v }
            self = .dict(dict)
        default: return nil
        }
    }

    /// A dictionary of string keys in the given order.
    public static func dict(_ pairs: KeyValuePairs<String, JinjaValue>) -> JinjaValue {
        var d = JinjaDict()
        for (k, v) in pairs { d[.string(k)] = v }
        return .dict(d)
    }

    public var isUndefined: Bool { if case .undefined = self { return true }; return false }
    public var isNone: Bool { if case .none = self { return true }; return false }

    /// The string, when this is one.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }

    /// Python's truth value (undefined is false).
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l): return !l.isEmpty
        case .dict(let d): return !d.isEmpty
        case .object, .function: return true
        }
    }

    /// jinja2's `object_type_repr` ("dict object", "list object", "None").
    var typeDescription: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool: return "bool object"
        case .int: return "int object"
        case .float: return "float object"
        case .string: return "str object"
        case .list: return "list object"
        case .dict: return "dict object"
        case .object(let o): return "\(o.typeName) object"
        case .function(let f): return "\(f.name) function"
        }
    }

    /// Python's type name, for error messages.
    var pythonTypeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .dict: return "dict"
        case .object(let o): return o.typeName
        case .function: return "function"
        }
    }

    // MARK: - str() and repr()

    /// Python's `str(value)` (what `{{ value }}` prints; undefined prints nothing).
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pythonRepr
        }
    }

    /// Python's `repr(value)`.
    var pythonRepr: String { repr(visiting: []) }

    /// `repr`, printing a namespace that contains itself as `{...}` like Python.
    private func repr(visiting: [ObjectIdentifier]) -> String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return pythonFloatRepr(d)
        case .string(let s): return pythonStringRepr(s)
        case .list(let l): return "[" + l.map { $0.repr(visiting: visiting) }.joined(separator: ", ") + "]"
        case .dict(let d):
            return "{" + d.map { "\($0.key.repr(visiting: visiting)): \($0.value.repr(visiting: visiting))" }.joined(separator: ", ") + "}"
        case .object(let o):
            if o.typeName == "Namespace" {
                let id = ObjectIdentifier(o)
                if visiting.contains(id) { return "{...}" }
                let inner = visiting + [id]
                return "<Namespace {" + o.attributes.map { "\($0.key.repr(visiting: inner)): \($0.value.repr(visiting: inner))" }.joined(separator: ", ") + "}>"
            }
            return "<\(o.typeName)>"
        case .function(let f): return "<function \(f.name)>"
        }
    }

    // MARK: - Equality and order (Python semantics)

    /// Python's `==`: numbers compare by value across int/float/bool, containers element-wise.
    public static func == (a: JinjaValue, b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0 == $1 }
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && x.allSatisfy { kv in y[kv.key].map { $0 == kv.value } ?? false }
        case (.object(let x), .object(let y)): return x === y
        case (.function(let x), .function(let y)): return x === y
        default:
            if let x = a.numeric, let y = b.numeric {
                switch (x, y) {
                case (.int(let i), .int(let j)): return i == j
                default: return x.double == y.double
                }
            }
            return false
        }
    }

    enum Numeric {
        case int(Int)
        case float(Double)
        var double: Double {
            switch self {
            case .int(let i): return Double(i)
            case .float(let d): return d
            }
        }
    }

    /// The number this is (bools count as 0 and 1, as in Python).
    var numeric: Numeric? {
        switch self {
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .bool(let b): return .int(b ? 1 : 0)
        default: return nil
        }
    }

    /// Python's `<` (numbers, strings by code point, lists lexicographically).
    static func lessThan(_ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
        case (.list(let x), .list(let y)):
            for (p, q) in zip(x, y) where p != q { return try lessThan(p, q) }
            return x.count < y.count
        default:
            if let x = a.numeric, let y = b.numeric {
                if case .int(let i) = x, case .int(let j) = y { return i < j }
                return x.double < y.double
            }
            if case .undefined(let u) = a { throw u.error }
            if case .undefined(let u) = b { throw u.error }
            throw JinjaValueError.type("'<' not supported between instances of '\(a.pythonTypeName)' and '\(b.pythonTypeName)'")
        }
    }

    /// The key under which this value is stored in a dict, or nil when it is not hashable.
    var hashKey: JinjaHashKey? {
        switch self {
        case .none: return JinjaHashKey.null
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .float(let d): return d == d.rounded() && abs(d) < 9.2e18 ? .int(Int(d)) : .float(d)
        case .string(let s): return .string(s)
        default: return nil
        }
    }
}

/// A hashable form of a dict key (Python: `1 == 1.0 == True` are one key).
public enum JinjaHashKey: Hashable {
    case null
    case int(Int)
    case float(Double)
    case string(String)
}

/// jinja2's default `Undefined`: falsy, prints as "", iterates as empty, and fails with
/// `hint` when used in arithmetic, called, or when an attribute is read from it.
public struct JinjaUndefined {
    /// "'x' is undefined", "'dict object' has no attribute 'y'", or a sandbox message.
    public var hint: String?

    var error: JinjaValueError {
        JinjaValueError.type(hint ?? "the value is undefined")
    }
}

/// An insertion-ordered dictionary with Python key semantics.
public struct JinjaDict: Sequence {
    private(set) var keys: [JinjaValue] = []
    private(set) var values: [JinjaValue] = []
    private var index: [JinjaHashKey: Int] = [:]

    public init() {}

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// nil for a missing (or unhashable) key. Setting nil is not supported (dicts are immutable in templates).
    public subscript(key: JinjaValue) -> JinjaValue? {
        get { key.hashKey.flatMap { index[$0] }.map { values[$0] } }
        set {
            guard let h: JinjaHashKey = key.hashKey, let newValue else { return }
            if let k = index[h] { values[k] = newValue } else {
                index[h] = keys.count
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    public subscript(key: String) -> JinjaValue? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }

    public func makeIterator() -> AnyIterator<(key: JinjaValue, value: JinjaValue)> {
        var k = 0
        return AnyIterator {
            guard k < keys.count else { return nil }
            defer { k += 1 }
            return (keys[k], values[k])
        }
    }
}

/// A mutable object with attributes: a `namespace()` or a loop's `loop`.
public final class JinjaObject {
    let typeName: String
    var attributes: JinjaDict
    /// Whether `{% set obj.attr = … %}` may assign (namespaces only).
    let assignable: Bool

    init(typeName: String, attributes: JinjaDict, assignable: Bool) {
        self.typeName = typeName
        self.attributes = attributes
        self.assignable = assignable
    }
}

/// Arguments of a call.
struct JinjaArguments {
    var positional: [JinjaValue] = []
    var keyword: [(String, JinjaValue)] = []

    /// Argument `name` at position `index`, by keyword or position, or nil.
    func value(_ index: Int, _ name: String) -> JinjaValue? {
        if let kw = keyword.first(where: { $0.0 == name }) { return kw.1 }
        return index < positional.count ? positional[index] : nil
    }

    /// Fails on more positional arguments than `max` or keywords outside `names`.
    func check(_ function: String, max: Int, names: [String]) throws {
        if positional.count > max {
            throw JinjaValueError.type("\(function)() takes at most \(max) positional argument\(max == 1 ? "" : "s") (\(positional.count) given)")
        }
        for (k, _) in keyword where !names.contains(k) {
            throw JinjaValueError.type("\(function)() got an unexpected keyword argument '\(k)'")
        }
    }
}

/// A callable: a global function, a macro, a bound method, `loop.cycle`, `caller`.
public final class JinjaFunction {
    let name: String
    let body: (JinjaInterpreter, JinjaArguments) throws -> JinjaValue

    init(_ name: String, _ body: @escaping (JinjaInterpreter, JinjaArguments) throws -> JinjaValue) {
        self.name = name
        self.body = body
    }
}

// MARK: - Python number and string formatting

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral values,
/// exponent form below 1e-4 and from 1e16 on.
func pythonFloatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description is the shortest round-trip form; re-lay it out like Python.
    let desc = "\(d)"
    var mantissa = desc
    var exponent = 0
    if let e = desc.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = String(desc[..<e])
        exponent = Int(desc[desc.index(after: e)...])!
    }
    let negative = mantissa.hasPrefix("-")
    if negative { mantissa.removeFirst() }
    var intPart = mantissa
    var fracPart = ""
    if let dot = mantissa.firstIndex(of: ".") {
        intPart = String(mantissa[..<dot])
        fracPart = String(mantissa[mantissa.index(after: dot)...])
    }
    var digits = intPart + fracPart
    var pointPos = intPart.count + exponent  // decimal point after this many digits
    while digits.count > 1 && digits.hasPrefix("0") { digits.removeFirst(); pointPos -= 1 }
    while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
    let sciExp = pointPos - 1
    var out: String
    if sciExp < -4 || sciExp >= 16 {
        out = String(digits.first!)
        if digits.count > 1 { out += "." + digits.dropFirst() }
        out += "e" + (sciExp < 0 ? "-" : "+") + (abs(sciExp) < 10 ? "0" : "") + String(abs(sciExp))
    } else if pointPos <= 0 {
        out = "0." + String(repeating: "0", count: -pointPos) + digits
    } else if pointPos >= digits.count {
        out = digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
    } else {
        let i = digits.index(digits.startIndex, offsetBy: pointPos)
        out = digits[..<i] + "." + digits[i...]
    }
    return (negative ? "-" : "") + out
}

/// Python's `repr(str)`: single quotes unless the string has `'` and no `"`.
func pythonStringRepr(_ s: String) -> String {
    let useDouble = s.contains("'") && !s.contains("\"")
    let quote: Character = useDouble ? "\"" : "'"
    var out = String(quote)
    for u in s.unicodeScalars {
        switch u {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(u) == quote {
                out += "\\" + String(quote)
            } else if u.value < 0x20 || (u.value >= 0x7F && u.value < 0xA0) {
                out += "\\x" + (u.value < 16 ? "0" : "") + String(u.value, radix: 16)
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    out.append(quote)
    return out
}

extension JinjaValue {
    /// Parses JSON text keeping the order of object members (what Python's `json.loads`
    /// gives a template). Integers without fraction or exponent become `.int`.
    public init(parsingJSON text: String) throws {
        var text = text
        let parsed: JSONValue = try text.withUTF8 { buffer in
            do {
                return try JSONParser.parse(UnsafeRawBufferPointer(buffer))
            } catch let e as JSONParseError {
                throw AlignDataError(.malformed, path: "", "JSON for a chat template: \(e.message) at byte \(e.offset)")
            }
        }
        self.init(parsed)
    }

    init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = .int(Int(i))
        case .number(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(JinjaValue.init))
        case .object(let members):
            var d = JinjaDict()
            for (k, v) in members { d[.string(k)] = JinjaValue(v) }
            self = .dict(d)
        }
    }
}
