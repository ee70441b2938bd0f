import AlignData
import Foundation
import XCTest

/// Model chat templates rendered by the Jinja engine against transformers'
/// `apply_chat_template` (chat_templates.json): text, ids, assistant masks, errors.
final class JinjaTemplateTests: XCTestCase {
    /// The end-of-turn marker each template puts after an assistant reply.
    private let endOfTurn: [String: String] = [
        "chatml": "<|im_end|>", "smollm2": "<|im_end|>", "qwen25": "<|im_end|>", "chatml_generation": "<|im_end|>",
        "macro_parts": "<|im_end|>", "llama3": "<|eot_id|>", "llama3x": "<|eot_id|>", "alpaca": "<|endoftext|>",
        "plain": "<|endoftext|>", "llama2": "</s>", "mistral": "</s>", "zephyr": "</s>", "gemma": "<end_of_turn>",
        "phi3": "<|end|>",
    ]

    private var tokenizers: [String: Tokenizer] = [:]

    private func tokenizer(_ name: String) throws -> Tokenizer {
        if let t = tokenizers[name] { return t }
        let t = try ChatTemplateFixtures.tokenizer(name)
        tokenizers[name] = t
        return t
    }

    private func encode(_ c: ChatTemplateFixtures.Case) throws -> ChatEncoding {
        let template = try JinjaChatTemplate(ChatTemplateFixtures.source(c.template))
        return try template.encode(c.messages, with: tokenizer(c.tokenizer), addGenerationPrompt: c.addGenerationPrompt,
                                   extra: c.extra, tools: c.tools)
    }

    func testFixtureCoversTheRequiredTemplates() throws {
        let cases = try ChatTemplateFixtures.cases.map(ChatTemplateFixtures.Case.init)
        let names = Set(cases.map(\.template))
        for name in ["smollm2", "llama2", "mistral", "zephyr", "gemma", "phi3", "qwen25", "llama3x", "chatml", "llama3", "alpaca", "plain"] {
            XCTAssertTrue(names.contains(name), name)
            // with and without a system prompt (conversation 1 has one), with and without the generation prompt
            for conv in [0, 1] {
                for gen in [false, true] {
                    XCTAssertTrue(cases.contains { $0.template == name && $0.conversation == conv && $0.addGenerationPrompt == gen },
                                  "\(name) conv \(conv) gen \(gen)")
                }
            }
        }
        XCTAssertGreaterThanOrEqual(cases.count, 140)
    }

    func testRenderedTextAndIDsMatchTransformers() throws {
        var rendered = 0
        for json in ChatTemplateFixtures.cases {
            let c = try ChatTemplateFixtures.Case(json)
            guard let text = c.text, let ids = c.ids else { continue }
            let enc = try encode(c)
            XCTAssertEqual(enc.text, text, c.label)
            XCTAssertEqual(enc.ids, ids, c.label)
            XCTAssertEqual(enc.assistantMask.count, enc.ids.count, c.label)
            rendered += 1
        }
        XCTAssertGreaterThanOrEqual(rendered, 120)
    }

    /// Templates with `{% generation %}`: the mask is transformers' `assistant_masks`.
    func testGenerationBlockMasksMatchTransformers() throws {
        var checked = 0
        for json in ChatTemplateFixtures.cases {
            let c = try ChatTemplateFixtures.Case(json)
            guard let expected = c.assistantMask else { continue }
            XCTAssertTrue(try JinjaChatTemplate(ChatTemplateFixtures.source(c.template)).hasGenerationBlocks, c.label)
            XCTAssertEqual(try encode(c).assistantMask, expected, c.label)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 8)
    }

    /// Every template: each assistant message gets one range, which is its reply (as
    /// the template writes it) plus the end-of-turn marker and nothing else, and the
    /// masked tokens decode to exactly those ranges.
    func testAssistantMasksCoverExactlyTheReplies() throws {
        for json in ChatTemplateFixtures.cases {
            let c = try ChatTemplateFixtures.Case(json)
            guard c.text != nil else { continue }
            let tok = try tokenizer(c.tokenizer)
            let template = try JinjaChatTemplate(ChatTemplateFixtures.source(c.template))
            var vars = JinjaChatTemplate.Variables(tokenizer: tok, extra: c.extra)
            vars.tools = c.tools
            let r = try template.render(c.messages, addGenerationPrompt: c.addGenerationPrompt, variables: vars)
            let replies: [JinjaDict] = c.messages.compactMap {
                guard case .dict(let d) = $0, d["role"]?.stringValue == "assistant" else { return nil }
                return d
            }
            XCTAssertEqual(r.assistantRanges.count, replies.count, c.label)
            let bytes = Array(r.text.utf8)
            let marker = try XCTUnwrap(endOfTurn[c.template], c.template)
            for (range, reply) in zip(r.assistantRanges, replies) {
                let piece = String(decoding: bytes[range], as: UTF8.self)
                XCTAssertTrue(piece.hasSuffix(marker), "\(c.label): \(piece.debugDescription)")
                let body = String(piece.dropLast(marker.count)).trimmingCharacters(in: .whitespacesAndNewlines)
                let content = reply["content"]?.stringValue ?? ""
                if reply["tool_calls"] != nil {
                    XCTAssertTrue(body.contains("get_weather"), "\(c.label): \(piece.debugDescription)")
                } else {
                    XCTAssertEqual(body, content.trimmingCharacters(in: .whitespacesAndNewlines), c.label)
                    // the range does not start before the reply: any text before the content is whitespace
                    if let at = piece.range(of: content.trimmingCharacters(in: .whitespacesAndNewlines)) {
                        XCTAssertTrue(piece[..<at.lowerBound].allSatisfy(\.isWhitespace), "\(c.label): \(piece.debugDescription)")
                    }
                }
            }
            // the mask marks exactly the tokens of those ranges
            let enc = try encode(c)
            let (_, offsets) = tok.encodeWithOffsets(enc.text, addSpecialTokens: false)
            var masked = Set<Int>()
            for (i, span) in offsets.enumerated() where enc.assistantMask[i] { masked.formUnion(span) }
            XCTAssertEqual(masked, Set(r.assistantRanges.flatMap { Array($0) }), c.label)
        }
    }

    /// A template's own `raise_exception` is an error carrying its message verbatim.
    func testTemplateErrorsMatchTransformers() throws {
        var checked = 0
        for json in ChatTemplateFixtures.cases {
            let c = try ChatTemplateFixtures.Case(json)
            guard let expected = c.error else { continue }
            do {
                let enc = try encode(c)
                XCTFail("\(c.label): rendered \(enc.text.debugDescription), expected the error \(expected)")
            } catch let e as AlignDataError {
                XCTAssertEqual(e.kind, .invalidArgument, c.label)
                XCTAssertTrue(e.message.hasPrefix("chat template "), "\(c.label): \(e.message)")
                XCTAssertTrue(e.message.hasSuffix("raise_exception: " + expected), "\(c.label): \(e.message)")
                XCTAssertFalse(e.description.contains("\n"), c.label)
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 10)
    }
}
