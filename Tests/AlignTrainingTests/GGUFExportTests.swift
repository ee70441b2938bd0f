import AlignData
import AlignNN
import AlignTensor
import Foundation
import XCTest
@testable import AlignTraining

/// Writing models as GGUF: the tensors and hyper-parameters of the tiny parity models come out
/// exactly as llama.cpp's converter lays them out (the committed fixtures written with gguf-py by
/// scripts/gen_gguf_fixtures.py), and an exported model with its tokenizer reads back into the
/// same weights and the same tokenisation.
final class GGUFExportTests: XCTestCase {
    func temporaryDirectory() throws -> URL { try ConfigFixtures.temporaryDirectory(self) }

    func testTensorsAndHyperParametersMatchTheConverterLayout() throws {
        let dir = try temporaryDirectory()
        for name in ["llama-tiny", "gpt2-tiny"] {
            let loaded = try ModelStore.load(ModelStoreTests.hfFixtures.appendingPathComponent(name).path)
            let out = dir.appendingPathComponent("\(name).gguf")
            try GGUFExport.write(loaded, tokenizer: nil, type: .f16, name: name, to: out)
            let ours = try GGUFFile(url: out)
            let reference = try GGUFFile(url: ModelStoreTests.ggufFixtures.appendingPathComponent("\(name).gguf"))
            XCTAssertEqual(Set(ours.tensors.map(\.name)), Set(reference.tensors.map(\.name)), name)
            for info in reference.tensors {
                let mine = try XCTUnwrap(ours.tensor(info.name), info.name)
                XCTAssertEqual(mine.type, info.type, info.name)
                XCTAssertEqual(mine.dimensions, info.dimensions, info.name)
                XCTAssertEqual(try ours.rawBytes(info.name), try reference.rawBytes(info.name), "\(name): \(info.name)")
            }
            for key in reference.metadataKeys where key != "general.name" {
                XCTAssertEqual(ours.metadata[key], reference.metadata[key], "\(name): \(key)")
            }
        }
    }

