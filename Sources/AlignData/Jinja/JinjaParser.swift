/// Parses lexed segments into statements, with jinja2's grammar and operator
/// precedence (lowest first): `x if c else y`, `or`, `and`, `not`, comparisons and
/// `in`, `+ -`, `~`, `* / // %`, `**` (left-associative, as in jinja2), unary `- +`,
/// then primaries with postfix `.attr`, `[item]`, `(call)`, `|filter` and `is test`
/// (filters and tests bind tighter than every binary operator: `'a' + x | trim` is
/// `'a' + (x | trim)`).
struct JinjaParser {
    private let segments: [JinjaSegment]
    private var s = 0
    private var toks: [JinjaToken] = []
    private var t = 0
    private var nesting = 0
    private var loopDepth = 0
    /// Statements open around the one being parsed (`if`, `for`, `macro`, … inside each other).
    private var blockDepth = 0
    static let maximumNesting = 200
    /// Deeper blocks are refused: parsing and rendering them recurse once per level, and a
    /// hostile template would otherwise overflow the stack.
    static let maximumBlockNesting = 200

    static func parse(_ source: String) throws -> [JinjaNode] {
        var p = JinjaParser(segments: try JinjaLexer.tokenize(source))
        let (nodes, stop) = try p.parseBody(until: [], opener: nil)
        assert(stop == nil)
        return nodes
    }

    private init(segments: [JinjaSegment]) {
        self.segments = segments
    }

    // MARK: - Token cursor

    private var current: JinjaToken { toks[t] }
    private var pos: JinjaPosition { toks[t].pos }

    private func peek(_ k: Int = 1) -> JinjaToken { toks[min(t + k, toks.count - 1)] }

    private mutating func advance() { if t < toks.count - 1 { t += 1 } }

    private func isOp(_ op: String) -> Bool { current.kind == .op(op) }
    private func isName(_ n: String) -> Bool { current.kind == .name(n) }

    private mutating func skipOp(_ op: String) -> Bool {
        if isOp(op) { advance(); return true }
        return false
    }

    private mutating func skipName(_ n: String) -> Bool {
        if isName(n) { advance(); return true }
        return false
    }

    private func describe(_ tok: JinjaToken) -> String {
        switch tok.kind {
        case .name(let n): return "'\(n)'"
        case .string(let v): return "string \(v.debugDescription)"
        case .integer(let v): return "integer \(v)"
        case .float(let v): return "float \(v)"
        case .op(let o): return "'\(o)'"
        case .end: return "end of tag"
        }
    }

    private func fail(_ message: String) -> AlignDataError { JinjaError.syntax(message, at: pos) }

