/*
 * test_bounds.c — (pointer, count) pairs whose count is larger than the caller's real buffer.
 *
 * Every buffer here is placed so that its last byte is the last byte before a PROT_NONE page:
 * a single read or write past it faults (SIGSEGV), also without AddressSanitizer. The library
 * must never take a count beyond what the data itself declares:
 *
 *   - snapshots (hlr_tuner_restore, hlr_schedule_load): the 16-byte header is read first, then
 *     only the length it declares; a size above it is refused, a smaller one is truncated;
 *   - counts the library knows (observation values, probes, rates, group offsets): a different
 *     count is refused before a single element is read or written;
 *   - output capacities (estimator results): only the real size is written, however large n.
 *
 * Counts that nothing but the caller declares (keys/values of set_params, milestones, join
 * pieces, host buffers of n elements) cannot be checked by any library; SECURITY.md says so.
 */
#define _DEFAULT_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

/* A copy of `n` bytes ending right before a PROT_NONE page. */
typedef struct {
    unsigned char *base;
    size_t mapped;
    unsigned char *data;
} guarded;

static guarded guard_copy(const void *bytes, size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (n + page - 1) / page + 1;
    guarded g = {NULL, pages * page, NULL};
    void *base = mmap(NULL, g.mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    g.base = base;
    if (mprotect(g.base + (pages - 1) * page, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    g.data = g.base + (pages - 1) * page - n;
    if (n > 0) memcpy(g.data, bytes, n);
    return g;
}

static void guard_free(guarded *g) {
    munmap(g->base, g->mapped);
    g->base = NULL;
}

/* Sizes past the real n: just past, a page past, 2^34, 2^39 (within the 2^40 size limit). */
static const uint64_t extra_sizes[] = {1, 15, 4096, (1ull << 34), (1ull << 39)};
enum { N_EXTRA = sizeof extra_sizes / sizeof extra_sizes[0] };

static hlr_schedule *cyclic_schedule(void) {
    hlr_schedule *s = hlrt_schedule(HLR_SCHEDULE_CYCLIC);
    CHECK_OK(hlr_schedule_set_param(s, HLR_SCHED_PARAM_STEP_SIZE_UP, 3));
    return s;
}

/* A tuner blob with and without the schedule container behind it. */
static void test_tuner_restore_sizes(void) {
    for (int method = 1; method <= 6; method++) {
        for (int with_schedule = 0; with_schedule <= 1; with_schedule++) {
            hlr_tuner *t = hlrt_create_method(method, 2);
            if (with_schedule) {
                hlr_schedule *s = cyclic_schedule();
                CHECK_OK(hlr_tuner_set_schedule(t, s));
                hlr_schedule_free(s);
            }
            hlrt_state snap = hlrt_capture(t);
            CHECK(snap.bytes != NULL);
            guarded g = guard_copy(snap.bytes, snap.size);
            CHECK_OK(hlr_tuner_restore(t, g.data, snap.size));
            for (int i = 0; i < N_EXTRA; i++) {
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, g.data, snap.size + extra_sizes[i]),
                                      HLR_ERR_SNAPSHOT_CORRUPT);
                CHECK_ERROR_HAS("declares");
            }
            /* Every prefix, itself at the guard, with its own size and with a size past it. */
            for (size_t len = 0; len < snap.size; len++) {
                guarded p = guard_copy(snap.bytes, len);
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, p.data, len), HLR_ERR_SNAPSHOT_CORRUPT);
                guard_free(&p);
            }
            /* The tuner container alone although its header announces a schedule, with its own
             * size: truncated. (A size that also claims the announced schedule is a buffer
             * that lies together with its data: nothing can detect that.) */
            if (with_schedule) {
                size_t own = 0;
                hlr_tuner *plain = hlrt_create_method(method, 2);
                CHECK_OK(hlr_tuner_snapshot_size(plain, &own));
                hlr_tuner_free(plain);
                guarded p = guard_copy(snap.bytes, own);
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, p.data, own), HLR_ERR_SNAPSHOT_CORRUPT);
                guard_free(&p);
            }
            /* Above the size limit: refused before any byte is read. */
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, g.data, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT);
            guard_free(&g);
            hlrt_release(&snap);
            hlr_tuner_free(t);
        }
    }
}

