import Foundation

/// Loading the tokenizer stored in a GGUF file's metadata (`tokenizer.ggml.*`).
extension Tokenizer {
    /// Loads the tokenizer of a GGUF file: byte-level BPE (`tokenizer.ggml.model == "gpt2"`)
    /// or SentencePiece BPE (`"llama"`, see SentencePieceGGUF.swift).
    public init(ggufURL url: URL) throws {
        try self.init(gguf: try GGUFFile(url: url))
    }

    /// Builds the tokenizer from GGUF metadata, the way llama.cpp interprets it
    /// and matching the Hugging Face tokenizer the file was converted from:
    ///
    /// - every entry of `tokenizer.ggml.tokens` is a vocabulary entry (id = index),
    ///   `tokenizer.ggml.merges` ("a b") are the ranked merges;
    /// - `token_type` 3 (control) and 2 (unknown) become special added tokens,
    ///   4 (user-defined) non-special added tokens;
    /// - `tokenizer.ggml.pre` selects the pre-tokeniser (see `BPEPreTokenizerPreset(ggufName:)`;
    ///   absent means GPT-2); LLaMA-3 style also sets `ignore_merges` like llama.cpp;
    /// - bos/eos/pad/unk from the `*_token_id` keys; `add_bos_token`/`add_eos_token`
    ///   become the post-processor (LLaMA-3 style adds BOS unless told otherwise);
    /// - `tokenizer.chat_template` and `<arch>.context_length` are kept.
    public init(gguf file: GGUFFile) throws {
        let meta = try GGUFTokenizerMetadata(file)
        guard let modelName = meta.model else {
            throw AlignDataError(.notFound, path: file.path, "metadata key 'tokenizer.ggml.model' is missing")
        }
        if modelName == "llama" {
            try self.init(sentencePieceGGUF: file, meta: meta)
            return
        }
        guard modelName == "gpt2" else {
            throw AlignDataError(.unsupported, path: file.path,
                "metadata 'tokenizer.ggml.model' is \(jsonQuoted(modelName)); supported: \"gpt2\" (byte-level BPE) and \"llama\" (SentencePiece BPE)")
        }
        let preName = meta.preTokenizer ?? "gpt-2"
        guard let preset = BPEPreTokenizerPreset(ggufName: preName) else {
            throw AlignDataError(.unsupported, path: file.path,
                "metadata 'tokenizer.ggml.pre' is \(jsonQuoted(preName)), a pre-tokenizer this library does not implement")
        }
        let merges = try meta.mergePairs(file: file.path)
        let model = try BPEModel(tokens: meta.tokens.map { Optional($0) }, merges: merges, unkToken: nil, fuseUnk: false,
                                 ignoreMerges: preset == .llama3, file: file.path,
                                 vocabPath: "metadata 'tokenizer.ggml.tokens'", mergesPath: "metadata 'tokenizer.ggml.merges'",
                                 allowDuplicates: true)
        var added: [AddedToken] = []
        for (id, type) in meta.tokenTypes.enumerated() {
            switch type {
            case 2, 3: added.append(AddedToken(id: id, content: meta.tokens[id], special: true, normalized: false))
            case 4: added.append(AddedToken(id: id, content: meta.tokens[id], special: false, normalized: false))
            default: break
            }
        }
        let addBOS = meta.addBOS ?? (preset == .llama3)
        let addEOS = meta.addEOS ?? false
        let post = BPEPostProcessor.bosEOS(
            bos: addBOS ? meta.bosTokenID.map { (meta.tokens[$0], $0) } : nil,
            eos: addEOS ? meta.eosTokenID.map { (meta.tokens[$0], $0) } : nil)
        self.init(model: model, addedTokens: added, normalizer: .none, preTokenizer: preset.pipeline,
                  postProcessor: post, decoder: .byteLevel, source: file.path)
        try applyGGUFSettings(meta, file: file)
    }
}
