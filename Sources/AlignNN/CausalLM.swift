import AlignTensor
import Foundation

/// What every causal LM configuration exposes, whatever its family's own key names.
public protocol CausalLMConfig: Codable, Sendable {
    var vocabSize: Int { get }
    /// Longest sequence the model supports (GPT-2 `n_positions`, LLaMA `max_position_embeddings`).
    var contextLength: Int { get }
    /// Width of the final hidden states (what a reward/value head reads).
    var hiddenSize: Int { get }
    var layerCount: Int { get }
    var bosTokenID: Int? { get }
    /// End-of-sequence ids (HF allows one id or a list).
    var eosTokenIDs: [Int] { get }
    var padTokenID: Int? { get }
}

extension CausalLMConfig {
    /// Decodes a Hugging Face `config.json`.
    public static func decode(json data: Data) throws -> Self {
        try JSONDecoder().decode(Self.self, from: data)
    }

    /// Reads and decodes a Hugging Face `config.json` (a file, or a model directory holding one).
    public static func load(contentsOf url: URL) throws -> Self {
        var isDirectory: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? url.appendingPathComponent("config.json") : url
        return try decode(json: Data(contentsOf: file))
    }
}

/// A configuration this library cannot run faithfully (an unsupported activation, RoPE
/// scaling, inconsistent head geometry, …). The message names the key and its value.
public struct ModelConfigError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// A decoder-only language model: token ids in, next-token logits out, with Hugging Face
/// parameter names, strict checkpoint loading and an optional KV cache.
///
/// Shapes: `ids` is (batch, length) row-major. `positions` (batch·length values, row-major)
/// defaults to `past + t` where `past` is the number of tokens already in `cache` (0 without
/// one); pass it for left-padded batches (see `positionIDs(fromKeyMask:)`). `keyMask` (B, S) is
/// non-zero for real tokens and covers every key the new tokens attend to, S = past + length.
public protocol CausalLM: Module {
    associatedtype Config: CausalLMConfig
    var config: Config { get }

    /// Final (normed) hidden states (B, T, hiddenSize): the input of the LM head, and of reward,
    /// value and other scalar heads.
    func hiddenStates(ids: [Int], batch: Int, length: Int, positions: [Int]?, keyMask: Tensor?,
                      cache: KVCache?) -> Tensor

    /// The LM head applied to hidden states (…, hiddenSize) → (…, vocabSize).
    func logits(fromHidden hidden: Tensor) -> Tensor

    /// An empty cache for `batch` sequences with one slot per layer.
    func makeCache(batch: Int) -> KVCache

    /// Copies a checkpoint's tensors into the parameters, strictly: throws `StateDictError`
    /// listing every missing and unexpected key and every shape mismatch, leaving the
    /// parameters untouched, when the checkpoint does not match exactly.
    func load(stateDict: [String: Tensor]) throws
}

extension CausalLM {
    /// Next-token logits (B, T, V).
    public func logits(ids: [Int], batch: Int, length: Int, positions: [Int]? = nil, keyMask: Tensor? = nil,
                       cache: KVCache? = nil) -> Tensor {
        logits(fromHidden: hiddenStates(ids: ids, batch: batch, length: length, positions: positions,
                                        keyMask: keyMask, cache: cache))
    }

    public func makeCache(batch: Int) -> KVCache { KVCache(layers: config.layerCount, batch: batch) }
}

/// Hugging Face's position ids for a (B, S) attention mask: cumsum(mask) − 1 along each row,
/// 1 at padding (`prepare_inputs_for_generation`), so left-padded rows start at position 0.
/// With `lastTokens`, only the last that many columns of each row (the new tokens of a KV-cache
/// step). Returns B·(lastTokens ?? S) positions, row-major.
public func positionIDs(fromKeyMask keyMask: Tensor, lastTokens: Int? = nil) -> [Int] {
    precondition(keyMask.rank == 2, "positionIDs(fromKeyMask:): mask must be (B, S), got \(keyMask.shape)")
    let (B, S) = (keyMask.shape[0], keyMask.shape[1])
    let T = lastTokens ?? S
    precondition(T >= 0 && T <= S, "positionIDs(fromKeyMask:): \(T) last tokens of a mask \(keyMask.shape)")
    var out: [Int] = []
    out.reserveCapacity(B * T)
    let m = keyMask.pointer
    for b in 0..<B {
        var seen = 0
        for s in 0..<S {
            let real = m[b * S + s] != 0
            if real { seen += 1 }
            if s >= S - T { out.append(real ? seen - 1 : 1) }
        }
    }
    return out
}

