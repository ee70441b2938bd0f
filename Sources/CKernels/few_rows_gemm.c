// y (M, N) = alpha * x (M, K) * w (N, K)^T + beta * y for M <= 8 rows: see CKernels.h.
//
// Every output is one dot product computed the same way in both implementations:
//   acc[c % 2][l] = fma(x[r][16c+l], w[j][16c+l], acc[c % 2][l]) for chunks c = 0, 1, ... (lanes
//   past K read 0), v[l] = acc[0][l] + acc[1][l], then a fixed pairwise tree over the 16 lanes:
//   s[i] = v[i] + v[i+8], s[i] += s[i+4], s[i] += s[i+2], s0 + s1,
// so a result depends only on its own row of x and row of w (and on whether AVX-512 is used).
#include "CKernels.h"
#include <math.h>
#include <stdatomic.h>

// No contraction of a*b + c into one FMA behind our back: the FMAs are written out, so that
// both implementations do the same roundings (alpha*dot + beta*y is two roundings, then one).
#pragma STDC FP_CONTRACT OFF
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define ALIGN_HAVE_X86 1
#include <immintrin.h>
#else
#define ALIGN_HAVE_X86 0
#endif

static float tree16(const float *v) {
    float s[8];
    for (int i = 0; i < 8; i++) s[i] = v[i] + v[i + 8];
    for (int i = 0; i < 4; i++) s[i] = s[i] + s[i + 4];
    for (int i = 0; i < 2; i++) s[i] = s[i] + s[i + 2];
    return s[0] + s[1];
}

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float finish(float dot, float alpha, float beta, const float *y) {
    return beta == 0 ? alpha * dot : alpha * dot + beta * *y;
}

// ---- portable implementation (the same arithmetic, one lane at a time) ----

#define PORTABLE_NT(NAME, WT, WLOAD)                                                              \
    static void NAME(const float *x, long ldx, const WT *w, long ldw, float *y, long ldy, int m,  \
                     long n0, long n1, long k, float alpha, float beta) {                        \
        float acc[2][16], v[16];                                                                  \
        for (int r = 0; r < m; r++) {                                                             \
            for (long j = n0; j < n1; j++) {                                                      \
                for (int l = 0; l < 16; l++) acc[0][l] = acc[1][l] = 0;                           \
                for (long c = 0; c < k; c += 16) {                                                \
                    float *a = acc[(c / 16) & 1];                                                 \
                    for (int l = 0; l < 16; l++) {                                                \
                        long i = c + l;                                                           \
                        float xv = i < k ? x[r * ldx + i] : 0, wv = i < k ? WLOAD(w[j * ldw + i]) : 0; \
                        a[l] = fmaf(xv, wv, a[l]);                                                \
                    }                                                                             \
                }                                                                                 \
                for (int l = 0; l < 16; l++) v[l] = acc[0][l] + acc[1][l];                        \
                y[r * ldy + j] = finish(tree16(v), alpha, beta, y + r * ldy + j);                 \
            }                                                                                     \
        }                                                                                         \
    }

#define IDENTITY(v) (v)
PORTABLE_NT(portable_nt_f32, float, IDENTITY)
PORTABLE_NT(portable_nt_bf16, uint16_t, bf16_to_f32)

// ---- AVX-512 implementation ----

#if ALIGN_HAVE_X86
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 512
#endif


AVX512 static inline __m512 load_w_f32(const float *p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }

AVX512 static inline __m512 load_w_bf16(const uint16_t *p, __mmask16 mask) {
    __m256i h = _mm256_maskz_loadu_epi16(mask, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// The lane tree of tree16: lane i + lane i^8, then i^4, i^2, i^1.
AVX512 static inline float reduce16(__m512 v) {
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_cvtss_f32(v);
}

// M rows of x against one row of w: the weights are read as one sequential stream, row after
// row (interleaving several weight rows halved the read bandwidth: the hardware prefetcher
// follows one long stream, not several short ones). Two accumulators per row of x, for even
// and odd chunks, keep enough independent FMAs in flight at M = 1.
#define AVX512_NT_ROW(NAME, WT, LOADW, M)                                                          \
    AVX512 static void NAME(const float *x, long ldx, const WT *wj, float *out, long k) {          \
        __m512 even[M], odd[M];                                                                   \
        for (int r = 0; r < M; r++) even[r] = odd[r] = _mm512_setzero_ps();                       \
        long c = 0;                                                                               \
        for (; c + 32 <= k; c += 32) {                                                            \
            _mm_prefetch((const char *)(wj + c + PREFETCH_AHEAD), _MM_HINT_T0);                   \
            _mm_prefetch((const char *)(wj + c + PREFETCH_AHEAD + 16), _MM_HINT_T0);              \
            __m512 w0 = LOADW(wj + c, 0xFFFF), w1 = LOADW(wj + c + 16, 0xFFFF);                   \
            for (int r = 0; r < M; r++) {                                                         \
                even[r] = _mm512_fmadd_ps(_mm512_loadu_ps(x + r * ldx + c), w0, even[r]);         \
                odd[r] = _mm512_fmadd_ps(_mm512_loadu_ps(x + r * ldx + c + 16), w1, odd[r]);      \
            }                                                                                     \
        }                                                                                         \
        if (c < k) { /* one or two chunks left, the last one partial */                           \
            long left = k - c;                                                                    \
            __mmask16 m0 = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);        \
            __m512 w0 = LOADW(wj + c, m0);                                                        \
            for (int r = 0; r < M; r++)                                                           \
                even[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, x + r * ldx + c), w0, even[r]); \
            if (left > 16) {                                                                      \
                __mmask16 m1 = (__mmask16)((1u << (left - 16)) - 1);                              \
                __m512 w1 = LOADW(wj + c + 16, m1);                                               \
                for (int r = 0; r < M; r++)                                                       \
                    odd[r] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, x + r * ldx + c + 16), w1, odd[r]); \
            }                                                                                     \
        }                                                                                         \
        for (int r = 0; r < M; r++) out[r] = reduce16(_mm512_add_ps(even[r], odd[r]));           \
    }

