import Foundation

/// A model's own Jinja `chat_template`, rendered like transformers'
/// `apply_chat_template`: the template sees `messages` (keys whose value is null
/// dropped; `reasoning_content`/`thinking` filled from each other like transformers
/// does), `tools` and `documents` (none unless given), `add_generation_prompt`, the
/// tokenizer's special tokens (`bos_token`, `eos_token`, `unk_token`, `pad_token`)
/// and any extra variables, which override the special tokens.
///
/// Assistant ranges (the bytes training puts loss on):
/// - When the template has `{% generation %}` blocks, the bytes they write (what
///   transformers' `return_assistant_tokens_mask` marks).
/// - Otherwise, incrementally, for each assistant message `i`: let `P` be the render
///   of `messages[..<i]` with `add_generation_prompt=True`, `Q` the render of
///   `messages[...i]` without it and `Q'` the render of `messages[...i]` with it. `P`
///   must be a prefix of `Q`; the range starts at the end of `P` and ends where `Q`
///   and `Q'` part (what follows the reply whatever comes next; when they part inside
///   a token, at the whitespace before it), minus trailing whitespace, except that it always reaches the end of the message's content where
///   `Q` contains the whole content after `P` (so content ending in whitespace keeps
///   it). So the range is the assistant content plus its end-of-turn token
///   (`<|im_end|>`, `<|eot_id|>`, EOS, …), without the newline templates put after
///   that token nor an EOS a template writes only after the last message (Phi-3). The
///   part of `Q` up to the range's end must also begin the render of the whole
///   conversation; a template that renders earlier turns differently once later turns
///   follow (e.g. one that drops the reasoning of earlier turns) is refused: use
///   `{% generation %}` for it.
public struct JinjaChatTemplate: Sendable, Equatable, Hashable {
    public let template: JinjaTemplate
    /// Whether the template marks assistant output with `{% generation %}`.
    public let hasGenerationBlocks: Bool

    public var source: String { template.source }

    public init(_ source: String) throws {
        template = try JinjaTemplate(source)
        hasGenerationBlocks = Self.containsGeneration(template.nodes)
    }

    public static func == (a: JinjaChatTemplate, b: JinjaChatTemplate) -> Bool { a.source == b.source }
    public func hash(into h: inout Hasher) { h.combine(source) }

    private static func containsGeneration(_ nodes: [JinjaNode]) -> Bool {
        nodes.contains { node in
            switch node {
            case .generation: return true
            case .ifChain(let branches, let otherwise, _):
                return branches.contains { containsGeneration($0.1) } || containsGeneration(otherwise)
            case .forLoop(let l): return containsGeneration(l.body) || containsGeneration(l.otherwise)
            case .setBlock(_, _, let body, _), .callBlock(_, _, let body, _), .filterBlock(_, let body, _), .with(_, let body, _):
                return containsGeneration(body)
            case .macro(let m): return containsGeneration(m.body)
            default: return false
            }
        }
    }

    /// The special tokens and other variables a render passes to the template.
    public struct Variables {
        public var bosToken: String?
        public var eosToken: String?
        public var unkToken: String?
        public var padToken: String?
        /// `tools`: JSON schemas of the callable tools (nil: the template sees none).
        public var tools: [JinjaValue]?
        /// `documents` for retrieval templates (nil: none).
        public var documents: [JinjaValue]?
        /// More template variables (e.g. `date_string`, `enable_thinking`); they override the above.
        public var extra: [String: JinjaValue]

        public init(bosToken: String? = nil, eosToken: String? = nil, unkToken: String? = nil, padToken: String? = nil,
                    tools: [JinjaValue]? = nil, documents: [JinjaValue]? = nil, extra: [String: JinjaValue] = [:]) {
            self.bosToken = bosToken
            self.eosToken = eosToken
            self.unkToken = unkToken
            self.padToken = padToken
            self.tools = tools
            self.documents = documents
            self.extra = extra
        }

