import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation
import XCTest
@testable import AlignTraining
@testable import RewardTrainer

/// Goldens made by scripts/rm_gen_fixtures.py: TRL's reward loss and gradients in PyTorch, and
/// sequence-classification checkpoints written by transformers with the logits it computes.
final class RewardFixtureTests: XCTestCase {
    static var fixtures: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent(path))) as! [String: Any]
    }

    func floats(_ v: Any?) -> [Float] { (v as! [Double]).map(Float.init) }

    func testLossAndGradientsMatchTRLInPyTorch() throws {
        let cases = try json("rm_loss_goldens.json")["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let name = c["name"] as! String
            let shape = c["shape"] as! [Int]
            let rw = Tensor(floats(c["chosen"]), shape: shape, requiresGrad: true)
            let rl = Tensor(floats(c["rejected"]), shape: shape, requiresGrad: true)
            let margins = (c["margins"] as? [Double]).map { $0.map(Float.init) }
            let weights = (c["weights"] as? [Double]).map { $0.map(Float.init) }
            let loss = RewardLosses.pairwise(chosen: rw, rejected: rl, margins: margins,
                                             centerCoefficient: Float(c["center_rewards_coefficient"] as! Double), weights: weights)
            XCTAssertEqual(Double(loss.item), c["loss"] as! Double, accuracy: 1e-5, name)
            let g = loss.backward()
            for (t, key) in [(rw, "grad_chosen"), (rl, "grad_rejected")] {
                for (a, b) in zip(g[t]!.scalars, c[key] as! [Double]) { XCTAssertEqual(Double(a), b, accuracy: 1e-6, "\(name) \(key)") }
            }
        }
    }

    /// transformers' own checkpoints load, and our rewards are its logits, batched (right padding
    /// with an attention mask) and one row at a time, including a row ending with the pad id.
    func testTransformersCheckpointsScoreAsTransformers() throws {
        for (dir, K) in [("hf_llama_rm", 1), ("hf_gpt2_rm", 2)] {
            let loaded = try RewardModelStore.load(Self.fixtures.appendingPathComponent(dir).path)
            XCTAssertEqual(loaded.model.numHeads, K, dir)
            XCTAssertEqual(loaded.model.padID, 1, dir)
            XCTAssertNil(loaded.tokenizer)
            let expected = try json("\(dir)/expected.json")
            let rows = expected["rows"] as! [[Int]]
            for (batchSize, key) in [(rows.count, "batched_logits"), (1, "single_logits")] {
                let want = expected[key] as! [[Double]]
                let got = loaded.model.score(rows, batchSize: batchSize)
                for (b, (s, w)) in zip(got, want).enumerated() {
                    XCTAssertEqual(s.heads.count, K)
                    for k in 0..<K { XCTAssertEqual(Double(s.heads[k]), w[k], accuracy: 1e-5, "\(dir) \(key) row \(b) head \(k)") }
                }
            }
        }
    }

    /// Our save of a loaded transformers checkpoint is a checkpoint transformers would write:
    /// the same tensors (plus the zero LM head of the untied backbone) and config essentials.
    func testSavingALoadedCheckpointKeepsItsTensors() throws {
        let src = Self.fixtures.appendingPathComponent("hf_gpt2_rm")
        let loaded = try RewardModelStore.load(src.path)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("align-rm-save-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try RewardModelStore.save(loaded.model, family: loaded.backbone.family, tokenizer: nil, to: out)
        let a = try StateDictFiles.load(directory: src), b = try StateDictFiles.load(directory: out)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, t) in a { XCTAssertEqual(t.scalars, b[k]!.scalars, k) }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["GPT2ForSequenceClassification"])
        XCTAssertEqual(config["num_labels"] as? Int, 2)
        XCTAssertEqual(config["pad_token_id"] as? Int, 1)
        let again = try RewardModelStore.load(out.path).model.score([[5, 9, 13]], batchSize: 1)
        XCTAssertEqual(again, loaded.model.score([[5, 9, 13]], batchSize: 1))
    }

    /// `align convert` of a reward-model directory to a directory (`ModelStore.save` with
    /// `keepScoreHead`) writes a reward model again: `rm score` reads it and scores as before.
    func testConvertingARewardModelKeepsItsScoreHead() throws {
        for (dir, K) in [("hf_llama_rm", 1), ("hf_gpt2_rm", 2)] {
            let src = Self.fixtures.appendingPathComponent(dir)
            let loaded = try ModelStore.load(src.path)
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("align-rm-convert-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: out) }
            try ModelStore.save(loaded, to: out, keepScoreHead: true)
            let converted = try RewardModelStore.load(out.path)
            XCTAssertEqual(converted.model.numHeads, K, dir)
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
            XCTAssertEqual(config["num_labels"] as? Int, K, dir)
            XCTAssertEqual((config["architectures"] as? [String])?.first?.hasSuffix("ForSequenceClassification"), true, dir)
            let original = try RewardModelStore.load(src.path)
            let rows = (try json("\(dir)/expected.json")["rows"] as! [[Int]])
            XCTAssertEqual(converted.model.score(rows, batchSize: rows.count), original.model.score(rows, batchSize: rows.count), dir)
            // without keepScoreHead (a run that trained the backbone) the causal LM alone is written
            let plain = out.appendingPathComponent("plain")
            try ModelStore.save(loaded, to: plain)
            XCTAssertThrowsError(try RewardModelStore.load(plain.path))
        }
    }
}

