import CKernels
import Dispatch
import Foundation

/// Products of a few rows (at most `maxRows`) with a weight stored (N, K), y = x·Wᵀ: the shape
/// of every linear layer and of the LM head while decoding a batch.
///
/// OpenBLAS's sgemm packs the whole weight matrix into a scratch buffer on every call; at 8
/// rows that copy took two thirds of a decode step (a profile of batch-8 sampling on
/// SmolLM2-135M: `sgemm_incopy` 49%, the kernel itself 23%). The C kernel (`CKernels`,
/// AVX-512 when the CPU has it) streams each weight row once straight from the parameter and
/// keeps all rows' accumulators in registers.
///
/// Each output is a dot product computed identically whatever the number of rows or the
/// column split, so a row's logits do not depend on the batch it is decoded in. The weights may
/// be float32 or a bfloat16 copy (half the bytes per decoded token; see `BFloat16Weights`).
/// `ALIGN_FEW_ROWS_GEMM=0` in the environment sends the float32 products to OpenBLAS instead (for
/// measuring the difference in one run); bfloat16 copies are always read by this kernel. On two
/// workers the columns are split between the caller and CKernels' helper thread
/// (`few_rows_pair.c`); on more, across `concurrentPerform`.
public enum FewRowsGemm {
    public static let maxRows = Int(ALIGN_FEW_ROWS_MAX)

    /// Whether `sgemm` routes few-row x·Wᵀ products here (read once from the environment).
    public static let enabled: Bool = ProcessInfo.processInfo.environment["ALIGN_FEW_ROWS_GEMM"] != "0"

    /// Whether the AVX-512 implementation runs (else the portable C one, same arithmetic).
    public static var usesAVX512: Bool { align_few_rows_uses_avx512() != 0 }

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

    /// Tests: run the portable C implementation (true) or detect the CPU again (false).
    public static func forcePortable(_ on: Bool) {
        align_few_rows_force_portable(on ? 1 : 0)
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
