import AlignTensor

/// The one table of how llama.cpp's GGUF tensors correspond to Hugging Face's, read by
/// `GGUFCheckpoint` (GGUF → HF) and written by `GGUFExport` (HF → GGUF): the names, and what
/// llama.cpp's converter does to the values on the way in.
public struct GGUFTensorName: Sendable, Equatable {
    public enum Layout: Sendable, Equatable {
        /// Stored as is.
        case plain
        /// LLaMA q/k projection rows permuted for llama.cpp's RoPE (interleaved pairs), by this
        /// many heads.
        case ropePermuted(heads: Int)
        /// GPT-2 `Conv1D` weight, (in, out) in HF checkpoints, stored transposed (out, in).
        case transposed
    }

    public let gguf: String
    public let huggingFace: String
    public let layout: Layout

    init(_ gguf: String, _ huggingFace: String, _ layout: Layout = .plain) {
        self.gguf = gguf
        self.huggingFace = huggingFace
        self.layout = layout
    }

    /// A LLaMA model's tensors; `output.weight` only when the LM head is not tied.
    public static func llama(blocks: Int, heads: Int, kvHeads: Int, tied: Bool) -> [GGUFTensorName] {
        var out = [GGUFTensorName("token_embd.weight", "model.embed_tokens.weight"), GGUFTensorName("output_norm.weight", "model.norm.weight")]
        if !tied { out.append(GGUFTensorName("output.weight", "lm_head.weight")) }
        for i in 0..<blocks {
            let g = "blk.\(i).", h = "model.layers.\(i)."
            out += [
                GGUFTensorName(g + "attn_q.weight", h + "self_attn.q_proj.weight", .ropePermuted(heads: heads)),
                GGUFTensorName(g + "attn_k.weight", h + "self_attn.k_proj.weight", .ropePermuted(heads: kvHeads)),
                GGUFTensorName(g + "attn_v.weight", h + "self_attn.v_proj.weight"),
                GGUFTensorName(g + "attn_output.weight", h + "self_attn.o_proj.weight"),
                GGUFTensorName(g + "ffn_gate.weight", h + "mlp.gate_proj.weight"),
                GGUFTensorName(g + "ffn_up.weight", h + "mlp.up_proj.weight"),
                GGUFTensorName(g + "ffn_down.weight", h + "mlp.down_proj.weight"),
                GGUFTensorName(g + "attn_norm.weight", h + "input_layernorm.weight"),
                GGUFTensorName(g + "ffn_norm.weight", h + "post_attention_layernorm.weight"),
            ]
        }
        return out
    }

    /// A GPT-2 model's tensors; `output.weight` only when the LM head is not tied.
    public static func gpt2(blocks: Int, tied: Bool) -> [GGUFTensorName] {
        var out = [GGUFTensorName("token_embd.weight", "transformer.wte.weight"), GGUFTensorName("position_embd.weight", "transformer.wpe.weight"),
                   GGUFTensorName("output_norm.weight", "transformer.ln_f.weight"), GGUFTensorName("output_norm.bias", "transformer.ln_f.bias")]
        if !tied { out.append(GGUFTensorName("output.weight", "lm_head.weight")) }
        for i in 0..<blocks {
            let g = "blk.\(i).", h = "transformer.h.\(i)."
            for (gg, hh, conv) in [("attn_norm", "ln_1", false), ("attn_qkv", "attn.c_attn", true), ("attn_output", "attn.c_proj", true),
                                   ("ffn_norm", "ln_2", false), ("ffn_up", "mlp.c_fc", true), ("ffn_down", "mlp.c_proj", true)] {
                out.append(GGUFTensorName(g + gg + ".weight", h + hh + ".weight", conv ? .transposed : .plain))
                out.append(GGUFTensorName(g + gg + ".bias", h + hh + ".bias"))
            }
        }
        return out
    }

    /// GGUF values → the HF tensor.
    public func toHuggingFace(_ stored: Tensor) throws -> Tensor {
        switch layout {
        case .plain: return stored
        case .transposed: return stored.transposed().detached()
        case .ropePermuted(let heads):
            let rows = stored.shape[0], columns = stored.shape.count > 1 ? stored.shape[1] : 1
            return Tensor(try LlamaQKPermutation.unpermute(stored.scalars, rows: rows, columns: columns, headCount: heads), shape: stored.shape)
        }
    }

    /// The HF tensor → the values to store, with their (row-major) shape.
    public func toGGUF(_ tensor: Tensor) throws -> Tensor {
        switch layout {
        case .plain: return tensor
        case .transposed: return tensor.transposed().detached()
        case .ropePermuted(let heads):
            let rows = tensor.shape[0], columns = tensor.shape.count > 1 ? tensor.shape[1] : 1
            return Tensor(try LlamaQKPermutation.permute(tensor.scalars, rows: rows, columns: columns, headCount: heads), shape: tensor.shape)
        }
    }
}
