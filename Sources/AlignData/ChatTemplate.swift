import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Hashable, Codable {
    /// "system", "user", "assistant" (chatml and llama3 accept any role name).
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

/// A conversation rendered to text, with the byte ranges that are the
/// assistant's (its content plus its end-of-turn token).
public struct RenderedChat: Sendable, Equatable {
    public var text: String
    /// UTF-8 byte ranges of `text` that training should put loss on.
    public var assistantRanges: [Range<Int>]
}

/// A tokenised conversation: `ids` plus a parallel mask that is true for the
/// tokens of assistant content and the end-of-turn token that closes it.
public struct ChatEncoding: Sendable, Equatable {
    public var ids: [Int]
    public var assistantMask: [Bool]
    public var text: String
}

/// A chat format: one of the native families (rendered in Swift) or a model's own
/// Jinja `chat_template` rendered by `JinjaChatTemplate` (`init(jinja:)`).
/// `model(_:)` picks the template a tokenizer's `chat_template` asks for; `detect(jinja:)`
/// recognises a native family by its markers.
///
/// | family | per message | generation prompt | end of assistant turn |
/// |---|---|---|---|
/// | `chatml` (SmolLM2, Qwen) | `<|im_start|>{role}\n{content}<|im_end|>\n` | `<|im_start|>assistant\n` | `<|im_end|>` |
/// | `llama3` | `<|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>` after one BOS | `<|start_header_id|>assistant<|end_header_id|>\n\n` | `<|eot_id|>` |
/// | `alpaca` | system `{content}`, user `### Instruction:\n{content}`, assistant `### Response:\n{content}{eos}`, joined by `\n\n` | `\n\n### Response:\n` | EOS token |
/// | `plain` | `{content}` (assistant: `{content}{eos}`), joined by `\n` | `\n` | EOS token |
///
/// chatml may carry a default system prompt (SmolLM2's "You are a helpful AI
/// assistant named SmolLM, …"), inserted when the first message is not a system message.
/// In every family, rendering `messages` with `addGenerationPrompt` and then
/// appending an assistant reply gives the same text as rendering the conversation
/// that includes the reply (up to chatml's trailing newline).
public struct ChatTemplate: Sendable, Equatable, Hashable {
    public enum Family: String, Sendable, CaseIterable, Hashable {
        case chatml, llama3, alpaca, plain
    }

    /// The native family, or nil for a model's own template (`jinjaTemplate`).
    public private(set) var family: Family?
    /// chatml only: system prompt used when the conversation does not start with one.
    public var defaultSystemPrompt: String?
    /// A model's own Jinja template, when this is not a native family.
    public private(set) var jinjaTemplate: JinjaChatTemplate?

    public init(_ family: Family, defaultSystemPrompt: String? = nil) {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// A model's own template, rendered by the Jinja engine.
    public init(jinja: JinjaChatTemplate) {
        self.jinjaTemplate = jinja
    }

    /// The family's name, or "the model's own" for a Jinja template (for messages).
    public var name: String { family?.rawValue ?? "the model's own" }

    public static let chatml = ChatTemplate(.chatml)
    public static let llama3 = ChatTemplate(.llama3)
    public static let alpaca = ChatTemplate(.alpaca)
    public static let plain = ChatTemplate(.plain)

    // MARK: - Detection

    /// The template family a Jinja `chat_template` implements, recognised by its
    /// markers (`<|im_start|>`; `<|start_header_id|>`; `### Instruction` +
    /// `### Response`; or this library's own plain template), or nil.
    /// For chatml, a literal default system prompt (SmolLM2/Qwen style) is extracted.
    public static func detect(jinja: String) -> ChatTemplate? {
        if jinja == ChatTemplate.plain.jinja { return .plain }
        if jinja.contains("<|im_start|>") {
            return ChatTemplate(.chatml, defaultSystemPrompt: defaultSystemPrompt(inChatML: jinja))
        }
        if jinja.contains("<|start_header_id|>") && jinja.contains("<|end_header_id|>") { return .llama3 }
        if jinja.contains("### Instruction") && jinja.contains("### Response") { return .alpaca }
        return nil
    }

    /// A literal `'<|im_start|>system\n…<|im_end|>` in a template that tests
    /// whether the first message is a system message (SmolLM2: `!= 'system'`;
    /// Qwen2.5: `== 'system'` … `else`), Jinja `\n` escapes undone.
    private static func defaultSystemPrompt(inChatML jinja: String) -> String? {
        guard ["!= 'system'", "!= \"system\"", "== 'system'", "== \"system\""].contains(where: jinja.contains) else { return nil }
        for opener in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            var search = jinja.startIndex ..< jinja.endIndex
            while let r = jinja.range(of: opener, range: search) {
                search = r.upperBound ..< jinja.endIndex
                guard let close = jinja.range(of: "<|im_end|>", range: r.upperBound ..< jinja.endIndex) else { break }
                if let literal = unescapeJinjaLiteral(jinja[r.upperBound ..< close.lowerBound]), !literal.isEmpty {
                    return literal
                }
            }
        }
        return nil
    }

    /// The text of the inside of a Jinja string literal, or nil when it is not
    /// one plain literal (an unescaped quote means concatenation or an expression).
    private static func unescapeJinjaLiteral(_ s: Substring) -> String? {
        var out = ""
        var escaped = false
        for ch in s {
            if escaped {
                switch ch {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(ch)
                }
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == "'" || ch == "\"" {
                return nil
            } else {
                out.append(ch)
            }
        }
        if escaped || out.contains("{{") || out.contains("{%") { return nil }
        return out
    }

    // MARK: - Jinja source

    /// A Jinja template that renders exactly like this one under transformers'
    /// `apply_chat_template` (written to tokenizer_config.json by `save`); a model's
    /// own template is its source.
    public var jinja: String {
        guard let family else { return jinjaTemplate!.source }
        switch family {
        case .chatml:
            let system: String
            if let prompt = defaultSystemPrompt {
                let escaped = prompt.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
                    .replacingOccurrences(of: "\n", with: "\\n")
                system = "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\n\(escaped)<|im_end|>\\n' }}{% endif %}"
            } else {
                system = ""
            }
            return "{% for message in messages %}\(system){{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        case .llama3:
            return "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
        case .alpaca:
            return "{% for message in messages %}{% if not loop.first %}{{ '\\n\\n' }}{% endif %}{% if message['role'] == 'system' %}{{ message['content'] }}{% elif message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] }}{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + eos_token }}{% else %}{{ raise_exception('alpaca: unsupported role ' + message['role']) }}{% endif %}{% endfor %}{% if add_generation_prompt %}{% if messages %}{{ '\\n\\n' }}{% endif %}{{ '### Response:\\n' }}{% endif %}"
        case .plain:
            return "{% for message in messages %}{% if not loop.first %}{{ '\\n' }}{% endif %}{{ message['content'] }}{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt and messages %}{{ '\\n' }}{% endif %}"
        }
    }

    // MARK: - Rendering

    /// Renders `messages` to text and records the assistant byte ranges.
    /// - Parameters:
    ///   - bosToken: llama3's leading token (default `<|begin_of_text|>`).
    ///   - eosToken: ends assistant turns in alpaca and plain (required there).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = false,
                       bosToken: String? = nil, eosToken: String? = nil) throws -> RenderedChat {
        guard let family else {
            return try jinjaTemplate!.render(messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
        }
        var text = ""
        var ranges: [Range<Int>] = []
        func append(_ s: String) { text += s }
        func appendAssistant(_ s: String) {
            let start = text.utf8.count
            text += s
            ranges.append(start ..< text.utf8.count)
        }
        func requireEOS() throws -> String {
            guard let eosToken, !eosToken.isEmpty else {
                throw AlignDataError(.invalidArgument, path: "", "the \(family.rawValue) chat template needs an EOS token to end assistant turns")
            }
            return eosToken
        }
        switch family {
        case .chatml:
            if let prompt = defaultSystemPrompt, let first = messages.first, first.role != "system" {
                append("<|im_start|>system\n\(prompt)<|im_end|>\n")
            }
            for m in messages {
                append("<|im_start|>\(m.role)\n")
                if m.role == "assistant" { appendAssistant(m.content + "<|im_end|>") } else { append(m.content + "<|im_end|>") }
                append("\n")
            }
            if addGenerationPrompt { append("<|im_start|>assistant\n") }
        case .llama3:
            if !messages.isEmpty { append(bosToken ?? "<|begin_of_text|>") }
            for m in messages {
                append("<|start_header_id|>\(m.role)<|end_header_id|>\n\n")
                let content = m.content.trimmingCharacters(in: .whitespacesAndNewlines)
                if m.role == "assistant" { appendAssistant(content + "<|eot_id|>") } else { append(content + "<|eot_id|>") }
            }
            if addGenerationPrompt { append("<|start_header_id|>assistant<|end_header_id|>\n\n") }
        case .alpaca:
            let eos = messages.contains(where: { $0.role == "assistant" }) ? try requireEOS() : ""
            for (i, m) in messages.enumerated() {
                if i > 0 { append("\n\n") }
                switch m.role {
                case "system": append(m.content)
                case "user": append("### Instruction:\n" + m.content)
                case "assistant":
                    append("### Response:\n")
                    appendAssistant(m.content + eos)
                default:
                    throw AlignDataError(.invalidArgument, path: "", "the alpaca chat template has no role \(jsonQuoted(m.role))")
                }
            }
            if addGenerationPrompt {
                if !messages.isEmpty { append("\n\n") }
                append("### Response:\n")
            }
        case .plain:
            let eos = messages.contains(where: { $0.role == "assistant" }) ? try requireEOS() : ""
            for (i, m) in messages.enumerated() {
                if i > 0 { append("\n") }
                if m.role == "assistant" { appendAssistant(m.content + eos) } else { append(m.content) }
            }
            if addGenerationPrompt && !messages.isEmpty { append("\n") }
        }
        return RenderedChat(text: text, assistantRanges: ranges)
    }

    /// Renders with `tokenizer`'s special tokens: a Jinja template sees them all
    /// (`bos_token`, `eos_token`, `unk_token`, `pad_token`); llama3 starts with
    /// `<|begin_of_text|>` when the vocabulary has it, else the BOS token.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = false, tokenizer: Tokenizer) throws -> RenderedChat {
        if let jinjaTemplate {
            return try jinjaTemplate.render(JinjaChatTemplate.messageValues(messages), addGenerationPrompt: addGenerationPrompt,
                                            variables: JinjaChatTemplate.Variables(tokenizer: tokenizer))
        }
        let bos = family == .llama3 ? (tokenizer.tokenToID("<|begin_of_text|>") != nil ? "<|begin_of_text|>" : tokenizer.bosToken) : nil
        return try render(messages, addGenerationPrompt: addGenerationPrompt, bosToken: bos, eosToken: tokenizer.eosToken)
    }

    /// Renders and tokenises a conversation.
    ///
    /// The ids are those of the whole rendered string (what transformers'
    /// `apply_chat_template(..., tokenize=True)` returns, no extra special tokens);
    /// a token is marked as assistant when its bytes overlap an assistant range.
    public func encode(_ messages: [ChatMessage], with tokenizer: Tokenizer,
                       addGenerationPrompt: Bool = false) throws -> ChatEncoding {
        encodeRendered(try render(messages, addGenerationPrompt: addGenerationPrompt, tokenizer: tokenizer), with: tokenizer)
    }
}
