import Foundation

/// What this machine can hold, and sizes written for people, for the checks that refuse a
/// model, adapter or buffer before allocating it (`ParameterBudget` in AlignNN) and for the
/// last-resort message when an allocation fails anyway.
public enum MemoryBudget {
    /// Physical memory in bytes.
    public static let physicalBytes: Int = Int(clamping: ProcessInfo.processInfo.physicalMemory)

    /// `bytes` in GiB with one decimal ("0.1 GiB" at least for a non-zero size).
    public static func gib(_ bytes: Int) -> String {
        let g = Double(bytes) / Double(1 << 30)
        if g >= 10_000 { return g < 1e15 ? String(format: "%.0f GiB", g) : String(format: "%.3g GiB", g) }
        return String(format: "%.1f GiB", bytes > 0 ? Swift.max(g, 0.1) : 0)
    }

    /// Bytes of `count` Float32 values, nil when that overflows.
    public static func floatBytes(_ count: Int) -> Int? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        return overflow || count < 0 ? nil : bytes
    }

    /// Ends the process after a failed allocation with one line on stderr naming the size and
    /// what it was for, and exit status 2 (as the CLI's user errors), instead of a trap and a
    /// backtrace. Sizes are checked before models, adapters and heads are built
    /// (`ParameterBudget`), so reaching this means the machine ran out of memory for
    /// activations or buffers it could otherwise hold.
    public static func allocationFailed(bytes: Int, what: String) -> Never {
        let message = "align: cannot allocate \(bytes) bytes (\(gib(bytes))) for \(what); this machine has \(gib(physicalBytes)) of memory\n"
        FileHandle.standardError.write(Data(message.utf8))
        exit(2)
    }
}
