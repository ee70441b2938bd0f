// y (M, N) = alpha * x (M, K) * w (N, K)^T + beta * y for M <= 8 rows: see CKernels.h.
//
// Every output is one dot product computed the same way in both implementations:
//   acc[c % 2][l] = fma(x[r][16c+l], w[j][16c+l], acc[c % 2][l]) for chunks c = 0, 1, ... (lanes
//   past K read 0), v[l] = acc[0][l] + acc[1][l], then a fixed pairwise tree over the 16 lanes:
//   s[i] = v[i] + v[i+8], s[i] += s[i+4], s[i] += s[i+2], s0 + s1,
// so a result depends only on its own row of x and row of w. The AVX-512, AVX2 and NEON
// implementations hold the same 16 lanes in one, two or four registers and give the portable
// implementation's bits.
#include "CKernels.h"
#include <math.h>
#include <stdatomic.h>

// No contraction of a*b + c into one FMA behind our back: the FMAs are written out, so that
// both implementations do the same roundings (alpha*dot + beta*y is two roundings, then one).
#pragma STDC FP_CONTRACT OFF
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")   // GCC ignores the standard pragma (SwiftPM builds with clang)
#endif
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define ALIGN_HAVE_X86 1
#include <immintrin.h>
#else
#define ALIGN_HAVE_X86 0
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
#define ALIGN_HAVE_NEON 1
#include <arm_neon.h>
#else
#define ALIGN_HAVE_NEON 0
#endif

// rows of a pass for m = 1..8 rows in the AVX2 and NEON implementations (their registers hold
// the accumulators of at most three rows): as even as possible, 8 = 3 + 3 + 2
__attribute__((unused)) static const int pass_rows[ALIGN_FEW_ROWS_MAX + 1][4] = {
    {0}, {1}, {2}, {3}, {2, 2}, {3, 2}, {3, 3}, {3, 2, 2}, {3, 3, 2},
};

// The pass structure of the AVX2 and NEON implementations, whose registers hold the accumulators of
// at most three rows: for each weight row, passes of pass_rows[m] rows through ROWS1..ROWS3
// (which take the flag: software prefetching in the first pass of a product of several rows).
#define PASSES_NT(ATTR, NAME, WT, ROWS1, ROWS2, ROWS3)                                              \
    ATTR static void NAME(const float *x, long ldx, const WT *w, long ldw, float *y, long ldy, int m, \
                          long n0, long n1, long k, float alpha, float beta) {                    \
        float out[ALIGN_FEW_ROWS_MAX];                                                            \
        for (long j = n0; j < n1; j++) {                                                          \
            const WT *wj = w + j * ldw;                                                           \
            int r0 = 0;                                                                           \
            for (int p = 0; p < 4 && pass_rows[m][p]; p++) {                                      \
                int g = pass_rows[m][p], pf = p == 0 && m > 1;                                    \
                const float *xp = x + r0 * ldx;                                                   \
                if (g == 3) ROWS3(xp, ldx, wj, out + r0, k, pf);                                  \
                else if (g == 2) ROWS2(xp, ldx, wj, out + r0, k, pf);                             \
                else ROWS1(xp, ldx, wj, out + r0, k, pf);                                         \
                r0 += g;                                                                          \
            }                                                                                     \
            for (int r = 0; r < m; r++) y[r * ldy + j] = finish(out[r], alpha, beta, y + r * ldy + j); \
        }                                                                                         \
    }

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

// ---- AVX2 + FMA implementation (AMD Zen 1-3, Intel Haswell and later without AVX-512) ----
//
// The 16 lanes of an accumulator are two 256-bit registers (lanes 0-7, 8-15); with even and odd
// chunks that is four registers per row of x, so at most three rows are computed per pass over a
// weight row (16 registers: 12 accumulators and the 4 weight vectors of a 32-element step).
// More rows take further passes over the same weight row, which then comes from L1.
// Software prefetching (non-temporal, 2 KiB ahead) only in the first pass of a product with
// several rows: at one row the hardware prefetcher alone streamed faster (a development
// microbenchmark on a 2-core AMD EPYC, Zen 3: one row over two threads 32.9 GB/s without, 26.2
// with the AVX-512 kernel's T0 prefetch; 8 rows 18.9 GB/s with NTA, 13.3 without).

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 load8_f32(const float *p) { return _mm256_loadu_ps(p); }

