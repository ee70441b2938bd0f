import AlignData
import AlignNN
import AlignTensor
import Foundation

/// Writes a model and its tokenizer as one GGUF file for llama.cpp and its users: the inverse
/// of `GGUFCheckpoint`. Tensors get llama.cpp's names (`blk.N.attn_q.weight`, …), LLaMA's q/k
/// rows are permuted for llama.cpp's RoPE, GPT-2's `Conv1D` weights are stored (out, in), and
/// the hyper-parameters and tokenizer go into the metadata as llama.cpp's converter writes them.
/// Vectors (norms, biases) are always F32; matrices use the chosen type (Q8_0 falls back to F16
/// for a matrix whose rows are not a multiple of 32, as llama.cpp's converter does).
public enum GGUFExport {
    public enum WeightType: String, CaseIterable, Sendable {
        case f32, f16, q8_0

        var ggml: GGMLType {
            switch self {
            case .f32: return .f32
            case .f16: return .f16
            case .q8_0: return .q8_0
            }
        }

        /// `general.file_type` (llama.cpp's `llama_ftype`: ALL_F32, MOSTLY_F16, MOSTLY_Q8_0).
        var fileType: Int {
            switch self {
            case .f32: return 0
            case .f16: return 1
            case .q8_0: return 7
            }
        }
    }

