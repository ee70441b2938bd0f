import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C) and SIGTERM into a request the training loop polls between
/// micro-batches, so an interrupted run writes a checkpoint and exits cleanly instead of dying
/// mid-write. The first signal is acknowledged at once (`acknowledge`); a second one ends the
/// process immediately (`abort`, by default `_exit(130)`): checkpoints are written to a
/// temporary folder and renamed, so the last complete checkpoint stays intact either way.
public final class StopSignal: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var requested: Int32?
    private let acknowledge: @Sendable (Int32) -> Void
    private let abort: @Sendable (Int32) -> Void

    public init(acknowledge: @escaping @Sendable (Int32) -> Void = { _ in },
                abort: @escaping @Sendable (Int32) -> Void = { _ in _exit(130) }) {
        self.acknowledge = acknowledge
        self.abort = abort
    }

    /// Starts watching SIGINT and SIGTERM (their default actions are disabled meanwhile).
    public func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: DispatchQueue.global())
            source.setEventHandler { [weak self] in self?.request(sig) }
            source.resume()
            sources.append(source)
        }
    }

    /// Restores the default actions.
    public func uninstall() {
        for s in sources { s.cancel() }
        sources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// Records a stop request; the first is acknowledged, a second one aborts.
    public func request(_ sig: Int32) {
        lock.lock()
        let first = requested == nil
        if first { requested = sig }
        lock.unlock()
        if first { acknowledge(sig) } else { abort(sig) }
    }

    /// The signal that asked the run to stop, if any.
    public var stopRequested: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return requested
    }

    /// "SIGINT", "SIGTERM" or the number.
    public static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(sig)"
        }
    }
}
