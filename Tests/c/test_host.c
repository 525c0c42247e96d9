/* Host mode (hlr_tuner_observe_host_f32/_f64): flat buffers, group offsets and a dense-matrix
 * Hessian-vector-product callback. The library's s_k = g_k'd_k and c_k = d_k'H d_k are checked
 * against values computed here from the same buffers and the callback's actual output. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static double naive_dot(const double *x, const double *y, size_t n) {
    long double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (long double)x[i] * y[i];
    return (double)sum;
}

static void widen(const float *x, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = x[i];
}

/* ------------------------------------------------------------------------------------------ */
/* A dense symmetric matrix behind the callback, recording everything the library passes.     */
/* ------------------------------------------------------------------------------------------ */

enum { MAX_CALLS = 16 };

typedef struct {
    size_t n;
    double *h;               /* row-major n x n */
    int calls;
    int fail_on_call;        /* 1-based call number that returns fail_status; 0: never */
    int fail_status;
    int nan_on_call;         /* 1-based call number that writes `poison` into out */
    double poison;
    size_t poison_index;
    int out_not_zeroed;      /* out held non-zero values on entry */
    int aliased;             /* v == out */
    int wrong_n;
    hlr_tuner *reenter;      /* call library functions on this handle from inside */
    uint64_t reenter_step;   /* the step being observed (it must still want curvature) */
    int reenter_failures;
    double *v_seen[MAX_CALLS];   /* copies of v and out per call (widened for f32) */
    double *out_seen[MAX_CALLS];
} dense_op;

static void op_init(dense_op *op, size_t n, uint64_t seed) {
    memset(op, 0, sizeof *op);
    op->n = n;
    op->h = calloc(n * n, sizeof *op->h);
    /* A symmetric matrix with a dominant diagonal (SPD) and small off-diagonal coupling. */
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i; j < n; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            double r = (double)(x >> 11) * 0x1.0p-53 - 0.5;
            double value = i == j ? 1.0 + 0.25 * (double)(i % 7) : 0.05 * r;
            op->h[i * n + j] = value;
            op->h[j * n + i] = value;
        }
    }
}

static void op_free(dense_op *op) {
    free(op->h);
    for (int i = 0; i < MAX_CALLS; i++) {
        free(op->v_seen[i]);
        free(op->out_seen[i]);
    }
    memset(op, 0, sizeof *op);
}

static void op_reentry(dense_op *op) {
    if (op->reenter == NULL) return;
    double lr = 0, info = 0;
    int wants = -1;
    size_t size = 0;
    if (hlr_tuner_get_lr(op->reenter, op->reenter_step, 0, &lr) != HLR_OK) op->reenter_failures++;
    if (hlr_tuner_wants_curvature(op->reenter, op->reenter_step, &wants) != HLR_OK || wants != 1)
        op->reenter_failures++;
    if (hlr_tuner_get_info(op->reenter, HLR_INFO_UPDATES, 0, &info) != HLR_OK) op->reenter_failures++;
    if (hlr_tuner_snapshot_size(op->reenter, &size) != HLR_OK) op->reenter_failures++;
    unsigned char *buffer = malloc(size);
    if (buffer == NULL || hlr_tuner_save(op->reenter, buffer, size, NULL) != HLR_OK) op->reenter_failures++;
    free(buffer);
    if (hlr_tuner_get_param(op->reenter, HLR_PARAM_SMOOTHING, &info) != HLR_OK) op->reenter_failures++;
}

/* The bookkeeping at the start of every callback: counts the call (returned, 1-based) and notes
 * a wrong n, aliased buffers or an `out` not zeroed; then the re-entrant calls, if asked for. */
static int op_enter(dense_op *op, size_t n, int aliased, int out_zeroed) {
    int call = ++op->calls;
    if (n != op->n) op->wrong_n = 1;
    if (aliased) op->aliased = 1;
    if (!out_zeroed) op->out_not_zeroed = 1;
    op_reentry(op);
    return call;
}

