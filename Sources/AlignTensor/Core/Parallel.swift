import Dispatch
import Foundation

/// Worker count for the hand-written kernels (and GEMM splits): the machine's active cores,
/// shared out among the processes an MPI launcher started on this host (`mpirun -np 2` on two
/// cores: one worker each), so data-parallel ranks do not oversubscribe the cores.
let kernelWorkers = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / localProcessCount())

/// Processes of one launch on this host, from the launcher's environment (Open MPI, MPICH);
/// 1 outside a launcher.
func localProcessCount(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
    for key in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"] {
        if let v = environment[key], let n = Int(v), n > 0 { return n }
    }
    return 1
}

/// Runs `body` over `0..<n` split into contiguous chunks across the available cores.
///
/// `costPerItem` is a rough count of float operations per item; below about 32k operations in
/// total the work runs on the calling thread, where a thread hand-off would cost more than it saves.
@inline(__always)
func parallelChunks(_ n: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
    if n <= 0 { return }
    let total = n * Swift.max(costPerItem, 1)
    let workers = Swift.min(kernelWorkers, n)
    if workers == 1 || total < 32_768 {
        body(0..<n)
        return
    }
    // a few chunks per worker balance uneven rows without much overhead
    let chunks = Swift.min(n, workers * 4)
    let size = (n + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = c * size
        let hi = Swift.min(n, lo + size)
        if lo < hi { body(lo..<hi) }
    }
}

/// Per-chunk partial results, one slot per chunk, for reductions such as parameter gradients
/// (layer-norm weight, bias) that many rows add into.
func parallelPartials(_ n: Int, width: Int, costPerItem: Int = 1,
                      _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) -> Storage {
    let out = Storage(count: width, repeating: 0)
    if n <= 0 { return out }
    let total = n * Swift.max(costPerItem, 1)
    let workers = Swift.min(kernelWorkers, n)
    if workers == 1 || total < 32_768 {
        body(0..<n, out.pointer)
        return out
    }
    let chunks = workers
    let size = (n + chunks - 1) / chunks
    let partial = Storage(count: chunks * width, repeating: 0)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = c * size
        let hi = Swift.min(n, lo + size)
        if lo < hi { body(lo..<hi, partial.pointer + c * width) }
    }
    for c in 0..<chunks { addInPlace(out.pointer, partial.pointer + c * width, count: width) }
    return out
}

// MARK: - small flat-buffer helpers

/// dst += src
@inline(__always)
func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dst[i] += src[i] }
}

/// dst = a + b
@inline(__always)
func addInto(_ dst: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dst[i] = a[i] + b[i] }
}

/// dst *= factor
@inline(__always)
func scaleInPlace(_ dst: UnsafeMutablePointer<Float>, _ factor: Float, count: Int) {
    for i in 0..<count { dst[i] *= factor }
}

/// Σ x², accumulated in Double.
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
    var total = 0.0
    var i = 0
    while i < count {
        let end = Swift.min(count, i + 4096)
        var partial: Float = 0
        while i < end { partial += x[i] * x[i]; i += 1 }
        total += Double(partial)
    }
    return total
}
