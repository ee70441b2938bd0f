import AlignData
import AlignNN
import AlignTensor
import Foundation
import XCTest

/// Strict checkpoint loading: errors list every missing / unexpected key and shape mismatch and
/// leave the model untouched; tied embeddings; GPT-2's key variants; state-dict round trips.
final class StateDictTests: XCTestCase {
    func loadError<M: CausalLM>(_ model: M, _ dict: [String: Tensor], file: StaticString = #filePath,
                                line: UInt = #line) -> StateDictError? {
        do {
            try model.load(stateDict: dict)
            XCTFail("expected a StateDictError", file: file, line: line)
            return nil
        } catch let e as StateDictError {
            return e
        } catch {
            XCTFail("expected a StateDictError, got \(error)", file: file, line: line)
            return nil
        }
    }

    func testMissingUnexpectedAndShapeMismatchAreAllReported() throws {
        var dict = try ModelFixtures.stateDict("llama-tiny")
        dict.removeValue(forKey: "model.layers.1.mlp.up_proj.weight")
        dict.removeValue(forKey: "lm_head.weight")
        dict["model.layers.0.self_attn.rotary_emb.inv_freq"] = Tensor.zeros([4])     // old buffer: skipped
        dict["model.layers.0.self_attn.q_norm.weight"] = Tensor.zeros([8])
        dict["model.layers.0.self_attn.k_proj.weight"] = Tensor.zeros([32, 32])     // GQA expects (16, 32)
        var rng = RandomGenerator(seed: 2024)
        let model = LlamaModel(try LlamaConfig.load(contentsOf: ModelFixtures.modelDirectory("llama-tiny")), rng: &rng)
        let before = model.stateDict()
        let e = try XCTUnwrap(loadError(model, dict))
        XCTAssertEqual(e.missing, ["lm_head.weight", "model.layers.1.mlp.up_proj.weight"])
        XCTAssertEqual(e.unexpected, ["model.layers.0.self_attn.q_norm.weight"])
        XCTAssertEqual(e.shapeMismatches, [.init(key: "model.layers.0.self_attn.k_proj.weight", expected: [16, 32], got: [32, 32])])
        let text = e.description
        for fragment in ["missing keys (2): lm_head.weight, model.layers.1.mlp.up_proj.weight",
                         "unexpected keys (1): model.layers.0.self_attn.q_norm.weight",
                         "model.layers.0.self_attn.k_proj.weight: expected shape [16, 32], got [32, 32]"] {
            XCTAssertTrue(text.contains(fragment), "'\(text)' lacks '\(fragment)'")
        }
        // nothing was copied
        for (name, t) in model.stateDict() { XCTAssertEqual(t.scalars, before[name]!.scalars, name) }
    }

    func testGPT2KeyVariantsAndBuffers() throws {
        let hf = try ModelFixtures.stateDict("gpt2-tiny")
        let reference = try ModelFixtures.gpt2()
        // old checkpoints: no "transformer." prefix, attention-mask buffers, a tied lm_head copy
        var old: [String: Tensor] = [:]
        for (k, v) in hf { old[String(k.dropFirst("transformer.".count))] = v }
        for i in 0..<2 {
            old["h.\(i).attn.bias"] = Tensor.ones([1, 1, 64, 64])
            old["h.\(i).attn.masked_bias"] = Tensor(scalar: -1e4)
        }
        old["lm_head.weight"] = hf["transformer.wte.weight"]!.copy()
        var rng = RandomGenerator(seed: 3)
        let model = GPT2Model(reference.config, rng: &rng)
        try model.load(stateDict: old)
        for (name, t) in reference.stateDict() { XCTAssertEqual(model.stateDict()[name]!.scalars, t.scalars, name) }

        // a tied lm_head that differs from the embedding is a conflict
        var bad = hf
        bad["lm_head.weight"] = Tensor.zeros(hf["transformer.wte.weight"]!.shape)
        let e = try XCTUnwrap(loadError(model, bad))
        XCTAssertEqual(e.conflicts.count, 1)
        XCTAssertTrue(e.description.contains("lm_head.weight differs from transformer.wte.weight"), e.description)

        // unknown buffers that are not GPT-2's are not silently skipped
        var extra = hf
        extra["transformer.h.0.attn.rotary.inv_freq"] = Tensor.zeros([2])
        XCTAssertEqual(loadError(model, extra)?.unexpected, ["transformer.h.0.attn.rotary.inv_freq"])
    }