        /// The special tokens of `tokenizer`.
        public init(tokenizer: Tokenizer, extra: [String: JinjaValue] = [:]) {
            self.init(bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken, unkToken: tokenizer.unkToken,
                      padToken: tokenizer.padToken, extra: extra)
        }
    }

    /// Messages as the template sees them.
    public static func messageValues(_ messages: [ChatMessage]) -> [JinjaValue] {
        messages.map { .dict(["role": .string($0.role), "content": .string($0.content)]) }
    }

    /// transformers' preparation of each message: null-valued keys dropped, reasoning aliased.
    private static func prepare(_ messages: [JinjaValue]) -> [JinjaValue] {
        messages.map { m in
            guard case .dict(let d) = m else { return m }
            var out = JinjaDict()
            for (k, v) in d where !v.isNone { out[k] = v }
            let reasoning = ["reasoning_content", "thinking", "reasoning"].lazy.compactMap { out[$0] }.first
            if let reasoning {
                var aliased = JinjaDict()
                aliased["thinking"] = reasoning
                for (k, v) in out { aliased[k] = v }
                aliased["reasoning_content"] = reasoning
                return .dict(aliased)
            }
            return .dict(out)
        }
    }

    private func context(_ messages: [JinjaValue], addGenerationPrompt: Bool, _ vars: Variables) -> [String: JinjaValue] {
        var c: [String: JinjaValue] = [:]
        if let t = vars.bosToken { c["bos_token"] = .string(t) }
        if let t = vars.eosToken { c["eos_token"] = .string(t) }
        if let t = vars.unkToken { c["unk_token"] = .string(t) }
        if let t = vars.padToken { c["pad_token"] = .string(t) }
        for (k, v) in vars.extra { c[k] = v }
        c["messages"] = .list(messages)
        c["tools"] = vars.tools.map { .list($0) } ?? JinjaValue.none
        c["documents"] = vars.documents.map { .list($0) } ?? JinjaValue.none
        c["add_generation_prompt"] = .bool(addGenerationPrompt)
        return c
    }

    /// The template's output alone (no assistant ranges).
    public func renderText(_ messages: [JinjaValue], addGenerationPrompt: Bool = false, variables: Variables = Variables(),
                           limits: JinjaLimits = JinjaLimits()) throws -> String {
        try template.render(context(Self.prepare(messages), addGenerationPrompt: addGenerationPrompt, variables), limits: limits).text
    }

    /// Renders `messages` (dicts with at least `role` and `content`) and finds the
    /// assistant ranges (see the type's documentation).
    public func render(_ messages: [JinjaValue], addGenerationPrompt: Bool = false, variables: Variables = Variables(),
                       limits: JinjaLimits = JinjaLimits()) throws -> RenderedChat {
        let prepared = Self.prepare(messages)
        let full = try template.render(context(prepared, addGenerationPrompt: addGenerationPrompt, variables), limits: limits)
        if hasGenerationBlocks {
            return RenderedChat(text: full.text, assistantRanges: full.generationRanges)
        }
        let fullBytes = Array(full.text.utf8)
        var ranges: [Range<Int>] = []
        for (i, m) in prepared.enumerated() {
            guard case .dict(let d) = m, d["role"]?.stringValue == "assistant" else { continue }
            let p = Array(try template.render(context(Array(prepared[..<i]), addGenerationPrompt: true, variables), limits: limits).text.utf8)
            let q = Array(try template.render(context(Array(prepared[...i]), addGenerationPrompt: false, variables), limits: limits).text.utf8)
            guard q.starts(with: p) else {
                throw AlignDataError(.unsupported, path: "", "chat template: rendering message \(i) (assistant) does not extend the rendering of the messages before it with add_generation_prompt=True, so its bytes cannot be told apart; mark the assistant output with {% generation %} … {% endgeneration %}")
            }
            // (a template that refuses a generation prompt after an assistant turn: Q alone)
            let qg = (try? template.render(context(Array(prepared[...i]), addGenerationPrompt: true, variables), limits: limits))
                .map { Array($0.text.utf8) } ?? q
            var end = zip(q, qg).prefix { $0 == $1 }.count
            if end < min(q.count, qg.count) {
                // They part inside a token (`<|endoftext|>` against `<|assistant|>`): back to the whitespace before it.
                var w = end
                while w > p.count, !isASCIISpace(q[w - 1]) { w -= 1 }
                if w > p.count { end = w }
            }
            while end > p.count, isASCIISpace(q[end - 1]) { end -= 1 }
            if case .string(let content)? = d["content"], !content.isEmpty {
                let c = Array(content.utf8)
                if let r = lastRange(of: c, in: q, from: p.count) { end = max(end, r.upperBound) }
            }
            guard fullBytes.count >= end, fullBytes[..<end].elementsEqual(q[..<end]) else {
                throw AlignDataError(.unsupported, path: "", "chat template: the rendering of messages 0…\(i) is not a prefix of the whole conversation's (the template renders earlier turns differently once later turns follow), so assistant message \(i) cannot be located; mark the assistant output with {% generation %} … {% endgeneration %}")
            }
            ranges.append(p.count ..< end)
        }
        return RenderedChat(text: full.text, assistantRanges: ranges)
    }

