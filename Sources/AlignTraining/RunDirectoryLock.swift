import AlignData
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive hold a training run keeps on its `output_dir`, so two runs never write the
/// same metrics, checkpoints or `final/`.
///
/// The lock is an `flock(2)` on `output_dir/.align.lock`, which holds the holder's pid, host and
/// start time. The kernel releases it when the holding process ends however it ends, so the lock
/// of a run that was killed is simply taken over by the next run. Taking the lock also removes
/// the half-written checkpoint folders (`checkpoints/.step-N.tmp-PID`) a killed run leaves.
public final class RunDirectoryLock {
    public static let fileName = ".align.lock"

    /// Who holds (or held) a lock, as written in the lock file.
    public struct Holder: Equatable, Sendable, CustomStringConvertible {
        public var pid: Int32
        public var host: String
        public var started: String

        public var description: String { "pid \(pid) on \(host), started \(started)" }

        init(pid: Int32, host: String, started: String) {
            self.pid = pid
            self.host = host
            self.started = started
        }

        /// Parses `pid=…`, `host=…`, `started=…` lines; nil for anything else.
        init?(text: String) {
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
            guard let p = fields["pid"].flatMap(Int32.init) else { return nil }
            pid = p
            host = fields["host"] ?? "?"
            started = fields["started"] ?? "?"
        }

        var text: String { "pid=\(pid)\nhost=\(host)\nstarted=\(started)\n" }
    }

    /// Another run holds the lock.
    public struct Busy: Error, CustomStringConvertible, LocalizedError {
        public let outputDir: String
        public let holder: Holder?
        public var description: String {
            "output_dir \(outputDir) is in use by another run (\(holder?.description ?? "holder unknown")); "
                + "wait for it to finish, stop it, or choose another output_dir"
        }
        public var errorDescription: String? { description }
    }

    public let directory: URL
    public let holder: Holder
    /// The holder of the lock before this run took it over (a run that ended without releasing
    /// it), if the lock file named one.
    public let previousHolder: Holder?
    /// Half-written checkpoint folders removed when the lock was taken.
    public let removedTemporaries: [String]
    private var fd: Int32
    private let createdDirectory: Bool

    /// Takes the lock on `outputDir` (creating the directory), or throws `Busy` naming the
    /// holder. Never blocks.
    public init(outputDir: URL) throws {
        directory = outputDir
        var isDir: ObjCBool = false
        let existed = FileManager.default.fileExists(atPath: outputDir.path, isDirectory: &isDir)
        if existed && !isDir.boolValue {
            throw AlignDataError(.invalidArgument, path: outputDir.path, "output_dir is a file, not a directory")
        }
        do {
            try FileManager.default.createDirectory(at: outputDir, withIntermediateDirectories: true)
        } catch {
            throw AlignDataError(.io, path: outputDir.path, "cannot create output_dir: \(FileErrors.reason(error))")
        }
        createdDirectory = !existed
        let url = outputDir.appendingPathComponent(Self.fileName)
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw AlignDataError(.io, path: url.path, "cannot open the run lock: \(reason)")
        }
        let previous = Holder(text: Self.read(fd))
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Busy(outputDir: outputDir.path, holder: previous)
        }
        var hostBuffer = [CChar](repeating: 0, count: 256)
        gethostname(&hostBuffer, hostBuffer.count - 1)
        let formatter = ISO8601DateFormatter()
        holder = Holder(pid: getpid(), host: String(cString: hostBuffer), started: formatter.string(from: Date()))
        previousHolder = previous
        _ = ftruncate(fd, 0)
        let bytes = Array(holder.text.utf8)
        _ = pwrite(fd, bytes, bytes.count, 0)
        removedTemporaries = Self.removeTemporaries(outputDir)
        // found now rather than at the first checkpoint, after training started
        let checkpoints = Checkpoint.root(outputDir).path
        if FileManager.default.fileExists(atPath: checkpoints), access(checkpoints, W_OK) != 0 {
            throw AlignDataError(.invalidArgument, path: checkpoints, "the checkpoints folder is not writable")
        }
    }

    deinit { release() }

    /// Gives the lock up (also done when the object goes away or the process ends). A directory
    /// the lock created that holds nothing else is removed again, so a run refused before it
    /// wrote anything leaves nothing behind.
    public func release() {
        guard fd >= 0 else { return }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if createdDirectory && contents == [Self.fileName] {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(Self.fileName))
            try? FileManager.default.removeItem(at: directory)
        } else {
            _ = ftruncate(fd, 0)
        }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// A message for the run's log about what taking the lock found, or nil.
    public var note: String? {
        var parts: [String] = []
        if let p = previousHolder { parts.append("took over the lock of a run that ended without releasing it (\(p))") }
        if !removedTemporaries.isEmpty {
            parts.append("removed \(removedTemporaries.count) half-written checkpoint folder\(removedTemporaries.count == 1 ? "" : "s") (\(removedTemporaries.joined(separator: ", ")))")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    private static func read(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = pread(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    /// Removes `checkpoints/.step-N.tmp-PID` folders (checkpoints being written when a run died).
    static func removeTemporaries(_ outputDir: URL) -> [String] {
        let root = Checkpoint.root(outputDir)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        var removed: [String] = []
        for name in names.sorted() where name.hasPrefix(".step-") && name.contains(".tmp-") {
            if (try? FileManager.default.removeItem(at: root.appendingPathComponent(name))) != nil { removed.append(name) }
        }
        return removed
    }
}
