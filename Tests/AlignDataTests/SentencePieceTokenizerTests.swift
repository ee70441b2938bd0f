import AlignData
import Foundation
import XCTest

/// SentencePiece-family tokenizers against the goldens of scripts/gen_sentencepiece_fixtures.py:
/// a BPE model trained with the `sentencepiece` package (byte_fallback), converted by
/// transformers to tokenizer.json (sp_llama.json), four layout variants built with
/// `tokenizers` (sp_legacy, sp_split, sp_never, sp_unk), and a Llama-style GGUF written with
/// gguf-py whose ids come from transformers' GGUF loader.
final class SentencePieceTokenizerTests: XCTestCase {
    static let expected: JSON = {
        try! JSONDecoder().decode(JSON.self, from: Fixtures.data("sp_expected.json"))
    }()
    static let files = ["sp_llama", "sp_legacy", "sp_split", "sp_never", "sp_unk"]
    var texts: [String] { Self.expected["texts"].strings }

    private func ids(_ j: JSON) -> [[Int]] { j.array.map { $0.array.map(\.int) } }

    private func load(_ name: String) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: Fixtures.url("\(name).json"))
    }

    /// Checks every text against one golden set; returns the number of exact matches.
    private func checkParity(_ tok: Tokenizer, _ golden: JSON, _ label: String) -> Int {
        let want = ids(golden["ids"]), wantSpecial = ids(golden["ids_special"])
        let decoded = golden["decoded"].strings
        XCTAssertEqual(want.count, texts.count, label)
        var matches = 0
        for (i, text) in texts.enumerated() {
            let got = tok.encode(text, addSpecialTokens: false)
            XCTAssertEqual(got, want[i], "\(label) ids #\(i) \(text.prefix(40).debugDescription)")
            XCTAssertEqual(tok.encode(text, addSpecialTokens: true), wantSpecial[i], "\(label) ids with specials #\(i)")
            XCTAssertEqual(tok.decode(want[i]), decoded[i], "\(label) decode #\(i) \(text.prefix(40).debugDescription)")
            if got == want[i] && tok.decode(want[i]) == decoded[i] { matches += 1 }
        }
        return matches
    }

    func testEncodeDecodeParityWithTokenizers() throws {
        XCTAssertGreaterThan(texts.count, 90)
        for name in Self.files {
            let tok = try load(name)
            XCTAssertTrue(tok.isSentencePieceStyle, name)
            let golden = Self.expected["files"][name]
            XCTAssertEqual(checkParity(tok, golden, name), texts.count, name)
            let skipped = golden["decoded_special_skipped"].strings
            for (i, ids) in ids(golden["ids_special"]).enumerated() {
                XCTAssertEqual(tok.decode(ids, skipSpecialTokens: true), skipped[i], "\(name) skip-special decode #\(i)")
            }
        }
    }

    /// The corpus does exercise byte fallback, multi-byte merges and the Chinese lines.
    func testCorpusExercisesByteFallback() throws {
        let tok = try load("sp_llama")
        let byteIDs = Set((0 ..< 256).compactMap { tok.tokenToID(String(format: "<0x%02X>", $0)) })
        XCTAssertEqual(byteIDs.count, 256)
        let all = ids(Self.expected["files"]["sp_llama"]["ids"]).flatMap { $0 }
        XCTAssertGreaterThan(all.filter(byteIDs.contains).count, 10)
        // A character outside the vocabulary decodes back through its bytes.
        let rare = "龘"
        let encoded = tok.encode(rare, addSpecialTokens: false)
        XCTAssertTrue(encoded.contains(where: byteIDs.contains))
        XCTAssertEqual(tok.decode(encoded), rare)
        // A lone byte token is not valid UTF-8: one U+FFFD, as `tokenizers` decodes it; raw with decodeBytes.
        let e4 = tok.tokenToID("<0xE4>")!
        XCTAssertEqual(tok.decode([e4]), "\u{FFFD}")
        XCTAssertEqual(tok.decodeBytes([e4]), [0xE4])
    }

    func testSaveLoadRoundTripKeepsIDsAndLayout() throws {
        for name in Self.files {
            let tok = try load(name)
            let dir = try makeTemporaryDirectory(self).appendingPathComponent(name)
            try tok.save(to: dir)
            let again = try Tokenizer(directory: dir)
            XCTAssertTrue(again.isSentencePieceStyle, name)
            let golden = Self.expected["files"][name]
            XCTAssertEqual(checkParity(again, golden, "\(name) reloaded"), texts.count, name)
            // The saved file keeps the pipeline components transformers reads.
            let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer.json"))) as! [String: Any]
            let original = try JSONSerialization.jsonObject(with: Fixtures.data("\(name).json")) as! [String: Any]
            for key in ["normalizer", "pre_tokenizer", "decoder"] {
                XCTAssertEqual(saved[key] as? NSObject ?? NSNull(), original[key] as? NSObject ?? NSNull(), "\(name) \(key)")
            }
            let model = saved["model"] as! [String: Any]
            let originalModel = original["model"] as! [String: Any]
            XCTAssertEqual(model["byte_fallback"] as? Bool, originalModel["byte_fallback"] as? Bool, name)
            XCTAssertEqual(model["ignore_merges"] as? Bool, originalModel["ignore_merges"] as? Bool, name)
        }
    }

    func testOffsetsPointIntoTheOriginalText() throws {
        let tok = try load("sp_llama")
        let text = "Hello  world 你好"
        let (ids, offsets) = tok.encodeWithOffsets(text)
        XCTAssertEqual(ids, tok.encode(text, addSpecialTokens: false))
        let bytes = Array(text.utf8)
        var previousEnd = 0
        for (id, r) in zip(ids, offsets) {
            XCTAssertGreaterThanOrEqual(r.lowerBound, previousEnd)
            XCTAssertLessThanOrEqual(r.upperBound, bytes.count)
            // A token's text, with "▁" read as a space, is the original text it covers
            // (the prepended "▁" of the first token covers nothing).
            let piece = tok.idToToken(id)!.replacingOccurrences(of: "\u{2581}", with: " ")
            let covered = String(decoding: bytes[r], as: UTF8.self)
            XCTAssertEqual(r.lowerBound == 0 && piece.hasPrefix(" ") && !covered.hasPrefix(" ") ? String(piece.dropFirst()) : piece,
                           covered, "token \(id)")
            previousEnd = r.upperBound
        }
        XCTAssertEqual(previousEnd, bytes.count)
    }

    func testGGUFVocabularyMatchesTransformersGGUFLoader() throws {
        let tok = try Tokenizer(ggufURL: Fixtures.url("sp_llama.gguf"))
        XCTAssertTrue(tok.isSentencePieceStyle)
        XCTAssertEqual(tok.bosToken, "<s>")
        XCTAssertEqual(tok.eosToken, "</s>")
        XCTAssertEqual(tok.specialTokenPrefix, [tok.bosTokenID!])
        let golden = Self.expected["gguf"]
        XCTAssertEqual(checkParity(tok, golden, "gguf"), texts.count)
        // The GGUF vocabulary and the converted tokenizer.json encode alike.
        XCTAssertEqual(ids(golden["ids"]), ids(Self.expected["files"]["sp_llama"]["ids"]))
    }

    func testWordPieceAndUnigramAreRefusedByName() throws {
        var root = try JSONSerialization.jsonObject(with: Fixtures.data("sp_llama.json")) as! [String: Any]
        for kind in ["WordPiece", "Unigram", "WordLevel"] {
            var model = root["model"] as! [String: Any]
            model["type"] = kind
            root["model"] = model
            let data = try JSONSerialization.data(withJSONObject: root)
            XCTAssertThrowsError(try Tokenizer(tokenizerJSONData: data, file: "bert/tokenizer.json")) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("bert/tokenizer.json: model.type \"\(kind)\" is not supported"), message)
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
    }

    func testUnsupportedSentencePiecePiecesAreNamed() throws {
        let root = try JSONSerialization.jsonObject(with: Fixtures.data("sp_llama.json")) as! [String: Any]
        func message(_ change: (inout [String: Any]) -> Void) throws -> String {
            var r = root
            change(&r)
            do {
                _ = try Tokenizer(tokenizerJSONData: try JSONSerialization.data(withJSONObject: r), file: "t.json")
                return "loaded"
            } catch { return "\(error)" }
        }
        let regex = try message { $0["normalizer"] = ["type": "Replace", "pattern": ["Regex": " +"], "content": "▁"] }
        XCTAssertTrue(regex.contains("normalizer.pattern.Regex \" +\" (a Replace normalizer with a regex) is not supported"), regex)
        let lower = try message { $0["normalizer"] = ["type": "Lowercase"] }
        XCTAssertTrue(lower.contains("normalizer.type \"Lowercase\" is not supported"), lower)
        let decoder = try message { $0["decoder"] = ["type": "WordPiece", "prefix": "##"] }
        XCTAssertTrue(decoder.contains("decoder.type \"WordPiece\" is not supported"), decoder)
        let mixed = try message {
            $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "Metaspace", "replacement": "▁"], ["type": "Digits"]]]
        }
        XCTAssertTrue(mixed.contains("Metaspace combined with other pre-tokenizers"), mixed)
        let scheme = try message { $0["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "sometimes"] }
        XCTAssertTrue(scheme.contains("pre_tokenizer.prepend_scheme \"sometimes\""), scheme)
    }

    func testGGUFWithoutScoresIsRefused() throws {
        let tok = try load("sp_llama")
        var writer = GGUFWriter()
        writer.set("general.architecture", "llama")
        writer.set("tokenizer.ggml.model", "llama")
        writer.set("tokenizer.ggml.tokens", strings: (0 ..< tok.vocabSize).map { tok.idToToken($0)! })
        let url = try makeTemporaryDirectory(self).appendingPathComponent("noscores.gguf")
        try writer.write(to: url)
        XCTAssertThrowsError(try Tokenizer(ggufURL: url)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("noscores.gguf: metadata 'tokenizer.ggml.scores' is missing"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
    }

    /// Written to GGUF (scores recovered from the merge ranks) and read back, the Llama layout
    /// encodes every test text as `tokenizers` does; layouts GGUF cannot express are refused.
    func testGGUFExportRoundTrip() throws {
        let tok = try load("sp_llama")
        var writer = GGUFWriter()
        writer.set("general.architecture", "llama")
        try tok.writeGGUFMetadata(to: &writer, vocabularySize: tok.vocabSize + 3)
        let url = try makeTemporaryDirectory(self).appendingPathComponent("export.gguf")
        try writer.write(to: url)
        let again = try Tokenizer(ggufURL: url)
        XCTAssertTrue(again.isSentencePieceStyle)
        XCTAssertEqual(again.vocabSize, tok.vocabSize + 3)
        XCTAssertEqual(again.idToToken(tok.vocabSize), "[PAD\(tok.vocabSize)]")
        let golden = Self.expected["files"]["sp_llama"]
        let want = ids(golden["ids"]), decoded = golden["decoded"].strings
        for (i, text) in texts.enumerated() {
            XCTAssertEqual(again.encode(text, addSpecialTokens: false), want[i], "exported #\(i) \(text.prefix(40).debugDescription)")
            XCTAssertEqual(again.decode(want[i]), decoded[i], "exported decode #\(i)")
        }
        let file = try GGUFFile(url: url)
        let meta = try GGUFTokenizerMetadata(file)
        XCTAssertEqual(meta.model, "llama")
        XCTAssertEqual(meta.tokenTypes[tok.tokenToID("<0x41>")!], 6)
        XCTAssertEqual(meta.tokenTypes[tok.tokenToID("<s>")!], 3)
        XCTAssertEqual(meta.addBOS, false)

        for name in ["sp_split", "sp_unk"] {
            var w = GGUFWriter()
            XCTAssertThrowsError(try load(name).writeGGUFMetadata(to: &w, vocabularySize: 500), name) { error in
                XCTAssertTrue("\(error)".contains("cannot be written to GGUF: only the Llama layout"), "\(error)")
            }
        }
    }

    /// Mining the characters that fall back to bytes and adding them as tokens removes their byte
    /// tokens (seed 003's vocabulary extension), and the text still decodes to itself.
    func testMiningFallbackCharactersAndExtendingCutsTheByteShare() throws {
        var tok = try load("sp_llama")
        // "<s>" and "</s>" are special tokens: their "<", "/", ">" (outside the vocabulary) are not counted.
        let texts = ["龘靐齉 龘", "你好 龘 world<s></s>"]
        let before = tok.byteFallbackReport(texts)
        // 龘 靐 齉 龘 龘: five characters outside the vocabulary, three UTF-8 bytes each.
        XCTAssertEqual(before.fallbackScalars, 5)
        XCTAssertEqual(before.byteTokens, 15)
        XCTAssertEqual(before.scalars, 4 + 8)   // 龘靐齉龘, 你好龘world: no spaces, nothing of <s></s>
        let mined = tok.frequentFallbackCharacters(in: texts, limit: 2)
        XCTAssertEqual(mined.map(\.character), ["龘", "靐"])
        XCTAssertEqual(mined.map(\.count), [3, 1])
        let all = tok.frequentFallbackCharacters(in: texts, limit: 10).map(\.character)
        XCTAssertEqual(all, ["龘", "靐", "齉"])
        let oldSize = tok.vocabSize
        let ids = try tok.extend(with: all)
        XCTAssertEqual(ids, [oldSize, oldSize + 1, oldSize + 2])
        let after = tok.byteFallbackReport(texts)
        XCTAssertEqual(after.byteTokens, 0)
        XCTAssertEqual(after.fallbackScalars, 0)
        // the added characters are counted as whole tokens, not dropped: the same denominator
        XCTAssertEqual(after.scalars, before.scalars)
        XCTAssertLessThan(after.tokens, before.tokens)
        for text in texts {
            XCTAssertEqual(tok.decode(tok.encode(text, addSpecialTokens: false)), text)
        }
    }

    /// Random text (ASCII, Latin, CJK in and out of the vocabulary, emoji with joiners, whitespace
    /// runs, stray "<0x41>"-like strings) decodes back to itself with byte fallback when it does not
    /// start with a space (the Llama decoder strips one leading space) and holds no "▁" (which
    /// decodes as a space, in `tokenizers` too: see the goldens), and a 200 KB text with
    /// no space (one piece for the merge loop) encodes in well under a second.
    func testRandomTextRoundTripsAndLongPiecesStayFast() throws {
        let tok = try load("sp_llama")
        let alphabet: [String] = ["a", "b", "the", " ", "  ", "\t", "\n", "é", "ß", "你", "好", "龘", "😀", "👨‍👩‍👧", "🇫🇷",
                                  "<0x41>", "<", "s>", "0", "42", "\u{301}", "\u{FFFD}", "\u{10FFFF}", "\u{E000}"]
        var rng = SplitMix64(seed: 13)
        for _ in 0 ..< 300 {
            var text = "x"
            for _ in 0 ..< Int.random(in: 0 ... 40, using: &rng) { text += alphabet.randomElement(using: &rng)! }
            let ids = tok.encode(text, addSpecialTokens: false)
            XCTAssertEqual(tok.decode(ids), text, text.debugDescription)
            let (withOffsets, offsets) = tok.encodeWithOffsets(text)
            XCTAssertEqual(withOffsets, ids)
            XCTAssertTrue(offsets.allSatisfy { $0.upperBound <= text.utf8.count }, text.debugDescription)
        }
        let long = String(repeating: "数据模型训练😀abc龘", count: 10_000)
        let start = Date()
        let ids = tok.encode(long, addSpecialTokens: false)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(tok.decode(ids), long)
    }
}
