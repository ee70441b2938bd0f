import AlignTensor
import Foundation

/// LLaMA self-attention with grouped-query heads and rotary positions (HF `LlamaAttention`):
///   q, k, v = q_proj(x), k_proj(x), v_proj(x);  q, k ← RoPE(q, k)
///   out = o_proj(attention(q, k, v))
public final class LlamaAttention: Module {
    public let qProj: Linear
    public let kProj: Linear
    public let vProj: Linear
    public let oProj: Linear
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int

    public init(hiddenSize: Int, heads: Int, kvHeads: Int, headDim: Int, bias: Bool = false, std: Float = 0.02,
                rng: inout RandomGenerator) {
        precondition(heads % kvHeads == 0, "LlamaAttention: \(heads) heads is not a multiple of \(kvHeads) kv heads")
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        qProj = Linear(hiddenSize, heads * headDim, bias: bias, std: std, rng: &rng)
        kProj = Linear(hiddenSize, kvHeads * headDim, bias: bias, std: std, rng: &rng)
        vProj = Linear(hiddenSize, kvHeads * headDim, bias: bias, std: std, rng: &rng)
        oProj = Linear(heads * headDim, hiddenSize, bias: bias, std: std, rng: &rng)
    }

    /// x: (B, T, hidden); positions: B·T; keyMask: (B, S) with S = cached + T. Returns (B, T, hidden).
    public func callAsFunction(_ x: Tensor, positions: [Int], rope: RoPETable, keyMask: Tensor? = nil,
                               cache: KVCache? = nil, layer: Int = 0) -> Tensor {
        let qkv = Linear.applied([qProj, kProj, vProj], to: x)
        let q = qkv[0].rope(heads: heads, headDim: headDim, positions: positions, table: rope)
        let k = qkv[1].rope(heads: kvHeads, headDim: headDim, positions: positions, table: rope)
        let v = qkv[2]
        if let cache {
            return oProj(cache.attention(layer: layer, queries: q, keys: k, values: v, heads: heads, kvHeads: kvHeads,
                                         keyMask: keyMask))
        }
        return oProj(Tensor.attention(q: q, k: k, v: v, heads: heads, kvHeads: kvHeads, keyMask: keyMask))
    }

    public func children() -> [(String, Module)] {
        [("q_proj", qProj), ("k_proj", kProj), ("v_proj", vProj), ("o_proj", oProj)]
    }

    public func namedParameters() -> [(String, Tensor)] {
        prefixed("q_proj", qProj) + prefixed("k_proj", kProj) + prefixed("v_proj", vProj) + prefixed("o_proj", oProj)
    }
}

/// LLaMA's SwiGLU MLP: down_proj(silu(gate_proj(x)) ⊙ up_proj(x)).
public final class LlamaMLP: Module {
    public let gateProj: Linear
    public let upProj: Linear
    public let downProj: Linear

    public init(hiddenSize: Int, intermediateSize: Int, bias: Bool = false, std: Float = 0.02, rng: inout RandomGenerator) {
        gateProj = Linear(hiddenSize, intermediateSize, bias: bias, std: std, rng: &rng)
        upProj = Linear(hiddenSize, intermediateSize, bias: bias, std: std, rng: &rng)
        downProj = Linear(intermediateSize, hiddenSize, bias: bias, std: std, rng: &rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let gateUp = Linear.applied([gateProj, upProj], to: x)
        return downProj(Tensor.swiglu(gate: gateUp[0], up: gateUp[1]))
    }

    public func children() -> [(String, Module)] {
        [("gate_proj", gateProj), ("up_proj", upProj), ("down_proj", downProj)]
    }

    public func namedParameters() -> [(String, Tensor)] {
        prefixed("gate_proj", gateProj) + prefixed("up_proj", upProj) + prefixed("down_proj", downProj)
    }
}

/// One LLaMA decoder layer (pre-RMSNorm):
///   h = x + self_attn(input_layernorm(x));  y = h + mlp(post_attention_layernorm(h))
public final class LlamaBlock: Module {
    public let inputLayernorm: RMSNorm
    public let selfAttn: LlamaAttention
    public let postAttentionLayernorm: RMSNorm
    public let mlp: LlamaMLP

    public init(_ config: LlamaConfig, std: Float = 0.02, rng: inout RandomGenerator) {
        inputLayernorm = RMSNorm(config.hiddenSize, eps: config.rmsNormEps)
        selfAttn = LlamaAttention(hiddenSize: config.hiddenSize, heads: config.numAttentionHeads,
                                  kvHeads: config.numKeyValueHeads, headDim: config.headDim,
                                  bias: config.attentionBias, std: std, rng: &rng)
        postAttentionLayernorm = RMSNorm(config.hiddenSize, eps: config.rmsNormEps)
        mlp = LlamaMLP(hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize,
                       bias: config.mlpBias, std: std, rng: &rng)
    }

    public func callAsFunction(_ x: Tensor, positions: [Int], rope: RoPETable, keyMask: Tensor? = nil,
                               cache: KVCache? = nil, layer: Int = 0) -> Tensor {
        let h = x + selfAttn(inputLayernorm(x), positions: positions, rope: rope, keyMask: keyMask, cache: cache, layer: layer)
        return h + mlp(postAttentionLayernorm(h))
    }

    public func children() -> [(String, Module)] {
        [("input_layernorm", inputLayernorm), ("self_attn", selfAttn), ("post_attention_layernorm", postAttentionLayernorm), ("mlp", mlp)]
    }

