import Foundation

/// The global functions a chat template sees under transformers: jinja2's `range`,
/// `dict`, `namespace`, `joiner`, and transformers' `raise_exception(message)` and
/// `strftime_now(format)`.
enum JinjaGlobals {
    static func make(now: @escaping @Sendable () -> Date) -> [String: JinjaValue] {
        var g: [String: JinjaValue] = [:]
        g["range"] = .function(JinjaFunction("range") { interp, args in
            let ints = try args.positional.map { v -> Int in
                guard case .int(let i)? = v.numeric, v.isIntegral else {
                    if case .undefined(let u) = v { throw u.error }
                    throw JinjaValueError.type("'\(v.pythonTypeName)' object cannot be interpreted as an integer")
                }
                return i
            }
            let (start, stop, step): (Int, Int, Int)
            switch ints.count {
            case 1: (start, stop, step) = (0, ints[0], 1)
            case 2: (start, stop, step) = (ints[0], ints[1], 1)
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw JinjaValueError.type("range expected 1 to 3 arguments, got \(ints.count)")
            }
            if step == 0 { throw JinjaValueError.type("range() arg 3 must not be zero") }
            let n = step > 0 ? (stop > start ? (stop - start - 1) / step + 1 : 0)
                : (start > stop ? (start - stop - 1) / (-step) + 1 : 0)
            if n > interp.limits.maxRangeLength {
                throw JinjaValueError.unsupported("range of \(n) items is too big (the sandbox allows \(interp.limits.maxRangeLength))")
            }
            return .list((0 ..< n).map { .int(start + $0 * step) })
        })
        g["dict"] = .function(JinjaFunction("dict") { _, args in
            var d = JinjaDict()
            if let first = args.positional.first {
                guard args.positional.count == 1 else { throw JinjaValueError.type("dict expected at most 1 argument") }
                switch first {
                case .dict(let src): for (k, v) in src { d[k] = v }
                case .list(let pairs):
                    for p in pairs {
                        guard case .list(let kv) = p, kv.count == 2, kv[0].hashKey != nil else {
                            throw JinjaValueError.type("dictionary update sequence element has the wrong length or type")
                        }
                        d[kv[0]] = kv[1]
                    }
                default: throw JinjaValueError.type("'\(first.pythonTypeName)' object is not iterable")
                }
            }
            for (k, v) in args.keyword { d[k] = v }
            return .dict(d)
        })
        g["namespace"] = .function(JinjaFunction("namespace") { _, args in
            var attrs = JinjaDict()
            if let first = args.positional.first {
                guard case .dict(let src) = first, args.positional.count == 1 else {
                    throw JinjaValueError.type("namespace() takes at most one mapping argument")
                }
                for (k, v) in src { attrs[k] = v }
            }
            for (k, v) in args.keyword { attrs[k] = v }
            for k in attrs.keys {
                if case .string(let name) = k, name.hasPrefix("_") {
                    throw JinjaValueError.type("chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(name)'")
                }
            }
            return .object(JinjaObject(typeName: "Namespace", attributes: attrs, assignable: true))
        })
        g["joiner"] = .function(JinjaFunction("joiner") { _, args in
            let sep = args.value(0, "sep")?.pythonString ?? ", "
            final class Used { var used = false; init() {} }
            let state = Used()
            return .function(JinjaFunction("joiner") { _, _ in
                defer { state.used = true }
                return .string(state.used ? sep : "")
            })
        })
        g["raise_exception"] = .function(JinjaFunction("raise_exception") { _, args in
            throw JinjaValueError.type("raise_exception: " + (args.value(0, "message")?.pythonString ?? ""))
        })
        g["strftime_now"] = .function(JinjaFunction("strftime_now") { _, args in
            guard case .string(let format)? = args.value(0, "format") else {
                throw JinjaValueError.type("strftime_now needs a format string")
            }
            return .string(try strftime(format, now()))
        })
        return g
    }

    /// Python's `datetime.strftime` for the common directives, in the local time zone.
    static func strftime(_ format: String, _ date: Date, timeZone: TimeZone = .current) throws -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday, .nanosecond], from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        func pad(_ n: Int, _ w: Int = 2) -> String { let s = String(n); return String(repeating: "0", count: max(0, w - s.count)) + s }
        let year = c.year!, month = c.month!, day = c.day!, hour = c.hour!, minute = c.minute!, second = c.second!
        let weekday = c.weekday! - 1
        var out = ""
        var it = format.makeIterator()
        while let ch = it.next() {
            guard ch == "%" else { out.append(ch); continue }
            guard var d = it.next() else { out.append("%"); break }
            var noPad = false
            if d == "-", let e = it.next() { noPad = true; d = e }
            func num(_ n: Int, _ w: Int = 2) -> String { noPad ? String(n) : pad(n, w) }
            switch d {
            case "Y": out += String(year)
            case "y": out += num(year % 100)
            case "m": out += num(month)
            case "d": out += num(day)
            case "e": out += day < 10 ? " \(day)" : String(day)
            case "H": out += num(hour)
            case "I": out += num(hour % 12 == 0 ? 12 : hour % 12)
            case "M": out += num(minute)
            case "S": out += num(second)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "B": out += months[month - 1]
            case "b", "h": out += String(months[month - 1].prefix(3))
            case "A": out += days[weekday]
            case "a": out += String(days[weekday].prefix(3))
            case "j": out += num(cal.ordinality(of: .day, in: .year, for: date) ?? 0, 3)
            case "f": out += pad((c.nanosecond ?? 0) / 1000, 6)
            case "%": out += "%"
            default: throw JinjaValueError.unsupported("strftime directive %\(d) is not supported")
            }
        }
        return out
    }
}