/* out <- H v in double, each row summed in index order. */
static void dense_product(const dense_op *op, const double *v, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (size_t j = 0; j < n; j++) sum += op->h[i * n + j] * v[j];
        out[i] = sum;
    }
}

/* Keeps copies of the call's v and out (the first MAX_CALLS calls). */
static void op_record(dense_op *op, int call, const double *v, const double *out, size_t n) {
    if (call > MAX_CALLS) return;
    free(op->v_seen[call - 1]); /* a reused recorder (calls reset to 0) */
    free(op->out_seen[call - 1]);
    op->v_seen[call - 1] = malloc(n * sizeof(double));
    op->out_seen[call - 1] = malloc(n * sizeof(double));
    memcpy(op->v_seen[call - 1], v, n * sizeof(double));
    memcpy(op->out_seen[call - 1], out, n * sizeof(double));
}

static int all_zero_f64(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0.0) return 0;
    return 1;
}

static int all_zero_f32(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0.0f) return 0;
    return 1;
}

static int hvp_f64(void *ctx, const double *v, double *out, size_t n) {
    dense_op *op = ctx;
    int call = op_enter(op, n, (const double *)out == v, all_zero_f64(out, n));
    if (call == op->fail_on_call) return op->fail_status;
    dense_product(op, v, out, n);
    if (call == op->nan_on_call) out[op->poison_index] = op->poison;
    op_record(op, call, v, out, n);
    return 0;
}

/* The f64 operator on widened vectors, its result rounded to float (the same bits as a float
 * callback summing in double). */
static int hvp_f32(void *ctx, const float *v, float *out, size_t n) {
    dense_op *op = ctx;
    int call = op_enter(op, n, (const float *)out == v, all_zero_f32(out, n));
    if (call == op->fail_on_call) return op->fail_status;
    double *wide_v = malloc(n * sizeof(double)), *wide_out = malloc(n * sizeof(double));
    widen(v, wide_v, n);
    dense_product(op, wide_v, wide_out, n);
    for (size_t i = 0; i < n; i++) out[i] = (float)wide_out[i];
    if (call == op->nan_on_call) out[op->poison_index] = (float)op->poison;
    widen(out, wide_out, n);
    op_record(op, call, wide_v, wide_out, n);
    free(wide_v);
    free(wide_out);
    return 0;
}

static void fill(double *x, size_t n, uint64_t seed) {
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = ((double)(s >> 11) * 0x1.0p-53 - 0.5) * 4.0;
    }
}

/* fill, and x32 <- x rounded to float. */
static void fill_with_float(double *x, float *x32, size_t n, uint64_t seed) {
    fill(x, n, seed);
    for (size_t i = 0; i < n; i++) x32[i] = (float)x[i];
}

/* A handle whose rate is the raw candidate (so s/c can be read back from the rate too). */
static hlr_tuner *make_tuner(size_t groups, int direction) {
    hlr_tuner *t = hlrt_create(groups);
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 1));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_DIRECTION, direction));
    return t;
}

/* Checks one host-mode observation against values computed from the buffers (in double:
 * gd, dd are the widened gradient and direction) and the callback's recorded products. */