    /// Writes `loaded` and `tokenizer` to `url` (atomically). `name` becomes `general.name`.
    /// Without a tokenizer the file holds the weights and hyper-parameters only (llama.cpp
    /// needs the tokenizer to run it).
    public static func write(_ loaded: LoadedModel, tokenizer: Tokenizer?, type: WeightType, name: String, to url: URL) throws {
        var writer = GGUFWriter()
        let model = loaded.model
        let stateDict = model.stateDict()
        let path = url.path
        func weight(_ key: String) throws -> Tensor {
            guard let t = stateDict[key] else { throw AlignDataError(.notFound, path: path, "the model has no tensor '\(key)'") }
            return t
        }
        func add(_ ggufName: String, _ tensor: Tensor, values: [Float]? = nil) throws {
            let data = values ?? tensor.scalars
            if let bad = data.firstIndex(where: { !$0.isFinite }) {
                throw AlignDataError(.malformed, path: path, "tensor '\(ggufName)' has a non-finite value (\(data[bad])) at index \(bad)")
            }
            var ggml = tensor.rank == 1 ? GGMLType.f32 : type.ggml
            if ggml == .q8_0 && tensor.shape.last! % 32 != 0 { ggml = .f16 }
            try writer.addTensor(ggufName, shape: tensor.shape, values: data, type: ggml)
        }
        writer.set("general.architecture", loaded.family == .llama ? "llama" : "gpt2")
        writer.set("general.name", name)
        writer.set("general.file_type", uint32: type.fileType)
        if type == .q8_0 { writer.set("general.quantization_version", uint32: 2) }
        writer.set("general.alignment", uint32: writer.alignment)

        switch loaded.family {
        case .llama:
            guard let c = model.config as? LlamaConfig else { preconditionFailure("GGUFExport: a llama model without a LlamaConfig") }
            guard !c.attentionBias, !c.mlpBias else {
                throw AlignDataError(.unsupported, path: path, "LLaMA models with attention or MLP biases cannot be written as GGUF yet")
            }
            let a = "llama"
            writer.set("\(a).vocab_size", uint32: c.vocabSize)
            writer.set("\(a).context_length", uint32: c.maxPositionEmbeddings)
            writer.set("\(a).embedding_length", uint32: c.hiddenSize)
            writer.set("\(a).block_count", uint32: c.numHiddenLayers)
            writer.set("\(a).feed_forward_length", uint32: c.intermediateSize)
            writer.set("\(a).attention.head_count", uint32: c.numAttentionHeads)
            writer.set("\(a).attention.head_count_kv", uint32: c.numKeyValueHeads)
            writer.set("\(a).attention.layer_norm_rms_epsilon", float32: Double(c.rmsNormEps))
            writer.set("\(a).rope.freq_base", float32: Double(c.ropeTheta))
            writer.set("\(a).rope.dimension_count", uint32: c.headDim)
            switch c.ropeScaling {
            case .none: break
            case .linear(let factor):
                writer.set("\(a).rope.scaling.type", "linear")
                writer.set("\(a).rope.scaling.factor", float32: factor)
            case .llama3(_, let low, let high, let original):
                // llama.cpp reads Llama 3's scaling as per-frequency divisors, as its converter writes them
                guard low == 1, high == 4 else {
                    throw AlignDataError(.unsupported, path: path, "llama3 RoPE scaling with low/high frequency factors \(low)/\(high) (Llama 3 uses 1/4) cannot be written as GGUF")
                }
                writer.set("\(a).rope.scaling.original_context_length", uint32: original)
                let divisors = c.ropeScaling.frequencyFactors(headDim: c.headDim, theta: c.ropeTheta)
                try writer.addTensor("rope_freqs.weight", shape: [divisors.count], values: divisors, type: .f32)
            }
            if c.headDim * c.numAttentionHeads != c.hiddenSize {
                writer.set("\(a).attention.key_length", uint32: c.headDim)
                writer.set("\(a).attention.value_length", uint32: c.headDim)
            }
            try add("token_embd.weight", try weight("model.embed_tokens.weight"))
            try add("output_norm.weight", try weight("model.norm.weight"))
            if !c.tieWordEmbeddings { try add("output.weight", try weight("lm_head.weight")) }
            for i in 0..<c.numHiddenLayers {
                let g = "blk.\(i).", h = "model.layers.\(i)."
                for (qk, heads) in [("q", c.numAttentionHeads), ("k", c.numKeyValueHeads)] {
                    let t = try weight(h + "self_attn.\(qk)_proj.weight")
                    let permuted = try LlamaQKPermutation.permute(t.scalars, rows: t.shape[0], columns: t.shape[1], headCount: heads)
                    try add(g + "attn_\(qk).weight", t, values: permuted)
                }
                try add(g + "attn_v.weight", try weight(h + "self_attn.v_proj.weight"))
                try add(g + "attn_output.weight", try weight(h + "self_attn.o_proj.weight"))
                try add(g + "ffn_gate.weight", try weight(h + "mlp.gate_proj.weight"))
                try add(g + "ffn_up.weight", try weight(h + "mlp.up_proj.weight"))
                try add(g + "ffn_down.weight", try weight(h + "mlp.down_proj.weight"))
                try add(g + "attn_norm.weight", try weight(h + "input_layernorm.weight"))
                try add(g + "ffn_norm.weight", try weight(h + "post_attention_layernorm.weight"))
            }
        case .gpt2:
            guard let c = model.config as? GPT2Config else { preconditionFailure("GGUFExport: a gpt2 model without a GPT2Config") }
            guard ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"].contains(c.activation) else {
                throw AlignDataError(.unsupported, path: path,
                                     "activation_function '\(c.activation)': llama.cpp's GPT-2 uses the tanh approximation of GELU (gelu_new)")
            }
            let a = "gpt2"
            writer.set("\(a).vocab_size", uint32: c.vocabSize)
            writer.set("\(a).context_length", uint32: c.contextLength)
            writer.set("\(a).embedding_length", uint32: c.width)
            writer.set("\(a).block_count", uint32: c.layers)
            writer.set("\(a).feed_forward_length", uint32: c.inner ?? 4 * c.width)
            writer.set("\(a).attention.head_count", uint32: c.heads)
            writer.set("\(a).attention.layer_norm_epsilon", float32: Double(c.layerNormEpsilon))
            // Conv1D weights are (in, out) in Hugging Face checkpoints; GGUF stores (out, in)
            func conv1D(_ key: String) throws -> Tensor { try weight(key).transposed().detached() }
            try add("token_embd.weight", try weight("transformer.wte.weight"))
            try add("position_embd.weight", try weight("transformer.wpe.weight"))
            try add("output_norm.weight", try weight("transformer.ln_f.weight"))
            try add("output_norm.bias", try weight("transformer.ln_f.bias"))
            if !c.tieWordEmbeddings { try add("output.weight", try weight("lm_head.weight")) }
            for i in 0..<c.layers {
                let g = "blk.\(i).", h = "transformer.h.\(i)."
                try add(g + "attn_norm.weight", try weight(h + "ln_1.weight"))
                try add(g + "attn_norm.bias", try weight(h + "ln_1.bias"))
                try add(g + "attn_qkv.weight", try conv1D(h + "attn.c_attn.weight"))
                try add(g + "attn_qkv.bias", try weight(h + "attn.c_attn.bias"))
                try add(g + "attn_output.weight", try conv1D(h + "attn.c_proj.weight"))
                try add(g + "attn_output.bias", try weight(h + "attn.c_proj.bias"))
                try add(g + "ffn_norm.weight", try weight(h + "ln_2.weight"))
                try add(g + "ffn_norm.bias", try weight(h + "ln_2.bias"))
                try add(g + "ffn_up.weight", try conv1D(h + "mlp.c_fc.weight"))
                try add(g + "ffn_up.bias", try weight(h + "mlp.c_fc.bias"))
                try add(g + "ffn_down.weight", try conv1D(h + "mlp.c_proj.weight"))
                try add(g + "ffn_down.bias", try weight(h + "mlp.c_proj.bias"))
            }
        }
        try tokenizer?.writeGGUFMetadata(to: &writer, vocabularySize: model.config.vocabSize)
        try writer.write(to: url)
    }
}
