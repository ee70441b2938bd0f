import Foundation

/// Attribute and item access as jinja2's immutable sandbox does it, and the Python
/// methods templates call on strings, dicts and lists.
///
/// `a.b` looks for a method or attribute `b` first and then for the item `a['b']`;
/// `a['b']` looks for the item first and then the attribute. A missing one is
/// undefined. Methods that modify a list or dict (`append`, `pop`, `update`, …) are
/// refused like the immutable sandbox refuses them: reading them gives an undefined
/// value that fails when called, with jinja2's "access to attribute … is unsafe".
enum JinjaMethods {
    static let unsafeListMethods: Set<String> = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"]
    static let unsafeDictMethods: Set<String> = ["clear", "pop", "popitem", "setdefault", "update"]

    private static func missingAttribute(_ obj: JinjaValue, _ name: String) -> JinjaValue {
        let owner = obj.isNone ? "None" : "'\(obj.typeDescription)'"
        return .undefined(JinjaUndefined(hint: "\(owner) has no attribute '\(name)'"))
    }

    private static func unsafe(_ obj: JinjaValue, _ name: String) -> JinjaValue {
        .undefined(JinjaUndefined(hint: "access to attribute '\(name)' of '\(obj.pythonTypeName)' object is unsafe."))
    }

    static func attribute(_ obj: JinjaValue, _ name: String) throws -> JinjaValue {
        switch obj {
        case .undefined(let u):
            throw u.error
        case .dict(let d):
            if let m = dictMethod(d, name) { return .function(m) }
            if unsafeDictMethods.contains(name) { return unsafe(obj, name) }
            return d[name] ?? missingAttribute(obj, name)
        case .string(let s):
            if let m = stringMethod(s, name) { return .function(m) }
            return missingAttribute(obj, name)
        case .list(let l):
            if let m = listMethod(l, name) { return .function(m) }
            if unsafeListMethods.contains(name) { return unsafe(obj, name) }
            return missingAttribute(obj, name)
        case .object(let o):
            return o.attributes[name] ?? missingAttribute(obj, name)
        default:
            return missingAttribute(obj, name)
        }
    }

    static func item(_ obj: JinjaValue, _ key: JinjaValue) throws -> JinjaValue {
        switch obj {
        case .undefined(let u):
            throw u.error
        case .dict(let d):
            if let v = d[key] { return v }
        case .list(let l):
            if let i = index(key) {
                let k = i < 0 ? i + l.count : i
                if k >= 0 && k < l.count { return l[k] }
                return .undefined(JinjaUndefined(hint: "list object has no element \(i)"))
            }
        case .string(let s):
            if let i = index(key) {
                let scalars = s.unicodeScalars
                let n = scalars.count
                let k = i < 0 ? i + n : i
                if k >= 0 && k < n { return .string(String(scalars[scalars.index(scalars.startIndex, offsetBy: k)])) }
                return .undefined(JinjaUndefined(hint: "str object has no element \(i)"))
            }
        case .object(let o):
            if let v = o.attributes[key] { return v }
        default:
            break
        }
        if case .string(let name) = key { return try attribute(obj, name) }
        return .undefined(JinjaUndefined(hint: "\(obj.typeDescription) has no element \(key.pythonRepr)"))
    }

    private static func index(_ key: JinjaValue) -> Int? {
        if case .int(let i)? = key.numeric, key.isIntegral { return i }
        return nil
    }

    // MARK: - dict

    static func dictMethod(_ d: JinjaDict, _ name: String) -> JinjaFunction? {
        switch name {
        case "items":
            return JinjaFunction("items") { _, args in
                try args.check("items", max: 0, names: [])
                return .list(d.map { .list([$0.key, $0.value]) })
            }
        case "keys":
            return JinjaFunction("keys") { _, args in
                try args.check("keys", max: 0, names: [])
                return .list(d.keys)
            }
        case "values":
            return JinjaFunction("values") { _, args in
                try args.check("values", max: 0, names: [])
                return .list(d.values)
            }
        case "get":
            return JinjaFunction("get") { _, args in
                try args.check("get", max: 2, names: [])
                guard let key = args.value(0, "key") else { throw JinjaValueError.type("get expected at least 1 argument, got 0") }
                return d[key] ?? args.value(1, "default") ?? .none
            }
        case "copy":
            return JinjaFunction("copy") { _, _ in .dict(d) }
        default:
            return nil
        }
    }

    // MARK: - list

