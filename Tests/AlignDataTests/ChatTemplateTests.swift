import AlignData
import Foundation
import XCTest

/// Chat rendering against transformers' Jinja engine, masks, and detection.
final class ChatTemplateTests: XCTestCase {
    private var conversations: [[ChatMessage]] {
        TokenizerFixtures.expected["chat_conversations"].array.map { conv in
            conv.array.map { ChatMessage(role: $0["role"].string, content: $0["content"].string) }
        }
    }

    private let smolLM2Prompt = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

    func testOwnJinjaMatchesTheGoldens() {
        let jinja = TokenizerFixtures.expected["jinja"]
        for family in ChatTemplate.Family.allCases {
            let t = ChatTemplate(family)
            XCTAssertEqual(t.jinja, jinja[family.rawValue].string, family.rawValue)
            XCTAssertEqual(ChatTemplate.detect(jinja: t.jinja), t, family.rawValue)
        }
        let smol = ChatTemplate(.chatml, defaultSystemPrompt: "Be nice.\nReally 'nice'.")
        XCTAssertEqual(ChatTemplate.detect(jinja: smol.jinja), smol)
    }

    func testRenderMatchesTransformersApplyChatTemplate() throws {
        let cases = TokenizerFixtures.expected["chat"].array
        XCTAssertGreaterThanOrEqual(cases.count, 48)
        for c in cases {
            let label = "\(c["template"].string)/\(c["tokenizer"].string) conv \(c["conversation"].int) gen \(c["add_generation_prompt"])"
            let template = try XCTUnwrap(ChatTemplate.detect(jinja: c["jinja"].string), label)
            switch c["template"].string {
            case "smollm2_real": XCTAssertEqual(template, ChatTemplate(.chatml, defaultSystemPrompt: smolLM2Prompt))
            default: XCTAssertEqual(template.family?.rawValue, c["template"].string)
            }
            let tok = try TokenizerFixtures.loadForChat(c["tokenizer"].string)
            let gen = c["add_generation_prompt"] == .bool(true)
            var messages = conversations[c["conversation"].int]
            if gen { messages.removeLast() }
            let enc = try template.encode(messages, with: tok, addGenerationPrompt: gen)
            XCTAssertEqual(enc.text, c["text"].string, label)
            assertSameIDs(enc.ids, c["ids"].ints, label)
            XCTAssertEqual(enc.assistantMask.count, enc.ids.count)
        }
    }

    /// The masked tokens are exactly the assistant contents and their end-of-turn
    /// tokens, and tokenising the rendered pieces separately gives the whole-string ids.
    func testMaskCoversAssistantContentAndPiecewiseTokenisationAgrees() throws {
        for (family, tokName) in [(ChatTemplate.Family.chatml, "smollm2"), (.chatml, "gpt2"), (.llama3, "llama3"), (.llama3, "gpt2"),
                                  (.alpaca, "gpt2"), (.plain, "gpt2"), (.alpaca, "smollm2"), (.plain, "smollm2"),
                                  (.alpaca, "llama3"), (.plain, "llama3")] {
            let tok = try TokenizerFixtures.loadForChat(tokName)
            for templateValue in [ChatTemplate(family), ChatTemplate(family, defaultSystemPrompt: family == .chatml ? "Sys." : nil)] {
                for (ci, conv) in conversations.enumerated() {
                    let label = "\(family)/\(tokName) conv \(ci)"
                    let bos = tok.tokenToID("<|begin_of_text|>") != nil ? "<|begin_of_text|>" : tok.bosToken
                    let rendered = try templateValue.render(conv, bosToken: bos, eosToken: tok.eosToken)
                    let enc = try templateValue.encode(conv, with: tok)
                    XCTAssertEqual(enc.text, rendered.text)
                    XCTAssertEqual(rendered.assistantRanges.count, conv.filter { $0.role == "assistant" }.count)

                    let bytes = Array(rendered.text.utf8)
                    let assistantBytes = rendered.assistantRanges.flatMap { bytes[$0] }
                    let maskedBytes = zip(enc.ids, enc.assistantMask).filter(\.1).flatMap { tok.decodeBytes([$0.0]) }
                    XCTAssertEqual(maskedBytes, assistantBytes, label)
                    // Each assistant turn ends with its end-of-turn token, and it is masked.
                    let endOfTurn = family == .chatml ? "<|im_end|>" : family == .llama3 ? "<|eot_id|>" : tok.eosToken!
                    if let eotID = tok.tokenToID(endOfTurn) {
                        let maskedEOT = zip(enc.ids, enc.assistantMask).filter { $0.0 == eotID && $0.1 }.count
                        XCTAssertEqual(maskedEOT, rendered.assistantRanges.count, label)
                    }

                    var cuts = [0]
                    for r in rendered.assistantRanges { cuts += [r.lowerBound, r.upperBound] }
                    cuts.append(bytes.count)
                    var piecewise: [Int] = []
                    for k in 0 ..< cuts.count - 1 where cuts[k] < cuts[k + 1] {
                        piecewise += tok.encode(String(decoding: bytes[cuts[k] ..< cuts[k + 1]], as: UTF8.self), addSpecialTokens: false)
                    }
                    assertSameIDs(piecewise, enc.ids, "piecewise \(label)")
                }
            }
        }
    }

