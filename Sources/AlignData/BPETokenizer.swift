import Foundation

/// A BPE tokenizer that encodes and decodes exactly like Hugging Face `tokenizers`
/// for two families of `tokenizer.json` files (and GGUF files of those families):
///
/// - byte-level BPE (GPT-2, SmolLM2, LLaMA-3, Qwen2): added tokens are matched in the
///   raw text (leftmost, longest first); the text between them is normalised (none /
///   NFC), pre-tokenised (`Split` regex, `Digits`, `ByteLevel`), and every piece's
///   UTF-8 bytes are merged by BPE rank;
/// - SentencePiece-style BPE (Llama 2, Mistral, TinyLlama): the text between added
///   tokens is normalised (`Prepend`, `Replace`, NFC/NFKC…), pre-tokenised by
///   `Metaspace` (or not at all), and merged scalar by scalar with `byte_fallback`
///   (`<0xXX>` tokens); decoding runs the `Replace`/`ByteFallback`/`Fuse`/`Strip`/
///   `Metaspace` decoder chain.
///
/// `addSpecialTokens` applies the post-processor (e.g. LLaMA-3's leading
/// `<|begin_of_text|>`, Llama 2's `<s>`).
///
/// A value type: `extend(with:)` and the special-token properties mutate a copy.
/// The vocabulary, merges and the piece cache are shared between copies and
/// are safe to use from several threads at once.
public struct Tokenizer: Sendable {
    let model: BPEModel
    var addedVocabulary: AddedVocabulary
    let normalizer: BPENormalizer
    let preTokenizer: PreTokenizerPipeline
    var postProcessor: BPEPostProcessor
    /// tokenizer.json `decoder`, run by `decode` and written back by `save`.
    let decoder: TokenDecoder
    /// The `Metaspace` pre-tokenizer of a character-level (SentencePiece-style) model, if any.
    let metaspace: Metaspace?

    /// Beginning-of-sequence token (tokenizer_config.json `bos_token`, GGUF `bos_token_id`).
    public var bosToken: String?
    /// End-of-sequence token (`eos_token`); the chat templates use it to end an
    /// assistant turn where the format has no end-of-turn marker of its own.
    public var eosToken: String?
    /// Padding token (`pad_token`).
    public var padToken: String?
    /// Unknown token (`unk_token`); the model's own unknown token is `model.unk_token`.
    public var unkToken: String?
    /// The checkpoint's Jinja chat template (`chat_template`), if any. See `ChatTemplate.model(_:)`.
    public var chatTemplate: String?
    /// tokenizer_config.json `model_max_length`, if given and meaningful.
    public var modelMaxLength: Int?
    /// Where the tokenizer came from (a file path, "trained", …), for messages.
    public internal(set) var source: String

    init(model: BPEModel, addedTokens: [AddedToken], normalizer: BPENormalizer,
         preTokenizer: PreTokenizerPipeline, metaspace: Metaspace? = nil, postProcessor: BPEPostProcessor,
         decoder: TokenDecoder, source: String) {
        self.model = model
        addedVocabulary = AddedVocabulary(addedTokens)
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.metaspace = metaspace
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.source = source
    }

    /// Whether the model is SentencePiece-style (character-level symbols, `Metaspace`,
    /// `<0xXX>` byte fallback) rather than byte-level.
    public var isSentencePieceStyle: Bool { model.characterLevel }

    /// The standard `ByteLevel` decoder entry.
    static let byteLevelDecoderJSON = JSONValue.obj([
        "type": .string("ByteLevel"), "add_prefix_space": .bool(true), "trim_offsets": .bool(true), "use_regex": .bool(true),
    ])

    // MARK: - Vocabulary

    /// Number of token ids, including added tokens (highest id + 1): the number
    /// of rows an embedding matrix needs.
    public var vocabSize: Int {
        max(model.count, (addedVocabulary.tokens.map(\.id).max() ?? -1) + 1)
    }

    /// The id of a token given in its vocabulary form (byte-level, e.g. `"Ġthe"`),
    /// or of an added token given by its content.
    public func tokenToID(_ token: String) -> Int? {
        if let t = addedVocabulary.token(content: token) { return t.id }
        return model.vocab[token].map(Int.init)
    }

    /// The vocabulary form of a token id (added tokens: their content).
    public func idToToken(_ id: Int) -> String? {
        if let t = addedVocabulary.token(id: id) { return t.content }
        guard id >= 0, id < model.count else { return nil }
        return model.tokens[id]
    }

