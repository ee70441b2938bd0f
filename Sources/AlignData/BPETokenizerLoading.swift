import Foundation

/// Loading Hugging Face tokenizer files: tokenizer.json (model `BPE`, byte-level or
/// SentencePiece-style with `Metaspace` and `byte_fallback`),
/// tokenizer_config.json (special tokens, chat template, `model_max_length`) and
/// chat_template.jinja.
extension Tokenizer {
    /// Loads `directory/tokenizer.json`, plus `tokenizer_config.json` and
    /// `chat_template.jinja` from the same directory when present.
    public init(directory: URL) throws {
        let json = directory.appendingPathComponent("tokenizer.json")
        let config = directory.appendingPathComponent("tokenizer_config.json")
        let fm = FileManager.default
        try self.init(tokenizerJSON: json, config: fm.fileExists(atPath: config.path) ? config : nil)
        if chatTemplate == nil {
            let jinja = directory.appendingPathComponent("chat_template.jinja")
            if fm.fileExists(atPath: jinja.path) {
                let data = try readFileData(jinja)
                guard let text = String(data: data, encoding: .utf8) else {
                    throw AlignDataError(.malformed, path: displayPath(of: jinja), "not valid UTF-8")
                }
                chatTemplate = text
            }
        }
    }

    /// Loads a tokenizer.json file and, optionally, a tokenizer_config.json.
    public init(tokenizerJSON url: URL, config configURL: URL? = nil) throws {
        let file = displayPath(of: url)
        try self.init(tokenizerJSONData: try readFileData(url), file: file)
        if let configURL {
            try applyConfig(try readFileData(configURL), file: displayPath(of: configURL))
        }
    }

