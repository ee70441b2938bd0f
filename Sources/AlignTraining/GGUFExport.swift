import AlignData
import AlignNN
import AlignTensor
import Foundation

/// Writes a model and its tokenizer as one GGUF file for llama.cpp and its users: the inverse
/// of `GGUFCheckpoint`, through the same name table (`GGUFTensorName`): llama.cpp's names
/// (`blk.N.attn_q.weight`, …), LLaMA's q/k rows permuted for llama.cpp's RoPE, GPT-2's `Conv1D`
/// weights stored (out, in), and
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
        func add(_ ggufName: String, _ tensor: Tensor) throws {
            let data = tensor.scalars
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
            for name in GGUFTensorName.llama(blocks: c.numHiddenLayers, heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads,
                                             tied: c.tieWordEmbeddings) {
                try add(name.gguf, try name.toGGUF(weight(name.huggingFace)))
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
            for name in GGUFTensorName.gpt2(blocks: c.layers, tied: c.tieWordEmbeddings) {
                try add(name.gguf, try name.toGGUF(weight(name.huggingFace)))
            }
        }
        try tokenizer?.writeGGUFMetadata(to: &writer, vocabularySize: model.config.vocabSize)
        try writer.write(to: url)
    }
}