static void check_observation(hlr_tuner *t, dense_op *op, const double *gd, const double *dd,
                              size_t n, const size_t *offsets, size_t groups) {
    int call = 0;
    for (size_t k = 0; k < groups; k++) {
        size_t lo = offsets ? offsets[k] : 0, hi = offsets ? offsets[k + 1] : n;
        double s = hlrt_dot(gd + lo, dd + lo, hi - lo);
        double slope = hlrt_info(t, HLR_INFO_LAST_SLOPE, k);
        double curvature = hlrt_info(t, HLR_INFO_LAST_CURVATURE, k);
        CHECK_EQ_DBL(slope, s);
        CHECK(fabs(slope - naive_dot(gd + lo, dd + lo, hi - lo)) <= 1e-12 * (1 + fabs(s)));
        if (hi == lo) {
            CHECK_EQ_DBL(curvature, 0.0);
            CHECK_EQ_DBL(slope, 0.0);
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, k), HLR_FLAG_ZERO_GRADIENT);
            continue;
        }
        if (call >= op->calls || op->v_seen[call] == NULL) {
            CHECK(!"fewer HVP calls than non-empty groups");
            return;
        }
        /* v is d on this group's slice and 0 elsewhere. */
        int outside = 0, inside = 0;
        for (size_t i = 0; i < n; i++) {
            double v = op->v_seen[call][i];
            if (i >= lo && i < hi) {
                if (memcmp(&v, &dd[i], sizeof v) != 0) inside++;
            } else if (v != 0.0) {
                outside++;
            }
        }
        CHECK_EQ_INT(outside, 0);
        CHECK_EQ_INT(inside, 0);
        double c = hlrt_dot(dd + lo, op->out_seen[call] + lo, hi - lo);
        CHECK_EQ_DBL(curvature, c);
        /* And against H computed directly (the dense product restricted to the group). */
        double direct = 0.0;
        for (size_t i = lo; i < hi; i++)
            for (size_t j = lo; j < hi; j++) direct += dd[i] * op->h[i * n + j] * dd[j];
        CHECK(fabs(curvature - direct) <= 1e-5 * (1 + fabs(direct)));
        call++;
    }
    CHECK_EQ_INT(op->calls, call); /* exactly one HVP per non-empty group */
    CHECK_EQ_INT(op->out_not_zeroed, 0);
    CHECK_EQ_INT(op->aliased, 0);
    CHECK_EQ_INT(op->wrong_n, 0);
}

/* The same observation through observe_curvature on a twin handle gives the same snapshot. */
static void check_twin(hlr_tuner *t, size_t groups, int direction, uint64_t step) {
    hlr_tuner *twin = make_tuner(groups, direction);
    double values[64];
    for (size_t k = 0; k < groups; k++) {
        values[2 * k] = hlrt_info(t, HLR_INFO_LAST_SLOPE, k);
        values[2 * k + 1] = hlrt_info(t, HLR_INFO_LAST_CURVATURE, k);
    }
    CHECK_OK(hlr_tuner_observe_curvature(twin, step, values, 2 * groups));
    hlrt_state a = hlrt_capture(t);
    CHECK(hlrt_same_state(twin, &a));
    hlrt_release(&a);
    CHECK_OK(hlr_tuner_free(twin));
}

/* A gradient g and a direction u of length n in float64, their float roundings g32 and u32, and
 * those widened back to double (gw, uw): what a float32 observation hands the library, in double. */
typedef struct {
    size_t n;
    double *g, *u, *gw, *uw;
    float *g32, *u32;
} host_vectors;

static host_vectors host_vectors_make(size_t n, uint64_t g_seed, uint64_t u_seed) {
    host_vectors v = {.n = n};
    v.g = malloc(n * sizeof *v.g);
    v.u = malloc(n * sizeof *v.u);
    v.gw = malloc(n * sizeof *v.gw);
    v.uw = malloc(n * sizeof *v.uw);
    v.g32 = malloc(n * sizeof *v.g32);
    v.u32 = malloc(n * sizeof *v.u32);
    fill_with_float(v.g, v.g32, n, g_seed);
    fill_with_float(v.u, v.u32, n, u_seed);
    widen(v.g32, v.gw, n);
    widen(v.u32, v.uw, n);
    return v;
}

static void host_vectors_free(host_vectors *v) {
    free(v->g);
    free(v->u);
    free(v->gw);
    free(v->uw);
    free(v->g32);
    free(v->u32);
}

/* The first observation (step 0) of a fresh make_tuner(groups, direction) handle, in float64 or
 * (f32) float32, through a fresh operator seeded `seed`: checked against the buffers
 * (check_observation; u is passed only with direction update) and against a twin handle
 * (check_twin). `offsets` NULL: one group. Returns the number of HVP calls. */
