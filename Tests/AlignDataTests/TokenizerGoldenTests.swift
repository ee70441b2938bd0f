import AlignData
import Foundation
import XCTest

/// Our encoder against ids recorded from Hugging Face `tokenizers` for the
/// three fixture tokenizers (GPT-2, SmolLM2 and LLaMA-3 layouts), on every
/// corpus line, the edge strings and the whole corpus at once.
final class TokenizerGoldenTests: XCTestCase {
    private let texts = TokenizerFixtures.texts

    func testEncodeMatchesTokenizersForEveryFixture() throws {
        for name in TokenizerFixtures.names {
            let tok = try TokenizerFixtures.load(name)
            let want = TokenizerFixtures.expected["tokenizers"][name]
            XCTAssertEqual(tok.vocabSize, want["vocab_size"].int, name)
            let ids = want["ids"].array
            XCTAssertEqual(ids.count, texts.count)
            for (i, text) in texts.enumerated() {
                assertSameIDs(tok.encode(text, addSpecialTokens: false), ids[i].ints, "\(name) text #\(i) \(text.prefix(40).debugDescription)")
            }
        }
    }

    func testAddSpecialTokensAppliesThePostProcessor() throws {
        for name in TokenizerFixtures.names {
            let tok = try TokenizerFixtures.load(name)
            let want = TokenizerFixtures.expected["tokenizers"][name]["ids_with_special"].array
            for (i, w) in want.enumerated() {
                XCTAssertEqual(tok.encode(texts[i], addSpecialTokens: true), w.ints, "\(name) #\(i)")
            }
        }
        let llama = try TokenizerFixtures.load("llama3")
        XCTAssertEqual(llama.specialTokenPrefix, [llama.tokenToID("<|begin_of_text|>")!])
    }

    func testVariantPipelinesMatchTokenizers() throws {
        let variants = TokenizerFixtures.raw["variants"] as! [String: Any]
        XCTAssertEqual(Set(variants.keys), ["gpt2_added_token_flags", "gpt2_prefix_space", "smollm2_nfc", "gpt2_as_qwen2", "gpt2_as_llama3_no_digits"])
        for (name, spec) in variants.sorted(by: { $0.key < $1.key }) {
            let spec = spec as! [String: Any]
            let data = try TokenizerFixtures.variantData(base: spec["base"] as! String, replace: spec["replace"]!)
            let tok = try Tokenizer(tokenizerJSONData: data, file: name)
            let ids = TokenizerFixtures.expected["variants"][name]["ids"].array
            for (i, text) in texts.enumerated() {
                assertSameIDs(tok.encode(text, addSpecialTokens: false), ids[i].ints, "\(name) text #\(i) \(text.prefix(40).debugDescription)")
            }
        }
    }

    func testDecodeRoundTripsEveryText() throws {
        for name in TokenizerFixtures.names {
            let tok = try TokenizerFixtures.load(name)
            let want = TokenizerFixtures.expected["tokenizers"][name]
            let different = want["decoded_if_different"].object
            for (i, text) in texts.enumerated() {
                let ids = tok.encode(text, addSpecialTokens: false)
                let expected = different[String(i)]?.string ?? text
                XCTAssertEqual(tok.decode(ids), expected, "\(name) #\(i)")
                XCTAssertEqual(tok.decodeBytes(ids), Array(expected.utf8), "\(name) #\(i)")
            }
        }
    }

    func testDecodeSkippingSpecialTokens() throws {
        for name in TokenizerFixtures.names {
            let tok = try TokenizerFixtures.load(name)
            let skipped = TokenizerFixtures.expected["tokenizers"][name]["decoded_skip_special"].object
            XCTAssertFalse(skipped.isEmpty)
            for (key, want) in skipped {
                let i = Int(key)!
                XCTAssertEqual(tok.decode(tok.encode(texts[i], addSpecialTokens: false), skipSpecialTokens: true), want.string, "\(name) #\(i)")
            }
        }
    }

