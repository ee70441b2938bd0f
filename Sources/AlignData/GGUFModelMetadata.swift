/// Transformer hyper-parameters read from GGUF metadata using the
/// architecture prefix in `general.architecture` (`llama.*`, `gpt2.*`, …).
public struct GGUFModelConfig: Sendable, Equatable {
    /// `general.architecture`, e.g. "llama" or "gpt2".
    public var architecture: String
    /// `<arch>.block_count` (number of transformer layers).
    public var blockCount: Int
    /// `<arch>.embedding_length` (hidden size).
    public var embeddingLength: Int
    /// `<arch>.attention.head_count`.
    public var headCount: Int
    /// `<arch>.attention.head_count_kv`, defaulting to `headCount`.
    public var headCountKV: Int
    /// `<arch>.feed_forward_length` (MLP inner size).
    public var feedForwardLength: Int
    /// `<arch>.context_length`.
    public var contextLength: Int
    /// `<arch>.vocab_size`, else the length of `tokenizer.ggml.tokens`, else the
    /// first row-major dimension of `token_embd.weight`.
    public var vocabSize: Int
    /// `<arch>.attention.layer_norm_rms_epsilon` (RMSNorm models) or
    /// `<arch>.attention.layer_norm_epsilon` (LayerNorm models).
    public var normEpsilon: Double
    /// Whether `normEpsilon` came from the RMSNorm key.
    public var usesRMSNorm: Bool
    /// `<arch>.rope.freq_base`, nil when absent (llama.cpp then assumes 10000).
    public var ropeFreqBase: Double?
    /// `<arch>.rope.dimension_count`, nil when absent (then the full head size).
    public var ropeDimensionCount: Int?

    /// Reads the configuration; throws `.notFound`/`.typeMismatch` naming the key.
    public init(_ file: GGUFFile) throws {
        let arch = try file.requireString("general.architecture")
        architecture = arch
        blockCount = try file.requireInt("\(arch).block_count")
        embeddingLength = try file.requireInt("\(arch).embedding_length")
        headCount = try file.requireInt("\(arch).attention.head_count")
        headCountKV = try file.int("\(arch).attention.head_count_kv") ?? headCount
        feedForwardLength = try file.requireInt("\(arch).feed_forward_length")
        contextLength = try file.requireInt("\(arch).context_length")
        if let v = try file.int("\(arch).vocab_size") {
            vocabSize = v
        } else if case .array(_, let tokens)? = file.value("tokenizer.ggml.tokens") {
            vocabSize = tokens.count
        } else if let embedding = file.tensor("token_embd.weight"), let rows = embedding.shape.first {
            vocabSize = rows
        } else {
            throw AlignDataError(.notFound, path: file.path,
                "cannot determine the vocabulary size: no '\(arch).vocab_size', 'tokenizer.ggml.tokens' or 'token_embd.weight'")
        }
        if let eps = try file.float("\(arch).attention.layer_norm_rms_epsilon") {
            normEpsilon = eps
            usesRMSNorm = true
        } else if let eps = try file.float("\(arch).attention.layer_norm_epsilon") {
            normEpsilon = eps
            usesRMSNorm = false
        } else {
            throw AlignDataError(.notFound, path: file.path,
                "metadata key '\(arch).attention.layer_norm_rms_epsilon' (or '\(arch).attention.layer_norm_epsilon') is missing")
        }
        ropeFreqBase = try file.float("\(arch).rope.freq_base")
        ropeDimensionCount = try file.int("\(arch).rope.dimension_count")
        for (key, value) in [("block_count", blockCount), ("embedding_length", embeddingLength),
                             ("attention.head_count", headCount), ("attention.head_count_kv", headCountKV),
                             ("feed_forward_length", feedForwardLength), ("context_length", contextLength)]
            where value <= 0 {
            throw AlignDataError(.malformed, path: file.path, "metadata '\(arch).\(key)' is \(value), expected a positive integer")
        }
        guard embeddingLength % headCount == 0, headCount % headCountKV == 0 else {
            throw AlignDataError(.malformed, path: file.path,
                "inconsistent attention geometry: embedding_length \(embeddingLength), head_count \(headCount), head_count_kv \(headCountKV)")
        }
    }
}

