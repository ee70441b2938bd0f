/// An expression of the template, with where it starts.
struct JinjaExpr {
    indirect enum Kind {
        case literal(JinjaValue)
        case name(String)
        case list([JinjaExpr])
        case tuple([JinjaExpr])
        case dict([(JinjaExpr, JinjaExpr)])
        /// `a.b` (also `a.0`, which jinja2 turns into an item lookup).
        case attribute(JinjaExpr, String)
        /// `a[b]`
        case item(JinjaExpr, JinjaExpr)
        /// `a[start:stop:step]`
        case slice(JinjaExpr, JinjaExpr?, JinjaExpr?, JinjaExpr?)
        case call(JinjaExpr, JinjaCallArgs)
        case filter(JinjaExpr, String, JinjaCallArgs)
        case test(JinjaExpr, String, JinjaCallArgs)
        /// `not`, `-`, `+`
        case unary(String, JinjaExpr)
        /// `+ - * / // % ** ~`
        case binary(String, JinjaExpr, JinjaExpr)
        case and(JinjaExpr, JinjaExpr)
        case or(JinjaExpr, JinjaExpr)
        /// `a < b <= c`, `a in b`, `a not in b`, chained like Python.
        case compare(JinjaExpr, [(String, JinjaExpr)])
        /// `then if test else otherwise` (otherwise nil: undefined).
        case conditional(test: JinjaExpr, then: JinjaExpr, otherwise: JinjaExpr?)
    }

    var kind: Kind
    var pos: JinjaPosition
}

/// Arguments of a call, filter or test.
struct JinjaCallArgs {
    var positional: [JinjaExpr] = []
    var keyword: [(String, JinjaExpr)] = []
    /// `*args`
    var star: JinjaExpr?
    /// `**kwargs`
    var starStar: JinjaExpr?
}

/// The left side of `set`, `for` and `with`.
indirect enum JinjaTarget {
    case name(String)
    case tuple([JinjaTarget])
    /// `ns.attr` (only on namespaces).
    case attribute(String, String)

    var names: [String] {
        switch self {
        case .name(let n): return [n]
        case .tuple(let ts): return ts.flatMap(\.names)
        case .attribute: return []
        }
    }
}

/// A macro parameter (`name` or `name=default`).
struct JinjaParameter {
    var name: String
    var defaultValue: JinjaExpr?
}

/// A filter applied by `{% set x | f %}` or `{% filter f %}`.
struct JinjaFilterCall {
    var name: String
    var args: JinjaCallArgs
    var pos: JinjaPosition
}

/// A statement or piece of output.
indirect enum JinjaNode {
    case text(String)
    case output(JinjaExpr)
    case ifChain([(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode], pos: JinjaPosition)
    case forLoop(JinjaForLoop)
    case set(JinjaTarget, JinjaExpr, pos: JinjaPosition)
    case setBlock(JinjaTarget, filters: [JinjaFilterCall], body: [JinjaNode], pos: JinjaPosition)
    case macro(JinjaMacroDefinition)
    /// `{% call(params) callee(args) %}body{% endcall %}`
    case callBlock(call: JinjaExpr, callerParameters: [JinjaParameter], body: [JinjaNode], pos: JinjaPosition)
    case filterBlock(filters: [JinjaFilterCall], body: [JinjaNode], pos: JinjaPosition)
    case with([(JinjaTarget, JinjaExpr)], body: [JinjaNode], pos: JinjaPosition)
    /// transformers' `{% generation %}…{% endgeneration %}` (its AssistantTracker extension).
    case generation([JinjaNode], pos: JinjaPosition)
    case breakLoop(JinjaPosition)
    case continueLoop(JinjaPosition)
}

final class JinjaForLoop {
    let target: JinjaTarget
    let iterable: JinjaExpr
    let condition: JinjaExpr?
    let recursive: Bool
    let body: [JinjaNode]
    let otherwise: [JinjaNode]
    let pos: JinjaPosition

    init(target: JinjaTarget, iterable: JinjaExpr, condition: JinjaExpr?, recursive: Bool,
         body: [JinjaNode], otherwise: [JinjaNode], pos: JinjaPosition) {
        self.target = target
        self.iterable = iterable
        self.condition = condition
        self.recursive = recursive
        self.body = body
        self.otherwise = otherwise
        self.pos = pos
    }
}

final class JinjaMacroDefinition {
    let name: String
    let parameters: [JinjaParameter]
    let body: [JinjaNode]
    let pos: JinjaPosition

    init(name: String, parameters: [JinjaParameter], body: [JinjaNode], pos: JinjaPosition) {
        self.name = name
        self.parameters = parameters
        self.body = body
        self.pos = pos
    }
}