AVX2 static inline __m256 load8_bf16(const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// tree16 over lanes lo (0-7) and hi (8-15): s = lo + hi, then halves, pairs, the last two
AVX2 static inline float reduce16_avx2(__m256 lo, __m256 hi) {
    __m256 s = _mm256_add_ps(lo, hi);
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    t = _mm_add_ps(t, _mm_movehl_ps(t, t));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// G rows of x (row stride ldx) against one weight row: out[r] = the row's dot product.
// A partial last step is copied into zero-filled buffers (lanes past k read 0, as in the portable
// implementation); its odd chunk is computed only when it exists there too.
#define AVX2_NT_ROWS(NAME, WT, LOADW, G)                                                            \
    AVX2 static void NAME(const float *x, long ldx, const WT *wj, float *out, long k, int prefetch) { \
        __m256 e0[G], e1[G], o0[G], o1[G];                                                        \
        for (int r = 0; r < G; r++) e0[r] = e1[r] = o0[r] = o1[r] = _mm256_setzero_ps();          \
        long c = 0;                                                                               \
        for (; c + 32 <= k; c += 32) {                                                            \
            if (prefetch) {                                                                       \
                _mm_prefetch((const char *)(wj + c + PREFETCH_AHEAD), _MM_HINT_NTA);              \
                _mm_prefetch((const char *)(wj + c + PREFETCH_AHEAD + 16), _MM_HINT_NTA);         \
            }                                                                                     \
            /* the even chunk, then the odd one: two weight registers live beside the 12 */       \
            /* accumulators of three rows (with four, clang spilled an accumulator) */            \
            __m256 w0 = LOADW(wj + c), w1 = LOADW(wj + c + 8);                                    \
            for (int r = 0; r < G; r++) {                                                         \
                const float *xr = x + r * ldx + c;                                                \
                e0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xr), w0, e0[r]);                          \
                e1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 8), w1, e1[r]);                      \
            }                                                                                     \
            __asm__ volatile("" ::: "memory"); /* keeps the compiler from hoisting w2, w3 */     \
            __m256 w2 = LOADW(wj + c + 16), w3 = LOADW(wj + c + 24);                              \
            for (int r = 0; r < G; r++) {                                                         \
                const float *xr = x + r * ldx + c;                                                \
                o0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 16), w2, o0[r]);                     \
                o1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 24), w3, o1[r]);                     \
            }                                                                                     \
        }                                                                                         \
        if (c < k) {                                                                              \
            long left = k - c;                                                                    \
            float xt[G][32];                                                                      \
            WT wt[32];                                                                            \
            memset(xt, 0, sizeof xt);                                                             \
            memset(wt, 0, sizeof wt);                                                             \
            memcpy(wt, wj + c, (size_t)left * sizeof(WT));                                        \
            for (int r = 0; r < G; r++) memcpy(xt[r], x + r * ldx + c, (size_t)left * sizeof(float)); \
            __m256 w0 = LOADW(wt), w1 = LOADW(wt + 8);                                            \
            for (int r = 0; r < G; r++) {                                                         \
                e0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xt[r]), w0, e0[r]);                       \
                e1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xt[r] + 8), w1, e1[r]);                   \
            }                                                                                     \
            if (left > 16) {                                                                      \
                __m256 w2 = LOADW(wt + 16), w3 = LOADW(wt + 24);                                  \
                for (int r = 0; r < G; r++) {                                                     \
                    o0[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xt[r] + 16), w2, o0[r]);              \
                    o1[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xt[r] + 24), w3, o1[r]);              \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        for (int r = 0; r < G; r++)                                                               \
            out[r] = reduce16_avx2(_mm256_add_ps(e0[r], o0[r]), _mm256_add_ps(e1[r], o1[r]));     \
    }