    /// The added tokens (special and not), in the order they were added.
    public var addedTokens: [AddedToken] { addedVocabulary.tokens }

    /// Whether `id` is a special added token (skipped by `decode(_:skipSpecialTokens: true)`).
    public func isSpecial(_ id: Int) -> Bool {
        addedVocabulary.token(id: id)?.special ?? false
    }

    public var bosTokenID: Int? { bosToken.flatMap(tokenToID) }
    public var eosTokenID: Int? { eosToken.flatMap(tokenToID) }
    public var padTokenID: Int? { padToken.flatMap(tokenToID) }
    public var unkTokenID: Int? { unkToken.flatMap(tokenToID) }

    /// The ids `addSpecialTokens: true` puts before and after a sequence.
    public var specialTokenPrefix: [Int] { postProcessor.prefix }
    public var specialTokenSuffix: [Int] { postProcessor.suffix }

    // MARK: - Encoding

    /// Token ids of `text`.
    /// - Parameters:
    ///   - addSpecialTokens: apply the post-processor (e.g. a leading BOS), like
    ///     `tokenizers`' `encode(…, add_special_tokens=True)`.
    ///   - parseSpecialTokens: when false, special added tokens written in `text`
    ///     are encoded as ordinary text (non-special added tokens still match).
    public func encode(_ text: String, addSpecialTokens: Bool = true, parseSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        var text = text
        text.withUTF8 { bytes in
            encode(bytes, parseSpecialTokens: parseSpecialTokens, ids: &ids, offsets: nil)
        }
        if addSpecialTokens { postProcessor.apply(&ids) }
        return ids
    }

    /// Token ids and, for each, the UTF-8 byte range of `text` it came from.
    /// Special tokens added by the post-processor get empty ranges at the
    /// start or end; a space added by `ByteLevel(add_prefix_space)` has no bytes.
    public func encodeWithOffsets(_ text: String, addSpecialTokens: Bool = false,
                                  parseSpecialTokens: Bool = true) -> (ids: [Int], offsets: [Range<Int>]) {
        var ids: [Int] = []
        var offsets: [Range<Int>] = []
        var text = text
        let n = text.utf8.count
        text.withUTF8 { bytes in
            encode(bytes, parseSpecialTokens: parseSpecialTokens, ids: &ids, offsets: &offsets)
        }
        if addSpecialTokens {
            ids = postProcessor.prefix + ids + postProcessor.suffix
            offsets = Array(repeating: 0 ..< 0, count: postProcessor.prefix.count) + offsets
                + Array(repeating: n ..< n, count: postProcessor.suffix.count)
        }
        return (ids, offsets)
    }

    private func encode(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecialTokens: Bool,
                        ids: inout [Int], offsets: UnsafeMutablePointer<[Range<Int>]>?) {
        ids.reserveCapacity(ids.count + bytes.count / 3)
        var scratch = EncodeScratch()
        if addedVocabulary.isEmpty {
            encodePlain(bytes, base: 0, &scratch, &ids, offsets)
            return
        }
        for segment in addedVocabulary.split(bytes, includeSpecial: parseSpecialTokens) {
            if let id = segment.tokenID {
                ids.append(id)
                offsets?.pointee.append(segment.start ..< segment.end)
            } else {
                let sub = UnsafeBufferPointer(rebasing: bytes[segment.start ..< segment.end])
                encodePlain(sub, base: segment.start, &scratch, &ids, offsets)
            }
        }
    }

    typealias EncodeScratch = PreTokenizerScratch

    /// Normalises, pre-tokenises and BPE-encodes text that contains no added token.
    private func encodePlain(_ bytes: UnsafeBufferPointer<UInt8>, base: Int, _ scratch: inout EncodeScratch,
                             _ ids: inout [Int], _ offsets: UnsafeMutablePointer<[Range<Int>]>?) {
        guard bytes.count > 0 else { return }
        if model.characterLevel {
            encodeCharacterLevel(bytes, base: base, &ids, offsets)
            return
        }
        if !normalizer.steps.isEmpty {
            let original = String(decoding: bytes, as: UTF8.self)
            var normalized = normalizer.apply(original)
            // Compare bytes: `String ==` is canonical equivalence, which NFC always preserves.
            if !normalized.utf8.elementsEqual(bytes) {
                // Offsets cannot be mapped inside a segment that normalisation changed:
                // every token of it gets the whole segment's range.
                let before = ids.count
                normalized.withUTF8 { nb in
                    encodeNormalized(nb, base: 0, &scratch, &ids, nil)
                }
                if let offsets {
                    offsets.pointee += Array(repeating: base ..< base + bytes.count, count: ids.count - before)
                }
                return
            }
        }
        encodeNormalized(bytes, base: base, &scratch, &ids, offsets)
    }

