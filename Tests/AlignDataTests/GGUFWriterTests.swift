import AlignData
import Foundation
import XCTest

/// `GGUFWriter` against gguf-py's writer and reference quantiser (the fixture
/// writer_golden.gguf from scripts/gen_gguf_writer_fixture.py): the same metadata and tensors
/// give the same bytes, F16 and Q8_0 encodings included.
final class GGUFWriterTests: XCTestCase {
    static func values(_ n: Int) -> [Float] { (0..<n).map { Float((($0 * 37) % 101) - 50) / 16 } }

    func goldenWriter() throws -> GGUFWriter {
        var w = GGUFWriter()
        w.set("general.architecture", "llama")
        w.set("test.u8", .uint8(200))
        w.set("test.i8", .int8(-100))
        w.set("test.u16", .uint16(60000))
        w.set("test.i16", .int16(-30000))
        w.set("test.u32", .uint32(4_000_000_000))
        w.set("test.i32", .int32(-2_000_000_000))
        w.set("test.u64", .uint64(1 << 63 + 5))
        w.set("test.i64", .int64(-(1 << 62)))
        w.set("test.f32", .float32(0.15625))
        w.set("test.f64", .float64(-2.5e-300))
        w.set("test.true", true)
        w.set("test.false", false)
        w.set("test.string", "héllo ✓ 🙂")
        w.set("test.strings", strings: ["a", "", "Ġthe", "<|im_end|>"])
        w.set("test.ints", int32s: [1, -2, 3])
        w.set("test.floats", .array(elementType: .float32, values: [.float32(0.5), .float32(-1.25)]))
        try w.addTensor("a.weight", shape: [6, 8], values: Self.values(48), type: .f32)
        try w.addTensor("b.weight", shape: [3, 40], values: Self.values(120), type: .f16)
        var c = Self.values(256)
        for j in 32..<64 { c[64 + j] = 0 }
        for j in 0..<32 { c[128 + j] *= 1000 }
        try w.addTensor("c.weight", shape: [4, 64], values: c, type: .q8_0)
        return w
    }

    func testBytesEqualGGUFPy() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("align-writer-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try goldenWriter().write(to: url)
        let ours = try Data(contentsOf: url), golden = try Fixtures.data("writer_golden.gguf")
        XCTAssertEqual(ours.count, golden.count)
        if let i = zip(ours, golden).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("first differing byte at offset \(i) of \(golden.count)")
        }
        // and it reads back through GGUFFile
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.metadata["test.u64"], .uint64(1 << 63 + 5))
        XCTAssertEqual(file.metadata["test.string"], .string("héllo ✓ 🙂"))
        XCTAssertEqual(try file.floats("a.weight"), Self.values(48))
        XCTAssertEqual(try file.floats("b.weight"), Self.values(120))   // multiples of 1/16: exact in F16
        let q = try file.floats("c.weight")
        XCTAssertEqual(Array(q[96..<128]), [Float](repeating: 0, count: 32))   // the zero block
    }

    func testReplacingAKeyKeepsItsPlaceAndBadTensorsAreRefused() throws {
        var w = GGUFWriter()
        w.set("a", uint32: 1)
        w.set("b", uint32: 2)
        w.set("a", uint32: 3)
        XCTAssertEqual(w.metadata.map(\.key), ["a", "b"])
        XCTAssertEqual(w.metadata.first?.value, .uint32(3))
        XCTAssertThrowsError(try w.addTensor("x", shape: [2, 30], values: [Float](repeating: 1, count: 60), type: .q8_0)) { error in
            XCTAssertTrue("\(error)".contains("rows of 30 values cannot be stored as Q8_0"), "\(error)")
        }
        XCTAssertThrowsError(try w.addTensor("y", shape: [2, 3], values: [1, 2, 3], type: .f32)) { error in
            XCTAssertTrue("\(error)".contains("shape [2, 3] does not fit 3 values"), "\(error)")
        }
        try w.addTensor("z", shape: [4], values: [1, 2, 3, 4], type: .f32)
        XCTAssertThrowsError(try w.addTensor("z", shape: [4], values: [1, 2, 3, 4], type: .f32))
        XCTAssertThrowsError(try w.addTensor("k", shape: [32], values: [Float](repeating: 1, count: 32), type: .q4_K)) { error in
            XCTAssertTrue("\(error)".contains("not supported"), "\(error)")
        }
    }
}
