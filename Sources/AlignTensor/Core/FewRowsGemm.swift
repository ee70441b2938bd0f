import CKernels
import Dispatch
import Foundation

/// Products of a few rows (at most `maxRows`) with a weight stored (N, K), y = x·Wᵀ: the shape
/// of every linear layer and of the LM head while decoding a batch.
///
/// OpenBLAS's sgemm packs the whole weight matrix into a scratch buffer on every call; at 8
/// rows that copy took two thirds of a decode step (a profile of batch-8 sampling on
/// SmolLM2-135M: `sgemm_incopy` 49%, the kernel itself 23%). The C kernel (`CKernels`) streams
/// each weight row once straight from the parameter and keeps all rows' accumulators in
/// registers, with an AVX-512, an AVX2+FMA or a NEON implementation chosen at run time.
///
/// Each output is a dot product computed identically whatever the number of rows, the column
/// split or the implementation, so a row's logits do not depend on the batch it is decoded in
/// nor on the CPU's vector width. The weights may be float32 or a bfloat16 copy (half the bytes
/// per decoded token; see `BFloat16WeightCopies`). On two workers the columns are split between
/// the caller and CKernels' helper thread (`few_rows_pair.c`); on more, across `concurrentPerform`.
///
/// Which path the products take (`path`) is chosen once per process: the best vector kernel of
/// this CPU, or OpenBLAS where there is none and the portable C kernel would call the C
/// library's `fmaf` for every multiply-add (a baseline x86-64 build on a CPU without AVX2: many
/// times slower than OpenBLAS). `ALIGN_FEW_ROWS_KERNEL` forces one (`avx512`, `avx2`, `neon`,
/// `portable`, `openblas`; `auto` is the default), so that one machine can measure every path it
/// can run; `ALIGN_FEW_ROWS_GEMM=0` is the older spelling of `openblas`.
public enum FewRowsGemm {
    public static let maxRows = Int(ALIGN_FEW_ROWS_MAX)

    /// The implementations of the C kernel.
    public enum Kernel: String, CaseIterable, Sendable {
        case avx512, avx2, neon, portable

        var code: Int32 {
            switch self {
            case .portable: return ALIGN_KERNEL_PORTABLE
            case .avx2: return ALIGN_KERNEL_AVX2
            case .avx512: return ALIGN_KERNEL_AVX512
            case .neon: return ALIGN_KERNEL_NEON
            }
        }

        /// Whether this build and this CPU can run it.
        public var isSupported: Bool { align_few_rows_kernel_supported(code) != 0 }
    }

    /// Where decode-shaped float32 products go: one of the kernels, or OpenBLAS.
    public enum Path: Equatable, Sendable, CustomStringConvertible {
        case kernel(Kernel)
        case openBLAS

        public var description: String {
            switch self {
            case .kernel(let k): return "few-row kernel (\(k.rawValue))"
            case .openBLAS: return "OpenBLAS sgemm/sgemv"
            }
        }
    }

    /// The kernel the CPU would get by default: its widest vector kernel, else portable.
    public static var bestKernel: Kernel {
        Kernel.allCases.first { $0 != .portable && $0.isSupported } ?? .portable
    }

    /// The path chosen for this process (from `ALIGN_FEW_ROWS_KERNEL`, read once).
    public static var path: Path { choice.path }

    /// Why `ALIGN_FEW_ROWS_KERNEL` could not be followed, if it could not (the CLI refuses to
    /// run then, exit 2; a library user gets the default path).
    public static var environmentProblem: String? { choice.problem }

    private static let choice = choosePath(ProcessInfo.processInfo.environment)

    /// Whether `sgemm` routes few-row x·Wᵀ products here.
    public static var enabled: Bool { path != .openBLAS }

    /// Whether bfloat16 weight copies can be read (they need the kernel: OpenBLAS has no
    /// bfloat16 product); on the OpenBLAS path decoding keeps the float32 weights.
    public static var readsBFloat16: Bool { enabled }

    /// The path `environment` asks for (a named kernel is also set in the C library).
    static func choosePath(_ environment: [String: String]) -> (path: Path, problem: String?) {
        let automatic: Path = bestKernel != .portable || align_few_rows_portable_is_fast() != 0
            ? .kernel(bestKernel) : .openBLAS
        let requested = environment["ALIGN_FEW_ROWS_KERNEL"]?.lowercased()
        if requested == nil || requested == "" || requested == "auto" {
            if environment["ALIGN_FEW_ROWS_GEMM"] == "0" { return (.openBLAS, nil) }
            return (automatic, nil)
        }
        if requested == "openblas" { return (.openBLAS, nil) }
        let names = (["auto"] + Kernel.allCases.map(\.rawValue) + ["openblas"]).joined(separator: ", ")
        guard let kernel = Kernel(rawValue: requested!) else {
            return (automatic, "ALIGN_FEW_ROWS_KERNEL='\(environment["ALIGN_FEW_ROWS_KERNEL"]!)' is not one of \(names)")
        }
        guard kernel.isSupported else {
            return (automatic, "ALIGN_FEW_ROWS_KERNEL=\(kernel.rawValue): this CPU or build cannot run it "
                        + "(it can run: \(Kernel.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", ")), openblas)")
        }
        align_few_rows_set_kernel(kernel.code)
        return (.kernel(kernel), nil)
    }

