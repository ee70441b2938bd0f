// Bit-for-bit check of the few-row product kernels of Sources/CKernels/few_rows_gemm.c:
// every implementation that align_few_rows_kernel_supported reports (AVX2, AVX-512, NEON) must
// give the portable implementation's exact bits, for float32 and bfloat16 weights.
//
// Build (it links with few_rows_gemm.c only), e.g.
//   cc -O3 -I Sources/CKernels/include scripts/kernels/few_rows_check.c Sources/CKernels/few_rows_gemm.c -lm
//   aarch64-linux-gnu-gcc -O3 -static ... && qemu-aarch64-static ./few_rows_check --require neon
// (scripts/check_kernels_aarch64.sh does both.)
//
// Usage: few_rows_check [--require KERNEL]...   KERNEL: portable, avx2, avx512, neon
//   --require fails the run when that kernel is not supported by this build and CPU (so that a
//   build without the vector code cannot pass by comparing nothing).
//
// Cases: m = 1..8, k in {0, 1, 5, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 576}, n in {1, 4, 9}
// (all columns, and for n > 2 the columns [1, n-1) only), alpha/beta in {(1,0), (0.75,0.5),
// (-1.25,1)}, tight strides and strides wider than the rows, pseudo-random inputs in [-1, 1];
// plus all-negative-zero x (w random, y = -0), where the sign of each zero result is compared.
// Stride padding and y's columns outside [n0, n1) hold NaN / sentinel values, and y holds NaN
// when beta = 0: a kernel that reads past k, writes outside its columns or reads y when beta = 0
// shows as a mismatch. The whole y buffer is compared with memcmp. Each buffer ends right before
// a PROT_NONE page, so a read past its end faults.
//
// Output: one line per kernel compared, then exactly "N passed, M failed" (one count per
// shape x kernel x dtype comparison); the exit status is 1 on any mismatch or missing kernel.
#include "CKernels.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const kernel_names[] = {"portable", "avx2", "avx512", "neon"};
#define KERNEL_COUNT 4

// ---- buffers ending at a guard page ----

typedef struct {
    void *base;
    size_t mapped;
    void *data;
} guarded;