/// Per-layer keys and values of the tokens seen so far, for incremental decoding.
///
/// Layer l holds K and V of shape (B, S, kvHeads·D). A forward pass with a cache appends its
/// T new tokens' K and V to every layer and attends its queries to all S + T keys. Use it under
/// `withNoGrad`: the cache keeps values, not graphs, and refuses tensors that record one.
///
/// Storage: each layer keeps one preallocated buffer for K and one for V, laid out
/// (B, capacity, w), and new tokens are written in place; when a pass needs more than
/// `capacity` positions the buffers grow geometrically (×2), so appending is amortised O(T)
/// per pass instead of the O(S) copy of re-concatenating the whole history every step.
/// `reserveCapacity(_:)` (the generator reserves prompt length + max new tokens) avoids even
/// the regrowth copies.
///
/// Why (B, capacity, w) and an attention that reads the buffers in place, rather than handing
/// `Tensor.attention` a (B, S, w) tensor: a `Tensor` must own a `Storage` of exactly B·S·w
/// floats, and `Storage` cannot view part of another buffer, so any (B, S, w) tensor of a
/// growing cache is a fresh O(B·S·w) copy per layer per step, whether compacted from a
/// capacity buffer or concatenated (the same cost; `Tensor.attention` also allocates
/// (B, H, T, S) probabilities per call). So `attention(layer:queries:keys:values:…)` computes
/// single-token decode steps (T = 1) straight from the buffers (row stride w, batch stride
/// capacity·w) with a scratch buffer kept here: no per-step allocation that grows with S.
/// A first pass (prefill) runs `Tensor.attention`'s GEMMs on the new K/V directly (no copy);
/// other multi-token passes on a compacted copy. Measured on a random SmolLM2-135M-shaped
/// LLaMA (release, 2 shared cores), attention per layer per step, in place vs compact copy +
/// `Tensor.attention`: S = 65: 0.02 vs 0.02 ms at batch 1, 0.13 vs 0.21 ms at batch 8;
/// S = 513, batch 4: 0.40 vs 0.63 ms (12 vs 19 ms of a ~65 ms step). At short contexts
/// decoding is dominated by the weight GEMMs either way; the in-place path wins as S grows.
public final class KVCache {
    public let layers: Int
    public let batch: Int
    /// Positions each layer's buffers hold before they grow.
    public private(set) var capacity: Int

    // per layer: (B, capacity, width) buffers, the width, and the positions filled
    var keyBuffers: [Storage?]
    var valueBuffers: [Storage?]
    var widths: [Int]
    var lengths: [Int]
    /// Score scratch of the single-token attention, (B·heads, capacity), reused across steps.
    var scratch: Storage?

    /// An empty cache; `capacity` positions are allocated on the first append (more if that
    /// append needs more).
    public init(layers: Int, batch: Int, capacity: Int = 0) {
        precondition(layers > 0 && batch > 0, "KVCache: need layers > 0 and batch > 0, got \(layers), \(batch)")
        precondition(capacity >= 0, "KVCache: negative capacity \(capacity)")
        self.layers = layers
        self.batch = batch
        self.capacity = capacity
        keyBuffers = Array(repeating: nil, count: layers)
        valueBuffers = Array(repeating: nil, count: layers)
        widths = Array(repeating: 0, count: layers)
        lengths = Array(repeating: 0, count: layers)
    }

    /// Tokens cached so far (in the last layer: a pass in progress has not reached it yet).
    public var length: Int { lengths[layers - 1] }

    /// Tokens cached so far in `layer`.
    public func length(layer: Int) -> Int { lengths[layer] }

    /// Makes room for `positions` tokens in every layer without further regrowth.
    public func reserveCapacity(_ positions: Int) {
        guard positions > capacity else { return }
        for l in 0..<layers where keyBuffers[l] != nil { grow(layer: l, to: positions) }
        capacity = positions
    }

    /// Copies of every layer's keys (B, S, w), nil for an empty layer.
    public var keys: [Tensor?] { (0..<layers).map { l in keyBuffers[l].flatMap { lengths[l] > 0 ? compacted($0, layer: l) : nil } } }
    /// Copies of every layer's values (B, S, w), nil for an empty layer.
    public var values: [Tensor?] { (0..<layers).map { l in valueBuffers[l].flatMap { lengths[l] > 0 ? compacted($0, layer: l) : nil } } }

