import Foundation

/// Foundation's file and JSON errors (`NSCocoaErrorDomain` codes, POSIX errors) as one line that
/// names the path and what is wrong, and a UTF-8 text reader that names the line of a bad byte.
/// The CLI maps every error it reports through `describe`, so no raw `Error Domain=… Code=…`
/// reaches the user.
public enum FileErrors {
    /// Whether an error is about reading (the input is refused) or writing (the run failed).
    public enum Direction: Sendable { case read, write, other }

    /// One line for a Foundation/POSIX error: `"<path>: <what is wrong>"`; nil for other errors.
    public static func describe(_ error: Error) -> String? {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return nil }
        let reason = reason(error)
        guard let path = path(of: ns) else { return reason }
        return "\(path): \(reason)"
    }

    /// Reading or writing, from the error code (`.other` for JSON and unknown codes).
    public static func direction(_ error: Error) -> Direction {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain else { return .other }
        switch ns.code {
        case 256...511: return .read
        case 512...767: return .write
        default: return .other
        }
    }

    /// What went wrong, without the path (for an `AlignDataError` message or after a path).
    public static func reason(_ error: Error) -> String {
        if let e = error as? AlignDataError { return e.message }
        let ns = error as NSError
        let path = path(of: ns)
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        guard ns.domain == NSCocoaErrorDomain else { return ns.localizedDescription }
        let posix = underlyingPOSIX(ns)
        switch ns.code {
        case 4, 260: return "no such file or directory"
        case 256:
            if let path, isDirectory(path) { return "is a directory, not a file" }
            return posix.map { "cannot read: \(String(cString: strerror($0)))" } ?? "cannot read"
        case 257: return "permission denied (cannot read)"
        case 259, 261, 264: return "not valid UTF-8 text"
        case 516: return "already exists"
        case 513: return "permission denied (cannot write)"
        case 640: return "no space left on the device"
        case 642: return "the volume is read-only"
        case 512...767:
            if let path, isDirectory(path) { return "is a directory, cannot be written as a file" }
            return posix.map { "cannot write: \(String(cString: strerror($0)))" } ?? "cannot write"
        case 3840:
            // JSONSerialization: writing NaN or infinity, or reading malformed JSON
            let text = "\(ns.userInfo)" + ns.localizedDescription
            if text.contains("NaN") || text.lowercased().contains("invalid number") || text.lowercased().contains("infinit") {
                return "a value is not a finite number (NaN or infinity) and cannot be written as JSON; the model's weights or outputs have diverged"
            }
            return "invalid JSON"
        default:
            return ns.localizedDescription
        }
    }

    private static func path(of ns: NSError) -> String? {
        if let p = ns.userInfo[NSFilePathErrorKey] as? String { return p }
        if let u = ns.userInfo[NSURLErrorKey] as? URL { return u.path }
        return nil
    }

    private static func underlyingPOSIX(_ ns: NSError) -> Int32? {
        guard let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain else { return nil }
        return Int32(u.code)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The contents of a UTF-8 text file. Throws an `AlignDataError` naming `path` (as given) and,
    /// for invalid UTF-8, the line and byte column of the first bad byte; a directory, a missing
    /// or unreadable file are named as such.
    public static func readText(_ path: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AlignDataError(.io, path: path, reason(error))
        }
        if let text = String(data: data, encoding: .utf8) { return text }
        let (line, column) = firstInvalidUTF8(data)
        throw AlignDataError(.malformed, path: "\(path):\(line)", "not valid UTF-8 text (byte \(column) of the line)")
    }

    /// 1-based line and byte column of the first byte that does not start or continue a valid
    /// UTF-8 sequence.
    static func firstInvalidUTF8(_ data: Data) -> (line: Int, column: Int) {
        let bytes = [UInt8](data)
        var line = 1, lineStart = 0, i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0A { line += 1; lineStart = i + 1; i += 1; continue }
            let length: Int
            switch b {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return (line, i - lineStart + 1)
            }
            if length > 1 {
                guard i + length <= bytes.count else { return (line, i - lineStart + 1) }
                let sequence = Array(bytes[i..<i + length])
                if String(bytes: sequence, encoding: .utf8) == nil { return (line, i - lineStart + 1) }
            }
            i += length
        }
        return (line, max(1, i - lineStart))
    }
}
