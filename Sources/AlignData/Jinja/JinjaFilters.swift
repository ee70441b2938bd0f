import Foundation

/// jinja2's built-in filters (the subset chat templates use) with their Python
/// semantics, and transformers' `tojson`. There is no autoescaping (transformers
/// does not enable it): `safe` is `string`, and `escape` escapes `& < > " '`.
enum JinjaFilters {
    static let known: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "first", "float", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max",
        "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "sort",
        "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount",
    ]

    static func apply(_ name: String, _ v: JinjaValue, _ args: JinjaArguments, _ interp: JinjaInterpreter) throws -> JinjaValue {
        func a(_ i: Int, _ n: String) -> JinjaValue? { args.value(i, n) }
        func str(_ x: JinjaValue) -> String { x.pythonString }
        func truthy(_ i: Int, _ n: String) -> Bool { a(i, n)?.isTruthy ?? false }
        switch name {
        case "abs":
            if case .undefined(let u) = v { throw u.error }
            switch v.numeric {
            case .int(let i)?:
                guard i != .min else { throw JinjaValueError.unsupported("integer overflow in abs") }
                return .int(Swift.abs(i))
            case .float(let d)?: return .float(Swift.abs(d))
            case nil: throw JinjaValueError.type("bad operand type for abs(): '\(v.pythonTypeName)'")
            }
        case "attr":
            guard case .string(let n)? = a(0, "name") else { throw JinjaValueError.type("attr needs an attribute name") }
            return try JinjaMethods.attribute(v, n)
        case "batch":
            guard case .int(let n)? = a(0, "linecount")?.numeric, n > 0 else { throw JinjaValueError.type("batch needs a positive line count") }
            let fill = a(1, "fill_with")
            let items = try JinjaOperators.iterate(v)
            var out: [JinjaValue] = []
            var k = 0
            while k < items.count {
                var row = Array(items[k ..< min(k + n, items.count)])
                if row.count < n, let fill, !fill.isNone { row += Array(repeating: fill, count: n - row.count) }
                out.append(.list(row))
                k += n
            }
            return .list(out)
        case "capitalize": return .string(pythonCapitalize(str(v)))
        case "center":
            let width = try intValue(a(0, "width")) ?? 80
            try interp.checkSize(width)
            let s = str(v), n = s.unicodeScalars.count
            guard width > n else { return .string(s) }
            let pad = width - n
            let left = pad / 2 + (pad & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: pad - left))
        case "count", "length":
            switch v {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            case .undefined: return .int(0)
            case .object(let o) where o.typeName == "Namespace": return .int(o.attributes.count)
            default: throw JinjaValueError.type("object of type '\(v.pythonTypeName)' has no len()")
            }
        case "d", "default":
            let fallback = a(0, "default_value") ?? .string("")
            if v.isUndefined || (truthy(1, "boolean") && !v.isTruthy) { return fallback }
            return v
        case "dictsort":
            guard case .dict(let d) = v else {
                if case .undefined(let u) = v { throw u.error }
                throw JinjaValueError.type("you can only sort by either \"key\" or \"value\"")
            }
            let caseSensitive = truthy(0, "case_sensitive")
            let by = a(1, "by")?.stringValue ?? "key"
            guard by == "key" || by == "value" else { throw JinjaValueError.type("You can only sort by either \"key\" or \"value\"") }
            var pairs = d.map { ($0.key, $0.value) }
            try stableSort(&pairs, reverse: truthy(2, "reverse")) { p in
                let x = by == "key" ? p.0 : p.1
                return caseSensitive ? x : lowered(x)
            }
            return .list(pairs.map { .list([$0.0, $0.1]) })
        case "e", "escape":
            var out = ""
            for c in str(v).unicodeScalars {
                switch c {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&#34;"
                case "'": out += "&#39;"
                default: out.unicodeScalars.append(c)
                }
            }
            return .string(out)
        case "first":
            return try JinjaOperators.iterate(v).first ?? .undefined(JinjaUndefined(hint: "No first item, sequence was empty."))
        case "last":
            if case .undefined(let u) = v { throw u.error }
            return try JinjaOperators.iterate(v).last ?? .undefined(JinjaUndefined(hint: "No last item, sequence was empty."))
        case "float":
            let fallback = a(0, "default") ?? .float(0)
            switch v {
            case .float: return v
            case .int(let i): return .float(Double(i))
            case .bool(let b): return .float(b ? 1 : 0)
            case .string(let s): return parseFloat(s).map { .float($0) } ?? fallback
            default: return fallback
            }
        case "indent":
            var indentation = "    "
            if let w = a(0, "width") {
                if case .string(let s) = w { indentation = s } else if let n = try intValue(w) {
                    try interp.checkSize(n)
                    indentation = String(repeating: " ", count: max(0, n))
                }
            }
            let first = truthy(1, "first"), blank = truthy(2, "blank")
            let lines = pythonSplitLines(str(v) + "\n", keepEnds: false)
            try interp.checkSize(str(v).utf8.count + lines.count * indentation.utf8.count)
            var rv: String
            if blank {
                rv = lines.joined(separator: "\n" + indentation)
            } else {
                rv = lines.first ?? ""
                if lines.count > 1 {
                    rv += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
                }
            }
            return .string(first ? indentation + rv : rv)
        case "int":
            let fallback = a(0, "default") ?? .int(0)
            let base = try intValue(a(1, "base")) ?? 10
            switch v {
            case .int: return v
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d):
                guard d.isFinite, Swift.abs(d) < 9.2e18 else { return fallback }
                return .int(Int(d))
            case .string(let s):
                let t = pythonStrip(s, chars: nil, leading: true, trailing: true).replacingOccurrences(of: "_", with: "")
                if let i = Int(t, radix: base) { return .int(i) }
                if let d = parseFloat(s), d.isFinite, Swift.abs(d) < 9.2e18 { return .int(Int(d)) }
                return fallback
            default: return fallback
            }
        case "items":
            switch v {
            case .dict(let d): return .list(d.map { .list([$0.key, $0.value]) })
            case .undefined: return .list([])
            default: throw JinjaValueError.type("Can only get item pairs from a mapping.")
            }
        case "join":
            let sep = a(0, "d").map(str) ?? ""
            var items = try JinjaOperators.iterate(v)
            if let attr = a(1, "attribute") { items = try items.map { try attribute($0, attr) } }
            var size = 0
            let parts = try items.map { item -> String in
                let s = str(item)
                size += s.utf8.count + sep.utf8.count
                try interp.checkSize(size)
                return s
            }
            return .string(parts.joined(separator: sep))
        case "list": return .list(try JinjaOperators.iterate(v))
        case "lower": return .string(str(v).lowercased())
        case "upper": return .string(str(v).uppercased())
        case "map":
            let items = try JinjaOperators.iterate(v)
            if let attr = args.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = args.keyword.first(where: { $0.0 == "default" })?.1
                return .list(try items.map { item in
                    let x = try attribute(item, attr)
                    if x.isUndefined, let fallback { return fallback }
                    return x
                })
            }
            guard case .string(let filter)? = args.positional.first else { throw JinjaValueError.type("map requires a filter argument") }
            guard known.contains(filter) else { throw JinjaValueError.unsupported("no filter named '\(filter)'") }
            let rest = JinjaArguments(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
            return .list(try items.map { try apply(filter, $0, rest, interp) })
        case "max", "min":
            let items = try JinjaOperators.iterate(v)
            let caseSensitive = truthy(0, "case_sensitive")
            let attr = a(1, "attribute")
            var best: (JinjaValue, JinjaValue)?
            for item in items {
                var key = attr != nil ? try attribute(item, attr!) : item
                if !caseSensitive { key = lowered(key) }
                if let b = best {
                    let better = name == "max" ? try JinjaValue.lessThan(b.1, key) : try JinjaValue.lessThan(key, b.1)
                    if better { best = (item, key) }
                } else {
                    best = (item, key)
                }
            }
            return best?.0 ?? .undefined(JinjaUndefined(hint: "No aggregated item, sequence was empty."))
        case "reject", "select", "rejectattr", "selectattr":
            let byAttribute = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var positional = args.positional
            var attr: JinjaValue?
            if byAttribute {
                guard !positional.isEmpty else { throw JinjaValueError.type("Missing parameter for attribute name") }
                attr = positional.removeFirst()
            }
            var test: String?
            if !positional.isEmpty {
                guard case .string(let t) = positional.removeFirst() else { throw JinjaValueError.type("the test name must be a string") }
                guard JinjaTestFunctions.known.contains(t) else { throw JinjaValueError.unsupported("no test named '\(t)'") }
                test = t
            }
            let testArgs = JinjaArguments(positional: positional, keyword: args.keyword)
            return .list(try JinjaOperators.iterate(v).filter { item in
                let x = try attr.map { try attribute(item, $0) } ?? item
                let ok = try test.map { try JinjaTestFunctions.apply($0, x, testArgs, interp) } ?? x.isTruthy
                return ok == keep
            })
        case "replace":
            guard let old = a(0, "old"), let new = a(1, "new") else { throw JinjaValueError.type("replace needs old and new") }
            return .string(try pythonReplace(str(v), str(old), str(new), count: try intValue(a(2, "count")) ?? -1, interp: interp))
        case "reverse":
            switch v {
            case .string(let s): return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
            default: return .list(try JinjaOperators.iterate(v).reversed())
            }
        case "round":
            let precision = try intValue(a(0, "precision")) ?? 0
            let method = a(1, "method")?.stringValue ?? "common"
            guard ["common", "ceil", "floor"].contains(method) else {
                throw JinjaValueError.type("method must be common, ceil or floor")
            }
            guard let n = v.numeric else {
                if case .undefined(let u) = v { throw u.error }
                throw JinjaValueError.type("type \(v.pythonTypeName) doesn't define __round__ method")
            }
            let scale = pow(10.0, Double(precision))
            switch method {
            case "ceil": return .float((n.double * scale).rounded(.up) / scale)
            case "floor": return .float((n.double * scale).rounded(.down) / scale)
            default:
                if case .int(let i) = n, v.isIntegral, precision >= 0 { return .int(i) }
                return .float((n.double * scale).rounded(.toNearestOrEven) / scale)
            }
        case "safe", "string": return .string(str(v))
        case "sort":
            var items = try JinjaOperators.iterate(v)
            let caseSensitive = truthy(1, "case_sensitive")
            let attr = a(2, "attribute")
            try stableSort(&items, reverse: truthy(0, "reverse")) { item in
                let key = try attr.map { try attribute(item, $0) } ?? item
                return caseSensitive ? key : lowered(key)
            }
            return .list(items)
        case "sum":
            var items = try JinjaOperators.iterate(v)
            if let attr = a(0, "attribute") { items = try items.map { try attribute($0, attr) } }
            var total = a(1, "start") ?? .int(0)
            for x in items { total = try JinjaOperators.binary("+", total, x, interp) }
            return total
        case "title":
            // jinja2: capitalize each piece of a split on runs of `-`, whitespace, `(`, `{`, `[`, `<`.
            var out = ""
            var atWordStart = true
            for c in str(v) {
                if c == "-" || c == "(" || c == "{" || c == "[" || c == "<" || c.unicodeScalars.allSatisfy(isPythonSpace) {
                    out.append(c)
                    atWordStart = true
                } else {
                    out += atWordStart ? c.uppercased() : c.lowercased()
                    atWordStart = false
                }
            }
            return .string(out)
        case "tojson":
            try args.check("tojson", max: 4, names: ["ensure_ascii", "indent", "separators", "sort_keys"])
            var indent: String?
            if let i = a(1, "indent"), !i.isNone {
                if case .string(let s) = i { indent = s } else if let n = try intValue(i) {
                    try interp.checkSize(n)
                    indent = String(repeating: " ", count: max(0, n))
                }
            }
            var separators: (String, String)?
            if let s = a(2, "separators"), !s.isNone {
                guard case .list(let pair) = s, pair.count == 2, case .string(let x) = pair[0], case .string(let y) = pair[1] else {
                    throw JinjaValueError.type("tojson separators must be a pair of strings")
                }
                separators = (x, y)
            }
            let json = JinjaJSON(ensureASCII: truthy(0, "ensure_ascii"), indent: indent, separators: separators,
                                 sortKeys: truthy(3, "sort_keys"))
            return .string(try json.encode(v))
        case "trim":
            let chars = a(0, "chars").flatMap { $0.isNone ? nil : str($0) }
            return .string(pythonStrip(str(v), chars: chars, leading: true, trailing: true))
        case "unique":
            let caseSensitive = truthy(0, "case_sensitive")
            let attr = a(1, "attribute")
            var seen: [JinjaValue] = []
            var out: [JinjaValue] = []
            for item in try JinjaOperators.iterate(v) {
                var key = try attr.map { try attribute(item, $0) } ?? item
                if !caseSensitive { key = lowered(key) }
                if !seen.contains(key) { seen.append(key); out.append(item) }
            }
            return .list(out)
        case "wordcount":
            var count = 0
            var inWord = false
            for u in str(v).unicodeScalars {
                let w = u == "_" || u.properties.isAlphabetic || u.properties.numericType != nil
                if w && !inWord { count += 1 }
                inWord = w
            }
            return .int(count)
        default:
            throw JinjaValueError.unsupported("no filter named '\(name)'")
        }
    }

    private static func intValue(_ v: JinjaValue?) throws -> Int? {
        guard let v, !v.isNone else { return nil }
        guard case .int(let i)? = v.numeric, v.isIntegral else {
            throw JinjaValueError.type("expected an integer argument, got \(v.pythonTypeName)")
        }
        return i
    }

    /// Python's `float(str)` (surrounding whitespace, `_` between digits, inf/nan).
    static func parseFloat(_ s: String) -> Double? {
        let t = pythonStrip(s, chars: nil, leading: true, trailing: true).replacingOccurrences(of: "_", with: "").lowercased()
        switch t {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default:
            guard !t.isEmpty, t.allSatisfy({ "0123456789.e+-".contains($0) }) else { return nil }
            return Double(t)
        }
    }

    /// jinja2's `ignore_case`: strings lower-cased for comparison.
    private static func lowered(_ v: JinjaValue) -> JinjaValue {
        if case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    /// jinja2's attribute getter: `a.b.0` looks up `b` then item `0`, each like `x[part]`.
    static func attribute(_ item: JinjaValue, _ path: JinjaValue) throws -> JinjaValue {
        switch path {
        case .string(let p):
            var x = item
            for part in p.split(separator: ".", omittingEmptySubsequences: false) {
                x = try JinjaMethods.item(x, Int(part).map { .int($0) } ?? .string(String(part)))
            }
            return x
        case .int:
            return try JinjaMethods.item(item, path)
        default:
            throw JinjaValueError.type("attribute must be a string or an integer")
        }
    }

    /// Python's stable `sorted(items, key=key, reverse=reverse)`.
    private static func stableSort<T>(_ items: inout [T], reverse: Bool, key: (T) throws -> JinjaValue) throws {
        let keyed = try items.enumerated().map { ($0.offset, try key($0.element), $0.element) }
        var failure: Error?
        let sorted = keyed.sorted { x, y in
            do {
                if reverse {
                    if try JinjaValue.lessThan(y.1, x.1) { return true }
                    if try JinjaValue.lessThan(x.1, y.1) { return false }
                } else {
                    if try JinjaValue.lessThan(x.1, y.1) { return true }
                    if try JinjaValue.lessThan(y.1, x.1) { return false }
                }
            } catch {
                failure = error
            }
            return x.0 < y.0
        }
        if let failure { throw failure }
        items = sorted.map(\.2)
    }
}