static int check_first_observation(const host_vectors *v, int f32, int direction, const size_t *offsets,
                                   size_t groups, uint64_t seed) {
    size_t n = v->n, n_offsets = offsets ? groups + 1 : 0;
    dense_op op;
    op_init(&op, n, seed);
    hlr_tuner *t = make_tuner(groups, direction);
    if (f32) {
        CHECK_OK(hlr_tuner_observe_host_f32(t, 0, v->g32, direction ? v->u32 : NULL, n, offsets, n_offsets,
                                            hvp_f32, &op));
        check_observation(t, &op, v->gw, direction ? v->uw : v->gw, n, offsets, groups);
    } else {
        CHECK_OK(hlr_tuner_observe_host_f64(t, 0, v->g, direction ? v->u : NULL, n, offsets, n_offsets, hvp_f64,
                                            &op));
        check_observation(t, &op, v->g, direction ? v->u : v->g, n, offsets, groups);
    }
    check_twin(t, groups, direction, 0);
    int calls = op.calls;
    op_free(&op);
    CHECK_OK(hlr_tuner_free(t));
    return calls;
}

static void test_single_group(void) {
    const size_t sizes[] = {1, 7, 8, 9, 16, 31, 64, 101};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        host_vectors v = host_vectors_make(n, 11 + n, 99 + n);
        const double *g = v.g, *u = v.u;
        for (int direction = 0; direction < 2; direction++) {
            const double *d64 = direction ? u : g;
            /* float64, NULL offsets (one group) */
            dense_op op;
            op_init(&op, n, 7 + n);
            hlr_tuner *t = make_tuner(1, direction);
            CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, direction ? u : NULL, n, NULL, 0, hvp_f64, &op));
            check_observation(t, &op, g, d64, n, NULL, 1);
            check_twin(t, 1, direction, 0);
            /* Offsets {0, n} are the same as NULL. */
            dense_op op2;
            op_init(&op2, n, 7 + n);
            hlr_tuner *t2 = make_tuner(1, direction);
            const size_t whole[2] = {0, n};
            CHECK_OK(hlr_tuner_observe_host_f64(t2, 0, g, direction ? u : NULL, n, whole, 2, hvp_f64, &op2));
            hlrt_state a = hlrt_capture(t);
            CHECK(hlrt_same_state(t2, &a));
            hlrt_release(&a);
            /* A second observation goes on from the first. */
            op.calls = 0;
            for (int i = 0; i < MAX_CALLS; i++) {
                free(op.v_seen[i]);
                free(op.out_seen[i]);
                op.v_seen[i] = op.out_seen[i] = NULL;
            }
            CHECK_OK(hlr_tuner_observe_host_f64(t, 1, g, direction ? u : NULL, n, NULL, 0, hvp_f64, &op));
            check_observation(t, &op, g, d64, n, NULL, 1);
            op_free(&op);
            op_free(&op2);
            CHECK_OK(hlr_tuner_free(t));
            CHECK_OK(hlr_tuner_free(t2));

            /* float32 */
            check_first_observation(&v, 1, direction, NULL, 1, 7 + n);
        }
        host_vectors_free(&v);
    }
}

static void test_multi_group(void) {
    enum { N = 29, G = 5 };
    /* Groups [0,3), [3,3) (empty), [3,12), [12,20), [20,29). */
    const size_t offsets[G + 1] = {0, 3, 3, 12, 20, 29};
    host_vectors v = host_vectors_make(N, 1234, 5678);
    for (int direction = 0; direction < 2; direction++)
        for (int f32 = 0; f32 < 2; f32++)
            CHECK_EQ_INT(check_first_observation(&v, f32, direction, offsets, G, 42), G - 1);
    /* Leading and trailing empty groups. */
    {
        const size_t edge[5] = {0, 0, 10, 29, 29};
        dense_op op;
        op_init(&op, N, 43);
        hlr_tuner *t = make_tuner(4, 0);
        CHECK_OK(hlr_tuner_observe_host_f64(t, 0, v.g, NULL, N, edge, 5, hvp_f64, &op));
        CHECK_EQ_INT(op.calls, 2);
        check_observation(t, &op, v.g, v.g, N, edge, 4);
        op_free(&op);
        CHECK_OK(hlr_tuner_free(t));
    }
    host_vectors_free(&v);
}

