import AlignTensor
import Foundation

/// The parameter count a configuration implies, computed with overflow-checked arithmetic before
/// anything is allocated, and checked against the tensors a checkpoint actually holds and against
/// this machine's memory. Building a model, a LoRA adapter or a reward head of an absurd size
/// (a `vocab_size` of 2^40, a `lora.rank` of 10^6) is thus an error naming the key and the size,
/// never a failed allocation.
public enum ParameterBudget {
    /// One size-bearing key of a configuration and its value.
    public struct Size: Sendable, Equatable {
        public var key: String
        public var value: Int
        public init(_ key: String, _ value: Int) {
            self.key = key
            self.value = value
        }
    }

    /// Overflow-checked product; nil when it overflows or a factor is negative.
    public static func product(_ factors: Int...) -> Int? { product(factors) }

    public static func product(_ factors: [Int]) -> Int? {
        var p = 1
        for f in factors {
            guard f >= 0 else { return nil }
            let (r, o) = p.multipliedReportingOverflow(by: f)
            if o { return nil }
            p = r
        }
        return p
    }

    /// Overflow-checked sum of optional terms; nil when a term is nil or the sum overflows.
    public static func sum(_ terms: Int?...) -> Int? { sum(terms) }

    public static func sum(_ terms: [Int?]) -> Int? {
        var s = 0
        for t in terms {
            guard let t else { return nil }
            let (r, o) = s.addingReportingOverflow(t)
            if o { return nil }
            s = r
        }
        return s
    }

    /// The size keys of a model configuration under its `config.json` names.
    public static func sizes(of config: any CausalLMConfig) -> [Size] {
        switch config {
        case let c as LlamaConfig:
            return [Size("vocab_size", c.vocabSize), Size("hidden_size", c.hiddenSize), Size("intermediate_size", c.intermediateSize),
                    Size("num_hidden_layers", c.numHiddenLayers), Size("num_attention_heads", c.numAttentionHeads),
                    Size("num_key_value_heads", c.numKeyValueHeads), Size("head_dim", c.headDim)]
        case let c as GPT2Config:
            return [Size("vocab_size", c.vocabSize), Size("n_positions", c.contextLength), Size("n_embd", c.width),
                    Size("n_layer", c.layers), Size("n_inner", c.innerWidth)]
        default:
            return [Size("vocab_size", config.vocabSize), Size("hidden_size", config.hiddenSize), Size("num_hidden_layers", config.layerCount)]
        }
    }

    /// Parameters of a model of `config` with the sizes in `sizes` (keys as `sizes(of:)`), nil on
    /// overflow. Matches `namedParameters()` of the model built from the config (a test checks).
    static func parameterCount(_ config: any CausalLMConfig, _ sizes: [Size]) -> Int? {
        var s: [String: Int] = [:]
        for size in sizes { s[size.key] = size.value }
        switch config {
        case let c as LlamaConfig:
            let v = s["vocab_size"]!, h = s["hidden_size"]!, i = s["intermediate_size"]!, l = s["num_hidden_layers"]!
            let q = product(s["num_attention_heads"]!, s["head_dim"]!), kv = product(s["num_key_value_heads"]!, s["head_dim"]!)
            guard let q, let kv else { return nil }
            let attention = sum(product(h, q), product(2, h, kv), product(q, h), c.attentionBias ? sum(q, product(2, kv), h) : 0)
            let mlp = sum(product(3, h, i), c.mlpBias ? sum(product(2, i), h) : 0)
            let layer = sum(attention, mlp, product(2, h))
            let embeddings = product(c.tieWordEmbeddings ? 1 : 2, v, h)
            return sum(embeddings, h, layer.flatMap { product(l, $0) })
        case let c as GPT2Config:
            let v = s["vocab_size"]!, p = s["n_positions"]!, w = s["n_embd"]!, l = s["n_layer"]!, n = s["n_inner"]!
            // ln_1, ln_2 (weight + bias), c_attn (w·3w + 3w), attn c_proj (w·w + w), c_fc (w·n + n), mlp c_proj (n·w + w)
            let layer = sum(product(4, w), product(3, w, w), product(3, w), product(w, w), w, product(w, n), n, product(n, w), w)
            let embeddings = sum(product(c.tieWordEmbeddings ? 1 : 2, v, w), product(p, w))
            return sum(embeddings, product(2, w), layer.flatMap { product(l, $0) })
        default:
            let v = s["vocab_size"]!, h = s["hidden_size"]!, l = s["num_hidden_layers"]!
            return sum(product(v, h), product(l, h, h))
        }
    }

