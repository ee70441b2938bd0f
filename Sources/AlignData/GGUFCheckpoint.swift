import AlignTensor
import Foundation

/// A GGUF model as a Hugging Face checkpoint: the `config.json` a transformers model of the same
/// architecture would have, and the state dict under Hugging Face names and layouts.
///
/// llama.cpp's converter renames tensors (`model.layers.N.self_attn.q_proj.weight` →
/// `blk.N.attn_q.weight`), permutes the rows of LLaMA's q/k projections for its RoPE kernel, and
/// stores GPT-2's `Conv1D` weights transposed; all three are undone here. Quantised tensors
/// are dequantised to Float32.
public struct GGUFCheckpoint {
    /// Hugging Face `config.json` contents (JSON-serialisable).
    public let config: [String: Any]
    public let stateDict: [String: Tensor]
    /// "llama" or "gpt2".
    public let architecture: String

    public init(_ file: GGUFFile) throws {
        let meta = try GGUFModelConfig(file)
        architecture = meta.architecture
        guard ["llama", "gpt2"].contains(meta.architecture) else {
            throw AlignDataError(.unsupported, path: file.path,
                                 "architecture '\(meta.architecture)' is not supported (supported: llama, gpt2)")
        }
        try Self.checkSizes(file, meta)
        let tok = try? GGUFTokenizerMetadata(file)
        let names: [GGUFTensorName]
        if meta.architecture == "llama" {
            (config, stateDict, names) = try Self.llama(file, meta, tok)
        } else {
            (config, stateDict, names) = try Self.gpt2(file, meta, tok)
        }
        // every tensor of the file is part of the model: nothing silently dropped
        let used = Set(names.map(\.gguf)).union(["rope_freqs.weight", "output.weight"])
        if let extra = file.tensors.first(where: { !used.contains($0.name) }) {
            throw AlignDataError(.malformed, path: file.path,
                                 "tensor '\(extra.name)' is not part of a \(meta.architecture) model of \(meta.blockCount) block\(meta.blockCount == 1 ? "" : "s") ('\(meta.architecture).block_count')")
        }
    }

    /// The sizes the metadata declares against the tensors the file holds, before any table of
    /// tensor names or any model of those sizes is made: exactly the blocks `blk.0 …
    /// blk.(block_count − 1)`, and the vocabulary, embedding and feed-forward widths of
    /// `token_embd.weight`, `position_embd.weight` and the first block's `ffn_up.weight`.
    static func checkSizes(_ file: GGUFFile, _ m: GGUFModelConfig) throws {
        let arch = m.architecture
        var blocks = Set<Int>()
        for t in file.tensors where t.name.hasPrefix("blk.") {
            let parts = t.name.split(separator: ".", maxSplits: 2)
            guard parts.count == 3, let index = Int(parts[1]), index >= 0 else {
                throw AlignDataError(.malformed, path: file.path, "tensor '\(t.name)' does not name a block (blk.N.…)")
            }
            guard index < m.blockCount else {
                throw AlignDataError(.malformed, path: file.path,
                                     "tensor '\(t.name)' belongs to block \(index) but metadata '\(arch).block_count' is \(m.blockCount)")
            }
            blocks.insert(index)
        }
        guard blocks.count == m.blockCount else {
            throw AlignDataError(.malformed, path: file.path,
                                 "metadata '\(arch).block_count' is \(m.blockCount) but the file holds tensors of \(blocks.count) block\(blocks.count == 1 ? "" : "s")")
        }
        func expect(_ tensor: String, _ axis: Int, _ key: String, _ value: Int) throws {
            guard let info = file.tensor(tensor) else {
                throw AlignDataError(.notFound, path: file.path, "tensor '\(tensor)' is missing")
            }
            guard info.shape.count == 2, info.shape[axis] == value else {
                throw AlignDataError(.malformed, path: file.path,
                                     "metadata '\(key)' is \(value) but tensor '\(tensor)' has shape \(info.shape)")
            }
        }
        let vocabKey = file.value("\(arch).vocab_size") != nil ? "\(arch).vocab_size" : "vocabulary size (tokenizer.ggml.tokens)"
        try expect("token_embd.weight", 0, vocabKey, m.vocabSize)
        try expect("token_embd.weight", 1, "\(arch).embedding_length", m.embeddingLength)
        try expect("blk.0.ffn_up.weight", 0, "\(arch).feed_forward_length", m.feedForwardLength)
        if arch == "gpt2" { try expect("position_embd.weight", 0, "\(arch).context_length", m.contextLength) }
    }

    public init(url: URL) throws { try self.init(GGUFFile(url: url)) }

    static func tensor(_ file: GGUFFile, _ name: String) throws -> Tensor {
        guard let info = file.tensor(name) else {
            throw AlignDataError(.notFound, path: file.path, "tensor '\(name)' is missing")
        }
        return Tensor(try file.floats(name), shape: info.shape)
    }

    static func tokenIDs(_ tok: GGUFTokenizerMetadata?, into config: inout [String: Any]) {
        if let b = tok?.bosTokenID { config["bos_token_id"] = b }
        if let e = tok?.eosTokenID { config["eos_token_id"] = e }
        if let p = tok?.paddingTokenID { config["pad_token_id"] = p }
    }

