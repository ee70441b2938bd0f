import AlignData
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An external reward program (a CI user's judge, a unit-test runner): started once, it reads
/// one JSON object per sample on stdin, `{"prompt": …, "response": …, "record": {…}}`, and
/// writes one number per line on stdout, in order. A crash, a timeout, a line that is not a
/// number or more lines than samples is an error naming the sample. Its stderr is drained as it
/// comes (a chatty judge never blocks on a full pipe) and its last lines go into the error
/// message. `program_timeout` bounds every wait, an exit included; a program that ignores
/// SIGTERM gets SIGKILL.
public final class ProgramReward {
    public let command: [String]
    public let timeout: Double
    private var process: Process?
    private var input: FileHandle?
    private var outputFD: Int32 = -1
    private var buffer: [UInt8] = []
    private var errorTail: StderrTail?
    /// How long the end of a batch waits for output beyond its last answer (the usual case of a
    /// program writing two lines per sample writes them together).
    static let settleSeconds = 0.05

    public init(command: [String], timeout: Double) {
        precondition(!command.isEmpty, "ProgramReward: empty command")
        self.command = command
        self.timeout = timeout
    }

    deinit { close() }

    /// What is wrong with `exe` as the program to start (nil when it can be run): a path (with a
    /// "/", relative to the working directory) must be an executable file, a bare name must be
    /// one on PATH. Checked with the config, before a run writes anything.
    public static func executableProblem(_ exe: String) -> String? {
        let fm = FileManager.default
        func problem(_ path: String) -> String? {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return "\(path) does not exist" }
            if isDirectory.boolValue { return "\(path) is a directory, not a program" }
            return fm.isExecutableFile(atPath: path) ? nil : "\(path) is not executable (chmod +x, or name its interpreter first: [\"python3\", \"\(path)\"])"
        }
        if exe.isEmpty { return "the program's name is empty" }
        if exe.contains("/") { return problem(exe) }
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        return dirs.contains(where: { problem("\($0)/\(exe)") == nil }) ? nil : "\(exe) is not a program on PATH"
    }

    /// Starts the program (once).
    func start() throws {
        guard process == nil else { return }
        let p = Process()
        let exe = command[0]
        if exe.contains("/") {
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = Array(command.dropFirst())
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = command
        }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = stderr
        do { try p.run() } catch {
            throw RewardError("reward.program: cannot start \(command.joined(separator: " ")): \(error.localizedDescription)")
        }
        signal(SIGPIPE, SIG_IGN)   // a program that exits early must not kill the trainer
        process = p
        input = stdin.fileHandleForWriting
        outputFD = stdout.fileHandleForReading.fileDescriptor
        errorTail = StderrTail(stderr.fileHandleForReading)
    }

    /// Scores samples in order; `label(i)` names sample i in errors.
    public func score(_ samples: [RewardSample], label: (Int) -> String) throws -> [Double] {
        try start()
        var out: [Double] = []
        for (i, s) in samples.enumerated() {
            let request: [String: Any] = ["prompt": s.record.userText, "response": s.response,
                                          "record": (try? JSONSerialization.jsonObject(with: Data(s.record.json.utf8))) ?? [:]]
            var line = try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])
            line.append(0x0A)
            guard write(line) else { throw failure("exited before reading \(label(i))") }
            guard let reply = try readLine(label: label(i)) else { throw failure("exited without answering \(label(i))") }
            let text = reply.trimmingCharacters(in: .whitespaces)
            guard let v = Double(text), v.isFinite else {
                throw RewardError("reward.program \(command[0]) answered \(quoted(text)) for \(label(i)); expected one number per line")
            }
            out.append(v)
            // more output already (a moment's wait: lines written together arrive together), or
            // after the batch's last answer: more lines than samples
            let last = i == samples.count - 1
            if try extraOutput(wait: last ? Self.settleSeconds : 0.002) {
                throw failure("wrote more lines than the \(samples.count) samples it was given: more after its answer for \(label(i)) (one number per line, one line per sample)", stop: true)
            }
        }
        return out
    }

    /// Whether the program has written anything beyond the answers read so far, waiting up to
    /// `wait` seconds for it (what it wrote is kept for the error message, the end of its output
    /// is not output).
    private func extraOutput(wait: Double) throws -> Bool {
        if !buffer.isEmpty { return true }
        var pfd = pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)
        let r = poll(&pfd, 1, Int32(wait * 1000))
        guard r > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = Glibc.read(outputFD, &chunk, chunk.count)
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    private func write(_ data: Data) -> Bool {
        guard let fd = input?.fileDescriptor else { return false }
        return data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    /// The next line of the program's output, nil at end of file; throws on timeout.
    private func readLine(label: String) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw failure("gave no answer for \(label) within \(timeout) s (program_timeout); it was stopped", stop: true)
            }
            var pfd = pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, Int32(min(remaining * 1000, 1000)))
            if r < 0 { if errno == EINTR { continue }; throw RewardError("reward.program: poll failed (errno \(errno))") }
            if r == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = Glibc.read(outputFD, &chunk, chunk.count)
            if n <= 0 { return buffer.isEmpty ? nil : { defer { buffer = [] }; return String(decoding: buffer, as: UTF8.self) }() }
            buffer += chunk[0..<n]
        }
    }

    /// The error for `what`, with the program's exit status and the last line of its stderr.
    /// With `stop` the program is stopped first; else it is given `program_timeout` to exit (it
    /// has closed its output or its input) and stopped after that.
    private func failure(_ what: String, stop: Bool = false) -> RewardError {
        var detail = ""
        if let p = process {
            if stop || !Self.waitForExit(p, seconds: timeout) { terminate(p) }
            if let status = Self.exitStatus(p) { detail = " (exit status \(status))" }
            if let last = errorTail?.lastLine() { detail += ": \(last)" }
        }
        close()
        return RewardError("reward.program \(command[0]) \(what)\(detail)")
    }

    /// Waits up to `seconds` for `p` to exit; whether it did.
    private static func waitForExit(_ p: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while exitStatus(p) == nil && Date() < deadline { usleep(10_000) }
        return exitStatus(p) != nil
    }

    /// `p`'s exit status (a signal's number when a signal ended it), nil while it runs. Foundation
    /// reaps a child late when a grandchild still holds one of its pipes, so an exited child
    /// that is not reaped yet (a zombie) is looked at without reaping it.
    private static func exitStatus(_ p: Process) -> Int32? {
        if !p.isRunning { return p.terminationStatus }
        var info = siginfo_t()
        guard waitid(P_PID, id_t(p.processIdentifier), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
              info._sifields._sigchld.si_pid == p.processIdentifier else { return nil }
        return info._sifields._sigchld.si_status
    }

    /// SIGTERM, then SIGKILL when the program is still running a second later.
    private func terminate(_ p: Process) {
        guard Self.exitStatus(p) == nil else { return }
        p.terminate()
        if !Self.waitForExit(p, seconds: 1) { kill(p.processIdentifier, SIGKILL); _ = Self.waitForExit(p, seconds: 1) }
    }

    /// Stops the program.
    public func close() {
        try? input?.close()
        input = nil
        if let p = process { terminate(p) }
        process = nil
    }

    private func quoted(_ s: String) -> String { "\"" + (s.count > 60 ? String(s.prefix(60)) + "…" : s) + "\"" }
}

/// A child's stderr read on a thread of its own as it comes, so the child never blocks on a full
/// pipe; the last 8 KiB are kept for error messages.
final class StderrTail: @unchecked Sendable {
    private let lock = NSLock()
    private var tail: [UInt8] = []
    private static let keep = 8192

    init(_ handle: FileHandle) {
        let fd = handle.fileDescriptor
        Thread.detachNewThread { [self] in
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = Glibc.read(fd, &chunk, chunk.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                lock.lock()
                tail += chunk[0..<n]
                if tail.count > Self.keep { tail.removeFirst(tail.count - Self.keep) }
                lock.unlock()
            }
            _ = handle   // the handle (and its descriptor) lives as long as the reader
        }
    }

    /// The last non-empty line written so far (nil if none).
    func lastLine() -> String? {
        usleep(20_000)   // what the program wrote just before it failed
        lock.lock(); defer { lock.unlock() }
        return String(decoding: tail, as: UTF8.self).split(separator: "\n").last.map(String.init)
    }
}

/// A reward that could not be computed: the message names the source and the sample.
public struct RewardError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
