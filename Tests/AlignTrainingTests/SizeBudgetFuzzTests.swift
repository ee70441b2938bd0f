import AlignData
import AlignNN
import AlignTensor
import Foundation
import XCTest
@testable import AlignTraining

/// Sizes and counts set to 0, 1, 2^31−1, 2^32−1 and 2^63−1 all the way through model
/// construction: every integer field of a GGUF file, the size metadata of GGUF models, the size
/// keys of config.json, the shapes and offsets of model.safetensors, a run config's `model.init`
/// and `lora.rank`. Each loads (the value it already had, or a size the tensors hold) or throws;
/// nothing traps or allocates what neither the file nor the machine holds.
final class SizeBudgetFuzzTests: XCTestCase {
    static let extremes: [UInt64] = [0, 1, 1 << 31 - 1, 1 << 32 - 1, 1 << 63 - 1]

    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-sizes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    /// Loads the GGUF image `data` as `ModelStore.load` loads a .gguf file (reader, checkpoint,
    /// size checks, model), in memory; true when it loaded.
    @discardableResult
    func load(_ data: Data, as name: String) -> Bool {
        guard let file = try? GGUFFile(data: data, path: name), let checkpoint = try? GGUFCheckpoint(file),
              let config = try? JSONSerialization.data(withJSONObject: checkpoint.config) else { return false }
        let family: ModelFamily = checkpoint.architecture == "gpt2" ? .gpt2 : .llama
        return (try? ModelStore.build(family, config: config, stateDict: checkpoint.stateDict, path: name)) != nil
    }

    // MARK: GGUF

    /// Every integer field of the header as (offset, width), walked as the format defines it.
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
        let fixed: [UInt64: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
        func value(_ type: UInt64) {
            if let w = fixed[type] {
                if [6, 7, 12].contains(type) { pos += w } else { _ = u(w) }
            } else if type == 8 {
                pos += Int(u(8))
            } else if type == 9 {
                let element = u(4), count = u(8)
                for _ in 0 ..< count { value(element) }
            }
        }
        let tensors = u(8), kvs = u(8)
        for _ in 0 ..< kvs {
            pos += Int(u(8))
            value(u(4))
        }
        for _ in 0 ..< tensors {
            pos += Int(u(8))
            for _ in 0 ..< u(4) { _ = u(8) }
            _ = u(4)
            _ = u(8)
        }
        return fields
    }

