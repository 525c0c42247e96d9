/* Curvature estimators through the C ABI (hlr_estimator_*): dense symmetric matrices with known
 * spectra behind the host HVP callbacks (f64, f32) and behind an hlr_vector_ops table implemented
 * here over plain double arrays. The ops table computes what the host backend computes (the
 * library's documented dot order, the same elementwise formulas, hlr_probe_fill_f64), so host f64
 * and ops runs must agree bit for bit. Statistical checks use fixed seeds and state their
 * tolerances; every failure path returns its documented status with a message, calls no callback
 * when the arguments are invalid, and leaks no vector of the ops backend. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* |a - b| <= rel * max(|a|, |b|), or a == b. */
#define EST_NEAR(a, b, rel) est_near_((double)(a), (double)(b), (double)(rel), __FILE__, __LINE__, #a, #b)

static int est_near_(double a, double b, double rel, const char *file, int line, const char *ea,
                     const char *eb) {
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    int ok = a == b || (isfinite(a) && isfinite(b) && fabs(a - b) <= rel * scale);
    if (!ok)
        fprintf(stderr, "%s:%d: %s = %.17g vs %s = %.17g (relative tolerance %g)\n", file, line,
                ea, a, eb, b, rel);
    return check_report_(ok, file, line, "EST_NEAR");
}

/* ------------------------------------------------------------------------------------------ */
/* Dense symmetric matrices with known spectra: A = Q diag(lambda) Q', Q = product of          */
/* Householder reflections from a fixed LCG.                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    size_t n;
    double *a;       /* row-major n x n */
    double *lambda;  /* the spectrum, as given */
} matrix;

static uint64_t lcg_state;
static double lcg_uniform(void) { /* in [-0.5, 0.5) */
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) * 0x1.0p-53 - 0.5;
}

static matrix matrix_make(const double *lambda, size_t n, int reflections, uint64_t seed) {
    matrix m = {n, calloc(n * n, sizeof(double)), malloc(n * sizeof(double))};
    memcpy(m.lambda, lambda, n * sizeof(double));
    for (size_t i = 0; i < n; i++) m.a[i * n + i] = lambda[i];
    lcg_state = seed;
    double *u = malloc(n * sizeof(double)), *p = malloc(n * sizeof(double));
    for (int r = 0; r < reflections; r++) {
        double norm = 0;
        for (size_t i = 0; i < n; i++) {
            u[i] = lcg_uniform();
            norm += u[i] * u[i];
        }
        norm = sqrt(norm);
        for (size_t i = 0; i < n; i++) u[i] /= norm;
        /* A <- (I - 2uu') A (I - 2uu') = A - 2 u p' - 2 p u' + 4 (u'p) u u', p = A u. */
        double up = 0;
        for (size_t i = 0; i < n; i++) {
            p[i] = 0;
            for (size_t j = 0; j < n; j++) p[i] += m.a[i * n + j] * u[j];
            up += u[i] * p[i];
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                m.a[i * n + j] += -2 * u[i] * p[j] - 2 * p[i] * u[j] + 4 * up * u[i] * u[j];
    }
    /* Exactly symmetric (the update above is symmetric up to rounding). */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) m.a[j * n + i] = m.a[i * n + j];
    free(u);
    free(p);
    return m;
}

static void matrix_free(matrix *m) {
    free(m->a);
    free(m->lambda);
    memset(m, 0, sizeof *m);
}

static double matrix_trace(const matrix *m) {
    double t = 0;
    for (size_t i = 0; i < m->n; i++) t += m->a[i * m->n + i];
    return t;
}

/* 2 * sum_{i != j} a_ij^2: the variance of z'Az for a Rademacher z. */
static double rademacher_variance(const matrix *m) {
    double s = 0;
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = 0; j < m->n; j++)
            if (i != j) s += m->a[i * m->n + j] * m->a[i * m->n + j];
    return 2 * s;
}

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Host HVP callbacks                                                                         */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    const matrix *m;
    long calls;
    long fail_on;        /* 1-based call that returns fail_status (0: never) */
    int fail_status;
    long nan_on;         /* 1-based call that writes NaN into out[n/2] */
    hlr_estimator *reenter;  /* if set: get_param / get_seed on this handle from inside */
    int reenter_failures;
} host_op;

static void host_reenter(host_op *op) {
    if (op->reenter == NULL) return;
    double value = 0;
    uint64_t seed = 0;
    int kind = 0;
    if (hlr_estimator_get_param(op->reenter, HLR_EST_PARAM_THREADS, &value) != HLR_OK) op->reenter_failures++;
    if (hlr_estimator_get_seed(op->reenter, &seed) != HLR_OK) op->reenter_failures++;
    if (hlr_estimator_kind(op->reenter, &kind) != HLR_OK) op->reenter_failures++;
}

/* Row-wise dot products in index order: out_i = sum_j a_ij v_j. */
static void dense_apply(const matrix *m, const double *v, double *out) {
    size_t n = m->n;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (size_t j = 0; j < n; j++) sum += m->a[i * n + j] * v[j];
        out[i] = sum;
    }
}

static int hvp_f64(void *ctx, const double *v, double *out, size_t n) {
    host_op *op = ctx;
    long call = ++op->calls;
    host_reenter(op);
    if (n != op->m->n) return 99;
    if (call == op->fail_on) return op->fail_status;
    dense_apply(op->m, v, out);
    if (call == op->nan_on) out[n / 2] = NAN;
    return 0;
}

static int hvp_f32(void *ctx, const float *v, float *out, size_t n) {
    host_op *op = ctx;
    long call = ++op->calls;
    if (n != op->m->n) return 99;
    if (call == op->fail_on) return op->fail_status;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (size_t j = 0; j < n; j++) sum += op->m->a[i * n + j] * (double)v[j];
        out[i] = (float)sum;
    }
    if (call == op->nan_on) out[n / 2] = NAN;
    return 0;
}

static int hvp_never(void *ctx, const double *v, double *out, size_t n) {
    (void)v;
    (void)out;
    (void)n;
    ++*(long *)ctx;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* An hlr_vector_ops backend over plain double arrays                                         */
/* ------------------------------------------------------------------------------------------ */

enum { OP_ALLOC, OP_COPY, OP_DOT, OP_AXPY, OP_SCALE, OP_FILL, OP_HVP, OP_MUL_ACC, OP_BLOCK_DOTS, OP_HVP_BLOCK,
       OP_MULTI_DOT, OP_MULTI_AXPY, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"alloc", "copy", "dot", "axpy", "scale",
                                               "fill_probe", "hvp", "mul_acc", "block_dots", "hvp_block",
                                               "multi_dot", "multi_axpy"};
enum { POOL = 1024 };
static const uint64_t HANDLE_BASE = 0xABCD000000000000ull; /* handles are arbitrary uint64 values */

typedef struct {
    const matrix *m;
    size_t n;
    double *slots[POOL];
    long calls[OP_COUNT];
    int fail_op;         /* -1: none */
    long fail_at;        /* 1-based call of fail_op that fails */
    int fail_status;
    long nan_hvp_at;     /* 1-based hvp call that writes NaN */
    long allocs, releases, live, bad_handles;
    size_t block_products, largest_block, smallest_block; /* of hvp_block calls */
} ops_ctx;

static void ops_init(ops_ctx *c, const matrix *m, size_t n) {
    memset(c, 0, sizeof *c);
    c->m = m;
    c->n = n;
    c->fail_op = -1;
}

static void ops_cleanup(ops_ctx *c) {
    for (int i = 0; i < POOL; i++) free(c->slots[i]);
    memset(c->slots, 0, sizeof c->slots);
}

static double *ops_vec(ops_ctx *c, uint64_t h) {
    double *v = hlrt_pool_vec(c->slots, POOL, HANDLE_BASE, h);
    if (v == NULL) c->bad_handles++;
    return v;
}

/* A context (as ops_init) whose `op` callback returns `status` on its `at`-th call. */
static void ops_init_failing(ops_ctx *c, const matrix *m, size_t n, int op, long at, int status) {
    ops_init(c, m, n);
    c->fail_op = op;
    c->fail_at = at;
    c->fail_status = status;
}

static int ops_fails(ops_ctx *c, int op) {
    long call = ++c->calls[op];
    return c->fail_op == op && call == c->fail_at;
}

/* The library's dot over [start, end): hlrt_dot per 8192-element chunk (from the start of the
 * range), the chunk sums added in chunk order starting from 0. */
static double lib_dot(const double *x, const double *y, size_t start, size_t end) {
    double sum = 0;
    for (size_t s = start; s < end; s += 8192) {
        size_t e = end - s < 8192 ? end : s + 8192;
        sum += hlrt_dot(x + s, y + s, e - s);
    }
    return sum;
}

static int op_alloc(void *ctx, uint64_t *out) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_ALLOC)) return c->fail_status;
    int status = hlrt_pool_alloc(c->slots, POOL, HANDLE_BASE, c->n, out);
    if (status == 0) {
        c->allocs++;
        c->live++;
    }
    return status;
}

static void op_release(void *ctx, uint64_t v) {
    ops_ctx *c = ctx;
    if (!hlrt_pool_release(c->slots, POOL, HANDLE_BASE, v)) {
        c->bad_handles++;
        return;
    }
    c->releases++;
    c->live--;
}

static int op_copy(void *ctx, uint64_t src, uint64_t dst) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_COPY)) return c->fail_status;
    double *s = ops_vec(c, src), *d = ops_vec(c, dst);
    if (s == NULL || d == NULL || s == d) return 77;
    memcpy(d, s, c->n * sizeof(double));
    return 0;
}

static int op_dot(void *ctx, uint64_t x, uint64_t y, double *out) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_DOT)) return c->fail_status;
    double *px = ops_vec(c, x), *py = ops_vec(c, y);
    if (px == NULL || py == NULL) return 77;
    *out = lib_dot(px, py, 0, c->n);
    return 0;
}

static int op_axpy(void *ctx, double a, uint64_t x, uint64_t y) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_AXPY)) return c->fail_status;
    double *px = ops_vec(c, x), *py = ops_vec(c, y);
    if (px == NULL || py == NULL) return 77;
    for (size_t i = 0; i < c->n; i++) py[i] += a * px[i];
    return 0;
}

static int op_scale(void *ctx, double a, uint64_t x) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_SCALE)) return c->fail_status;
    double *px = ops_vec(c, x);
    if (px == NULL) return 77;
    for (size_t i = 0; i < c->n; i++) px[i] *= a;
    return 0;
}

static int op_fill(void *ctx, uint64_t v, uint64_t seed, uint64_t stream, uint64_t index,
                   int distribution) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_FILL)) return c->fail_status;
    double *p = ops_vec(c, v);
    if (p == NULL) return 77;
    return hlr_probe_fill_f64(seed, stream, index, distribution, 0, p, c->n) == HLR_OK ? 0 : 78;
}

static int op_hvp(void *ctx, uint64_t v, uint64_t out) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_HVP)) return c->fail_status;
    double *pv = ops_vec(c, v), *po = ops_vec(c, out);
    if (pv == NULL || po == NULL || pv == po) return 77;
    dense_apply(c->m, pv, po);
    if (c->calls[OP_HVP] == c->nan_hvp_at) po[c->n / 2] = NAN;
    return 0;
}

/* k products in one call, each exactly op_hvp's (dense_apply), with its size recorded. */
static int op_hvp_block(void *ctx, size_t k, const uint64_t *v, const uint64_t *out) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_HVP_BLOCK)) return c->fail_status;
    if (k < 2 || v == NULL || out == NULL) return 79;
    for (size_t j = 0; j < k; j++) {
        double *pv = ops_vec(c, v[j]), *po = ops_vec(c, out[j]);
        if (pv == NULL || po == NULL || pv == po) return 77;
        dense_apply(c->m, pv, po);
    }
    c->block_products += k;
    if (k > c->largest_block) c->largest_block = k;
    if (c->smallest_block == 0 || k < c->smallest_block) c->smallest_block = k;
    return 0;
}

/* multi_dot and multi_axpy: after op's failure hook, y, the x array, the values (out for
 * OP_MULTI_DOT, a for OP_MULTI_AXPY) and k >= 1 are required (77 otherwise, as is a bad handle
 * x_j); then for j in order: out[j] = x_j.y exactly as op_dot (lib_dot), or y += a[j] x_j
 * exactly as op_axpy. */