    public func namedParameters() -> [(String, Tensor)] {
        prefixed("input_layernorm", inputLayernorm) + prefixed("self_attn", selfAttn)
            + prefixed("post_attention_layernorm", postAttentionLayernorm) + prefixed("mlp", mlp)
    }
}

/// LLaMA-family causal LM (also SmolLM, TinyLlama, Mistral without sliding window): token
/// embedding, RMSNorm decoder layers with RoPE and grouped-query attention, final RMSNorm and
/// an LM head tied to the embedding or separate. Parameter names match `LlamaForCausalLM`'s
/// state dict (`model.embed_tokens.weight`, `model.layers.N.self_attn.q_proj.weight`, …,
/// `model.norm.weight`, `lm_head.weight`).
public final class LlamaModel: CausalLM {
    public let config: LlamaConfig
    public let embedTokens: Embedding
    public let layers: [LlamaBlock]
    public let norm: RMSNorm
    /// (vocab, hidden) `lm_head.weight`; nil when tied to the embedding.
    public let lmHead: Tensor?

    private var ropeTable: RoPETable
    private let ropeLock = NSLock()

    /// N(0, std) weights (HF `initializer_range`, 0.02), unit RMSNorm gains.
    public init(_ config: LlamaConfig, std: Float = 0.02, rng: inout RandomGenerator) {
        self.config = config
        embedTokens = Embedding(config.vocabSize, config.hiddenSize, std: std, rng: &rng)
        layers = (0..<config.numHiddenLayers).map { _ in LlamaBlock(config, std: std, rng: &rng) }
        norm = RMSNorm(config.hiddenSize, eps: config.rmsNormEps)
        lmHead = config.tieWordEmbeddings ? nil
            : Tensor.randn([config.vocabSize, config.hiddenSize], std: std, rng: &rng, requiresGrad: true)
        ropeTable = RoPETable(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling,
                              maxPositions: Swift.min(config.maxPositionEmbeddings, 256))
    }

    /// cos/sin tables covering positions 0..<count, grown by doubling and shared across calls.
    public func rope(covering count: Int) -> RoPETable {
        ropeLock.lock()
        defer { ropeLock.unlock() }
        if ropeTable.maxPositions < count {
            var n = Swift.max(ropeTable.maxPositions, 1)
            while n < count { n *= 2 }
            ropeTable = RoPETable(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling, maxPositions: n)
        }
        return ropeTable
    }

    public func hiddenStates(ids: [Int], batch: Int, length: Int, positions: [Int]? = nil, keyMask: Tensor? = nil,
                             cache: KVCache? = nil) -> Tensor {
        precondition(ids.count == batch * length, "LlamaModel: \(ids.count) ids for batch \(batch) × length \(length)")
        if let cache {
            precondition(cache.batch == batch && cache.layers == layers.count,
                         "LlamaModel: cache for batch \(cache.batch) × \(cache.layers) layers used with batch \(batch) × \(layers.count) layers")
        }
        let past = cache?.length ?? 0
        let pos: [Int]
        if let positions {
            precondition(positions.count == batch * length,
                         "LlamaModel: \(positions.count) positions for batch \(batch) × length \(length)")
            precondition(positions.allSatisfy { $0 >= 0 }, "LlamaModel: negative position in \(positions)")
            pos = positions
        } else {
            pos = (0..<batch).flatMap { _ in past..<(past + length) }
        }
        if let keyMask {
            precondition(keyMask.shape == [batch, past + length],
                         "LlamaModel: keyMask \(keyMask.shape) must be [\(batch), \(past + length)] (cached + new tokens)")
        }
        let table = rope(covering: (pos.max() ?? -1) + 1)
        var x = embedTokens(ids, shape: [batch, length])
        for (i, layer) in layers.enumerated() {
            x = layer(x, positions: pos, rope: table, keyMask: keyMask, cache: cache, layer: i)
        }
        return norm(x)
    }

    public func logits(fromHidden hidden: Tensor) -> Tensor {
        Tensor.linear(hidden, weight: lmHead ?? embedTokens.weight)
    }

    /// Next-token logits (B, T, V).
    public func callAsFunction(_ ids: [Int], batch: Int, length: Int, positions: [Int]? = nil,
                               keyMask: Tensor? = nil, cache: KVCache? = nil) -> Tensor {
        logits(ids: ids, batch: batch, length: length, positions: positions, keyMask: keyMask, cache: cache)
    }

    public func children() -> [(String, Module)] {
        [("model.embed_tokens", embedTokens)] + layers.enumerated().map { ("model.layers.\($0.offset)", $0.element) }
            + [("model.norm", norm)]
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("model.embed_tokens", embedTokens)
        for (i, layer) in layers.enumerated() { p += prefixed("model.layers.\(i)", layer) }
        p += prefixed("model.norm", norm)
        if let lmHead { p.append(("lm_head.weight", lmHead)) }
        return p
    }

    /// Loads a `LlamaForCausalLM` state dict strictly. RoPE caches (`…rotary_emb.inv_freq`,
    /// saved by old transformers versions) are skipped. When tied, `lm_head.weight` may be
    /// absent, or present and equal to `model.embed_tokens.weight` (it then also stands in for a
    /// missing embedding).
    public func load(stateDict: [String: Tensor]) throws {
        var values = stateDict.filter { !$0.key.hasSuffix(".rotary_emb.inv_freq") }
        var conflicts: [String] = []
        if lmHead == nil, let head = values.removeValue(forKey: "lm_head.weight") {
            if let embedding = values["model.embed_tokens.weight"] {
                if !sameValues(head, embedding) {
                    conflicts.append("lm_head.weight differs from model.embed_tokens.weight but the embeddings are tied (tie_word_embeddings = true)")
                }
            } else {
                values["model.embed_tokens.weight"] = head
            }
        }
        try loadParameters(values, conflicts: conflicts)
    }
}
