/// Limits that keep any template, however written, from hanging or exhausting
/// memory. Exceeding one is an `AlignDataError` of kind `.unsupported`.
public struct JinjaLimits: Sendable, Equatable {
    /// Bytes written to the output and captured blocks, and the largest string or list
    /// an operation may build (in bytes or items).
    public var maxOutputBytes: Int
    /// Loop iterations in one render, over all loops.
    public var maxLoopIterations: Int
    /// Nested macro and `caller()` calls.
    public var maxCallDepth: Int
    /// Longest `range()` (jinja2's sandbox refuses more than 100,000 items).
    public var maxRangeLength: Int

    public init(maxOutputBytes: Int = 64 << 20, maxLoopIterations: Int = 1_000_000,
                maxCallDepth: Int = 100, maxRangeLength: Int = 100_000) {
        self.maxOutputBytes = maxOutputBytes
        self.maxLoopIterations = maxLoopIterations
        self.maxCallDepth = maxCallDepth
        self.maxRangeLength = maxRangeLength
    }
}

/// Executes a parsed template. One interpreter renders once (`JinjaTemplate.render`
/// makes a new one per call).
///
/// Scoping follows jinja2: a for loop's body gets a fresh scope on every iteration
/// (assignments in it are not seen after the loop, nor by the next iteration);
/// `if` does not open a scope; a macro runs in a scope over the template's top-level
/// variables (not the caller's loop variables); `namespace()` objects carry state out
/// of loops.
public final class JinjaInterpreter {
    enum Flow { case normal, breakLoop, continueLoop }

    let limits: JinjaLimits
    private var globals: [String: JinjaValue]
    /// frames[0]: the render context and top-level assignments; later frames: loop
    /// bodies, `with` blocks, macro calls.
    private var frames: [[String: JinjaValue]]
    /// Output buffers: [0] is the template's output; more while a block is captured
    /// (macro call, `{% set %}` block, `{% filter %}` block).
    private var buffers: [String] = [""]
    private var bytesWritten = 0
    private var iterations = 0
    private var callDepth = 0
    /// UTF-8 byte ranges of buffers[0] written inside `{% generation %}` blocks.
    private(set) var generationRanges: [Range<Int>] = []

    init(context: [String: JinjaValue], globals: [String: JinjaValue], limits: JinjaLimits) {
        self.limits = limits
        self.globals = globals
        self.frames = [context]
    }

    var output: String { buffers[0] }

    // MARK: - Errors

    func located(_ error: JinjaValueError, _ pos: JinjaPosition) -> AlignDataError {
        switch error.kind {
        case .runtime: return JinjaError.runtime(error.message, at: pos)
        case .unsupported: return JinjaError.unsupported(error.message, at: pos)
        }
    }

    /// Fails when building a string or list of `size` bytes/items would pass the output limit.
    func checkSize(_ size: Int) throws {
        if size > limits.maxOutputBytes {
            throw JinjaValueError.unsupported("a value of \(size) bytes or items would pass the output limit of \(limits.maxOutputBytes)")
        }
    }

    // MARK: - Output

    private func write(_ s: String, at pos: JinjaPosition) throws {
        bytesWritten += s.utf8.count
        if bytesWritten > limits.maxOutputBytes {
            throw JinjaError.limit("output passes the limit of \(limits.maxOutputBytes) bytes", at: pos)
        }
        buffers[buffers.count - 1] += s
    }

    /// Runs `body` with its output captured, and returns the output.
    private func capture(_ body: () throws -> Flow) throws -> (String, Flow) {
        buffers.append("")
        defer { buffers.removeLast() }
        let flow = try body()
        return (buffers[buffers.count - 1], flow)
    }

    // MARK: - Variables

    func lookup(_ name: String) -> JinjaValue {
        for frame in frames.reversed() {
            if let v = frame[name] { return v }
        }
        if let v = globals[name] { return v }
        return .undefined(JinjaUndefined(hint: "'\(name)' is undefined"))
    }

    private func assign(_ name: String, _ value: JinjaValue) {
        frames[frames.count - 1][name] = value
    }