static int ops_multi(ops_ctx *c, int op, size_t k, const uint64_t *x, uint64_t y, const double *a,
                     double *out) {
    if (ops_fails(c, op)) return c->fail_status;
    double *py = ops_vec(c, y);
    const double *values = op == OP_MULTI_DOT ? out : a;
    if (py == NULL || x == NULL || values == NULL || k == 0) return 77;
    for (size_t j = 0; j < k; j++) {
        double *px = ops_vec(c, x[j]);
        if (px == NULL) return 77;
        if (op == OP_MULTI_DOT) out[j] = lib_dot(px, py, 0, c->n);
        else
            for (size_t i = 0; i < c->n; i++) py[i] += a[j] * px[i];
    }
    return 0;
}

static int op_multi_dot(void *ctx, size_t k, const uint64_t *x, uint64_t y, double *out) {
    return ops_multi(ctx, OP_MULTI_DOT, k, x, y, NULL, out);
}

static int op_multi_axpy(void *ctx, size_t k, const double *a, const uint64_t *x, uint64_t y) {
    return ops_multi(ctx, OP_MULTI_AXPY, k, x, y, a, NULL);
}

static int op_mul_acc(void *ctx, double a, uint64_t x, uint64_t y, uint64_t acc) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_MUL_ACC)) return c->fail_status;
    double *px = ops_vec(c, x), *py = ops_vec(c, y), *pa = ops_vec(c, acc);
    if (px == NULL || py == NULL || pa == NULL) return 77;
    for (size_t i = 0; i < c->n; i++) pa[i] += (a * px[i]) * py[i];
    return 0;
}

static int op_block_dots(void *ctx, uint64_t x, uint64_t y, const size_t *offsets,
                         size_t n_offsets, double *out) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_BLOCK_DOTS)) return c->fail_status;
    double *px = ops_vec(c, x), *py = ops_vec(c, y);
    if (px == NULL || py == NULL || n_offsets < 2) return 77;
    for (size_t b = 0; b + 1 < n_offsets; b++) out[b] = lib_dot(px, py, offsets[b], offsets[b + 1]);
    return 0;
}

static hlr_vector_ops ops_table(size_t n) {
    return hlrt_vector_ops(n, op_alloc, op_release, op_copy, op_dot, op_axpy, op_scale, op_fill, op_hvp,
                           op_mul_acc, op_block_dots);
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static hlr_estimator *make(int kind) {
    hlr_estimator *e = NULL;
    int status = hlr_estimator_create(kind, &e);
    if (status != HLR_OK || e == NULL) {
        fprintf(stderr, "hlr_estimator_create(%d) failed: %s\n", kind, hlr_last_error());
        exit(2);
    }
    return e;
}

static void set(hlr_estimator *e, int key, double value) {
    CHECK_OK(hlr_estimator_set_param(e, key, value));
}

/* A result as a malloc'd array (*n its size); NULL (and a failed check) if absent. */
static double *result(const hlr_estimator *e, int key, size_t *n) {
    size_t size = 0;
    if (!CHECK_OK(hlr_estimator_result_size(e, key, &size))) {
        *n = 0;
        return NULL;
    }
    double *out = malloc((size ? size : 1) * sizeof(double));
    CHECK_OK(hlr_estimator_get_result(e, key, out, size));
    *n = size;
    return out;
}

/* A result that must hold `count` values, as a malloc'd array; NULL (and a failed check) if it is
 * absent or of another size. */
static double *result_sized(const hlr_estimator *e, int key, size_t count) {
    size_t n = 0;
    double *out = result(e, key, &n);
    if (!CHECK_EQ_INT(n, count)) {
        free(out);
        return NULL;
    }
    return out;
}

static double scalar(const hlr_estimator *e, int key) {
    double *v = result_sized(e, key, 1);
    double value = v != NULL ? v[0] : NAN;
    free(v);
    return value;
}

/* 1 if every result key (1..24) the two handles have is bit-identical (vector results compared
 * separately); prints the first difference. */
static int same_results(const hlr_estimator *a, const hlr_estimator *b, int skip_vectors) {
    int same = 1;
    for (int key = 1; key <= 24; key++) {
        if (skip_vectors && (key == HLR_RESULT_EIGENVECTORS || key == HLR_RESULT_DIAGONAL)) continue;
        size_t na = 0, nb = 0;
        int sa = hlr_estimator_result_size(a, key, &na);
        int sb = hlr_estimator_result_size(b, key, &nb);
        if (sa != sb || na != nb) {
            fprintf(stderr, "result %d: status %d/%d size %zu/%zu\n", key, sa, sb, na, nb);
            same = 0;
            continue;
        }
        if (sa != HLR_OK) continue;
        double *va = malloc((na ? na : 1) * sizeof(double)), *vb = malloc((nb ? nb : 1) * sizeof(double));
        hlr_estimator_get_result(a, key, va, na);
        hlr_estimator_get_result(b, key, vb, nb);
        if (memcmp(va, vb, na * sizeof(double)) != 0) {
            for (size_t i = 0; i < na; i++)
                if (memcmp(&va[i], &vb[i], sizeof(double)) != 0) {
                    fprintf(stderr, "result %d[%zu]: %a vs %a\n", key, i, va[i], vb[i]);
                    break;
                }
            same = 0;
        }
        free(va);
        free(vb);
    }
    return same;
}

static double *spectrum_geometric(size_t n, double top, double ratio) {
    double *l = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) l[i] = top * pow(ratio, (double)i);
    return l;
}

/* A PSD spectrum with fast (quadratic) decay: top / (i + 1)^2, malloc'd. */
static double *spectrum_inverse_square(size_t n, double top) {
    double *l = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) l[i] = top / ((i + 1.0) * (i + 1.0));
    return l;
}

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                      */
/* ------------------------------------------------------------------------------------------ */

static void test_bounds_and_defaults(void) {
    double lo = 0, hi = 0, def = 0;
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, HLR_EST_PARAM_TOLERANCE, &lo, &hi, &def));
    CHECK_EQ_DBL(def, 1e-10);
    CHECK(lo > 0 && hi >= 1);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, HLR_EST_PARAM_MAX_DIMENSION, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 128);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, HLR_EST_PARAM_WHICH, &lo, &hi, &def));
    CHECK(lo == HLR_WHICH_LARGEST_MAGNITUDE && hi == HLR_WHICH_SMALLEST_ALGEBRAIC && def == HLR_WHICH_LARGEST_MAGNITUDE);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, HLR_EST_PARAM_DISTRIBUTION, NULL, NULL, &def));
    CHECK_EQ_DBL(def, HLR_PROBE_GAUSSIAN);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, HLR_EST_PARAM_SYMMETRY_TOLERANCE, &lo, &hi, &def));
    CHECK(def == 1e-3 && isinf(hi) && hi > 0);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_POWER_ITERATION, HLR_EST_PARAM_TOLERANCE, &lo, NULL, &def));
    CHECK(def == 1e-3 && lo == 0);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_POWER_ITERATION, HLR_EST_PARAM_MAX_ITERATIONS, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 100);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_HUTCHINSON, HLR_EST_PARAM_SAMPLES, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 100);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_HUTCHINSON, HLR_EST_PARAM_DISTRIBUTION, NULL, NULL, &def));
    CHECK_EQ_DBL(def, HLR_PROBE_RADEMACHER);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_HUTCH_PLUS_PLUS, HLR_EST_PARAM_MATVECS, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 102);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_HUTCH_PLUS_PLUS, HLR_EST_PARAM_SKETCH_SIZE, &lo, NULL, &def));
    CHECK(def == 0 && lo == 0);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_DIAGONAL, HLR_EST_PARAM_SAMPLES, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 100);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_SPECTRAL_DENSITY, HLR_EST_PARAM_STEPS, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 100);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_SPECTRAL_DENSITY, HLR_EST_PARAM_GRID_POINTS, &lo, &hi, &def));
    CHECK(def == 1000 && lo == 2 && hi == 1e7);
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_SPECTRAL_DENSITY, HLR_EST_PARAM_GRID_LOWER, &lo, NULL, &def));
    CHECK(isinf(def) && def < 0 && isinf(lo));
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_SPECTRAL_DENSITY, HLR_EST_PARAM_GRID_UPPER, NULL, &hi, &def));
    CHECK(isinf(def) && def > 0 && isinf(hi));
    CHECK_OK(hlr_estimator_param_bounds(HLR_ESTIMATOR_SPECTRAL_DENSITY, HLR_EST_PARAM_SIGMA, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 0);
    for (int kind = HLR_ESTIMATOR_LANCZOS; kind <= HLR_ESTIMATOR_XDIAG; kind++) {
        CHECK_OK(hlr_estimator_param_bounds(kind, HLR_EST_PARAM_THREADS, &lo, &hi, &def));
        CHECK(lo == 1 && def == 1 && hi >= 16);
        /* Every parameter a kind has: the default is accepted and reads back. */
        hlr_estimator *e = make(kind);
        for (int key = 1; key <= HLR_EST_PARAM_EIGENVALUE_TOLERANCE + 1; key++) {
            if (hlr_estimator_param_bounds(kind, key, &lo, &hi, &def) != HLR_OK) {
                CHECK_FAILS(hlr_estimator_set_param(e, key, 1), HLR_ERR_UNKNOWN_KEY);
                continue;
            }
            double value = -1;
            CHECK_OK(hlr_estimator_get_param(e, key, &value));
            CHECK_EQ_DBL(value, def);
            CHECK_OK(hlr_estimator_set_param(e, key, def));
        }
        int got = 0;
        CHECK_OK(hlr_estimator_kind(e, &got));
        CHECK_EQ_INT(got, kind);
        CHECK_OK(hlr_estimator_free(e));
    }
    CHECK_FAILS(hlr_estimator_param_bounds(0, HLR_EST_PARAM_COUNT, NULL, NULL, NULL), HLR_ERR_UNKNOWN_METHOD);
    CHECK_FAILS(hlr_estimator_param_bounds(9, HLR_EST_PARAM_COUNT, NULL, NULL, NULL), HLR_ERR_UNKNOWN_METHOD);
    CHECK_FAILS(hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, HLR_EST_PARAM_MATVECS, NULL, NULL, NULL), HLR_ERR_UNKNOWN_KEY);
    CHECK_ERROR_HAS("matvecs");
    CHECK_FAILS(hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, 999, NULL, NULL, NULL), HLR_ERR_UNKNOWN_KEY);
    CHECK_ERROR_HAS("999");
}