    static func listMethod(_ l: [JinjaValue], _ name: String) -> JinjaFunction? {
        switch name {
        case "index":
            return JinjaFunction("index") { _, args in
                guard let x = args.value(0, "value") else { throw JinjaValueError.type("index expected at least 1 argument, got 0") }
                guard let k = l.firstIndex(of: x) else { throw JinjaValueError.type("\(x.pythonRepr) is not in list") }
                return .int(k)
            }
        case "count":
            return JinjaFunction("count") { _, args in
                guard let x = args.value(0, "value") else { throw JinjaValueError.type("count() takes exactly one argument (0 given)") }
                return .int(l.filter { $0 == x }.count)
            }
        case "copy":
            return JinjaFunction("copy") { _, _ in .list(l) }
        default:
            return nil
        }
    }

    // MARK: - str

    private static func stringArg(_ args: JinjaArguments, _ i: Int, _ name: String, method: String) throws -> String? {
        guard let v = args.value(i, name), !v.isNone else { return nil }
        guard case .string(let s) = v else {
            throw JinjaValueError.type("\(method)() argument must be str or None, not \(v.pythonTypeName)")
        }
        return s
    }

    private static func intArg(_ args: JinjaArguments, _ i: Int, _ name: String, method: String) throws -> Int? {
        guard let v = args.value(i, name), !v.isNone else { return nil }
        guard case .int(let n)? = v.numeric, v.isIntegral else {
            throw JinjaValueError.type("\(method)() argument '\(name)' must be an integer, not \(v.pythonTypeName)")
        }
        return n
    }

