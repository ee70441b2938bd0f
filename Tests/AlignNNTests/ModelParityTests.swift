import AlignData
import AlignNN
import AlignTensor
import Foundation
import XCTest

/// Logits of the Hugging Face fixture models (scripts/gen_model_parity.py) against transformers'
/// float32 outputs: the full logits of a single sequence, the last real token of each row of a
/// right-padded and a left-padded batch (with HF position ids), and sums over every real
/// position. Tolerance 1e-4 max abs.
final class ModelParityTests: XCTestCase {
    static let tolerance: Float = 1e-4

    func checkParity<M: CausalLM>(_ model: M, fixture: String, file: StaticString = #filePath, line: UInt = #line) {
        var worstOverall: Float = 0
        for c in parityCases(fixture) {
            let logits = withNoGrad {
                model.logits(ids: c.flatIDs, batch: c.batch, length: c.length, positions: c.flatPositions,
                             keyMask: c.keyMask, cache: nil)
            }
            let V = model.config.vocabSize
            XCTAssertEqual(logits.shape, [c.batch, c.length, V], file: file, line: line)
            let all = logits.scalars
            var worst: Float = 0
            if let full = c.logitsFull { worst = max(worst, maxAbsDiff(all, full)) }
            var sum = 0.0, sumSq = 0.0, n = 0
            for b in 0..<c.batch {
                let t = c.lastReal(b)
                let row = Array(all[((b * c.length + t) * V)..<((b * c.length + t + 1) * V)])
                worst = max(worst, maxAbsDiff(row, c.lastLogits[b]))
                for t in 0..<c.length where c.isReal(b, t) {
                    for v in 0..<V {
                        let x = Double(all[(b * c.length + t) * V + v])
                        sum += x; sumSq += x * x; n += 1
                    }
                }
            }
            XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(fixture) \(c.name): max abs logit difference", file: file, line: line)
            // sums over n ≈ 1–2k logits, each within ~1e-5
            XCTAssertEqual(sum, c.realSum, accuracy: 1e-5 * Double(n), "\(fixture) \(c.name): Σ logits", file: file, line: line)
            XCTAssertEqual(sumSq, c.realSumSq, accuracy: 1e-4 * Double(n), "\(fixture) \(c.name): Σ logits²", file: file, line: line)
            print("parity \(fixture) \(c.name): max abs logit diff \(worst)")
            worstOverall = max(worstOverall, worst)
        }
        print("parity \(fixture): max abs logit diff over all cases \(worstOverall)")
    }

    func testGPT2MatchesTransformers() throws {
        let model = try ModelFixtures.gpt2()
        XCTAssertEqual(model.config.vocabSize, 101)
        XCTAssertEqual(model.config.contextLength, 64)
        XCTAssertEqual(model.config.eosTokenIDs, [100])
        XCTAssertTrue(model.config.tieWordEmbeddings)
        XCTAssertNil(model.lmHead)
        checkParity(model, fixture: "gpt2-tiny")
    }

    func testLlamaWithGQAMatchesTransformers() throws {
        let model = try ModelFixtures.llama()
        XCTAssertEqual(model.config.numKeyValueHeads, 2)
        XCTAssertEqual(model.config.headDim, 8)
        XCTAssertEqual(model.config.ropeTheta, 10000)
        XCTAssertEqual(model.config.rmsNormEps, 1e-5)
        XCTAssertNotNil(model.lmHead)
        checkParity(model, fixture: "llama-tiny")
    }

    func testTiedLlamaMatchesTransformers() throws {
        let model = try ModelFixtures.llama("llama-tiny-tied")
        XCTAssertTrue(model.config.tieWordEmbeddings)
        XCTAssertEqual(model.config.ropeTheta, 500_000)
        XCTAssertNil(model.lmHead)
        XCTAssertNil(model.stateDict()["lm_head.weight"])
        checkParity(model, fixture: "llama-tiny-tied")
    }