/* A known quadratic: H = diag(lambda), g along an eigenvector -> lr = 1/lambda exactly. */
static void test_eigenvector(void) {
    enum { N = 12 };
    dense_op op;
    op_init(&op, N, 1);
    memset(op.h, 0, N * N * sizeof *op.h);
    for (size_t i = 0; i < N; i++) op.h[i * N + i] = (double)(i + 1);
    for (size_t i = 0; i < N; i++) {
        hlr_tuner *t = make_tuner(1, 0);
        CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_SMOOTHING, 0.0));
        CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_BOUND_LOW, DBL_MIN));
        CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_BOUND_HIGH, DBL_MAX));
        CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_MIN, 0.0));
        double g[N] = {0};
        float g32[N] = {0};
        g[i] = 3.0;
        g32[i] = 3.0f;
        op.calls = 0;
        CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, NULL, N, NULL, 0, hvp_f64, &op));
        double lambda = (double)(i + 1);
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 9.0 / (9.0 * lambda));
        CHECK_OK(hlr_tuner_reset(t, HLR_RESET_STATE));
        CHECK_OK(hlr_tuner_observe_host_f32(t, 0, g32, NULL, N, NULL, 0, hvp_f32, &op));
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 9.0 / (9.0 * lambda));
        CHECK_OK(hlr_tuner_free(t));
    }
    op_free(&op);
}

/* One refused observation at step 1, made in float64 (g, u) and then in float32 (g32, u32)
 * through the same operator: each returns `expected` and leaves the handle unchanged. */
static void check_refused_in_both(hlr_tuner *t, dense_op *op, const double *g, const double *u, const float *g32,
                                  const float *u32, const size_t *offsets, size_t n_offsets, int expected) {
    size_t n = op->n;
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 1, g, u, n, offsets, n_offsets, hvp_f64, op), expected);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f32(t, 1, g32, u32, n, offsets, n_offsets, hvp_f32, op),
                          expected);
}

