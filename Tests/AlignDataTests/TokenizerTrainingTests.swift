import AlignData
import Foundation
import XCTest

/// BPE training, extending the vocabulary, and save → reload.
final class TokenizerTrainingTests: XCTestCase {
    private let chatml = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

    private func fixtureModel(_ name: String) throws -> (vocab: [String: Int], merges: [String]) {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: TokenizerFixtures.url(name))) as! [String: Any]
        let model = root["model"] as! [String: Any]
        let merges = (model["merges"] as! [Any]).map { m -> String in
            (m as? String) ?? (m as! [String]).joined(separator: " ")
        }
        return (model["vocab"] as! [String: Int], merges)
    }

    private func model(of tok: Tokenizer, in dir: URL) throws -> (vocab: [String: Int], merges: [String]) {
        try tok.save(to: dir)
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))) as! [String: Any]
        let model = root["model"] as! [String: Any]
        return (model["vocab"] as! [String: Int], (model["merges"] as! [[String]]).map { $0.joined(separator: " ") })
    }

    /// Our trainer reproduces `tokenizers`' BpeTrainer (the fixtures were trained by it
    /// with the same corpus, vocabulary size, special tokens and pre-tokeniser).
    func testTrainingReproducesTokenizersBpeTrainer() throws {
        let dir = try makeTemporaryDirectory(self)
        for (name, size, preset) in [("gpt2", 800, BPEPreTokenizerPreset.gpt2), ("smollm2", 700, .smollm)] {
            let trained = try Tokenizer.train(on: TokenizerFixtures.corpusLines,
                                              options: BPETrainingOptions(vocabSize: size, specialTokens: chatml, preTokenizer: preset))
            XCTAssertEqual(trained.vocabSize, size)
            let ours = try model(of: trained, in: dir.appendingPathComponent(name))
            let theirs = try fixtureModel(name)
            XCTAssertEqual(ours.merges, theirs.merges, name)
            XCTAssertEqual(ours.vocab, theirs.vocab.filter { $0.value < size }, name)
        }
    }

    func testTrainingIsDeterministicAndOrderIndependent() throws {
        let lines = TokenizerFixtures.corpusLines
        let options = BPETrainingOptions(vocabSize: 600, specialTokens: ["<s>", "</s>"])
        let a = try Tokenizer.train(on: lines, options: options)
        let b = try Tokenizer.train(on: lines, options: options)
        var rng = SplitMix64(seed: 3)
        let c = try Tokenizer.train(on: lines.shuffled(using: &rng), options: options)
        let dir = try makeTemporaryDirectory(self)
        let ma = try model(of: a, in: dir.appendingPathComponent("a"))
        XCTAssertEqual(ma.merges.count, 600 - 2 - 256)
        for (other, sub) in [(b, "b"), (c, "c")] {
            let m = try model(of: other, in: dir.appendingPathComponent(sub))
            XCTAssertEqual(m.merges, ma.merges)
            XCTAssertEqual(m.vocab, ma.vocab)
        }
        XCTAssertEqual(a.tokenToID("<s>"), 0)
        XCTAssertEqual(a.tokenToID("</s>"), 1)
        for line in TokenizerFixtures.texts {
            XCTAssertEqual(a.decode(a.encode(line)), line)
        }
    }

    func testTrainingStopsAtMinFrequencyAndRejectsBadSpecials() throws {
        let t = try Tokenizer.train(on: ["ab ab ab cd"], options: BPETrainingOptions(vocabSize: 1000, minFrequency: 2))
        // "ab" ×3 and " ab" ×2 can be merged; "cd" (once) cannot.
        XCTAssertEqual(t.encode("ab").count, 1)
        XCTAssertEqual(t.encode(" ab").count, 1)
        XCTAssertEqual(t.encode(" cd").count, 3)
        XCTAssertThrowsError(try Tokenizer.train(on: ["x"], options: BPETrainingOptions(vocabSize: 300, specialTokens: ["a", "a"])))
        XCTAssertThrowsError(try Tokenizer.train(on: ["x"], options: BPETrainingOptions(vocabSize: 300, specialTokens: [""])))
    }

    func testTrainFromCorpusFile() throws {
        let t = try Tokenizer.train(corpusFile: Fixtures.url("tokenizer_corpus.txt"),
                                    options: BPETrainingOptions(vocabSize: 800, specialTokens: chatml))
        let ref = try Tokenizer.train(on: TokenizerFixtures.corpusLines + [""], options: BPETrainingOptions(vocabSize: 800, specialTokens: chatml))
        for line in TokenizerFixtures.corpusLines { XCTAssertEqual(t.encode(line), ref.encode(line)) }
    }

    func testExtendAddsTokensWithNewIDs() throws {
        var tok = try TokenizerFixtures.load("smollm2")
        let before = tok.vocabSize
        let ids = try tok.extend(with: ["<tool_call>", "<|im_start|>", "</tool_call>", "<tool_call>"], special: true)
        XCTAssertEqual(ids, [before, tok.tokenToID("<|im_start|>")!, before + 1, before])
        XCTAssertEqual(tok.vocabSize, before + 2)
        let text = "call<tool_call>{\"x\": 1}</tool_call> done"
        let enc = tok.encode(text, addSpecialTokens: false)
        XCTAssertTrue(enc.contains(before))
        XCTAssertTrue(enc.contains(before + 1))
        XCTAssertEqual(tok.decode(enc), text)
        XCTAssertEqual(tok.decode(enc, skipSpecialTokens: true), "call{\"x\": 1} done")
        XCTAssertThrowsError(try tok.extend(with: [""]))

        // An ordinary vocabulary entry becomes matchable as a whole.
        var plain = try TokenizerFixtures.load("gpt2")
        let the = try XCTUnwrap(plain.encode("the", addSpecialTokens: false).first)
        let word = try XCTUnwrap(plain.idToToken(the))
        XCTAssertEqual(try plain.extend(with: [word]), [the])
        XCTAssertEqual(plain.vocabSize, try TokenizerFixtures.load("gpt2").vocabSize)

        // The original value is unchanged (value semantics).
        let original = try TokenizerFixtures.load("smollm2")
        XCTAssertNil(original.tokenToID("<tool_call>"))

        // Saved and reloaded, the new tokens keep their ids.
        let dir = try makeTemporaryDirectory(self)
        try tok.save(to: dir)
        let reloaded = try Tokenizer(directory: dir)
        XCTAssertEqual(reloaded.encode(text, addSpecialTokens: false), enc)
        XCTAssertEqual(reloaded.vocabSize, before + 2)
    }

    func testSaveThenReloadGivesTheSameIDs() throws {
        let dir = try makeTemporaryDirectory(self)
        for name in TokenizerFixtures.names {
            var tok = try TokenizerFixtures.loadForChat(name)
            tok.padToken = tok.eosToken
            tok.chatTemplate = ChatTemplate.chatml.jinja
            tok.modelMaxLength = 2048
            let sub = dir.appendingPathComponent(name)
            try tok.save(to: sub)
            let back = try Tokenizer(directory: sub)
            XCTAssertEqual(back.bosToken, tok.bosToken)
            XCTAssertEqual(back.eosToken, tok.eosToken)
            XCTAssertEqual(back.padToken, tok.padToken)
            XCTAssertEqual(back.padTokenID, tok.eosTokenID)
            XCTAssertEqual(back.chatTemplate, ChatTemplate.chatml.jinja)
            XCTAssertEqual(back.modelMaxLength, 2048)
            XCTAssertEqual(back.vocabSize, tok.vocabSize)
            XCTAssertEqual(back.addedTokens, tok.addedTokens)
            for text in TokenizerFixtures.texts {
                XCTAssertEqual(back.encode(text), tok.encode(text), "\(name) \(text.prefix(30).debugDescription)")
            }
            // Saving is stable: a second save writes the same bytes.
            let again = dir.appendingPathComponent(name + "-again")
            try back.save(to: again)
            for file in ["tokenizer.json", "tokenizer_config.json"] {
                XCTAssertEqual(try Data(contentsOf: sub.appendingPathComponent(file)),
                               try Data(contentsOf: again.appendingPathComponent(file)), "\(name) \(file)")
            }
        }
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("gpt2").path)
        XCTAssertEqual(Set(leftovers), ["tokenizer.json", "tokenizer_config.json"])
    }

    func testConfigVariantsAreRead() throws {
        let dir = try makeTemporaryDirectory(self)
        try FileManager.default.copyItem(at: TokenizerFixtures.url("smollm2"), to: dir.appendingPathComponent("tokenizer.json"))
        let config = """
        {"bos_token": {"__type": "AddedToken", "content": "<|im_start|>", "lstrip": false},
         "eos_token": "<|im_end|>", "model_max_length": 1000000000000000019884624838656,
         "chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "{{ '<|im_start|>' }}"}]}
        """
        try Data(config.utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        let tok = try Tokenizer(directory: dir)
        XCTAssertEqual(tok.bosToken, "<|im_start|>")
        XCTAssertEqual(tok.bosTokenID, 1)
        XCTAssertEqual(tok.eosTokenID, 2)
        XCTAssertNil(tok.modelMaxLength)
        XCTAssertEqual(tok.chatTemplate, "{{ '<|im_start|>' }}")

        // chat_template.jinja (transformers ≥ 4.5x layout) is used when the config has none.
        try Data("{}".utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        try Data(ChatTemplate.llama3.jinja.utf8).write(to: dir.appendingPathComponent("chat_template.jinja"))
        let llama = try Tokenizer(directory: dir)
        XCTAssertEqual(llama.chatTemplate, ChatTemplate.llama3.jinja)
        // Without a BOS token (and no <|begin_of_text|> in this vocabulary) the template renders
        // no BOS, unlike the native llama3 renderer, so the Jinja engine renders it.
        let template = try XCTUnwrap(try ChatTemplate.model(llama))
        XCTAssertNil(template.family)
        XCTAssertEqual(template.jinja, ChatTemplate.llama3.jinja)
    }

    func testTokenizerIsUsableFromSeveralThreads() throws {
        let tok = try TokenizerFixtures.load("llama3")
        let texts = TokenizerFixtures.texts
        let want = texts.map { tok.encode($0) }
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for (i, t) in texts.enumerated() { XCTAssertEqual(tok.encode(t), want[i]) }
        }
    }
}
