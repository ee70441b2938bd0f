import AlignData
import Foundation
import XCTest

/// Which renderer a model's `chat_template` gets (`ChatTemplate.model`): native where it
/// renders exactly like a native family, the Jinja engine otherwise, an error naming the
/// construct where the engine cannot parse it; and the two renderers agreeing.
final class ChatTemplateSelectionTests: XCTestCase {
    private func tokenizer(_ name: String, template: String?) throws -> Tokenizer {
        var tok = try ChatTemplateFixtures.tokenizer(name)
        tok.chatTemplate = template
        return tok
    }

    /// The native renderers give the Jinja engine's ids and masks (and texts) for the
    /// templates they stand for, on every fixture conversation.
    func testNativeAndJinjaGiveIdenticalIDsAndMasks() throws {
        let conversations = try ChatTemplateFixtures.conversations()
        var compared = 0
        for (name, native) in [("chatml", ChatTemplate.chatml), ("llama3", .llama3), ("alpaca", .alpaca), ("plain", .plain),
                               ("smollm2", ChatTemplate(.chatml, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))] {
            let tokName = ChatTemplateFixtures.root["templates"][name]["tokenizer"].string
            let tok = try ChatTemplateFixtures.tokenizer(tokName)
            let jinja = ChatTemplate(jinja: try JinjaChatTemplate(ChatTemplateFixtures.source(name)))
            for (ci, values) in conversations.sorted(by: { $0.key < $1.key }) {
                let messages: [ChatMessage] = values.compactMap {
                    guard case .dict(let d) = $0, let role = d["role"]?.stringValue, let content = d["content"]?.stringValue else { return nil }
                    return ChatMessage(role: role, content: content)
                }
                guard messages.count == values.count, ci != 6 else { continue }  // string contents only; 6 is for role checks
                for gen in [false, true] {
                    let turns = gen ? Array(messages.dropLast()) : messages
                    let a = try native.encode(turns, with: tok, addGenerationPrompt: gen)
                    let b = try jinja.encode(turns, with: tok, addGenerationPrompt: gen)
                    let label = "\(name) conv \(ci) gen \(gen)"
                    XCTAssertEqual(a.text, b.text, label)
                    XCTAssertEqual(a.ids, b.ids, label)
                    XCTAssertEqual(a.assistantMask, b.assistantMask, label)
                    compared += 1
                }
            }
        }
        XCTAssertEqual(compared, 5 * 4 * 2)
    }

    func testModelTemplatesGetTheNativeRendererOnlyWhereItRendersTheSame() throws {
        let expectNative: [String: ChatTemplate.Family] = ["chatml": .chatml, "llama3": .llama3, "alpaca": .alpaca, "plain": .plain,
                                                            "smollm2": .chatml]
        for (name, spec) in ChatTemplateFixtures.root["templates"].object {
            let tok = try tokenizer(spec["tokenizer"].string, template: spec["source"].string)
            let chosen = try XCTUnwrap(try ChatTemplate.model(tok), name)
            XCTAssertEqual(chosen.family, expectNative[name], name)
            if chosen.family == nil { XCTAssertEqual(chosen.jinja, spec["source"].string, name) }
        }
        // qwen25 and llama3x carry chatml and llama3 markers but render differently: Jinja
        XCTAssertNotNil(ChatTemplate.detect(jinja: ChatTemplateFixtures.source("qwen25")))
        XCTAssertNotNil(ChatTemplate.detect(jinja: ChatTemplateFixtures.source("llama3x")))
        XCTAssertNil(try ChatTemplate.model(try tokenizer("smollm2", template: nil)))
        XCTAssertEqual(try ChatTemplate.resolve(nil, tokenizer: try tokenizer("smollm2", template: nil)), .chatml)
        // data.chat_template overrides the model's
        XCTAssertEqual(try ChatTemplate.resolve(.plain, tokenizer: try tokenizer("smollm2", template: "{% include 'x' %}")), .plain)
    }

    /// Whatever renderer `ChatTemplate.model` picks gives transformers' text and ids.
    func testTheChosenTemplateMatchesTransformers() throws {
        var checked = 0
        for json in ChatTemplateFixtures.cases {
            let c = try ChatTemplateFixtures.Case(json)
            guard let text = c.text, let ids = c.ids, c.tools == nil, c.extra.isEmpty else { continue }
            let messages: [ChatMessage] = c.messages.compactMap {
                guard case .dict(let d) = $0, let role = d["role"]?.stringValue, let content = d["content"]?.stringValue else { return nil }
                return ChatMessage(role: role, content: content)
            }
            guard messages.count == c.messages.count else { continue }
            let tok = try tokenizer(c.tokenizer, template: ChatTemplateFixtures.source(c.template))
            let template = try XCTUnwrap(try ChatTemplate.model(tok))
            let enc = try template.encode(messages, with: tok, addGenerationPrompt: c.addGenerationPrompt)
            XCTAssertEqual(enc.text, text, c.label)
            XCTAssertEqual(enc.ids, ids, c.label)
            if let mask = c.assistantMask { XCTAssertEqual(enc.assistantMask, mask, c.label) }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 90)
    }

