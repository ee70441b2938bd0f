import AlignNN
import AlignTensor
import Foundation
import XCTest

/// Decoding Hugging Face `config.json`: defaults, unknown keys, transformers 4 and 5 RoPE
/// spellings, and clear errors for what the models do not implement.
final class ModelConfigTests: XCTestCase {
    func decodeLlama(_ json: String) throws -> LlamaConfig { try LlamaConfig.decode(json: Data(json.utf8)) }
    func decodeGPT2(_ json: String) throws -> GPT2Config { try GPT2Config.decode(json: Data(json.utf8)) }

    func assertConfigError(_ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Any) {
        do {
            _ = try body()
            XCTFail("expected a ModelConfigError mentioning '\(fragment)'", file: file, line: line)
        } catch let e as ModelConfigError {
            XCTAssertTrue(e.description.contains(fragment), "'\(e)' lacks '\(fragment)'", file: file, line: line)
        } catch {
            XCTFail("expected a ModelConfigError, got \(error)", file: file, line: line)
        }
    }

    func testLlamaDefaultsAndUnknownKeys() throws {
        let c = try decodeLlama(#"{"hidden_size": 64, "num_attention_heads": 4, "some_future_key": {"x": [1, 2]}, "torch_dtype": "bfloat16"}"#)
        XCTAssertEqual(c.vocabSize, 32000)
        XCTAssertEqual(c.intermediateSize, 11008)
        XCTAssertEqual(c.numHiddenLayers, 32)
        XCTAssertEqual(c.numKeyValueHeads, 4)
        XCTAssertEqual(c.headDim, 16)
        XCTAssertEqual(c.rmsNormEps, 1e-6)
        XCTAssertEqual(c.ropeTheta, 10000)
        XCTAssertEqual(c.maxPositionEmbeddings, 2048)
        XCTAssertFalse(c.tieWordEmbeddings)
        XCTAssertEqual(c.bosTokenID, 1)
        XCTAssertEqual(c.eosTokenIDs, [2])
        XCTAssertNil(c.padTokenID)
    }

    func testLlamaTransformers4StyleAndEOSList() throws {
        // SmolLM2 / Llama-3 style config (transformers 4): top-level rope_theta, null rope_scaling, eos list
        let c = try decodeLlama("""
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 49152, "hidden_size": 576,
         "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
         "rms_norm_eps": 1e-05, "rope_theta": 100000, "rope_scaling": null, "max_position_embeddings": 8192,
         "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": [2, 7], "pad_token_id": null,
         "hidden_act": "silu", "pretraining_tp": 1}
        """)
        XCTAssertEqual(c.headDim, 64)
        XCTAssertEqual(c.ropeTheta, 100_000)
        XCTAssertEqual(c.eosTokenIDs, [2, 7])
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(c.contextLength, 8192)
        XCTAssertEqual(c.layerCount, 30)
        // transformers 5 spelling
        let t5 = try decodeLlama(#"{"rope_parameters": {"rope_theta": 500000.0, "rope_type": "default"}, "eos_token_id": null}"#)
        XCTAssertEqual(t5.ropeTheta, 500_000)
        XCTAssertEqual(t5.eosTokenIDs, [])
        // encode → decode round trip
        let again = try LlamaConfig.decode(json: JSONEncoder().encode(c))
        XCTAssertEqual(again, c)
    }

    /// Llama 3.2's RoPE settings in both spellings, and their round trip through encode.
    func testLlamaRoPEScalingDecodesAndRoundTrips() throws {
        let llama32 = #"{"rope_theta": 500000.0, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}}"#
        let c = try decodeLlama(llama32)
        XCTAssertEqual(c.ropeScaling, .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192))
        let t5 = try decodeLlama(#"{"rope_parameters": {"rope_theta": 500000.0, "rope_type": "llama3", "factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192}}"#)
        XCTAssertEqual(t5, c)
        XCTAssertEqual(try LlamaConfig.decode(json: JSONEncoder().encode(c)), c)
        let linear = try decodeLlama(#"{"rope_scaling": {"type": "linear", "factor": 2.0}}"#)
        XCTAssertEqual(linear.ropeScaling, .linear(factor: 2))
        XCTAssertEqual(try LlamaConfig.decode(json: JSONEncoder().encode(linear)), linear)
        XCTAssertEqual(try decodeLlama(#"{"rope_scaling": null}"#).ropeScaling, RoPEScaling.none)
    }

    func testLlamaUnsupportedSettingsAreRejected() {
        assertConfigError("rope_scaling rope_type 'llama3' needs a positive low_freq_factor") {
            try self.decodeLlama(#"{"rope_scaling": {"rope_type": "llama3", "factor": 32.0}}"#)
        }
        assertConfigError("rope_parameters rope_type 'yarn' is not supported (supported: default, linear, llama3)") {
            try self.decodeLlama(#"{"rope_parameters": {"rope_type": "yarn", "factor": 2.0, "rope_theta": 10000}}"#)
        }
        assertConfigError("rope_scaling rope_type 'dynamic'") {
            try self.decodeLlama(#"{"rope_scaling": {"type": "dynamic", "factor": 2.0}}"#)
        }
        assertConfigError("needs a positive factor, got -2.0") {
            try self.decodeLlama(#"{"rope_parameters": {"rope_type": "linear", "factor": -2.0, "rope_theta": 10000}}"#)
        }
        assertConfigError("hidden_act 'gelu'") { try self.decodeLlama(#"{"hidden_act": "gelu"}"#) }
        assertConfigError("model_type 'qwen3'") { try self.decodeLlama(#"{"model_type": "qwen3"}"#) }
        assertConfigError("not a multiple of num_key_value_heads") {
            try self.decodeLlama(#"{"num_attention_heads": 6, "num_key_value_heads": 4, "hidden_size": 48}"#)
        }
        assertConfigError("sliding_window") { try self.decodeLlama(#"{"model_type": "mistral", "sliding_window": 512}"#) }
    }

    func testGPT2DecodingDefaultsAndChecks() throws {
        let c = try decodeGPT2(#"{"n_layer": 2, "n_embd": 64, "n_head": 4, "n_inner": null, "activation_function": "gelu_pytorch_tanh", "summary_type": "cls_index"}"#)
        XCTAssertEqual(c.vocabSize, 50257)
        XCTAssertEqual(c.contextLength, 1024)
        XCTAssertEqual(c.innerWidth, 256)
        XCTAssertEqual(c.eosTokenIDs, [50256])
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(c.layerNormEpsilon, 1e-5)
        XCTAssertEqual(try GPT2Config.decode(json: JSONEncoder().encode(c)), c)
        assertConfigError("activation_function 'relu'") { try self.decodeGPT2(#"{"activation_function": "relu"}"#) }
        assertConfigError("scale_attn_by_inverse_layer_idx") { try self.decodeGPT2(#"{"scale_attn_by_inverse_layer_idx": true}"#) }
        assertConfigError("not divisible") { try self.decodeGPT2(#"{"n_embd": 30, "n_head": 4}"#) }
        // the memberwise initialiser keeps its old signature
        let old = GPT2Config(vocabSize: 10, contextLength: 8, width: 16, layers: 1, heads: 2, layerNormEpsilon: 1e-5)
        XCTAssertEqual(old.innerWidth, 64)
    }

    func testGPT2NInnerIsHonoured() throws {
        let c = try decodeGPT2(#"{"vocab_size": 11, "n_positions": 8, "n_layer": 1, "n_embd": 8, "n_head": 2, "n_inner": 12}"#)
        var rng = RandomGenerator(seed: 4)
        let model = GPT2Model(c, rng: &rng)
        XCTAssertEqual(model.blocks[0].cFC.weight.shape, [8, 12])
        XCTAssertEqual(model.logits(ids: [1, 2, 3], batch: 1, length: 3).shape, [1, 3, 11])
    }

    /// Gradients reach every LLaMA parameter, and one finite-difference spot check per kind of
    /// weight agrees with autograd.
    func testLlamaGradients() {
        var rng = RandomGenerator(seed: 11)
        let model = LlamaModel(tinyLlamaConfig(), std: 0.3, rng: &rng)
        let ids = [3, 1, 4, 1, 5, 9, 2, 6], targets = [1, 4, 1, 5, 9, 2, 6, 5]
        let mask = Tensor([1, 1, 1, 1, 0, 1, 1, 1], shape: [2, 4])
        func loss() -> Tensor {
            model.logits(ids: ids, batch: 2, length: 4, positions: nil, keyMask: mask, cache: nil).crossEntropy(targets: targets)
        }
        let grads = loss().backward()
        XCTAssertEqual(grads.count, model.parameters.count)
        for name in ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
                     "model.layers.0.mlp.gate_proj.weight", "model.layers.1.input_layernorm.weight", "lm_head.weight",
                     "model.embed_tokens.weight"] {
            let p = model.namedParameters().first { $0.0 == name }!.1
            let g = grads[p]!
            for i in [0, 7, p.count - 1] {
                let orig = p.pointer[i], eps: Float = 1e-2
                p.pointer[i] = orig + eps
                let up = withNoGrad { loss() }.item
                p.pointer[i] = orig - eps
                let down = withNoGrad { loss() }.item
                p.pointer[i] = orig
                let numeric = (up - down) / (2 * eps)
                XCTAssertEqual(g.pointer[i], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(name)[\(i)]")
            }
        }
    }

    /// The parameter count `ParameterBudget` computes from a configuration, before building, is
    /// the count of the model built from it, for every variant of both families.
    func testParameterBudgetCountsWhatTheModelBuilds() throws {
        var rng = RandomGenerator(seed: 1)
        let llamas = [
            #"{"vocab_size": 50, "hidden_size": 16, "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}"#,
            #"{"vocab_size": 50, "hidden_size": 16, "intermediate_size": 40, "num_hidden_layers": 3, "num_attention_heads": 4, "tie_word_embeddings": true, "attention_bias": true, "mlp_bias": true}"#,
            #"{"vocab_size": 30, "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 12}"#,
        ]
        for json in llamas {
            let config = try LlamaConfig.decode(json: Data(json.utf8))
            let model = withDeferredInitialization { LlamaModel(config, rng: &rng) }
            XCTAssertEqual(ParameterBudget.parameterCount(config), model.namedParameters().reduce(0) { $0 + $1.1.count }, json)
        }
        let gpt2s = [
            #"{"vocab_size": 50, "n_positions": 32, "n_embd": 16, "n_layer": 2, "n_head": 4}"#,
            #"{"vocab_size": 50, "n_positions": 20, "n_embd": 16, "n_layer": 1, "n_head": 2, "n_inner": 24, "tie_word_embeddings": false}"#,
        ]
        for json in gpt2s {
            let config = try GPT2Config.decode(json: Data(json.utf8))
            let model = withDeferredInitialization { GPT2Model(config, rng: &rng) }
            XCTAssertEqual(ParameterBudget.parameterCount(config), model.namedParameters().reduce(0) { $0 + $1.1.count }, json)
        }
        // sizes the machine cannot hold, or whose count overflows, name the responsible key
        let huge = try LlamaConfig.decode(json: Data(#"{"vocab_size": 1099511627776, "hidden_size": 16, "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4}"#.utf8))
        XCTAssertThrowsError(try ParameterBudget.check(huge, source: "config.json")) { error in
            XCTAssertTrue("\(error)".hasPrefix("config.json: vocab_size = 1099511627776 implies 35184372"), "\(error)")
            XCTAssertTrue("\(error)".contains("more than this machine's"), "\(error)")
        }
        let overflow = try LlamaConfig.decode(json: Data(#"{"vocab_size": 100, "hidden_size": 16, "intermediate_size": 9223372036854775807, "num_hidden_layers": 2, "num_attention_heads": 4}"#.utf8))
        XCTAssertNil(ParameterBudget.parameterCount(overflow))
        XCTAssertThrowsError(try ParameterBudget.check(overflow, source: "config.json")) { error in
            XCTAssertTrue("\(error)".contains("intermediate_size = 9223372036854775807 implies more than"), "\(error)")
        }
        let small = try LlamaConfig.decode(json: Data(llamas[0].utf8))
        XCTAssertThrowsError(try ParameterBudget.check(small, source: "config.json", presentValues: 100)) { error in
            XCTAssertTrue("\(error)".contains("but its weights hold 100 values"), "\(error)")
        }
        XCTAssertThrowsError(try ParameterBudget.checkLoRA(rank: 1_000_000_000, layers: [(16, 16), (16, 8)])) { error in
            XCTAssertTrue("\(error)".hasPrefix("lora.rank = 1000000000 implies 56000000000 parameters"), "\(error)")
        }
        XCTAssertNoThrow(try ParameterBudget.checkLoRA(rank: 8, layers: [(16, 16)]))
        XCTAssertThrowsError(try ParameterBudget.checkHead(key: "rm.num_heads", outputs: 100_000_000, hiddenSize: 4096))
    }
}

