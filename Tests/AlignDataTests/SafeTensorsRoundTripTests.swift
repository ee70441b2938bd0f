import AlignData
import AlignTensor
import Foundation
import XCTest

/// SafeTensorsWriter → SafeTensorsFile round trips and writer behaviour.
final class SafeTensorsRoundTripTests: XCTestCase {
    private func randomTensors(_ rng: inout SplitMix64) -> [SafeTensorsWriter.Tensor] {
        let shapes: [[Int]] = [[4, 3], [7], [], [2, 0, 5], [2, 3, 4], [1, 1]]
        let names = ["model.layers.0.mlp.up_proj.weight", "lm_head.weight", "scale", "empty", "blk.0.x", "Z"]
        return zip(names, shapes).map { name, shape in
            let count = shape.reduce(1, *)
            let data = (0 ..< count).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0xBF7F_FFFF) }
            return (name: name, shape: shape, data: data)
        }
    }

    func testRoundTripPreservesEveryBit() throws {
        var rng = SplitMix64(seed: 7)
        let tensors = randomTensors(&rng)
        let metadata = ["format": "pt", "step": "1200", "quote\"d": "line\nbreak\u{1}é"]
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write(tensors: tensors, metadata: metadata, to: url)

        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.names, tensors.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        XCTAssertEqual(file.headerLength % 8, 0)
        for t in tensors {
            let info = try XCTUnwrap(file.info(t.name))
            XCTAssertEqual(info.dtype, .f32)
            XCTAssertEqual(info.shape, t.shape)
            let back = try file.floats(t.name)
            XCTAssertEqual(back.map(\.bitPattern), t.data.map(\.bitPattern), t.name)
        }
        // Nothing but the destination is left in the directory.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.safetensors"])
        // StateDictFiles reads each tensor straight into its storage: the same bits and shapes
        let stateDict = try StateDictFiles.load(directory: dir)
        XCTAssertEqual(Set(stateDict.keys), Set(tensors.map(\.name)))
        for t in tensors {
            XCTAssertEqual(stateDict[t.name]?.shape, t.shape)
            XCTAssertEqual(stateDict[t.name]?.scalars.map(\.bitPattern), t.data.map(\.bitPattern), t.name)
        }
    }

    func testHeaderIsSpacePaddedCompactJSON() throws {
        // 57 bytes of JSON -> 7 spaces of padding.
        let data = try SafeTensorsWriter.serialize(tensors: [(name: "wx", shape: [1, 2], data: [1, 2])], metadata: [:])
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = String(decoding: data[8 ..< 8 + length], as: UTF8.self)
        XCTAssertEqual(header, #"{"wx":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"# + "       ")
        XCTAssertEqual(length, 64)
        XCTAssertEqual(data.count, 8 + length + 8)
        XCTAssertEqual(try SafeTensorsFile(data: data).floats("wx"), [1, 2])
    }

    func testOverwriteReplacesAtomically() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("ckpt.safetensors")
        try SafeTensorsWriter.write(tensors: [(name: "a", shape: [2], data: [1, 2])], to: url)
        let firstMapping = try SafeTensorsFile(url: url)
        try SafeTensorsWriter.write(tensors: [(name: "b", shape: [3], data: [3, 4, 5])], to: url)
        // The old mapping still sees the old (renamed-over) file.
        XCTAssertEqual(try firstMapping.floats("a"), [1, 2])
        let second = try SafeTensorsFile(url: url)
        XCTAssertEqual(second.names, ["b"])
        XCTAssertEqual(second.metadata, ["format": "pt"])
        XCTAssertEqual(try second.floats("b"), [3, 4, 5])
    }

    func testWriterRejectsInconsistentInputWithoutTouchingDestination() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("bad.safetensors")
        assertAlignDataError(.invalidArgument, ["bad.safetensors", "'w'", "3 values", "[2, 2]"]) {
            try SafeTensorsWriter.write(tensors: [(name: "w", shape: [2, 2], data: [1, 2, 3])], to: url)
        }
        assertAlignDataError(.invalidArgument, ["duplicate tensor name 'w'"]) {
            try SafeTensorsWriter.write(tensors: [(name: "w", shape: [1], data: [1]), (name: "w", shape: [1], data: [2])], to: url)
        }
        assertAlignDataError(.invalidArgument, ["__metadata__"]) {
            try SafeTensorsWriter.write(tensors: [(name: "__metadata__", shape: [1], data: [1])], to: url)
        }
        assertAlignDataError(.invalidArgument, ["negative"]) {
            try SafeTensorsWriter.write(tensors: [(name: "n", shape: [-1], data: [])], to: url)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testWriteIntoMissingDirectoryFailsWithPath() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("no/such/dir/x.safetensors")
        assertAlignDataError(.io, ["x.safetensors", "cannot create temporary file"]) {
            try SafeTensorsWriter.write(tensors: [(name: "a", shape: [1], data: [1])], to: url)
        }
    }
}