static void test_handles_and_params(void) {
    hlr_estimator *e = NULL;
    CHECK_FAILS(hlr_estimator_create(0, &e), HLR_ERR_UNKNOWN_METHOD);
    CHECK(e == NULL);
    CHECK_FAILS(hlr_estimator_create(42, &e), HLR_ERR_UNKNOWN_METHOD);
    CHECK_ERROR_HAS("42");
    CHECK_FAILS(hlr_estimator_create(HLR_ESTIMATOR_LANCZOS, NULL), HLR_ERR_NULL_POINTER);
    CHECK_OK(hlr_estimator_free(NULL));

    e = make(HLR_ESTIMATOR_LANCZOS);
    double v = 0;
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_TOLERANCE, NAN), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("nan");
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_TOLERANCE, -1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("-1.0");
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_TOLERANCE, INFINITY), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_COUNT, 2.5), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("2.5");
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_COUNT, 0), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_WHICH, 4), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_COMPUTE_VECTORS, 2), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_SAMPLES, 10), HLR_ERR_UNKNOWN_KEY);
    CHECK_FAILS(hlr_estimator_set_param(e, 0, 1), HLR_ERR_UNKNOWN_KEY);
    CHECK_OK(hlr_estimator_get_param(e, HLR_EST_PARAM_TOLERANCE, &v));
    CHECK_EQ_DBL(v, 1e-10); /* unchanged by the refusals */
    CHECK_OK(hlr_estimator_get_param(e, HLR_EST_PARAM_COUNT, &v));
    CHECK_EQ_DBL(v, 1);
    CHECK_OK(hlr_estimator_set_param(e, HLR_EST_PARAM_SYMMETRY_TOLERANCE, INFINITY));
    CHECK_FAILS(hlr_estimator_set_param(e, HLR_EST_PARAM_SYMMETRY_TOLERANCE, -INFINITY), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_get_param(e, HLR_EST_PARAM_COUNT, NULL), HLR_ERR_NULL_POINTER);
    CHECK_FAILS(hlr_estimator_set_blocks(e, (const size_t[]){0, 5}, 2), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("lanczos");
    CHECK_OK(hlr_estimator_set_blocks(e, NULL, 0)); /* clearing is always fine */

    /* The seed is a full uint64. */
    uint64_t seed = 0;
    CHECK_OK(hlr_estimator_get_seed(e, &seed));
    CHECK(seed == 0);
    CHECK_OK(hlr_estimator_set_seed(e, UINT64_MAX - 1));
    CHECK_OK(hlr_estimator_get_seed(e, &seed));
    CHECK(seed == UINT64_MAX - 1);

    /* Results before any run. */
    size_t size = 7;
    double out[4];
    CHECK_FAILS(hlr_estimator_result_size(e, HLR_RESULT_EIGENVALUES, &size), HLR_ERR_WRONG_STATE);
    CHECK_ERROR_HAS("no run");
    CHECK_FAILS(hlr_estimator_get_result(e, HLR_RESULT_EIGENVALUES, out, 4), HLR_ERR_WRONG_STATE);
    CHECK_FAILS(hlr_estimator_get_vectors(e, HLR_RESULT_EIGENVECTORS, NULL, 0), HLR_ERR_WRONG_STATE);
    CHECK_FAILS(hlr_estimator_result_size(e, 999, &size), HLR_ERR_UNKNOWN_KEY);
    CHECK_FAILS(hlr_estimator_result_size(e, 0, &size), HLR_ERR_UNKNOWN_KEY);

    /* Blocks on a kind that has them. */
    hlr_estimator *h = make(HLR_ESTIMATOR_HUTCHINSON);
    CHECK_FAILS(hlr_estimator_set_blocks(h, (const size_t[]){1, 5}, 2), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("[0]");
    CHECK_FAILS(hlr_estimator_set_blocks(h, (const size_t[]){0, 5, 3}, 3), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("decrease");
    CHECK_FAILS(hlr_estimator_set_blocks(h, (const size_t[]){0}, 1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_set_blocks(h, NULL, 3), HLR_ERR_NULL_POINTER);
    CHECK_FAILS(hlr_estimator_set_blocks(h, (const size_t[]){0, SIZE_MAX}, 2), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_set_blocks(h, (const size_t[]){0, 1}, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_estimator_set_blocks(h, (const size_t[]){0, 2, 2, 5}, 4));

    /* Handles: freed, NULL, another kind of handle. */
    hlr_tuner *t = hlrt_create(1);
    CHECK_FAILS(hlr_estimator_set_param((hlr_estimator *)(void *)t, HLR_EST_PARAM_COUNT, 1), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_estimator_free((hlr_estimator *)(void *)t), HLR_ERR_INVALID_HANDLE);
    CHECK_OK(hlr_tuner_free(t));
    int kind_out = 0;
    CHECK_FAILS(hlr_estimator_kind(NULL, &kind_out), HLR_ERR_INVALID_HANDLE);
    CHECK_OK(hlr_estimator_free(h));
    CHECK_FAILS(hlr_estimator_free(h), HLR_ERR_INVALID_HANDLE);
    long calls = 0;
    CHECK_FAILS(hlr_estimator_run_host_f64(h, 4, hvp_never, &calls), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_estimator_set_seed(h, 1), HLR_ERR_INVALID_HANDLE);
    CHECK(calls == 0);
    CHECK_OK(hlr_estimator_free(e));
}

/* Lanczos: top-k of known spectra to 1e-10 relative, Ritz vectors, f32. */
static void test_lanczos(void) {
    enum { N = 80 };
    double *lambda = spectrum_geometric(N, 10.0, 0.85);
    lambda[N - 1] = -4.0; /* the most negative */
    lambda[N - 2] = -1.5;
    matrix m = matrix_make(lambda, N, 4, 11);
    double sorted[N];
    memcpy(sorted, lambda, sizeof sorted);
    qsort(sorted, N, sizeof(double), cmp_desc);

    hlr_estimator *e = make(HLR_ESTIMATOR_LANCZOS);
    set(e, HLR_EST_PARAM_COUNT, 4);
    set(e, HLR_EST_PARAM_WHICH, HLR_WHICH_LARGEST_ALGEBRAIC);
    set(e, HLR_EST_PARAM_COMPUTE_VECTORS, 1);
    host_op op = {.m = &m};
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    size_t k = 0;
    double *values = result(e, HLR_RESULT_EIGENVALUES, &k);
    CHECK_EQ_INT(k, 4);
    double worst = 0;
    for (size_t i = 0; i < k && values; i++) {
        double rel = fabs(values[i] - sorted[i]) / fabs(sorted[i]);
        if (rel > worst) worst = rel;
        EST_NEAR(values[i], sorted[i], 1e-10);
    }
    double hvps = scalar(e, HLR_RESULT_HVPS);
    CHECK_EQ_DBL(hvps, (double)op.calls);
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_CONVERGED), 1);
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_TERMINATION), HLR_TERMINATION_CONVERGED);
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_ITERATIONS), hvps);
    CHECK(scalar(e, HLR_RESULT_MAX_ASYMMETRY) < 1e-12);
    printf("lanczos top-4 (n=%d, f64): max relative error %.2e, %.0f HVPs\n", N, worst, hvps);

    /* Ritz vectors: k x n row-major, unit, residual ||Ay - theta y|| small. */
    size_t nv = 0;
    double *y = result(e, HLR_RESULT_EIGENVECTORS, &nv);
    CHECK_EQ_INT(nv, 4 * N);
    double *ay = malloc(N * sizeof(double));
    for (size_t i = 0; i < 4 && y && values; i++) {
        dense_apply(&m, y + i * N, ay);
        double r = 0, norm = 0;
        for (size_t j = 0; j < N; j++) {
            r += (ay[j] - values[i] * y[i * N + j]) * (ay[j] - values[i] * y[i * N + j]);
            norm += y[i * N + j] * y[i * N + j];
        }
        EST_NEAR(norm, 1.0, 1e-12);
        CHECK(sqrt(r) <= 1e-8 * 10);
    }
    free(ay);
    free(y);
    size_t n_res = 0;
    double *res = result(e, HLR_RESULT_RESIDUALS, &n_res);
    CHECK_EQ_INT(n_res, 4);
    free(res);
    /* Buffer too small / vectors of a host run. */
    double small[3];
    CHECK_FAILS(hlr_estimator_get_result(e, HLR_RESULT_EIGENVALUES, small, 3), HLR_ERR_BUFFER_TOO_SMALL);
    CHECK_ERROR_HAS("4");
    CHECK_FAILS(hlr_estimator_get_result(e, HLR_RESULT_EIGENVALUES, NULL, 4), HLR_ERR_NULL_POINTER);
    uint64_t handles[4];
    CHECK_FAILS(hlr_estimator_get_vectors(e, HLR_RESULT_EIGENVECTORS, handles, 4), HLR_ERR_WRONG_STATE);
    CHECK_ERROR_HAS("hlr_estimator_get_result");
    CHECK_FAILS(hlr_estimator_get_vectors(e, HLR_RESULT_EIGENVALUES, handles, 4), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_result_size(e, HLR_RESULT_TRACE, &nv), HLR_ERR_WRONG_STATE);
    CHECK_ERROR_HAS("eigenvalues"); /* the message lists what the run produced */

    /* Smallest algebraic, without vectors: eigenvectors are then not a result. */
    set(e, HLR_EST_PARAM_WHICH, HLR_WHICH_SMALLEST_ALGEBRAIC);
    set(e, HLR_EST_PARAM_COUNT, 2);
    set(e, HLR_EST_PARAM_COMPUTE_VECTORS, 0);
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    free(values);
    values = result(e, HLR_RESULT_EIGENVALUES, &k);
    if (values && k == 2) {
        EST_NEAR(values[0], -4.0, 1e-10);
        EST_NEAR(values[1], -1.5, 1e-10);
    }
    CHECK_FAILS(hlr_estimator_result_size(e, HLR_RESULT_EIGENVECTORS, &nv), HLR_ERR_WRONG_STATE);
    CHECK_ERROR_HAS("compute_vectors");

    /* f32 host: the same eigenvalues to float precision. */
    set(e, HLR_EST_PARAM_WHICH, HLR_WHICH_LARGEST_ALGEBRAIC);
    set(e, HLR_EST_PARAM_COUNT, 4);
    set(e, HLR_EST_PARAM_TOLERANCE, 1e-6);
    host_op op32 = {.m = &m};
    CHECK_OK(hlr_estimator_run_host_f32(e, N, hvp_f32, &op32));
    free(values);
    values = result(e, HLR_RESULT_EIGENVALUES, &k);
    worst = 0;
    for (size_t i = 0; i < k && values; i++) {
        double rel = fabs(values[i] - sorted[i]) / fabs(sorted[i]);
        if (rel > worst) worst = rel;
        EST_NEAR(values[i], sorted[i], 1e-5);
    }
    printf("lanczos top-4 (n=%d, f32): max relative error %.2e, %.0f HVPs\n", N, worst,
           scalar(e, HLR_RESULT_HVPS));
    free(values);

    /* A requested eigenvalue accuracy (rule 1b): fewer HVPs than the residual rule, values within
     * it, ERROR_BOUNDS at most the residuals and above the actual errors. */
    set(e, HLR_EST_PARAM_COUNT, 1);
    set(e, HLR_EST_PARAM_TOLERANCE, 1e-10);
    host_op strict_op = {.m = &m};
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &strict_op));
    double strict_hvps = scalar(e, HLR_RESULT_HVPS);
    set(e, HLR_EST_PARAM_EIGENVALUE_TOLERANCE, 1e-6);
    host_op accuracy_op = {.m = &m};
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &accuracy_op));
    double top = scalar(e, HLR_RESULT_EIGENVALUES), bound = scalar(e, HLR_RESULT_ERROR_BOUNDS);
    double accuracy_hvps = scalar(e, HLR_RESULT_HVPS);
    CHECK(accuracy_hvps < strict_hvps);
    CHECK(fabs(top - sorted[0]) <= 1e-6 * sorted[0]);
    CHECK(fabs(top - sorted[0]) <= bound + 1e-15 * sorted[0]);
    CHECK(bound <= scalar(e, HLR_RESULT_RESIDUALS));
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_TERMINATION), HLR_TERMINATION_CONVERGED);
    printf("lanczos lambda_max, eigenvalue_tolerance 1e-6: error %.1e (estimate %.1e), %.0f HVPs "
           "(residual rule 1e-10: %.0f)\n", fabs(top - sorted[0]) / sorted[0], bound / sorted[0], accuracy_hvps,
           strict_hvps);
    set(e, HLR_EST_PARAM_EIGENVALUE_TOLERANCE, 0);

    /* Callbacks may call the library on the handle being run. */
    host_op reenter = {.m = &m, .reenter = e};
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &reenter));
    CHECK_EQ_INT(reenter.reenter_failures, 0);

    CHECK_OK(hlr_estimator_free(e));
    matrix_free(&m);
    free(lambda);
}

static void test_power_iteration(void) {
    enum { N = 50 };
    double *lambda = spectrum_geometric(N, 8.0, 0.6);
    lambda[3] = -7.0; /* second largest in magnitude */
    matrix m = matrix_make(lambda, N, 4, 12);
    hlr_estimator *e = make(HLR_ESTIMATOR_POWER_ITERATION);
    set(e, HLR_EST_PARAM_COUNT, 2);
    host_op op = {.m = &m};
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    double *values = result_sized(e, HLR_RESULT_EIGENVALUES, 2);
    double *iterations = result_sized(e, HLR_RESULT_ITERATIONS, 2);
    if (values) {
        /* PyHessian's rule (relative change < 1e-3): |lambda_2/lambda_1| = 7/8 converges slowly,
         * so the default stop is loose; 1e-2 relative is what it reaches here. */
        EST_NEAR(values[0], 8.0, 1e-2);
        EST_NEAR(values[1], -7.0, 1e-2);
        printf("power iteration (defaults): %.6f (err %.1e), %.6f (err %.1e), %.0f + %.0f HVPs\n",
               values[0], fabs(values[0] - 8) / 8, values[1], fabs(values[1] + 7) / 7,
               iterations ? iterations[0] : -1, iterations ? iterations[1] : -1);
    }
    free(values);
    free(iterations);
    /* Tight tolerance: 1e-8 relative. */
    set(e, HLR_EST_PARAM_TOLERANCE, 1e-13);
    set(e, HLR_EST_PARAM_MAX_ITERATIONS, 2000);
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    size_t k = 0;
    values = result(e, HLR_RESULT_EIGENVALUES, &k);
    if (values && k == 2) {
        EST_NEAR(values[0], 8.0, 1e-8);
        EST_NEAR(values[1], -7.0, 1e-8);
        printf("power iteration (tolerance 1e-13): errors %.1e, %.1e, %.0f HVPs\n",
               fabs(values[0] - 8) / 8, fabs(values[1] + 7) / 7, scalar(e, HLR_RESULT_HVPS));
    }
    free(values);
    CHECK_OK(hlr_estimator_free(e));
    matrix_free(&m);
    free(lambda);
}

