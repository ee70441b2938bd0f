import AlignTensor

/// GPT-2's hyper-parameters with the keys of Hugging Face's `config.json`.
public struct GPT2Config: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var contextLength: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var layerNormEpsilon: Float

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case contextLength = "n_positions"
        case width = "n_embd"
        case layers = "n_layer"
        case heads = "n_head"
        case layerNormEpsilon = "layer_norm_epsilon"
    }

    public init(vocabSize: Int = 50257, contextLength: Int = 1024, width: Int = 768, layers: Int = 12,
                heads: Int = 12, layerNormEpsilon: Float = 1e-5) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.width = width
        self.layers = layers
        self.heads = heads
        self.layerNormEpsilon = layerNormEpsilon
    }
}

/// GPT-2 language model: token + learned position embeddings, pre-LN blocks, final LayerNorm,
/// LM head tied to the token embedding. Parameter names match `GPT2LMHeadModel`'s state dict.
public final class GPT2Model: Module {
    public let config: GPT2Config
    public let wte: Embedding
    public let wpe: Embedding
    public let blocks: [GPT2Block]
    public let lnF: LayerNorm

    public init(_ config: GPT2Config, rng: inout RandomGenerator) {
        self.config = config
        wte = Embedding(config.vocabSize, config.width, rng: &rng)
        wpe = Embedding(config.contextLength, config.width, std: 0.01, rng: &rng)
        blocks = (0..<config.layers).map { _ in
            GPT2Block(width: config.width, heads: config.heads, layers: config.layers, eps: config.layerNormEpsilon, rng: &rng)
        }
        lnF = LayerNorm(config.width, eps: config.layerNormEpsilon)
    }

    /// Final hidden states (B, T, C) for token ids laid out (B, T); keyMask (B, T) marks real tokens.
    public func hiddenStates(_ ids: [Int], batch: Int, length: Int, keyMask: Tensor? = nil) -> Tensor {
        precondition(ids.count == batch * length, "GPT2Model: \(ids.count) ids for batch \(batch) × length \(length)")
        precondition(length <= config.contextLength, "GPT2Model: length \(length) exceeds n_positions \(config.contextLength)")
        var x = wte(ids, shape: [batch, length]) + wpe(Array(0..<length), shape: [length])
        for block in blocks { x = block(x, keyMask: keyMask) }
        return lnF(x)
    }

    /// Next-token logits (B, T, V).
    public func callAsFunction(_ ids: [Int], batch: Int, length: Int, keyMask: Tensor? = nil) -> Tensor {
        Tensor.linear(hiddenStates(ids, batch: batch, length: length, keyMask: keyMask), weight: wte.weight)
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("transformer.wte", wte) + prefixed("transformer.wpe", wpe)
        for (i, b) in blocks.enumerated() { p += prefixed("transformer.h.\(i)", b) }
        return p + prefixed("transformer.ln_f", lnF)
    }
}