    /// When assistant content starts with whitespace, GPT-2's `\s+(?!\S)` puts the
    /// template's newline and the first space in one pre-token. The ids stay those
    /// of the whole string; a token overlapping the assistant range counts as
    /// assistant, so the masked tokens decode to the assistant text, possibly with
    /// template bytes in front.
    func testTokenStraddlingTheAssistantBoundary() throws {
        for name in TokenizerFixtures.names {
            let tok = try TokenizerFixtures.loadForChat(name)
            let enc = try ChatTemplate.chatml.encode([.user("hi"), .assistant("  indented\n\n  more")], with: tok)
            XCTAssertEqual(enc.ids, tok.encode(enc.text, addSpecialTokens: false))
            let first = try XCTUnwrap(enc.assistantMask.firstIndex(of: true))
            let last = try XCTUnwrap(enc.assistantMask.lastIndex(of: true))
            XCTAssertEqual(enc.assistantMask[first ... last].filter { !$0 }.count, 0, "one contiguous run")
            let masked = String(decoding: tok.decodeBytes(Array(enc.ids[first ... last])), as: UTF8.self)
            XCTAssertTrue(masked.hasSuffix("  indented\n\n  more<|im_end|>"), "\(name): \(masked.debugDescription)")
            XCTAssertTrue(["", "\n"].contains(String(masked.dropLast("  indented\n\n  more<|im_end|>".count))), name)
        }
    }

    func testGenerationPromptIsAPrefixOfTheAnsweredConversation() throws {
        for family in ChatTemplate.Family.allCases {
            let t = ChatTemplate(family)
            for conv in conversations {
                let prompt = try t.render(Array(conv.dropLast()), addGenerationPrompt: true, eosToken: "</s>").text
                let full = try t.render(conv, eosToken: "</s>").text
                XCTAssertTrue(full.hasPrefix(prompt), "\(family)")
            }
        }
    }

    func testRenderingDetails() throws {
        let conv: [ChatMessage] = [.user("  hi  "), .assistant(" there ")]
        XCTAssertEqual(try ChatTemplate.chatml.render(conv, addGenerationPrompt: false).text,
                       "<|im_start|>user\n  hi  <|im_end|>\n<|im_start|>assistant\n there <|im_end|>\n")
        XCTAssertEqual(try ChatTemplate.llama3.render(conv, addGenerationPrompt: true).text,
                       "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nthere<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        XCTAssertEqual(try ChatTemplate.alpaca.render([.system("Sys"), .user("Q"), .assistant("A")], addGenerationPrompt: false, eosToken: "</s>").text,
                       "Sys\n\n### Instruction:\nQ\n\n### Response:\nA</s>")
        XCTAssertEqual(try ChatTemplate.plain.render([.user("Q"), .assistant("A")], eosToken: "</s>").text, "Q\nA</s>")
        XCTAssertEqual(try ChatTemplate.chatml.render([], addGenerationPrompt: true).text, "<|im_start|>assistant\n")
        let smol = ChatTemplate(.chatml, defaultSystemPrompt: "Sys")
        XCTAssertEqual(try smol.render([.user("u")]).text, "<|im_start|>system\nSys<|im_end|>\n<|im_start|>user\nu<|im_end|>\n")
        XCTAssertEqual(try smol.render([.system("Mine"), .user("u")]).text, "<|im_start|>system\nMine<|im_end|>\n<|im_start|>user\nu<|im_end|>\n")
        assertAlignDataError(.invalidArgument, ["EOS"]) { try ChatTemplate.alpaca.render([.assistant("x")]) }
        assertAlignDataError(.invalidArgument, ["tool"]) { try ChatTemplate.alpaca.render([ChatMessage(role: "tool", content: "x")], eosToken: "</s>") }
    }

    func testDetectionOfCheckpointTemplates() {
        // Llama-3-Instruct's template.
        let llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
        XCTAssertEqual(ChatTemplate.detect(jinja: llama3), .llama3)
        // Qwen2.5 style: chatml with a default system prompt written with Jinja '\n' escapes.
        let qwen = "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"
        let q = ChatTemplate.detect(jinja: qwen)
        XCTAssertEqual(q?.family, .chatml)
        XCTAssertEqual(q?.defaultSystemPrompt, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        XCTAssertEqual(ChatTemplate.detect(jinja: "Below is an instruction.\n\n### Instruction:\n{{ x }}\n\n### Response:\n"), .alpaca)
        XCTAssertNil(ChatTemplate.detect(jinja: "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"))
    }
}