    static func llama(_ file: GGUFFile, _ m: GGUFModelConfig, _ tok: GGUFTokenizerMetadata?) throws
        -> ([String: Any], [String: Tensor], [GGUFTensorName]) {
        let headDim = m.embeddingLength / m.headCount
        if let rope = m.ropeDimensionCount, rope != headDim {
            throw AlignDataError(.unsupported, path: file.path,
                                 "llama.rope.dimension_count \(rope) differs from the head size \(headDim) (partial rotary is not supported)")
        }
        let tied = file.tensor("output.weight") == nil
        var config: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "vocab_size": m.vocabSize, "hidden_size": m.embeddingLength, "intermediate_size": m.feedForwardLength,
            "num_hidden_layers": m.blockCount, "num_attention_heads": m.headCount,
            "num_key_value_heads": m.headCountKV, "head_dim": headDim, "hidden_act": "silu",
            "rms_norm_eps": m.normEpsilon, "rope_theta": m.ropeFreqBase ?? 10000,
            "max_position_embeddings": m.contextLength, "tie_word_embeddings": tied,
            "attention_bias": false, "mlp_bias": false, "torch_dtype": "float32",
        ]
        tokenIDs(tok, into: &config)
        if let scaling = try ropeScaling(file, theta: Float(m.ropeFreqBase ?? 10000), headDim: headDim) { config["rope_scaling"] = scaling }
        var sd: [String: Tensor] = [:]
        let names = GGUFTensorName.llama(blocks: m.blockCount, heads: m.headCount, kvHeads: m.headCountKV, tied: tied)
        for name in names {
            sd[name.huggingFace] = try name.toHuggingFace(tensor(file, name.gguf))
        }
        return (config, sd, names)
    }

    /// `rope_scaling` for config.json from llama.cpp's encodings: `llama.rope.scaling.type`
    /// "linear" with its factor, or a `rope_freqs.weight` tensor of per-frequency divisors, which
    /// llama.cpp's converter writes for Llama 3.1/3.2 and which must then be exactly Llama 3's
    /// (factor = the largest divisor, low/high frequency factors 1 and 4, original context
    /// `llama.rope.scaling.original_context_length` or 8192) to be accepted.
    static func ropeScaling(_ file: GGUFFile, theta: Float, headDim: Int) throws -> [String: Any]? {
        let type = try file.string("llama.rope.scaling.type")
        if let type, type != "none" {
            guard type == "linear", let factor = try file.float("llama.rope.scaling.factor"), factor > 0 else {
                throw AlignDataError(.unsupported, path: file.path,
                                     "metadata 'llama.rope.scaling.type' is \(jsonQuoted(type)); only linear scaling (with llama.rope.scaling.factor) and Llama 3's rope_freqs are supported")
            }
            return ["rope_type": "linear", "factor": factor]
        }
        guard file.tensor("rope_freqs.weight") != nil else { return nil }
        let divisors = try file.floats("rope_freqs.weight")
        guard divisors.count == headDim / 2, let factor = divisors.max(), factor >= 1 else {
            throw AlignDataError(.malformed, path: file.path, "tensor 'rope_freqs.weight' has \(divisors.count) values; expected \(headDim / 2) divisors ≥ 1")
        }
        let original = try file.int("llama.rope.scaling.original_context_length") ?? 8192
        let llama3 = RoPEScaling.llama3(factor: Double(factor), lowFreqFactor: 1, highFreqFactor: 4, originalContext: original)
        let expected = llama3.frequencyFactors(headDim: headDim, theta: theta)
        guard zip(divisors, expected).allSatisfy({ abs($0 - $1) <= 1e-4 * $1 }) else {
            throw AlignDataError(.unsupported, path: file.path,
                                 "tensor 'rope_freqs.weight' holds RoPE frequency divisors that are not Llama 3's (factor \(factor), low/high frequency factors 1/4, original context \(original)); this RoPE scaling is not supported")
        }
        return ["rope_type": "llama3", "factor": Double(factor), "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                "original_max_position_embeddings": original]
    }

    static func gpt2(_ file: GGUFFile, _ m: GGUFModelConfig, _ tok: GGUFTokenizerMetadata?) throws
        -> ([String: Any], [String: Tensor], [GGUFTensorName]) {
        var config: [String: Any] = [
            "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
            "vocab_size": m.vocabSize, "n_embd": m.embeddingLength, "n_layer": m.blockCount, "n_head": m.headCount,
            "n_positions": m.contextLength, "n_ctx": m.contextLength, "n_inner": m.feedForwardLength,
            "layer_norm_epsilon": m.normEpsilon, "activation_function": "gelu_new",
            "torch_dtype": "float32",
        ]
        tokenIDs(tok, into: &config)
        var sd: [String: Tensor] = [:]
        // some converters also write the (tied) LM head as output.weight: keep it only if it differs
        let embedding = try tensor(file, "token_embd.weight")
        var tied = true
        if file.tensor("output.weight") != nil {
            let head = try tensor(file, "output.weight")
            if head.shape != embedding.shape || head.scalars != embedding.scalars {
                sd["lm_head.weight"] = head
                tied = false
            }
        }
        config["tie_word_embeddings"] = tied
        // output.weight was handled above; the table's own entry for it is for untied writers
        let names = GGUFTensorName.gpt2(blocks: m.blockCount, tied: true)
        for name in names {
            sd[name.huggingFace] = try name.toHuggingFace(name.gguf == "token_embd.weight" ? embedding : tensor(file, name.gguf))
        }
        return (config, sd, names)
    }
}
