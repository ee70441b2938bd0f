import AlignData
import Foundation
import XCTest

/// `Tokenizer.trainSentencePiece`: the Llama 2 layout, byte fallback for characters it never saw,
/// lossless round trips, determinism, and a saved file that loads to the same ids.
final class SentencePieceTrainingTests: XCTestCase {
    let corpus: [String] = {
        var lines: [String] = []
        let words = ["the", "capital", "of", "country", "is", "language", "people", "speak", "首都", "国家", "语言", "人们"]
        var x: UInt64 = 7
        for i in 0 ..< 300 {
            var line: [String] = []
            for _ in 0 ..< 6 { x = x &* 6364136223846793005 &+ 1442695040888963407; line.append(words[Int(x >> 33) % words.count]) }
            lines.append(line.joined(separator: i % 3 == 0 ? "" : " ") + (i % 7 == 0 ? " 😀" : "."))
        }
        return lines
    }()

    func testLayoutByteFallbackAndRoundTrips() throws {
        let tok = try Tokenizer.trainSentencePiece(on: corpus, vocabSize: 420)
        XCTAssertEqual((0 ..< 3).map { tok.idToToken($0) }, ["<unk>", "<s>", "</s>"])
        XCTAssertEqual(tok.idToToken(3), "<0x00>")
        XCTAssertEqual(tok.idToToken(3 + 0xE9), "<0xE9>")
        XCTAssertEqual(tok.idToToken(258), "<0xFF>")
        XCTAssertEqual(tok.vocabSize, 420)
        // frequent words became single tokens
        XCTAssertNotNil(tok.tokenToID("▁capital"))
        XCTAssertEqual(tok.encode("capital", addSpecialTokens: false), [tok.tokenToID("▁capital")!])
        // a character never seen is spelled with its UTF-8 bytes
        XCTAssertEqual(tok.encode("龘", addSpecialTokens: false).suffix(3), [3 + 0xE9, 3 + 0xBE, 3 + 0x98])
        // <s> first when special tokens are added
        XCTAssertEqual(tok.encode("the", addSpecialTokens: true).first, 1)
        for text in corpus + ["Zebra 龘 crossed the 国家 ✈️ twice.", "tab\tand  two spaces", "末尾の文字"] {
            XCTAssertEqual(tok.decode(tok.encode(text, addSpecialTokens: false)), text, text)
        }
    }

    func testTrainingIsDeterministicOrderIndependentAndSavesToTheSameIDs() throws {
        let a = try Tokenizer.trainSentencePiece(on: corpus, vocabSize: 400)
        let b = try Tokenizer.trainSentencePiece(on: corpus.reversed(), vocabSize: 400)
        for id in 0 ..< a.vocabSize { XCTAssertEqual(a.idToToken(id), b.idToToken(id), "id \(id)") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-sp-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try a.save(to: dir)
        let loaded = try Tokenizer(directory: dir)
        for text in corpus.prefix(50) + ["龘 unseen 😀"] {
            XCTAssertEqual(loaded.encode(text, addSpecialTokens: true), a.encode(text, addSpecialTokens: true), text)
        }
        XCTAssertEqual(loaded.eosToken, "</s>")
        XCTAssertEqual(loaded.bosToken, "<s>")
        XCTAssertThrowsError(try Tokenizer.trainSentencePiece(on: corpus, vocabSize: 259)) { error in
            XCTAssertTrue("\(error)".contains("needs more than 259 tokens"), "\(error)")
        }
    }
}