static void test_failures(void) {
    enum { N = 20, G = 3 };
    const size_t offsets[G + 1] = {0, 5, 12, 20};
    double g[N], u[N];
    float g32[N], u32[N];
    fill_with_float(g, g32, N, 3);
    fill_with_float(u, u32, N, 4);
    hlr_tuner *t = make_tuner(G, HLR_DIRECTION_GRADIENT);
    /* Give the handle some history first. */
    dense_op op;
    op_init(&op, N, 5);
    CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, NULL, N, offsets, G + 1, hvp_f64, &op));
    op_free(&op);

    /* The callback fails on the first, second or last group: CALLBACK, nothing changes. */
    const int statuses[] = {1, -1, 42};
    for (int call = 1; call <= G; call++) {
        for (int si = 0; si < 3; si++) {
            op_init(&op, N, 5);
            op.fail_on_call = call;
            op.fail_status = statuses[si];
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 1, g, NULL, N, offsets, G + 1, hvp_f64, &op),
                                  HLR_ERR_CALLBACK);
            char text[32];
            snprintf(text, sizeof text, "%d", statuses[si]);
            CHECK_ERROR_HAS(text);
            CHECK_EQ_INT(op.calls, call); /* aborted at once */
            op_free(&op);
            op_init(&op, N, 5);
            op.fail_on_call = call;
            op.fail_status = statuses[si];
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f32(t, 1, g32, NULL, N, offsets, G + 1, hvp_f32, &op),
                                  HLR_ERR_CALLBACK);
            op_free(&op);
        }
    }
    /* The callback writes NaN or Inf into the group's slice: NONFINITE, nothing changes. */
    const double poisons[] = {NAN, INFINITY, -INFINITY};
    for (int call = 1; call <= G; call++) {
        for (int pi = 0; pi < 3; pi++) {
            op_init(&op, N, 5);
            op.nan_on_call = call;
            op.poison = poisons[pi];
            op.poison_index = offsets[call - 1]; /* first element of the group's slice */
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 1, g, NULL, N, offsets, G + 1, hvp_f64, &op),
                                  HLR_ERR_NONFINITE);
            op_free(&op);
            op_init(&op, N, 5);
            op.nan_on_call = call;
            op.poison = poisons[pi];
            op.poison_index = offsets[call] - 1; /* last element of the slice */
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f32(t, 1, g32, NULL, N, offsets, G + 1, hvp_f32, &op),
                                  HLR_ERR_NONFINITE);
            op_free(&op);
        }
    }
    /* NaN / Inf in the gradient (and, with direction update, in the update). */
    for (size_t where = 0; where < N; where += 6) {
        for (int pi = 0; pi < 3; pi++) {
            double bad[N];
            float bad32[N];
            memcpy(bad, g, sizeof bad);
            memcpy(bad32, g32, sizeof bad32);
            bad[where] = poisons[pi];
            bad32[where] = (float)poisons[pi];
            op_init(&op, N, 5);
            check_refused_in_both(t, &op, bad, NULL, bad32, NULL, offsets, G + 1, HLR_ERR_NONFINITE);
            op_free(&op);
        }
    }
    /* Invalid offsets: refused before any HVP. */
    const size_t not_from_zero[G + 1] = {1, 5, 12, 20};
    const size_t decreasing[G + 1] = {0, 12, 5, 20};
    const size_t short_end[G + 1] = {0, 5, 12, 19};
    const size_t long_end[G + 1] = {0, 5, 12, 21};
    const size_t *bad_offsets[] = {not_from_zero, decreasing, short_end, long_end};
    for (int i = 0; i < 4; i++) {
        op_init(&op, N, 5);
        check_refused_in_both(t, &op, g, NULL, g32, NULL, bad_offsets[i], G + 1, HLR_ERR_INVALID_ARGUMENT);
        CHECK_EQ_INT(op.calls, 0);
        op_free(&op);
    }
    /* Wrong offset count. */
    const size_t counts[] = {0, 1, G, G + 2, SIZE_MAX};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        op_init(&op, N, 5);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 1, g, NULL, N, offsets, counts[i], hvp_f64, &op),
                              HLR_ERR_INVALID_ARGUMENT);
        CHECK_EQ_INT(op.calls, 0);
        op_free(&op);
    }
    /* NULL offsets with more than one group. */
    op_init(&op, N, 5);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 1, g, NULL, N, NULL, 0, hvp_f64, &op),
                          HLR_ERR_NULL_POINTER);
    /* An update buffer although direction is gradient. */
    check_refused_in_both(t, &op, g, u, g32, u32, offsets, G + 1, HLR_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(op.calls, 0);
    op_free(&op);
    /* Direction update: an update buffer is required. */
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_DIRECTION, HLR_DIRECTION_UPDATE));
    op_init(&op, N, 5);
    check_refused_in_both(t, &op, g, NULL, g32, NULL, offsets, G + 1, HLR_ERR_NULL_POINTER);
    CHECK_EQ_INT(op.calls, 0);
    double bad_u[N];
    memcpy(bad_u, u, sizeof bad_u);
    bad_u[7] = NAN;
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 1, g, bad_u, N, offsets, G + 1, hvp_f64, &op),
                          HLR_ERR_NONFINITE);
    op_free(&op);
    /* A step that wants nothing: no HVP is spent. */
    op_init(&op, N, 5);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 0, g, u, N, offsets, G + 1, hvp_f64, &op),
                          HLR_ERR_WRONG_STATE);
    CHECK_EQ_INT(op.calls, 0);
    /* And after all that the handle takes the observation. */
    CHECK_OK(hlr_tuner_observe_host_f64(t, 1, g, u, N, offsets, G + 1, hvp_f64, &op));
    check_observation(t, &op, g, u, N, offsets, G);
    op_free(&op);
    CHECK_OK(hlr_tuner_free(t));
}

