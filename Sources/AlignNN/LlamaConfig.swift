import AlignTensor
import Foundation

/// LLaMA-family hyper-parameters with the keys of Hugging Face's `config.json` and
/// `transformers.LlamaConfig`'s defaults for absent keys; unknown keys are ignored.
///
/// RoPE: `rope_theta` is read from the top level (transformers 4) or from `rope_parameters`
/// (transformers 5); scaling from `rope_scaling` (transformers 4) or `rope_parameters`:
/// `default`, `linear` and `llama3` (Llama 3.1/3.2) are implemented, other types (dynamic NTK,
/// YaRN, …) and a partial rotary factor are rejected with a `ModelConfigError`, as are
/// activations other than SiLU and sliding-window attention. Scaling is written back as
/// `rope_scaling`, which transformers 4 and 5 both read.
public struct LlamaConfig: CausalLMConfig, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    /// Per-head width (`head_dim`; hidden_size / num_attention_heads when absent).
    public var headDim: Int
    public var rmsNormEps: Float
    public var ropeTheta: Float
    /// RoPE position interpolation (`rope_scaling`); `.none` for plain RoPE.
    public var ropeScaling: RoPEScaling = .none
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    /// Biases on q/k/v/o projections (`attention_bias`).
    public var attentionBias: Bool
    /// Biases on gate/up/down projections (`mlp_bias`).
    public var mlpBias: Bool
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]
    public var padTokenID: Int?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case maxPositionEmbeddings = "max_position_embeddings"
        case tieWordEmbeddings = "tie_word_embeddings"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
        case bosTokenID = "bos_token_id"
        case eosTokenIDs = "eos_token_id"
        case padTokenID = "pad_token_id"
        case modelType = "model_type"
        case hiddenAct = "hidden_act"
        case ropeScaling = "rope_scaling"
        case ropeParameters = "rope_parameters"
        case slidingWindow = "sliding_window"
    }

    /// The fields of `rope_scaling` / `rope_parameters` this library looks at.
    struct RopeParameters: Decodable {
        var ropeType: String?
        var type: String?
        var ropeTheta: Float?
        var factor: Double?
        var partialRotaryFactor: Double?
        var lowFreqFactor: Double?
        var highFreqFactor: Double?
        var originalMaxPositionEmbeddings: Int?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", type, ropeTheta = "rope_theta", factor
            case partialRotaryFactor = "partial_rotary_factor"
            case lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        }

        var kind: String { ropeType ?? type ?? "default" }

        /// The scaling these parameters describe; `key` names them in errors.
        func scaling(_ key: String) throws -> RoPEScaling {
            if let f = partialRotaryFactor, f != 1 {
                throw ModelConfigError("LlamaConfig: \(key) partial_rotary_factor \(f) is not supported")
            }
            func positive(_ value: Double?, _ name: String) throws -> Double {
                guard let value, value > 0 else {
                    throw ModelConfigError("LlamaConfig: \(key) rope_type '\(kind)' needs a positive \(name)\(value.map { ", got \($0)" } ?? "")")
                }
                return value
            }
            switch kind {
            case "default":
                return .none
            case "linear":
                return .linear(factor: try positive(factor, "factor"))
            case "llama3":
                let f = try positive(factor, "factor"), low = try positive(lowFreqFactor, "low_freq_factor")
                let high = try positive(highFreqFactor, "high_freq_factor")
                let original = Int(try positive(originalMaxPositionEmbeddings.map(Double.init), "original_max_position_embeddings"))
                guard high > low else {
                    throw ModelConfigError("LlamaConfig: \(key) high_freq_factor \(high) must exceed low_freq_factor \(low)")
                }
                return .llama3(factor: f, lowFreqFactor: low, highFreqFactor: high, originalContext: original)
            default:
                throw ModelConfigError("LlamaConfig: \(key) rope_type '\(kind)' is not supported (supported: default, linear, llama3)")
            }
        }
    }

    public static let supportedModelTypes = ["llama", "mistral"]

    public init(vocabSize: Int = 32000, hiddenSize: Int = 4096, intermediateSize: Int = 11008,
                numHiddenLayers: Int = 32, numAttentionHeads: Int = 32, numKeyValueHeads: Int? = nil,
                headDim: Int? = nil, rmsNormEps: Float = 1e-6, ropeTheta: Float = 10000,
                maxPositionEmbeddings: Int = 2048, tieWordEmbeddings: Bool = false, attentionBias: Bool = false,
                mlpBias: Bool = false, bosTokenID: Int? = 1, eosTokenIDs: [Int] = [2], padTokenID: Int? = nil) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.tieWordEmbeddings = tieWordEmbeddings
        self.attentionBias = attentionBias
        self.mlpBias = mlpBias
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.padTokenID = padTokenID
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LlamaConfig()
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), !Self.supportedModelTypes.contains(type) {
            throw ModelConfigError("LlamaConfig: model_type '\(type)' is not supported (supported: \(Self.supportedModelTypes.joined(separator: ", ")))")
        }
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        guard numAttentionHeads > 0 else {
            throw ModelConfigError("LlamaConfig: num_attention_heads is \(numAttentionHeads), expected a positive integer")
        }
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hiddenSize / numAttentionHeads
        rmsNormEps = try c.decodeIfPresent(Float.self, forKey: .rmsNormEps) ?? d.rmsNormEps
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? d.maxPositionEmbeddings
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? d.tieWordEmbeddings
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? d.attentionBias
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? d.mlpBias
        bosTokenID = c.contains(.bosTokenID) ? try c.decodeIfPresent(Int.self, forKey: .bosTokenID) : d.bosTokenID
        eosTokenIDs = c.contains(.eosTokenIDs) ? try decodeTokenIDs(c, .eosTokenIDs) : d.eosTokenIDs
        padTokenID = try c.decodeIfPresent(Int.self, forKey: .padTokenID)

        let act = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        guard act == "silu" else {
            throw ModelConfigError("LlamaConfig: hidden_act '\(act)' is not supported (only 'silu')")
        }
        if let window = try c.decodeIfPresent(Int.self, forKey: .slidingWindow), window < maxPositionEmbeddings {
            throw ModelConfigError("LlamaConfig: sliding_window \(window) (< max_position_embeddings \(maxPositionEmbeddings)) is not supported")
        }
        var scaling = RoPEScaling.none
        if let legacy = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeScaling) {
            scaling = try legacy.scaling("rope_scaling")
        }
        var theta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta)
        if let params = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters) {
            let fromParameters = try params.scaling("rope_parameters")
            if fromParameters != .none { scaling = fromParameters }
            theta = params.ropeTheta ?? theta
        }
        ropeTheta = theta ?? d.ropeTheta
        ropeScaling = scaling
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("llama", forKey: .modelType)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode("silu", forKey: .hiddenAct)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        switch ropeScaling {
        case .none: break
        case .linear(let factor):
            try c.encode(["rope_type": "linear", "factor": JSONNumberOrString.number(factor)], forKey: .ropeScaling)
        case .llama3(let factor, let low, let high, let original):
            try c.encode(["rope_type": .string("llama3"), "factor": .number(factor), "low_freq_factor": .number(low),
                          "high_freq_factor": .number(high), "original_max_position_embeddings": JSONNumberOrString.number(Double(original))],
                         forKey: .ropeScaling)
        }
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(mlpBias, forKey: .mlpBias)
        try c.encode(bosTokenID, forKey: .bosTokenID)
        try encodeTokenIDs(eosTokenIDs, &c, .eosTokenIDs)
        try c.encode(padTokenID, forKey: .padTokenID)
    }

    /// Throws when sizes are not positive or the attention geometry is inconsistent.
    public func validate() throws {
        for (key, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                             ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                             ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim),
                             ("max_position_embeddings", maxPositionEmbeddings)] where value <= 0 {
            throw ModelConfigError("LlamaConfig: \(key) is \(value), expected a positive integer")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw ModelConfigError("LlamaConfig: num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        guard headDim % 2 == 0 else {
            throw ModelConfigError("LlamaConfig: head_dim \(headDim) must be even for RoPE")
        }
        guard ropeTheta > 0 else { throw ModelConfigError("LlamaConfig: rope_theta \(ropeTheta) must be positive") }
    }

    public var contextLength: Int { maxPositionEmbeddings }
    public var layerCount: Int { numHiddenLayers }
}

/// A `rope_scaling` value: a string or a number (integers written without a fraction).
enum JSONNumberOrString: Encodable, ExpressibleByStringLiteral {
    case string(String)
    case number(Double)

    init(stringLiteral value: String) { self = .string(value) }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let v): if v == v.rounded() && abs(v) < 1e15 { try c.encode(Int(v)) } else { try c.encode(v) }
        }
    }
}
