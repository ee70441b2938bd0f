import AlignData
import Foundation
import XCTest

/// Seeded fuzzing of every fixture: random truncations and single-byte flips
/// must parse or throw, never crash or hang; a successful parse is followed by
/// reading every tensor and every metadata view.
final class FormatFuzzTests: XCTestCase {
    private enum Format { case gguf, safetensors }

    private struct Outcome {
        var parsed = 0
        var rejected = 0
    }

    private func exercise(_ data: Data, _ format: Format, _ outcome: inout Outcome) {
        switch format {
        case .gguf:
            guard let file = try? GGUFFile(data: data, path: "fuzz.gguf") else { outcome.rejected += 1; return }
            outcome.parsed += 1
            for t in file.tensors {
                _ = try? file.floats(t.name)
                _ = try? file.rawBytes(t.name)
            }
            for key in file.metadataKeys {
                _ = try? file.int(key)
                _ = try? file.float(key)
                _ = try? file.string(key)
                _ = try? file.stringArray(key)
                _ = try? file.intArray(key)
                _ = try? file.floatArray(key)
                _ = file.value(key)?.description
            }
            _ = try? GGUFModelConfig(file)
            _ = try? GGUFTokenizerMetadata(file)
        case .safetensors:
            guard let file = try? SafeTensorsFile(data: data, path: "fuzz.safetensors") else { outcome.rejected += 1; return }
            outcome.parsed += 1
            for name in file.names {
                _ = try? file.floats(name)
                _ = try? file.rawBytes(name)
            }
        }
    }

    private func fuzz(_ fixture: String, _ format: Format, seed: UInt64) throws {
        let original = try Fixtures.data(fixture)
        var outcome = Outcome()
        exercise(original, format, &outcome)
        XCTAssertEqual(outcome.parsed, 1, "\(fixture) itself must parse")

        var rng = SplitMix64(seed: seed)
        var truncations = Outcome()
        for _ in 0 ..< 200 {
            let length = Int(rng.next() % UInt64(original.count))
            exercise(original.prefix(length), format, &truncations)
        }
        XCTAssertGreaterThan(truncations.rejected, 0, fixture)

        var flips = Outcome()
        for _ in 0 ..< 200 {
            var corrupted = original
            let index = Int(rng.next() % UInt64(original.count))
            corrupted[index] ^= UInt8(1 + rng.next() % 255)
            exercise(corrupted, format, &flips)
        }
        // Flips concentrated in the header, where the structure lives.
        let headerEnd: Int
        switch format {
        case .gguf: headerEnd = try GGUFFile(data: original).dataOffset
        case .safetensors: headerEnd = try SafeTensorsFile(data: original).dataStart
        }
        for _ in 0 ..< 200 {
            var corrupted = original
            let index = Int(rng.next() % UInt64(headerEnd))
            corrupted[index] ^= UInt8(1 + rng.next() % 255)
            exercise(corrupted, format, &flips)
        }
        XCTAssertGreaterThan(flips.rejected, 0, fixture)
        XCTAssertGreaterThan(flips.parsed, 0, fixture)
    }

    func testFuzzGGUFv3() throws { try fuzz("model.gguf", .gguf, seed: 1) }
    func testFuzzGGUFv2() throws { try fuzz("model_v2.gguf", .gguf, seed: 2) }
    func testFuzzSafeTensors() throws { try fuzz("tensors.safetensors", .safetensors, seed: 3) }
    func testFuzzSafeTensorsWriterReference() throws { try fuzz("writer_reference.safetensors", .safetensors, seed: 4) }

    /// Random bytes after a valid magic/header length prefix.
    func testRandomGarbage() {
        var rng = SplitMix64(seed: 5)
        var outcome = Outcome()
        for i in 0 ..< 200 {
            let count = Int(rng.next() % 512)
            var bytes = Data((0 ..< count).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            if i % 2 == 0 {
                bytes = Data(Array("GGUF".utf8) + [UInt8(2 + i % 4 / 2), 0, 0, 0]) + bytes
                exercise(bytes, .gguf, &outcome)
            } else {
                var prefixed = Data()
                prefixed.appendLE(UInt64(rng.next() % UInt64(max(count, 1))))
                exercise(prefixed + bytes, .safetensors, &outcome)
            }
        }
        XCTAssertEqual(outcome.parsed + outcome.rejected, 200)
    }
}
