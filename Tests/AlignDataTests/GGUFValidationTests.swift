import AlignData
import Foundation
import XCTest

/// Hand-built GGUF images: block layouts pinned independently of Python, and
/// every corruption throws a message naming the file and the key or tensor.
final class GGUFValidationTests: XCTestCase {
    /// A GGUF image assembled field by field.
    struct Image {
        var magic: [UInt8] = Array("GGUF".utf8)
        var version: UInt32 = 3
        var kvs: [(key: String, type: UInt32, payload: Data)] = []
        var tensors: [(name: String, dims: [UInt64], type: UInt32, offset: UInt64)] = []
        var tensorData = Data()
        var alignment = 32
        var tensorCount: UInt64?
        var kvCount: UInt64?

        func bytes() -> Data {
            var d = Data(magic)
            d.appendLE(version)
            d.appendLE(tensorCount ?? UInt64(tensors.count))
            d.appendLE(kvCount ?? UInt64(kvs.count))
            for kv in kvs {
                d.appendGGUFString(kv.key)
                d.appendLE(kv.type)
                d.append(kv.payload)
            }
            for t in tensors {
                d.appendGGUFString(t.name)
                d.appendLE(UInt32(t.dims.count))
                for dim in t.dims { d.appendLE(dim) }
                d.appendLE(t.type)
                d.appendLE(t.offset)
            }
            while d.count % alignment != 0 { d.append(0) }
            d.append(tensorData)
            return d
        }
    }

    private func le<T: FixedWidthInteger>(_ v: T) -> Data {
        var d = Data()
        d.appendLE(v)
        return d
    }

    private func parse(_ image: Image) throws -> GGUFFile {
        try GGUFFile(data: image.bytes(), path: "x.gguf")
    }

    private func oneTensor(dims: [UInt64], type: UInt32, data: [UInt8]) -> Image {
        var image = Image()
        image.tensors = [(name: "w", dims: dims, type: type, offset: 0)]
        image.tensorData = Data(data)
        return image
    }

    // MARK: block layouts

    func testQ8_0Layout() throws {
        // d = 0.5 (0x3800), q = -16 ..< 16
        var block: [UInt8] = [0x00, 0x38]
        block += (-16 ..< 16).map { UInt8(bitPattern: Int8($0)) }
        let file = try parse(oneTensor(dims: [32, 1], type: 8, data: block))
        XCTAssertEqual(try file.floats("w"), (-16 ..< 16).map { Float($0) * 0.5 })
    }