/// Tokenizer data stored in GGUF metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`).
public struct GGUFTokenizerMetadata: Sendable, Equatable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE), "llama" (SentencePiece), …
    public var model: String?
    /// `tokenizer.ggml.pre`: the pre-tokenizer name, e.g. "smollm".
    public var preTokenizer: String?
    /// `tokenizer.ggml.tokens`, indexed by token id.
    public var tokens: [String]
    /// `tokenizer.ggml.merges` ("a b" pairs in priority order); empty when absent.
    public var merges: [String]
    /// `tokenizer.ggml.token_type` (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte); empty when absent.
    public var tokenTypes: [Int]
    /// `tokenizer.ggml.scores`; empty when absent.
    public var scores: [Float]
    /// `tokenizer.ggml.bos_token_id`.
    public var bosTokenID: Int?
    /// `tokenizer.ggml.eos_token_id`.
    public var eosTokenID: Int?
    /// `tokenizer.ggml.unknown_token_id`.
    public var unknownTokenID: Int?
    /// `tokenizer.ggml.padding_token_id`.
    public var paddingTokenID: Int?
    /// `tokenizer.ggml.add_bos_token`.
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_eos_token`.
    public var addEOS: Bool?
    /// `tokenizer.chat_template` (Jinja source).
    public var chatTemplate: String?

    /// Reads the tokenizer metadata; `tokenizer.ggml.tokens` is required, and
    /// per-token arrays and special ids must be consistent with it.
    public init(_ file: GGUFFile) throws {
        model = try file.string("tokenizer.ggml.model")
        preTokenizer = try file.string("tokenizer.ggml.pre")
        tokens = try file.requireStringArray("tokenizer.ggml.tokens")
        merges = try file.stringArray("tokenizer.ggml.merges") ?? []
        tokenTypes = try file.intArray("tokenizer.ggml.token_type") ?? []
        scores = (try file.floatArray("tokenizer.ggml.scores") ?? []).map { Float($0) }
        bosTokenID = try file.int("tokenizer.ggml.bos_token_id")
        eosTokenID = try file.int("tokenizer.ggml.eos_token_id")
        unknownTokenID = try file.int("tokenizer.ggml.unknown_token_id")
        paddingTokenID = try file.int("tokenizer.ggml.padding_token_id")
        addBOS = try file.bool("tokenizer.ggml.add_bos_token")
        addEOS = try file.bool("tokenizer.ggml.add_eos_token")
        chatTemplate = try file.string("tokenizer.chat_template")

        let n = tokens.count
        for (key, count) in [("token_type", tokenTypes.count), ("scores", scores.count)] where count != 0 && count != n {
            throw AlignDataError(.malformed, path: file.path,
                "metadata 'tokenizer.ggml.\(key)' has \(count) entries but there are \(n) tokens")
        }
        for (key, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID),
                          ("unknown_token_id", unknownTokenID), ("padding_token_id", paddingTokenID)] {
            if let id, !(0 ..< n).contains(id) {
                throw AlignDataError(.malformed, path: file.path,
                    "metadata 'tokenizer.ggml.\(key)' is \(id), outside the vocabulary of \(n) tokens")
            }
        }
    }
}

extension GGUFTokenizerMetadata {
    /// `tokenizer.ggml.merges` as pairs: each entry two tokens separated by one space, else an
    /// error naming the entry.
    func mergePairs(file: String) throws -> [(String, String)] {
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for (i, m) in merges.enumerated() {
            let parts = m.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw AlignDataError(.malformed, path: file,
                    "metadata 'tokenizer.ggml.merges'[\(i)] is \(jsonQuoted(m)), expected two tokens separated by one space")
            }
            pairs.append((String(parts[0]), String(parts[1])))
        }
        return pairs
    }
}

extension Tokenizer {
    /// The settings a GGUF file records beside its vocabulary: the BOS, EOS, padding and unknown
    /// tokens, the chat template, and the model's context length as `modelMaxLength`.
    mutating func applyGGUFSettings(_ meta: GGUFTokenizerMetadata, file: GGUFFile) throws {
        func token(_ id: Int?) -> String? { id.flatMap { meta.tokens.indices.contains($0) ? meta.tokens[$0] : nil } }
        bosToken = token(meta.bosTokenID)
        eosToken = token(meta.eosTokenID)
        padToken = token(meta.paddingTokenID)
        unkToken = token(meta.unknownTokenID)
        chatTemplate = meta.chatTemplate
        if let arch = try file.string("general.architecture"), let n = try file.int("\(arch).context_length"), n > 0 {
            modelMaxLength = n
        }
    }
}
