import AlignData
import Foundation
import XCTest

/// Reading files written by the Python `safetensors` library, and writing
/// byte-identical files.
final class SafeTensorsFixtureTests: XCTestCase {
    private var expected: JSON { Fixtures.expected["safetensors"] }

    func testReadsPythonFixtureExactly() throws {
        let file = try SafeTensorsFile(url: Fixtures.url(expected["file"].string))
        XCTAssertEqual(file.names, expected["order"].strings)
        XCTAssertEqual(file.headerLength, expected["header_length"].int)
        XCTAssertEqual(file.headerLength % 8, 0)
        XCTAssertEqual(file.metadata, expected["metadata"].object.mapValues(\.string))

        for (name, entry) in expected["tensors"].object {
            let info = try XCTUnwrap(file.info(name), name)
            XCTAssertEqual(info.dtype.rawValue, entry["dtype"].string, name)
            XCTAssertEqual(info.shape, entry["shape"].ints, name)
            XCTAssertEqual(info.elementCount, entry["shape"].ints.reduce(1, *), name)
            guard info.dtype != .i64 else { continue }
            let values = try file.floats(name)
            // F32 is stored exactly; F16/BF16 widen to Float32 exactly as torch does.
            XCTAssertEqual(values, entry["values"].floats, name)
        }
    }

    func testIntegerDtypeIsListedButReadingAsFloatNamesIt() throws {
        let url = Fixtures.url(expected["file"].string)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.info("positions")?.dtype, .i64)
        XCTAssertEqual(file.info("positions")?.shape, [3])
        XCTAssertEqual(try file.rawBytes("positions").count, 24)
        let message = assertAlignDataError(.typeMismatch, ["tensors.safetensors", "'positions'", "I64"]) {
            try file.floats("positions")
        }
        XCTAssertEqual(message?.hasPrefix(url.relativePath + ": "), true)
    }

    func testMissingTensorIsNotFound() throws {
        let file = try SafeTensorsFile(url: Fixtures.url(expected["file"].string))
        XCTAssertNil(file.info("nope"))
        assertAlignDataError(.notFound, ["tensors.safetensors", "'nope'"]) { try file.floats("nope") }
    }

    func testWriterIsByteIdenticalToReferenceLibrary() throws {
        let reference = Fixtures.expected["writer_reference"]
        let tensors: [SafeTensorsWriter.Tensor] = reference["tensors"].array.map {
            (name: $0["name"].string, shape: $0["shape"].ints, data: $0["values"].floats)
        }
        let metadata = reference["metadata"].object.mapValues(\.string)
        let pythonBytes = try Fixtures.data(reference["file"].string)

        XCTAssertEqual(try SafeTensorsWriter.serialize(tensors: tensors, metadata: metadata), pythonBytes)

        let dir = try makeTemporaryDirectory(self)
        let out = dir.appendingPathComponent("written.safetensors")
        try SafeTensorsWriter.write(tensors: tensors, metadata: metadata, to: out)
        XCTAssertEqual(try Data(contentsOf: out), pythonBytes)
    }
}