    /// Parameters of a model of `config`; nil when the count overflows Int.
    public static func parameterCount(_ config: any CausalLMConfig) -> Int? {
        parameterCount(config, sizes(of: config))
    }

    /// The key most responsible for a size: the one whose value, set to 1, leaves the smallest
    /// count (ties: the larger value).
    static func culprit(_ sizes: [Size], count: ([Size]) -> Int?) -> Size {
        var best = sizes[0], bestCount = Int.max
        for (index, size) in sizes.enumerated() {
            var reduced = sizes
            reduced[index].value = 1
            let c = count(reduced) ?? Int.max
            if c < bestCount || (c == bestCount && size.value > best.value) { (best, bestCount) = (size, c) }
        }
        return best
    }

    /// Bytes per parameter held: Float32 weights, plus for training the gradient and AdamW's
    /// two moments.
    static func bytesPerParameter(training: Bool) -> Int { training ? 16 : 4 }

    /// "N parameters (X GiB)" (to train: with gradients and AdamW moments), or the overflow.
    static func describe(_ count: Int?, training: Bool = false) -> String {
        guard let count else { return "more than \(Int.max) parameters (the count overflows)" }
        let bytes = product(count, bytesPerParameter(training: training)).map(MemoryBudget.gib) ?? "more than 8 EiB"
        return "\(count) parameters (\(bytes)\(training ? " to train, with gradients and AdamW moments" : ""))"
    }

    /// Whether `count` parameters fit in this machine's memory.
    static func fits(_ count: Int?, training: Bool) -> Bool {
        guard let count, let bytes = product(count, bytesPerParameter(training: training)) else { return false }
        return bytes <= MemoryBudget.physicalBytes
    }

    /// Throws unless `count` (of the sizes in `sizes`, computed by `count`) fits in this machine's
    /// memory (as Float32 weights, and with `training` their gradients and AdamW moments too).
    /// `source` prefixes the message (a file, or the run config).
    public static func check(_ sizes: [Size], source: String, training: Bool = false, count: ([Size]) -> Int?) throws {
        let total = count(sizes)
        if fits(total, training: training) { return }
        let key = culprit(sizes, count: count)
        throw ModelConfigError("\(source): \(key.key) = \(key.value) implies \(describe(total, training: training)), more than this machine's \(MemoryBudget.gib(MemoryBudget.physicalBytes))")
    }

    /// Checks a model configuration before its model is built: the parameters it implies must fit
    /// in memory and, when `presentValues` is given (the values a checkpoint holds, plus any that
    /// load as zeros), must not exceed what is there. `rename` maps a config.json key to the name
    /// the user wrote (a run config's `model.init.*`).
    public static func check(_ config: any CausalLMConfig, source: String, presentValues: Int? = nil, training: Bool = false,
                             rename: (String) -> String = { $0 }) throws {
        let sizes = sizes(of: config)
        let count = { (s: [Size]) in parameterCount(config, s) }
        let total = count(sizes)
        if let presentValues, total.map({ $0 > presentValues }) ?? true {
            let key = culprit(sizes, count: count)
            throw ModelConfigError("\(source): \(rename(key.key)) = \(key.value) implies \(describe(total)), but its weights hold \(presentValues) values")
        }
        let renamed = sizes.map { Size(rename($0.key), $0.value) }
        try check(renamed, source: source, training: training) { s in
            count(zip(sizes, s).map { Size($0.key, $1.value) })
        }
    }

    /// Checks LoRA adapters of `rank` (the run config's `lora.rank`) on Linear layers with these
    /// (in, out) features, rank·(in + out) trained parameters each, before any is built.
    public static func checkLoRA(rank: Int, layers: [(inFeatures: Int, outFeatures: Int)]) throws {
        let total = sum(layers.map { sum($0.inFeatures, $0.outFeatures) }).flatMap { product(rank, $0) }
        if fits(total, training: true) { return }
        throw ModelConfigError("lora.rank = \(rank) implies \(describe(total, training: true)) in \(layers.count) adapters, more than this machine's \(MemoryBudget.gib(MemoryBudget.physicalBytes))")
    }

    /// Checks a trained head of `outputs` × `hiddenSize` (a reward model's `score`, its
    /// `rm.num_heads` named by `key`) before it is built.
    public static func checkHead(key: String, outputs: Int, hiddenSize: Int) throws {
        let total = product(outputs, hiddenSize)
        if fits(total, training: true) { return }
        throw ModelConfigError("\(key) = \(outputs) implies \(describe(total, training: true)) for a head on \(hiddenSize)-wide hidden states, more than this machine's \(MemoryBudget.gib(MemoryBudget.physicalBytes))")
    }
}