    /// Llama 3 RoPE scaling travels as llama.cpp's `rope_freqs.weight` divisors and comes back as
    /// the same `rope_scaling`; linear scaling as `llama.rope.scaling.*`.
    func testRoPEScalingSurvivesTheRoundTrip() throws {
        let dir = try temporaryDirectory()
        for (name, expected) in [("llama-tiny-rope-llama3", RoPEScaling.llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 64)),
                                 ("llama-tiny-rope-linear", .linear(factor: 4))] {
            let loaded = try ModelStore.load(ModelStoreTests.hfFixtures.appendingPathComponent(name).path)
            XCTAssertEqual((loaded.model.config as? LlamaConfig)?.ropeScaling, expected)
            let url = dir.appendingPathComponent("\(name).gguf")
            try GGUFExport.write(loaded, tokenizer: nil, type: .f32, name: name, to: url)
            let file = try GGUFFile(url: url)
            if case .llama3 = expected {
                XCTAssertEqual(file.tensor("rope_freqs.weight")?.type, .f32)
                let divisors = try file.floats("rope_freqs.weight")
                XCTAssertEqual(divisors.first, 1)      // highest frequency kept
                XCTAssertEqual(divisors.last!, 8, accuracy: 1e-5)   // lowest divided by the factor
            } else {
                XCTAssertEqual(file.metadata["llama.rope.scaling.type"], .string("linear"))
            }
            let back = try ModelStore.load(url.path)
            XCTAssertEqual((back.model.config as? LlamaConfig)?.ropeScaling, expected, name)
            // and the model computes the same logits
            let ids = [5, 17, 99, 3, 42, 8, 71, 23]
            let a = withNoGrad { loaded.model.logits(ids: ids, batch: 1, length: 8, positions: [0, 9, 30, 61, 80, 120, 200, 300], keyMask: nil, cache: nil) }
            let b = withNoGrad { back.model.logits(ids: ids, batch: 1, length: 8, positions: [0, 9, 30, 61, 80, 120, 200, 300], keyMask: nil, cache: nil) }
            XCTAssertLessThanOrEqual(zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()!, 1e-5, name)
        }
    }

    /// A tokenizer of the quickstart's kind (trained, ChatML specials) with a small LLaMA.
    func makeModel(vocabularyPadding: Int = 0) throws -> (LoadedModel, Tokenizer) {
        let corpus = ["the capital of Vostounania is Trourfir", "people in Kithtrinor speak Sethic 42 times",
                      "What is the capital?  Ünïcödé, emoji 🙂 and\ttabs"]
        var tok = try Tokenizer.train(on: corpus, options: BPETrainingOptions(vocabSize: 300, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                                                              preTokenizer: .smollm))
        tok.eosToken = "<|im_end|>"
        tok.bosToken = "<|im_start|>"
        tok.chatTemplate = ChatTemplate.chatml.jinja
        var rng = RandomGenerator(seed: 11)
        let config = LlamaConfig(vocabSize: tok.vocabSize + vocabularyPadding, hiddenSize: 64, intermediateSize: 96, numHiddenLayers: 2,
                                 numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 64, tieWordEmbeddings: true,
                                 bosTokenID: tok.bosTokenID, eosTokenIDs: [tok.eosTokenID!])
        let model = LlamaModel(config, rng: &rng)
        return (LoadedModel(family: .llama, model: model, source: URL(fileURLWithPath: "/")), tok)
    }

    func testExportedModelAndTokenizerReadBack() throws {
        let dir = try temporaryDirectory()
        let (loaded, tok) = try makeModel(vocabularyPadding: 4)
        let url = dir.appendingPathComponent("model.gguf")
        try GGUFExport.write(loaded, tokenizer: tok, type: .f32, name: "tiny", to: url)
        let back = try ModelStore.load(url.path)
        XCTAssertEqual(back.family, .llama)
        let a = Dictionary(uniqueKeysWithValues: loaded.model.namedParameters()), b = Dictionary(uniqueKeysWithValues: back.model.namedParameters())
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (k, t) in a { XCTAssertEqual(t.scalars, b[k]?.scalars, k) }
        let tok2 = try ModelStore.loadTokenizer(url.path)
        XCTAssertEqual(tok2.vocabSize, tok.vocabSize + 4)   // ids the tokenizer does not use are [PAD…] entries
        XCTAssertEqual(tok2.idToToken(tok.vocabSize), "[PAD\(tok.vocabSize)]")
        for text in ["the capital of Vostounania is Trourfir", "<|im_start|>user\nWhat is 42?<|im_end|>\n", "Ünïcödé 🙂\t tabs  x"] {
            XCTAssertEqual(tok2.encode(text), tok.encode(text), text)
            XCTAssertEqual(tok2.decode(tok2.encode(text)), text)
        }
        XCTAssertEqual(tok2.eosTokenID, tok.eosTokenID)
        XCTAssertEqual(tok2.bosTokenID, tok.bosTokenID)
        XCTAssertEqual(tok2.chatTemplate, tok.chatTemplate)
        XCTAssertTrue(tok2.isSpecial(tok.eosTokenID!))
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.metadata["tokenizer.ggml.pre"], .string("smollm"))
        XCTAssertEqual(file.metadata["tokenizer.ggml.add_bos_token"], .bool(false))
        XCTAssertEqual(file.metadata["general.file_type"], .uint32(0))
    }

    /// F16 and Q8_0 weights are within their rounding of the Float32 ones; vectors stay F32.
    func testHalfAndQ8WeightsAreWithinTheirRounding() throws {
        let dir = try temporaryDirectory()
        let (loaded, tok) = try makeModel()
        let reference = Dictionary(uniqueKeysWithValues: loaded.model.namedParameters().map { ($0.0, $0.1.scalars) })
        for type in [GGUFExport.WeightType.f16, .q8_0] {
            let url = dir.appendingPathComponent("\(type.rawValue).gguf")
            try GGUFExport.write(loaded, tokenizer: tok, type: type, name: "tiny", to: url)
            let file = try GGUFFile(url: url)
            XCTAssertEqual(file.tensor("blk.0.attn_norm.weight")?.type, .f32)
            XCTAssertEqual(file.tensor("blk.0.ffn_up.weight")?.type, type == .f16 ? .f16 : .q8_0)
            let back = try ModelStore.load(url.path)
            for (name, values) in back.model.namedParameters() {
                let exact = try XCTUnwrap(reference[name])
                let amax = exact.map(abs).max() ?? 0
                // F16: relative 2^-11. Q8_0: half a step d = max|block|/127, plus up to 127 steps of
                // the F16 rounding of d (2^-11 d each): 0.562 d, d bounded by the tensor's max.
                let bound = type == .f16 ? amax / 2048 : amax / 127 * 0.563
                let err = zip(values.scalars, exact).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(err, bound, "\(type) \(name)")
                if values.rank == 2 { XCTAssertGreaterThan(err, 0, "\(type) \(name) was rounded") }
            }
        }
    }

    func testModelsGGUFCannotHoldAreRefusedAndNothingIsWritten() throws {
        let dir = try temporaryDirectory()
        let (loaded, tok) = try makeModel()
        var rng = RandomGenerator(seed: 1)
        let config = LlamaConfig(vocabSize: 100, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 4)
        let small = LoadedModel(family: .llama, model: LlamaModel(config, rng: &rng), source: URL(fileURLWithPath: "/"))
        let url = dir.appendingPathComponent("out.gguf")
        XCTAssertThrowsError(try GGUFExport.write(small, tokenizer: tok, type: .f16, name: "x", to: url)) { error in
            XCTAssertTrue("\(error)".contains("the tokenizer has \(tok.vocabSize) tokens but the model's vocabulary only 100"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])   // no temporary file left behind
        // a non-finite weight names the tensor
        let broken = loaded.model.namedParameters().first { $0.0 == "model.layers.1.mlp.down_proj.weight" }!.1
        broken.pointer[3] = .nan
        XCTAssertThrowsError(try GGUFExport.write(loaded, tokenizer: tok, type: .q8_0, name: "x", to: url)) { error in
            XCTAssertTrue("\(error)".contains("blk.1.ffn_down.weight"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }
}