    private func assign(_ target: JinjaTarget, _ value: JinjaValue, at pos: JinjaPosition) throws {
        switch target {
        case .name(let n):
            assign(n, value)
        case .tuple(let targets):
            let items = try iterate(value, at: pos)
            if items.count != targets.count {
                throw JinjaError.runtime(items.count > targets.count ? "too many values to unpack (expected \(targets.count))"
                                            : "not enough values to unpack (expected \(targets.count), got \(items.count))", at: pos)
            }
            for (t, v) in zip(targets, items) { try assign(t, v, at: pos) }
        case .attribute(let ns, let attr):
            guard case .object(let o) = lookup(ns), o.assignable else {
                throw JinjaError.runtime("cannot assign attribute on non-namespace object '\(ns)'", at: pos)
            }
            if attr.hasPrefix("_") {
                throw JinjaError.runtime("chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(attr)'", at: pos)
            }
            o.attributes[attr] = value
        }
    }

    // MARK: - Statements

    func run(_ nodes: [JinjaNode]) throws {
        _ = try execute(nodes)
    }

    private func execute(_ nodes: [JinjaNode]) throws -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func execute(_ node: JinjaNode) throws -> Flow {
        switch node {
        case .text(let s):
            try write(s, at: JinjaPosition(line: 0, column: 0))
        case .output(let e):
            let v = try eval(e)
            try write(v.pythonString, at: e.pos)
        case .ifChain(let branches, let otherwise, _):
            for (test, body) in branches where try eval(test).isTruthy {
                return try execute(body)
            }
            return try execute(otherwise)
        case .forLoop(let loop):
            try runLoop(loop)
        case .set(let target, let e, let pos):
            try assign(target, try eval(e), at: pos)
        case .setBlock(let target, let filters, let body, let pos):
            let (text, _) = try capture { try execute(body) }
            var value = JinjaValue.string(text)
            for f in filters { value = try applyFilter(f, to: value) }
            try assign(target, value, at: pos)
        case .macro(let def):
            assign(def.name, .function(makeMacro(def)))
        case .callBlock(let call, let params, let body, let pos):
            guard case .call(let calleeExpr, let args) = call.kind else { break }
            let snapshot = frames
            let caller = JinjaFunction("caller") { interp, arguments in
                try interp.invokeBody(body, parameters: params, arguments: arguments, scope: snapshot, name: "caller", at: pos)
            }
            let callee = try eval(calleeExpr)
            var arguments = try evalArguments(args)
            arguments.keyword.append(("caller", .function(caller)))
            let result = try callValue(callee, arguments, at: call.pos)
            try write(result.pythonString, at: pos)
        case .filterBlock(let filters, let body, _):
            let (text, _) = try capture { try execute(body) }
            var value = JinjaValue.string(text)
            for f in filters { value = try applyFilter(f, to: value) }
            try write(value.pythonString, at: filters.first?.pos ?? JinjaPosition(line: 0, column: 0))
        case .with(let assignments, let body, let pos):
            var frame: [String: JinjaValue] = [:]
            for (target, e) in assignments {
                let v = try eval(e)
                guard case .name(let n) = target else {
                    throw JinjaError.unsupported("'with' assigns only to plain names here", at: pos)
                }
                frame[n] = v
            }
            frames.append(frame)
            defer { frames.removeLast() }
            return try execute(body)
        case .generation(let body, let pos):
            guard buffers.count == 1 else {
                throw JinjaError.unsupported("a {% generation %} block inside a macro, call, set or filter block is not supported", at: pos)
            }
            let start = buffers[0].utf8.count
            let flow = try execute(body)
            generationRanges.append(start ..< buffers[0].utf8.count)
            return flow
        case .breakLoop: return .breakLoop
        case .continueLoop: return .continueLoop
        }
        return .normal
    }

    private func applyFilter(_ f: JinjaFilterCall, to value: JinjaValue) throws -> JinjaValue {
        let args = try evalArguments(f.args)
        do {
            return try JinjaFilters.apply(f.name, value, args, self)
        } catch let e as JinjaValueError {
            throw located(e, f.pos)
        }
    }

