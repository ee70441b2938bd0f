import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc settings for a process that allocates and frees the same hundreds of MiB of
/// activations and gradients every training step.
///
/// With glibc's defaults a free block over the (dynamic) mmap threshold goes back to the kernel
/// at once, and the top of the heap is trimmed as soon as 128 KiB are free there, so each step
/// faults those pages in again and the kernel zeroes them: a profile of `align ppo` (SmolLM2-135M
/// policy and critic) spent about a quarter of its time in page faults and `clear_page_erms`.
/// `apply()` sets
///   - `M_MMAP_THRESHOLD` 32 MiB (the largest glibc accepts): smaller blocks come from the heap
///     and are recycled there; larger ones are recycled by `BufferPool`;
///   - `M_TRIM_THRESHOLD` `Int32.max`: the heap's free top is (in practice) never given back;
///   - `M_TOP_PAD` 256 MiB: the heap grows in large steps (fewer `brk` calls).
/// Freed memory thus stays with the process: peak RSS is what a step needs, not less.
///
/// A setting the environment already makes (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`,
/// `MALLOC_TOP_PAD_`, or the matching `glibc.malloc.*` entry of `GLIBC_TUNABLES`) is left as
/// the user chose it; `ALIGN_MALLOC_TUNING=0` leaves all three at glibc's defaults. Only the
/// first call does anything (the `align` command calls it at start-up, `BufferPool` when the
/// first tensor buffer is allocated); elsewhere than on glibc it does nothing.
public enum MallocTuning {
    /// The settings applied, as (mallopt parameter name, value); empty when none was.
    public static var applied: [(name: String, value: Int32)] { once }

    /// Applies the settings, once per process; later calls return at once.
    public static func apply() { _ = once }

    private static let once: [(name: String, value: Int32)] = {
        let env = ProcessInfo.processInfo.environment
        if env["ALIGN_MALLOC_TUNING"] == "0" { return [] }
        #if canImport(Glibc)
        // glibc's mallopt(3); its declaration (malloc.h) is not part of the Glibc module
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil /* RTLD_DEFAULT */, "mallopt") else { return [] }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let tunables = env["GLIBC_TUNABLES"] ?? ""
        // (name, mallopt parameter from malloc.h, value, environment variable, tunable)
        let settings: [(String, Int32, Int32, String, String)] = [
            ("M_MMAP_THRESHOLD", -3, 32 << 20, "MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold"),
            ("M_TRIM_THRESHOLD", -1, Int32.max, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
            ("M_TOP_PAD", -2, 256 << 20, "MALLOC_TOP_PAD_", "glibc.malloc.top_pad"),
        ]
        var done: [(name: String, value: Int32)] = []
        for (name, parameter, value, variable, tunable) in settings
        where env[variable] == nil && !tunables.contains(tunable + "=") {
            if mallopt(parameter, value) == 1 { done.append((name, value)) }
        }
        return done
        #else
        return []
        #endif
    }()
}
