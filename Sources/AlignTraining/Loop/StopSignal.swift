import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C) and SIGTERM into a request the training loop polls between steps, so an
/// interrupted run writes a checkpoint and exits cleanly instead of dying mid-write. A second
/// signal while the checkpoint is being written is ignored until the run has stopped.
public final class StopSignal: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var requested: Int32?

    public init() {}

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

    public func request(_ sig: Int32) {
        lock.lock()
        if requested == nil { requested = sig }
        lock.unlock()
    }

    /// The signal that asked the run to stop, if any.
    public var stopRequested: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return requested
    }
}