    private func runLoop(_ loop: JinjaForLoop) throws {
        if loop.recursive {
            throw JinjaError.unsupported("recursive for loops are not supported", at: loop.pos)
        }
        var items = try iterate(try eval(loop.iterable), at: loop.iterable.pos)
        if let condition = loop.condition {
            var kept: [JinjaValue] = []
            for item in items {
                frames.append([:])
                defer { frames.removeLast() }
                try assign(loop.target, item, at: loop.pos)
                if try eval(condition).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try execute(loop.otherwise)
            return
        }
        let n = items.count
        final class ChangedState { var last: JinjaValue?; init() {} }
        let changed = ChangedState()
        for (k, item) in items.enumerated() {
            iterations += 1
            if iterations > limits.maxLoopIterations {
                throw JinjaError.limit("more than \(limits.maxLoopIterations) loop iterations", at: loop.pos)
            }
            var attrs = JinjaDict()
            attrs["index"] = .int(k + 1)
            attrs["index0"] = .int(k)
            attrs["revindex"] = .int(n - k)
            attrs["revindex0"] = .int(n - k - 1)
            attrs["first"] = .bool(k == 0)
            attrs["last"] = .bool(k == n - 1)
            attrs["length"] = .int(n)
            attrs["depth"] = .int(1)
            attrs["depth0"] = .int(0)
            attrs["previtem"] = k > 0 ? items[k - 1] : .undefined(JinjaUndefined(hint: "there is no previous item"))
            attrs["nextitem"] = k < n - 1 ? items[k + 1] : .undefined(JinjaUndefined(hint: "there is no next item"))
            attrs["cycle"] = .function(JinjaFunction("cycle") { _, args in
                guard !args.positional.isEmpty else { throw JinjaValueError.type("no items for cycling given") }
                return args.positional[k % args.positional.count]
            })
            attrs["changed"] = .function(JinjaFunction("changed") { _, args in
                let v = JinjaValue.list(args.positional)
                defer { changed.last = v }
                return .bool(changed.last.map { $0 != v } ?? true)
            })
            frames.append(["loop": .object(JinjaObject(typeName: "LoopContext", attributes: attrs, assignable: false))])
            defer { frames.removeLast() }
            try assign(loop.target, item, at: loop.pos)
            let flow = try execute(loop.body)
            if flow == .breakLoop { break }
        }
    }

    // MARK: - Macros

    private func makeMacro(_ def: JinjaMacroDefinition) -> JinjaFunction {
        JinjaFunction(def.name) { interp, arguments in
            try interp.invokeBody(def.body, parameters: def.parameters, arguments: arguments,
                                  scope: [interp.frames[0]], name: def.name, at: def.pos)
        }
    }

    /// Runs a macro or caller body with `arguments` bound to `parameters` in a new
    /// frame over `scope`, and returns its output.
    func invokeBody(_ body: [JinjaNode], parameters: [JinjaParameter], arguments: JinjaArguments,
                    scope: [[String: JinjaValue]], name: String, at pos: JinjaPosition) throws -> JinjaValue {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > limits.maxCallDepth {
            throw JinjaError.limit("macro calls nested deeper than \(limits.maxCallDepth)", at: pos)
        }
        let saved = frames
        frames = scope + [[:]]
        defer { frames = saved }
        var extra: [JinjaValue] = []
        for (k, v) in arguments.positional.enumerated() {
            if k < parameters.count { assign(parameters[k].name, v) } else { extra.append(v) }
        }
        var kwargs = JinjaDict()
        for (key, v) in arguments.keyword {
            if key == "caller" { assign("caller", v); continue }
            if let k = parameters.firstIndex(where: { $0.name == key }) {
                if k < arguments.positional.count {
                    throw JinjaValueError.type("macro '\(name)' got multiple values for argument '\(key)'")
                }
                assign(key, v)
            } else {
                kwargs[key] = v
            }
        }
        for p in parameters.dropFirst(arguments.positional.count) where frames[frames.count - 1][p.name] == nil {
            if let d = p.defaultValue {
                assign(p.name, try eval(d))
            } else {
                assign(p.name, .undefined(JinjaUndefined(hint: "parameter '\(p.name)' was not provided")))
            }
        }
        assign("varargs", .list(extra))
        assign("kwargs", .dict(kwargs))
        let (text, _) = try capture { try execute(body) }
        return .string(text)
    }

    // MARK: - Expressions

    func eval(_ e: JinjaExpr) throws -> JinjaValue {
        do {
            return try evalUnlocated(e)
        } catch let err as JinjaValueError {
            throw located(err, e.pos)
        }
    }

    private func evalUnlocated(_ e: JinjaExpr) throws -> JinjaValue {
        switch e.kind {
        case .literal(let v):
            return v
        case .name(let n):
            return lookup(n)
        case .list(let items):
            return .list(try items.map(eval))
        case .tuple(let items):
            return .list(try items.map(eval))
        case .dict(let pairs):
            var d = JinjaDict()
            for (k, v) in pairs {
                let key = try eval(k)
                guard key.hashKey != nil else { throw JinjaValueError.type("unhashable type: '\(key.pythonTypeName)'") }
                d[key] = try eval(v)
            }
            return .dict(d)
        case .attribute(let obj, let name):
            return try JinjaMethods.attribute(try eval(obj), name)
        case .item(let obj, let key):
            return try JinjaMethods.item(try eval(obj), try eval(key))
        case .slice(let obj, let start, let stop, let step):
            return try JinjaOperators.slice(try eval(obj), try start.map(eval), try stop.map(eval), try step.map(eval))
        case .call(let callee, let args):
            let f = try eval(callee)
            return try callValue(f, try evalArguments(args), at: e.pos)
        case .filter(let value, let name, let args):
            let v = try eval(value)
            return try JinjaFilters.apply(name, v, try evalArguments(args), self)
        case .test(let value, let name, let args):
            let v = try eval(value)
            return .bool(try JinjaTestFunctions.apply(name, v, try evalArguments(args), self))
        case .unary(let op, let operand):
            let v = try eval(operand)
            switch op {
            case "not": return .bool(!v.isTruthy)
            default: return try JinjaOperators.unary(op, v)
            }
        case .binary(let op, let l, let r):
            return try JinjaOperators.binary(op, try eval(l), try eval(r), self)
        case .and(let l, let r):
            let a = try eval(l)
            return a.isTruthy ? try eval(r) : a
        case .or(let l, let r):
            let a = try eval(l)
            return a.isTruthy ? a : try eval(r)
        case .compare(let first, let ops):
            var left = try eval(first)
            for (op, rightExpr) in ops {
                let right = try eval(rightExpr)
                if !(try JinjaOperators.compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let test, let then, let otherwise):
            if try eval(test).isTruthy { return try eval(then) }
            return try otherwise.map(eval) ?? .undefined(JinjaUndefined(hint: "the inline if-expression on \(e.pos) evaluated to false and no else section was defined"))
        }
    }

    func evalArguments(_ args: JinjaCallArgs) throws -> JinjaArguments {
        var out = JinjaArguments()
        out.positional = try args.positional.map(eval)
        out.keyword = try args.keyword.map { ($0.0, try eval($0.1)) }
        if let star = args.star {
            out.positional += try iterate(try eval(star), at: star.pos)
        }
        if let starStar = args.starStar {
            guard case .dict(let d) = try eval(starStar) else {
                throw JinjaError.runtime("argument after ** must be a mapping", at: starStar.pos)
            }
            for (k, v) in d {
                guard case .string(let key) = k else { throw JinjaError.runtime("keywords must be strings", at: starStar.pos) }
                out.keyword.append((key, v))
            }
        }
        return out
    }

    func callValue(_ f: JinjaValue, _ args: JinjaArguments, at pos: JinjaPosition) throws -> JinjaValue {
        switch f {
        case .function(let fn):
            do {
                return try fn.body(self, args)
            } catch let err as JinjaValueError {
                throw located(err, pos)
            }
        case .undefined(let u):
            throw located(u.error, pos)
        default:
            throw JinjaError.runtime("'\(f.pythonTypeName)' object is not callable", at: pos)
        }
    }

    /// The items `for` iterates over: a list's items, a string's characters, a dict's
    /// keys; nothing for undefined.
    func iterate(_ v: JinjaValue, at pos: JinjaPosition) throws -> [JinjaValue] {
        do {
            return try JinjaOperators.iterate(v)
        } catch let err as JinjaValueError {
            throw located(err, pos)
        }
    }
}
