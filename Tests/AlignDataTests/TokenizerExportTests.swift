import AlignData
import Foundation
import XCTest

/// Opt-in: writes tokenizers saved by this library, plus the ids we produce,
/// into `$ALIGN_TOKENIZER_EXPORT_DIR`, for scripts/check_saved_tokenizers.py to
/// verify with Python `tokenizers` and `transformers`. Skipped unless the
/// variable is set (the suite itself never needs Python).
final class TokenizerExportTests: XCTestCase {
    private struct Export: Encodable {
        struct Chat: Encodable {
            var messages: [[String: String]]
            var add_generation_prompt: Bool
            var text: String
            var ids: [Int]
        }
        var source: String
        var texts: [String]
        var ids: [[Int]]
        var ids_with_special: [[Int]]
        var bos_token: String?
        var eos_token: String?
        var pad_token: String?
        var chat: [Chat]
    }

    func testExportSavedTokenizersForPythonCheck() throws {
        guard let root = ProcessInfo.processInfo.environment["ALIGN_TOKENIZER_EXPORT_DIR"], !root.isEmpty else {
            throw XCTSkip("set ALIGN_TOKENIZER_EXPORT_DIR to export saved tokenizers for scripts/check_saved_tokenizers.py")
        }
        let base = URL(fileURLWithPath: root)
        let texts = TokenizerFixtures.texts
        let conversations: [[ChatMessage]] = [
            [.user("Hello there!"), .assistant("Hi! How can I help you today?")],
            [.system("Be brief."), .user("2+2?"), .assistant("4."), .user("And 3×3?"), .assistant("9 — easy.")],
        ]
        let chatml = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        var tokenizers: [(String, Tokenizer, ChatTemplate)] = []
        for name in TokenizerFixtures.names {
            var t = try TokenizerFixtures.loadForChat(name)
            let template: ChatTemplate = name == "llama3" ? .llama3 : name == "smollm2" ? ChatTemplate(.chatml, defaultSystemPrompt: "You are a helpful assistant.") : .alpaca
            t.chatTemplate = template.jinja
            t.padToken = t.eosToken
            t.modelMaxLength = 2048
            tokenizers.append(("fixture_\(name)", t, template))
        }
        var extended = try TokenizerFixtures.loadForChat("smollm2")
        try extended.extend(with: ["<tool_call>", "</tool_call>"], special: true)
        try extended.extend(with: ["[[added]]", "café"])
        extended.chatTemplate = ChatTemplate.chatml.jinja
        tokenizers.append(("extended_smollm2", extended, .chatml))
        for preset in BPEPreTokenizerPreset.allCases {
            var t = try Tokenizer.train(on: TokenizerFixtures.corpusLines,
                                        options: BPETrainingOptions(vocabSize: 800, specialTokens: chatml, preTokenizer: preset))
            t.bosToken = "<|im_start|>"
            t.eosToken = "<|im_end|>"
            t.chatTemplate = ChatTemplate.plain.jinja
            tokenizers.append(("trained_\(preset.rawValue)", t, .plain))
        }
        if let gguf = TokenizerFixtures.smolLM2GGUF() {
            let t = try Tokenizer(ggufURL: gguf)
            tokenizers.append(("gguf_smollm2", t, try XCTUnwrap(ChatTemplate.model(t))))
        }
        for (name, tok, template) in tokenizers {
            let dir = base.appendingPathComponent(name)
            try tok.save(to: dir)
            var chats: [Export.Chat] = []
            for conv in conversations {
                for gen in [false, true] {
                    let messages = gen ? Array(conv.dropLast()) : conv
                    let enc = try template.encode(messages, with: tok, addGenerationPrompt: gen)
                    chats.append(Export.Chat(messages: messages.map { ["role": $0.role, "content": $0.content] },
                                             add_generation_prompt: gen, text: enc.text, ids: enc.ids))
                }
            }
            let export = Export(source: tok.source, texts: texts,
                                ids: texts.map { tok.encode($0, addSpecialTokens: false) },
                                ids_with_special: texts.map { tok.encode($0, addSpecialTokens: true) },
                                bos_token: tok.bosToken, eos_token: tok.eosToken, pad_token: tok.padToken, chat: chats)
            try JSONEncoder().encode(export).write(to: dir.appendingPathComponent("swift_ids.json"))
        }
    }
}
