import AlignData
import Foundation
import XCTest

/// The inverse of convert_hf_to_gguf.py's llama Q/K row permutation.
final class LlamaQKPermutationTests: XCTestCase {
    func testHandComputedExample() throws {
        // One head, 4 rows: reshape(1, 2, 2, 1).swapaxes(1, 2) -> rows [0, 2, 1, 3].
        XCTAssertEqual(try LlamaQKPermutation.permute([0, 1, 2, 3], rows: 4, columns: 1, headCount: 1), [0, 2, 1, 3])
        // Two heads of 4 rows, 2 columns.
        let hf: [Float] = (0 ..< 16).map(Float.init)
        let gguf = try LlamaQKPermutation.permute(hf, rows: 8, columns: 2, headCount: 2)
        XCTAssertEqual(gguf, [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15])
        XCTAssertEqual(try LlamaQKPermutation.unpermute(gguf, rows: 8, columns: 2, headCount: 2), hf)
    }

    func testPermuteThenUnpermuteIsIdentity() throws {
        var rng = SplitMix64(seed: 42)
        for (rows, columns, heads) in [(8, 3, 1), (8, 3, 2), (8, 3, 4), (64, 16, 8), (24, 1, 3), (0, 5, 2), (12, 0, 2)] {
            let w = (0 ..< rows * columns).map { _ in Float(Int(rng.next() % 2001) - 1000) / 7 }
            let p = try LlamaQKPermutation.permute(w, rows: rows, columns: columns, headCount: heads)
            XCTAssertEqual(try LlamaQKPermutation.unpermute(p, rows: rows, columns: columns, headCount: heads), w)
            let u = try LlamaQKPermutation.unpermute(w, rows: rows, columns: columns, headCount: heads)
            XCTAssertEqual(try LlamaQKPermutation.permute(u, rows: rows, columns: columns, headCount: heads), w)
            XCTAssertEqual(p.sorted(), w.sorted())
        }
    }

    func testUndoesConverterPermutationOfFixture() throws {
        let golden = Fixtures.expected["gguf"]["llama_permute"]
        let file = try GGUFFile(url: Fixtures.url("model.gguf"))
        let config = try GGUFModelConfig(file)
        XCTAssertEqual(config.headCount, golden["n_head"].int)
        XCTAssertEqual(config.headCountKV, golden["n_head_kv"].int)

        for (name, hfKey, shapeKey, heads) in [("q_name", "hf_q", "hf_q_shape", config.headCount),
                                               ("k_name", "hf_k", "hf_k_shape", config.headCountKV)] {
            let tensor = golden[name].string
            let info = try XCTUnwrap(file.tensor(tensor))
            let shape = golden[shapeKey].ints
            XCTAssertEqual(info.shape, shape)
            let stored = try file.floats(tensor)
            let hf = golden[hfKey].floats
            XCTAssertNotEqual(stored, hf, "the fixture should actually be permuted")
            XCTAssertEqual(try LlamaQKPermutation.unpermute(stored, rows: shape[0], columns: shape[1], headCount: heads), hf, tensor)
            XCTAssertEqual(try LlamaQKPermutation.permute(hf, rows: shape[0], columns: shape[1], headCount: heads), stored, tensor)
        }
    }

    func testRejectsBadGeometry() {
        assertAlignDataError(.invalidArgument, ["not a multiple of 2 × head count 4"]) {
            try LlamaQKPermutation.unpermute(Array(repeating: 0, count: 12), rows: 6, columns: 2, headCount: 4)
        }
        assertAlignDataError(.invalidArgument, ["do not form a 4 × 2 matrix"]) {
            try LlamaQKPermutation.unpermute(Array(repeating: 0, count: 7), rows: 4, columns: 2, headCount: 1)
        }
        assertAlignDataError(.invalidArgument, ["head count"]) {
            try LlamaQKPermutation.permute([], rows: 0, columns: 0, headCount: 0)
        }
    }
}
