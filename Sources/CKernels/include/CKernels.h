#ifndef ALIGN_CKERNELS_H
#define ALIGN_CKERNELS_H

#include <stdint.h>

/// Products with few rows against a weight matrix stored (N, K) row-major, as in decoding:
///   y (M, N) = alpha * x (M, K) * w (N, K)^T + beta * y,  1 <= M <= ALIGN_FEW_ROWS_MAX,
/// computed for output columns [n0, n1) only (callers split the columns across threads).
/// The weights are read once, straight from their rows: no packed copy is made (OpenBLAS's
/// sgemm packs the whole weight matrix on every call, which dominated batched decoding).
///
/// Each y[r][j] is computed by the same instructions whatever M, n0, n1 or the other rows are:
/// a row's result does not depend on the batch it is computed in.
///
/// beta is 0 (y is not read) or any other value (y is scaled and added).
#define ALIGN_FEW_ROWS_MAX 8

/// float32 weights. x: (M, K) with row stride ldx; w: (N, K) with row stride ldw; y: (M, N), ldy.
void align_few_rows_nt_f32(const float *x, long ldx, const float *w, long ldw, float *y, long ldy,
                           int m, long n0, long n1, long k, float alpha, float beta);

/// bfloat16 weights (the upper 16 bits of a float32), widened to float32 as they are read;
/// x, y and the accumulation are float32.
void align_few_rows_nt_bf16(const float *x, long ldx, const uint16_t *w, long ldw, float *y, long ldy,
                            int m, long n0, long n1, long k, float alpha, float beta);

/// The same products split over two threads: the caller takes the lower half of [n0, n1), a
/// helper thread (started on first use, spinning briefly between jobs instead of sleeping) the
/// upper half; the same bits as one thread. Concurrent callers do not wait for each other: one
/// that finds the helper busy computes its whole product itself.
void align_few_rows_nt_f32_pair(const float *x, long ldx, const float *w, long ldw, float *y, long ldy,
                                int m, long n0, long n1, long k, float alpha, float beta);
void align_few_rows_nt_bf16_pair(const float *x, long ldx, const uint16_t *w, long ldw, float *y, long ldy,
                                 int m, long n0, long n1, long k, float alpha, float beta);

/// fn(ctx, lo, mid) on the calling thread and fn(ctx, mid, hi) on the same helper thread as the
/// _pair products, mid the middle of [lo, hi); returns when both are done. For work over
/// independent items that is too short for a thread pool's wake-up (a decode step's attention
/// heads, the products that share one input). A caller that finds the helper busy (another
/// thread's job, or a call from inside fn) runs fn(ctx, lo, hi) itself.
void align_pair_run(void (*fn)(void *ctx, long lo, long hi), void *ctx, long lo, long hi);

/// float32 -> bfloat16 with round-to-nearest-even (NaN stays NaN), count elements.
void align_f32_to_bf16(const float *src, uint16_t *dst, long count);

/// The implementations of the few-row products; every one gives the portable one's bits.
#define ALIGN_KERNEL_PORTABLE 0   // plain C, one lane at a time (fmaf per multiply-add)
#define ALIGN_KERNEL_AVX2 1       // x86-64 with AVX2 and FMA
#define ALIGN_KERNEL_AVX512 2     // x86-64 with AVX-512 F/BW/VL
#define ALIGN_KERNEL_NEON 3       // AArch64

/// The implementation that runs: the best this CPU has, unless one was set.
int align_few_rows_kernel(void);

/// 1 when this build and CPU can run `kernel`, else 0.
int align_few_rows_kernel_supported(int kernel);

/// Runs `kernel` from now on (-1: the best again). Returns 0, changing nothing, when the CPU or
/// the build cannot run it.
int align_few_rows_set_kernel(int kernel);

/// 1 when the portable implementation's fmaf compiles to one instruction (FP_FAST_FMAF, as on
/// AArch64); 0 when each multiply-add calls the C library (a baseline x86-64 build), which makes
/// it many times slower than OpenBLAS: callers then use OpenBLAS instead.
int align_few_rows_portable_is_fast(void);

#endif
