import Foundation

/// Writing Hugging Face tokenizer files that `tokenizers.Tokenizer.from_file`
/// and `transformers.AutoTokenizer.from_pretrained` load and encode identically.
extension Tokenizer {
    /// Writes `tokenizer.json` and `tokenizer_config.json` into `directory`
    /// (created if needed), each atomically (temporary file, fsync, rename).
    public func save(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw AlignDataError(.io, path: displayPath(of: directory), "cannot create directory: \(error.localizedDescription)")
        }
        try writeFileAtomically(JSONWriter.write(tokenizerJSON()), to: directory.appendingPathComponent("tokenizer.json"))
        try writeFileAtomically(JSONWriter.write(configJSON()), to: directory.appendingPathComponent("tokenizer_config.json"))
    }

    /// The tokenizer.json document.
    func tokenizerJSON() -> JSONValue {
        let added = addedVocabulary.tokens.sorted { $0.id < $1.id }.map { t -> JSONValue in
            .obj(["id": .int(t.id), "content": .string(t.content), "single_word": .bool(t.singleWord),
                  "lstrip": .bool(t.lstrip), "rstrip": .bool(t.rstrip), "normalized": .bool(t.normalized),
                  "special": .bool(t.special)])
        }
        var vocab: [(key: String, value: JSONValue)] = []
        vocab.reserveCapacity(model.count)
        for (id, token) in model.tokens.enumerated() {
            guard let token, model.vocab[token] == Int32(id) else { continue }
            vocab.append((key: token, value: .int(id)))
        }
        let merges = model.mergeList.map { pair -> JSONValue in
            .array([.string(model.tokens[Int(pair.0)]!), .string(model.tokens[Int(pair.1)]!)])
        }
        let unk: JSONValue = model.unkID >= 0 ? .string(model.tokens[Int(model.unkID)]!) : .null
        let modelJSON = JSONValue.obj([
            "type": .string("BPE"), "dropout": .null, "unk_token": unk,
            "continuing_subword_prefix": .null, "end_of_word_suffix": .null,
            "fuse_unk": .bool(model.fuseUnk), "byte_fallback": .bool(model.byteFallback), "ignore_merges": .bool(model.ignoreMerges),
            "vocab": .object(vocab), "merges": .array(merges),
        ])
        return .obj([
            "version": .string("1.0"), "truncation": .null, "padding": .null,
            "added_tokens": .array(added),
            "normalizer": normalizer.json,
            "pre_tokenizer": metaspace.map { $0.json } ?? (preTokenizer.steps.isEmpty ? .null : preTokenizer.json),
            "post_processor": postProcessor.json,
            "decoder": decoder.json,
            "model": modelJSON,
        ])
    }

    /// The tokenizer_config.json document (transformers' fast-tokenizer form).
    func configJSON() -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        let decoder = addedVocabulary.tokens.sorted { $0.id < $1.id }.map { t -> (key: String, value: JSONValue) in
            (key: String(t.id), value: .obj(["content": .string(t.content), "lstrip": .bool(t.lstrip),
                                             "normalized": .bool(t.normalized), "rstrip": .bool(t.rstrip),
                                             "single_word": .bool(t.singleWord), "special": .bool(t.special)]))
        }
        members.append((key: "added_tokens_decoder", value: .object(decoder)))
        if let bosToken { members.append((key: "bos_token", value: .string(bosToken))) }
        if let chatTemplate { members.append((key: "chat_template", value: .string(chatTemplate))) }
        members.append((key: "clean_up_tokenization_spaces", value: .bool(false)))
        if let eosToken { members.append((key: "eos_token", value: .string(eosToken))) }
        if let modelMaxLength { members.append((key: "model_max_length", value: .int(modelMaxLength))) }
        if let padToken { members.append((key: "pad_token", value: .string(padToken))) }
        members.append((key: "tokenizer_class", value: .string("PreTrainedTokenizerFast")))
        if let unkToken { members.append((key: "unk_token", value: .string(unkToken))) }
        return .object(members)
    }
}

extension PreTokenizerStep {
    var json: JSONValue {
        switch self {
        case .byteLevel(let addPrefixSpace, let trimOffsets, let useRegex):
            return .obj(["type": .string("ByteLevel"), "add_prefix_space": .bool(addPrefixSpace),
                         "trim_offsets": .bool(trimOffsets), "use_regex": .bool(useRegex)])
        case .split(_, let source):
            return .obj(["type": .string("Split"), "pattern": .obj(["Regex": .string(source)]),
                         "behavior": .string("Isolated"), "invert": .bool(false)])
        case .digits(let individual):
            return .obj(["type": .string("Digits"), "individual_digits": .bool(individual)])
        }
    }
}

extension PreTokenizerPipeline {
    var json: JSONValue {
        if !isSequence && steps.count == 1 { return steps[0].json }
        return .obj(["type": .string("Sequence"), "pretokenizers": .array(steps.map(\.json))])
    }
}