    static func stringMethod(_ s: String, _ name: String) -> JinjaFunction? {
        switch name {
        case "strip", "lstrip", "rstrip":
            return JinjaFunction(name) { _, args in
                try args.check(name, max: 1, names: [])
                let chars = try stringArg(args, 0, "chars", method: name)
                return .string(pythonStrip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "split", "rsplit":
            return JinjaFunction(name) { _, args in
                try args.check(name, max: 2, names: ["sep", "maxsplit"])
                let sep = try stringArg(args, 0, "sep", method: name)
                let maxsplit = try intArg(args, 1, "maxsplit", method: name) ?? -1
                if sep == "" { throw JinjaValueError.type("empty separator") }
                return .list(pythonSplit(s, sep: sep, maxsplit: maxsplit, fromRight: name == "rsplit").map { .string($0) })
            }
        case "splitlines":
            return JinjaFunction(name) { _, args in
                let keep = args.value(0, "keepends")?.isTruthy ?? false
                return .list(pythonSplitLines(s, keepEnds: keep).map { .string($0) })
            }
        case "startswith", "endswith":
            return JinjaFunction(name) { _, args in
                try args.check(name, max: 1, names: [])
                guard let arg = args.value(0, "prefix") else { throw JinjaValueError.type("\(name)() takes at least 1 argument (0 given)") }
                let candidates: [JinjaValue]
                if case .list(let l) = arg { candidates = l } else { candidates = [arg] }
                for c in candidates {
                    guard case .string(let p) = c else {
                        throw JinjaValueError.type("\(name) first arg must be str or a tuple of str, not \(c.pythonTypeName)")
                    }
                    let hit = name == "startswith" ? s.unicodeScalars.starts(with: p.unicodeScalars)
                        : s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
                    if hit { return .bool(true) }
                }
                return .bool(false)
            }
        case "upper": return JinjaFunction(name) { _, _ in .string(s.uppercased()) }
        case "lower": return JinjaFunction(name) { _, _ in .string(s.lowercased()) }
        case "title": return JinjaFunction(name) { _, _ in .string(pythonTitle(s)) }
        case "capitalize": return JinjaFunction(name) { _, _ in .string(pythonCapitalize(s)) }
        case "swapcase":
            return JinjaFunction(name) { _, _ in
                .string(String(s.map { c in c.isUppercase ? Character(c.lowercased()) : c.isLowercase ? Character(c.uppercased()) : c }))
            }
        case "replace":
            return JinjaFunction(name) { interp, args in
                try args.check(name, max: 3, names: ["count"])
                guard let old = try stringArg(args, 0, "old", method: name), let new = try stringArg(args, 1, "new", method: name) else {
                    throw JinjaValueError.type("replace expected at least 2 arguments")
                }
                let count = try intArg(args, 2, "count", method: name) ?? -1
                return .string(try pythonReplace(s, old, new, count: count, interp: interp))
            }
        case "find", "rfind", "index", "rindex":
            return JinjaFunction(name) { _, args in
                guard let sub = try stringArg(args, 0, "sub", method: name) else { throw JinjaValueError.type("\(name)() takes at least 1 argument") }
                let hay = Array(s.unicodeScalars), needle = Array(sub.unicodeScalars)
                var found: Int?
                if needle.count <= hay.count {
                    let range = Array(0 ... hay.count - needle.count)
                    for i in (name.hasPrefix("r") ? range.reversed() : range) where Array(hay[i ..< i + needle.count]) == needle {
                        found = i
                        break
                    }
                }
                if let found { return .int(found) }
                if name.hasSuffix("index") { throw JinjaValueError.type("substring not found") }
                return .int(-1)
            }
        case "count":
            return JinjaFunction(name) { _, args in
                guard let sub = try stringArg(args, 0, "sub", method: name) else { throw JinjaValueError.type("count() takes at least 1 argument") }
                if sub.isEmpty { return .int(s.unicodeScalars.count + 1) }
                return .int(s.components(separatedBy: sub).count - 1)
            }
        case "join":
            return JinjaFunction(name) { interp, args in
                guard let v = args.value(0, "iterable") else { throw JinjaValueError.type("join() takes exactly one argument") }
                let items = try JinjaOperators.iterate(v)
                var parts: [String] = []
                var size = 0
                for item in items {
                    guard case .string(let p) = item else {
                        throw JinjaValueError.type("sequence item \(parts.count): expected str instance, \(item.pythonTypeName) found")
                    }
                    size += p.utf8.count + s.utf8.count
                    try interp.checkSize(size)
                    parts.append(p)
                }
                return .string(parts.joined(separator: s))
            }
        case "removeprefix", "removesuffix":
            return JinjaFunction(name) { _, args in
                guard let a = try stringArg(args, 0, "affix", method: name) else { throw JinjaValueError.type("\(name)() takes exactly one argument") }
                if name == "removeprefix", s.unicodeScalars.starts(with: a.unicodeScalars), !a.isEmpty {
                    return .string(String(String.UnicodeScalarView(s.unicodeScalars.dropFirst(a.unicodeScalars.count))))
                }
                if name == "removesuffix", s.unicodeScalars.reversed().starts(with: a.unicodeScalars.reversed()), !a.isEmpty {
                    return .string(String(String.UnicodeScalarView(s.unicodeScalars.dropLast(a.unicodeScalars.count))))
                }
                return .string(s)
            }
        case "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric", "isdecimal":
            return JinjaFunction(name) { _, _ in
                let u = s.unicodeScalars
                if u.isEmpty { return .bool(false) }
                switch name {
                case "isdigit", "isdecimal", "isnumeric": return .bool(u.allSatisfy { $0.properties.numericType != nil })
                case "isalpha": return .bool(u.allSatisfy { $0.properties.isAlphabetic })
                case "isalnum": return .bool(u.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
                case "isspace": return .bool(u.allSatisfy(isPythonSpace))
                case "isupper": return .bool(s.contains { $0.isCased } && !s.contains { $0.isLowercase })
                default: return .bool(s.contains { $0.isCased } && !s.contains { $0.isUppercase })
                }
            }
        case "format":
            return JinjaFunction(name) { _, args in .string(try pythonFormat(s, args)) }
        default:
            return nil
        }
    }
}

// MARK: - Python string helpers

/// Python's `str.strip/lstrip/rstrip(chars)`; `chars` nil strips whitespace.
func pythonStrip(_ s: String, chars: String?, leading: Bool, trailing: Bool) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    func strip(_ u: Unicode.Scalar) -> Bool { set.map { $0.contains(u) } ?? isPythonSpace(u) }
    let u = Array(s.unicodeScalars)
    var lo = 0, hi = u.count
    if leading { while lo < hi, strip(u[lo]) { lo += 1 } }
    if trailing { while hi > lo, strip(u[hi - 1]) { hi -= 1 } }
    var out = String.UnicodeScalarView()
    out.append(contentsOf: u[lo ..< hi])
    return String(out)
}

/// Python's `str.split(sep, maxsplit)` / `rsplit`; `sep` nil splits on runs of whitespace.
func pythonSplit(_ s: String, sep: String?, maxsplit: Int, fromRight: Bool) -> [String] {
    let u = Array(s.unicodeScalars)
    func str(_ r: ArraySlice<Unicode.Scalar>) -> String { var v = String.UnicodeScalarView(); v.append(contentsOf: r); return String(v) }
    guard let sep else {
        var words: [String] = []
        if !fromRight {
            var i = 0
            while i < u.count {
                while i < u.count, isPythonSpace(u[i]) { i += 1 }
                if i == u.count { break }
                if maxsplit >= 0 && words.count == maxsplit {
                    var end = u.count
                    while end > i, isPythonSpace(u[end - 1]) { end -= 1 }
                    words.append(str(u[i ..< end]))
                    break
                }
                let start = i
                while i < u.count, !isPythonSpace(u[i]) { i += 1 }
                words.append(str(u[start ..< i]))
            }
            return words
        }
        var i = u.count
        while i > 0 {
            while i > 0, isPythonSpace(u[i - 1]) { i -= 1 }
            if i == 0 { break }
            if maxsplit >= 0 && words.count == maxsplit {
                var start = 0
                while start < i, isPythonSpace(u[start]) { start += 1 }
                words.append(str(u[start ..< i]))
                break
            }
            let end = i
            while i > 0, !isPythonSpace(u[i - 1]) { i -= 1 }
            words.append(str(u[i ..< end]))
        }
        return words.reversed()
    }
    let p = Array(sep.unicodeScalars)
    var parts: [String] = []
    if !fromRight {
        var start = 0, i = 0
        while i + p.count <= u.count {
            if (maxsplit < 0 || parts.count < maxsplit) && Array(u[i ..< i + p.count]) == p {
                parts.append(str(u[start ..< i]))
                i += p.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(str(u[start...]))
        return parts
    }
    var end = u.count, i = u.count - p.count
    while i >= 0 {
        if (maxsplit < 0 || parts.count < maxsplit) && Array(u[i ..< i + p.count]) == p {
            parts.append(str(u[i + p.count ..< end]))
            end = i
            i -= p.count
        } else {
            i -= 1
        }
    }
    parts.append(str(u[..<end]))
    return parts.reversed()
}

func pythonSplitLines(_ s: String, keepEnds: Bool) -> [String] {
    var lines: [String] = []
    var cur = String.UnicodeScalarView()
    let u = Array(s.unicodeScalars)
    var i = 0
    while i < u.count {
        let c = u[i]
        let breaks: Set<UInt32> = [0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029]
        if breaks.contains(c.value) {
            var end = String.UnicodeScalarView([c])
            if c == "\r", i + 1 < u.count, u[i + 1] == "\n" { end.append("\n"); i += 1 }
            if keepEnds { cur.append(contentsOf: end) }
            lines.append(String(cur))
            cur = String.UnicodeScalarView()
        } else {
            cur.append(c)
        }
        i += 1
    }
    if !cur.isEmpty { lines.append(String(cur)) }
    return lines
}

/// Python's `str.title()`: a cased letter after an uncased character starts a word.
func pythonTitle(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s {
        if c.isCased {
            out += previousCased ? c.lowercased() : c.uppercased()
            previousCased = true
        } else {
            out.append(c)
            previousCased = false
        }
    }
    return out
}

/// Python's `str.capitalize()`: first character upper (title) case, the rest lower.
func pythonCapitalize(_ s: String) -> String {
    guard let first = s.first else { return s }
    return first.uppercased() + s.dropFirst().lowercased()
}

func pythonReplace(_ s: String, _ old: String, _ new: String, count: Int, interp: JinjaInterpreter) throws -> String {
    if old.isEmpty {
        let chars = s.unicodeScalars.map { String($0) }
        let n = count < 0 ? chars.count + 1 : min(count, chars.count + 1)
        try interp.checkSize(s.utf8.count + n * new.utf8.count)
        var out = ""
        for (k, c) in chars.enumerated() {
            if k < n { out += new }
            out += c
        }
        if n == chars.count + 1 { out += new }
        return out
    }
    var pieces = s.components(separatedBy: old)
    if count >= 0 && pieces.count - 1 > count {
        let head = pieces[0 ... count]
        let tail = pieces[(count + 1)...].joined(separator: old)
        pieces = Array(head)
        pieces[pieces.count - 1] += old + tail
    }
    try interp.checkSize(s.utf8.count + (pieces.count - 1) * max(0, new.utf8.count - old.utf8.count))
    return pieces.joined(separator: new)
}

/// Python's `str.format` for `{}`, `{0}`, `{name}` and `{{`/`}}` (no format specs).
func pythonFormat(_ s: String, _ args: JinjaArguments) throws -> String {
    var out = ""
    var auto = 0
    var i = s.startIndex
    while i < s.endIndex {
        let c = s[i]
        if c == "{" {
            let next = s.index(after: i)
            if next < s.endIndex && s[next] == "{" { out.append("{"); i = s.index(after: next); continue }
            guard let close = s[next...].firstIndex(of: "}") else { throw JinjaValueError.type("Single '{' encountered in format string") }
            let field = String(s[next ..< close])
            if field.contains(":") || field.contains("!") || field.contains(".") || field.contains("[") {
                throw JinjaValueError.unsupported("str.format with conversions or format specs ('{\(field)}') is not supported")
            }
            let value: JinjaValue?
            if field.isEmpty { value = auto < args.positional.count ? args.positional[auto] : nil; auto += 1 }
            else if let k = Int(field) { value = k < args.positional.count ? args.positional[k] : nil }
            else { value = args.keyword.first { $0.0 == field }?.1 }
            guard let value else { throw JinjaValueError.type("Replacement index or key '\(field)' missing in format arguments") }
            out += value.pythonString
            i = s.index(after: close)
        } else if c == "}" {
            let next = s.index(after: i)
            guard next < s.endIndex && s[next] == "}" else { throw JinjaValueError.type("Single '}' encountered in format string") }
            out.append("}")
            i = s.index(after: next)
        } else {
            out.append(c)
            i = s.index(after: i)
        }
    }
    return out
}
