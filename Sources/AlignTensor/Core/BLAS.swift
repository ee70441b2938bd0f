import CBLAS

/// Thin wrappers over OpenBLAS. Every GEMM in the library goes through `sgemm`.

/// C (M,N) = alpha · op(A) · op(B) + beta · C, row-major.
/// A is (M,K) or, transposed, (K,M) with leading dimension lda; B is (K,N) or (N,K) with ldb.
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
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// What the BLAS underneath reports about itself.
public enum BLASInfo {
    /// OpenBLAS's kernel name for this CPU (e.g. "SkylakeX", "Haswell").
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var config: String { String(cString: openblas_get_config()) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

    /// Public entry to the library's GEMM, for benchmarks and tests: C = A·B (+ C if accumulate).
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                            accumulate: Bool = false) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
              a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n,
              beta: accumulate ? 1 : 0, c: c, ldc: n)
    }
}
