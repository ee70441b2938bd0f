import AlignData
import AlignTensor
import Foundation

/// A training checkpoint: `checkpoints/step-N/` holding the trainable parameters
/// (`trainable.safetensors`), the optimizer moments (`optimizer.safetensors`) and everything
/// else needed to continue exactly (`state.json`: step, optimizer step count, the objective's
/// data position and RNG state). Written into a hidden temporary directory that is renamed into
/// place, so a checkpoint directory is always complete.
public struct Checkpoint {
    public static let formatVersion = 1

    public struct State: Codable {
        public var format: Int = Checkpoint.formatVersion
        /// Optimizer steps completed.
        public var step: Int
        public var totalSteps: Int
        public var optimizerStep: Int
        /// The objective's data position and RNG state, opaque to the loop.
        public var objective: Data
        /// Sum of tokens seen so far (for the summary).
        public var tokensSeen: Int
        /// The early-stopping record, when the run uses it.
        public var earlyStopping: EarlyStopping.State?
        /// The recovery record, when the run uses recovery.
        public var recovery: Recovery.State?
        /// The LoRA adapters' dropout streams (the loop's, so no objective can forget them).
        public var loraDropout: [RandomGenerator?]?
        /// The ranks of the data-parallel run that wrote it (absent: one process).
        public var worldSize: Int?
        /// Every rank's LoRA dropout streams, by rank (data-parallel runs with LoRA dropout).
        public var loraDropoutRanks: [[RandomGenerator?]]?

        enum CodingKeys: String, CodingKey {
            case format, step
            case totalSteps = "total_steps"
            case optimizerStep = "optimizer_step"
            case objective
            case tokensSeen = "tokens_seen"
            case earlyStopping = "early_stopping"
            case recovery
            case loraDropout = "lora_dropout"
            case worldSize = "world_size"
            case loraDropoutRanks = "lora_dropout_ranks"
        }
    }

    public let directory: URL
    public let state: State

    /// The `checkpoints` folder of a run.
    public static func root(_ outputDir: URL) -> URL { outputDir.appendingPathComponent("checkpoints") }

    /// Complete checkpoints of a run, oldest first.
    public static func list(_ outputDir: URL) -> [(step: Int, url: URL)] {
        let root = root(outputDir)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("step-"), let n = Int(name.dropFirst(5)) else { return nil }
            let url = root.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("state.json").path) else { return nil }
            return (n, url)
        }.sorted { $0.0 < $1.0 }
    }

    /// Writes a checkpoint of `parameters` and `optimizer` at `state.step`, then deletes all but
    /// the newest `keep` checkpoints.
    @discardableResult
    public static func write(outputDir: URL, parameters: [(String, Tensor)], optimizer: AdamW, state: State,
                             keep: Int) throws -> URL {
        let root = root(outputDir)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let final = root.appendingPathComponent("step-\(state.step)")
        let temp = root.appendingPathComponent(".step-\(state.step).tmp-\(getpid())")
        try? FileManager.default.removeItem(at: temp)
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        do {
            try SafeTensorsWriter.write(tensors: parameters.map { (name: $0.0, shape: $0.1.shape, data: $0.1.scalars) },
                                        to: temp.appendingPathComponent("trainable.safetensors"))
            let opt = optimizer.state
            var moments: [(name: String, shape: [Int], data: [Float])] = []
            for (i, (name, p)) in parameters.enumerated() {
                moments.append((name: "m.\(name)", shape: p.shape, data: opt.slots["m"]![i]))
                moments.append((name: "v.\(name)", shape: p.shape, data: opt.slots["v"]![i]))
            }
            try SafeTensorsWriter.write(tensors: moments, to: temp.appendingPathComponent("optimizer.safetensors"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeFileAtomically(try encoder.encode(state), to: temp.appendingPathComponent("state.json"))
            try? FileManager.default.removeItem(at: final)
            try FileManager.default.moveItem(at: temp, to: final)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
        for (_, old) in list(outputDir).dropLast(max(keep, 1)) { try? FileManager.default.removeItem(at: old) }
        return final
    }

    /// Reads a checkpoint directory's state.
    public static func load(_ directory: URL) throws -> Checkpoint {
        let stateURL = directory.appendingPathComponent("state.json")
        guard FileManager.default.fileExists(atPath: stateURL.path) else {
            throw AlignDataError(.notFound, path: directory.path, "not a checkpoint (no state.json)")
        }
        let state: State
        do {
            state = try JSONDecoder().decode(State.self, from: Data(contentsOf: stateURL))
        } catch {
            throw AlignDataError(.malformed, path: stateURL.path, "cannot read checkpoint state: \(error)")
        }
        guard state.format == formatVersion else {
            throw AlignDataError(.unsupported, path: stateURL.path, "checkpoint format \(state.format), this align reads \(formatVersion)")
        }
        return Checkpoint(directory: directory, state: state)
    }

    /// Copies the checkpoint's parameters and optimizer moments into `parameters` and `optimizer`;
    /// every name must match.
    public func restore(parameters: [(String, Tensor)], optimizer: AdamW) throws {
        let values = try StateDictFiles.load(file: directory.appendingPathComponent("trainable.safetensors"))
        let moments = try StateDictFiles.load(file: directory.appendingPathComponent("optimizer.safetensors"))
        var m: [[Float]] = [], v: [[Float]] = []
        for (name, p) in parameters {
            guard let t = values[name], let mt = moments["m.\(name)"], let vt = moments["v.\(name)"] else {
                throw AlignDataError(.notFound, path: directory.path, "checkpoint lacks parameter '\(name)' (was it written by another configuration?)")
            }
            guard t.shape == p.shape else {
                throw AlignDataError(.malformed, path: directory.path, "parameter '\(name)' has shape \(t.shape) in the checkpoint, \(p.shape) in the model")
            }
            p.pointer.update(from: t.pointer, count: p.count)
            m.append(mt.scalars)
            v.append(vt.scalars)
        }
        guard values.count == parameters.count else {
            let extra = Set(values.keys).subtracting(parameters.map(\.0)).sorted().prefix(5)
            throw AlignDataError(.malformed, path: directory.path, "checkpoint holds parameters the model does not train: \(extra.joined(separator: ", "))")
        }
        try optimizer.load(OptimizerState(step: state.optimizerStep, slots: ["m": m, "v": v]))
    }
}