/* Runs a sketched trace estimator (Hutch++, XTrace) with seed 2024 on `op` at its default budget
 * of 102 HVPs and checks how it spent it (`rank` sketch vectors, as many samples) and its accuracy
 * against `truth`: within 4 reported standard errors, and below 5e-3 relative. */
static void check_sketched_trace(hlr_estimator *e, const char *name, host_op *op, size_t n,
                                 double truth, double rank) {
    CHECK_OK(hlr_estimator_set_seed(e, 2024));
    CHECK_OK(hlr_estimator_run_host_f64(e, n, hvp_f64, op));
    double trace = scalar(e, HLR_RESULT_TRACE), se = scalar(e, HLR_RESULT_STANDARD_ERROR);
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_HVPS), 102);
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_SKETCH_RANK), rank);
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_SAMPLES), rank);
    CHECK(fabs(trace - truth) <= 4 * se + 1e-12);
    CHECK(fabs(trace - truth) / truth < 5e-3);
    printf("%s m=102: %.8f vs %.8f (rel err %.2e), se %.2e\n", name, trace, truth,
           fabs(trace - truth) / truth, se);
}

/* Hutchinson and Hutch++: within 4 theoretical standard errors with fixed seeds; blocks sum to
 * the total. */
static void test_traces(void) {
    enum { N = 100 };
    double *lambda = spectrum_inverse_square(N, 1.0);
    matrix psd = matrix_make(lambda, N, 6, 21);
    free(lambda);
    double truth = matrix_trace(&psd);

    hlr_estimator *h = make(HLR_ESTIMATOR_HUTCHINSON);
    set(h, HLR_EST_PARAM_SAMPLES, 200);
    CHECK_OK(hlr_estimator_set_seed(h, 2024));
    host_op op = {.m = &psd};
    CHECK_OK(hlr_estimator_run_host_f64(h, N, hvp_f64, &op));
    double estimate = scalar(h, HLR_RESULT_TRACE), se = scalar(h, HLR_RESULT_STANDARD_ERROR);
    double theory = sqrt(rademacher_variance(&psd) / 200);
    CHECK(fabs(estimate - truth) <= 4 * theory);
    CHECK(se > 0.5 * theory && se < 2 * theory);
    CHECK_EQ_DBL(scalar(h, HLR_RESULT_HVPS), 200);
    CHECK_EQ_DBL(scalar(h, HLR_RESULT_SAMPLES), 200);
    CHECK_EQ_DBL(scalar(h, HLR_RESULT_CONVERGED), 1);
    printf("hutchinson m=200: %.6f vs %.6f (rel err %.2e), reported se %.2e, theoretical se %.2e\n",
           estimate, truth, fabs(estimate - truth) / truth, se, theory);

    /* Same seed, same bits; another seed, another estimate. */
    CHECK_OK(hlr_estimator_run_host_f64(h, N, hvp_f64, &op));
    CHECK_EQ_DBL(scalar(h, HLR_RESULT_TRACE), estimate);
    CHECK_OK(hlr_estimator_set_seed(h, 2025));
    CHECK_OK(hlr_estimator_run_host_f64(h, N, hvp_f64, &op));
    CHECK(scalar(h, HLR_RESULT_TRACE) != estimate);

    /* Adaptive: stops once se <= 5% of |estimate|. */
    set(h, HLR_EST_PARAM_RELATIVE_TOLERANCE, 0.05);
    set(h, HLR_EST_PARAM_SAMPLES, 10000);
    CHECK_OK(hlr_estimator_run_host_f64(h, N, hvp_f64, &op));
    CHECK_EQ_DBL(scalar(h, HLR_RESULT_CONVERGED), 1);
    CHECK(scalar(h, HLR_RESULT_STANDARD_ERROR) <= 0.05 * fabs(scalar(h, HLR_RESULT_TRACE)));
    printf("hutchinson adaptive (5%%): %.0f probes\n", scalar(h, HLR_RESULT_SAMPLES));
    set(h, HLR_EST_PARAM_RELATIVE_TOLERANCE, 0);
    set(h, HLR_EST_PARAM_SAMPLES, 200);

    /* Per-block traces sum to the total (to rounding: the total is the mean of the per-probe block
     * sums, the blocks are means of their own). */
    const size_t offsets[] = {0, 10, 10, 45, 100};
    CHECK_OK(hlr_estimator_set_blocks(h, offsets, 5));
    CHECK_OK(hlr_estimator_run_host_f64(h, N, hvp_f64, &op));
    double *blocks = result_sized(h, HLR_RESULT_BLOCK_TRACES, 4);
    double *errors = result_sized(h, HLR_RESULT_BLOCK_TRACE_ERRORS, 4);
    if (blocks) {
        EST_NEAR(blocks[0] + blocks[1] + blocks[2] + blocks[3], scalar(h, HLR_RESULT_TRACE), 1e-13);
        CHECK_EQ_DBL(blocks[1], 0); /* the empty block */
        /* Each block within 5 standard errors of its true trace. */
        for (size_t b = 0; b < 4 && errors; b++) {
            double t = 0;
            for (size_t i = offsets[b]; i < offsets[b + 1]; i++) t += psd.a[i * N + i];
            CHECK(fabs(blocks[b] - t) <= 5 * errors[b] + 1e-15);
        }
    }
    free(blocks);
    free(errors);
    /* Blocks must end at n. */
    long calls = 0;
    CHECK_FAILS(hlr_estimator_run_host_f64(h, N + 1, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("101");
    CHECK(calls == 0);
    CHECK_OK(hlr_estimator_set_blocks(h, NULL, 0));
    CHECK_OK(hlr_estimator_run_host_f64(h, N, hvp_f64, &op));
    size_t nb = 0;
    CHECK_FAILS(hlr_estimator_result_size(h, HLR_RESULT_BLOCK_TRACES, &nb), HLR_ERR_WRONG_STATE);
    CHECK_ERROR_HAS("block");

    /* Hutch++ at the same budget (102 HVPs) on the PSD matrix: relative error far below
     * Hutchinson's. */
    /* Hutchinson's theoretical relative standard error at 102 probes is 4.5e-2; measured 1.0e-3. */
    hlr_estimator *p = make(HLR_ESTIMATOR_HUTCH_PLUS_PLUS);
    check_sketched_trace(p, "hutch++", &op, N, truth, 34);
    /* XTrace at the same budget: every test vector in both parts. */
    hlr_estimator *x = make(HLR_ESTIMATOR_XTRACE);
    check_sketched_trace(x, "xtrace", &op, N, truth, 51);
    CHECK_EQ_DBL(scalar(x, HLR_RESULT_CONVERGED), 1);
    CHECK_FAILS(hlr_estimator_set_blocks(x, (const size_t[]){0, 30, 100}, 3), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("xtrace");
    CHECK_FAILS(hlr_estimator_set_param(x, HLR_EST_PARAM_MATVECS, 1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("matvecs");
    CHECK_OK(hlr_estimator_free(x));

    CHECK_OK(hlr_estimator_set_blocks(p, (const size_t[]){0, 30, 100}, 3));
    CHECK_OK(hlr_estimator_run_host_f64(p, N, hvp_f64, &op));
    size_t npb = 0;
    double *pb = result(p, HLR_RESULT_BLOCK_TRACES, &npb);
    if (pb && npb == 2) EST_NEAR(pb[0] + pb[1], scalar(p, HLR_RESULT_TRACE), 1e-13);
    free(pb);
    /* Budget too small for the sketch: refused before any callback. */
    set(p, HLR_EST_PARAM_MATVECS, 6);
    set(p, HLR_EST_PARAM_SKETCH_SIZE, 3);
    calls = 0;
    CHECK_FAILS(hlr_estimator_run_host_f64(p, N, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("matvecs");
    CHECK(calls == 0);
    CHECK_EQ_DBL(scalar(p, HLR_RESULT_HVPS), 102); /* the last run's results are kept */

    /* Hutchinson on an indefinite matrix: within 4 theoretical standard errors. */
    double flat[N];
    for (int i = 0; i < N; i++) flat[i] = -1.0 + 0.03 * i;
    matrix ind = matrix_make(flat, N, 6, 22);
    host_op op2 = {.m = &ind};
    CHECK_OK(hlr_estimator_set_seed(h, 7));
    CHECK_OK(hlr_estimator_run_host_f64(h, N, hvp_f64, &op2));
    double t2 = matrix_trace(&ind);
    double th2 = sqrt(rademacher_variance(&ind) / 200);
    CHECK(fabs(scalar(h, HLR_RESULT_TRACE) - t2) <= 4 * th2);
    printf("hutchinson indefinite m=200: %.4f vs %.4f (%.2f theoretical se)\n",
           scalar(h, HLR_RESULT_TRACE), t2, fabs(scalar(h, HLR_RESULT_TRACE) - t2) / th2);

    CHECK_OK(hlr_estimator_free(h));
    CHECK_OK(hlr_estimator_free(p));
    matrix_free(&psd);
    matrix_free(&ind);
}

static void test_diagonal(void) {
    enum { N = 64 };
    double d[N];
    for (int i = 0; i < N; i++) d[i] = (i % 5) - 1.7 + 0.01 * i;
    matrix diag = matrix_make(d, N, 0, 0);
    hlr_estimator *e = make(HLR_ESTIMATOR_DIAGONAL);
    /* Exact for a diagonal matrix: z_i (d_i z_i) = d_i; with 2 samples 2 d_i * 0.5 is exact too. */
    for (int samples = 1; samples <= 2; samples++) {
        set(e, HLR_EST_PARAM_SAMPLES, samples);
        host_op op = {.m = &diag};
        CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
        double *est = result_sized(e, HLR_RESULT_DIAGONAL, N);
        int exact = est != NULL;
        for (size_t i = 0; exact && i < N; i++) exact = est[i] == d[i];
        CHECK(exact);
        free(est);
        CHECK_EQ_DBL(scalar(e, HLR_RESULT_HVPS), samples);
    }
    /* A dense matrix: block means of the estimate and their sum relation to the trace. */
    double lambda[N];
    for (int i = 0; i < N; i++) lambda[i] = 1 + i % 7;
    matrix dense = matrix_make(lambda, N, 3, 31);
    set(e, HLR_EST_PARAM_SAMPLES, 400);
    const size_t offsets[] = {0, 16, 64};
    CHECK_OK(hlr_estimator_set_blocks(e, offsets, 3));
    host_op op = {.m = &dense};
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    size_t n = 0;
    double *est = result(e, HLR_RESULT_DIAGONAL, &n);
    double *means = result_sized(e, HLR_RESULT_BLOCK_MEANS, 2);
    double *errs = result_sized(e, HLR_RESULT_BLOCK_MEAN_ERRORS, 2);
    double worst = 0, sum = 0;
    for (size_t i = 0; est && i < n; i++) {
        double err = fabs(est[i] - dense.a[i * N + i]);
        if (err > worst) worst = err;
        sum += est[i];
    }
    EST_NEAR(sum, scalar(e, HLR_RESULT_TRACE), 1e-12);
    if (means && errs && est) {
        double m0 = 0, m1 = 0;
        for (size_t i = 0; i < 16; i++) m0 += est[i];
        for (size_t i = 16; i < 64; i++) m1 += est[i];
        EST_NEAR(means[0], m0 / 16, 1e-12);
        EST_NEAR(means[1], m1 / 48, 1e-12);
        double t0 = 0, t1 = 0;
        for (size_t i = 0; i < 16; i++) t0 += dense.a[i * N + i];
        for (size_t i = 16; i < 64; i++) t1 += dense.a[i * N + i];
        CHECK(fabs(means[0] - t0 / 16) <= 5 * errs[0]);
        CHECK(fabs(means[1] - t1 / 48) <= 5 * errs[1]);
    }
    printf("diagonal m=400 on a dense matrix: max abs error %.3f (diagonal in [1, 7])\n", worst);
    free(est);
    free(means);
    free(errs);
    CHECK_OK(hlr_estimator_free(e));
    matrix_free(&diag);
    matrix_free(&dense);
}

/* XDiag: far more accurate than Hutchinson's diagonal at equal HVPs on a dense matrix with a
 * decaying spectrum, block means consistent with the vector and their standard errors, TRACE = the
 * sum of DIAGONAL, a
 * non-symmetric operator refused as Lanczos refuses it. */
static void test_xdiag(void) {
    enum { N = 100 };
    double *lambda = spectrum_inverse_square(N, 5.0);
    matrix dense = matrix_make(lambda, N, 4, 41);
    double exact_norm = 0;
    for (int i = 0; i < N; i++) exact_norm += dense.a[i * N + i] * dense.a[i * N + i];
    exact_norm = sqrt(exact_norm);
    hlr_estimator *x = make(HLR_ESTIMATOR_XDIAG), *d = make(HLR_ESTIMATOR_DIAGONAL);
    set(x, HLR_EST_PARAM_MATVECS, 40);
    set(d, HLR_EST_PARAM_SAMPLES, 40);
    CHECK_OK(hlr_estimator_set_seed(x, 7));
    CHECK_OK(hlr_estimator_set_seed(d, 7));
    const size_t offsets[] = {0, 16, 100};
    CHECK_OK(hlr_estimator_set_blocks(x, offsets, 3));
    host_op op = {.m = &dense};
    CHECK_OK(hlr_estimator_run_host_f64(x, N, hvp_f64, &op));
    CHECK_EQ_DBL(scalar(x, HLR_RESULT_HVPS), 40);
    CHECK_EQ_DBL(scalar(x, HLR_RESULT_SAMPLES), 20);
    CHECK_EQ_DBL(scalar(x, HLR_RESULT_SKETCH_RANK), 20);
    CHECK(scalar(x, HLR_RESULT_MAX_ASYMMETRY) < 1e-10);
    host_op op2 = {.m = &dense};
    CHECK_OK(hlr_estimator_run_host_f64(d, N, hvp_f64, &op2));
    size_t nd = 0;
    double *est = result_sized(x, HLR_RESULT_DIAGONAL, N);
    double *plain = result(d, HLR_RESULT_DIAGONAL, &nd);
    double *means = result_sized(x, HLR_RESULT_BLOCK_MEANS, 2);
    double ex = 0, ep = 0, sum = 0, m0 = 0, m1 = 0;
    for (size_t i = 0; est && plain && i < N; i++) {
        double t = dense.a[i * N + i];
        ex += (est[i] - t) * (est[i] - t);
        ep += (plain[i] - t) * (plain[i] - t);
        sum += est[i];
        if (i < 16) m0 += est[i]; else m1 += est[i];
    }
    ex = sqrt(ex) / exact_norm;
    ep = sqrt(ep) / exact_norm;
    printf("xdiag m=40: relative L2 error %.2e (Hutchinson diagonal, 40 probes: %.2e)\n", ex, ep);
    CHECK(ex < 0.1 * ep);
    EST_NEAR(sum, scalar(x, HLR_RESULT_TRACE), 1e-10);
    if (means) {
        EST_NEAR(means[0], m0 / 16, 1e-12);
        EST_NEAR(means[1], m1 / 84, 1e-12);
    }
    /* Block errors (jackknife): finite, positive, and the true block means within 3 of them. */
    double *errs = result_sized(x, HLR_RESULT_BLOCK_MEAN_ERRORS, 2);
    double t0 = 0, t1 = 0;
    for (size_t i = 0; i < N; i++) {
        if (i < 16) t0 += dense.a[i * N + i]; else t1 += dense.a[i * N + i];
    }
    if (errs && means) {
        printf("xdiag block means %.4g, %.4g (exact %.4g, %.4g), standard errors %.2e, %.2e\n", means[0], means[1],
               t0 / 16, t1 / 84, errs[0], errs[1]);
        CHECK(isfinite(errs[0]) && errs[0] > 0 && isfinite(errs[1]) && errs[1] > 0);
        CHECK(fabs(means[0] - t0 / 16) <= 3 * errs[0] && fabs(means[1] - t1 / 84) <= 3 * errs[1]);
    }
    free(errs);
    free(est);
    free(plain);
    free(means);
    /* Not symmetric: Q'HQ is not, the run fails as Lanczos does and keeps the previous results. */
    matrix skew = matrix_make(lambda, N, 4, 41);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) skew.a[i * N + j] += 0.05;
    host_op op3 = {.m = &skew};
    CHECK_FAILS(hlr_estimator_run_host_f64(x, N, hvp_f64, &op3), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("XDiag: the operator is not symmetric");
    CHECK_EQ_DBL(scalar(x, HLR_RESULT_HVPS), 40);
    CHECK_FAILS(hlr_estimator_set_param(x, HLR_EST_PARAM_MATVECS, 1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("matvecs");
    CHECK_FAILS(hlr_estimator_set_param(x, HLR_EST_PARAM_SAMPLES, 10), HLR_ERR_UNKNOWN_KEY);
    /* Through the ops backend with blocks: block_dots failing at its first call (the block Grams),
     * in the middle (the test vectors' block dots) and at its last (the block sums) fails the run
     * naming the callback, nothing leaked. */
    set(x, HLR_EST_PARAM_MATVECS, 30);
    ops_ctx oc;
    ops_init(&oc, &dense, N);
    hlr_vector_ops ot = ops_table(N);
    CHECK_OK(hlr_estimator_run_ops(x, &ot, &oc));
    long total = oc.calls[OP_BLOCK_DOTS];
    CHECK(total > 15 * 15 * 3); /* K, L, J and F: 3.5 s^2 block dots, s = 15 */
    uint64_t handle = 0;
    CHECK_OK(hlr_estimator_get_vectors(x, HLR_RESULT_DIAGONAL, &handle, 1));
    op_release(&oc, handle);
    CHECK_EQ_INT(oc.live, 0);
    ops_cleanup(&oc);
    const long points[] = {1, total / 2, total};
    for (int p = 0; p < 3; p++) {
        ops_ctx fc;
        ops_init_failing(&fc, &dense, N, OP_BLOCK_DOTS, points[p], 47);
        hlr_vector_ops ft = ops_table(N);
        CHECK_FAILS(hlr_estimator_run_ops(x, &ft, &fc), HLR_ERR_CALLBACK);
        CHECK_ERROR_HAS("ops->block_dots callback returned 47");
        CHECK_EQ_INT(fc.live, 0);
        CHECK_EQ_INT(fc.allocs, fc.releases);
        ops_cleanup(&fc);
    }
    CHECK_OK(hlr_estimator_free(x));
    CHECK_OK(hlr_estimator_free(d));
    matrix_free(&dense);
    matrix_free(&skew);
    free(lambda);
}

/* After a successful ops run: the caller's DIAGONAL handle (kinds that return one) released,
 * then every vector of the run must be released and none of the handles bad. */
static void release_run(const hlr_estimator *e, ops_ctx *c, int has_diagonal) {
    if (has_diagonal) {
        uint64_t handle = 0;
        CHECK_OK(hlr_estimator_get_vectors(e, HLR_RESULT_DIAGONAL, &handle, 1));
        op_release(c, handle);
    }
    CHECK_EQ_INT(c->live, 0);
    CHECK_EQ_INT(c->bad_handles, 0);
    ops_cleanup(c);
}

/* hvp_block (0.3.0): with HLR_EST_PARAM_HVP_BLOCK = 4 Hutchinson (fixed and adaptive), Hutch++,
 * the diagonal, XTrace, XDiag and the spectral density (4 of its runs in lockstep) hand the
 * table's hvp_block blocks of 2..4 products and report the
 * same bits as one-at-a-time runs (the table without hvp_block, and with it at HVP_BLOCK = 1, where
 * it is never called); a failing hvp_block fails the run naming it, nothing leaked; a struct_size
 * that does not cover the field means NULL. */
static void test_hvp_block(void) {
    enum { N = 50 };
    double lambda[N];
    for (int i = 0; i < N; i++) lambda[i] = 3.0 / (i + 1.0) - (i % 7 == 0 ? 0.5 : 0.0);
    matrix dense = matrix_make(lambda, N, 3, 19);
    const int kinds[] = {HLR_ESTIMATOR_HUTCHINSON, HLR_ESTIMATOR_HUTCHINSON, HLR_ESTIMATOR_DIAGONAL,
                         HLR_ESTIMATOR_XTRACE, HLR_ESTIMATOR_XDIAG, HLR_ESTIMATOR_HUTCH_PLUS_PLUS,
                         HLR_ESTIMATOR_SPECTRAL_DENSITY};
    enum { RUNS = 7, STEPS = 12 }; /* the spectral density: blocks of 4 and 3 runs */
    for (int c = 0; c < 7; c++) {
        int kind = kinds[c];
        int vectors = kind == HLR_ESTIMATOR_DIAGONAL || kind == HLR_ESTIMATOR_XDIAG;
        double trace[3] = {0}, hvps[3] = {0}, first[3] = {0};
        double diagonal[3][N], nodes[3][RUNS * STEPS];
        int slq = kind == HLR_ESTIMATOR_SPECTRAL_DENSITY;
        for (int mode = 0; mode < 3; mode++) { /* no hvp_block; hvp_block at 1; hvp_block at 4 */
            hlr_estimator *e = make(kind);
            CHECK_OK(hlr_estimator_set_seed(e, 11));
            if (kind == HLR_ESTIMATOR_HUTCHINSON || kind == HLR_ESTIMATOR_DIAGONAL)
                set(e, HLR_EST_PARAM_SAMPLES, 23); /* not a multiple of the block */
            else if (kind == HLR_ESTIMATOR_HUTCH_PLUS_PLUS)
                set(e, HLR_EST_PARAM_MATVECS, 31);   /* sketch 10, 11 residual probes */
            else if (slq) {
                set(e, HLR_EST_PARAM_RUNS, RUNS);
                set(e, HLR_EST_PARAM_STEPS, STEPS);
            } else
                set(e, HLR_EST_PARAM_MATVECS, 22);   /* 11 test vectors */
            if (c == 1) set(e, HLR_EST_PARAM_RELATIVE_TOLERANCE, 0.2); /* adaptive: may stop mid-block */
            set(e, HLR_EST_PARAM_HVP_BLOCK, mode == 1 ? 1 : 4);
            ops_ctx oc;
            ops_init(&oc, &dense, N);
            hlr_vector_ops table = ops_table(N);
            if (mode > 0) table.hvp_block = op_hvp_block;
            CHECK_OK(hlr_estimator_run_ops(e, &table, &oc));
            trace[mode] = scalar(e, HLR_RESULT_TRACE);
            hvps[mode] = scalar(e, HLR_RESULT_HVPS);
            first[mode] = kind == HLR_ESTIMATOR_XDIAG || kind == HLR_ESTIMATOR_DIAGONAL
                              ? scalar(e, HLR_RESULT_SAMPLES)
                          : slq ? scalar(e, HLR_RESULT_SIGMA) : scalar(e, HLR_RESULT_STANDARD_ERROR);
            if (slq) CHECK_OK(hlr_estimator_get_result(e, HLR_RESULT_DENSITY_NODES, nodes[mode], RUNS * STEPS));
            if (vectors) {
                uint64_t handle = 0;
                CHECK_OK(hlr_estimator_get_vectors(e, HLR_RESULT_DIAGONAL, &handle, 1));
                double *d = ops_vec(&oc, handle);
                CHECK(d != NULL);
                if (d != NULL) memcpy(diagonal[mode], d, sizeof diagonal[mode]);
            }
            if (mode < 2) {
                CHECK_EQ_INT(oc.calls[OP_HVP_BLOCK], 0);
            } else {
                CHECK(oc.calls[OP_HVP_BLOCK] > 0);
                CHECK(oc.smallest_block >= 2 && oc.largest_block <= 4);
                CHECK_EQ_DBL((double)(oc.block_products + (size_t)oc.calls[OP_HVP]), hvps[mode]);
            }
            release_run(e, &oc, vectors);
            CHECK_OK(hlr_estimator_free(e));
        }
        for (int mode = 1; mode < 3; mode++) {
            CHECK_EQ_DBL(trace[mode], trace[0]);
            CHECK_EQ_DBL(first[mode], first[0]);
            if (vectors)
                for (int i = 0; i < N; i++) CHECK_EQ_DBL(diagonal[mode][i], diagonal[0][i]);
            if (slq)
                for (int i = 0; i < RUNS * STEPS; i++) CHECK_EQ_DBL(nodes[mode][i], nodes[0][i]);
        }
        CHECK_EQ_DBL(hvps[1], hvps[0]);
        if (c == 1) CHECK(hvps[2] >= hvps[0] && hvps[2] <= hvps[0] + 3); else CHECK_EQ_DBL(hvps[2], hvps[0]);
        /* a failing hvp_block: HLR_ERR_CALLBACK naming it, every vector released */
        hlr_estimator *e = make(kind);
        set(e, HLR_EST_PARAM_HVP_BLOCK, 4);
        if (slq) set(e, HLR_EST_PARAM_RUNS, RUNS); /* one run alone never makes a block */
        ops_ctx fc;
        ops_init_failing(&fc, &dense, N, OP_HVP_BLOCK, 2, 53);
        hlr_vector_ops ft = ops_table(N);
        ft.hvp_block = op_hvp_block;
        CHECK_FAILS(hlr_estimator_run_ops(e, &ft, &fc), HLR_ERR_CALLBACK);
        CHECK_ERROR_HAS("ops->hvp_block callback returned 53");
        CHECK_EQ_INT(fc.live, 0);
        ops_cleanup(&fc);
        /* struct_size up to all_reduce (13 fields): hvp_block is not read */
        ops_ctx sc;
        ops_init(&sc, &dense, N);
        hlr_vector_ops st = ops_table(N);
        st.hvp_block = op_hvp_block;
        st.struct_size = 13 * sizeof(void *);
        CHECK_OK(hlr_estimator_run_ops(e, &st, &sc));
        CHECK_EQ_INT(sc.calls[OP_HVP_BLOCK], 0);
        release_run(e, &sc, vectors);
        CHECK_OK(hlr_estimator_free(e));
    }
    /* the parameter: kinds [3,4,5,6,7,8] only, 1 .. max, integral */
    hlr_estimator *l = make(HLR_ESTIMATOR_LANCZOS), *h = make(HLR_ESTIMATOR_HUTCHINSON);
    CHECK_FAILS(hlr_estimator_set_param(l, HLR_EST_PARAM_HVP_BLOCK, 2), HLR_ERR_UNKNOWN_KEY);
    CHECK_FAILS(hlr_estimator_set_param(h, HLR_EST_PARAM_HVP_BLOCK, 0), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("hvp_block");
    CHECK_FAILS(hlr_estimator_set_param(h, HLR_EST_PARAM_HVP_BLOCK, 2.5), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_estimator_free(l));
    CHECK_OK(hlr_estimator_free(h));
    matrix_free(&dense);
}

/* multi_dot / multi_axpy (0.3.0): Lanczos, Hutch++, XTrace and XDiag give the same bits with
 * them as without (the table's dots and axpys are the library's reductions), with far fewer dot
 * callbacks; a failing multi_dot fails the run naming it, nothing leaked; a struct_size that
 * does not cover them leaves them unread. */
static void test_multi_dot_axpy(void) {
    enum { N = 60 };
    double lambda[N];
    for (int i = 0; i < N; i++) lambda[i] = 4.0 / (i + 1.0);
    matrix dense = matrix_make(lambda, N, 3, 23);
    const int kinds[] = {HLR_ESTIMATOR_LANCZOS, HLR_ESTIMATOR_HUTCH_PLUS_PLUS, HLR_ESTIMATOR_XTRACE, HLR_ESTIMATOR_XDIAG};
    const int first_result[] = {HLR_RESULT_EIGENVALUES, HLR_RESULT_TRACE, HLR_RESULT_TRACE, HLR_RESULT_TRACE};
    for (int c = 0; c < 4; c++) {
        double value[2] = {0}, second[2] = {0};
        long dots[2] = {0}, multi[2] = {0};
        for (int mode = 0; mode < 2; mode++) {
            hlr_estimator *e = make(kinds[c]);
            CHECK_OK(hlr_estimator_set_seed(e, 5));
            if (kinds[c] == HLR_ESTIMATOR_LANCZOS) set(e, HLR_EST_PARAM_COUNT, 3);
            else set(e, HLR_EST_PARAM_MATVECS, 30);
            ops_ctx oc;
            ops_init(&oc, &dense, N);
            hlr_vector_ops table = ops_table(N);
            if (mode == 1) {
                table.multi_dot = op_multi_dot;
                table.multi_axpy = op_multi_axpy;
            }
            CHECK_OK(hlr_estimator_run_ops(e, &table, &oc));
            size_t n = 0;
            double *values = result(e, first_result[c], &n);
            value[mode] = values != NULL && n > 0 ? values[0] : NAN;
            second[mode] = values != NULL && n > 1 ? values[n - 1] : 0;
            free(values);
            dots[mode] = oc.calls[OP_DOT];
            multi[mode] = oc.calls[OP_MULTI_DOT];
            release_run(e, &oc, kinds[c] == HLR_ESTIMATOR_XDIAG);
            CHECK_OK(hlr_estimator_free(e));
        }
        CHECK_EQ_DBL(value[1], value[0]);
        CHECK_EQ_DBL(second[1], second[0]);
        CHECK_EQ_INT(multi[0], 0);
        CHECK(multi[1] > 0);
        CHECK(dots[1] * 3 < dots[0]);
        printf("multi_dot %s: %ld dot callbacks -> %ld dot + %ld multi_dot callbacks, same bits\n",
               kinds[c] == HLR_ESTIMATOR_LANCZOS ? "lanczos" : kinds[c] == HLR_ESTIMATOR_HUTCH_PLUS_PLUS ? "hutch++"
               : kinds[c] == HLR_ESTIMATOR_XTRACE ? "xtrace" : "xdiag", dots[0], dots[1], multi[1]);
        /* failing multi_dot / multi_axpy; a struct_size covering up to hvp_block only */
        for (int op = OP_MULTI_DOT; op <= OP_MULTI_AXPY; op++) {
            hlr_estimator *e = make(kinds[c]);
            if (kinds[c] != HLR_ESTIMATOR_LANCZOS) set(e, HLR_EST_PARAM_MATVECS, 30);
            ops_ctx fc;
            ops_init_failing(&fc, &dense, N, op, 3, 61);
            hlr_vector_ops ft = ops_table(N);
            ft.multi_dot = op_multi_dot;
            ft.multi_axpy = op_multi_axpy;
            CHECK_FAILS(hlr_estimator_run_ops(e, &ft, &fc), HLR_ERR_CALLBACK);
            CHECK_ERROR_HAS(op == OP_MULTI_DOT ? "ops->multi_dot callback returned 61"
                                               : "ops->multi_axpy callback returned 61");
            CHECK_EQ_INT(fc.live, 0);
            ops_cleanup(&fc);
            CHECK_OK(hlr_estimator_free(e));
        }
        hlr_estimator *e = make(kinds[c]);
        if (kinds[c] != HLR_ESTIMATOR_LANCZOS) set(e, HLR_EST_PARAM_MATVECS, 30);
        ops_ctx sc;
        ops_init(&sc, &dense, N);
        hlr_vector_ops st = ops_table(N);
        st.multi_dot = op_multi_dot;
        st.multi_axpy = op_multi_axpy;
        st.struct_size = 14 * sizeof(void *);
        CHECK_OK(hlr_estimator_run_ops(e, &st, &sc));
        CHECK_EQ_INT(sc.calls[OP_MULTI_DOT] + sc.calls[OP_MULTI_AXPY], 0);
        release_run(e, &sc, kinds[c] == HLR_ESTIMATOR_XDIAG);
        CHECK_OK(hlr_estimator_free(e));
    }
    matrix_free(&dense);
}

static void test_spectral_density(void) {
    enum { N = 60 };
    double lambda[N];
    for (int i = 0; i < N; i++) lambda[i] = i < 50 ? 0.02 * i : 5.0 + 0.1 * (i - 50); /* bulk + outliers */
    matrix m = matrix_make(lambda, N, 4, 41);
    hlr_estimator *e = make(HLR_ESTIMATOR_SPECTRAL_DENSITY);
    set(e, HLR_EST_PARAM_RUNS, 3);
    set(e, HLR_EST_PARAM_STEPS, 20);
    set(e, HLR_EST_PARAM_GRID_POINTS, 400);
    host_op op = {.m = &m};
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    size_t nn = 0, nw = 0, ns = 0, ng = 0, nd = 0;
    double *nodes = result(e, HLR_RESULT_DENSITY_NODES, &nn);
    double *weights = result(e, HLR_RESULT_DENSITY_WEIGHTS, &nw);
    double *steps = result(e, HLR_RESULT_RUN_STEPS, &ns);
    double *grid = result(e, HLR_RESULT_GRID, &ng);
    double *density = result(e, HLR_RESULT_DENSITY, &nd);
    CHECK_EQ_INT(ns, 3);
    CHECK_EQ_INT(nn, nw);
    CHECK_EQ_INT(ng, 400);
    CHECK_EQ_INT(nd, 400);
    size_t at = 0;
    double worst = 0;
    for (size_t r = 0; steps && r < ns; r++) {
        CHECK_EQ_DBL(steps[r], 20);
        double sum = 0;
        for (size_t i = 0; i < (size_t)steps[r] && at < nw; i++, at++) {
            sum += weights[at];
            CHECK(weights[at] >= 0);
            CHECK(nodes[at] >= -1e-10 && nodes[at] <= 5.9 + 1e-10); /* interlacing */
        }
        if (fabs(sum - 1) > worst) worst = fabs(sum - 1);
        EST_NEAR(sum, 1.0, 1e-12);
    }
    CHECK_EQ_INT(at, nn);
    double integral = 0;
    for (size_t g = 0; grid && density && g + 1 < ng; g++)
        integral += 0.5 * (density[g] + density[g + 1]) * (grid[g + 1] - grid[g]);
    EST_NEAR(integral, 1.0, 1e-12);
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_HVPS), 60);
    double sigma = scalar(e, HLR_RESULT_SIGMA);
    CHECK(sigma > 0);
    printf("SLQ 3 runs x 20 steps: weights sum to 1 within %.1e, trace %.3f vs %.3f, sigma %.4f\n",
           worst, scalar(e, HLR_RESULT_TRACE), matrix_trace(&m), sigma);
    /* hlr_density_smooth of the measure (weights / runs) is the density before its
     * renormalisation: a constant multiple of HLR_RESULT_DENSITY, with integral ~1 (the default
     * grid leaves 5 sigma on each side). */
    if (nodes && weights && grid && density) {
        double *measure = malloc(nw * sizeof(double)), *smooth = malloc(ng * sizeof(double));
        for (size_t i = 0; i < nw; i++) measure[i] = weights[i] / 3.0;
        CHECK_OK(hlr_density_smooth(nodes, measure, nn, grid, ng, sigma, smooth));
        double mass = 0, spread = 0;
        for (size_t g = 0; g + 1 < ng; g++) mass += 0.5 * (smooth[g] + smooth[g + 1]) * (grid[g + 1] - grid[g]);
        for (size_t g = 0; g < ng; g++)
            if (density[g] > 1e-3) spread = fmax(spread, fabs(smooth[g] / density[g] - mass));
        EST_NEAR(mass, 1.0, 1e-5);
        CHECK(spread <= 1e-12 * mass);
        free(measure);
        free(smooth);
    }
    free(nodes);
    free(weights);
    free(steps);
    free(grid);
    free(density);

    /* Explicit grid and sigma; lower >= upper refused before any callback. */
    set(e, HLR_EST_PARAM_GRID_LOWER, 0);
    set(e, HLR_EST_PARAM_GRID_UPPER, 6);
    set(e, HLR_EST_PARAM_SIGMA, 0.05);
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    CHECK_EQ_DBL(scalar(e, HLR_RESULT_SIGMA), 0.05);
    grid = result(e, HLR_RESULT_GRID, &ng);
    if (grid && ng == 400) {
        CHECK_EQ_DBL(grid[0], 0);
        CHECK_EQ_DBL(grid[399], 6);
    }
    free(grid);
    set(e, HLR_EST_PARAM_GRID_LOWER, 7);
    long calls = 0;
    CHECK_FAILS(hlr_estimator_run_host_f64(e, N, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("grid_lower");
    CHECK(calls == 0);
    set(e, HLR_EST_PARAM_GRID_LOWER, -INFINITY);
    set(e, HLR_EST_PARAM_GRID_UPPER, INFINITY);

    /* Steps >= n: the Krylov space fills up, the top node is the top eigenvalue. */
    set(e, HLR_EST_PARAM_RUNS, 1);
    set(e, HLR_EST_PARAM_STEPS, 100);
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    nodes = result(e, HLR_RESULT_DENSITY_NODES, &nn);
    if (nodes && nn > 0) EST_NEAR(nodes[nn - 1], 5.9, 1e-10);
    CHECK(nn <= N);
    free(nodes);
    CHECK_OK(hlr_estimator_free(e));
    matrix_free(&m);
}

/* Host f64 and the ops backend give bit-identical results for every kind. */
static void test_host_equals_ops(void) {
    enum { N = 70 };
    double lambda[N];
    for (int i = 0; i < N; i++) lambda[i] = 3.0 * pow(0.9, i) - 0.4;
    matrix m = matrix_make(lambda, N, 4, 51);
    const size_t offsets[] = {0, 7, 40, 70};
    for (int kind = HLR_ESTIMATOR_LANCZOS; kind <= HLR_ESTIMATOR_XDIAG; kind++) {
        hlr_estimator *host = make(kind), *ops_e = make(kind);
        hlr_estimator *both[2] = {host, ops_e};
        for (int j = 0; j < 2; j++) {
            CHECK_OK(hlr_estimator_set_seed(both[j], 0x9E3779B97F4A7C15ull));
            if (kind == HLR_ESTIMATOR_LANCZOS || kind == HLR_ESTIMATOR_POWER_ITERATION) {
                set(both[j], HLR_EST_PARAM_COUNT, 3);
                set(both[j], HLR_EST_PARAM_COMPUTE_VECTORS, 1);
            }
            if (kind == HLR_ESTIMATOR_HUTCHINSON || kind == HLR_ESTIMATOR_HUTCH_PLUS_PLUS ||
                kind == HLR_ESTIMATOR_DIAGONAL) {
                CHECK_OK(hlr_estimator_set_blocks(both[j], offsets, 4));
                set(both[j], kind == HLR_ESTIMATOR_HUTCH_PLUS_PLUS ? HLR_EST_PARAM_MATVECS : HLR_EST_PARAM_SAMPLES, 30);
            }
            if (kind == HLR_ESTIMATOR_XTRACE || kind == HLR_ESTIMATOR_XDIAG) set(both[j], HLR_EST_PARAM_MATVECS, 30);
            if (kind == HLR_ESTIMATOR_XDIAG) CHECK_OK(hlr_estimator_set_blocks(both[j], offsets, 4));
            if (kind == HLR_ESTIMATOR_SPECTRAL_DENSITY) {
                set(both[j], HLR_EST_PARAM_RUNS, 2);
                set(both[j], HLR_EST_PARAM_STEPS, 25);
            }
        }
        host_op op = {.m = &m};
        CHECK_OK(hlr_estimator_run_host_f64(host, N, hvp_f64, &op));
        ops_ctx c;
        ops_init(&c, &m, N);
        hlr_vector_ops table = ops_table(N);
        CHECK_OK(hlr_estimator_run_ops(ops_e, &table, &c));
        CHECK(same_results(host, ops_e, 1));
        CHECK_EQ_INT(c.calls[OP_HVP], op.calls);
        CHECK_EQ_INT(c.bad_handles, 0);
        /* Vector results: the caller owns them; their contents equal the host copies. */
        int diagonal_kind = kind == HLR_ESTIMATOR_DIAGONAL || kind == HLR_ESTIMATOR_XDIAG;
        int vkey = diagonal_kind ? HLR_RESULT_DIAGONAL : HLR_RESULT_EIGENVECTORS;
        int has_vectors = kind <= HLR_ESTIMATOR_POWER_ITERATION || diagonal_kind;
        size_t nh = 0, nv = 0;
        if (has_vectors) {
            CHECK_OK(hlr_estimator_result_size(ops_e, vkey, &nh));
            CHECK_EQ_INT(nh, diagonal_kind ? 1 : 3);
            CHECK_EQ_INT(c.live, (long)nh);
            uint64_t handles[3] = {0, 0, 0};
            CHECK_FAILS(hlr_estimator_get_vectors(ops_e, vkey, handles, nh - 1), HLR_ERR_BUFFER_TOO_SMALL);
            CHECK_OK(hlr_estimator_get_vectors(ops_e, vkey, handles, 3));
            double copy_out[1];
            CHECK_FAILS(hlr_estimator_get_result(ops_e, vkey, copy_out, 1), HLR_ERR_WRONG_STATE);
            CHECK_ERROR_HAS("hlr_estimator_get_vectors");
            double *copies = result(host, vkey, &nv);
            CHECK_EQ_INT(nv, nh * N);
            for (size_t i = 0; i < nh && copies; i++) {
                double *p = ops_vec(&c, handles[i]);
                CHECK(p != NULL && memcmp(p, copies + i * N, N * sizeof(double)) == 0);
                op_release(&c, handles[i]); /* the caller releases its result vectors */
            }
            free(copies);
        }
        CHECK_EQ_INT(c.live, 0);
        CHECK_EQ_INT(c.allocs, c.releases);
        if (kind == HLR_ESTIMATOR_LANCZOS)
            printf("host f64 == ops, bit for bit, for all 6 kinds (lanczos: %ld allocs, %ld dots, %ld HVPs)\n",
                   c.allocs, c.calls[OP_DOT], c.calls[OP_HVP]);
        ops_cleanup(&c);
        CHECK_OK(hlr_estimator_free(host));
        CHECK_OK(hlr_estimator_free(ops_e));
    }
    matrix_free(&m);
}

/* Multi-chunk vectors and threads: a diagonal operator with n = 100000 (13 chunks of 8192). Host
 * runs with 1 and 4 threads and an ops run are bit-identical. */
static int hvp_diag_big(void *ctx, const double *v, double *out, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n; i++) out[i] = (1.0 + (double)(i % 13) * 0.25) * v[i];
    return 0;
}
static int op_hvp_diag_big(void *ctx, uint64_t v, uint64_t out) {
    ops_ctx *c = ctx;
    if (ops_fails(c, OP_HVP)) return c->fail_status;
    double *pv = ops_vec(c, v), *po = ops_vec(c, out);
    if (pv == NULL || po == NULL) return 77;
    return hvp_diag_big(NULL, pv, po, c->n);
}

static void test_threads_and_chunks(void) {
    enum { BIG = 100000 };
    hlr_estimator *a = make(HLR_ESTIMATOR_HUTCH_PLUS_PLUS), *b = make(HLR_ESTIMATOR_HUTCH_PLUS_PLUS),
                  *o = make(HLR_ESTIMATOR_HUTCH_PLUS_PLUS);
    hlr_estimator *all[3] = {a, b, o};
    for (int j = 0; j < 3; j++) {
        set(all[j], HLR_EST_PARAM_MATVECS, 21);
        CHECK_OK(hlr_estimator_set_blocks(all[j], (const size_t[]){0, 9000, 50000, BIG}, 4));
    }
    set(b, HLR_EST_PARAM_THREADS, 4);
    CHECK_OK(hlr_estimator_run_host_f64(a, BIG, hvp_diag_big, NULL));
    CHECK_OK(hlr_estimator_run_host_f64(b, BIG, hvp_diag_big, NULL));
    ops_ctx c;
    ops_init(&c, NULL, BIG);
    hlr_vector_ops table = ops_table(BIG);
    table.hvp = op_hvp_diag_big;
    CHECK_OK(hlr_estimator_run_ops(o, &table, &c));
    CHECK(same_results(a, b, 0));
    CHECK(same_results(a, o, 1));
    CHECK_EQ_INT(c.live, 0);
    double truth = 0;
    for (size_t i = 0; i < BIG; i++) truth += 1.0 + (double)(i % 13) * 0.25;
    EST_NEAR(scalar(a, HLR_RESULT_TRACE), truth, 1e-3);
    ops_cleanup(&c);
    for (int j = 0; j < 3; j++) CHECK_OK(hlr_estimator_free(all[j]));
}

/* Failure paths of runs: every status documented, no callback when arguments are invalid, no
 * vector leaked, previous results kept. */
static void test_run_failures(void) {
    enum { N = 30 };
    double *lambda = spectrum_geometric(N, 5.0, 0.8);
    matrix m = matrix_make(lambda, N, 3, 61);
    hlr_estimator *e = make(HLR_ESTIMATOR_LANCZOS);
    host_op op = {.m = &m};
    long calls = 0;

    CHECK_FAILS(hlr_estimator_run_host_f64(e, 0, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("dimension");
    CHECK_FAILS(hlr_estimator_run_host_f64(e, ((size_t)1 << 31) + 1, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("2147483649");
    CHECK_FAILS(hlr_estimator_run_host_f64(e, SIZE_MAX, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_estimator_run_host_f64(e, N, NULL, &calls), HLR_ERR_NULL_POINTER);
    CHECK_FAILS(hlr_estimator_run_host_f32(e, N, NULL, &calls), HLR_ERR_NULL_POINTER);
    set(e, HLR_EST_PARAM_COUNT, 5);
    CHECK_FAILS(hlr_estimator_run_host_f64(e, 4, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("count");
    set(e, HLR_EST_PARAM_MAX_DIMENSION, 4);
    CHECK_FAILS(hlr_estimator_run_host_f64(e, N, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("max_dimension");
    set(e, HLR_EST_PARAM_MAX_DIMENSION, 128);
    /* k * n over 2^31 doubles of eigenvector copies: refused up front. */
    set(e, HLR_EST_PARAM_COMPUTE_VECTORS, 1);
    set(e, HLR_EST_PARAM_COUNT, 65536);
    set(e, HLR_EST_PARAM_MAX_DIMENSION, 65536);
    CHECK_FAILS(hlr_estimator_run_host_f64(e, (size_t)1 << 31, hvp_never, &calls), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("2^31");
    CHECK(calls == 0);
    set(e, HLR_EST_PARAM_COMPUTE_VECTORS, 0);
    set(e, HLR_EST_PARAM_COUNT, 2);
    set(e, HLR_EST_PARAM_MAX_DIMENSION, 128);

    /* A good run, then failing ones: the good run's results stay. */
    CHECK_OK(hlr_estimator_run_host_f64(e, N, hvp_f64, &op));
    size_t k = 0;
    double *before = result(e, HLR_RESULT_EIGENVALUES, &k);
    host_op failing = {.m = &m, .fail_on = 3, .fail_status = -7};
    CHECK_FAILS(hlr_estimator_run_host_f64(e, N, hvp_f64, &failing), HLR_ERR_CALLBACK);
    CHECK_ERROR_HAS("returned -7");
    CHECK_EQ_INT(failing.calls, 3);
    host_op failing32 = {.m = &m, .fail_on = 1, .fail_status = 5};
    CHECK_FAILS(hlr_estimator_run_host_f32(e, N, hvp_f32, &failing32), HLR_ERR_CALLBACK);
    CHECK_ERROR_HAS("returned 5");
    host_op poison = {.m = &m, .nan_on = 4};
    CHECK_FAILS(hlr_estimator_run_host_f64(e, N, hvp_f64, &poison), HLR_ERR_NONFINITE);
    CHECK_ERROR_HAS("15"); /* the element index n/2 */
    host_op poison32 = {.m = &m, .nan_on = 2};
    CHECK_FAILS(hlr_estimator_run_host_f32(e, N, hvp_f32, &poison32), HLR_ERR_NONFINITE);
    double *after = result(e, HLR_RESULT_EIGENVALUES, &k);
    CHECK(before && after && memcmp(before, after, 2 * sizeof(double)) == 0);
    free(before);
    free(after);

    /* A non-symmetric operator: Lanczos and SLQ report it. */
    matrix skew = matrix_make(lambda, N, 3, 61);
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++) skew.a[i * N + j] += 0.5 * (double)((i * 7 + j * 3) % 5) / 5;
    host_op skew_op = {.m = &skew};
    CHECK_FAILS(hlr_estimator_run_host_f64(e, N, hvp_f64, &skew_op), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("not symmetric");
    hlr_estimator *slq = make(HLR_ESTIMATOR_SPECTRAL_DENSITY);
    CHECK_FAILS(hlr_estimator_run_host_f64(slq, N, hvp_f64, &skew_op), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("not symmetric");
    ops_ctx sc;
    ops_init(&sc, &skew, N);
    hlr_vector_ops st = ops_table(N);
    CHECK_FAILS(hlr_estimator_run_ops(e, &st, &sc), HLR_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(sc.live, 0);
    ops_cleanup(&sc);
    CHECK_OK(hlr_estimator_free(slq));
    matrix_free(&skew);

    /* Ops table problems, all before any callback. */
    ops_ctx c;
    ops_init(&c, &m, N);
    hlr_vector_ops t = ops_table(N);
    CHECK_FAILS(hlr_estimator_run_ops(e, NULL, &c), HLR_ERR_NULL_POINTER);
    t.struct_size = 2 * sizeof(size_t);
    CHECK_FAILS(hlr_estimator_run_ops(e, &t, &c), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("struct_size");
    t.struct_size = 12 * sizeof(void *) - 1; /* version 1: 12 fields */
    CHECK_FAILS(hlr_estimator_run_ops(e, &t, &c), HLR_ERR_INVALID_ARGUMENT);
    t = ops_table(0);
    CHECK_FAILS(hlr_estimator_run_ops(e, &t, &c), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("dimension");
    t = ops_table((size_t)1 << 49);
    CHECK_FAILS(hlr_estimator_run_ops(e, &t, &c), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("ops->n");
    const char *required[] = {"alloc", "release", "copy", "dot", "axpy", "scale", "fill_probe", "hvp"};
    for (int f = 0; f < 8; f++) {
        t = ops_table(N);
        switch (f) {
            case 0: t.alloc = NULL; break;
            case 1: t.release = NULL; break;
            case 2: t.copy = NULL; break;
            case 3: t.dot = NULL; break;
            case 4: t.axpy = NULL; break;
            case 5: t.scale = NULL; break;
            case 6: t.fill_probe = NULL; break;
            default: t.hvp = NULL; break;
        }
        CHECK_FAILS(hlr_estimator_run_ops(e, &t, &c), HLR_ERR_NULL_POINTER);
        CHECK_ERROR_HAS(required[f]);
    }
    /* Optional callbacks: only needed by the diagonal / with blocks. */
    t = ops_table(N);
    t.mul_acc = NULL;
    t.block_dots = NULL;
    CHECK_OK(hlr_estimator_run_ops(e, &t, &c)); /* Lanczos needs neither */
    hlr_estimator *dg = make(HLR_ESTIMATOR_DIAGONAL);
    CHECK_FAILS(hlr_estimator_run_ops(dg, &t, &c), HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("mul_acc");
    hlr_estimator *hb = make(HLR_ESTIMATOR_HUTCHINSON);
    CHECK_OK(hlr_estimator_set_blocks(hb, (const size_t[]){0, 10, N}, 3));
    CHECK_FAILS(hlr_estimator_run_ops(hb, &t, &c), HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("block_dots");
    long total_calls = 0;
    for (int f = 0; f < OP_COUNT; f++) total_calls += c.calls[f];
    CHECK_EQ_INT(c.live, 0);

    /* A larger struct from a "newer header": accepted, the extra fields are not read. */
    struct {
        hlr_vector_ops ops;
        void *future[3];
    } bigger;
    memset(&bigger, 0xFF, sizeof bigger); /* garbage in the unknown fields */
    bigger.ops = ops_table(N);
    bigger.ops.struct_size = sizeof bigger;
    CHECK_OK(hlr_estimator_run_ops(e, &bigger.ops, &c));
    CHECK_EQ_INT(c.live, 0);
    (void)total_calls;

    /* Each op failing in turn, at several points of a run: HLR_ERR_CALLBACK naming it, nothing
     * leaked. Lanczos uses alloc, dot, axpy, scale, fill_probe, hvp; power iteration copy; the
     * diagonal mul_acc; Hutchinson with blocks block_dots. */
    set(e, HLR_EST_PARAM_COMPUTE_VECTORS, 1);
    hlr_estimator *pw = make(HLR_ESTIMATOR_POWER_ITERATION);
    set(pw, HLR_EST_PARAM_COUNT, 2);
    set(pw, HLR_EST_PARAM_COMPUTE_VECTORS, 1);
    set(hb, HLR_EST_PARAM_SAMPLES, 10);
    set(dg, HLR_EST_PARAM_SAMPLES, 10);
    int failures_checked = 0;
    for (int f = 0; f < OP_COUNT; f++) {
        hlr_estimator *target = f == OP_COPY ? pw : f == OP_MUL_ACC ? dg : f == OP_BLOCK_DOTS ? hb : e;
        const long points[] = {1, 2, 3, 7, 20};
        for (int p = 0; p < 5; p++) {
            ops_ctx fc;
            ops_init_failing(&fc, &m, N, f, points[p], 40 + f);
            hlr_vector_ops ft = ops_table(N);
            int status = hlr_estimator_run_ops(target, &ft, &fc);
            if (fc.calls[f] < points[p]) { /* the run never reached that call */
                CHECK_OK(status);
                size_t nv = 0;
                int vkey = target == dg ? HLR_RESULT_DIAGONAL : HLR_RESULT_EIGENVECTORS;
                if (hlr_estimator_result_size(target, vkey, &nv) == HLR_OK && nv <= 4) {
                    uint64_t hs[4];
                    CHECK_OK(hlr_estimator_get_vectors(target, vkey, hs, 4));
                    for (size_t i = 0; i < nv; i++) op_release(&fc, hs[i]);
                }
            } else {
                char text[64];
                CHECK_STATUS(status, HLR_ERR_CALLBACK);
                snprintf(text, sizeof text, "ops->%s callback returned %d", op_names[f], 40 + f);
                CHECK_ERROR_HAS(text);
                failures_checked++;
            }
            CHECK_EQ_INT(fc.live, 0);
            CHECK_EQ_INT(fc.allocs, fc.releases);
            CHECK_EQ_INT(fc.bad_handles, 0);
            ops_cleanup(&fc);
        }
    }
    CHECK(failures_checked >= 30);
    /* NaN from the ops HVP: caught at the next dot, nothing leaked. */
    for (long at = 1; at <= 5; at++) {
        ops_ctx nc;
        ops_init(&nc, &m, N);
        nc.nan_hvp_at = at;
        hlr_vector_ops nt = ops_table(N);
        CHECK_FAILS(hlr_estimator_run_ops(e, &nt, &nc), HLR_ERR_NONFINITE);
        CHECK_EQ_INT(nc.live, 0);
        ops_cleanup(&nc);
    }
    CHECK_OK(hlr_estimator_free(pw));
    CHECK_OK(hlr_estimator_free(dg));
    CHECK_OK(hlr_estimator_free(hb));
    ops_cleanup(&c);
    CHECK_OK(hlr_estimator_free(e));
    matrix_free(&m);
    free(lambda);
}

/* The probe formula of the header, reimplemented: Rademacher and Gaussian bit for bit. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void test_probes_and_diagnostics(void) {
    enum { LEN = 4096 };
    static double lib[LEN];
    static float lib32[LEN];
    const uint64_t seed = 0xDEADBEEFCAFEF00Dull, stream = 3, index = 17;
    uint64_t key = mix64(mix64(mix64(seed + 0x9E3779B97F4A7C15ull) ^ (stream * 0xD1B54A32D192ED03ull)) ^
                         (index * 0x8CB92BA72F3D8DD7ull));
    CHECK_OK(hlr_probe_fill_f64(seed, stream, index, HLR_PROBE_RADEMACHER, 0, lib, LEN));
    int same = 1;
    for (uint64_t i = 0; i < LEN; i++) {
        uint64_t bits = mix64(key + (i + 1) * 0x9E3779B97F4A7C15ull);
        same &= lib[i] == ((bits >> 63) == 0 ? 1.0 : -1.0);
    }
    CHECK(same);
    CHECK_OK(hlr_probe_fill_f64(seed, stream, index, HLR_PROBE_GAUSSIAN, 0, lib, LEN));
    int gauss_same = 0;
    double gauss_worst = 0, mean = 0, var = 0;
    for (uint64_t i = 0; i < LEN; i++) {
        uint64_t bits = mix64(key + (i + 1) * 0x9E3779B97F4A7C15ull);
        double u1 = ((double)(bits >> 11) + 0.5) * 0x1.0p-53;
        double u2 = (double)(mix64(bits) >> 11) * 0x1.0p-53;
        double g = sqrt(-2 * log(u1)) * cos(2 * 3.14159265358979323846 * u2);
        gauss_same += g == lib[i];
        if (fabs(g - lib[i]) > gauss_worst) gauss_worst = fabs(g - lib[i]);
        mean += lib[i];
        var += lib[i] * lib[i];
    }
    CHECK(gauss_worst <= 1e-15 * 8); /* the library's own log and cos against libm's: 1.8e-15 here, 2.9e-15 over 1e7 */
    CHECK(fabs(mean / LEN) < 0.1 && fabs(var / LEN - 1) < 0.1);
    printf("probe formula in C: Rademacher bit for bit; Gaussian %d/%d bit for bit (max diff %.1e)\n",
           gauss_same, LEN, gauss_worst);
    /* Offsets: element first + j. */
    double tail[8];
    CHECK_OK(hlr_probe_fill_f64(seed, stream, index, HLR_PROBE_GAUSSIAN, 100, tail, 8));
    CHECK(memcmp(tail, lib + 100, sizeof tail) == 0);
    CHECK_OK(hlr_probe_fill_f32(seed, stream, index, HLR_PROBE_GAUSSIAN, 0, lib32, LEN));
    CHECK(lib32[5] == (float)lib[5]);
    CHECK_FAILS(hlr_probe_fill_f64(seed, stream, index, 3, 0, tail, 8), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_probe_fill_f64(seed, stream, index, HLR_PROBE_GAUSSIAN, 0, NULL, 8), HLR_ERR_NULL_POINTER);
    CHECK_FAILS(hlr_probe_fill_f64(seed, stream, index, HLR_PROBE_GAUSSIAN, UINT64_MAX - 2, tail, 8), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_probe_fill_f64(seed, stream, index, HLR_PROBE_GAUSSIAN, 0, NULL, 0));

    double out = -1;
    CHECK_OK(hlr_edge_of_stability(0.1, 30.0, &out));
    CHECK_EQ_DBL(out, 0.1 * 30.0 / 2);
    CHECK_OK(hlr_sgd_trace_stability(0.01, 50.0, &out));
    CHECK_EQ_DBL(out, 0.01 * 50.0 / 2);
    CHECK_OK(hlr_scaled_lr(0.1, 32, 128, HLR_BATCH_SCALING_LINEAR, &out));
    CHECK_EQ_DBL(out, 0.1 * 4);
    CHECK_OK(hlr_scaled_lr(0.1, 32, 128, HLR_BATCH_SCALING_SQRT, &out));
    CHECK_EQ_DBL(out, 0.1 * 2);
    out = -1;
    CHECK_FAILS(hlr_edge_of_stability(0, 30, &out), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_edge_of_stability(0.1, NAN, &out), HLR_ERR_NONFINITE);
    CHECK_FAILS(hlr_edge_of_stability(1e300, 1e300, &out), HLR_ERR_NONFINITE);
    CHECK_FAILS(hlr_edge_of_stability(0.1, 1, NULL), HLR_ERR_NULL_POINTER);
    CHECK_FAILS(hlr_scaled_lr(0.1, 0, 128, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_scaled_lr(0.1, 32, 128, 3, &out), HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS(hlr_scaled_lr(1e300, 1e-300, 1e300, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_NONFINITE);
    CHECK_FAILS(hlr_sgd_trace_stability(-1, 1, &out), HLR_ERR_INVALID_ARGUMENT);
    CHECK_EQ_DBL(out, -1); /* untouched by the failures */
}

int main(void) {
    test_bounds_and_defaults();
    test_handles_and_params();
    test_lanczos();
    test_power_iteration();
    test_traces();
    test_diagonal();
    test_xdiag();
    test_hvp_block();
    test_multi_dot_axpy();
    test_spectral_density();
    test_host_equals_ops();
    test_threads_and_chunks();
    test_run_failures();
    test_probes_and_diagnostics();
    return CHECK_SUMMARY();
}
