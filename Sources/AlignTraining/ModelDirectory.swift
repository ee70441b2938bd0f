import Foundation

extension ModelStore {
    /// The name of a model file in directory `path` (`config.json` or a `.safetensors` file), or nil when `path` is not a directory or holds none: a directory a command must not
    /// write a bare tokenizer into.
    public static func modelFileIn(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        if names.contains("config.json") { return "config.json" }
        return names.sorted().first { $0.hasSuffix(".safetensors") }
    }
}