#define AVX512_FAMILY(WT, LOADW, SUFFIX)                                                           \
    AVX512_NT_ROW(row1_##SUFFIX, WT, LOADW, 1) AVX512_NT_ROW(row2_##SUFFIX, WT, LOADW, 2)         \
    AVX512_NT_ROW(row3_##SUFFIX, WT, LOADW, 3) AVX512_NT_ROW(row4_##SUFFIX, WT, LOADW, 4)         \
    AVX512_NT_ROW(row5_##SUFFIX, WT, LOADW, 5) AVX512_NT_ROW(row6_##SUFFIX, WT, LOADW, 6)         \
    AVX512_NT_ROW(row7_##SUFFIX, WT, LOADW, 7) AVX512_NT_ROW(row8_##SUFFIX, WT, LOADW, 8)         \
    typedef void (*row_##SUFFIX)(const float *, long, const WT *, float *, long);                 \
    AVX512 static void avx512_nt_##SUFFIX(const float *x, long ldx, const WT *w, long ldw, float *y, \
                                          long ldy, int m, long n0, long n1, long k, float alpha, \
                                          float beta) {                                           \
        static const row_##SUFFIX kernels[9] = {0, row1_##SUFFIX, row2_##SUFFIX, row3_##SUFFIX,    \
                                                row4_##SUFFIX, row5_##SUFFIX, row6_##SUFFIX,       \
                                                row7_##SUFFIX, row8_##SUFFIX};                     \
        const row_##SUFFIX kernel = kernels[m];                                                   \
        float out[ALIGN_FEW_ROWS_MAX];                                                            \
        for (long j = n0; j < n1; j++) {                                                          \
            kernel(x, ldx, w + j * ldw, out, k);                                                  \
            for (int r = 0; r < m; r++) y[r * ldy + j] = finish(out[r], alpha, beta, y + r * ldy + j); \
        }                                                                                         \
    }

AVX512_FAMILY(float, load_w_f32, f32)
AVX512_FAMILY(uint16_t, load_w_bf16, bf16)

static int detect_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
}
#endif

// -1 until the CPU is asked; atomic because the caller and the helper thread of
// few_rows_pair.c may ask at the same time
static _Atomic int uses_avx512 = -1;

int align_few_rows_uses_avx512(void) {
#if ALIGN_HAVE_X86
    int known = atomic_load_explicit(&uses_avx512, memory_order_relaxed);
    if (known < 0) {
        known = detect_avx512();
        atomic_store_explicit(&uses_avx512, known, memory_order_relaxed);
    }
    return known;
#else
    return 0;
#endif
}

void align_few_rows_force_portable(int on) {
    atomic_store_explicit(&uses_avx512, on ? 0 : -1, memory_order_relaxed);
}

#define ENTRY(NAME, WT, SUFFIX)                                                                     \
    void NAME(const float *x, long ldx, const WT *w, long ldw, float *y, long ldy, int m, long n0, \
              long n1, long k, float alpha, float beta) {                                         \
        if (m < 1 || m > ALIGN_FEW_ROWS_MAX || n1 <= n0 || k < 0) return;                         \
        if (align_few_rows_uses_avx512()) AVX_CALL(SUFFIX);                                       \
        else portable_nt_##SUFFIX(x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta);             \
    }

#if ALIGN_HAVE_X86
#define AVX_CALL(SUFFIX) avx512_nt_##SUFFIX(x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta)
#else
#define AVX_CALL(SUFFIX) portable_nt_##SUFFIX(x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta)
#endif

ENTRY(align_few_rows_nt_f32, float, f32)
ENTRY(align_few_rows_nt_bf16, uint16_t, bf16)

void align_f32_to_bf16(const float *src, uint16_t *dst, long count) {
    for (long i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, src + i, 4);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
            dst[i] = (uint16_t)((u >> 16) | 0x40);   // NaN stays a (quiet) NaN
        } else {
            dst[i] = (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);   // round to nearest even
        }
    }
}
