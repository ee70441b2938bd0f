import AlignData
import AlignTraining
import ArgumentParser
import Foundation

/// The one place that turns an error into what the user sees (one line) and the exit status.
enum ExitStatus {
    /// The input was refused: an option, the config, a data file, a path.
    static let refused: Int32 = 2
    /// The run started and failed: a file or standard output could not be written, the loss diverged,
    /// an anomaly (a KL or reward spike) stopped it.
    static let failed: Int32 = 1
    /// Interrupted by SIGINT or SIGTERM.
    static let interrupted: Int32 = 130

    /// A message for errors whose own text is not fit for the user (Foundation's
    /// `Error Domain=NSCocoaErrorDomain Code=…`), else nil (the error's description is used).
    static func describe(_ error: Error) -> String? {
        if error is AlignDataError || error is ValidationError || error is ConfigError { return nil }
        return FileErrors.describe(error)
    }

    static func code(for error: Error) -> Int32 {
        switch error {
        case is NonFiniteLossError, is TrainingAnomalyError, is StandardOutput.WriteError: return failed
        case let e as AlignDataError where e.kind == .io && isWriteMessage(e.message): return failed
        default:
            if FileErrors.direction(error) == .write { return failed }
            let ns = error as NSError
            if ns.domain == NSCocoaErrorDomain && ns.code == 3840 && FileErrors.reason(error).contains("not a finite number") {
                return failed  // NaN reaching JSON output; malformed JSON read is a refused input
            }
            return refused
        }
    }

    private static func isWriteMessage(_ message: String) -> Bool {
        ["write failed", "fsync failed", "close failed", "cannot rename", "cannot create temporary"].contains { message.hasPrefix($0) }
    }

    /// Outside a training run (which installs its own handler that checkpoints first), SIGINT and
    /// SIGTERM end the process at once with status 130.
    static func exitOnSignals() {
        signal(SIGINT) { _ in _exit(130) }
        signal(SIGTERM) { _ in _exit(130) }
    }
}

/// Standard output through stdio (`print` and `StandardOutput.write`), checked when the command
/// ends: a failed write (a full disk, `> /dev/full`, a closed pipe) exits 1 with a message
/// instead of 0 with the output lost.
enum StandardOutput {
    struct WriteError: Error, CustomStringConvertible {
        let reason: String
        var description: String { "cannot write to standard output: \(reason)" }
    }

    /// Writes `text` without a newline (streamed generation).
    static func write(_ text: String) {
        fputs(text, stdout)
        fflush(stdout)
    }

    /// Flushes standard output and exits 1 naming the reason if anything written to it failed.
    static func finish() {
        if let error = check() {
            printError("align: \(error)")
            Foundation.exit(ExitStatus.failed)
        }
    }

    static func check() -> WriteError? {
        errno = 0
        let flushed = fflush(stdout)
        let code = errno
        guard flushed != 0 || ferror(stdout) != 0 else { return nil }
        return WriteError(reason: code != 0 ? String(cString: strerror(code)) : "write error")
    }
}
