/* hlr_vector_ops.all_reduce: estimators over vectors SHARDED across processes (threads here,
 * with a real barrier all-reduce). The operator is diagonal with known eigenvalues, split into P
 * contiguous shards; each rank's callbacks touch only its shard (fill_probe fills local element j
 * with the probe's element offset + j). Checked for P = 1..4:
 *
 *  1. every rank gets the same results bit for bit;
 *  2. they equal the unsharded run to rounding (only the order of the dot products' partial
 *     sums differs): Lanczos top eigenvalues, Hutchinson / Hutch++ / XTrace traces;
 *  3. the dimension is the sum of the shards (Lanczos on n = 48 in 4 shards of 12 finds all 48
 *     eigenvalues' top ones, which a 12-dimensional Krylov space could not);
 *  4. an all_reduce that does not add the ranks' arrays is HLR_ERR_CALLBACK naming the shard
 *     lengths; block offsets with all_reduce are refused.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reducer.h"

enum { N = 48, MAXV = 64 };

typedef struct {
    int rank, processes;
    size_t offset, n;         /* this shard: global indices [offset, offset + n) */
    double *pool[MAXV];       /* vectors by handle (1-based), NULL when free */
    hlrt_reducer *reducer;    /* NULL: one unsharded process */
    int wrong_reduce;         /* 1: halve the local values instead of summing over the ranks */
} shard;

static double eigenvalue(size_t i) { return 0.5 + (double)((i * 37) % N) * 0.25 - (i % 7 == 3 ? 6.0 : 0.0); }

static int op_alloc(void *ctx, uint64_t *out) {
    shard *s = ctx;
    for (uint64_t h = 1; h < MAXV; h++)
        if (s->pool[h] == NULL) {
            s->pool[h] = calloc(s->n, sizeof(double));
            if (s->pool[h] == NULL) return 1;
            *out = h;
            return 0;
        }
    return 2;
}
static void op_release(void *ctx, uint64_t v) {
    shard *s = ctx;
    free(s->pool[v]);
    s->pool[v] = NULL;
}
static int op_copy(void *ctx, uint64_t src, uint64_t dst) {
    shard *s = ctx;
    memcpy(s->pool[dst], s->pool[src], s->n * sizeof(double));
    return 0;
}
static int op_dot(void *ctx, uint64_t x, uint64_t y, double *out) {
    shard *s = ctx;
    double sum = 0.0;
    for (size_t i = 0; i < s->n; i++) sum += s->pool[x][i] * s->pool[y][i];
    *out = sum;
    return 0;
}
static int op_axpy(void *ctx, double a, uint64_t x, uint64_t y) {
    shard *s = ctx;
    for (size_t i = 0; i < s->n; i++) s->pool[y][i] += a * s->pool[x][i];
    return 0;
}
static int op_scale(void *ctx, double a, uint64_t x) {
    shard *s = ctx;
    for (size_t i = 0; i < s->n; i++) s->pool[x][i] *= a;
    return 0;
}
static int op_fill(void *ctx, uint64_t v, uint64_t seed, uint64_t stream, uint64_t index, int distribution) {
    shard *s = ctx;
    return hlr_probe_fill_f64(seed, stream, index, distribution, s->offset, s->pool[v], s->n);
}
static int op_hvp(void *ctx, uint64_t v, uint64_t out) {
    shard *s = ctx;
    for (size_t i = 0; i < s->n; i++) s->pool[out][i] = eigenvalue(s->offset + i) * s->pool[v][i];
    return 0;
}
static int op_mul_acc(void *ctx, double a, uint64_t x, uint64_t y, uint64_t acc) {
    shard *s = ctx;
    for (size_t i = 0; i < s->n; i++) s->pool[acc][i] += a * s->pool[x][i] * s->pool[y][i];
    return 0;
}
static int op_reduce(void *ctx, double *values, size_t count) {
    shard *s = ctx;
    if (s->wrong_reduce) { /* a local scaling where a collective sum is needed */
        for (size_t i = 0; i < count; i++) values[i] *= 0.5;
        return 0;
    }
    return hlrt_reduce(s->reducer, s->rank, values, count);
}

static hlr_vector_ops make_ops(int sharded, size_t n) {
    hlr_vector_ops ops = hlrt_vector_ops(n, op_alloc, op_release, op_copy, op_dot, op_axpy, op_scale,
                                         op_fill, op_hvp, op_mul_acc, NULL);
    ops.all_reduce = sharded ? op_reduce : NULL;
    return ops;
}

typedef struct {
    int kind;
    double results[8];
    size_t count;
    int status;
} outcome;

static hlr_estimator *make_estimator(int kind) {
    hlr_estimator *e = NULL;
    if (hlr_estimator_create(kind, &e) != HLR_OK) exit(2);
    hlr_estimator_set_seed(e, 2026);
    switch (kind) {
    case HLR_ESTIMATOR_LANCZOS:
        hlr_estimator_set_param(e, HLR_EST_PARAM_COUNT, 3);
        hlr_estimator_set_param(e, HLR_EST_PARAM_MAX_DIMENSION, N);
        break;
    case HLR_ESTIMATOR_HUTCHINSON: hlr_estimator_set_param(e, HLR_EST_PARAM_SAMPLES, 20); break;
    default: hlr_estimator_set_param(e, HLR_EST_PARAM_MATVECS, 24); break;
    }
    return e;
}

static void collect(hlr_estimator *e, outcome *o) {
    int key = o->kind == HLR_ESTIMATOR_LANCZOS ? HLR_RESULT_EIGENVALUES : HLR_RESULT_TRACE;
    o->count = 0;
    if (hlr_estimator_result_size(e, key, &o->count) != HLR_OK || o->count > 8) return;
    hlr_estimator_get_result(e, key, o->results, o->count);
}