/* The callback calls back into the library on the same handle: no deadlock, works. */
static void test_reentry(void) {
    enum { N = 10 };
    double g[N];
    float g32[N];
    fill_with_float(g, g32, N, 77);
    const size_t offsets[3] = {0, 4, 10};
    hlr_tuner *t = make_tuner(2, 0);
    dense_op op;
    op_init(&op, N, 9);
    op.reenter = t;
    CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, NULL, N, offsets, 3, hvp_f64, &op));
    CHECK_EQ_INT(op.calls, 2);
    CHECK_EQ_INT(op.reenter_failures, 0);
    check_observation(t, &op, g, g, N, offsets, 2);
    op_free(&op);
    op_init(&op, N, 9);
    op.reenter = t;
    op.reenter_step = 1;
    CHECK_OK(hlr_tuner_observe_host_f32(t, 1, g32, NULL, N, offsets, 3, hvp_f32, &op));
    CHECK_EQ_INT(op.calls, 2);
    CHECK_EQ_INT(op.reenter_failures, 0);
    op_free(&op);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 2.0);
    CHECK_OK(hlr_tuner_free(t));
}

/* ctx reaches the callback unchanged, including NULL. */
static int hvp_ctx_f64(void *ctx, const double *v, double *out, size_t n) {
    if (ctx != (void *)(uintptr_t)0xC0FFEE) return 5;
    for (size_t i = 0; i < n; i++) out[i] = 2.0 * v[i];
    return 0;
}
static int hvp_null_ctx_f32(void *ctx, const float *v, float *out, size_t n) {
    if (ctx != NULL) return 5;
    for (size_t i = 0; i < n; i++) out[i] = 2.0f * v[i];
    return 0;
}

static void test_context(void) {
    double g[3] = {1, 2, 3};
    float g32[3] = {1, 2, 3};
    hlr_tuner *t = make_tuner(1, 0);
    CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, NULL, 3, NULL, 0, hvp_ctx_f64, (void *)(uintptr_t)0xC0FFEE));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_SLOPE, 0), 14.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CURVATURE, 0), 28.0);
    CHECK_OK(hlr_tuner_observe_host_f32(t, 1, g32, NULL, 3, NULL, 0, hvp_null_ctx_f32, NULL));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CURVATURE, 0), 28.0);
    CHECK_OK(hlr_tuner_free(t));
}

/* Bigger buffers: reproducible bit for bit across calls and handles. */
static void test_reproducible(void) {
    enum { N = 10007 };
    double *g = malloc(N * sizeof *g);
    fill(g, N, 2024);
    const size_t offsets[4] = {0, 1000, 5003, N};
    double first[6] = {0};
    for (int run = 0; run < 3; run++) {
        hlr_tuner *t = make_tuner(3, 0);
        /* A cheap HVP: H = 2 I. */
        CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, NULL, N, offsets, 4, hvp_ctx_f64, (void *)(uintptr_t)0xC0FFEE));
        for (size_t k = 0; k < 3; k++) {
            double s = hlrt_info(t, HLR_INFO_LAST_SLOPE, k);
            double c = hlrt_info(t, HLR_INFO_LAST_CURVATURE, k);
            double es = hlrt_dot(g + offsets[k], g + offsets[k], offsets[k + 1] - offsets[k]);
            CHECK_EQ_DBL(s, es);
            CHECK_EQ_DBL(c, 2.0 * es); /* exact: scaling by 2 commutes with rounding */
            if (run == 0) {
                first[2 * k] = s;
                first[2 * k + 1] = c;
            } else {
                CHECK_EQ_DBL(s, first[2 * k]);
                CHECK_EQ_DBL(c, first[2 * k + 1]);
            }
        }
        CHECK_OK(hlr_tuner_free(t));
    }
    free(g);
}

int main(void) {
    test_single_group();
    test_multi_group();
    test_eigenvector();
    test_failures();
    test_reentry();
    test_context();
    test_reproducible();
    return CHECK_SUMMARY();
}
