import AlignTensor

/// One GPT-2 transformer block (pre-LayerNorm), with Hugging Face's module names and `Conv1D`
/// weight layout:
///   h = x + attn.c_proj(attention(attn.c_attn(ln_1(x))))
///   y = h + mlp.c_proj(gelu(mlp.c_fc(ln_2(h))))
public final class GPT2Block: Module {
    public let ln1: LayerNorm
    public let cAttn: Linear
    public let attnProj: Linear
    public let ln2: LayerNorm
    public let cFC: Linear
    public let mlpProj: Linear
    public let heads: Int
    public let width: Int

    /// GPT-2 initialisation: N(0, 0.02) weights; the residual projections scaled by 1/√(2·layers).
    /// `inner` is the MLP width (`n_inner`, default 4·width).
    public init(width: Int, heads: Int, layers: Int = 1, eps: Float = 1e-5, inner: Int? = nil,
                rng: inout RandomGenerator) {
        precondition(width % heads == 0, "GPT2Block: width \(width) is not divisible by \(heads) heads")
        self.heads = heads
        self.width = width
        let inner = inner ?? 4 * width
        let residualStd = 0.02 / Float(2 * layers).squareRoot()
        ln1 = LayerNorm(width, eps: eps)
        cAttn = Linear(width, 3 * width, layout: .inOut, rng: &rng)
        attnProj = Linear(width, width, layout: .inOut, std: residualStd, rng: &rng)
        ln2 = LayerNorm(width, eps: eps)
        cFC = Linear(width, inner, layout: .inOut, rng: &rng)
        mlpProj = Linear(inner, width, layout: .inOut, std: residualStd, rng: &rng)
    }

    /// x: (B, T, C); keyMask: (B, T) with 0 at padding. Returns (B, T, C).
    public func callAsFunction(_ x: Tensor, keyMask: Tensor? = nil) -> Tensor {
        let a = Tensor.attention(packedQKV: cAttn(ln1(x)), heads: heads, keyMask: keyMask)
        let h = x + attnProj(a)
        return h + mlpProj(cFC(ln2(h)).gelu())
    }

    /// With a KV cache: x (B, T, C) are the new tokens; their keys and values are appended to
    /// `cache` at `layer` and the queries attend to every cached key. keyMask: (B, S) over all
    /// S = cached + T keys. Without a cache this is `callAsFunction(_:keyMask:)`.
    public func callAsFunction(_ x: Tensor, keyMask: Tensor?, cache: KVCache?, layer: Int) -> Tensor {
        guard let cache else { return self(x, keyMask: keyMask) }
        let qkv = cAttn(ln1(x))
        let C = width
        let q = qkv.slice(axis: 2, 0..<C)
        let a = cache.attention(layer: layer, queries: q, keys: qkv.slice(axis: 2, C..<2 * C),
                                values: qkv.slice(axis: 2, 2 * C..<3 * C), heads: heads, keyMask: keyMask)
        let h = x + attnProj(a)
        return h + mlpProj(cFC(ln2(h)).gelu())
    }

    public func children() -> [(String, Module)] {
        [("ln_1", ln1), ("attn.c_attn", cAttn), ("attn.c_proj", attnProj), ("ln_2", ln2), ("mlp.c_fc", cFC), ("mlp.c_proj", mlpProj)]
    }

    public func namedParameters() -> [(String, Tensor)] {
        prefixed("ln_1", ln1) + prefixed("attn.c_attn", cAttn) + prefixed("attn.c_proj", attnProj)
            + prefixed("ln_2", ln2) + prefixed("mlp.c_fc", cFC) + prefixed("mlp.c_proj", mlpProj)
    }
}
