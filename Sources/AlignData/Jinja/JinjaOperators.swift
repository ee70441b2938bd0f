import Foundation

/// Python's operators on template values: arithmetic, concatenation, comparisons,
/// membership, slicing and iteration. Integers are 64-bit; an overflow is an error
/// (Python would switch to big integers).
enum JinjaOperators {
    static func unary(_ op: String, _ v: JinjaValue) throws -> JinjaValue {
        if case .undefined(let u) = v { throw u.error }
        switch (op, v.numeric) {
        case ("-", .int(let i)?):
            guard i != .min else { throw JinjaValueError.unsupported("integer overflow in -\(i)") }
            return .int(-i)
        case ("-", .float(let d)?): return .float(-d)
        case ("+", .int(let i)?): return .int(i)
        case ("+", .float(let d)?): return .float(d)
        default: throw JinjaValueError.type("bad operand type for unary \(op): '\(v.pythonTypeName)'")
        }
    }

    private static func overflow(_ op: String) -> JinjaValueError {
        JinjaValueError.unsupported("integer overflow in '\(op)' (integers are 64-bit here)")
    }

    private static func unsupportedOperands(_ op: String, _ a: JinjaValue, _ b: JinjaValue) -> JinjaValueError {
        JinjaValueError.type("unsupported operand type(s) for \(op): '\(a.pythonTypeName)' and '\(b.pythonTypeName)'")
    }