    func testAnUnparsableModelTemplateIsOneErrorNamingTheConstruct() throws {
        for (source, construct) in [("{% for m in messages %}{% include 'turn.jinja' %}{% endfor %}", "include"),
                                    ("{{ messages | frobnicate }}", "frobnicate"),
                                    ("<|im_start|>{% extends 'base' %}", "extends")] {
            let tok = try tokenizer("smollm2", template: source)
            do {
                _ = try ChatTemplate.model(tok)
                XCTFail("\(source): accepted")
            } catch let e as AlignDataError {
                XCTAssertEqual(e.kind, .unsupported, e.description)
                XCTAssertTrue(e.description.hasPrefix("chat template line 1, column "), e.description)
                XCTAssertTrue(e.description.contains(construct), e.description)
                XCTAssertTrue(e.description.contains("chat_template of"), e.description)
                XCTAssertFalse(e.description.contains("\n"), e.description)
            }
        }
    }

    /// Conversational records without data.chat_template are rendered by the model's own
    /// template, with the loss on exactly the assistant replies.
    func testDatasetsUseTheModelsOwnTemplate() throws {
        let tok = try tokenizer("gpt2_phi3", template: ChatTemplateFixtures.source("phi3"))
        let messages: [ChatMessage] = [.system("Be brief."), .user("Hi"), .assistant("Hello."), .user("Bye"), .assistant("Goodbye.")]
        let file = try DatasetFile(records: [.messages(messages)], source: "mem")
        let ds = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 256))
        let e = try XCTUnwrap(ds.examples.first)
        XCTAssertEqual(tok.decode(e.ids), "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n"
                           + "<|user|>\nBye<|end|>\n<|assistant|>\nGoodbye.<|end|>\n<|endoftext|>")
        XCTAssertEqual(tok.decode(zip(e.ids, e.lossMask).filter(\.1).map(\.0)), "Hello.<|end|>Goodbye.<|end|>")
    }
}

/// The reason the native renderers stay: they give the same ids (above) in a fraction of
/// the time, most of it the incremental prefix renders that locate the replies.
final class ChatTemplateSpeedTests: XCTestCase {
    func testNativeRenderersAreFasterThanTheJinjaEngine() throws {
        let tok = try ChatTemplateFixtures.tokenizer("smollm2")
        let jinja = ChatTemplate(jinja: try JinjaChatTemplate(ChatTemplateFixtures.source("chatml")))
        var conversation: [ChatMessage] = [.system("You are a terse assistant.")]
        for i in 0..<4 { conversation += [.user("Question \(i): what is \(i)+\(i)?"), .assistant("It is \(2 * i).")] }
        func seconds(_ template: ChatTemplate, render: Bool) throws -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<200 {
                    if render { _ = try template.render(conversation, tokenizer: tok) } else { _ = try template.encode(conversation, with: tok) }
                }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return best
        }
        let nativeRender = try seconds(.chatml, render: true), jinjaRender = try seconds(jinja, render: true)
        let nativeEncode = try seconds(.chatml, render: false), jinjaEncode = try seconds(jinja, render: false)
        print(String(format: "chat template, 9 messages x200: render+masks native %.2f ms, Jinja %.2f ms (%.0fx); "
                         + "with tokenisation native %.2f ms, Jinja %.2f ms (%.1fx)",
                     nativeRender * 1e3, jinjaRender * 1e3, jinjaRender / nativeRender,
                     nativeEncode * 1e3, jinjaEncode * 1e3, jinjaEncode / nativeEncode))
        XCTAssertLessThan(nativeRender * 3, jinjaRender)
    }
}

/// A GGUF's `tokenizer.chat_template` is the model's template like tokenizer_config.json's.
final class ChatTemplateGGUFSourceTests: XCTestCase {
    func testAGGUFChatTemplateIsRenderedByTheJinjaEngine() throws {
        let dir = try makeTemporaryDirectory(self)
        var tok = try ChatTemplateFixtures.tokenizer("gpt2_phi3")
        tok.chatTemplate = ChatTemplateFixtures.source("phi3")
        var writer = GGUFWriter()
        writer.set("general.architecture", "llama")
        try tok.writeGGUFMetadata(to: &writer, vocabularySize: tok.vocabSize)
        let url = dir.appendingPathComponent("phi3.gguf")
        try writer.write(to: url)
        let loaded = try Tokenizer(ggufURL: url)
        XCTAssertEqual(loaded.chatTemplate, ChatTemplateFixtures.source("phi3"))
        let template = try XCTUnwrap(try ChatTemplate.model(loaded))
        XCTAssertNil(template.family)
        var checked = 0
        for json in ChatTemplateFixtures.cases {
            let c = try ChatTemplateFixtures.Case(json)
            guard c.template == "phi3", let text = c.text, let ids = c.ids else { continue }
            let messages: [ChatMessage] = c.messages.map {
                guard case .dict(let d) = $0 else { fatalError() }
                return ChatMessage(role: d["role"]!.stringValue!, content: d["content"]!.stringValue!)
            }
            let enc = try template.encode(messages, with: loaded, addGenerationPrompt: c.addGenerationPrompt)
            XCTAssertEqual(enc.text, text, c.label)
            XCTAssertEqual(enc.ids, ids, c.label)
            checked += 1
        }
        XCTAssertEqual(checked, 8)

        // an unparsable template in a GGUF: the same one-line refusal
        tok.chatTemplate = "{% extends 'base.jinja' %}"
        var bad = GGUFWriter()
        bad.set("general.architecture", "llama")
        try tok.writeGGUFMetadata(to: &bad, vocabularySize: tok.vocabSize)
        let badURL = dir.appendingPathComponent("bad.gguf")
        try bad.write(to: badURL)
        XCTAssertThrowsError(try ChatTemplate.model(Tokenizer(ggufURL: badURL))) { e in
            XCTAssertTrue("\(e)".contains("'{% extends %}'") && "\(e)".contains("bad.gguf"), "\(e)")
        }
    }
}
