import AlignTensor
import Foundation

/// GPT-2's hyper-parameters with the keys of Hugging Face's `config.json`.
///
/// Decoding fills absent keys with `transformers.GPT2Config`'s defaults and ignores keys it does
/// not know; it rejects settings this implementation would silently get wrong (another
/// activation, attention-scaling variants, cross-attention) with a `ModelConfigError`.
public struct GPT2Config: CausalLMConfig, Equatable {
    public var vocabSize: Int
    public var contextLength: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var layerNormEpsilon: Float
    /// MLP inner width (`n_inner`; nil means 4·width).
    public var inner: Int?
    /// `activation_function`: "gelu_new" or "gelu_pytorch_tanh" (the same tanh GELU).
    public var activation: String
    public var tieWordEmbeddings: Bool
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]
    public var padTokenID: Int?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case contextLength = "n_positions"
        case width = "n_embd"
        case layers = "n_layer"
        case heads = "n_head"
        case layerNormEpsilon = "layer_norm_epsilon"
        case inner = "n_inner"
        case activation = "activation_function"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenID = "bos_token_id"
        case eosTokenIDs = "eos_token_id"
        case padTokenID = "pad_token_id"
        case modelType = "model_type"
        case scaleAttnWeights = "scale_attn_weights"
        case scaleAttnByInverseLayerIdx = "scale_attn_by_inverse_layer_idx"
        case addCrossAttention = "add_cross_attention"
    }

    public static let supportedActivations = ["gelu_new", "gelu_pytorch_tanh"]

    public init(vocabSize: Int = 50257, contextLength: Int = 1024, width: Int = 768, layers: Int = 12,
                heads: Int = 12, layerNormEpsilon: Float = 1e-5, inner: Int? = nil, activation: String = "gelu_new",
                tieWordEmbeddings: Bool = true, bosTokenID: Int? = 50256, eosTokenIDs: [Int] = [50256],
                padTokenID: Int? = nil) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.width = width
        self.layers = layers
        self.heads = heads
        self.layerNormEpsilon = layerNormEpsilon
        self.inner = inner
        self.activation = activation
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.padTokenID = padTokenID
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GPT2Config()
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
        contextLength = try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? d.contextLength
        width = try c.decodeIfPresent(Int.self, forKey: .width) ?? d.width
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? d.layers
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? d.heads
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? d.layerNormEpsilon
        inner = try c.decodeIfPresent(Int.self, forKey: .inner)
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? d.activation
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? d.tieWordEmbeddings
        bosTokenID = c.contains(.bosTokenID) ? try c.decodeIfPresent(Int.self, forKey: .bosTokenID) : d.bosTokenID
        eosTokenIDs = c.contains(.eosTokenIDs) ? try decodeTokenIDs(c, .eosTokenIDs) : d.eosTokenIDs
        padTokenID = try c.decodeIfPresent(Int.self, forKey: .padTokenID)

        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "gpt2" {
            throw ModelConfigError("GPT2Config: model_type '\(type)' is not 'gpt2'")
        }
        guard Self.supportedActivations.contains(activation) else {
            throw ModelConfigError("GPT2Config: activation_function '\(activation)' is not supported (supported: \(Self.supportedActivations.joined(separator: ", ")))")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .scaleAttnWeights) == false {
            throw ModelConfigError("GPT2Config: scale_attn_weights = false is not supported")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .scaleAttnByInverseLayerIdx) == true {
            throw ModelConfigError("GPT2Config: scale_attn_by_inverse_layer_idx = true is not supported")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .addCrossAttention) == true {
            throw ModelConfigError("GPT2Config: add_cross_attention = true is not supported")
        }
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("gpt2", forKey: .modelType)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(contextLength, forKey: .contextLength)
        try c.encode(width, forKey: .width)
        try c.encode(layers, forKey: .layers)
        try c.encode(heads, forKey: .heads)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode(inner, forKey: .inner)
        try c.encode(activation, forKey: .activation)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(bosTokenID, forKey: .bosTokenID)
        try encodeTokenIDs(eosTokenIDs, &c, .eosTokenIDs)
        try c.encode(padTokenID, forKey: .padTokenID)
    }

    /// Throws when the sizes are not positive or the width does not split into the heads.
    public func validate() throws {
        for (key, value) in [("vocab_size", vocabSize), ("n_positions", contextLength), ("n_embd", width),
                             ("n_layer", layers), ("n_head", heads), ("n_inner", innerWidth)] where value <= 0 {
            throw ModelConfigError("GPT2Config: \(key) is \(value), expected a positive integer")
        }
        guard width % heads == 0 else {
            throw ModelConfigError("GPT2Config: n_embd \(width) is not divisible by n_head \(heads)")
        }
    }

    /// The MLP's inner width.
    public var innerWidth: Int { inner ?? 4 * width }
    public var hiddenSize: Int { width }
    public var layerCount: Int { layers }
}

/// GPT-2 language model: token + learned position embeddings, pre-LN blocks, final LayerNorm,
/// LM head tied to the token embedding (or a separate `lm_head` when `tie_word_embeddings` is
/// false). Parameter names match `GPT2LMHeadModel`'s state dict.
public final class GPT2Model: CausalLM {
    public let config: GPT2Config
    public let wte: Embedding
    public let wpe: Embedding
    public let blocks: [GPT2Block]
    public let lnF: LayerNorm
    /// (vocab, width) `lm_head.weight`; nil when tied to `wte`.
    public let lmHead: Tensor?