    func testTiedEmbeddings() throws {
        let dict = try ModelFixtures.stateDict("llama-tiny-tied")
        XCTAssertNil(dict["lm_head.weight"])
        let model = try ModelFixtures.llama("llama-tiny-tied")
        // the head reads the embedding's storage: logits = hidden · embedᵀ
        let ids = [5, 17, 3]
        let hidden = model.hiddenStates(ids: ids, batch: 1, length: 3, positions: nil, keyMask: nil, cache: nil)
        let manual = Tensor.linear(hidden, weight: model.embedTokens.weight)
        XCTAssertEqual(model.logits(ids: ids, batch: 1, length: 3).scalars, manual.scalars)
        // a checkpoint with lm_head equal to the embedding is accepted; so is one with only lm_head
        var withHead = dict
        withHead["lm_head.weight"] = dict["model.embed_tokens.weight"]!.copy()
        try model.load(stateDict: withHead)
        var onlyHead = dict
        onlyHead["lm_head.weight"] = onlyHead.removeValue(forKey: "model.embed_tokens.weight")
        var rng = RandomGenerator(seed: 2025)
        let fresh = LlamaModel(model.config, rng: &rng)
        try fresh.load(stateDict: onlyHead)
        XCTAssertEqual(fresh.embedTokens.weight.scalars, model.embedTokens.weight.scalars)
        // tied gradients: the embedding gets the LM head's contribution too
        let loss = fresh.logits(ids: ids, batch: 1, length: 3).crossEntropy(targets: [17, 3, 9])
        let grads = loss.backward()
        XCTAssertNotNil(grads[fresh.embedTokens.weight])
        XCTAssertEqual(grads.count, fresh.parameters.count)
        // an untied model reports lm_head.weight missing for a tied checkpoint
        var untiedConfig = model.config
        untiedConfig.tieWordEmbeddings = false
        let untied = LlamaModel(untiedConfig, rng: &rng)
        XCTAssertEqual(loadError(untied, dict)?.missing, ["lm_head.weight"])
    }

    func testStateDictRoundTripsThroughSafeTensors() throws {
        let model = try ModelFixtures.llama()
        let dict = model.stateDict()
        XCTAssertEqual(Set(dict.keys), Set(model.namedParameters().map(\.0)))
        XCTAssertEqual(dict.count, 1 + 2 * 9 + 1 + 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("AlignNNTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write(tensors: dict.map { ($0.key, $0.value.shape, $0.value.scalars) }, to: url)
        var rng = RandomGenerator(seed: 2026)
        let copy = LlamaModel(model.config, rng: &rng)
        try copy.load(stateDict: ModelFixtures.readSafeTensors(url))
        let ids = [1, 2, 3, 4]
        XCTAssertEqual(copy.logits(ids: ids, batch: 1, length: 4).scalars, model.logits(ids: ids, batch: 1, length: 4).scalars)
        // the snapshot does not follow later parameter updates
        model.norm.weight.pointer[0] += 1
        XCTAssertNotEqual(dict["model.norm.weight"]!.scalars[0], model.norm.weight.scalars[0])
        // loading copies values into the existing parameter tensors (optimizers keep their references)
        let normBefore = copy.norm.weight
        try copy.load(stateDict: model.stateDict())
        XCTAssertTrue(copy.norm.weight === normBefore)
        XCTAssertEqual(copy.norm.weight.scalars, model.norm.weight.scalars)
    }

    func testGPT2ExistingAPIStillWorks() {
        var rng = RandomGenerator(seed: 1)
        let config = GPT2Config(vocabSize: 13, contextLength: 8, width: 16, layers: 2, heads: 2)
        let model = GPT2Model(config, rng: &rng)
        let ids = [1, 2, 3, 4, 5, 6]
        let logits = model(ids, batch: 2, length: 3)
        XCTAssertEqual(logits.shape, [2, 3, 13])
        XCTAssertEqual(model.logits(ids: ids, batch: 2, length: 3).scalars, logits.scalars)
        let block = GPT2Block(width: 16, heads: 2, layers: 2, rng: &rng)
        let x = Tensor.randn([1, 3, 16], rng: &rng)
        XCTAssertEqual(block(x, keyMask: nil).shape, [1, 3, 16])
        XCTAssertEqual(model.namedParameters().first?.0, "transformer.wte.weight")
        XCTAssertEqual(model.parameterCount, 13 * 16 + 8 * 16 + 2 * (4 * 16 + 16 * 48 + 48 + 16 * 16 + 16 + 16 * 64 + 64 + 64 * 16 + 16) + 32)
        // untied GPT-2 has an lm_head parameter
        var untied = config
        untied.tieWordEmbeddings = false
        let u = GPT2Model(untied, rng: &rng)
        XCTAssertEqual(u.namedParameters().last?.0, "lm_head.weight")
        XCTAssertEqual(u.namedParameters().last?.1.shape, [13, 16])
    }
}