    /// Renders `ChatMessage`s with the given special tokens.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = false,
                       bosToken: String? = nil, eosToken: String? = nil) throws -> RenderedChat {
        try render(Self.messageValues(messages), addGenerationPrompt: addGenerationPrompt,
                   variables: Variables(bosToken: bosToken, eosToken: eosToken))
    }

    /// Renders with the tokenizer's special tokens and tokenises the text as one
    /// string, like `ChatTemplate.encode` (a token is assistant when its bytes overlap
    /// an assistant range).
    public func encode(_ messages: [JinjaValue], with tokenizer: Tokenizer, addGenerationPrompt: Bool = false,
                       extra: [String: JinjaValue] = [:], tools: [JinjaValue]? = nil) throws -> ChatEncoding {
        var vars = Variables(tokenizer: tokenizer, extra: extra)
        vars.tools = tools
        let rendered = try render(messages, addGenerationPrompt: addGenerationPrompt, variables: vars)
        return encodeRendered(rendered, with: tokenizer)
    }

    public func encode(_ messages: [ChatMessage], with tokenizer: Tokenizer, addGenerationPrompt: Bool = false) throws -> ChatEncoding {
        try encode(Self.messageValues(messages), with: tokenizer, addGenerationPrompt: addGenerationPrompt)
    }

    private func isASCIISpace(_ b: UInt8) -> Bool { b < 0x80 && isPythonSpace(Unicode.Scalar(b)) }

    private func lastRange(of needle: [UInt8], in hay: [UInt8], from start: Int) -> Range<Int>? {
        guard needle.count <= hay.count - start else { return nil }
        var i = hay.count - needle.count
        while i >= start {
            if hay[i] == needle[0] && hay[i ..< i + needle.count].elementsEqual(needle) { return i ..< i + needle.count }
            i -= 1
        }
        return nil
    }
}

/// Tokenises a rendered conversation as one string; a token is assistant when its
/// bytes overlap an assistant range.
func encodeRendered(_ rendered: RenderedChat, with tokenizer: Tokenizer) -> ChatEncoding {
    let (ids, offsets) = tokenizer.encodeWithOffsets(rendered.text, addSpecialTokens: false)
    var mask = [Bool](repeating: false, count: ids.count)
    var r = 0
    let ranges = rendered.assistantRanges.filter { !$0.isEmpty }
    for (i, span) in offsets.enumerated() where !span.isEmpty {
        while r < ranges.count && ranges[r].upperBound <= span.lowerBound { r += 1 }
        if r < ranges.count && ranges[r].lowerBound < span.upperBound { mask[i] = true }
    }
    return ChatEncoding(ids: ids, assistantMask: mask, text: rendered.text)
}
