import Foundation

/// Which template renders a model's conversations.
///
/// A tokenizer's `chat_template` (tokenizer_config.json, chat_template.jinja or GGUF
/// `tokenizer.chat_template`) is parsed by the Jinja engine; a template that does not
/// parse is an error naming the construct. When the template has no `{% generation %}`
/// blocks, `detect(jinja:)` recognises a native family in it and the native renderer
/// gives the Jinja render's exact text on `probeConversations` (with and without the
/// generation prompt, with the tokenizer's special tokens; or both refuse one), the
/// native renderer is used (it is faster and needs no prefix renders for masks);
/// otherwise the model's template is rendered by the Jinja engine. `data.chat_template`
/// overrides all this; a tokenizer without a template gets ChatML.
extension ChatTemplate {
    /// The template `tokenizer.chatTemplate` asks for, or nil when it has none.
    public static func model(_ tokenizer: Tokenizer) throws -> ChatTemplate? {
        guard let source = tokenizer.chatTemplate else { return nil }
        return try ChatTemplate(modelTemplate: source, tokenizer: tokenizer)
    }

    /// `override` (`data.chat_template`), else the tokenizer's own template, else ChatML
    /// (a tokenizer without a chat template).
    public static func resolve(_ override: ChatTemplate?, tokenizer: Tokenizer) throws -> ChatTemplate {
        if let override { return override }
        return try model(tokenizer) ?? .chatml
    }

    /// A model's template: native when it renders exactly like a native family, else Jinja.
    public init(modelTemplate source: String, tokenizer: Tokenizer) throws {
        let jinja: JinjaChatTemplate
        do {
            jinja = try JinjaChatTemplate(source)
        } catch let e as AlignDataError {
            throw AlignDataError(e.kind, path: "", "\(e.message) (in the chat_template of \(tokenizer.source); "
                                     + "data.chat_template can name a built-in format instead)")
        }
        if !jinja.hasGenerationBlocks, let native = ChatTemplate.detect(jinja: source), native.rendersLike(jinja, tokenizer: tokenizer) {
            self = native
        } else {
            self.init(jinja: jinja)
        }
    }

    /// Conversations on which a native family must render like a model's template.
    static let probeConversations: [[ChatMessage]] = [
        [.user("Hello")],
        [.user("Hello"), .assistant("Hi there.")],
        [.system("Be brief."), .user("What is 2+2?"), .assistant("4"), .user("And 3*3?"), .assistant("9")],
        [.user("  padded question \n"), .assistant("\n  padded answer  "), .user("thanks")],
        [.user("one"), .user("two")],
        [.user("What is 6*7?"), .assistant("Let me check."), ChatMessage(role: "tool", content: "42"), .assistant("It is 42.")],
    ]

    /// Whether this native family renders every probe conversation exactly like `jinja`
    /// (or both refuse it).
    func rendersLike(_ jinja: JinjaChatTemplate, tokenizer: Tokenizer) -> Bool {
        let vars = JinjaChatTemplate.Variables(tokenizer: tokenizer)
        for conversation in Self.probeConversations {
            for gen in [false, true] {
                let native = try? render(conversation, addGenerationPrompt: gen, tokenizer: tokenizer).text
                let model = try? jinja.renderText(JinjaChatTemplate.messageValues(conversation), addGenerationPrompt: gen, variables: vars)
                if native != model { return false }
            }
        }
        return true
    }
}