    /// Parses tokenizer.json contents; `file` names it in errors.
    public init(tokenizerJSONData data: Data, file: String = "tokenizer.json") throws {
        let root = try LocatedJSON.parse(data, file: file)
        guard case .object = root.value else { throw root.typeError("an object") }

        // model
        let modelJSON = try root.require("model")
        let modelType = try modelJSON["type"]?.string
        if let modelType, modelType != "BPE" {
            throw AlignDataError(.unsupported, path: file,
                "model.type \(jsonQuoted(modelType)) is not supported (only BPE models load: byte-level or SentencePiece-style)")
        }
        if modelType == nil && modelJSON["merges"] == nil {
            throw modelJSON.malformed("has no \"type\" and no \"merges\"; only BPE models are supported")
        }
        if let dropout = modelJSON["dropout"] {
            let value: Double
            switch dropout.value {
            case .integer(let i): value = Double(i)
            case .number(let d): value = d
            default: throw dropout.typeError("a number or null")
            }
            if value != 0 { throw dropout.unsupported(" \(value) (BPE dropout)") }
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = modelJSON[key], try !v.string.isEmpty {
                throw v.unsupported(" \(jsonQuoted(try v.string))")
            }
        }
        // The family: a ByteLevel pre-tokenizer means byte-level symbols; none, or Metaspace,
        // means SentencePiece-style character symbols (with optional byte fallback).
        var pre = PreTokenizerPipeline(steps: [], isSequence: false)
        var metaspace: Metaspace? = nil
        if let preJSON = root["pre_tokenizer"] {
            if let m = try Tokenizer.parseMetaspace(preJSON) {
                metaspace = m
            } else {
                pre = try Tokenizer.parsePreTokenizer(preJSON)
                guard pre.hasByteLevel else {
                    throw preJSON.unsupported(" without a ByteLevel step (supported: byte-level pipelines, Metaspace, or none)")
                }
            }
        }
        let characterLevel = !pre.hasByteLevel
        let byteFallback = try modelJSON.bool("byte_fallback", default: false)
        if byteFallback && !characterLevel {
            throw modelJSON["byte_fallback"]!.unsupported(" true together with a ByteLevel pre-tokenizer")
        }
        let unkToken = try modelJSON["unk_token"]?.string
        let fuseUnk = try modelJSON.bool("fuse_unk", default: false)
        let ignoreMerges = try modelJSON.bool("ignore_merges", default: false)

        let vocabJSON = try modelJSON.require("vocab")
        var pairs: [(String, Int)] = []
        var maxID = -1
        for (token, idJSON) in try vocabJSON.members {
            let id = try idJSON.int
            guard id >= 0, id < 1 << 24 else { throw idJSON.malformed("is \(id), outside 0 ..< 16777216") }
            pairs.append((token, id))
            maxID = max(maxID, id)
        }
        var tokens = [String?](repeating: nil, count: maxID + 1)
        for (token, id) in pairs {
            if let other = tokens[id] {
                throw vocabJSON.malformed("gives id \(id) to both \(jsonQuoted(other)) and \(jsonQuoted(token))")
            }
            tokens[id] = token
        }
        let mergesJSON = try modelJSON["merges"]?.array ?? []
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergesJSON.count)
        for m in mergesJSON {
            switch m.value {
            case .string(let s):
                let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw m.malformed("is \(jsonQuoted(s)), expected two tokens separated by one space") }
                merges.append((String(parts[0]), String(parts[1])))
            case .array(let a):
                guard a.count == 2, case .string(let x) = a[0], case .string(let y) = a[1] else {
                    throw m.malformed("should be a pair of strings")
                }
                merges.append((x, y))
            default:
                throw m.typeError("a string \"a b\" or a pair [\"a\", \"b\"]")
            }
        }
        let model = try BPEModel(tokens: tokens, merges: merges, unkToken: unkToken, fuseUnk: fuseUnk,
                                 ignoreMerges: ignoreMerges, file: file, vocabPath: "model.vocab", mergesPath: "model.merges",
                                 characterLevel: characterLevel, byteFallback: byteFallback)

        // added_tokens
        var added: [AddedToken] = []
        for t in try root["added_tokens"]?.array ?? [] {
            let id = try t.require("id").int
            guard id >= 0, id < 1 << 24 else { throw t.malformed("id \(id) is out of range") }
            let content = try t.require("content").string
            guard !content.isEmpty else { throw t.malformed("has empty content") }
            if let vocabID = model.vocab[content], vocabID != id {
                throw t.malformed("has id \(id) but the vocabulary gives \(jsonQuoted(content)) id \(vocabID)")
            }
            let special = try t.bool("special", default: false)
            added.append(AddedToken(id: id, content: content, special: special,
                                    singleWord: try t.bool("single_word", default: false),
                                    lstrip: try t.bool("lstrip", default: false),
                                    rstrip: try t.bool("rstrip", default: false),
                                    normalized: try t["normalized"]?.bool ?? !special))
        }

        let normalizer = try BPENormalizer.parse(root["normalizer"])
        let post = try BPEPostProcessor.parse(root["post_processor"])
        guard let decoderJSON = root["decoder"] else {
            throw AlignDataError(.unsupported, path: file, characterLevel
                ? "decoder null is not supported (a SentencePiece-style BPE needs e.g. Replace, ByteFallback, Fuse, Strip)"
                : "decoder null is not supported (a byte-level BPE needs the ByteLevel decoder)")
        }
        let decoder = try TokenDecoder.parse(decoderJSON, byteLevelModel: !characterLevel)

        self.init(model: model, addedTokens: added, normalizer: normalizer, preTokenizer: pre, metaspace: metaspace,
                  postProcessor: post, decoder: decoder, source: file)
    }

    /// A `Metaspace` pre-tokenizer, alone or as the only step of a `Sequence`; nil for other pre-tokenizers.
    static func parseMetaspace(_ j: LocatedJSON) throws -> Metaspace? {
        let type = try j.typeName
        if type == "Metaspace" { return try Metaspace.parse(j) }
        if type == "Sequence" {
            let items = try j.require("pretokenizers").array
            let isMeta = try items.map { try $0.typeName == "Metaspace" }
            if isMeta.contains(true) {
                guard items.count == 1 else {
                    throw j.unsupported(" (Metaspace combined with other pre-tokenizers)")
                }
                return try Metaspace.parse(items[0])
            }
        }
        return nil
    }

    static func parsePreTokenizer(_ j: LocatedJSON) throws -> PreTokenizerPipeline {
        if try j.typeName == "Sequence" {
            var steps: [PreTokenizerStep] = []
            for item in try j.require("pretokenizers").array {
                steps += try parsePreTokenizer(item).steps
            }
            return PreTokenizerPipeline(steps: steps, isSequence: true)
        }
        return PreTokenizerPipeline(steps: [try parseStep(j)], isSequence: false)
    }

    private static func parseStep(_ j: LocatedJSON) throws -> PreTokenizerStep {
        let type = try j.typeName
        switch type {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try j.bool("add_prefix_space", default: true),
                              trimOffsets: try j.bool("trim_offsets", default: true),
                              useRegex: try j.bool("use_regex", default: true))
        case "Digits":
            return .digits(individual: try j.bool("individual_digits", default: false))
        case "Split":
            let pattern = try j.require("pattern")
            let behavior = try j.require("behavior").string
            guard behavior == "Isolated" else { throw try j.require("behavior").unsupported(" \(jsonQuoted(behavior))") }
            if try j.bool("invert", default: false) { throw j["invert"]!.unsupported(" true") }
            if let regex = pattern["Regex"] {
                let source = try regex.string
                guard let kind = BPESplitPattern(regex: source) else {
                    throw regex.unsupported(" \(jsonQuoted(source)) (supported: the GPT-2, LLaMA-3 and Qwen2 patterns)")
                }
                return .split(pattern: kind, source: source)
            }
            if let literal = pattern["String"] {
                throw literal.unsupported(" \(jsonQuoted(try literal.string))")
            }
            throw pattern.malformed("should be {\"Regex\": …} or {\"String\": …}")
        default:
            throw j.unsupported(".type \(jsonQuoted(type))")
        }
    }

    /// Applies a tokenizer_config.json: special tokens, `chat_template`, `model_max_length`.
    mutating func applyConfig(_ data: Data, file: String) throws {
        let root = try LocatedJSON.parse(data, file: file)
        guard case .object = root.value else { throw root.typeError("an object") }
        func tokenString(_ key: String) throws -> String? {
            guard let v = root[key] else { return nil }
            if case .string(let s) = v.value { return s }
            if case .object = v.value { return try v.require("content").string }
            throw v.typeError("a string or an AddedToken object")
        }
        if let v = try tokenString("bos_token") { bosToken = v }
        if let v = try tokenString("eos_token") { eosToken = v }
        if let v = try tokenString("pad_token") { padToken = v }
        if let v = try tokenString("unk_token") { unkToken = v }
        if let template = root["chat_template"] {
            switch template.value {
            case .string(let s):
                chatTemplate = s
            case .array:
                // [{"name": "default", "template": "…"}, {"name": "tool_use", …}]
                let named = try template.array
                let pick = try named.first(where: { try $0["name"]?.string == "default" }) ?? named.first
                chatTemplate = try pick?.require("template").string
            default:
                throw template.typeError("a string or a list of named templates")
            }
        }
        if let length = root["model_max_length"] {
            switch length.value {
            case .integer(let i) where i > 0 && i < 1 << 40: modelMaxLength = Int(i)
            case .integer, .number: modelMaxLength = nil   // transformers' "unlimited" 1e30 sentinel
            default: throw length.typeError("a number")
            }
        }
    }
}
