import AlignData
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An external reward program (a CI user's judge, a unit-test runner): started once, it reads
/// one JSON object per sample on stdin, `{"prompt": …, "response": …, "record": {…}}`, and
/// writes one number per line on stdout, in order. A crash, a timeout or a line that is not a
/// number is an error naming the sample.
public final class ProgramReward {
    public let command: [String]
    public let timeout: Double
    private var process: Process?
    private var input: FileHandle?
    private var outputFD: Int32 = -1
    private var buffer: [UInt8] = []
    private var errorPipe: Pipe?

    public init(command: [String], timeout: Double) {
        precondition(!command.isEmpty, "ProgramReward: empty command")
        self.command = command
        self.timeout = timeout
    }

    deinit { close() }

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
        errorPipe = stderr
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
        }
        return out
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
                close()
                throw RewardError("reward.program \(command[0]) gave no answer for \(label) within \(timeout) s (program_timeout); it was stopped")
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

    private func failure(_ what: String) -> RewardError {
        var detail = ""
        if let p = process {
            p.waitUntilExit()
            detail = " (exit status \(p.terminationStatus))"
            if let err = errorPipe?.fileHandleForReading.availableDataIfAny(), let text = String(data: err, encoding: .utf8),
               let last = text.split(separator: "\n").last {
                detail += ": \(last)"
            }
        }
        process = nil
        return RewardError("reward.program \(command[0]) \(what)\(detail)")
    }

    /// Stops the program.
    public func close() {
        try? input?.close()
        input = nil
        if let p = process, p.isRunning { p.terminate() }
        process = nil
    }

    private func quoted(_ s: String) -> String { "\"" + (s.count > 60 ? String(s.prefix(60)) + "…" : s) + "\"" }
}

extension FileHandle {
    /// What can be read now without blocking (nil if nothing).
    func availableDataIfAny() -> Data? {
        var pfd = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, 0) > 0 else { return nil }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = Glibc.read(fileDescriptor, &chunk, chunk.count)
        return n > 0 ? Data(chunk[0..<n]) : nil
    }
}

/// A reward that could not be computed: the message names the source and the sample.
public struct RewardError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
