/// jinja2's tests (`x is defined`, `x is divisibleby 3`, …).
enum JinjaTestFunctions {
    static let known: Set<String> = [
        "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string",
        "mapping", "iterable", "sequence", "callable", "odd", "even", "divisibleby", "eq", "equalto", "==",
        "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas",
        "lower", "upper", "escaped", "filter", "test",
    ]

    static func apply(_ name: String, _ v: JinjaValue, _ args: JinjaArguments, _ interp: JinjaInterpreter) throws -> Bool {
        func arg() throws -> JinjaValue {
            guard let a = args.positional.first ?? args.keyword.first?.1 else {
                throw JinjaValueError.type("the '\(name)' test needs an argument")
            }
            return a
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v.isNone
        case "boolean": if case .bool = v { return true }; return false
        case "false": if case .bool(false) = v { return true }; return false
        case "true": if case .bool(true) = v { return true }; return false
        case "integer": if case .int = v { return true }; return false
        case "float": if case .float = v { return true }; return false
        case "number": return v.numeric != nil
        case "string": return v.stringValue != nil
        case "mapping": if case .dict = v { return true }; return false
        case "iterable":
            switch v {
            case .list, .string, .dict, .undefined: return true
            default: return false
            }
        case "sequence":
            switch v {
            case .list, .string, .dict: return true
            default: return false
            }
        case "callable": if case .function = v { return true }; return false
        case "odd", "even":
            if case .undefined(let u) = v { throw u.error }
            guard case .int(let i)? = v.numeric, v.isIntegral else {
                throw JinjaValueError.type("the '\(name)' test needs an integer, not \(v.pythonTypeName)")
            }
            return (i & 1 == 1) == (name == "odd")
        case "divisibleby":
            let d = try arg()
            let r = try JinjaOperators.binary("%", v, d, interp)
            return r == .int(0)
        case "eq", "equalto", "==": return v == (try arg())
        case "ne", "!=": return v != (try arg())
        case "lt", "lessthan", "<": return try JinjaOperators.compare("<", v, try arg())
        case "le", "<=": return try JinjaOperators.compare("<=", v, try arg())
        case "gt", "greaterthan", ">": return try JinjaOperators.compare(">", v, try arg())
        case "ge", ">=": return try JinjaOperators.compare(">=", v, try arg())
        case "in": return try JinjaOperators.contains(try arg(), v)
        case "sameas":
            let other = try arg()
            switch (v, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.object(let a), .object(let b)): return a === b
            case (.function(let a), .function(let b)): return a === b
            case (.int(let a), .int(let b)): return a == b && a >= -5 && a <= 256  // CPython's small-int cache
            default: return false
            }
        case "lower": return v.stringValue.map { $0 == $0.lowercased() } ?? false
        case "upper": return v.stringValue.map { $0 == $0.uppercased() } ?? false
        case "escaped": return false
        case "filter": return v.stringValue.map { JinjaFilters.known.contains($0) } ?? false
        case "test": return v.stringValue.map { known.contains($0) } ?? false
        default: throw JinjaValueError.unsupported("no test named '\(name)'")
        }
    }
}