static void test_schedule_load_sizes(void) {
    hlr_schedule *s = cyclic_schedule();
    hlrt_state snap = hlrt_capture_schedule(s);
    CHECK(snap.bytes != NULL);
    guarded g = guard_copy(snap.bytes, snap.size);
    hlr_schedule *out = NULL;
    CHECK_OK(hlr_schedule_load(g.data, snap.size, &out));
    hlr_schedule_free(out);
    for (int i = 0; i < N_EXTRA; i++) {
        out = (hlr_schedule *)(uintptr_t)1;
        CHECK_FAILS(hlr_schedule_load(g.data, snap.size + extra_sizes[i], &out), HLR_ERR_SNAPSHOT_CORRUPT);
        CHECK_ERROR_HAS("declares");
        CHECK(out == NULL);
    }
    for (size_t len = 0; len < snap.size; len++) {
        guarded p = guard_copy(snap.bytes, len);
        CHECK_FAILS(hlr_schedule_load(p.data, len, &out), HLR_ERR_SNAPSHOT_CORRUPT);
        guard_free(&p);
    }
    /* A tuner blob is not a schedule blob, and the reverse. */
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_CONSTANT, 1);
    hlrt_state tuner_snap = hlrt_capture(t);
    guarded tg = guard_copy(tuner_snap.bytes, tuner_snap.size);
    CHECK_FAILS(hlr_schedule_load(tg.data, tuner_snap.size + 4096, &out), HLR_ERR_SNAPSHOT_CORRUPT);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, g.data, snap.size + 4096), HLR_ERR_SNAPSHOT_CORRUPT);
    guard_free(&tg);
    hlrt_release(&tuner_snap);
    hlr_tuner_free(t);
    guard_free(&g);
    hlrt_release(&snap);
    hlr_schedule_free(s);
}

/* Counts the library knows: a larger count is refused before the buffer is touched. */
static void test_known_counts(void) {
    enum { G = 3 };
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_HESSIANLR, G);
    double values[2 * G] = {1, 2, 1, 2, 1, 2};
    guarded v = guard_copy(values, sizeof values);
    const double *vp = (const double *)(const void *)v.data;
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe(t, 0, HLR_NEED_CURVATURE, vp, 2 * G + 1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe(t, 0, HLR_NEED_CURVATURE, vp, 1u << 30), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 0, vp, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_CURVATURE, vp, 2 * G));
    guard_free(&v);

    double lrs[G];
    guarded out = guard_copy(lrs, sizeof lrs);
    double *op = (double *)(void *)out.data;
    CHECK_FAILS(hlr_tuner_get_lrs(t, 1, op, G + 1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_tuner_get_lrs(t, 1, op, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_tuner_get_lrs(t, 1, op, G));
    guard_free(&out);

    /* Host group offsets: n_offsets must be groups + 1. */
    enum { N = 12 };
    double g[N];
    for (int i = 0; i < N; i++) g[i] = 0.1 * (i + 1);
    size_t offsets[G + 1] = {0, 4, 8, N};
    guarded off = guard_copy(offsets, sizeof offsets);
    const size_t *offp = (const size_t *)(const void *)off.data;
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 10, g, NULL, N, offp, G + 2, NULL, NULL),
                          HLR_ERR_NULL_POINTER);
    guard_free(&off);
    hlr_tuner_free(t);

    /* GeN probes: n must be the probe count × groups. */
    hlr_tuner *gen = hlrt_create_method(HLR_METHOD_GEN, 1);
    int need = 0;
    size_t count = 0;
    CHECK_OK(hlr_tuner_need(gen, 0, &need, &count));
    CHECK_EQ_INT(need, HLR_NEED_LOSSES);
    double probes[16];
    guarded pr = guard_copy(probes, count * sizeof(double));
    double *prp = (double *)(void *)pr.data;
    CHECK_FAILS(hlr_tuner_get_probes(gen, 0, prp, count + 1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_tuner_get_probes(gen, 0, prp, count));
    guard_free(&pr);
    hlr_tuner_free(gen);
}

static int diag_hvp(void *ctx, const double *v, double *out, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n; i++) out[i] = (double)(i + 1) * v[i];
    return 0;
}

/* Output capacities: n may exceed the result; only the result's size is written. */
static void test_output_capacity(void) {
    hlr_estimator *e = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_LANCZOS, &e));
    CHECK_OK(hlr_estimator_set_param(e, HLR_EST_PARAM_COUNT, 2));
    CHECK_OK(hlr_estimator_run_host_f64(e, 8, diag_hvp, NULL));
    size_t size = 0;
    CHECK_OK(hlr_estimator_result_size(e, HLR_RESULT_EIGENVALUES, &size));
    CHECK_EQ_INT(size, 2);
    double values[2];
    guarded out = guard_copy(values, sizeof values);
    double *op = (double *)(void *)out.data;
    CHECK_OK(hlr_estimator_get_result(e, HLR_RESULT_EIGENVALUES, op, (size_t)1 << 40));
    CHECK_NEAR(op[0], 8.0, 1e-9);
    CHECK_FAILS(hlr_estimator_get_result(e, HLR_RESULT_EIGENVALUES, op, 1), HLR_ERR_BUFFER_TOO_SMALL);
    guard_free(&out);
    hlr_estimator_free(e);
}

int main(void) {
    test_tuner_restore_sizes();
    test_schedule_load_sizes();
    test_known_counts();
    test_output_capacity();
    return CHECK_SUMMARY();
}
