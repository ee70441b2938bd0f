/// A SentencePiece-style tokenizer written as GGUF metadata (`tokenizer.ggml.model = "llama"`),
/// the inverse of `Tokenizer.init(sentencePieceGGUF:meta:)`.
///
/// GGUF carries scores, not merges: a token made by merges gets the score `-(rank + 1)` of the
/// best-ranked merge producing it, every other token `-1e9`, so that the merges transformers'
/// loader (and llama.cpp) recover from the scores rank the tokens in the same order. Token types:
/// 2 for the unknown token, 3 (control) for special added tokens, 4 (user-defined) for other added
/// tokens, 6 for `<0xXX>` byte tokens, 1 otherwise, 5 (unused) for `[PAD<id>]` fillers.
extension Tokenizer {
    /// Whether the tokenizer has the shape a GGUF `llama` vocabulary can express: Metaspace with
    /// "▁" and no split (or Llama 2's Prepend + Replace normaliser without a pre-tokenizer), byte fallback.
    var sentencePieceGGUFLayout: (addSpacePrefix: Bool, ok: Bool) {
        guard model.characterLevel, model.byteFallback else { return (false, false) }
        if let m = metaspace {
            return (m.prependScheme != .never, normalizer == .none && m.replacement == "\u{2581}" && !m.split)
        }
        let legacy: [NormalizerStep] = [.prepend("\u{2581}"), .replace(pattern: " ", content: "\u{2581}")]
        return (true, normalizer.steps == legacy)
    }

    func writeSentencePieceGGUFMetadata(to writer: inout GGUFWriter, vocabularySize: Int) throws {
        let layout = sentencePieceGGUFLayout
        guard layout.ok else {
            throw AlignDataError(.unsupported, path: source,
                "this SentencePiece-style tokenizer cannot be written to GGUF: only the Llama layout (Metaspace \"▁\" without split, or Prepend + Replace \"▁\"; byte_fallback) can be expressed")
        }
        guard vocabSize <= vocabularySize else {
            throw AlignDataError(.invalidArgument, path: source, "the tokenizer has \(vocabSize) tokens but the model's vocabulary only \(vocabularySize)")
        }
        let prefix = postProcessor.prefix, suffix = postProcessor.suffix
        guard prefix.isEmpty || prefix == [bosTokenID ?? -1], suffix.isEmpty || suffix == [eosTokenID ?? -1] else {
            throw AlignDataError(.unsupported, path: source,
                                 "the tokenizer adds tokens \(prefix) before and \(suffix) after each text; GGUF can only say \"add BOS\" and \"add EOS\"")
        }
        var score = [Float](repeating: -1e9, count: vocabularySize)
        for (rank, pair) in model.mergeList.enumerated() {
            guard let r = model.rankAndMerged(pair.0, pair.1) else { continue }
            let merged = Int(r & 0xFFFF_FFFF)
            if merged < vocabularySize && score[merged] == -1e9 { score[merged] = -Float(rank + 1) }
        }
        let added = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let unk = unkTokenID
        var tokens: [String] = [], types: [Int] = []
        tokens.reserveCapacity(vocabularySize)
        types.reserveCapacity(vocabularySize)
        for id in 0 ..< vocabularySize {
            if let a = added[id] {
                tokens.append(a.content)
                types.append(id == unk ? 2 : a.special ? 3 : 4)
            } else if id < model.tokens.count, let t = model.tokens[id] {
                tokens.append(t)
                types.append(id == unk ? 2 : SentencePieceBytes.byteOfToken(t.utf8) != nil ? 6 : 1)
            } else {
                tokens.append("[PAD\(id)]")
                types.append(5)
            }
        }
        writer.set("tokenizer.ggml.model", "llama")
        writer.set("tokenizer.ggml.tokens", strings: tokens)
        writer.set("tokenizer.ggml.scores", .array(elementType: .float32, values: score.map { .float32($0) }))
        writer.set("tokenizer.ggml.token_type", int32s: types)
        for (key, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID), ("padding_token_id", padTokenID),
                          ("unknown_token_id", unk)] {
            if let id { writer.set("tokenizer.ggml.\(key)", uint32: id) }
        }
        writer.set("tokenizer.ggml.add_space_prefix", layout.addSpacePrefix)
        writer.set("tokenizer.ggml.add_bos_token", !prefix.isEmpty)
        writer.set("tokenizer.ggml.add_eos_token", !suffix.isEmpty)
        if let chatTemplate { writer.set("tokenizer.chat_template", chatTemplate) }
    }
}