    static func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue, _ interp: JinjaInterpreter) throws -> JinjaValue {
        if op == "~" {
            let s = a.pythonString + b.pythonString
            try interp.checkSize(s.utf8.count)
            return .string(s)
        }
        if case .undefined(let u) = a { throw u.error }
        if case .undefined(let u) = b { throw u.error }
        switch op {
        case "+":
            switch (a, b) {
            case (.string(let x), .string(let y)):
                try interp.checkSize(x.utf8.count + y.utf8.count)
                return .string(x + y)
            case (.list(let x), .list(let y)):
                try interp.checkSize(x.count + y.count)
                return .list(x + y)
            default: break
            }
        case "*":
            switch (a, b) {
            case (.string(let s), _), (_, .string(let s)):
                guard case .int(let n)? = (a.stringValue != nil ? b : a).numeric, (a.stringValue != nil ? b : a).isIntegral else { break }
                if n <= 0 { return .string("") }
                let (size, o) = s.utf8.count.multipliedReportingOverflow(by: n)
                if o { throw overflow(op) }
                try interp.checkSize(size)
                return .string(String(repeating: s, count: n))
            case (.list(let l), _), (_, .list(let l)):
                let other: JinjaValue
                if case .list = a { other = b } else { other = a }
                guard case .int(let n)? = other.numeric, other.isIntegral else { break }
                if n <= 0 { return .list([]) }
                let (size, o) = l.count.multipliedReportingOverflow(by: n)
                if o { throw overflow(op) }
                try interp.checkSize(size)
                return .list(Array([[JinjaValue]](repeating: l, count: n).joined()))
            default: break
            }
        case "%":
            if case .string = a {
                throw JinjaValueError.unsupported("printf-style string formatting ('…' % value) is not supported")
            }
        default: break
        }
        guard let x = a.numeric, let y = b.numeric else { throw unsupportedOperands(op, a, b) }
        if case .int(let i) = x, case .int(let j) = y {
            switch op {
            case "+": let (r, o) = i.addingReportingOverflow(j); if o { throw overflow(op) }; return .int(r)
            case "-": let (r, o) = i.subtractingReportingOverflow(j); if o { throw overflow(op) }; return .int(r)
            case "*": let (r, o) = i.multipliedReportingOverflow(by: j); if o { throw overflow(op) }; return .int(r)
            case "/":
                if j == 0 { throw JinjaValueError.type("division by zero") }
                return .float(Double(i) / Double(j))
            case "//":
                if j == 0 { throw JinjaValueError.type("integer division or modulo by zero") }
                if i == .min && j == -1 { throw overflow(op) }
                var q = i / j
                if (i % j != 0) && ((i < 0) != (j < 0)) { q -= 1 }
                return .int(q)
            case "%":
                if j == 0 { throw JinjaValueError.type("integer division or modulo by zero") }
                if j == -1 { return .int(0) }
                var r = i % j
                if r != 0 && ((r < 0) != (j < 0)) { r += j }
                return .int(r)
            case "**":
                if j < 0 { return .float(pow(Double(i), Double(j))) }
                var result = 1, base = i, e = j
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw overflow(op) }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (bb, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw overflow(op) }
                        base = bb
                    }
                }
                return .int(result)
            default: break
            }
        }
        let p = x.double, q = y.double
        switch op {
        case "+": return .float(p + q)
        case "-": return .float(p - q)
        case "*": return .float(p * q)
        case "/":
            if q == 0 { throw JinjaValueError.type("float division by zero") }
            return .float(p / q)
        case "//":
            if q == 0 { throw JinjaValueError.type("float floor division by zero") }
            return .float((p / q).rounded(.down))
        case "%":
            if q == 0 { throw JinjaValueError.type("float modulo") }
            var r = fmod(p, q)
            if r != 0 && ((r < 0) != (q < 0)) { r += q }
            return .float(r)
        case "**":
            if p < 0 && q != q.rounded() { throw JinjaValueError.unsupported("a negative number to a fractional power is complex") }
            return .float(pow(p, q))
        default:
            throw unsupportedOperands(op, a, b)
        }
    }

    static func compare(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> Bool {
        switch op {
        case "==": return a == b
        case "!=": return a != b
        case "<": return try JinjaValue.lessThan(a, b)
        case ">": return try JinjaValue.lessThan(b, a)
        case "<=": return try !JinjaValue.lessThan(b, a)
        case ">=": return try !JinjaValue.lessThan(a, b)
        case "in": return try contains(b, a)
        case "not in": return try !contains(b, a)
        default: throw JinjaValueError.unsupported("unknown comparison '\(op)'")
        }
    }

    /// Python's `item in container`.
    static func contains(_ container: JinjaValue, _ item: JinjaValue) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else {
                throw JinjaValueError.type("'in <string>' requires string as left operand, not \(item.pythonTypeName)")
            }
            return sub.isEmpty || s.range(of: sub, options: .literal) != nil
        case .list(let l): return l.contains(item)
        case .dict(let d): return d[item] != nil
        case .object(let o): return o.attributes[item] != nil
        case .undefined: return false
        default: throw JinjaValueError.type("argument of type '\(container.pythonTypeName)' is not iterable")
        }
    }

    static func iterate(_ v: JinjaValue) throws -> [JinjaValue] {
        switch v {
        case .list(let l): return l
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .dict(let d): return d.keys
        case .undefined: return []
        default: throw JinjaValueError.type("'\(v.pythonTypeName)' object is not iterable")
        }
    }

    /// Python's slice `v[start:stop:step]` on lists and strings (by code point).
    static func slice(_ v: JinjaValue, _ start: JinjaValue?, _ stop: JinjaValue?, _ step: JinjaValue?) throws -> JinjaValue {
        func bound(_ x: JinjaValue?) throws -> Int? {
            guard let x, !x.isNone else { return nil }
            guard case .int(let i)? = x.numeric, x.isIntegral else {
                if case .undefined(let u) = x { throw u.error }
                throw JinjaValueError.type("slice indices must be integers or None")
            }
            return i
        }
        let st = try bound(step) ?? 1
        if st == 0 { throw JinjaValueError.type("slice step cannot be zero") }
        func indices(_ n: Int) throws -> [Int] {
            var lo: Int, hi: Int
            if st > 0 {
                lo = try bound(start).map { $0 < 0 ? max($0 + n, 0) : min($0, n) } ?? 0
                hi = try bound(stop).map { $0 < 0 ? max($0 + n, 0) : min($0, n) } ?? n
                return lo < hi ? Array(stride(from: lo, to: hi, by: st)) : []
            } else {
                lo = try bound(start).map { $0 < 0 ? max($0 + n, -1) : min($0, n - 1) } ?? n - 1
                hi = try bound(stop).map { $0 < 0 ? max($0 + n, -1) : min($0, n - 1) } ?? -1
                return lo > hi ? Array(stride(from: lo, to: hi, by: st)) : []
            }
        }
        switch v {
        case .list(let l): return .list(try indices(l.count).map { l[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        case .undefined(let u): throw u.error
        default: throw JinjaValueError.type("'\(v.pythonTypeName)' object is not subscriptable")
        }
    }
}

extension JinjaValue {
    /// An int or a bool (Python's `int` subclasses), not a float.
    var isIntegral: Bool {
        switch self {
        case .int, .bool: return true
        default: return false
        }
    }
}