    private mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw fail("expected '\(op)', got \(describe(current))") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let n) = current.kind else { throw fail("expected a name, got \(describe(current))") }
        advance()
        return n
    }

    private mutating func expectEnd() throws {
        guard current.kind == .end else { throw fail("expected the end of the tag, got \(describe(current))") }
    }

    // MARK: - Statements

    /// Parses nodes until a statement tag named in `until`; returns its name (the
    /// token cursor is then just past that name) or nil at the end of the template.
    private mutating func parseBody(until: Set<String>, opener: (String, JinjaPosition)?) throws -> ([JinjaNode], String?) {
        var nodes: [JinjaNode] = []
        while s < segments.count {
            let seg = segments[s]
            s += 1
            switch seg {
            case .text(let text, _):
                nodes.append(.text(text))
            case .output(let tokens, _):
                toks = tokens; t = 0
                let e = try parseTuple()
                try expectEnd()
                nodes.append(.output(e))
            case .statement(let tokens, let tagPos):
                toks = tokens; t = 0
                guard case .name(let tag) = current.kind else {
                    throw JinjaError.syntax("expected a tag name after '{%', got \(describe(current))", at: tagPos)
                }
                if until.contains(tag) {
                    advance()
                    return (nodes, tag)
                }
                nodes.append(try parseStatement(tag, at: tagPos, enclosing: opener))
            }
        }
        if let (name, at) = opener {
            throw JinjaError.syntax("unexpected end of template: the '\(name)' tag at \(at) is never closed (expected \(until.sorted().map { "'\($0)'" }.joined(separator: " or ")))", at: at)
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ tag: String, at tagPos: JinjaPosition, enclosing: (String, JinjaPosition)?) throws -> JinjaNode {
        blockDepth += 1
        defer { blockDepth -= 1 }
        guard blockDepth <= Self.maximumBlockNesting else {
            throw JinjaError.limit("statements nested deeper than \(Self.maximumBlockNesting) (the '\(tag)' tag)", at: tagPos)
        }
        advance()
        switch tag {
        case "if": return try parseIf(at: tagPos)
        case "for": return try parseFor(at: tagPos)
        case "set": return try parseSet(at: tagPos)
        case "macro": return try parseMacro(at: tagPos)
        case "call": return try parseCallBlock(at: tagPos)
        case "filter":
            let filters = try parseFilterChain(startInline: true)
            try expectEnd()
            let (body, _) = try parseBody(until: ["endfilter"], opener: ("filter", tagPos))
            try expectEnd()
            return .filterBlock(filters: filters, body: body, pos: tagPos)
        case "with":
            var assignments: [(JinjaTarget, JinjaExpr)] = []
            while current.kind != .end {
                if !assignments.isEmpty { try expectOp(",") }
                let target = try parseAssignTarget(withNamespace: false, extraEnd: [])
                try expectOp("=")
                assignments.append((target, try parseExpression()))
            }
            let (body, _) = try parseBody(until: ["endwith"], opener: ("with", tagPos))
            try expectEnd()
            return .with(assignments, body: body, pos: tagPos)
        case "generation":
            try expectEnd()
            let (body, _) = try parseBody(until: ["endgeneration"], opener: ("generation", tagPos))
            try expectEnd()
            return .generation(body, pos: tagPos)
        case "break", "continue":
            try expectEnd()
            guard loopDepth > 0 else { throw JinjaError.syntax("'\(tag)' outside of a for loop", at: tagPos) }
            return tag == "break" ? .breakLoop(tagPos) : .continueLoop(tagPos)
        case "include", "import", "from", "extends", "block", "autoescape", "trans", "pluralize":
            throw JinjaError.unsupported("the '{% \(tag) %}' tag is not supported", at: tagPos)
        case "do":
            throw JinjaError.syntax("unknown tag 'do' (jinja2's 'do' extension is not enabled for chat templates)", at: tagPos)
        default:
            if tag.hasPrefix("end") || ["elif", "else"].contains(tag) {
                let inside = enclosing.map { " (the innermost open block is '\($0.0)' at \($0.1))" } ?? ""
                throw JinjaError.syntax("unexpected '\(tag)'\(inside)", at: tagPos)
            }
            throw JinjaError.syntax("unknown tag '\(tag)'", at: tagPos)
        }
    }

    private mutating func parseIf(at tagPos: JinjaPosition) throws -> JinjaNode {
        var branches: [(JinjaExpr, [JinjaNode])] = []
        var otherwise: [JinjaNode] = []
        var test = try parseTuple(withConditional: false)
        try expectEnd()
        while true {
            let (body, stop) = try parseBody(until: ["elif", "else", "endif"], opener: ("if", tagPos))
            branches.append((test, body))
            if stop == "elif" {
                test = try parseTuple(withConditional: false)
                try expectEnd()
                continue
            }
            if stop == "else" {
                try expectEnd()
                (otherwise, _) = try parseBody(until: ["endif"], opener: ("if", tagPos))
            }
            try expectEnd()
            return .ifChain(branches, otherwise: otherwise, pos: tagPos)
        }
    }

    private mutating func parseFor(at tagPos: JinjaPosition) throws -> JinjaNode {
        let target = try parseAssignTarget(withNamespace: false, extraEnd: ["in"])
        guard skipName("in") else { throw fail("expected 'in' in the for loop, got \(describe(current))") }
        let iterable = try parseTuple(withConditional: false, extraEnd: ["recursive"])
        var condition: JinjaExpr?
        if skipName("if") { condition = try parseExpression() }
        let recursive = skipName("recursive")
        if recursive { throw JinjaError.unsupported("recursive for loops ('for … recursive') are not supported", at: tagPos) }
        try expectEnd()
        loopDepth += 1
        let (body, stop) = try parseBody(until: ["endfor", "else"], opener: ("for", tagPos))
        loopDepth -= 1
        var otherwise: [JinjaNode] = []
        if stop == "else" {
            try expectEnd()
            (otherwise, _) = try parseBody(until: ["endfor"], opener: ("for", tagPos))
        }
        try expectEnd()
        return .forLoop(JinjaForLoop(target: target, iterable: iterable, condition: condition, recursive: recursive,
                                     body: body, otherwise: otherwise, pos: tagPos))
    }

    private mutating func parseSet(at tagPos: JinjaPosition) throws -> JinjaNode {
        let target = try parseAssignTarget(withNamespace: true, extraEnd: [])
        if skipOp("=") {
            let value = try parseTuple()
            try expectEnd()
            return .set(target, value, pos: tagPos)
        }
        let filters = isOp("|") ? try parseFilterChain(startInline: false) : []
        try expectEnd()
        let (body, _) = try parseBody(until: ["endset"], opener: ("set", tagPos))
        try expectEnd()
        return .setBlock(target, filters: filters, body: body, pos: tagPos)
    }

    private mutating func parseSignature() throws -> [JinjaParameter] {
        try expectOp("(")
        var params: [JinjaParameter] = []
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            let name = try expectName()
            if skipOp("=") {
                params.append(JinjaParameter(name: name, defaultValue: try parseExpression()))
            } else {
                if params.contains(where: { $0.defaultValue != nil }) { throw fail("non-default argument follows default argument") }
                params.append(JinjaParameter(name: name, defaultValue: nil))
            }
        }
        try expectOp(")")
        return params
    }

    private mutating func parseMacro(at tagPos: JinjaPosition) throws -> JinjaNode {
        let name = try expectName()
        let params = try parseSignature()
        try expectEnd()
        let savedLoop = loopDepth
        loopDepth = 0
        let (body, _) = try parseBody(until: ["endmacro"], opener: ("macro", tagPos))
        loopDepth = savedLoop
        try expectEnd()
        return .macro(JinjaMacroDefinition(name: name, parameters: params, body: body, pos: tagPos))
    }

    private mutating func parseCallBlock(at tagPos: JinjaPosition) throws -> JinjaNode {
        let params = isOp("(") ? try parseSignature() : []
        let call = try parseExpression()
        guard case .call = call.kind else { throw JinjaError.syntax("expected a call after 'call'", at: call.pos) }
        try expectEnd()
        let savedLoop = loopDepth
        loopDepth = 0
        let (body, _) = try parseBody(until: ["endcall"], opener: ("call", tagPos))
        loopDepth = savedLoop
        try expectEnd()
        return .callBlock(call: call, callerParameters: params, body: body, pos: tagPos)
    }

    /// A name, `ns.attr` (when `withNamespace`), or a tuple of names (`a, b` or `(a, b)`).
    private mutating func parseAssignTarget(withNamespace: Bool, extraEnd: Set<String>) throws -> JinjaTarget {
        let start = pos
        if withNamespace, case .name(let ns) = current.kind, peek().kind == .op(".") {
            advance(); advance()
            return .attribute(ns, try expectName())
        }
        let e = try parseTuple(simplified: true, extraEnd: extraEnd)
        func target(_ e: JinjaExpr) throws -> JinjaTarget {
            switch e.kind {
            case .name(let n):
                if ["true", "false", "none", "True", "False", "None"].contains(n) { break }
                return .name(n)
            case .tuple(let items): return .tuple(try items.map(target))
            default: break
            }
            throw JinjaError.syntax("can't assign to this expression", at: e.pos)
        }
        if case .literal = e.kind { throw JinjaError.syntax("can't assign to a literal", at: start) }
        return try target(e)
    }

    // MARK: - Expressions

    private mutating func nest() throws {
        nesting += 1
        if nesting > Self.maximumNesting {
            throw JinjaError.limit("expression nested deeper than \(Self.maximumNesting) levels", at: pos)
        }
    }

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .end, .op(")"): return true
        case .name(let n): return extraEnd.contains(n)
        default: return false
        }
    }

    /// jinja2's `parse_tuple`: one expression, or a tuple when commas separate several.
    private mutating func parseTuple(simplified: Bool = false, withConditional: Bool = true,
                                     extraEnd: Set<String> = [], explicitParentheses: Bool = false) throws -> JinjaExpr {
        let start = pos
        var items: [JinjaExpr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            if simplified {
                items.append(try parsePrimary())
            } else {
                items.append(try parseExpression(withConditional: withConditional))
            }
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw fail("expected an expression, got \(describe(current))") }
        }
        return JinjaExpr(kind: .tuple(items), pos: start)
    }

    mutating func parseExpression(withConditional: Bool = true) throws -> JinjaExpr {
        try nest()
        defer { nesting -= 1 }
        return withConditional ? try parseConditional() : try parseOr()
    }

    private mutating func parseConditional() throws -> JinjaExpr {
        var e = try parseOr()
        while isName("if") {
            let p = pos
            advance()
            let test = try parseOr()
            var otherwise: JinjaExpr?
            if skipName("else") { otherwise = try parseConditional() }
            e = JinjaExpr(kind: .conditional(test: test, then: e, otherwise: otherwise), pos: p)
        }
        return e
    }

    private mutating func parseOr() throws -> JinjaExpr {
        var e = try parseAnd()
        while isName("or") {
            let p = pos
            advance()
            e = JinjaExpr(kind: .or(e, try parseAnd()), pos: p)
        }
        return e
    }

    private mutating func parseAnd() throws -> JinjaExpr {
        var e = try parseNot()
        while isName("and") {
            let p = pos
            advance()
            e = JinjaExpr(kind: .and(e, try parseNot()), pos: p)
        }
        return e
    }

    private mutating func parseNot() throws -> JinjaExpr {
        if isName("not") {
            let p = pos
            advance()
            try nest()
            defer { nesting -= 1 }
            return JinjaExpr(kind: .unary("not", try parseNot()), pos: p)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> JinjaExpr {
        let start = pos
        let first = try parseMath1()
        var ops: [(String, JinjaExpr)] = []
        while true {
            if case .op(let o) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
                advance()
                ops.append((o, try parseMath1()))
            } else if isName("in") {
                advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not") && peek().kind == .name("in") {
                advance(); advance()
                ops.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : JinjaExpr(kind: .compare(first, ops), pos: start)
    }

    private mutating func parseBinary(_ ops: Set<String>, next: (inout JinjaParser) throws -> JinjaExpr) throws -> JinjaExpr {
        var e = try next(&self)
        while case .op(let o) = current.kind, ops.contains(o) {
            let p = pos
            advance()
            e = JinjaExpr(kind: .binary(o, e, try next(&self)), pos: p)
        }
        return e
    }

    private mutating func parseMath1() throws -> JinjaExpr { try parseBinary(["+", "-"]) { try $0.parseConcat() } }
    private mutating func parseConcat() throws -> JinjaExpr { try parseBinary(["~"]) { try $0.parseMath2() } }
    private mutating func parseMath2() throws -> JinjaExpr { try parseBinary(["*", "/", "//", "%"]) { try $0.parsePow() } }
    private mutating func parsePow() throws -> JinjaExpr { try parseBinary(["**"]) { try $0.parseUnary() } }

    private mutating func parseUnary(withFilter: Bool = true) throws -> JinjaExpr {
        var e: JinjaExpr
        if case .op(let o) = current.kind, o == "-" || o == "+" {
            let p = pos
            advance()
            try nest()
            defer { nesting -= 1 }
            e = JinjaExpr(kind: .unary(o, try parseUnary(withFilter: false)), pos: p)
        } else {
            e = try parsePrimary()
        }
        e = try parsePostfix(e)
        if withFilter { e = try parseFilterExpr(e) }
        return e
    }

    private mutating func parsePrimary() throws -> JinjaExpr {
        let p = pos
        switch current.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return JinjaExpr(kind: .literal(.bool(true)), pos: p)
            case "false", "False": return JinjaExpr(kind: .literal(.bool(false)), pos: p)
            case "none", "None": return JinjaExpr(kind: .literal(.none), pos: p)
            default: return JinjaExpr(kind: .name(n), pos: p)
            }
        case .string(let v):
            advance()
            var value = v
            while case .string(let more) = current.kind { value += more; advance() }
            return JinjaExpr(kind: .literal(.string(value)), pos: p)
        case .integer(let v):
            advance()
            return JinjaExpr(kind: .literal(.int(v)), pos: p)
        case .float(let v):
            advance()
            return JinjaExpr(kind: .literal(.float(v)), pos: p)
        case .op("("):
            advance()
            try nest()
            defer { nesting -= 1 }
            let e = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return e
        case .op("["):
            advance()
            try nest()
            defer { nesting -= 1 }
            var items: [JinjaExpr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return JinjaExpr(kind: .list(items), pos: p)
        case .op("{"):
            advance()
            try nest()
            defer { nesting -= 1 }
            var items: [(JinjaExpr, JinjaExpr)] = []
            while !isOp("}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                items.append((key, try parseExpression()))
            }
            try expectOp("}")
            return JinjaExpr(kind: .dict(items), pos: p)
        default:
            throw fail("unexpected \(describe(current))")
        }
    }

    private mutating func parsePostfix(_ node: JinjaExpr) throws -> JinjaExpr {
        var e = node
        while true {
            let p = pos
            if skipOp(".") {
                switch current.kind {
                case .name(let n):
                    advance()
                    e = JinjaExpr(kind: .attribute(e, n), pos: p)
                case .integer(let k):
                    advance()
                    e = JinjaExpr(kind: .item(e, JinjaExpr(kind: .literal(.int(k)), pos: p)), pos: p)
                default:
                    throw fail("expected an attribute name after '.', got \(describe(current))")
                }
            } else if skipOp("[") {
                var subs: [JinjaExpr] = []
                while !isOp("]") {
                    if !subs.isEmpty { try expectOp(",") }
                    subs.append(try parseSubscribed(on: e))
                    if !isOp(",") { break }
                }
                try expectOp("]")
                guard let first = subs.first else { throw fail("expected a subscript") }
                if subs.count == 1 {
                    if case .slice = first.kind { e = first } else { e = JinjaExpr(kind: .item(e, first), pos: p) }
                } else {
                    throw JinjaError.unsupported("tuple subscripts (a[x, y]) are not supported", at: p)
                }
            } else if isOp("(") {
                e = JinjaExpr(kind: .call(e, try parseCallArgs()), pos: p)
            } else {
                return e
            }
        }
    }

    /// One subscript: an expression, or a slice on `target`.
    private mutating func parseSubscribed(on target: JinjaExpr) throws -> JinjaExpr {
        let p = pos
        var start: JinjaExpr?
        if !isOp(":") {
            let e = try parseExpression()
            if !isOp(":") { return e }
            start = e
        }
        advance()  // ':'
        var stop: JinjaExpr?
        if !isOp(":") && !isOp("]") && !isOp(",") { stop = try parseExpression() }
        var step: JinjaExpr?
        if skipOp(":") {
            if !isOp("]") && !isOp(",") { step = try parseExpression() }
        }
        return JinjaExpr(kind: .slice(target, start, stop, step), pos: p)
    }

    private mutating func parseCallArgs() throws -> JinjaCallArgs {
        let open = pos
        try expectOp("(")
        try nest()
        defer { nesting -= 1 }
        var args = JinjaCallArgs()
        var needComma = false
        func ensure(_ ok: Bool) throws { if !ok { throw JinjaError.syntax("invalid syntax for function call expression", at: open) } }
        while !isOp(")") {
            if needComma {
                try expectOp(",")
                if isOp(")") { break }
            }
            if skipOp("*") {
                try ensure(args.star == nil && args.starStar == nil)
                args.star = try parseExpression()
            } else if skipOp("**") {
                try ensure(args.starStar == nil)
                args.starStar = try parseExpression()
            } else if case .name(let key) = current.kind, peek().kind == .op("=") {
                try ensure(args.starStar == nil)
                advance(); advance()
                args.keyword.append((key, try parseExpression()))
            } else {
                try ensure(args.star == nil && args.starStar == nil && args.keyword.isEmpty)
                args.positional.append(try parseExpression())
            }
            needComma = true
        }
        try expectOp(")")
        return args
    }

    /// `| f(args) | g …` and `is test`, and calls after them.
    private mutating func parseFilterExpr(_ node: JinjaExpr) throws -> JinjaExpr {
        var e = node
        while true {
            if isOp("|") {
                for f in try parseFilterChain(startInline: false) {
                    e = JinjaExpr(kind: .filter(e, f.name, f.args), pos: f.pos)
                }
            } else if isName("is") {
                e = try parseTest(e)
            } else if isOp("(") {
                e = JinjaExpr(kind: .call(e, try parseCallArgs()), pos: pos)
            } else {
                return e
            }
        }
    }

    private mutating func parseFilterChain(startInline: Bool) throws -> [JinjaFilterCall] {
        var filters: [JinjaFilterCall] = []
        var inline = startInline
        while isOp("|") || inline {
            if !inline { advance() }
            inline = false
            let p = pos
            var name = try expectName()
            while skipOp(".") { name += "." + (try expectName()) }
            guard JinjaFilters.known.contains(name) else {
                throw JinjaError.unsupported("no filter named '\(name)' (not a jinja2 filter, or one this engine does not implement)", at: p)
            }
            let args = isOp("(") ? try parseCallArgs() : JinjaCallArgs()
            filters.append(JinjaFilterCall(name: name, args: args, pos: p))
        }
        return filters
    }

    private mutating func parseTest(_ node: JinjaExpr) throws -> JinjaExpr {
        let p = pos
        advance()  // 'is'
        let negated = skipName("not")
        let namePos = pos
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        guard JinjaTestFunctions.known.contains(name) else {
            throw JinjaError.unsupported("no test named '\(name)' (not a jinja2 test, or one this engine does not implement)", at: namePos)
        }
        var args = JinjaCallArgs()
        if isOp("(") {
            args = try parseCallArgs()
        } else {
            var startsArgument = false
            switch current.kind {
            case .name(let n): startsArgument = !["else", "or", "and"].contains(n)
            case .string, .integer, .float, .op("("), .op("["), .op("{"): startsArgument = true
            default: break
            }
            if startsArgument {
                if isName("is") { throw fail("you cannot chain multiple tests with 'is'") }
                args.positional = [try parsePostfix(try parsePrimary())]
            }
        }
        let test = JinjaExpr(kind: .test(node, name, args), pos: p)
        return negated ? JinjaExpr(kind: .unary("not", test), pos: p) : test
    }
}
