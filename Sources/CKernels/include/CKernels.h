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

/// float32 -> bfloat16 with round-to-nearest-even (NaN stays NaN), count elements.
void align_f32_to_bf16(const float *src, uint16_t *dst, long count);

/// Which implementation runs: 1 for AVX-512, 0 for the portable one.
int align_few_rows_uses_avx512(void);

/// Tests: 1 runs the portable implementation from now on, 0 goes back to detecting the CPU.
void align_few_rows_force_portable(int on);

#endif
