// Two threads for the few-row products of a decode step: the caller and one helper thread that
// spins briefly between products instead of sleeping. See CKernels.h.
//
// A decode step makes about two hundred small products (SmolLM2: 211 per token, 50-100 us each).
// Handing half of each to a pool thread that sleeps between them costs a futex wake-up and a
// context switch every time; at batch 1 that cost ate the second core's bandwidth (two workers
// decoded no faster than one). The helper here spins on a sequence number for a bounded time
// after each job, so consecutive products find it awake, and sleeps on a condition variable once
// nothing comes (between decode steps, during the prompt pass, after generation).
//
// One job at a time: a caller that finds the helper taken by another thread computes its whole
// product itself. Besides products, any function over a range of independent items can be split
// this way (align_pair_run: a decode step's attention heads, several products sharing an input). Each output column is computed by the same instructions whichever thread takes
// it, so the split never changes a bit.
#include "CKernels.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

typedef struct {
    const float *x;
    long ldx;
    const void *w;
    long ldw;
    float *y;
    long ldy;
    int m;
    long n0, n1, k;
    float alpha, beta;
    int bf16;
    void (*fn)(void *, long, long);   // a function job (align_pair_run) instead of a product
    void *ctx;
} job_t;

static void run_job(const job_t *j) {
    if (j->fn) {
        j->fn(j->ctx, j->n0, j->n1);
    } else if (j->bf16) {
        align_few_rows_nt_bf16(j->x, j->ldx, (const uint16_t *)j->w, j->ldw, j->y, j->ldy, j->m, j->n0, j->n1, j->k,
                               j->alpha, j->beta);
    } else {
        align_few_rows_nt_f32(j->x, j->ldx, (const float *)j->w, j->ldw, j->y, j->ldy, j->m, j->n0, j->n1, j->k,
                              j->alpha, j->beta);
    }
}

// How long the helper spins for the next job before it sleeps: about 100 us of pause instructions.
#define SPIN_ROUNDS 4096

static pthread_mutex_t submit = PTHREAD_MUTEX_INITIALIZER;   // one job in flight
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_once_t started = PTHREAD_ONCE_INIT;
static int helper_ok = 0;
static job_t posted;                          // written before `posted_seq` is advanced
static _Atomic unsigned long posted_seq = 0;  // jobs handed to the helper
static _Atomic unsigned long done_seq = 0;    // jobs it has finished
static _Atomic int sleeping = 0;

static void *helper(void *unused) {
    (void)unused;
    unsigned long seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load(&posted_seq) == seen && spins < SPIN_ROUNDS) {
            CPU_RELAX();
            spins++;
        }
        if (atomic_load(&posted_seq) == seen) {
            pthread_mutex_lock(&sleep_lock);
            atomic_store(&sleeping, 1);
            // the poster advances posted_seq before it reads `sleeping` (both sequentially
            // consistent), so either it sees 1 and signals, or this loop sees the new job
            while (atomic_load(&posted_seq) == seen) pthread_cond_wait(&wake, &sleep_lock);
            atomic_store(&sleeping, 0);
            pthread_mutex_unlock(&sleep_lock);
        }
        seen = atomic_load(&posted_seq);
        run_job(&posted);
        atomic_store(&done_seq, seen);
    }
    return 0;
}

static void start_helper(void) {
    pthread_t t;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    // the helper inherits a mask blocking every signal: SIGINT/SIGTERM keep reaching the threads
    // that handled them before (the run's checkpoint-on-signal path), never this one
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    helper_ok = pthread_create(&t, &attr, helper, 0) == 0;
    pthread_sigmask(SIG_SETMASK, &previous, 0);
    pthread_attr_destroy(&attr);
}

static void pair(job_t whole) {
    if (whole.n1 - whole.n0 < 2 || pthread_mutex_trylock(&submit) != 0) {
        run_job(&whole);
        return;
    }
    pthread_once(&started, start_helper);
    if (!helper_ok) {
        pthread_mutex_unlock(&submit);
        run_job(&whole);
        return;
    }
    // the helper takes the upper half of the columns, the caller the lower
    long mid = whole.n0 + (whole.n1 - whole.n0) / 2;
    job_t mine = whole;
    mine.n1 = mid;
    posted = whole;
    posted.n0 = mid;
    unsigned long seq = atomic_fetch_add(&posted_seq, 1) + 1;
    if (atomic_load(&sleeping)) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    run_job(&mine);
    // the helper's half takes about as long as ours; if it has not even started (its core is
    // busy elsewhere), give the core up instead of spinning through a whole time slice
    for (int spins = 0; atomic_load(&done_seq) != seq; spins++) {
        if (spins < SPIN_ROUNDS) CPU_RELAX();
        else sched_yield();
    }
    pthread_mutex_unlock(&submit);
}

void align_few_rows_nt_f32_pair(const float *x, long ldx, const float *w, long ldw, float *y, long ldy, int m, long n0,
                                long n1, long k, float alpha, float beta) {
    job_t j = {x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta, 0, 0, 0};
    pair(j);
}

void align_few_rows_nt_bf16_pair(const float *x, long ldx, const uint16_t *w, long ldw, float *y, long ldy, int m,
                                 long n0, long n1, long k, float alpha, float beta) {
    job_t j = {x, ldx, w, ldw, y, ldy, m, n0, n1, k, alpha, beta, 1, 0, 0};
    pair(j);
}

void align_pair_run(void (*fn)(void *ctx, long lo, long hi), void *ctx, long lo, long hi) {
    if (hi <= lo) return;
    job_t j = {0};
    j.n0 = lo;
    j.n1 = hi;
    j.fn = fn;
    j.ctx = ctx;
    pair(j);
}