    /// Llama 3 and linear RoPE scaling (scripts/gen_rope_scaling_parity.py): the scaled
    /// frequencies and the logits of a 96-token sequence (positions past the "original" context
    /// of 64) against transformers.
    func testScaledRoPEMatchesTransformers() throws {
        let url = ModelFixtures.directory.appendingPathComponent("rope_scaling_parity.json")
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [String: Any]]
        for name in ["llama-tiny-rope-llama3", "llama-tiny-rope-linear"] {
            let model = try ModelFixtures.llama(name)
            let r = try XCTUnwrap(reference[name])
            let invFreq = (r["inv_freq"] as! [Double]).map(Float.init)
            let ours = model.rope(covering: 96).inverseFrequencies
            for (a, b) in zip(ours, invFreq) { XCTAssertEqual(a, b, accuracy: b * 1e-6, "\(name) inv_freq") }
            let ids = r["ids"] as! [Int], positions = r["positions"] as! [Int]
            let logits = withNoGrad { model.logits(ids: ids, batch: 1, length: ids.count, positions: nil, keyMask: nil, cache: nil) }.scalars
            var worst: Float = 0
            for (p, row) in zip(positions, r["logits"] as! [[Double]]) {
                for (v, x) in row.enumerated() { worst = max(worst, abs(logits[p * 101 + v] - Float(x))) }
            }
            XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(name): max abs logit difference")
            print("parity \(name): max abs logit diff \(worst)")
        }
        // the unscaled model on the same weights differs: the scaling is exercised
        var config = try ModelFixtures.llama("llama-tiny-rope-llama3").config
        config.ropeScaling = .none
        var rng = RandomGenerator(seed: 1)
        let plain = LlamaModel(config, rng: &rng)
        try plain.load(stateDict: ModelFixtures.stateDict("llama-tiny-rope-llama3"))
        let r = try XCTUnwrap(reference["llama-tiny-rope-llama3"])
        let ids = r["ids"] as! [Int]
        let logits = withNoGrad { plain.logits(ids: ids, batch: 1, length: ids.count, positions: nil, keyMask: nil, cache: nil) }.scalars
        let last = (r["logits"] as! [[Double]])[3]
        XCTAssertGreaterThan(zip(last, logits[95 * 101 ..< 96 * 101]).map { abs(Float($0) - $1) }.max()!, 1e-3)
    }

    /// `ScalarHead` on the final hidden states against transformers' *ForSequenceClassification
    /// (same backbone, `score.weight` from the fixture, rightmost non-pad token).
    func testScalarHeadMatchesSequenceClassification() throws {
        let models = ModelFixtures.parity["models"] as! [String: Any]
        func check<M: CausalLM>(_ model: M, _ fixture: String) {
            let score = (models[fixture] as! [String: Any])["score"] as! [String: Any]
            let weight = (score["weight"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
            var rng = RandomGenerator(seed: 5)
            let head = ScalarHead(hiddenSize: model.config.hiddenSize, outputs: 1, rng: &rng)
            XCTAssertEqual(head.namedParameters().map(\.0), ["weight"])
            XCTAssertEqual(head.score.weight.shape, [1, model.config.hiddenSize])
            try! head.loadParameters(["weight": Tensor(weight.flatMap { $0 }, shape: [1, weight[0].count])])
            let expected = score["cases"] as! [String: [NSNumber]]
            for c in parityCases(fixture) where expected[c.name] != nil {
                let hidden = withNoGrad {
                    model.hiddenStates(ids: c.flatIDs, batch: c.batch, length: c.length, positions: c.flatPositions,
                                       keyMask: c.keyMask, cache: nil)
                }
                let scores = head(hidden, keyMask: c.keyMask)
                XCTAssertEqual(scores.shape, [c.batch, 1])
                let diff = maxAbsDiff(scores.scalars, expected[c.name]!.map(\.floatValue))
                XCTAssertLessThanOrEqual(diff, Self.tolerance, "\(fixture) \(c.name) scores")
                print("parity \(fixture) score \(c.name): max abs diff \(diff)")
            }
        }
        check(try ModelFixtures.gpt2(), "gpt2-tiny")
        check(try ModelFixtures.llama(), "llama-tiny")
    }

    /// The fixtures are HF `save_pretrained` output as written; tensors are float16 on disk.
    func testFixtureFilesAreHuggingFaceLayout() throws {
        let file = try SafeTensorsFile(url: ModelFixtures.modelDirectory("llama-tiny").appendingPathComponent("model.safetensors"))
        XCTAssertEqual(file.info("model.layers.0.self_attn.k_proj.weight")?.shape, [16, 32])
        XCTAssertEqual(file.info("model.layers.1.mlp.gate_proj.weight")?.shape, [64, 32])
        XCTAssertNotNil(file.info("lm_head.weight"))
        let tied = try ModelFixtures.stateDict("llama-tiny-tied")
        XCTAssertNil(tied["lm_head.weight"])
    }
}

/// RoPE against transformers' `LlamaRotaryEmbedding` + `apply_rotary_pos_emb`, forward and
/// backward, including positions up to 2047 (float32 angles) and theta 500000.
final class RoPEGoldenTests: XCTestCase {
    func testRoPEMatchesTransformers() {
        for (i, any) in (ModelFixtures.parity["rope"] as! [[String: Any]]).enumerated() {
            func floats(_ k: String) -> [Float] { (any[k] as! [NSNumber]).map(\.floatValue) }
            let theta = (any["theta"] as! NSNumber).floatValue
            let D = (any["head_dim"] as! NSNumber).intValue
            let H = (any["heads"] as! NSNumber).intValue, KV = (any["kv_heads"] as! NSNumber).intValue
            let pos = (any["position_ids"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            let (B, T) = (pos.count, pos[0].count)
            let q = Tensor(floats("q"), shape: [B, T, H * D], requiresGrad: true)
            let k = Tensor(floats("k"), shape: [B, T, KV * D], requiresGrad: true)
            let qo = q.rope(heads: H, headDim: D, positions: pos.flatMap { $0 }, theta: theta)
            let ko = k.rope(heads: KV, headDim: D, positions: pos.flatMap { $0 }, theta: theta)
            let dq = qo.backward(seed: Tensor(floats("dout_q"), shape: qo.shape))[q]!
            let dk = ko.backward(seed: Tensor(floats("dout_k"), shape: ko.shape))[k]!
            let diffs = [maxAbsDiff(qo.scalars, floats("q_out")), maxAbsDiff(ko.scalars, floats("k_out")),
                         maxAbsDiff(dq.scalars, floats("dq")), maxAbsDiff(dk.scalars, floats("dk"))]
            print("rope golden \(i) (theta \(theta)): max abs diffs q, k, dq, dk = \(diffs)")
            for d in diffs { XCTAssertLessThanOrEqual(d, 2e-6, "rope golden \(i) theta \(theta)") }
        }
    }
}
