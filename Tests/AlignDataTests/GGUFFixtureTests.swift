import AlignData
import Foundation
import XCTest

/// Reading GGUF files written by llama.cpp's `gguf` Python package.
final class GGUFFixtureTests: XCTestCase {
    private var expected: JSON { Fixtures.expected["gguf"] }

    private func open() throws -> GGUFFile {
        try GGUFFile(url: Fixtures.url(expected["file"].string))
    }

    /// The canonical form scripts/gen_format_fixtures.py writes for a metadata value.
    private func canonical(_ value: GGUFValue) -> JSON {
        func typed(_ type: String, _ v: JSON) -> JSON { .object(["type": .string(type), "value": v]) }
        switch value {
        case .uint8(let v): return typed("UINT8", .string("\(v)"))
        case .int8(let v): return typed("INT8", .string("\(v)"))
        case .uint16(let v): return typed("UINT16", .string("\(v)"))
        case .int16(let v): return typed("INT16", .string("\(v)"))
        case .uint32(let v): return typed("UINT32", .string("\(v)"))
        case .int32(let v): return typed("INT32", .string("\(v)"))
        case .uint64(let v): return typed("UINT64", .string("\(v)"))
        case .int64(let v): return typed("INT64", .string("\(v)"))
        case .float32(let v): return typed("FLOAT32", .number(Double(v)))
        case .float64(let v): return typed("FLOAT64", .number(v))
        case .bool(let v): return typed("BOOL", .bool(v))
        case .string(let v): return typed("STRING", .string(v))
        case .array(let elementType, let values):
            return .object(["type": .string("ARRAY"), "element": .string(elementType.description),
                            "value": .array(values.map(canonical))])
        }
    }

    func testHeaderAndEveryMetadataValue() throws {
        let file = try open()
        XCTAssertEqual(Int(file.version), expected["version"].int)
        XCTAssertEqual(file.alignment, expected["alignment"].int)
        XCTAssertEqual(file.dataOffset % file.alignment, 0)
        XCTAssertEqual(file.metadataKeys, expected["metadata_order"].strings)
        let metadata = expected["metadata"].object
        XCTAssertEqual(Set(file.metadata.keys), Set(metadata.keys))
        for (key, want) in metadata {
            XCTAssertEqual(file.value(key).map(canonical), want, key)
        }
    }

    func testTensorInfosUseRowMajorShapes() throws {
        let file = try open()
        XCTAssertEqual(file.tensors.map(\.name), expected["tensor_order"].strings)
        for (name, entry) in expected["tensors"].object {
            let info = try XCTUnwrap(file.tensor(name), name)
            XCTAssertEqual(info.type.name, entry["type"].string, name)
            XCTAssertEqual(Int(info.type.rawValue), entry["type_id"].int, name)
            XCTAssertEqual(info.shape, entry["shape"].ints, name)
            XCTAssertEqual(info.dimensions, entry["shape"].ints.reversed(), name)
            XCTAssertEqual(info.offset % file.alignment, 0, name)
            XCTAssertEqual(info.fileOffset, file.dataOffset + info.offset, name)
        }
        let f3 = try XCTUnwrap(file.tensor("f32.3d"))
        XCTAssertEqual(f3.dimensions, [5, 3, 2])
        XCTAssertEqual(f3.shape, [2, 3, 5])
    }

