import Foundation

/// The communicator of this process: one rank unless the process was started by an MPI
/// launcher (`mpirun`, `srun` with PMI/PMIx), which sets the variables `launched` reads. The
/// command line sets it up once before any run (`startFromEnvironment()`), and finalises it
/// before exiting; a process never started by a launcher never touches MPI.
public enum ProcessGroup {
    nonisolated(unsafe) private static var _current: Communicator = SingleProcessCommunicator()

    /// The communicator runs use by default.
    public static var current: Communicator { _current }

    /// The environment variables through which launchers announce the world size.
    public static let sizeVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"]

    /// Whether `environment` says the process was started by an MPI launcher.
    public static func launched(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        sizeVariables.contains { environment[$0] != nil } || environment["PMIX_RANK"] != nil
    }

    /// Initialises MPI when the process was started by a launcher; otherwise keeps the single
    /// process communicator. Returns the communicator now current.
    @discardableResult
    public static func startFromEnvironment() -> Communicator {
        if launched(), !(_current is MPICommunicator) { _current = MPICommunicator() }
        return _current
    }

    /// Finalises MPI if it was started (every rank must call it before a normal exit).
    public static func finish() {
        (_current as? MPICommunicator)?.finalize()
    }
}
