import CBLAS
import CKernels
import Dispatch
import Foundation

/// Thin wrappers over OpenBLAS. Every GEMM in the library goes through `sgemm`.

/// C (M,N) = alpha · op(A) · op(B) + beta · C, row-major.
/// A is (M,K) or, transposed, (K,M) with leading dimension lda; B is (K,N) or (N,K) with ldb.
///
/// The library runs OpenBLAS single-threaded and splits large products across the cores
/// itself (rows of C, or columns when C has few rows), one OpenBLAS call per core. With
/// OpenBLAS's own thread pool, its idle workers spin in `sched_yield` while the library's
/// element-wise kernels run, and on a two-core machine they took a sixth of the CPU time of
/// a transformer block; with one pool (ours) nothing spins.
@inline(__always)
func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = 0 } } }
        else if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
        return
    }
    BLASThreads.ensureLibraryMode()
    let workers = kernelWorkers
    if !transA && transB && m <= FewRowsGemm.maxRows && FewRowsGemm.enabled {
        // a few rows against an (N, K) weight (decoding a batch): read the weight once, unpacked
        FewRowsGemm.nt(m: m, n: n, k: k, alpha: alpha, x: a, ldx: lda, w: .float32(b), ldw: ldb, beta: beta,
                       y: c, ldy: ldc, workers: workers)
        return
    }
    if m == 1 && !transA {
        // one row (decoding one token): a matrix-vector product reads B once without the
        // packing sgemm does on every call, which dominated single-token decoding
        gemvRow(transB: transB, n: n, k: k, alpha: alpha, a: a, b: b, ldb: ldb, beta: beta, c: c, workers: workers)
        return
    }
    // below ~4 MFLOP a single call is cheaper than a thread hand-off
    if workers == 1 || m * n * k < 1 << 21 {
        sgemmSingle(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    let splitRows = m >= n || m >= 64 * workers
    let extent = splitRows ? m : n
    // chunks a multiple of 16 so that each call keeps whole register tiles
    let chunk = ((extent + workers - 1) / workers + 15) / 16 * 16
    let parts = (extent + chunk - 1) / chunk
    DispatchQueue.concurrentPerform(iterations: parts) { p in
        let lo = p * chunk, len = Swift.min(chunk, extent - lo)
        if splitRows {
            // rows lo..<lo+len of C come from rows of op(A)
            let aPart = transA ? a + lo : a + lo * lda
            sgemmSingle(transA, transB, len, n, k, alpha, aPart, lda, b, ldb, beta, c + lo * ldc, ldc)
        } else {
            // columns lo..<lo+len of C come from columns of op(B)
            let bPart = transB ? b + lo * ldb : b + lo
            sgemmSingle(transA, transB, m, len, k, alpha, a, lda, bPart, ldb, beta, c + lo, ldc)
        }
    }
}

/// c (1,N) = alpha · a (1,K) · op(B) + beta · c, as sgemv on B, split over output columns.
@inline(__always)
private func gemvRow(transB: Bool, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
                     b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, workers: Int) {
    // op(B) = B (K,N): c = Bᵀa → sgemv(Trans) over B's K rows, N columns
    // op(B) = Bᵀ with B (N,K): c = B·a → sgemv(NoTrans) over B's N rows
    func part(_ lo: Int, _ len: Int) {
        if transB {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(len), Int32(k), alpha, b + lo * ldb, Int32(ldb),
                        a, 1, beta, c + lo, 1)
        } else {
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(len), alpha, b + lo, Int32(ldb),
                        a, 1, beta, c + lo, 1)
        }
    }
    if workers == 1 || n * k < 1 << 18 {
        part(0, n)
        return
    }
    let chunk = ((n + workers - 1) / workers + 15) / 16 * 16
    let parts = (n + chunk - 1) / chunk
    DispatchQueue.concurrentPerform(iterations: parts) { p in
        let lo = p * chunk
        part(lo, Swift.min(chunk, n - lo))
    }
}

/// One OpenBLAS call on the calling thread (OpenBLAS runs single-threaded in library mode);
/// for kernels that parallelise over independent products themselves, such as attention heads.
@inline(__always)
func sgemmSingle(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                       _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                       _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Which thread pool runs GEMMs: the library's (OpenBLAS single-threaded, calls split across
/// cores) or OpenBLAS's own (for measuring OpenBLAS's peak as a reference).
enum BLASThreads {
    /// Whether OpenBLAS's pool is switched off. Set once on first use; `withOpenBLASThreads`
    /// switches temporarily.
    nonisolated(unsafe) static var libraryMode = false
    static let lock = NSLock()

    @inline(__always)
    static func ensureLibraryMode() {
        if libraryMode { return }
        lock.lock()
        if !libraryMode {
            openblas_set_num_threads(1)
            libraryMode = true
        }
        lock.unlock()
    }
}

/// What the BLAS underneath reports about itself.
public enum BLASInfo {
    /// OpenBLAS's kernel name for this CPU (e.g. "SkylakeX", "Haswell").
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var config: String { String(cString: openblas_get_config()) }
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS's own thread pool (one thread per core) instead of the
    /// library's split: `align bench` measures the OpenBLAS reference this way.
    public static func withOpenBLASThreads<T>(_ body: () throws -> T) rethrows -> T {
        BLASThreads.lock.lock()
        openblas_set_num_threads(Int32(kernelWorkers))
        BLASThreads.libraryMode = true   // keep sgemm() from switching back inside body
        defer {
            openblas_set_num_threads(1)
            BLASThreads.lock.unlock()
        }
        return try body()
    }

    /// One OpenBLAS call C = A·B (+ C if accumulate), no splitting by the library.
    public static func openBLASGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                    a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                    accumulate: Bool = false) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                    accumulate ? 1 : 0, c, Int32(n))
    }

    /// The library's GEMM (split across cores as the ops do): C = A·B (+ C if accumulate).
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                            accumulate: Bool = false) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
              a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n,
              beta: accumulate ? 1 : 0, c: c, ldc: n)
    }
}