    public init(_ config: GPT2Config, rng: inout RandomGenerator) {
        self.config = config
        wte = Embedding(config.vocabSize, config.width, rng: &rng)
        wpe = Embedding(config.contextLength, config.width, std: 0.01, rng: &rng)
        blocks = (0..<config.layers).map { _ in
            GPT2Block(width: config.width, heads: config.heads, layers: config.layers, eps: config.layerNormEpsilon,
                      inner: config.innerWidth, rng: &rng)
        }
        lnF = LayerNorm(config.width, eps: config.layerNormEpsilon)
        lmHead = config.tieWordEmbeddings ? nil
            : Tensor.randn([config.vocabSize, config.width], std: 0.02, rng: &rng, requiresGrad: true)
    }

    /// Final hidden states (B, T, C) for token ids laid out (B, T); keyMask (B, T) marks real tokens.
    public func hiddenStates(_ ids: [Int], batch: Int, length: Int, keyMask: Tensor? = nil) -> Tensor {
        hiddenStates(ids: ids, batch: batch, length: length, positions: nil, keyMask: keyMask, cache: nil)
    }

    public func hiddenStates(ids: [Int], batch: Int, length: Int, positions: [Int]? = nil, keyMask: Tensor? = nil,
                             cache: KVCache? = nil) -> Tensor {
        precondition(ids.count == batch * length, "GPT2Model: \(ids.count) ids for batch \(batch) × length \(length)")
        if let cache {
            precondition(cache.batch == batch && cache.layers == blocks.count,
                         "GPT2Model: cache for batch \(cache.batch) × \(cache.layers) layers used with batch \(batch) × \(blocks.count) layers")
        }
        let past = cache?.length ?? 0
        var x: Tensor
        if let positions {
            precondition(positions.count == batch * length,
                         "GPT2Model: \(positions.count) positions for batch \(batch) × length \(length)")
            precondition(positions.allSatisfy { $0 >= 0 && $0 < config.contextLength },
                         "GPT2Model: positions must lie in 0..<n_positions \(config.contextLength), got \(positions)")
            x = wte(ids, shape: [batch, length]) + wpe(positions, shape: [batch, length])
        } else {
            precondition(past + length <= config.contextLength,
                         "GPT2Model: \(past) cached + \(length) new tokens exceed n_positions \(config.contextLength)")
            x = wte(ids, shape: [batch, length]) + wpe(Array(past..<(past + length)), shape: [length])
        }
        if let keyMask {
            precondition(keyMask.shape == [batch, past + length],
                         "GPT2Model: keyMask \(keyMask.shape) must be [\(batch), \(past + length)] (cached + new tokens)")
        }
        for (i, block) in blocks.enumerated() { x = block(x, keyMask: keyMask, cache: cache, layer: i) }
        return lnF(x)
    }

    public func logits(fromHidden hidden: Tensor) -> Tensor {
        Tensor.linear(hidden, weight: lmHead ?? wte.weight)
    }

    /// Next-token logits (B, T, V).
    public func callAsFunction(_ ids: [Int], batch: Int, length: Int, keyMask: Tensor? = nil) -> Tensor {
        logits(fromHidden: hiddenStates(ids, batch: batch, length: length, keyMask: keyMask))
    }

    public func children() -> [(String, Module)] {
        [("transformer.wte", wte), ("transformer.wpe", wpe)] + blocks.enumerated().map { ("transformer.h.\($0.offset)", $0.element) }
            + [("transformer.ln_f", lnF)]
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("transformer.wte", wte) + prefixed("transformer.wpe", wpe)
        for (i, b) in blocks.enumerated() { p += prefixed("transformer.h.\(i)", b) }
        p += prefixed("transformer.ln_f", lnF)
        if let lmHead { p.append(("lm_head.weight", lmHead)) }
        return p
    }

    /// Loads a `GPT2LMHeadModel` / `GPT2Model` state dict strictly. Keys may carry the
    /// `transformer.` prefix or not (old checkpoints); the attention-mask buffers of old files
    /// (`attn.bias`, `attn.masked_bias`) are skipped. When tied, `lm_head.weight` may be absent,
    /// or present and equal to the token embedding (it then also stands in for a missing
    /// `transformer.wte.weight`).
    public func load(stateDict: [String: Tensor]) throws {
        var values: [String: Tensor] = [:]
        var conflicts: [String] = []
        for (key, value) in stateDict {
            if key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias") || key.hasSuffix(".crossattention.bias") {
                continue
            }
            let name = key.hasPrefix("transformer.") || key == "lm_head.weight" ? key : "transformer." + key
            if values[name] != nil {
                conflicts.append("both '\(name)' and its unprefixed form are present")
            }
            values[name] = value
        }
        if lmHead == nil, let head = values.removeValue(forKey: "lm_head.weight") {
            if let embedding = values["transformer.wte.weight"] {
                if !sameValues(head, embedding) {
                    conflicts.append("lm_head.weight differs from transformer.wte.weight but the embeddings are tied (tie_word_embeddings = true)")
                }
            } else {
                values["transformer.wte.weight"] = head
            }
        }
        try loadParameters(values, conflicts: conflicts)
    }
}

/// Decodes a token id that HF configs store as an int, a list of ints, or null.
func decodeTokenIDs<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> [Int] {
    if try c.decodeNil(forKey: key) { return [] }
    if let one = try? c.decode(Int.self, forKey: key) { return [one] }
    return try c.decode([Int].self, forKey: key)
}

func encodeTokenIDs<K: CodingKey>(_ ids: [Int], _ c: inout KeyedEncodingContainer<K>, _ key: K) throws {
    switch ids.count {
    case 0: try c.encodeNil(forKey: key)
    case 1: try c.encode(ids[0], forKey: key)
    default: try c.encode(ids, forKey: key)
    }
}