    /// Output columns `columns` of y = alpha·x·wᵀ + beta·y on the calling thread (pointers at
    /// column 0): the same bits as those columns of any other call.
    static func columns(_ columns: Range<Int>, m: Int, k: Int, alpha: Float, x: UnsafePointer<Float>, ldx: Int,
                        w: Weights, ldw: Int, beta: Float, y: UnsafeMutablePointer<Float>, ldy: Int) {
        switch w {
        case .float32(let p):
            align_few_rows_nt_f32(x, ldx, p, ldw, y, ldy, Int32(m), columns.lowerBound, columns.upperBound, k, alpha, beta)
        case .bfloat16(let p):
            align_few_rows_nt_bf16(x, ldx, p, ldw, y, ldy, Int32(m), columns.lowerBound, columns.upperBound, k, alpha, beta)
        }
    }

    /// The kernel that runs the products sent here (bfloat16 ones always, float32 ones when
    /// `enabled`).
    public static var kernel: Kernel {
        Kernel.allCases.first { $0.code == align_few_rows_kernel() } ?? .portable
    }

    /// Whether the AVX-512 implementation runs.
    public static var usesAVX512: Bool { kernel == .avx512 }

    /// Tests and benchmarks: run `kernel` from now on (nil: the process's choice again).
    /// Returns false, changing nothing, when this CPU cannot run it.
    @discardableResult
    public static func setKernel(_ kernel: Kernel?) -> Bool {
        guard let kernel else {
            if case .kernel(let k) = path { align_few_rows_set_kernel(k.code) } else { align_few_rows_set_kernel(-1) }
            return true
        }
        return align_few_rows_set_kernel(kernel.code) != 0
    }

    /// The weight operand: float32, or bfloat16 bit patterns (the upper halves of float32s).
    public enum Weights {
        case float32(UnsafePointer<Float>)
        case bfloat16(UnsafePointer<UInt16>)
    }

    /// y (m, n) = alpha · x (m, k) · w (n, k)ᵀ + beta · y, split over output columns across
    /// `workers` threads when the product is large enough to pay for the hand-off.
    public static func nt(m: Int, n: Int, k: Int, alpha: Float = 1, x: UnsafePointer<Float>, ldx: Int,
                          w: Weights, ldw: Int, beta: Float = 0, y: UnsafeMutablePointer<Float>, ldy: Int) {
        nt(m: m, n: n, k: k, alpha: alpha, x: x, ldx: ldx, w: w, ldw: ldw, beta: beta, y: y, ldy: ldy,
           workers: kernelWorkers)
    }

    static func nt(m: Int, n: Int, k: Int, alpha: Float, x: UnsafePointer<Float>, ldx: Int,
                   w: Weights, ldw: Int, beta: Float, y: UnsafeMutablePointer<Float>, ldy: Int, workers: Int) {
        precondition(m >= 1 && m <= maxRows, "FewRowsGemm: \(m) rows (1...\(maxRows))")
        if n == 0 { return }
        // columns lo..<hi on this thread, or (pair) split with CKernels' helper thread, which stays
        // awake between a decode step's products
        func part(_ lo: Int, _ hi: Int, pair: Bool = false) {
            switch w {
            case .float32(let p):
                (pair ? align_few_rows_nt_f32_pair : align_few_rows_nt_f32)(x, ldx, p, ldw, y, ldy, Int32(m), lo, hi, k, alpha, beta)
            case .bfloat16(let p):
                (pair ? align_few_rows_nt_bf16_pair : align_few_rows_nt_bf16)(x, ldx, p, ldw, y, ldy, Int32(m), lo, hi, k, alpha, beta)
            }
        }
        if workers == 1 || m * n * k < 1 << 18 { return part(0, n) }
        if workers == 2 { return part(0, n, pair: true) }
        let chunk = ((n + workers - 1) / workers + 15) / 16 * 16
        let parts = (n + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = p * chunk
            part(lo, Swift.min(lo + chunk, n))
        }
    }

}

/// bfloat16: the upper 16 bits of a float32 (8 exponent bits, 7 mantissa bits).
public enum BFloat16 {
    /// float32 → bfloat16 bit patterns, rounding to nearest even (NaN stays NaN, values above
    /// the largest bfloat16 become infinity).
    public static func convert(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<UInt16>, count: Int) {
        align_f32_to_bf16(source, destination, count)
    }
}
