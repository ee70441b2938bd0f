import AlignData
import Foundation
import XCTest

/// Every loading failure is an `AlignDataError` naming the file and, for
/// unsupported components, the JSON path of the component.
final class TokenizerErrorTests: XCTestCase {
    /// The GPT-2 fixture with top-level members replaced.
    private func variant(_ replace: [String: Any]) throws -> Data {
        try TokenizerFixtures.variantData(base: "gpt2", replace: replace)
    }

    private func modelVariant(_ change: (inout [String: Any]) -> Void) throws -> Data {
        var root = try JSONSerialization.jsonObject(with: Data(contentsOf: TokenizerFixtures.url("gpt2"))) as! [String: Any]
        var model = root["model"] as! [String: Any]
        change(&model)
        root["model"] = model
        return try JSONSerialization.data(withJSONObject: root)
    }

    func testMissingFile() throws {
        let dir = try makeTemporaryDirectory(self)
        assertAlignDataError(.io, ["tokenizer.json", "not found"]) { try Tokenizer(directory: dir) }
        assertAlignDataError(.io, ["nope.json", "not found"]) {
            try Tokenizer(tokenizerJSON: dir.appendingPathComponent("nope.json"))
        }
    }

    func testMalformedJSONReportsLineAndColumn() {
        let text = "{\n  \"model\": {\n    \"type\": \"BPE\",,\n  }\n}"
        assertAlignDataError(.malformed, ["broken.json", "malformed JSON at line 3, column 19"]) {
            try Tokenizer(tokenizerJSONData: Data(text.utf8), file: "broken.json")
        }
        assertAlignDataError(.malformed, ["t.json", "line 1"]) { try Tokenizer(tokenizerJSONData: Data("[1, 2".utf8), file: "t.json") }
        assertAlignDataError(.malformed, ["t.json", "model is missing"]) { try Tokenizer(tokenizerJSONData: Data("{}".utf8), file: "t.json") }
    }

    func testUnknownModelType() throws {
        let data = try modelVariant { $0["type"] = "WordPiece" }
        assertAlignDataError(.unsupported, ["tokenizer.json: model.type \"WordPiece\" is not supported"]) {
            try Tokenizer(tokenizerJSONData: data)
        }
    }

    func testUnsupportedComponentsNameTheirJSONPath() throws {
        let meta: [String: Any] = ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true]
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        assertAlignDataError(.unsupported, ["tokenizer.json: pre_tokenizer (Metaspace combined with other pre-tokenizers) is not supported"]) {
            try Tokenizer(tokenizerJSONData: variant(["pre_tokenizer": ["type": "Sequence", "pretokenizers": [byteLevel, meta]]]))
        }
        assertAlignDataError(.unsupported, ["pre_tokenizer.pretokenizers[0].pattern.Regex", "is not supported"]) {
            try Tokenizer(tokenizerJSONData: variant(["pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\w+|\\W"], "behavior": "Isolated", "invert": false], byteLevel]]]))
        }
        assertAlignDataError(.unsupported, ["pre_tokenizer.pretokenizers[0].behavior \"Removed\""]) {
            try Tokenizer(tokenizerJSONData: variant(["pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\s+"], "behavior": "Removed", "invert": false], byteLevel]]]))
        }
        assertAlignDataError(.unsupported, ["pre_tokenizer without a ByteLevel step"]) {
            try Tokenizer(tokenizerJSONData: variant(["pre_tokenizer": ["type": "Digits", "individual_digits": true]]))
        }
        assertAlignDataError(.unsupported, ["normalizer.type \"Strip\" is not supported"]) {
            try Tokenizer(tokenizerJSONData: variant(["normalizer": ["type": "Strip", "strip_left": true, "strip_right": true]]))
        }
        assertAlignDataError(.unsupported, ["normalizer.normalizers[1].type \"Lowercase\""]) {
            try Tokenizer(tokenizerJSONData: variant(["normalizer": ["type": "Sequence", "normalizers": [["type": "NFC"], ["type": "Lowercase"]]]]))
        }
        assertAlignDataError(.unsupported, ["decoder.type \"Metaspace\""]) {
            try Tokenizer(tokenizerJSONData: variant(["decoder": meta]))
        }
        assertAlignDataError(.unsupported, ["post_processor.type \"Foo\""]) {
            try Tokenizer(tokenizerJSONData: variant(["post_processor": ["type": "Foo"]]))
        }
        assertAlignDataError(.unsupported, ["model.byte_fallback true together with a ByteLevel pre-tokenizer is not supported"]) {
            try Tokenizer(tokenizerJSONData: modelVariant { $0["byte_fallback"] = true })
        }
        assertAlignDataError(.unsupported, ["model.continuing_subword_prefix \"##\""]) {
            try Tokenizer(tokenizerJSONData: modelVariant { $0["continuing_subword_prefix"] = "##" })
        }
    }

    func testInconsistentModelIsMalformed() throws {
        assertAlignDataError(.malformed, ["model.merges[0]", "\"Q\"", "not in the vocabulary"]) {
            try Tokenizer(tokenizerJSONData: modelVariant { m in
                var merges = m["merges"] as! [String]
                merges[0] = "Q ZZZ"
                m["merges"] = merges
                var vocab = m["vocab"] as! [String: Int]
                vocab.removeValue(forKey: "Q")
                m["vocab"] = vocab
            })
        }
        assertAlignDataError(.malformed, ["model.merges[1]", "expected two tokens"]) {
            try Tokenizer(tokenizerJSONData: modelVariant { m in
                var merges = m["merges"] as! [String]
                merges[1] = "abc"
                m["merges"] = merges
            })
        }
        assertAlignDataError(.malformed, ["model.vocab", "gives id 5 to both"]) {
            try Tokenizer(tokenizerJSONData: modelVariant { m in
                var vocab = m["vocab"] as! [String: Int]
                vocab["zzzz-extra"] = 5
                m["vocab"] = vocab
            })
        }
    }

    func testSavingIntoAnUnwritablePlaceFails() throws {
        let tok = try TokenizerFixtures.load("gpt2")
        let dir = try makeTemporaryDirectory(self)
        let file = dir.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        assertAlignDataError(.io, ["plain-file"]) { try tok.save(to: file) }
    }
}