    /// Every header field of the tiny GGUF models (counts, lengths, metadata values, dimension
    /// counts, dimensions, types, offsets) at each extreme, through `ModelStore.load`.
    func testEveryGGUFHeaderFieldThroughModelLoading() throws {
        for name in ["llama-tiny.gguf", "gpt2-tiny.gguf"] {
            let original = try Data(contentsOf: fixture(name))
            XCTAssertTrue(load(original, as: name), name)
            let fields = Self.ggufHeaderFields(original)
            XCTAssertGreaterThan(fields.count, 50, name)
            var loaded = 0, rejected = 0
            for field in fields {
                for value in Self.extremes {
                    var mutated = original
                    for i in 0 ..< field.width { mutated[field.offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
                    if load(mutated, as: name) { loaded += 1 } else { rejected += 1 }
                }
            }
            XCTAssertGreaterThan(rejected, fields.count * 2, name)
        }
    }

    /// A GGUF model rewritten with one metadata value replaced (as a uint64).
    func gguf(_ file: GGUFFile, setting key: String, to value: UInt64) throws -> Data {
        var writer = GGUFWriter()
        for k in file.metadataKeys { writer.set(k, file.metadata[k]!) }
        writer.set(key, .uint64(value))
        for t in file.tensors { try writer.addTensor(t.name, shape: t.shape, values: try file.floats(t.name), type: .f32) }
        let url = dir.appendingPathComponent("rewritten.gguf")
        try writer.write(to: url)
        return try Data(contentsOf: url)
    }

    /// The size metadata of a GGUF model at each extreme: a size the tensors do not have is an
    /// error naming the key (never an allocation of that size); so are blocks beyond or short of
    /// `block_count`.
    func testGGUFSizeMetadataIsCheckedAgainstTheTensors() throws {
        for arch in ["llama", "gpt2"] {
            let file = try GGUFFile(url: fixture("\(arch)-tiny.gguf"))
            for key in ["vocab_size", "block_count", "embedding_length", "feed_forward_length", "attention.head_count",
                        "attention.head_count_kv", "context_length"] {
                let full = "\(arch).\(key)"
                let current = try file.int(full)
                for value in Self.extremes + [UInt64(current ?? 1) + 1] where Int(exactly: value) != current {
                    let data = try gguf(file, setting: full, to: value)
                    let url = dir.appendingPathComponent("m.gguf")
                    try data.write(to: url)
                    do {
                        _ = try ModelStore.load(url.path)
                        // head counts and a llama context length leave every tensor's shape alone
                        XCTAssertTrue(key.hasPrefix("attention.") || (arch == "llama" && key == "context_length"), "\(full) = \(value) loaded")
                    } catch {
                        XCTAssertTrue("\(error)".contains("m.gguf"), "\(full) = \(value): \(error)")
                        if ["vocab_size", "block_count", "embedding_length", "feed_forward_length"].contains(key) {
                            XCTAssertTrue("\(error)".contains(key), "\(full) = \(value): \(error)")
                        }
                    }
                }
            }
        }
    }

    func testBlocksBeyondOrShortOfBlockCountAreErrors() throws {
        let file = try GGUFFile(url: fixture("llama-tiny.gguf"))
        let blocks = try XCTUnwrap(try file.int("llama.block_count"))
        let url = dir.appendingPathComponent("m.gguf")
        try gguf(file, setting: "llama.block_count", to: UInt64(blocks - 1)).write(to: url)
        XCTAssertThrowsError(try ModelStore.load(url.path)) { error in
            XCTAssertTrue("\(error)".contains("blk.\(blocks - 1).") && "\(error)".contains("'llama.block_count' is \(blocks - 1)"), "\(error)")
        }
        try gguf(file, setting: "llama.block_count", to: 1 << 31 - 1).write(to: url)
        XCTAssertThrowsError(try ModelStore.load(url.path)) { error in
            XCTAssertTrue("\(error)".contains("'llama.block_count' is 2147483647 but the file holds tensors of \(blocks) blocks"), "\(error)")
        }
    }

    // MARK: Hugging Face directories

    /// llama-tiny as a Hugging Face directory (with a tokenizer), and its config.json.
    func hfDirectory() throws -> (URL, [String: Any]) {
        let loaded = try ModelStore.load(fixture("llama-tiny.gguf").path)
        let out = dir.appendingPathComponent("hf")
        try ModelStore.save(loaded, tokenizer: try tokenizer(), to: out)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        return (out, config)
    }

    func tokenizer() throws -> Tokenizer {
        var tok = try Tokenizer.train(on: ["a tiny corpus for a tiny tokenizer", "sizes and counts"],
                                      options: BPETrainingOptions(vocabSize: 270, specialTokens: ["<|endoftext|>"]))
        tok.eosToken = "<|endoftext|>"
        return tok
    }

    /// config.json sizes at each extreme (and the reported 2^40 and 1e9): a size the weights do
    /// not hold is an error naming config.json's key, before the model is built.
    func testConfigJSONSizesAreCheckedBeforeTheModelIsBuilt() throws {
        let (hf, config) = try hfDirectory()
        let configURL = hf.appendingPathComponent("config.json")
        for key in ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "head_dim", "max_position_embeddings"] {
            for value in Self.extremes.map(Int.init) + [1 << 40, 1_000_000_000] where value != config[key] as? Int {
                var changed = config
                changed[key] = value
                try JSONSerialization.data(withJSONObject: changed).write(to: configURL)
                do {
                    _ = try ModelStore.load(hf.path)
                    XCTAssertTrue(["num_attention_heads", "num_key_value_heads", "max_position_embeddings"].contains(key), "\(key) = \(value) loaded")
                } catch {
                    if value > 1 << 30, ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers"].contains(key) {
                        XCTAssertTrue("\(error)".contains("\(key) = \(value) implies"), "\(key) = \(value): \(error)")
                    }
                }
            }
        }
    }