    /// Appends k, v (B, T, w) to `layer` and returns the layer's full keys and values (B, S+T, w).
    ///
    /// The returned tensors are copies of the first S+T positions (O(B·(S+T)·w)); the model
    /// layers use `attention(layer:queries:keys:values:…)`, which needs no such copy.
    public func append(layer: Int, keys k: Tensor, values v: Tensor) -> (keys: Tensor, values: Tensor) {
        write(layer: layer, keys: k, values: v)
        return (compacted(keyBuffers[layer]!, layer: layer), compacted(valueBuffers[layer]!, layer: layer))
    }

    /// Writes k, v (B, T, w) after the `layer`'s cached positions, growing its buffers if needed.
    func write(layer: Int, keys k: Tensor, values v: Tensor) {
        precondition(layer >= 0 && layer < layers, "KVCache: layer \(layer) out of range 0..<\(layers)")
        precondition(k.rank == 3 && k.shape[0] == batch && v.shape == k.shape,
                     "KVCache: keys \(k.shape) and values \(v.shape) must be equal (\(batch), T, w) shapes")
        precondition(!(GradMode.isEnabled && (k.requiresGrad || v.requiresGrad)),
                     "KVCache: keys and values record a graph; run cached forward passes under withNoGrad")
        let (T, w) = (k.shape[1], k.shape[2])
        if keyBuffers[layer] == nil || (lengths[layer] == 0 && widths[layer] != w) {
            widths[layer] = w
            capacity = Swift.max(capacity, T)
            keyBuffers[layer] = Storage(uninitializedCount: batch * capacity * w)
            valueBuffers[layer] = Storage(uninitializedCount: batch * capacity * w)
        }
        precondition(widths[layer] == w, "KVCache: layer \(layer) holds width \(widths[layer]), appended keys \(k.shape)")
        let S = lengths[layer]
        if S + T > capacity {
            let newCapacity = Swift.max(S + T, 2 * capacity)
            for l in 0..<layers where keyBuffers[l] != nil { grow(layer: l, to: newCapacity) }
            capacity = newCapacity
        }
        let kb = keyBuffers[layer]!.pointer, vb = valueBuffers[layer]!.pointer
        for b in 0..<batch {
            (kb + (b * capacity + S) * w).update(from: k.pointer + b * T * w, count: T * w)
            (vb + (b * capacity + S) * w).update(from: v.pointer + b * T * w, count: T * w)
        }
        lengths[layer] = S + T
    }

    /// A cache of `rows.count` rows, row i a copy of row `rows[i]` of this one (every layer, every
    /// position filled so far, the same capacity): a prompt that several rows share is run once
    /// and its keys and values copied to each.
    public func gathering(rows: [Int]) -> KVCache {
        precondition(!rows.isEmpty && rows.allSatisfy { $0 >= 0 && $0 < batch }, "KVCache.gathering: rows \(rows) of \(batch)")
        let c = KVCache(layers: layers, batch: rows.count, capacity: capacity)
        for l in 0..<layers {
            c.widths[l] = widths[l]
            c.lengths[l] = lengths[l]
            let per = capacity * widths[l], filled = lengths[l] * widths[l]
            for which in 0..<2 {
                guard let old = which == 0 ? keyBuffers[l] : valueBuffers[l] else { continue }
                let new = Storage(uninitializedCount: rows.count * per)
                for (i, r) in rows.enumerated() { (new.pointer + i * per).update(from: old.pointer + r * per, count: filled) }
                if which == 0 { c.keyBuffers[l] = new } else { c.valueBuffers[l] = new }
            }
        }
        return c
    }

    /// Reallocates a layer's buffers with room for `newCapacity` positions, keeping its tokens.
    private func grow(layer l: Int, to newCapacity: Int) {
        let w = widths[l], S = lengths[l]
        for which in 0..<2 {
            guard let old = which == 0 ? keyBuffers[l] : valueBuffers[l] else { continue }
            let new = Storage(uninitializedCount: batch * newCapacity * w)
            for b in 0..<batch {
                (new.pointer + b * newCapacity * w).update(from: old.pointer + b * capacity * w, count: S * w)
            }
            if which == 0 { keyBuffers[l] = new } else { valueBuffers[l] = new }
        }
    }

    /// A (B, S, w) copy of a layer's buffer.
    func compacted(_ buffer: Storage, layer: Int) -> Tensor {
        let w = widths[layer], S = lengths[layer]
        let out = Storage(uninitializedCount: batch * S * w)
        for b in 0..<batch {
            (out.pointer + b * S * w).update(from: buffer.pointer + b * capacity * w, count: S * w)
        }
        return Tensor(shape: [batch, S, w], storage: out)
    }

    /// Empties every layer (the buffers are kept for reuse).
    public func reset() {
        lengths = Array(repeating: 0, count: layers)
    }
}
