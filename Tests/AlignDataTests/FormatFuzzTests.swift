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

    // MARK: sizes and counts

    /// The values every size, count, length and offset is set to.
    static let extremeSizes: [UInt64] = [0, 1, 1 << 31 - 1, 1 << 32 - 1, 1 << 63 - 1]

    /// Every integer field of a GGUF header (tensor and metadata counts, key and string lengths,
    /// value types, integer values, array lengths, dimension counts, dimensions, tensor types and
    /// offsets) as (offset, width in bytes), found by walking the file as the format defines it.
    static func ggufHeaderFields(_ data: Data) -> [(offset: Int, width: Int)] {
        let b = [UInt8](data)
        var pos = 8, fields: [(Int, Int)] = []
        func u(_ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0 ..< width { v |= UInt64(b[pos + i]) << (8 * i) }
            fields.append((pos, width))
            pos += width
            return v
        }
        func string() { pos += Int(u(8)) }
        let fixed: [UInt64: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
        func value(_ type: UInt64, depth: Int = 0) {
            if let w = fixed[type] {
                if [6, 7, 12].contains(type) { pos += w } else { _ = u(w) }
            } else if type == 8 {
                string()
            } else if type == 9 {
                let element = u(4), count = u(8)
                // the first few elements' own fields; the rest are skipped unrecorded
                for i in 0 ..< Int(count) {
                    let before = fields.count
                    value(element, depth: depth + 1)
                    if i >= 4 { fields.removeLast(fields.count - before) }
                }
            }
        }
        let tensors = u(8), kvs = u(8)
        for _ in 0 ..< kvs {
            string()
            value(u(4))
        }
        for _ in 0 ..< tensors {
            string()
            let dims = u(4)
            for _ in 0 ..< dims { _ = u(8) }
            _ = u(4)
            _ = u(8)
        }
        return fields
    }

    /// `data` with the little-endian field at `offset` set to `value` (truncated to its width).
    static func setting(_ data: Data, _ field: (offset: Int, width: Int), to value: UInt64) -> Data {
        var copy = data
        for i in 0 ..< field.width { copy[copy.startIndex + field.offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return copy
    }

    /// Every GGUF header field at 0, 1, 2^31−1, 2^32−1 and 2^63−1: the reader, the model
    /// configuration and the checkpoint (which builds the state dict of the declared model) each
    /// parse or throw; nothing traps or allocates what the file does not hold.
    func testEveryGGUFHeaderFieldAtExtremeSizes() throws {
        for fixture in ["model.gguf", "model_v2.gguf"] {
            let original = try Fixtures.data(fixture)
            let fields = Self.ggufHeaderFields(original)
            XCTAssertGreaterThan(fields.count, 20, fixture)
            var outcome = Outcome()
            for field in fields {
                for value in Self.extremeSizes {
                    let mutated = Self.setting(original, field, to: value)
                    exercise(mutated, .gguf, &outcome)
                    if let file = try? GGUFFile(data: mutated, path: "fuzz.gguf") { _ = try? GGUFCheckpoint(file) }
                }
            }
            XCTAssertEqual(outcome.parsed + outcome.rejected, fields.count * Self.extremeSizes.count, fixture)
            XCTAssertGreaterThan(outcome.rejected, 0, fixture)
        }
    }

    /// The safetensors header length and every shape and data offset at the extreme sizes: the
    /// file parses or throws, and a parsed file reads every tensor or throws.
    func testEverySafeTensorsSizeAtExtremeValues() throws {
        for fixture in ["tensors.safetensors", "writer_reference.safetensors"] {
            let original = try Fixtures.data(fixture)
            let headerLength = Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
            let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: original.subdata(in: 8 ..< 8 + headerLength)) as? [String: Any])
            let body = original.suffix(from: 8 + headerLength)
            var outcome = Outcome(), cases = 0
            for value in Self.extremeSizes {
                exercise(Self.setting(original, (0, 8), to: value), .safetensors, &outcome)
                cases += 1
            }
            for (name, entry) in header where name != "__metadata__" {
                guard let entry = entry as? [String: Any] else { continue }
                for key in ["shape", "data_offsets"] {
                    let values = (entry[key] as? [Int]) ?? []
                    for index in values.indices {
                        for value in Self.extremeSizes {
                            var changed = values
                            changed[index] = Int(value)
                            var h = header, e = entry
                            e[key] = changed
                            h[name] = e
                            let json = try JSONSerialization.data(withJSONObject: h, options: [.sortedKeys])
                            var file = Data()
                            file.appendLE(UInt64(json.count))
                            exercise(file + json + body, .safetensors, &outcome)
                            cases += 1
                        }
                    }
                }
            }
            XCTAssertEqual(outcome.parsed + outcome.rejected, cases, fixture)
            XCTAssertGreaterThan(outcome.rejected, cases / 2, fixture)
        }
    }
}

