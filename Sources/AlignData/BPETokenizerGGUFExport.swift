import Foundation

/// The tokenizer written as GGUF metadata (`tokenizer.ggml.*`), the inverse of
/// `Tokenizer.init(gguf:)` and what llama.cpp's converter writes for a byte-level BPE model.
extension Tokenizer {
    /// The `tokenizer.ggml.pre` name of this tokenizer's pre-tokeniser (`gpt-2`, `smollm`,
    /// `llama-bpe`, `qwen2`), or nil when it is none of the presets llama.cpp knows.
    public var ggufPreTokenizerName: String? {
        guard let preset = BPEPreTokenizerPreset.allCases.first(where: { $0.pipeline == preTokenizer }) else { return nil }
        switch preset {
        case .gpt2: return "gpt-2"
        case .smollm: return "smollm"
        case .llama3: return "llama-bpe"
        case .qwen2: return "qwen2"
        }
    }

    /// Sets the tokenizer keys on `writer`. SentencePiece-style tokenizers: see
    /// SentencePieceGGUFExport.swift. Byte-level ones: model `gpt2`, the pre-tokeniser name, every token
    /// by id (`vocabularySize` entries: ids the tokenizer does not use become `[PAD<id>]`,
    /// type unused), token types (1 normal, 3 control for special added tokens, 4 user-defined
    /// for other added tokens, 5 unused), merges as "a b", bos/eos/pad/unk ids,
    /// `add_bos_token`/`add_eos_token` from the post-processor, and the chat template.
    /// Throws when the tokenizer cannot be expressed in GGUF (a normaliser, an unknown
    /// pre-tokeniser, a post-processor that adds other tokens, a vocabulary larger than
    /// `vocabularySize`).
    public func writeGGUFMetadata(to writer: inout GGUFWriter, vocabularySize: Int) throws {
        let name = source
        if model.characterLevel {
            try writeSentencePieceGGUFMetadata(to: &writer, vocabularySize: vocabularySize)
            return
        }
        guard normalizer == .none else {
            throw AlignDataError(.unsupported, path: name, "the tokenizer normalises its input (NFC), which GGUF files cannot express")
        }
        guard let pre = ggufPreTokenizerName else {
            throw AlignDataError(.unsupported, path: name,
                                 "the tokenizer's pre-tokeniser is none of the ones llama.cpp knows (GPT-2, SmolLM, LLaMA-3, Qwen2)")
        }
        guard vocabSize <= vocabularySize else {
            throw AlignDataError(.invalidArgument, path: name, "the tokenizer has \(vocabSize) tokens but the model's vocabulary only \(vocabularySize)")
        }
        var tokens: [String] = [], types: [Int] = []
        tokens.reserveCapacity(vocabularySize)
        types.reserveCapacity(vocabularySize)
        let added = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for id in 0..<vocabularySize {
            if let a = added[id] {
                tokens.append(a.content)
                types.append(a.special ? 3 : 4)
            } else if id < model.tokens.count, let t = model.tokens[id] {
                tokens.append(t)
                types.append(1)
            } else {
                tokens.append("[PAD\(id)]")
                types.append(5)
            }
        }
        let merges = model.mergeList.map { "\(model.tokens[Int($0.0)] ?? "") \(model.tokens[Int($0.1)] ?? "")" }
        let prefix = postProcessor.prefix, suffix = postProcessor.suffix
        guard prefix.isEmpty || prefix == [bosTokenID ?? -1], suffix.isEmpty || suffix == [eosTokenID ?? -1] else {
            throw AlignDataError(.unsupported, path: name,
                                 "the tokenizer adds tokens \(prefix) before and \(suffix) after each text; GGUF can only say \"add BOS\" and \"add EOS\"")
        }
        writer.set("tokenizer.ggml.model", "gpt2")
        writer.set("tokenizer.ggml.pre", pre)
        writer.set("tokenizer.ggml.tokens", strings: tokens)
        writer.set("tokenizer.ggml.token_type", int32s: types)
        writer.set("tokenizer.ggml.merges", strings: merges)
        for (key, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID), ("padding_token_id", padTokenID),
                          ("unknown_token_id", unkTokenID)] {
            if let id { writer.set("tokenizer.ggml.\(key)", uint32: id) }
        }
        writer.set("tokenizer.ggml.add_space_prefix", false)   // every preset's ByteLevel has add_prefix_space false
        writer.set("tokenizer.ggml.add_bos_token", !prefix.isEmpty)
        writer.set("tokenizer.ggml.add_eos_token", !suffix.isEmpty)
        if let chatTemplate { writer.set("tokenizer.chat_template", chatTemplate) }
    }
}
