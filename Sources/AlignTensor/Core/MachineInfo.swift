import Foundation

/// What a benchmark figure depends on: the CPU, its vector extensions, the kernels chosen for it.
/// Every benchmark prints this first (`align bench --job machine`), so that a figure always names
/// the machine and the code path it was measured on.
public enum MachineInfo {
    /// The CPU's model name (`/proc/cpuinfo` "model name" on Linux; "unknown" where absent).
    public static var cpuModel: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// The vector extensions the few-row kernels can use on this CPU, by the kernels' names.
    public static var vectorKernels: [String] {
        FewRowsGemm.Kernel.allCases.filter { $0 != .portable && $0.isSupported }.map(\.rawValue)
    }

    /// name → value lines: CPU, cores, OpenBLAS's core, the decode products' path.
    public static var summary: [(String, String)] {
        let kernels = vectorKernels
        return [
            ("cpu", cpuModel),
            ("cores", "\(ProcessInfo.processInfo.activeProcessorCount)"),
            ("vector_kernels", kernels.isEmpty ? "none" : kernels.joined(separator: ", ")),
            ("openblas_core", BLASInfo.coreName),
            ("decode_path", FewRowsGemm.path.description),
        ]
    }
}