    /// Every shape and data offset in the directory's model.safetensors at each extreme (the
    /// layers after the first repeat the first's entries and are left out for time).
    func testSafeTensorsShapesAndOffsetsThroughModelLoading() throws {
        let (hf, _) = try hfDirectory()
        let weights = hf.appendingPathComponent("model.safetensors")
        let original = try Data(contentsOf: weights)
        let length = Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        let header = try JSONSerialization.jsonObject(with: original.subdata(in: 8 ..< 8 + length)) as! [String: Any]
        let body = original.suffix(from: 8 + length)
        var rejected = 0, cases = 0
        // the tensors outside the layers and those of layer 0 (later layers repeat their shapes)
        for (name, entry) in header.sorted(by: { $0.key < $1.key }) where name != "__metadata__" && (!name.hasPrefix("model.layers.") || name.hasPrefix("model.layers.0.")) {
            let entry = entry as! [String: Any]
            for key in ["shape", "data_offsets"] {
                let values = entry[key] as! [Int]
                for index in values.indices {
                    for value in Self.extremes.map(Int.init) where value != values[index] {
                        var changed = values, e = entry, h = header
                        changed[index] = value
                        e[key] = changed
                        h[name] = e
                        let json = try JSONSerialization.data(withJSONObject: h, options: [.sortedKeys])
                        var file = Data()
                        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
                        try (file + json + body).write(to: weights)
                        cases += 1
                        if (try? ModelStore.load(hf.path)) == nil { rejected += 1 }
                    }
                }
            }
        }
        XCTAssertEqual(rejected, cases, "a changed shape or offset loaded")
    }

    // MARK: run configs

    /// `model.init` sizes and `lora.rank` at each extreme: an error naming the key before the
    /// model or adapters are built (or a model of a size this machine holds).
    func testRunConfigSizesAreCheckedBeforeConstruction() throws {
        let (hf, _) = try hfDirectory()
        try tokenizer().save(to: dir.appendingPathComponent("tok"))
        func run(_ model: String, _ extra: String = "") throws -> TrainerRun {
            let text = """
            {"model": \(model), "data": {"train": "\(ConfigFixtures.path("data/train.jsonl"))", "max_seq_len": 16},
             "output_dir": "\(dir.appendingPathComponent("out").path)"\(extra)}
            """
            let url = dir.appendingPathComponent("run.json")
            try text.write(to: url, atomically: true, encoding: .utf8)
            return try TrainerRun(config: try RunConfig.load(file: url, trainer: SFTConfig.schema), callback: { _ in })
        }
        let tok = dir.appendingPathComponent("tok").path
        for key in ["vocab_size", "hidden_size", "layers", "heads", "kv_heads", "intermediate_size", "context_length"] {
            for value in Self.extremes + (key == "hidden_size" ? [600_000] : []) {
                let spec = #"{"init": {"architecture": "llama", "hidden_size": 16, "heads": 2, "layers": 1, "context_length": 32, "tokenizer": "\#(tok)", "\#(key)": \#(value)}}"#
                do {
                    _ = try run(spec)
                } catch let error as ConfigError {
                    _ = error   // out of range or inconsistent: the config reader's own errors
                } catch {
                    if value >= 600_000, ["vocab_size", "hidden_size", "layers", "intermediate_size"].contains(key) {
                        XCTAssertTrue("\(error)".contains("model.init.\(key) = \(value) implies"), "\(key) = \(value): \(error)")
                    }
                }
            }
        }
        for value in Self.extremes {
            do {
                let r = try run(#"{"path": "\#(hf.path)"}"#, #", "lora": {"rank": \#(value)}"#)
                XCTAssertLessThan(value, 1 << 31, "lora.rank \(value) built \(r.trainable.count) adapters")
            } catch let error as ConfigError {
                // 0 is out of range; 2^63−1 is not exactly representable in JSON's doubles
                XCTAssertTrue(value == 0 || value > 1 << 53, "\(error)")
            } catch {
                XCTAssertTrue("\(error)".contains("lora.rank = \(value) implies"), "\(value): \(error)")
            }
        }
    }
}