    private func encodeNormalized(_ bytes: UnsafeBufferPointer<UInt8>, base: Int, _ scratch: inout EncodeScratch,
                                  _ ids: inout [Int], _ offsets: UnsafeMutablePointer<[Range<Int>]>?) {
        let model = self.model
        preTokenizer.forEachPiece(bytes, &scratch) { piece, start, prefixSpace in
            let tokens = model.tokenize(piece)
            if let offsets {
                var previous = 0
                let shift = prefixSpace ? 1 : 0
                for t in tokens {
                    ids.append(Int(t >> 32))
                    let end = Int(t & 0xFFFF_FFFF)
                    offsets.pointee.append(base + start + max(previous - shift, 0) ..< base + start + max(end - shift, 0))
                    previous = end
                }
            } else {
                for t in tokens { ids.append(Int(t >> 32)) }
            }
        }
    }

    // MARK: - Decoding

    /// The raw bytes `ids` stand for. Unknown ids are skipped. Byte-level: added tokens
    /// contribute their content's UTF-8 (Hugging Face instead passes them through
    /// the `ByteLevel` decoder, which garbles non-ASCII added tokens).
    /// SentencePiece-style: the decoder chain, with `<0xXX>` runs passed through as
    /// raw bytes even when they are not (yet) valid UTF-8 (for streaming).
    public func decodeBytes(_ ids: [Int], skipSpecialTokens: Bool = false) -> [UInt8] {
        if model.characterLevel { return decodeChain(ids, skipSpecialTokens: skipSpecialTokens, rawBytes: true) }
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        let hasAdded = !addedVocabulary.isEmpty
        for id in ids {
            if hasAdded, let t = addedVocabulary.token(id: id) {
                if skipSpecialTokens && t.special { continue }
                out.append(contentsOf: t.content.utf8)
            } else if id >= 0 && id < model.count {
                out.append(contentsOf: model.tokenBytes[id])
            }
        }
        return out
    }

    /// The text `ids` stand for; invalid UTF-8 (e.g. a cut multi-byte character)
    /// becomes U+FFFD, as in `tokenizers`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        if model.characterLevel {
            return String(decoding: decodeChain(ids, skipSpecialTokens: skipSpecialTokens, rawBytes: false), as: UTF8.self)
        }
        return String(decoding: decodeBytes(ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }

    /// Hugging Face's decode: ids → token strings (added tokens: their content; unknown ids
    /// skipped), then the decoder chain.
    private func decodeChain(_ ids: [Int], skipSpecialTokens: Bool, rawBytes: Bool) -> [UInt8] {
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(ids.count)
        let hasAdded = !addedVocabulary.isEmpty
        for id in ids {
            if hasAdded, let t = addedVocabulary.token(id: id) {
                if skipSpecialTokens && t.special { continue }
                tokens.append(Array(t.content.utf8))
            } else if id >= 0 && id < model.count, model.tokens[id] != nil {
                tokens.append(model.tokenBytes[id])
            }
        }
        return decoder.decode(tokens, rawBytes: rawBytes)
    }

    // MARK: - Extending

    /// Adds tokens to the vocabulary as added tokens (matched verbatim in text
    /// before pre-tokenisation) and returns the id of each, in order. A token that
    /// already exists keeps its id (a vocabulary entry becomes matchable as a
    /// whole); new ones get ids from `vocabSize` upwards, so the model's embedding
    /// must grow to the new `vocabSize`.
    @discardableResult
    public mutating func extend(with newTokens: [String], special: Bool = false) throws -> [Int] {
        var ids: [Int] = []
        for token in newTokens {
            guard !token.isEmpty else {
                throw AlignDataError(.invalidArgument, path: source, "cannot add an empty token")
            }
            if let existing = addedVocabulary.token(content: token) {
                ids.append(existing.id)
                continue
            }
            let id = model.vocab[token].map(Int.init) ?? vocabSize
            addedVocabulary.add(AddedToken(id: id, content: token, special: special))
            ids.append(id)
        }
        return ids
    }
}
