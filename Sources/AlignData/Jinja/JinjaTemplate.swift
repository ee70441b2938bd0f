import Foundation

/// A compiled Jinja template, rendered like jinja2's `ImmutableSandboxedEnvironment`
/// as transformers configures it for chat templates (`trim_blocks`, `lstrip_blocks`,
/// loop controls, `{% generation %}`, `raise_exception`, `strftime_now`, its `tojson`).
///
/// Supported: `{{ }}`, `{% %}`, `{# #}` with `-`/`+` whitespace control; `if/elif/else`,
/// `for` (loop variables, `if` filter, `else`, unpacking, `break`/`continue`), `set`
/// (also block set and `ns.attr`), `macro` and `call`, `filter` blocks, `with`, `raw`,
/// `generation`; Python-style expressions, the filters in `JinjaFilters.known`, the
/// tests in `JinjaTestFunctions.known`, and the common str/dict/list methods.
/// Not supported (an error naming the construct and its line): `include`, `import`,
/// `extends`, `block`, recursive loops, unknown filters and tests, printf-style `%`.
/// Tuples are lists here, so `{{ (1, 2) }}` prints `[1, 2]` where Python prints `(1, 2)`.
public struct JinjaTemplate: @unchecked Sendable {
    public let source: String
    let nodes: [JinjaNode]

    /// Parses `source`; a syntax error or an unsupported construct throws `AlignDataError`.
    public init(_ source: String) throws {
        self.source = source
        self.nodes = try JinjaParser.parse(source)
    }

    /// The output of a render, and the byte ranges written by `{% generation %}` blocks.
    public struct Rendering: Sendable, Equatable {
        public var text: String
        /// UTF-8 byte ranges of `text`, one per executed `{% generation %}` block, in order.
        public var generationRanges: [Range<Int>]
    }

    /// Renders with `context` as the template's variables.
    /// - Parameter now: the clock `strftime_now` reads (default: the current time).
    public func render(_ context: [String: JinjaValue], limits: JinjaLimits = JinjaLimits(),
                       now: @escaping @Sendable () -> Date = { Date() }) throws -> Rendering {
        let interp = JinjaInterpreter(context: context, globals: JinjaGlobals.make(now: now), limits: limits)
        try interp.run(nodes)
        return Rendering(text: interp.output, generationRanges: interp.generationRanges)
    }
}
