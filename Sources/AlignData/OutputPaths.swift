import Foundation

/// The one check every command runs before it writes: no output may be, or resolve to (through
/// symbolic links, hard links, `.` or `..`), one of the command's inputs or another of its
/// outputs, and a directory output may not replace a file an input is read from.
///
/// ```swift
/// try OutputPaths.check(inputs: [("--input", input)],
///                       outputs: [.file("--output", output), .file("--dropped", dropped)])
/// ```
public enum OutputPaths {
    /// Something a command writes.
    public struct Output: Sendable {
        /// The option or config key that names it (`--output`, `output_dir`), for messages.
        public let option: String
        public let path: String
        /// For a directory output: the entries (files or folders) written inside it; nil for a
        /// file output.
        public let entries: [String]?

        /// A file the command writes (or replaces).
        public static func file(_ option: String, _ path: String) -> Output { Output(option: option, path: path, entries: nil) }

        /// A directory the command writes `entries` into.
        public static func directory(_ option: String, _ path: String, writes entries: [String]) -> Output {
            Output(option: option, path: path, entries: entries)
        }
    }

    /// What `ModelStore.save` writes into a model directory.
    public static let modelDirectoryFiles = ["config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
                                             "tokenizer.json", "tokenizer_config.json"]
    /// What `Tokenizer.save` writes.
    public static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json"]

    /// Throws an `AlignDataError` (`.invalidArgument`) naming both options when an output is,
    /// or resolves to, an input or another output, or when a directory output would replace a
    /// file or folder that an input is, or lies in. Reads only; nil inputs are skipped.
    public static func check(inputs: [(option: String, path: String?)], outputs: [Output]) throws {
        let ins = inputs.compactMap { i in i.path.map { (option: i.option, path: $0, resolved: resolve($0)) } }
        for (n, out) in outputs.enumerated() {
            // what the output replaces: the file itself, or each entry of the directory
            let written = out.entries.map { names in names.map { (out.path as NSString).appendingPathComponent($0) } } ?? [out.path]
            for input in ins {
                if sameFile(out.path, input.path) {
                    throw conflict("\(out.option) \(out.path) is the input \(input.option) \(input.path)", out.path, input.path)
                }
                for w in written where sameFile(w, input.path) || isInside(input.resolved, resolve(w)) {
                    throw conflict("\(out.option) \(out.path) would overwrite the input \(input.option) \(input.path)", w, input.path)
                }
            }
            for other in outputs[(n + 1)...] {
                let otherWritten = other.entries.map { names in names.map { (other.path as NSString).appendingPathComponent($0) } } ?? [other.path]
                let clash = sameFile(out.path, other.path)
                    || written.contains { w in otherWritten.contains { sameFile(w, $0) || isInside(resolve(w), resolve($0)) || isInside(resolve($0), resolve(w)) } }
                if clash {
                    throw conflict("\(out.option) \(out.path) and \(other.option) \(other.path) name the same file", out.path, other.path)
                }
            }
        }
    }

    private static func conflict(_ message: String, _ a: String, _ b: String) -> AlignDataError {
        let ra = resolve(a)
        let note = ra != a || resolve(b) != b ? " (\(ra))" : ""
        return AlignDataError(.invalidArgument, path: "", message + note + "; choose another path")
    }

    /// True when `a` and `b` name the same file: the same device and inode when both exist,
    /// else the same resolved path.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        if stat(a, &sa) == 0, stat(b, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return resolve(a) == resolve(b)
    }

    /// True when resolved path `inner` lies strictly inside resolved directory path `outer`.
    static func isInside(_ inner: String, _ outer: String) -> Bool {
        let prefix = outer.hasSuffix("/") ? outer : outer + "/"
        return inner.hasPrefix(prefix)
    }

    /// `path` made absolute, with symbolic links, `.` and `..` resolved as far as it exists
    /// (the part that does not exist yet is normalised lexically).
    public static func resolve(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        if let real = realpath(absolute, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let parent = (absolute as NSString).deletingLastPathComponent
        let last = (absolute as NSString).lastPathComponent
        if parent == absolute || parent.isEmpty { return absolute }
        let base = resolve(parent)
        switch last {
        case ".", "": return base
        case "..": return (base as NSString).deletingLastPathComponent
        default: return (base as NSString).appendingPathComponent(last)
        }
    }
}