    func testQ4_0LayoutLowNibblesFirst() throws {
        // d = 2.0 (0x4000); byte j = low nibble j%16, high nibble 15 - j%16.
        var block: [UInt8] = [0x00, 0x40]
        block += (0 ..< 16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let file = try parse(oneTensor(dims: [32], type: 2, data: block))
        let low = (0 ..< 16).map { Float($0 - 8) * 2 }
        let high = (0 ..< 16).map { Float(15 - $0 - 8) * 2 }
        XCTAssertEqual(try file.floats("w"), low + high)
    }

    func testQ4_1Layout() throws {
        // d = 0.25 (0x3400), m = -1.0 (0xBC00), same nibble pattern.
        var block: [UInt8] = [0x00, 0x34, 0x00, 0xBC]
        block += (0 ..< 16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let file = try parse(oneTensor(dims: [32], type: 3, data: block))
        let low = (0 ..< 16).map { Float($0) * 0.25 - 1 }
        let high = (0 ..< 16).map { Float(15 - $0) * 0.25 - 1 }
        XCTAssertEqual(try file.floats("w"), low + high)
    }

    func testF16AndBF16AndScalar() throws {
        var image = Image()
        image.tensors = [(name: "h", dims: [2], type: 1, offset: 0), (name: "b", dims: [2], type: 30, offset: 32),
                         (name: "s", dims: [], type: 0, offset: 64)]
        var data = Data([0x00, 0x3C, 0x00, 0xC0])  // 1, -2
        data.append(Data(count: 28))
        data.append(contentsOf: [0x80, 0x3F, 0x40, 0xC0])  // 1, -3
        data.append(Data(count: 28))
        data.appendLE(Float(7.5).bitPattern)
        image.tensorData = data
        let file = try parse(image)
        XCTAssertEqual(try file.floats("h"), [1, -2])
        XCTAssertEqual(try file.floats("b"), [1, -3])
        XCTAssertEqual(try file.floats("s"), [7.5])
        XCTAssertEqual(file.tensor("s")?.shape, [])
    }

    // MARK: header errors

    func testHeaderErrors() {
        assertAlignDataError(.malformed, ["x.gguf: ", "too small"]) { try GGUFFile(data: Data([0x47]), path: "x.gguf") }
        var image = Image()
        image.magic = Array("GGUX".utf8)
        assertAlignDataError(.malformed, ["x.gguf: not a GGUF file", "47 47 55 58"]) { try parse(image) }
        image = Image()
        image.version = 1
        assertAlignDataError(.unsupported, ["version 1"]) { try parse(image) }
        image.version = 4
        assertAlignDataError(.unsupported, ["version 4"]) { try parse(image) }
        image.version = UInt32(3).byteSwapped
        assertAlignDataError(.unsupported, ["big-endian"]) { try parse(image) }
        image = Image()
        image.tensorCount = 1 << 40
        assertAlignDataError(.malformed, ["tensor count 1099511627776 is impossible"]) { try parse(image) }
        image = Image()
        image.kvCount = UInt64.max
        assertAlignDataError(.malformed, ["metadata count 18446744073709551615 is impossible"]) { try parse(image) }
        assertAlignDataError(.malformed, ["unexpected end of file reading tensor count at offset 8"]) {
            try GGUFFile(data: Data(Array("GGUF".utf8) + [3, 0, 0, 0, 1]), path: "x.gguf")
        }
    }

    // MARK: metadata errors

    func testMetadataErrorsNameTheKey() {
        var image = Image()
        var payload = Data()
        payload.appendLE(UInt64(1 << 40))
        image.kvs = [(key: "general.name", type: 8, payload: payload)]
        assertAlignDataError(.malformed, ["x.gguf: ", "string value of metadata 'general.name' has length 1099511627776", "past end of file"]) { try parse(image) }

        image.kvs = [(key: "k", type: 13, payload: le(UInt8(0)))]
        assertAlignDataError(.malformed, ["metadata 'k' has unknown value type 13"]) { try parse(image) }

        image.kvs = [(key: "k", type: 4, payload: le(UInt32(1))), (key: "k", type: 4, payload: le(UInt32(2)))]
        assertAlignDataError(.malformed, ["duplicate metadata key 'k'"]) { try parse(image) }

        image.kvs = [(key: "flag", type: 7, payload: le(UInt8(2)))]
        assertAlignDataError(.malformed, ["metadata 'flag' has bool byte 2"]) { try parse(image) }

        var huge = le(UInt32(4))
        huge.appendLE(UInt64(1) << 60)
        image.kvs = [(key: "arr", type: 9, payload: huge)]
        assertAlignDataError(.malformed, ["metadata 'arr' array of 1152921504606846976 UINT32 values", "runs past end of file"]) { try parse(image) }

        var badElement = le(UInt32(77))
        badElement.appendLE(UInt64(1))
        image.kvs = [(key: "arr", type: 9, payload: badElement)]
        assertAlignDataError(.malformed, ["metadata 'arr' is an array of unknown value type 77"]) { try parse(image) }

        var deep = Data()
        for _ in 0 ..< 20 {
            deep.appendLE(UInt32(9))
            deep.appendLE(UInt64(1))
        }
        deep.appendLE(UInt32(0))
        deep.appendLE(UInt64(0))
        image.kvs = [(key: "deep", type: 9, payload: deep)]
        assertAlignDataError(.malformed, ["metadata 'deep' nests arrays deeper than 8"]) { try parse(image) }

        var short = le(UInt32(4))
        short.appendLE(UInt64(3))
        short.appendLE(UInt32(1))
        image.kvs = [(key: "short", type: 9, payload: short)]
        image.tensors = []
        assertAlignDataError(.malformed, ["array of 3 UINT32 values"]) { try parse(image) }

        image.kvs = [(key: "general.alignment", type: 4, payload: le(UInt32(48)))]
        assertAlignDataError(.malformed, ["'general.alignment' is 48, expected a power of two"]) { try parse(image) }
        var s = Data()
        s.appendGGUFString("32")
        image.kvs = [(key: "general.alignment", type: 8, payload: s)]
        assertAlignDataError(.malformed, ["'general.alignment' has type STRING"]) { try parse(image) }
    }

    func testCustomAlignmentIsHonoured() throws {
        var image = Image()
        image.alignment = 128
        image.kvs = [(key: "general.alignment", type: 4, payload: le(UInt32(128)))]
        image.tensors = [(name: "a", dims: [1], type: 0, offset: 0), (name: "b", dims: [1], type: 0, offset: 128)]
        var data = le(Float(1.5).bitPattern)
        data.append(Data(count: 124))
        data.append(le(Float(-2).bitPattern))
        image.tensorData = data
        let file = try parse(image)
        XCTAssertEqual(file.alignment, 128)
        XCTAssertEqual(file.dataOffset % 128, 0)
        XCTAssertEqual(try file.floats("a"), [1.5])
        XCTAssertEqual(try file.floats("b"), [-2])
    }

    // MARK: tensor info errors

    func testTensorInfoErrorsNameTheTensor() {
        var image = oneTensor(dims: [1, 1, 1, 1, 1], type: 0, data: [0, 0, 0, 0])
        assertAlignDataError(.malformed, ["x.gguf: tensor 'w' has 5 dimensions"]) { try parse(image) }

        image = oneTensor(dims: [4], type: 99, data: Array(repeating: 0, count: 16))
        assertAlignDataError(.malformed, ["tensor 'w' has unknown ggml type 99"]) { try parse(image) }

        image = oneTensor(dims: [32], type: 31, data: Array(repeating: 0, count: 18))
        assertAlignDataError(.unsupported, ["tensor 'w' has ggml type Q4_0_4_4 (31)"]) { try parse(image) }

        image = oneTensor(dims: [16, 2], type: 2, data: Array(repeating: 0, count: 18))
        assertAlignDataError(.malformed, ["tensor 'w' row length 16 is not a multiple of the Q4_0 block size 32"]) { try parse(image) }

        image = oneTensor(dims: [1 << 62, 1 << 62], type: 0, data: [])
        assertAlignDataError(.malformed, ["tensor 'w' dimensions", "overflow"]) { try parse(image) }

        image = oneTensor(dims: [UInt64.max], type: 0, data: [])
        assertAlignDataError(.malformed, ["tensor 'w' dimension 0 is 18446744073709551615"]) { try parse(image) }

        image = oneTensor(dims: [1], type: 0, data: Array(repeating: 0, count: 40))
        image.tensors[0].offset = 4
        assertAlignDataError(.malformed, ["tensor 'w' data offset 4 is not a multiple of the alignment 32"]) { try parse(image) }

        image = oneTensor(dims: [1], type: 0, data: [0, 0, 0, 0])
        image.tensors[0].offset = UInt64.max - 31
        assertAlignDataError(.malformed, ["tensor 'w'"]) { try parse(image) }

        image = oneTensor(dims: [16], type: 0, data: Array(repeating: 0, count: 64))
        image.tensors.append((name: "v", dims: [8], type: 0, offset: 32))
        assertAlignDataError(.malformed, ["tensor 'v'", "overlaps tensor 'w'"]) { try parse(image) }

        image = oneTensor(dims: [1], type: 0, data: Array(repeating: 0, count: 64))
        image.tensors.append((name: "w", dims: [1], type: 0, offset: 32))
        assertAlignDataError(.malformed, ["duplicate tensor name 'w'"]) { try parse(image) }
    }

    func testTruncatedDataNamesTensorOffsetAndSize() throws {
        let image = oneTensor(dims: [4], type: 0, data: Array(repeating: 0, count: 10))
        let bytes = image.bytes()
        let dataStart = bytes.count - 10
        let message = assertAlignDataError(.malformed, []) { try GGUFFile(data: bytes, path: "model.gguf") }
        XCTAssertEqual(message, "model.gguf: tensor 'w' data [offset \(dataStart), 16 bytes] runs past end of file (size \(bytes.count))")
    }

    func testTruncatedRealFileOnDiskNamesPathAndLastTensor() throws {
        let original = try Fixtures.data("model.gguf")
        let full = try GGUFFile(data: original, path: "model.gguf")
        let last = try XCTUnwrap(full.tensors.max { $0.fileOffset < $1.fileOffset })
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("model.gguf")
        let size = last.fileOffset + 10
        try original.prefix(size).write(to: url)
        let message = assertAlignDataError(.malformed, []) { try GGUFFile(url: url) }
        XCTAssertEqual(message, "\(url.relativePath): tensor '\(last.name)' data [offset \(last.fileOffset), \(last.byteCount) bytes] runs past end of file (size \(size))")
    }

    func testSlicedDataWithNonZeroStartIndex() throws {
        let original = try Fixtures.data("model.gguf")
        let sliced = (Data([0xAB, 0xCD]) + original).dropFirst(2)
        XCTAssertEqual(sliced.startIndex, 2)
        let a = try GGUFFile(data: original)
        let b = try GGUFFile(data: sliced)
        for t in a.tensors {
            XCTAssertEqual(try a.rawBytes(t.name), try b.rawBytes(t.name))
            if t.type.canDequantize { XCTAssertEqual(try a.floats(t.name), try b.floats(t.name)) }
        }
        let st = try Fixtures.data("tensors.safetensors")
        let stSliced = (Data([1]) + st).dropFirst()
        let x = try SafeTensorsFile(data: st)
        let y = try SafeTensorsFile(data: stSliced)
        XCTAssertEqual(try x.floats("model.embed.weight"), try y.floats("model.embed.weight"))
        XCTAssertEqual(try x.rawBytes("positions"), try y.rawBytes("positions"))
    }
}