#define AVX2_FAMILY(WT, LOADW, SUFFIX)                                                             \
    AVX2_NT_ROWS(avx2_rows1_##SUFFIX, WT, LOADW, 1)                                                \
    AVX2_NT_ROWS(avx2_rows2_##SUFFIX, WT, LOADW, 2)                                                \
    AVX2_NT_ROWS(avx2_rows3_##SUFFIX, WT, LOADW, 3)                                                \
    PASSES_NT(AVX2, avx2_nt_##SUFFIX, WT, avx2_rows1_##SUFFIX, avx2_rows2_##SUFFIX, avx2_rows3_##SUFFIX)

AVX2_FAMILY(float, load8_f32, f32)
AVX2_FAMILY(uint16_t, load8_bf16, bf16)

static int detect_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

// ---- NEON implementation (AArch64: Apple Silicon, Graviton, Ampere) ----
//
// Four 128-bit registers per 16 lanes; a 32-element step is taken as its even chunk then its odd
// chunk, so three rows need 24 accumulators and 4 weight registers of the 32.

#if ALIGN_HAVE_NEON
static inline float32x4_t load4_f32(const float *p) { return vld1q_f32(p); }
static inline float32x4_t load4_bf16(const uint16_t *p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }

// tree16 over lanes a (0-3), b (4-7), c (8-11), d (12-15)
static inline float reduce16_neon(float32x4_t a, float32x4_t b, float32x4_t c, float32x4_t d) {
    float32x4_t t = vaddq_f32(vaddq_f32(a, c), vaddq_f32(b, d));
    float32x2_t u = vadd_f32(vget_low_f32(t), vget_high_f32(t));
    return vget_lane_f32(u, 0) + vget_lane_f32(u, 1);
}

// One 16-element chunk of G rows into the accumulators ACC (even or odd): x rows at XC + r * XS.
#define NEON_CHUNK(ACC, LOADW, WC, XC, XS, G)                                                       \
    {                                                                                             \
        float32x4_t w0 = LOADW(WC), w1 = LOADW((WC) + 4), w2 = LOADW((WC) + 8), w3 = LOADW((WC) + 12); \
        for (int r = 0; r < G; r++) {                                                             \
            const float *xr = (XC) + r * (XS);                                                    \
            ACC[r][0] = vfmaq_f32(ACC[r][0], vld1q_f32(xr), w0);                                  \
            ACC[r][1] = vfmaq_f32(ACC[r][1], vld1q_f32(xr + 4), w1);                              \
            ACC[r][2] = vfmaq_f32(ACC[r][2], vld1q_f32(xr + 8), w2);                              \
            ACC[r][3] = vfmaq_f32(ACC[r][3], vld1q_f32(xr + 12), w3);                             \
        }                                                                                         \
    }

// G rows of x against one weight row, as the AVX2 implementation: 32-element steps (even chunk,
// odd chunk); a partial last step is copied into zero-filled buffers and its odd chunk computed
// only when it exists. The accumulator sets are indexed by constants so that they stay in
// registers.
#define NEON_NT_ROWS(NAME, WT, LOADW, G)                                                            \
    static void NAME(const float *x, long ldx, const WT *wj, float *out, long k, int prefetch) {     \
        (void)prefetch; /* the hardware prefetcher alone (no measurement on ARM yet) */            \
        float32x4_t even[G][4], odd[G][4];                                                        \
        for (int r = 0; r < G; r++)                                                               \
            for (int q = 0; q < 4; q++) even[r][q] = odd[r][q] = vdupq_n_f32(0);                  \
        long c = 0;                                                                               \
        for (; c + 32 <= k; c += 32) {                                                            \
            NEON_CHUNK(even, LOADW, wj + c, x + c, ldx, G)                                        \
            NEON_CHUNK(odd, LOADW, wj + c + 16, x + c + 16, ldx, G)                               \
        }                                                                                         \
        if (c < k) { /* lanes past k read 0 */                                                    \
            long left = k - c;                                                                    \
            WT wt[32];                                                                            \
            float xt[G][32];                                                                      \
            memset(wt, 0, sizeof wt);                                                             \
            memset(xt, 0, sizeof xt);                                                             \
            memcpy(wt, wj + c, (size_t)left * sizeof(WT));                                        \
            for (int r = 0; r < G; r++) memcpy(xt[r], x + r * ldx + c, (size_t)left * sizeof(float)); \
            NEON_CHUNK(even, LOADW, wt, &xt[0][0], 32, G)                                         \
            if (left > 16) NEON_CHUNK(odd, LOADW, wt + 16, &xt[0][0] + 16, 32, G)                 \
        }                                                                                         \
        for (int r = 0; r < G; r++)                                                               \
            out[r] = reduce16_neon(vaddq_f32(even[r][0], odd[r][0]), vaddq_f32(even[r][1], odd[r][1]), \
                                   vaddq_f32(even[r][2], odd[r][2]), vaddq_f32(even[r][3], odd[r][3])); \
    }

#define NEON_FAMILY(WT, LOADW, SUFFIX)                                                             \
    NEON_NT_ROWS(neon_rows1_##SUFFIX, WT, LOADW, 1)                                                \
    NEON_NT_ROWS(neon_rows2_##SUFFIX, WT, LOADW, 2)                                                \
    NEON_NT_ROWS(neon_rows3_##SUFFIX, WT, LOADW, 3)                                                \
    PASSES_NT(, neon_nt_##SUFFIX, WT, neon_rows1_##SUFFIX, neon_rows2_##SUFFIX, neon_rows3_##SUFFIX)

NEON_FAMILY(float, load4_f32, f32)
NEON_FAMILY(uint16_t, load4_bf16, bf16)
#endif

// ---- choosing the implementation ----

static int kernel_supported(int kernel) {
    switch (kernel) {
    case ALIGN_KERNEL_PORTABLE: return 1;
#if ALIGN_HAVE_X86
    case ALIGN_KERNEL_AVX2: return detect_avx2();
    case ALIGN_KERNEL_AVX512: return detect_avx512();
#endif
#if ALIGN_HAVE_NEON
    case ALIGN_KERNEL_NEON: return 1;
#endif
    default: return 0;
    }
}

static int best_kernel(void) {
    if (kernel_supported(ALIGN_KERNEL_AVX512)) return ALIGN_KERNEL_AVX512;
    if (kernel_supported(ALIGN_KERNEL_AVX2)) return ALIGN_KERNEL_AVX2;
    if (kernel_supported(ALIGN_KERNEL_NEON)) return ALIGN_KERNEL_NEON;
    return ALIGN_KERNEL_PORTABLE;
}

// -1 until the CPU is asked; atomic because the caller and the helper thread of
// few_rows_pair.c may ask at the same time
static _Atomic int chosen = -1;

int align_few_rows_kernel(void) {
    int known = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (known < 0) {
        known = best_kernel();
        atomic_store_explicit(&chosen, known, memory_order_relaxed);
    }
    return known;
}

int align_few_rows_kernel_supported(int kernel) { return kernel_supported(kernel); }

int align_few_rows_set_kernel(int kernel) {
    if (kernel < 0) {
        atomic_store_explicit(&chosen, best_kernel(), memory_order_relaxed);
        return 1;
    }
    if (!kernel_supported(kernel)) return 0;
    atomic_store_explicit(&chosen, kernel, memory_order_relaxed);
    return 1;
}

int align_few_rows_portable_is_fast(void) {
#ifdef FP_FAST_FMAF
    return 1;
#else
    return 0;
#endif
}

#if ALIGN_HAVE_X86
#define X86_CASES(SUFFIX)                                                                           \
    case ALIGN_KERNEL_AVX512: avx512_nt_##SUFFIX(x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta); return; \
    case ALIGN_KERNEL_AVX2: avx2_nt_##SUFFIX(x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta); return;
#else
#define X86_CASES(SUFFIX)
#endif
#if ALIGN_HAVE_NEON
#define NEON_CASES(SUFFIX)                                                                          \
    case ALIGN_KERNEL_NEON: neon_nt_##SUFFIX(x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta); return;
#else
#define NEON_CASES(SUFFIX)
#endif

#define ENTRY(NAME, WT, SUFFIX)                                                                     \
    void NAME(const float *x, long ldx, const WT *w, long ldw, float *y, long ldy, int m, long n0, \
              long n1, long k, float alpha, float beta) {                                         \
        if (m < 1 || m > ALIGN_FEW_ROWS_MAX || n1 <= n0 || k < 0) return;                         \
        switch (align_few_rows_kernel()) {                                                        \
        X86_CASES(SUFFIX)                                                                         \
        NEON_CASES(SUFFIX)                                                                        \
        default: portable_nt_##SUFFIX(x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta); return;  \
        }                                                                                         \
    }

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