    func testVocabularyAccessors() throws {
        let tok = try TokenizerFixtures.load("gpt2")
        XCTAssertEqual(tok.tokenToID("<|endoftext|>"), 0)
        XCTAssertEqual(tok.tokenToID("<|im_start|>"), 1)
        XCTAssertEqual(tok.idToToken(2), "<|im_end|>")
        XCTAssertEqual(tok.tokenToID("Ġ"), tok.encode(" ", addSpecialTokens: false).first)
        XCTAssertNil(tok.tokenToID("definitely not a token"))
        XCTAssertNil(tok.idToToken(-1))
        XCTAssertNil(tok.idToToken(tok.vocabSize))
        XCTAssertTrue(tok.isSpecial(0))
        let note = tok.tokenToID("[[note]]")!
        XCTAssertFalse(tok.isSpecial(note))
        XCTAssertEqual(tok.addedTokens.map(\.content), ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "[[note]]", "<mask>"])
        XCTAssertTrue(tok.addedTokens.last!.lstrip)
        for id in 0 ..< tok.vocabSize {
            let token = try XCTUnwrap(tok.idToToken(id))
            XCTAssertEqual(tok.tokenToID(token), id)
        }
    }

    func testParseSpecialTokensFalseEncodesThemAsText() throws {
        let tok = try TokenizerFixtures.load("smollm2")
        let text = "<|im_start|>user\nhi<|im_end|>"
        let parsed = tok.encode(text, addSpecialTokens: false)
        let literal = tok.encode(text, addSpecialTokens: false, parseSpecialTokens: false)
        XCTAssertEqual(parsed.first, tok.tokenToID("<|im_start|>"))
        XCTAssertFalse(literal.contains(tok.tokenToID("<|im_start|>")!))
        XCTAssertFalse(literal.contains(tok.tokenToID("<|im_end|>")!))
        XCTAssertEqual(tok.decode(literal), text)
    }

    func testOffsetsCoverTheText() throws {
        for name in TokenizerFixtures.names {
            let tok = try TokenizerFixtures.load(name)
            for text in texts {
                let (ids, offsets) = tok.encodeWithOffsets(text)
                XCTAssertEqual(ids, tok.encode(text, addSpecialTokens: false))
                XCTAssertEqual(offsets.count, ids.count)
                let bytes = Array(text.utf8)
                var cursor = 0
                for (id, r) in zip(ids, offsets) {
                    XCTAssertLessThanOrEqual(cursor, r.lowerBound, "\(name) \(text.prefix(30).debugDescription)")
                    // Without lstrip/rstrip absorption each token's span is exactly its bytes.
                    if !tok.addedTokens.contains(where: { $0.id == id && ($0.lstrip || $0.rstrip) }) {
                        XCTAssertEqual(Array(bytes[r]), tok.decodeBytes([id]), "\(name) \(text.prefix(30).debugDescription)")
                    }
                    cursor = r.upperBound
                }
            }
        }
    }

    func testRandomTextRoundTrips() throws {
        var rng = SplitMix64(seed: 7)
        let pool: [UInt32] = [0x20, 0x20, 0x0A, 0x09, 0x0D, 0x61, 0x62, 0x41, 0x27, 0x73, 0x31, 0x32, 0x2E, 0x21,
                              0xE9, 0x301, 0x4E2D, 0x6587, 0x3042, 0x627, 0x416, 0x1F600, 0x1F3FD, 0x200D, 0xA0, 0x3000, 0x2028]
        for name in TokenizerFixtures.names {
            let tok = try TokenizerFixtures.load(name)
            for _ in 0 ..< 300 {
                var s = String.UnicodeScalarView()
                for _ in 0 ..< Int.random(in: 0 ..< 40, using: &rng) {
                    s.append(Unicode.Scalar(pool[Int.random(in: 0 ..< pool.count, using: &rng)])!)
                }
                let text = String(s)
                XCTAssertEqual(tok.decode(tok.encode(text, addSpecialTokens: false)), text, "\(name) \(text.debugDescription)")
            }
        }
    }
}