typedef struct {
    shard s;
    outcome o;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    hlr_estimator *e = make_estimator(j->o.kind);
    hlr_vector_ops ops = make_ops(j->s.reducer != NULL, j->s.n);
    j->o.status = hlr_estimator_run_ops(e, &ops, &j->s);
    if (j->o.status == HLR_OK) collect(e, &j->o);
    for (int h = 0; h < MAXV; h++) free(j->s.pool[h]);
    hlr_estimator_free(e);
    return NULL;
}

static void run_sharded(int kind, int processes, int wrong, job *jobs) {
    hlrt_reducer red;
    hlrt_reducer_init(&red, processes);
    pthread_t threads[HLRT_MAX_RANKS];
    size_t base = N / (size_t)processes;
    for (int p = 0; p < processes; p++) {
        memset(&jobs[p], 0, sizeof jobs[p]);
        jobs[p].s.rank = p;
        jobs[p].s.processes = processes;
        jobs[p].s.offset = base * (size_t)p;
        jobs[p].s.n = p == processes - 1 ? N - base * (size_t)p : base;
        jobs[p].s.reducer = &red;
        jobs[p].s.wrong_reduce = wrong;
        jobs[p].o.kind = kind;
        pthread_create(&threads[p], NULL, run_job, &jobs[p]);
    }
    for (int p = 0; p < processes; p++) pthread_join(threads[p], NULL);
    hlrt_reducer_destroy(&red);
}

static void test_shards_agree_with_the_unsharded_run(void) {
    const int kinds[] = {HLR_ESTIMATOR_LANCZOS, HLR_ESTIMATOR_HUTCHINSON, HLR_ESTIMATOR_HUTCH_PLUS_PLUS,
                         HLR_ESTIMATOR_XTRACE};
    double exact_trace = 0.0;
    for (size_t i = 0; i < N; i++) exact_trace += eigenvalue(i);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        job single;
        memset(&single, 0, sizeof single);
        single.s.n = N;
        single.o.kind = kinds[k];
        run_job(&single);
        CHECK_OK(single.o.status);
        if (kinds[k] != HLR_ESTIMATOR_LANCZOS) CHECK_NEAR(single.o.results[0], exact_trace, 0.5);
        for (int processes = 1; processes <= 4; processes++) {
            job jobs[HLRT_MAX_RANKS];
            run_sharded(kinds[k], processes, 0, jobs);
            for (int p = 0; p < processes; p++) {
                CHECK_OK(jobs[p].o.status);
                CHECK_EQ_INT(jobs[p].o.count, single.o.count);
                for (size_t i = 0; i < single.o.count && i < jobs[p].o.count; i++) {
                    CHECK_EQ_DBL(jobs[p].o.results[i], jobs[0].o.results[i]);
                    CHECK_NEAR(jobs[p].o.results[i], single.o.results[i], 1e-10);
                }
            }
        }
    }
}

static void test_the_dimension_is_the_sum_of_the_shards(void) {
    /* Lanczos top-3 on 4 shards of 12: the exact top eigenvalues of the 48-dimensional operator. */
    double sorted[N];
    for (size_t i = 0; i < N; i++) sorted[i] = eigenvalue(i);
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            if (sorted[j] > sorted[i]) {
                double t = sorted[i];
                sorted[i] = sorted[j];
                sorted[j] = t;
            }
    job jobs[HLRT_MAX_RANKS];
    run_sharded(HLR_ESTIMATOR_LANCZOS, 4, 0, jobs);
    CHECK_OK(jobs[0].o.status);
    for (size_t i = 0; i < 3; i++) CHECK_NEAR(jobs[0].o.results[i], sorted[i], 1e-9);
}

static void test_a_wrong_reduce_and_blocks_are_refused(void) {
    job jobs[HLRT_MAX_RANKS];
    run_sharded(HLR_ESTIMATOR_HUTCHINSON, 2, 1, jobs);
    for (int p = 0; p < 2; p++) CHECK_EQ_INT(jobs[p].o.status, HLR_ERR_CALLBACK);
    hlr_estimator *e = make_estimator(HLR_ESTIMATOR_HUTCHINSON);
    const size_t offsets[3] = {0, 20, N};
    CHECK_OK(hlr_estimator_set_blocks(e, offsets, 3));
    shard s;
    memset(&s, 0, sizeof s);
    s.n = N;
    hlrt_reducer solo;
    hlrt_reducer_init(&solo, 1);
    s.reducer = &solo;
    hlr_vector_ops ops = make_ops(1, s.n);
    CHECK_FAILS(hlr_estimator_run_ops(e, &ops, &s), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("all_reduce");
    /* An older caller's struct (version 1, without the field) never has its memory past
     * struct_size read: the run is unsharded. */
    ops.struct_size = 12 * sizeof(void *);
    ops.all_reduce = (int (*)(void *, double *, size_t))(uintptr_t)0xdead; /* never called */
    CHECK_OK(hlr_estimator_set_blocks(e, NULL, 0));
    CHECK_OK(hlr_estimator_run_ops(e, &ops, &s));
    for (int h = 0; h < MAXV; h++) free(s.pool[h]);
    hlrt_reducer_destroy(&solo);
    hlr_estimator_free(e);
}

int main(void) {
    test_shards_agree_with_the_unsharded_run();
    test_the_dimension_is_the_sum_of_the_shards();
    test_a_wrong_reduce_and_blocks_are_refused();
    return CHECK_SUMMARY();
}
