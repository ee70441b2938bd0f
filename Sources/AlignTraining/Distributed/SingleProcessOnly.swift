import AlignNN

/// Trainers that do not run data-parallel yet refuse a launch of several ranks before anything
/// is read or written, rather than train every rank on its own.
public enum SingleProcessOnly {
    /// Throws (exit 2) when `communicator` has more than one rank.
    public static func require(_ command: String, reason: String, communicator: Communicator = ProcessGroup.current) throws {
        guard communicator.size > 1 else { return }
        throw ModelConfigError("\(command) does not run data-parallel (\(reason)); start it without mpirun (this launch has \(communicator.size) ranks)")
    }
}
