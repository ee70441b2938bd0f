import AlignData
import AlignNN
import AlignTensor
import Foundation
import XCTest
@testable import AlignTraining

/// Loading Hugging Face directories and GGUF files into models, and saving directories back.
/// The GGUF fixtures are the tiny parity models written the way llama.cpp's converter writes
/// real checkpoints (scripts/gen_gguf_fixtures.py): renamed, LLaMA q/k rows permuted, GPT-2
/// Conv1D weights transposed, matrices in F16.
final class ModelStoreTests: XCTestCase {
    static let hfFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("AlignNNTests/Fixtures")
    static var ggufFixtures: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    func temporaryDirectory() throws -> URL { try ConfigFixtures.temporaryDirectory(self) }

    func assertSameParameters(_ a: any CausalLM, _ b: any CausalLM, file: StaticString = #filePath, line: UInt = #line) {
        let pa = Dictionary(uniqueKeysWithValues: a.namedParameters()), pb = Dictionary(uniqueKeysWithValues: b.namedParameters())
        XCTAssertEqual(Set(pa.keys), Set(pb.keys), file: file, line: line)
        for (k, t) in pa {
            XCTAssertEqual(t.shape, pb[k]?.shape, k, file: file, line: line)
            XCTAssertEqual(t.scalars, pb[k]?.scalars, k, file: file, line: line)
        }
    }

    func testGGUFLoadsExactlyTheHuggingFaceWeights() throws {
        for name in ["llama-tiny", "gpt2-tiny"] {
            let fromDir = try ModelStore.load(Self.hfFixtures.appendingPathComponent(name).path)
            let fromGGUF = try ModelStore.load(Self.ggufFixtures.appendingPathComponent("\(name).gguf").path)
            XCTAssertEqual(fromDir.family, fromGGUF.family)
            assertSameParameters(fromDir.model, fromGGUF.model)
        }
    }

    func testSaveThenLoadGivesTheSameLogitsAndLeavesNoTemporaryFiles() throws {
        for name in ["llama-tiny", "gpt2-tiny", "llama-tiny-tied"] {
            let original = try ModelStore.load(Self.hfFixtures.appendingPathComponent(name).path)
            let dir = try temporaryDirectory()
            try ModelStore.save(original, to: dir)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
            XCTAssertEqual(files, ["config.json", "generation_config.json", "model.safetensors"], name)
            let reloaded = try ModelStore.load(dir.path)
            assertSameParameters(original.model, reloaded.model)
            let ids = [3, 14, 15, 92, 65, 35]
            let a = withNoGrad { original.model.logits(ids: ids, batch: 1, length: ids.count) }
            let b = withNoGrad { reloaded.model.logits(ids: ids, batch: 1, length: ids.count) }
            XCTAssertEqual(a.scalars, b.scalars, name)
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
            XCTAssertEqual(config["model_type"] as? String, original.family.rawValue)
        }
    }

    func testTiedEmbeddingsAreSavedOnce() throws {
        let tied = try ModelStore.load(Self.hfFixtures.appendingPathComponent("llama-tiny-tied").path)
        let dir = try temporaryDirectory()
        try ModelStore.save(tied, to: dir)
        let names = try SafeTensorsFile(url: dir.appendingPathComponent("model.safetensors")).names
        XCTAssertFalse(names.contains("lm_head.weight"))
        XCTAssertTrue(names.contains("model.embed_tokens.weight"))
    }

    func testErrorsNameTheFileAndTheProblem() throws {
        XCTAssertThrowsError(try ModelStore.load("/nonexistent/model")) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/model") && "\(e)".contains("no such file"), "\(e)")
        }
        let dir = try temporaryDirectory()
        try Data(#"{"model_type": "bert", "architectures": ["BertModel"]}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ModelStore.load(dir.path)) { e in
            XCTAssertTrue("\(e)".contains("model_type 'bert'"), "\(e)")
        }
        // a valid config without weights
        let config = try Data(contentsOf: Self.hfFixtures.appendingPathComponent("llama-tiny/config.json"))
        try config.write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ModelStore.load(dir.path)) { e in
            XCTAssertTrue("\(e)".contains("no model.safetensors"), "\(e)")
        }
        // weights of another model: the error lists the mismatching keys
        let gpt2Weights = Self.hfFixtures.appendingPathComponent("gpt2-tiny/model.safetensors")
        try FileManager.default.copyItem(at: gpt2Weights, to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try ModelStore.load(dir.path)) { e in
            XCTAssertTrue("\(e)".contains("missing keys") && "\(e)".contains("model.layers.0.self_attn.q_proj.weight"), "\(e)")
        }
        // a truncated GGUF
        let gguf = try Data(contentsOf: Self.ggufFixtures.appendingPathComponent("llama-tiny.gguf"))
        let cut = dir.appendingPathComponent("cut.gguf")
        try gguf.prefix(gguf.count / 2).write(to: cut)
        XCTAssertThrowsError(try ModelStore.load(cut.path)) { e in
            XCTAssertTrue("\(e)".contains("cut.gguf"), "\(e)")
        }
    }
}
