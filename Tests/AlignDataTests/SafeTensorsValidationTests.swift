import AlignData
import Foundation
import XCTest

/// Header validation: every malformed header throws a message naming the file and tensor.
final class SafeTensorsValidationTests: XCTestCase {
    /// u64 length + header text + `dataBytes` zero bytes.
    private func image(_ header: String, dataBytes: Int = 0, declaredLength: UInt64? = nil) -> Data {
        var d = Data()
        d.appendLE(declaredLength ?? UInt64(header.utf8.count))
        d.append(contentsOf: Array(header.utf8))
        d.append(Data(count: dataBytes))
        return d
    }

    private func parse(_ data: Data) throws -> SafeTensorsFile {
        try SafeTensorsFile(data: data, path: "ckpt.safetensors")
    }

    func testTooSmallAndBadHeaderLength() {
        assertAlignDataError(.malformed, ["ckpt.safetensors: ", "too small", "3 bytes"]) { try parse(Data([1, 2, 3])) }
        assertAlignDataError(.malformed, ["header length 100 runs past end of file (size 10)"]) {
            try parse(image("{}", declaredLength: 100))
        }
        assertAlignDataError(.malformed, ["exceeds"]) { try parse(image("{}", declaredLength: UInt64.max)) }
    }

    func testInvalidJSON() {
        for bad in ["{", "[]", "{\"a\":}", "{} x", "{\"a\":1,\"a\":2}", "{\"\u{1}\":1}", "nul", String(repeating: "[", count: 100)] {
            assertAlignDataError(.malformed, ["ckpt.safetensors: "]) { try parse(image(bad)) }
        }
        var invalidUTF8 = Data()
        invalidUTF8.appendLE(UInt64(6))
        invalidUTF8.append(contentsOf: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x7D])
        assertAlignDataError(.malformed, ["UTF-8"]) { try parse(invalidUTF8) }
    }

    func testEmptyHeaderAndEscapes() throws {
        XCTAssertEqual(try parse(image("{}")).names, [])
        let escaped = #"{"__metadata__":{"k\u00e9\ud83d\ude00\n":"v\/"},"t\"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let file = try parse(image(escaped, dataBytes: 4))
        XCTAssertEqual(file.metadata, ["ké😀\n": "v/"])
        XCTAssertEqual(file.names, ["t\"x"])
        XCTAssertEqual(try file.floats("t\"x"), [0])
    }

    func testTensorEntryErrorsNameTheTensor() {
        let cases: [(String, Int, AlignDataError.Kind, [String])] = [
            (#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, 4, .malformed, ["'w' has no dtype"]),
            (#"{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, 4, .malformed, ["'w' has unknown dtype 'F33'"]),
            (#"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, 4, .malformed, ["'w' has no shape"]),
            (#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4, .malformed, ["'w' shape"]),
            (#"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, 4, .malformed, ["'w' shape"]),
            (#"{"w":{"dtype":"F32","shape":[1]}}"#, 4, .malformed, ["'w' has no data_offsets"]),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, 4, .malformed, ["'w' data_offsets has 1 entries"]),
            (#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, 4, .malformed, ["'w' data_offsets [4, 0]"]),
            (#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, 4, .malformed, ["'w'", "hold 4 bytes", "needs 8"]),
            (#"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, 4, .malformed, ["'w'", "too many elements"]),
            (#"{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, 2, .malformed, ["'w'", "whole number of bytes"]),
            (#"{"w":"x"}"#, 0, .malformed, ["'w' entry is a string"]),
            (#"{"__metadata__":{"a":1}}"#, 0, .malformed, ["__metadata__ value for 'a'"]),
            (#"{"__metadata__":[]}"#, 0, .malformed, ["__metadata__ is an array"]),
        ]
        for (header, bytes, kind, fragments) in cases {
            assertAlignDataError(kind, ["ckpt.safetensors: "] + fragments) { try parse(image(header, dataBytes: bytes)) }
        }
    }

    func testDataPastEndOfFileNamesOffsetAndSize() {
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#  // 55 bytes
        let message = assertAlignDataError(.malformed, []) { try parse(image(header, dataBytes: 10)) }
        XCTAssertEqual(message, "ckpt.safetensors: tensor 'w' data [offset 63, 16 bytes] runs past end of file (size 73)")
    }

    func testOverlappingTensorsAreRejected() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        assertAlignDataError(.malformed, ["'b'", "overlap", "'a'"]) { try parse(image(header, dataBytes: 12)) }
        // Zero-size tensors may sit anywhere; adjacent tensors are fine.
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}"#
        XCTAssertNoThrow(try parse(image(ok, dataBytes: 12)))
    }

    func testErrorsFromDiskNameThePath() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("broken.safetensors")
        try image("{not json}").write(to: url)
        let message = assertAlignDataError(.malformed, ["invalid JSON header"]) { try SafeTensorsFile(url: url) }
        XCTAssertEqual(message?.hasPrefix(url.relativePath + ": "), true)
        assertAlignDataError(.io, ["missing.safetensors", "cannot open"]) {
            try SafeTensorsFile(url: dir.appendingPathComponent("missing.safetensors"))
        }
        assertAlignDataError(.io, ["not a regular file"]) { try SafeTensorsFile(url: dir) }
        // An empty file is malformed, not a crash.
        let empty = dir.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        assertAlignDataError(.malformed, ["empty.safetensors", "too small"]) { try SafeTensorsFile(url: empty) }
    }
}