    func testDequantisedValuesMatchPython() throws {
        let file = try open()
        var compared: [String] = []
        for (name, entry) in expected["tensors"].object {
            guard case .array = entry.object["values"] ?? .null else { continue }
            compared.append(entry["type"].string)
            let want = entry["values"].floats
            let got = try file.floats(name)
            XCTAssertEqual(got.count, want.count, name)
            switch entry["type"].string {
            case "F32", "F16", "BF16":
                XCTAssertEqual(got, want, name)
            default:
                for (g, w) in zip(got, want) where abs(g - w) > 1e-6 {
                    XCTFail("\(name): \(g) != \(w)")
                    break
                }
            }
        }
        // Every float type of the fixture was actually compared.
        XCTAssertEqual(Set(compared), ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1"])
        XCTAssertEqual(compared.count, 10)
    }

    func testRawBytesOfAQ6KTensor() throws {
        let file = try open()
        // random Q6_K bytes (once unsupported; GGUFKQuantTests pins the values against gguf-py)
        XCTAssertEqual(try file.floats("q6_k.weight").count, 256)
        XCTAssertEqual(try file.rawBytes("q6_k.weight").count, 210)
        XCTAssertEqual(file.tensor("q6_k.weight")?.type, .q6_K)
        assertAlignDataError(.notFound, ["model.gguf", "'missing.weight'"]) { try file.floats("missing.weight") }
    }

    func testTypedAccessors() throws {
        let file = try open()
        XCTAssertEqual(try file.string("general.architecture"), "llama")
        XCTAssertEqual(try file.int("llama.block_count"), 1)
        XCTAssertEqual(try file.int("test.i8"), -100)
        XCTAssertEqual(try file.int("test.i64"), -(1 << 62) - 7)
        XCTAssertEqual(try file.float("test.f32"), Double(Float(0.1)))
        XCTAssertEqual(try file.float("test.f64"), -1234.5678901234567)
        XCTAssertEqual(try file.float("llama.block_count"), 1)
        XCTAssertEqual(try file.bool("test.bool_true"), true)
        XCTAssertEqual(try file.bool("test.bool_false"), false)
        XCTAssertEqual(try file.string("test.empty_string"), "")
        XCTAssertEqual(try file.floatArray("test.float_array"), [0.5, -1.25, Double(Float(3.0e-3))])
        XCTAssertEqual(try file.intArray("tokenizer.ggml.token_type"), [2, 3, 3] + Array(repeating: 1, count: 10))
        XCTAssertEqual(try file.stringArray("tokenizer.ggml.merges"), ["h e", "l l", "he ll", "hell o"])
        XCTAssertEqual(file.value("test.u64"), .uint64(.max))
        XCTAssertEqual(file.value("test.nested")?.arrayValue?.count, 3)
        XCTAssertEqual(file.value("test.nested")?.typeDescription, "ARRAY[ARRAY]")
        XCTAssertNil(try file.int("no.such.key"))

        assertAlignDataError(.typeMismatch, ["model.gguf: ", "'general.name'", "STRING", "integer"]) { try file.int("general.name") }
        assertAlignDataError(.typeMismatch, ["'test.u64'", "does not fit"]) { try file.int("test.u64") }
        assertAlignDataError(.typeMismatch, ["'test.u64_array'", "does not fit"]) { try file.intArray("test.u64_array") }
        assertAlignDataError(.typeMismatch, ["'tokenizer.ggml.tokens'", "ARRAY[STRING]"]) { try file.intArray("tokenizer.ggml.tokens") }
        assertAlignDataError(.typeMismatch, ["'test.bool_true'"]) { try file.float("test.bool_true") }
        assertAlignDataError(.typeMismatch, ["'test.nested'", "ARRAY[ARRAY]"]) { try file.stringArray("test.nested") }
        assertAlignDataError(.notFound, ["model.gguf: ", "'llama.nope' is missing"]) { try file.requireInt("llama.nope") }
    }

    func testModelConfigAndTokenizerMetadata() throws {
        let file = try open()
        let config = try GGUFModelConfig(file)
        XCTAssertEqual(config.architecture, "llama")
        XCTAssertEqual(config.blockCount, 1)
        XCTAssertEqual(config.embeddingLength, 16)
        XCTAssertEqual(config.headCount, 4)
        XCTAssertEqual(config.headCountKV, 2)
        XCTAssertEqual(config.feedForwardLength, 40)
        XCTAssertEqual(config.contextLength, 128)
        XCTAssertEqual(config.vocabSize, 13)
        XCTAssertEqual(config.normEpsilon, Double(Float(1e-5)))
        XCTAssertTrue(config.usesRMSNorm)
        XCTAssertEqual(config.ropeFreqBase, 10000)
        XCTAssertNil(config.ropeDimensionCount)

        let tokenizer = try GGUFTokenizerMetadata(file)
        let tokens = expected["metadata"]["tokenizer.ggml.tokens"]["value"].array.map { $0["value"].string }
        XCTAssertEqual(tokenizer.tokens, tokens)
        XCTAssertEqual(tokenizer.tokens.last, "\u{1F600}")
        XCTAssertEqual(tokenizer.model, "gpt2")
        XCTAssertEqual(tokenizer.merges.count, 4)
        XCTAssertEqual(tokenizer.tokenTypes.count, tokens.count)
        XCTAssertEqual(tokenizer.bosTokenID, 1)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        XCTAssertEqual(tokenizer.addBOS, false)
        XCTAssertNil(tokenizer.addEOS)
        XCTAssertEqual(tokenizer.chatTemplate, expected["metadata"]["tokenizer.chat_template"]["value"].string)
        XCTAssertEqual(tokenizer.scores, [])
    }

    func testVersion2FileWithDefaultAlignment() throws {
        let v2 = Fixtures.expected["gguf_v2"]
        let file = try GGUFFile(url: Fixtures.url(v2["file"].string))
        XCTAssertEqual(file.version, 2)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertNil(file.value("general.alignment"))
        for (name, entry) in v2["tensors"].object {
            let info = try XCTUnwrap(file.tensor(name))
            XCTAssertEqual(info.shape, entry["shape"].ints)
            XCTAssertEqual(info.type.name, entry["type"].string)
            XCTAssertEqual(try file.floats(name), entry["values"].floats, name)
        }
        // "a" is 12 bytes, so "b" starts at the next multiple of 32.
        XCTAssertEqual(file.tensor("b")?.offset, 32)

        let config = try GGUFModelConfig(file)
        XCTAssertEqual(config.architecture, "gpt2")
        XCTAssertEqual(config.headCountKV, config.headCount)
        XCTAssertFalse(config.usesRMSNorm)
        XCTAssertNil(config.ropeFreqBase)
        XCTAssertEqual(config.vocabSize, 3)
    }
}
