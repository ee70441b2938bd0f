import AlignData
import Foundation
import XCTest

/// Where a conversational reply ends (`ChatTemplate.turnSuffixIDs`, the response ids of a
/// conversational preference pair): at the end of the text the template renders, as
/// transformers' `apply_chat_template` and TRL's completions do.
final class ConversationEndTests: XCTestCase {
    func testTurnSuffixIsWhatTheTemplateRendersAfterTheEndOfTurnToken() throws {
        let chatTok = try TokenizerFixtures.loadForChat("smollm2")
        let imEnd = try XCTUnwrap(chatTok.tokenToID("<|im_end|>"))
        XCTAssertEqual(try ChatTemplate.chatml.turnSuffixIDs(tokenizer: chatTok, stopTokens: [imEnd]),
                       chatTok.encode("\n", addSpecialTokens: false))
        XCTAssertEqual(chatTok.encode("\n", addSpecialTokens: false).count, 1)

        let llama = try TokenizerFixtures.loadForChat("llama3")
        let eot = try XCTUnwrap(llama.tokenToID("<|eot_id|>"))
        XCTAssertEqual(try ChatTemplate.llama3.turnSuffixIDs(tokenizer: llama, stopTokens: [eot]), [])

        // a {% generation %} block around the content only: the range ends before <|im_end|>,
        // which a generated reply already carries; only the "\n" after it is added
        let generation = ChatTemplate(jinja: try JinjaChatTemplate(ChatTemplateFixtures.source("chatml_generation")))
        let tok = try ChatTemplateFixtures.tokenizer(ChatTemplateFixtures.root["templates"]["chatml_generation"]["tokenizer"].string)
        let end = try XCTUnwrap(tok.tokenToID("<|im_end|>"))
        XCTAssertEqual(try generation.turnSuffixIDs(tokenizer: tok, stopTokens: [end]), tok.encode("\n", addSpecialTokens: false))
    }

    /// For every template of the fixture (SmolLM2's own, the Llama 2, Mistral, Zephyr, Gemma,
    /// Phi-3, Qwen2.5 and Llama 3.x styles, and the native families), a conversation that ends
    /// with an assistant reply, made into a preference pair (prompt = the earlier turns, chosen =
    /// that reply): prompt + chosen decodes to exactly transformers' `apply_chat_template` text,
    /// and equals its ids wherever tokenising prompt and reply separately (as TRL does) gives
    /// the ids of the whole.
    func testPromptPlusResponseIsTransformersConversation() throws {
        var checked = 0, sameIDs = 0
        var templates = Set<String>()
        for json in ChatTemplateFixtures.cases {
            let c = try ChatTemplateFixtures.Case(json)
            guard !c.addGenerationPrompt, c.tools == nil, c.extra.isEmpty, let text = c.text, let ids = c.ids else { continue }
            let messages = c.messages.compactMap { m -> ChatMessage? in
                guard case .dict(let d) = m, d.count == 2, let role = d["role"]?.stringValue,
                      let content = d["content"]?.stringValue else { return nil }
                return ChatMessage(role: role, content: content)
            }
            guard messages.count == c.messages.count, messages.last?.role == "assistant", messages.count >= 2 else { continue }
            let tok = try ChatTemplateFixtures.tokenizer(c.tokenizer)
            let template = ChatTemplate(jinja: try JinjaChatTemplate(ChatTemplateFixtures.source(c.template)))
            let record = PreferenceRecord(prompt: .conversation(Array(messages.dropLast())),
                                          chosen: .conversation([messages.last!]),
                                          rejected: .conversation([.assistant("No.")]))
            let pairs = try DatasetFile(records: [.preference(record)], source: c.label)
                .preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 4096, chatTemplate: template))
            let e = try XCTUnwrap(pairs.examples.first, c.label)
            XCTAssertEqual(tok.decode(e.prompt + e.chosen), text, c.label)
            // the prompt's ids end on a token boundary of the whole conversation's ids
            if Array(ids.prefix(e.prompt.count)) == e.prompt {
                XCTAssertEqual(e.prompt + e.chosen, ids, c.label)
                sameIDs += 1
            }
            checked += 1
            templates.insert(c.template)
        }
        XCTAssertGreaterThanOrEqual(checked, 20)
        XCTAssertGreaterThanOrEqual(templates.count, 10, "\(templates.sorted())")
        XCTAssertGreaterThanOrEqual(sameIDs, checked * 3 / 4)
    }
}