static guarded guarded_alloc(size_t bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (bytes + page - 1) / page * page;
    guarded g;
    g.mapped = body + page;
    g.base = mmap(NULL, g.mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g.base == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect((char *)g.base + body, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    g.data = (char *)g.base + body - bytes;
    return g;
}

static void guarded_free(guarded g) { munmap(g.base, g.mapped); }

// ---- deterministic inputs ----

static uint64_t rng_state;

static uint32_t rng_next(void) {   // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

// uniform in [-1, 1), with full 24-bit mantissas (and sometimes exact small values)
static float rng_unit(void) {
    uint32_t u = rng_next();
    if ((u & 63) == 0) return (float)((int)(u >> 8) % 5 - 2) * 0.5f;   // -1, -0.5, 0, 0.5
    return (float)((double)u / 2147483648.0 - 1.0);
}

static float bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

#define NAN_PAD 0x7FC0DEADu   // stride padding and columns not to be read
#define NAN_Y 0x7FC0BEEFu     // y when beta = 0 (must not be read)

// ---- one case ----

typedef struct {
    int m;
    long n, n0, n1, k, ldx, ldw, ldy;
    float alpha, beta;
    int negzero;
} shape;

static long passed, failed;

static void describe(const shape *s, const char *dtype, const char *kernel) {
    fprintf(stderr, "MISMATCH %s %s: m=%d n=%ld cols=[%ld,%ld) k=%ld ldx=%ld ldw=%ld ldy=%ld alpha=%g beta=%g%s\n",
            kernel, dtype, s->m, s->n, s->n0, s->n1, s->k, s->ldx, s->ldw, s->ldy, (double)s->alpha,
            (double)s->beta, s->negzero ? " x=-0" : "");
}

// Runs `kernel` on a fresh copy of y0; the result goes to y.
static void run(int kernel, int bf16, const shape *s, const float *x, const float *w, const uint16_t *wh,
                const float *y0, float *y, size_t ybytes) {
    if (!align_few_rows_set_kernel(kernel) || align_few_rows_kernel() != kernel) {
        fprintf(stderr, "cannot select kernel %s\n", kernel_names[kernel]);
        exit(2);
    }
    memcpy(y, y0, ybytes);
    if (bf16)
        align_few_rows_nt_bf16(x, s->ldx, wh, s->ldw, y, s->ldy, s->m, s->n0, s->n1, s->k, s->alpha, s->beta);
    else
        align_few_rows_nt_f32(x, s->ldx, w, s->ldw, y, s->ldy, s->m, s->n0, s->n1, s->k, s->alpha, s->beta);
}

static void check_shape(const shape *s, const int *kernels, int nkernels) {
    size_t xcount = (size_t)((s->m - 1) * s->ldx + s->k);
    size_t wcount = (size_t)((s->n - 1) * s->ldw + s->k);
    size_t ycount = (size_t)((s->m - 1) * s->ldy + s->n);
    guarded gx = guarded_alloc(xcount * sizeof(float));
    guarded gw = guarded_alloc(wcount * sizeof(float));
    guarded gh = guarded_alloc(wcount * sizeof(uint16_t));
    guarded gy0 = guarded_alloc(ycount * sizeof(float));
    guarded gref = guarded_alloc(ycount * sizeof(float));
    guarded gout = guarded_alloc(ycount * sizeof(float));
    float *x = gx.data, *w = gw.data, *y0 = gy0.data, *ref = gref.data, *out = gout.data;
    uint16_t *wh = gh.data;

    for (size_t i = 0; i < xcount; i++) x[i] = bits_to_f32(NAN_PAD);
    for (size_t i = 0; i < wcount; i++) w[i] = bits_to_f32(NAN_PAD);
    for (int r = 0; r < s->m; r++)
        for (long i = 0; i < s->k; i++) x[r * s->ldx + i] = s->negzero ? -0.0f : rng_unit();
    for (long j = 0; j < s->n; j++)
        for (long i = 0; i < s->k; i++) w[j * s->ldw + i] = rng_unit();
    align_f32_to_bf16(w, wh, (long)wcount);   // the padding becomes a bfloat16 NaN
    for (size_t i = 0; i < ycount; i++) y0[i] = bits_to_f32(NAN_PAD);
    for (int r = 0; r < s->m; r++)
        for (long j = s->n0; j < s->n1; j++)
            y0[r * s->ldy + j] = s->beta == 0 ? bits_to_f32(NAN_Y) : s->negzero ? -0.0f : rng_unit();

    size_t ybytes = ycount * sizeof(float);
    for (int bf16 = 0; bf16 < 2; bf16++) {
        const char *dtype = bf16 ? "bf16" : "f32";
        run(ALIGN_KERNEL_PORTABLE, bf16, s, x, w, wh, y0, ref, ybytes);
        for (int t = 0; t < nkernels; t++) {
            run(kernels[t], bf16, s, x, w, wh, y0, out, ybytes);
            if (memcmp(ref, out, ybytes) == 0) {
                passed++;
                continue;
            }
            failed++;
            if (failed <= 20) {
                describe(s, dtype, kernel_names[kernels[t]]);
                int shown = 0;
                for (size_t i = 0; i < ycount && shown < 4; i++) {
                    uint32_t a = f32_to_bits(ref[i]), b = f32_to_bits(out[i]);
                    if (a == b) continue;
                    fprintf(stderr, "  y[%zu][%zu]: portable %08" PRIx32 " (%.9g)  %s %08" PRIx32 " (%.9g)\n",
                            i / (size_t)s->ldy, i % (size_t)s->ldy, a, (double)ref[i], kernel_names[kernels[t]], b,
                            (double)out[i]);
                    shown++;
                }
            }
        }
    }
    guarded_free(gx);
    guarded_free(gw);
    guarded_free(gh);
    guarded_free(gy0);
    guarded_free(gref);
    guarded_free(gout);
}

int main(int argc, char **argv) {
    int required[KERNEL_COUNT] = {0};
    for (int i = 1; i < argc; i++) {
        int known = 0;
        if (strcmp(argv[i], "--require") == 0 && i + 1 < argc) {
            i++;
            for (int t = 0; t < KERNEL_COUNT; t++)
                if (strcmp(argv[i], kernel_names[t]) == 0) required[t] = known = 1;
        }
        if (!known) {
            fprintf(stderr, "usage: %s [--require portable|avx2|avx512|neon]...\n", argv[0]);
            return 2;
        }
    }

    int kernels[KERNEL_COUNT], nkernels = 0, missing = 0;
    for (int t = 0; t < KERNEL_COUNT; t++) {
        int supported = align_few_rows_kernel_supported(t);
        if (t != ALIGN_KERNEL_PORTABLE && supported) kernels[nkernels++] = t;
        if (required[t] && !supported) {
            fprintf(stderr, "required kernel %s is not supported by this build and CPU\n", kernel_names[t]);
            missing = 1;
        }
    }
    printf("best kernel: %s; portable fmaf is %s\n", kernel_names[align_few_rows_kernel()],
           align_few_rows_portable_is_fast() ? "one instruction" : "a library call");
    if (nkernels == 0) printf("no vector kernel supported here: nothing to compare with portable\n");
    for (int t = 0; t < nkernels; t++) printf("checking kernel %s against portable (f32 and bf16 weights)\n", kernel_names[kernels[t]]);

    static const long ks[] = {0, 1, 5, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100, 576};
    static const long ns[] = {1, 4, 9};
    static const float ab[][2] = {{1, 0}, {0.75f, 0.5f}, {-1.25f, 1}};
    rng_state = 0x9E3779B97F4A7C15ULL;

    for (int m = 1; m <= ALIGN_FEW_ROWS_MAX; m++)
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
                for (int cols = 0; cols < 2; cols++)
                    for (size_t a = 0; a < sizeof ab / sizeof ab[0]; a++)
                        for (int wide = 0; wide < 2; wide++)
                            for (int negzero = 0; negzero < 2; negzero++) {
                                long n = ns[ni], k = ks[ki];
                                if (cols == 1 && n <= 2) continue;
                                // the -0 case on a subset of shapes (every m and k, all columns)
                                if (negzero && (cols != 0 || wide != 1)) continue;
                                shape s = {
                                    .m = m, .n = n, .n0 = cols ? 1 : 0, .n1 = cols ? n - 1 : n, .k = k,
                                    .ldx = wide ? k + 3 : k, .ldw = wide ? k + 7 : k, .ldy = wide ? n + 5 : n,
                                    .alpha = ab[a][0], .beta = ab[a][1], .negzero = negzero,
                                };
                                check_shape(&s, kernels, nkernels);
                            }

    align_few_rows_set_kernel(-1);
    printf("%ld passed, %ld failed\n", passed, failed);
    return failed || missing ? 1 : 0;
}
