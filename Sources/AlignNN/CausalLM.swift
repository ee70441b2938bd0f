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
/// `withNoGrad` (cached tensors would otherwise keep their graphs alive).
public final class KVCache {
    public let layers: Int
    public let batch: Int
    public private(set) var keys: [Tensor?]
    public private(set) var values: [Tensor?]

    public init(layers: Int, batch: Int) {
        precondition(layers > 0 && batch > 0, "KVCache: need layers > 0 and batch > 0, got \(layers), \(batch)")
        self.layers = layers
        self.batch = batch
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }

    /// Tokens cached so far (in the last layer: a pass in progress has not reached it yet).
    public var length: Int { keys[layers - 1]?.shape[1] ?? 0 }

    /// Appends k, v (B, T, w) to `layer` and returns the layer's full keys and values (B, S+T, w).
    public func append(layer: Int, keys k: Tensor, values v: Tensor) -> (keys: Tensor, values: Tensor) {
        precondition(layer >= 0 && layer < layers, "KVCache: layer \(layer) out of range 0..<\(layers)")
        precondition(k.rank == 3 && k.shape[0] == batch && v.shape == k.shape,
                     "KVCache: keys \(k.shape) and values \(v.shape) must be equal (\(batch), T, w) shapes")
        let allK: Tensor, allV: Tensor
        if let oldK = keys[layer], let oldV = values[layer] {
            precondition(oldK.shape[2] == k.shape[2],
                         "KVCache: layer \(layer) holds width \(oldK.shape[2]), appended keys \(k.shape)")
            allK = Tensor.concat([oldK, k], axis: 1)
            allV = Tensor.concat([oldV, v], axis: 1)
        } else {
            allK = k
            allV = v
        }
        keys[layer] = allK
        values[layer] = allV
        return (allK, allV)
    }

    /// Empties every layer.
    public func reset() {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }
}
