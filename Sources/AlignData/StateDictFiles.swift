import AlignTensor
import Foundation

/// Model weights on disk as Hugging Face lays them out: `model.safetensors`, or shards listed
/// by `model.safetensors.index.json`. Reads to and writes from `[String: Tensor]` state dicts.
public enum StateDictFiles {
    /// Every tensor of a model directory (single file or sharded), as Float32 tensors.
    public static func load(directory: URL) throws -> [String: Tensor] {
        let single = directory.appendingPathComponent("model.safetensors")
        if FileManager.default.fileExists(atPath: single.path) { return try load(file: single) }
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        guard FileManager.default.fileExists(atPath: index.path) else {
            throw AlignDataError(.notFound, path: directory.path,
                                 "no model.safetensors or model.safetensors.index.json in this directory")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: index))
        } catch {
            throw AlignDataError(.malformed, path: index.path, "not valid JSON: \(error.localizedDescription)")
        }
        guard let top = object as? [String: Any], let map = top["weight_map"] as? [String: Any] else {
            throw AlignDataError(.malformed, path: index.path, "missing object 'weight_map'")
        }
        var shards: [String] = []
        for (key, value) in map {
            guard let file = value as? String, !file.contains("/") else {
                throw AlignDataError(.malformed, path: index.path, "weight_map['\(key)'] is not a file name in this directory")
            }
            if !shards.contains(file) { shards.append(file) }
        }
        var out: [String: Tensor] = [:]
        for shard in shards.sorted() {
            for (k, v) in try load(file: directory.appendingPathComponent(shard)) { out[k] = v }
        }
        return out
    }

    /// Every tensor of one safetensors file, as Float32 tensors (each converted from the mapped
    /// file straight into its tensor's storage).
    public static func load(file: URL) throws -> [String: Tensor] {
        let st = try SafeTensorsFile(url: file)
        var out: [String: Tensor] = [:]
        for info in st.tensors where info.dtype.isReadableAsFloat {
            let storage = Storage(uninitializedCount: info.elementCount)
            try st.read(info.name, into: storage.buffer)
            out[info.name] = Tensor(shape: info.shape, storage: storage)
        }
        return out
    }

    /// Writes `model.safetensors` (or `fileName`; F32, keys sorted, `format: pt` metadata) atomically.
    public static func save(_ stateDict: [String: Tensor], to directory: URL, fileName: String = "model.safetensors") throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tensors = stateDict.keys.sorted().map { k in (name: k, shape: stateDict[k]!.shape, data: stateDict[k]!.scalars) }
        try SafeTensorsWriter.write(tensors: tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent(fileName))
    }
}
