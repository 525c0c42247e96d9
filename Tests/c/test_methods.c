/* Every method (HessianLR, CDAT, GeN, Hi-DLR, Armijo, Constant) end to end through the C ABI:
 *
 *  1. the general protocol (hlr_tuner_need / hlr_tuner_get_probes / hlr_tuner_observe), driven
 *     here from host buffers exactly as the header documents, against
 *     hlr_tuner_step_host_f32 / _f64 with loss and HVP callbacks, on a coupled quadratic and an
 *     L2-regularised logistic regression, and against hlr_tuner_step with hlr_step_ops computing
 *     the same quantities: the three paths give the same rates bit for bit, the same snapshot
 *     byte for byte and the same number of callback calls;
 *  2. exact values where a method is exact on a quadratic: HessianLR g'd/d'Hd, GeN b/a, Hi-DLR
 *     per-group optima (diagonal model on a separable quadratic, A^-1 b with HLR_MODEL_FULL on a
 *     coupled one), CDAT sigma*n/d on the first observation, Armijo's backtracking sequence
 *     computed here;
 *  3. each method's info keys (and the keys it does not have) and decision flags;
 *  4. snapshot mid-run -> restore -> bit-identical continuation for every method, also in the
 *     middle of an Armijo line search;
 *  5. hlr_tuner_step_host_* all or nothing: a failing callback, a callback that changes the tuner
 *     through another call, NaN current_loss ("not given"), +-Inf current_loss.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { MAXN = 8, MAXM = 32, MAXG = 4 };

static const int all_methods[] = {HLR_METHOD_HESSIANLR, HLR_METHOD_CDAT,   HLR_METHOD_GEN,
                                  HLR_METHOD_HIDLR,     HLR_METHOD_ARMIJO, HLR_METHOD_CONSTANT};
enum { METHOD_COUNT = sizeof all_methods / sizeof all_methods[0] };

static const char *method_name(int method) {
    switch (method) {
    case HLR_METHOD_HESSIANLR: return "hessianlr";
    case HLR_METHOD_CDAT: return "cdat";
    case HLR_METHOD_GEN: return "gen";
    case HLR_METHOD_HIDLR: return "hidlr";
    case HLR_METHOD_ARMIJO: return "armijo";
    case HLR_METHOD_CONSTANT: return "constant";
    case HLR_METHOD_AUTO: return "auto";
    default: return "?";
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Problems: a coupled quadratic and a logistic regression, with instrumented callbacks       */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    int logistic;              /* 0: L = 1/2 w'Aw - b'w;  1: mean softplus loss + lambda/2 |w|^2 */
    size_t n;
    double a[MAXN * MAXN], b[MAXN];
    size_t m;                  /* logistic samples */
    double x[MAXM * MAXN], y[MAXM], lambda;
    double at[MAXN];           /* weights the HVP is taken at (logistic) */
    /* instrumentation */
    int loss_calls, hvp_calls;
    int fail_loss_on, fail_hvp_on; /* 1-based call that returns non-zero; 0 never */
    int nan_loss_on, nan_hvp_on;   /* 1-based call that writes NaN */
    int wrong_n;
    hlr_tuner *reenter;            /* a handle the callbacks call into */
    int reenter_on;                /* 1-based loss or HVP call (counted together) */
    int reenter_mutates;           /* 1: hlr_tuner_set_param, 2: a refused one, 0: read-only */
    int reenter_status;
} problem;

static void problem_quadratic(problem *p, size_t n, const double *a, const double *b) {
    memset(p, 0, sizeof *p);
    p->n = n;
    memcpy(p->a, a, n * n * sizeof *a);
    memcpy(p->b, b, n * sizeof *b);
}

static uint64_t lcg_state = 0x9e3779b97f4a7c15ull;
static double lcg_unit(void) { /* [0, 1) */
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) * 0x1.0p-53;
}

static void problem_logistic(problem *p) {
    memset(p, 0, sizeof *p);
    p->logistic = 1;
    p->n = 4; /* 3 features + bias */
    p->m = 24;
    p->lambda = 1e-2;
    lcg_state = 0x2545F4914F6CDD1Dull;
    for (size_t s = 0; s < p->m; s++) {
        double z = 0.0;
        for (size_t j = 0; j < 3; j++) {
            p->x[s * 4 + j] = 2.0 * lcg_unit() - 1.0;
            z += (j == 0 ? 1.5 : j == 1 ? -2.0 : 0.5) * p->x[s * 4 + j];
        }
        p->x[s * 4 + 3] = 1.0;
        p->y[s] = (z + 0.6 * (lcg_unit() - 0.5)) > 0.1 ? 1.0 : 0.0;
    }
}

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

static double loss_at(const problem *p, const double *w) {
    double value = 0.0;
    if (!p->logistic) {
        for (size_t i = 0; i < p->n; i++) {
            double aw = 0.0;
            for (size_t j = 0; j < p->n; j++) aw += p->a[i * p->n + j] * w[j];
            value += 0.5 * w[i] * aw - p->b[i] * w[i];
        }
        return value;
    }
    for (size_t s = 0; s < p->m; s++) {
        double z = 0.0;
        for (size_t j = 0; j < p->n; j++) z += p->x[s * p->n + j] * w[j];
        value += softplus(z) - p->y[s] * z;
    }
    value /= (double)p->m;
    double norm = 0.0;
    for (size_t j = 0; j < p->n; j++) norm += w[j] * w[j];
    return value + 0.5 * p->lambda * norm;
}

static void gradient_at(const problem *p, const double *w, double *g) {
    if (!p->logistic) {
        for (size_t i = 0; i < p->n; i++) {
            double aw = 0.0;
            for (size_t j = 0; j < p->n; j++) aw += p->a[i * p->n + j] * w[j];
            g[i] = aw - p->b[i];
        }
        return;
    }
    for (size_t j = 0; j < p->n; j++) g[j] = p->lambda * w[j];
    for (size_t s = 0; s < p->m; s++) {
        double z = 0.0;
        for (size_t j = 0; j < p->n; j++) z += p->x[s * p->n + j] * w[j];
        double r = (sigmoid(z) - p->y[s]) / (double)p->m;
        for (size_t j = 0; j < p->n; j++) g[j] += r * p->x[s * p->n + j];
    }
}

/* Where the exact tests start: p set to the quadratic (problem_quadratic) and g to its gradient
 * at w. */
static void problem_quadratic_at(problem *p, size_t n, const double *a, const double *b,
                                 const double *w, double *g) {
    problem_quadratic(p, n, a, b);
    gradient_at(p, w, g);
}

/* out = H(at) v */
static void hvp_at(const problem *p, const double *v, double *out) {
    if (!p->logistic) {
        for (size_t i = 0; i < p->n; i++) {
            double sum = 0.0;
            for (size_t j = 0; j < p->n; j++) sum += p->a[i * p->n + j] * v[j];
            out[i] = sum;
        }
        return;
    }
    for (size_t j = 0; j < p->n; j++) out[j] = p->lambda * v[j];
    for (size_t s = 0; s < p->m; s++) {
        double z = 0.0, xv = 0.0;
        for (size_t j = 0; j < p->n; j++) {
            z += p->x[s * p->n + j] * p->at[j];
            xv += p->x[s * p->n + j] * v[j];
        }
        double q = sigmoid(z);
        double r = q * (1.0 - q) * xv / (double)p->m;
        for (size_t j = 0; j < p->n; j++) out[j] += r * p->x[s * p->n + j];
    }
}

/* Calls into p->reenter from inside a callback (the header allows it, also on the same handle). */
static void maybe_reenter(problem *p) {
    int call = p->loss_calls + p->hvp_calls;
    if (p->reenter == NULL || call != p->reenter_on) return;
    if (p->reenter_mutates == 2) {
        p->reenter_status = hlr_tuner_set_param(p->reenter, HLR_PARAM_SMOOTHING, 5.0); /* refused */
    } else if (p->reenter_mutates) {
        p->reenter_status = hlr_tuner_set_param(p->reenter, HLR_PARAM_INITIAL_LR, 0.0123);
    } else {
        double lr = 0.0, info = 0.0;
        int need = -1;
        size_t size = 0;
        int status = hlr_tuner_get_lr(p->reenter, 0, 0, &lr);
        if (status == HLR_OK) status = hlr_tuner_need(p->reenter, 0, &need, NULL);
        if (status == HLR_OK) status = hlr_tuner_get_info(p->reenter, HLR_INFO_UPDATES, 0, &info);
        if (status == HLR_OK) status = hlr_tuner_snapshot_size(p->reenter, &size);
        p->reenter_status = status;
    }
}

static int loss_common(problem *p, const double *w, size_t n, double *loss) {
    p->loss_calls++;
    if (n != p->n) p->wrong_n = 1;
    maybe_reenter(p);
    if (p->fail_loss_on == p->loss_calls) return 7;
    *loss = p->nan_loss_on == p->loss_calls ? NAN : loss_at(p, w);
    return 0;
}

static int cb_loss64(void *ctx, const double *w, size_t n, double *loss) {
    return loss_common((problem *)ctx, w, n, loss);
}

static int cb_loss32(void *ctx, const float *w, size_t n, double *loss) {
    problem *p = ctx;
    double wide[MAXN] = {0};
    if (n > MAXN) return 5;
    for (size_t i = 0; i < n; i++) wide[i] = w[i];
    return loss_common(p, wide, n, loss);
}

static int hvp_common(problem *p, size_t n) {
    p->hvp_calls++;
    if (n != p->n) p->wrong_n = 1;
    maybe_reenter(p);
    return p->fail_hvp_on == p->hvp_calls ? 9 : 0;
}

static int cb_hvp64(void *ctx, const double *v, double *out, size_t n) {
    problem *p = ctx;
    if (hvp_common(p, n) != 0 || n > MAXN) return 9;
    hvp_at(p, v, out);
    if (p->nan_hvp_on == p->hvp_calls) out[0] = NAN;
    return 0;
}

static int cb_hvp32(void *ctx, const float *v, float *out, size_t n) {
    problem *p = ctx;
    if (hvp_common(p, n) != 0 || n > MAXN) return 9;
    double wide[MAXN] = {0}, result[MAXN] = {0};
    for (size_t i = 0; i < n; i++) wide[i] = v[i];
    hvp_at(p, wide, result);
    for (size_t i = 0; i < n; i++) out[i] = (float)result[i];
    if (p->nan_hvp_on == p->hvp_calls) out[0] = NAN;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* One step through the general protocol, computed from host buffers as the header documents  */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    int f32;
    size_t n;
    const size_t *offsets; /* as passed to step_host: NULL with n_offsets 0 means one group */
    size_t n_offsets;
    const double *w64, *g64, *u64; /* u may be NULL: d = g */
    const float *w32, *g32, *u32;
    double current_loss;           /* NaN: not given */
} host_step;

static size_t hs_groups(const host_step *h) { return h->offsets ? h->n_offsets - 1 : 1; }
static size_t hs_begin(const host_step *h, size_t k) { return h->offsets ? h->offsets[k] : 0; }
static size_t hs_end(const host_step *h, size_t k) { return h->offsets ? h->offsets[k + 1] : h->n; }

/* Widened copies of w, g and d = u or g. */
static void hs_widen(const host_step *h, double *w, double *g, double *d) {
    for (size_t i = 0; i < h->n; i++) {
        if (h->f32) {
            w[i] = h->w32[i];
            g[i] = h->g32[i];
            d[i] = h->u32 ? h->u32[i] : h->g32[i];
        } else {
            w[i] = h->w64[i];
            g[i] = h->g64[i];
            d[i] = h->u64 ? h->u64[i] : h->g64[i];
        }
    }
}

/* Calls the loss callback at L(w - sum_k xi_k d_k), the trial point built as LossProbes does:
 * element i of group k is T(double(w_i) - xi_k * double(d_i)). */
static int hs_loss(const host_step *h, problem *p, const double *xi, double *loss) {
    double w[MAXN], g[MAXN], d[MAXN];
    hs_widen(h, w, g, d);
    if (h->f32) {
        float trial[MAXN];
        for (size_t k = 0; k < hs_groups(h); k++)
            for (size_t i = hs_begin(h, k); i < hs_end(h, k); i++)
                trial[i] = (float)(w[i] - xi[k] * d[i]);
        return cb_loss32(p, trial, h->n, loss);
    }
    double trial[MAXN];
    for (size_t k = 0; k < hs_groups(h); k++)
        for (size_t i = hs_begin(h, k); i < hs_end(h, k); i++) trial[i] = w[i] - xi[k] * d[i];
    return cb_loss64(p, trial, h->n, loss);
}

/* d_k'H d_k of group k as host mode computes it: one HVP of d masked to the group (of d itself
 * with one group; none for an empty group: 0), the dot in the library's order. */
static int hs_curvature(const host_step *h, problem *p, size_t k, double *out) {
    size_t groups = hs_groups(h), b = hs_begin(h, k), e = hs_end(h, k);
    double w[MAXN], g[MAXN], d[MAXN];
    hs_widen(h, w, g, d);
    *out = 0.0;
    if (e == b) return 0;
    int status = 0;
    if (h->f32) {
        float v[MAXN], prod[MAXN];
        for (size_t i = 0; i < h->n; i++) {
            float di = h->u32 ? h->u32[i] : h->g32[i];
            v[i] = (groups == 1 || (i >= b && i < e)) ? di : 0.0f;
            prod[i] = 0.0f;
        }
        status = cb_hvp32(p, v, prod, h->n);
        double wide[MAXN];
        for (size_t i = 0; i < h->n; i++) wide[i] = prod[i];
        *out = hlrt_dot(d + b, wide + b, e - b);
    } else {
        double v[MAXN], prod[MAXN];
        for (size_t i = 0; i < h->n; i++) {
            v[i] = (groups == 1 || (i >= b && i < e)) ? d[i] : 0.0;
            prod[i] = 0.0;
        }
        status = cb_hvp64(p, v, prod, h->n);
        *out = hlrt_dot(d + b, prod + b, e - b);
    }
    return status;
}

/* Runs `step` to completion through need / get_probes / observe; returns the status of the first
 * failing call (HLR_OK when the step needs nothing more) and the number of observations. */
static int protocol_step(hlr_tuner *t, uint64_t step, const host_step *h, problem *p,
                         size_t *rounds) {
    *rounds = 0;
    size_t groups = hs_groups(h);
    double w[MAXN], g[MAXN], d[MAXN];
    hs_widen(h, w, g, d);
    for (int guard = 0; guard < 5000; guard++) {
        int need = -1;
        size_t count = 0;
        int status = hlr_tuner_need(t, step, &need, &count);
        if (status != HLR_OK) return status;
        if (need == HLR_NEED_NOTHING) return HLR_OK;
        double *values = calloc(count ? count : 1, sizeof *values);
        if (values == NULL) return -1;
        switch (need) {
        case HLR_NEED_CURVATURE:
            for (size_t k = 0; k < groups; k++) {
                size_t b = hs_begin(h, k), e = hs_end(h, k);
                values[2 * k] = hlrt_dot(g + b, d + b, e - b);
                if (hs_curvature(h, p, k, &values[2 * k + 1]) != 0) status = HLR_ERR_CALLBACK;
            }
            break;
        case HLR_NEED_LOSSES: {
            size_t m = count;
            double *probes = calloc(m * groups, sizeof *probes);
            status = hlr_tuner_get_probes(t, step, probes, m * groups);
            for (size_t j = 0; j < m && status == HLR_OK; j++) {
                int zero = 1;
                for (size_t k = 0; k < groups; k++) zero &= probes[j * groups + k] == 0.0;
                if (zero && !isnan(h->current_loss)) {
                    values[j] = h->current_loss;
                } else if (hs_loss(h, p, probes + j * groups, &values[j]) != 0) {
                    status = HLR_ERR_CALLBACK;
                }
            }
            free(probes);
            break;
        }
        case HLR_NEED_SLOPE:
            if (!isnan(h->current_loss)) {
                values[0] = h->current_loss;
            } else if (h->f32) {
                if (cb_loss32(p, h->w32, h->n, &values[0]) != 0) status = HLR_ERR_CALLBACK;
            } else {
                if (cb_loss64(p, h->w64, h->n, &values[0]) != 0) status = HLR_ERR_CALLBACK;
            }
            for (size_t k = 0; k < groups; k++) {
                size_t b = hs_begin(h, k), e = hs_end(h, k);
                values[1 + k] = hlrt_dot(g + b, d + b, e - b);
            }
            break;
        default:
            status = -1;
        }
        if (status == HLR_OK) status = hlr_tuner_observe(t, step, need, values, count);
        free(values);
        if (status != HLR_OK) return status;
        (*rounds)++;
    }
    return -1;
}

static int host_step_call(hlr_tuner *t, uint64_t step, const host_step *h, problem *p, int with_hvp,
                          int with_loss, size_t *rounds) {
    if (h->f32)
        return hlr_tuner_step_host_f32(t, step, h->w32, h->g32, h->u32, h->n, h->offsets,
                                       h->n_offsets, h->current_loss, with_hvp ? cb_hvp32 : NULL,
                                       with_loss ? cb_loss32 : NULL, p, rounds);
    return hlr_tuner_step_host_f64(t, step, h->w64, h->g64, h->u64, h->n, h->offsets, h->n_offsets,
                                   h->current_loss, with_hvp ? cb_hvp64 : NULL,
                                   with_loss ? cb_loss64 : NULL, p, rounds);
}

/* hlr_step_ops over the same host buffers: the callbacks compute what host mode computes, so
 * hlr_tuner_step must give the same bits as hlr_tuner_step_host_* (one driver, two backends). */
typedef struct {
    const host_step *h;
    problem *p;
    int trial;
    double xi[MAXG];
    int set_trials, restores;
} ops_ctx;

static int ops_slopes(void *ctx, double *out, size_t groups) {
    ops_ctx *o = ctx;
    double w[MAXN], g[MAXN], d[MAXN];
    hs_widen(o->h, w, g, d);
    if (groups != hs_groups(o->h)) return 99;
    for (size_t k = 0; k < groups; k++) {
        size_t b = hs_begin(o->h, k), e = hs_end(o->h, k);
        out[k] = hlrt_dot(g + b, d + b, e - b);
    }
    return 0;
}

static int ops_curvatures(void *ctx, double *out, size_t groups) {
    ops_ctx *o = ctx;
    if (groups != hs_groups(o->h) || o->trial) return 99;
    for (size_t k = 0; k < groups; k++)
        if (hs_curvature(o->h, o->p, k, &out[k]) != 0) return 9;
    return 0;
}

static int ops_set_trial(void *ctx, const double *steps, size_t groups) {
    ops_ctx *o = ctx;
    if (groups != hs_groups(o->h)) return 99;
    memcpy(o->xi, steps, groups * sizeof *steps);
    o->trial = 1;
    o->set_trials++;
    return 0;
}

static int ops_loss(void *ctx, double *out) {
    ops_ctx *o = ctx;
    if (o->trial) return hs_loss(o->h, o->p, o->xi, out);
    return o->h->f32 ? cb_loss32(o->p, o->h->w32, o->h->n, out) : cb_loss64(o->p, o->h->w64, o->h->n, out);
}

static int ops_restore(void *ctx) {
    ops_ctx *o = ctx;
    o->trial = 0;
    o->restores++;
    return 0;
}

static int ops_step_call(hlr_tuner *t, uint64_t step, const host_step *h, problem *p, size_t *rounds) {
    ops_ctx o = {h, p, 0, {0}, 0, 0};
    hlr_step_ops ops = {sizeof ops, ops_slopes, ops_curvatures, ops_set_trial, ops_loss, ops_restore, NULL};
    size_t failures = 99;
    int status = hlr_tuner_step(t, step, &ops, &o, h->current_loss, rounds, &failures);
    CHECK(!o.trial);                              /* the weights are w again */
    CHECK_EQ_INT(o.restores > 0, o.set_trials > 0); /* restored after trials, and only then */
    if (status == HLR_OK) CHECK_EQ_INT(failures, 0);
    return status;
}

/* 1 if both handles' snapshots are byte for byte equal. */
static int same_snapshot(const hlr_tuner *a, const hlr_tuner *b) {
    hlrt_state sa = hlrt_capture(a);
    int same = sa.bytes != NULL && hlrt_same_state(b, &sa);
    hlrt_release(&sa);
    return same;
}

/* ------------------------------------------------------------------------------------------ */
/* 1 + 4. End to end: protocol vs step_host, then snapshot continuation                       */
/* ------------------------------------------------------------------------------------------ */

static const double quad_a[16] = {3.0, 0.5, 0.0, 0.2,  0.5, 2.0, 0.1, 0.0,
                                  0.0, 0.1, 1.5, 0.3,  0.2, 0.0, 0.3, 1.0};
static const double quad_b[4] = {1.0, -2.0, 0.5, 1.0};

typedef struct {
    int method;
    int use_update;   /* pass an optimizer update u (and set direction update where it exists) */
    int full_model;   /* Hi-DLR */
    int probes;       /* GeN probe_count (0: default) */
} run_config;

static void configure(hlr_tuner *t, const run_config *c, size_t groups) {
    switch (c->method) {
    case HLR_METHOD_HESSIANLR:
        HLRT_SET(t, HLR_PARAM_UPDATE_PERIOD, 2);
        HLRT_SET(t, HLR_PARAM_WARMUP_STEPS, 1);
        HLRT_SET(t, HLR_PARAM_INITIAL_LR, 0.05);
        HLRT_SET(t, HLR_PARAM_DIRECTION, c->use_update ? HLR_DIRECTION_UPDATE : HLR_DIRECTION_GRADIENT);
        break;
    case HLR_METHOD_CDAT:
        HLRT_SET(t, HLR_PARAM_INITIAL_LR, 0.05);
        HLRT_SET(t, HLR_PARAM_SIGMA, 1.0);
        HLRT_SET(t, HLR_PARAM_DIRECTION, c->use_update ? HLR_DIRECTION_UPDATE : HLR_DIRECTION_GRADIENT);
        break;
    case HLR_METHOD_GEN:
        HLRT_SET(t, HLR_PARAM_UPDATE_PERIOD, 2);
        HLRT_SET(t, HLR_PARAM_INITIAL_LR, 0.05);
        if (c->probes) HLRT_SET(t, HLR_PARAM_PROBE_COUNT, c->probes);
        break;
    case HLR_METHOD_HIDLR:
        HLRT_SET(t, HLR_PARAM_UPDATE_PERIOD, 2);
        HLRT_SET(t, HLR_PARAM_INITIAL_LR, 0.05);
        HLRT_SET(t, HLR_PARAM_SEED, 7);
        HLRT_SET(t, HLR_PARAM_R2_THRESHOLD, 0.5);
        if (c->full_model) HLRT_SET(t, HLR_PARAM_MODEL, HLR_MODEL_FULL);
        break;
    case HLR_METHOD_ARMIJO:
        break;
    case HLR_METHOD_CONSTANT:
        for (size_t k = 0; k < groups; k++)
            CHECK_OK(hlr_tuner_set_group_param(t, k, HLR_PARAM_INITIAL_LR, 0.05 / (double)(k + 1)));
        break;
    }
}

enum { RUN_STEPS = 12, SAVE_AT = 5 };

typedef struct {
    double w[MAXN];
    float w32[MAXN];
} weights;

/* What one step of run_pair gives the tuner at the weights: the gradient and update in both
 * precisions, and the weights widened to double (where the losses and HVPs are taken). */
typedef struct {
    double g64[MAXN], u64[MAXN];
    float g32[MAXN], u32[MAXN];
    double wide[MAXN];
} step_inputs;

/* Gradient and update at the weights (f32: computed in double from the float weights, rounded). */
static void make_inputs(const problem *p, const weights *x, int f32, step_inputs *in) {
    for (size_t i = 0; i < p->n; i++) in->wide[i] = f32 ? (double)x->w32[i] : x->w[i];
    gradient_at(p, in->wide, in->g64);
    for (size_t i = 0; i < p->n; i++) {
        /* A diagonal preconditioner, as a stand-in for an optimizer's update. */
        in->u64[i] = in->g64[i] / (1.0 + 0.25 * (double)i);
        in->g32[i] = (float)in->g64[i];
        in->u32[i] = (float)in->u64[i];
        if (f32) {
            in->g64[i] = in->g32[i];
            in->u64[i] = in->u32[i];
        }
    }
}

/* The step_host arguments of one run_pair step: the weights x, the inputs made at them (the
 * update only with use_update) and the loss (NaN: not given). */
static host_step host_step_of(const weights *x, const step_inputs *in, int f32, size_t n,
                              const size_t *offsets, size_t n_offsets, int use_update,
                              double loss) {
    host_step h = {f32, n, offsets, n_offsets, x->w, in->g64, use_update ? in->u64 : NULL,
                   x->w32, in->g32, use_update ? in->u32 : NULL, loss};
    return h;
}

static void apply_update(const problem *p, weights *x, int f32, const host_step *h,
                         const double *lrs) {
    for (size_t k = 0; k < hs_groups(h); k++)
        for (size_t i = hs_begin(h, k); i < hs_end(h, k); i++) {
            if (f32) {
                float d = h->u32 ? h->u32[i] : h->g32[i];
                x->w32[i] = (float)((double)x->w32[i] - lrs[k] * (double)d);
            } else {
                double d = h->u64 ? h->u64[i] : h->g64[i];
                x->w[i] = x->w[i] - lrs[k] * d;
            }
        }
    (void)p;
}

/* Runs RUN_STEPS steps of `c` on `p` along the protocol (handle A) and step_host (handle B),
 * checking equality after every step; then restores the snapshot taken after step SAVE_AT into a
 * fresh handle and checks that it continues bit for bit. */
static void run_pair(const run_config *c, const problem *template_problem, int f32,
                     const size_t *offsets, size_t n_offsets, int give_loss) {
    problem pa = *template_problem, pb = *template_problem;
    size_t n = pa.n;
    size_t groups = offsets ? n_offsets - 1 : 1;
    char label[160];
    snprintf(label, sizeof label, "%s%s%s f%d %s groups %zu %s", method_name(c->method),
             c->use_update ? " (update)" : "", c->full_model ? " (full)" : "", f32 ? 32 : 64,
             pa.logistic ? "logistic" : "quadratic", groups, give_loss ? "loss given" : "loss NaN");

    hlr_tuner *ta = hlrt_create_method(c->method, groups);
    hlr_tuner *tb = hlrt_create_method(c->method, groups);
    hlr_tuner *td = hlrt_create_method(c->method, groups);
    configure(ta, c, groups);
    configure(tb, c, groups);
    configure(td, c, groups);
    problem pd = *template_problem;

    weights x;
    memset(&x, 0, sizeof x);
    for (size_t i = 0; i < n; i++) {
        x.w[i] = 0.25 * (double)i - 0.3;
        x.w32[i] = (float)x.w[i];
    }
    weights saved_x = x;
    unsigned char *saved = NULL;
    size_t saved_size = 0;
    double lrs_seen[RUN_STEPS][MAXG];
    int failures_before = atomic_load(&check_failed_);
    double first_loss = NAN, last_loss = NAN;
    size_t total_rounds = 0;

    for (uint64_t step = 0; step < RUN_STEPS; step++) {
        step_inputs in;
        make_inputs(&pa, &x, f32, &in);
        memcpy(pa.at, in.wide, sizeof in.wide);
        memcpy(pb.at, in.wide, sizeof in.wide);
        memcpy(pd.at, in.wide, sizeof in.wide);
        double loss_now = loss_at(&pa, in.wide);
        if (step == 0) first_loss = loss_now;
        last_loss = loss_now;
        host_step h = host_step_of(&x, &in, f32, n, offsets, n_offsets, c->use_update,
                                   give_loss ? loss_now : NAN);

        size_t rounds_a = 99, rounds_b = 99;
        int sa = protocol_step(ta, step, &h, &pa, &rounds_a);
        int sb = host_step_call(tb, step, &h, &pb, 1, 1, &rounds_b);
        size_t rounds_d = 99;
        int sd = ops_step_call(td, step, &h, &pd, &rounds_d);
        if (!CHECK_EQ_INT(sa, HLR_OK) || !CHECK_EQ_INT(sb, HLR_OK) || !CHECK_EQ_INT(sd, HLR_OK)) {
            fprintf(stderr, "    in %s, step %llu\n", label, (unsigned long long)step);
            break;
        }
        CHECK_EQ_INT(rounds_a, rounds_b);
        CHECK_EQ_INT(rounds_a, rounds_d);
        total_rounds += rounds_a;
        CHECK_EQ_INT(pa.loss_calls, pb.loss_calls);
        CHECK_EQ_INT(pa.hvp_calls, pb.hvp_calls);
        CHECK_EQ_INT(pa.loss_calls, pd.loss_calls);
        CHECK_EQ_INT(pa.hvp_calls, pd.hvp_calls);
        CHECK(!pa.wrong_n && !pb.wrong_n && !pd.wrong_n);
        CHECK(same_snapshot(ta, tb));
        CHECK(same_snapshot(ta, td));
        double la[MAXG], lb[MAXG];
        CHECK_OK(hlr_tuner_get_lrs(ta, step, la, groups));
        CHECK_OK(hlr_tuner_get_lrs(tb, step, lb, groups));
        for (size_t k = 0; k < groups; k++) {
            CHECK_EQ_DBL(la[k], lb[k]);
            CHECK(isfinite(la[k]) && la[k] > 0.0);
            lrs_seen[step][k] = la[k];
        }
        int need = -1;
        CHECK_OK(hlr_tuner_need(ta, step, &need, NULL));
        CHECK_EQ_INT(need, HLR_NEED_NOTHING);
        /* A second step_host on a finished step does nothing. */
        size_t again = 99;
        CHECK_OK(host_step_call(tb, step, &h, &pb, 1, 1, &again));
        CHECK_EQ_INT(again, 0);
        apply_update(&pa, &x, f32, &h, la);
        if (step == SAVE_AT) {
            hlrt_state s = hlrt_capture(ta);
            saved = s.bytes;
            saved_size = s.size;
            saved_x = x;
        }
    }
    /* The training itself makes progress (sanity of the fixtures, not a promise of every method
     * on every problem): the loss went down. */
    CHECK(last_loss < first_loss);
    /* Every method but Constant observed something (Armijo at every step). */
    if (c->method == HLR_METHOD_CONSTANT) CHECK_EQ_INT(total_rounds, 0);
    else CHECK(total_rounds >= (c->method == HLR_METHOD_ARMIJO ? 2 * RUN_STEPS : 3));

    /* Continuation: restore the mid-run snapshot into a fresh handle and replay. */
    CHECK(saved != NULL);
    hlr_tuner *tc = hlrt_create_method(c->method, groups);
    if (saved != NULL) CHECK_OK(hlr_tuner_restore(tc, saved, saved_size));
    problem pc = *template_problem;
    x = saved_x;
    for (uint64_t step = SAVE_AT + 1; step < RUN_STEPS; step++) {
        step_inputs in;
        make_inputs(&pc, &x, f32, &in);
        memcpy(pc.at, in.wide, sizeof in.wide);
        host_step h = host_step_of(&x, &in, f32, n, offsets, n_offsets, c->use_update,
                                   give_loss ? loss_at(&pc, in.wide) : NAN);
        size_t rounds = 0;
        /* Alternate the paths: both continue the same state. */
        int status = (step % 2) ? host_step_call(tc, step, &h, &pc, 1, 1, &rounds)
                                : protocol_step(tc, step, &h, &pc, &rounds);
        CHECK_EQ_INT(status, HLR_OK);
        double lc[MAXG];
        CHECK_OK(hlr_tuner_get_lrs(tc, step, lc, groups));
        for (size_t k = 0; k < groups; k++) CHECK_EQ_DBL(lc[k], lrs_seen[step][k]);
        apply_update(&pc, &x, f32, &h, lc);
    }
    CHECK(same_snapshot(ta, tc));
    free(saved);

    if (atomic_load(&check_failed_) != failures_before) fprintf(stderr, "    ^ in %s\n", label);
    hlr_tuner_free(ta);
    hlr_tuner_free(tb);
    hlr_tuner_free(tc);
    hlr_tuner_free(td);
}

static void test_protocol_vs_step_host(void) {
    problem quad, logit;
    problem_quadratic(&quad, 4, quad_a, quad_b);
    problem_logistic(&logit);
    const size_t two[3] = {0, 2, 4};
    const size_t three_with_empty[4] = {0, 3, 3, 4};
    const run_config configs[] = {
        {HLR_METHOD_HESSIANLR, 0, 0, 0}, {HLR_METHOD_HESSIANLR, 1, 0, 0},
        {HLR_METHOD_CDAT, 1, 0, 0},      {HLR_METHOD_CDAT, 0, 0, 0},
        {HLR_METHOD_GEN, 0, 0, 0},       {HLR_METHOD_GEN, 1, 0, 5},
        {HLR_METHOD_HIDLR, 0, 0, 0},     {HLR_METHOD_HIDLR, 1, 1, 0},
        {HLR_METHOD_ARMIJO, 0, 0, 0},    {HLR_METHOD_ARMIJO, 1, 0, 0},
        {HLR_METHOD_CONSTANT, 0, 0, 0},
        {HLR_METHOD_AUTO, 0, 0, 0},      {HLR_METHOD_AUTO, 1, 0, 0},
    };
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        for (int f32 = 0; f32 <= 1; f32++) {
            for (int prob = 0; prob <= 1; prob++) {
                const problem *p = prob ? &logit : &quad;
                for (int give = 0; give <= 1; give++) {
                    run_pair(&configs[c], p, f32, NULL, 0, give);
                    run_pair(&configs[c], p, f32, two, 3, give);
                }
            }
        }
        /* An empty group (HessianLR, CDAT, GeN and Armijo handle it; Hi-DLR's fit of a group
         * whose steps change nothing is degenerate by design and is left out). */
        if (configs[c].method != HLR_METHOD_HIDLR)
            run_pair(&configs[c], &quad, 0, three_with_empty, 4, 1);
    }
}

/* Constant needs nothing: step_host makes no observation and calls no callback, also NULL ones. */
static void test_constant_needs_nothing(void) {
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_CONSTANT, 2);
    CHECK_OK(hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, 0.5));
    problem p;
    problem_quadratic(&p, 4, quad_a, quad_b);
    const double w[4] = {1, 2, 3, 4}, g[4] = {1, 1, 1, 1};
    const size_t offsets[3] = {0, 2, 4};
    for (uint64_t step = 0; step < 5; step++) {
        int need = -1;
        size_t count = 77;
        CHECK_OK(hlr_tuner_need(t, step, &need, &count));
        CHECK_EQ_INT(need, HLR_NEED_NOTHING);
        CHECK_EQ_INT(count, 0);
        size_t rounds = 99;
        CHECK_OK(hlr_tuner_step_host_f64(t, step, w, g, NULL, 4, offsets, 3, NAN, NULL, NULL, NULL,
                                         &rounds));
        CHECK_EQ_INT(rounds, 0);
        CHECK_OK(hlr_tuner_step_host_f64(t, step, w, g, NULL, 4, offsets, 3, 1.0, cb_hvp64,
                                         cb_loss64, &p, NULL));
        CHECK_EQ_DBL(hlrt_lr(t, step, 0), 1e-3);
        CHECK_EQ_DBL(hlrt_lr(t, step, 1), 0.5);
    }
    CHECK_EQ_INT(p.loss_calls + p.hvp_calls, 0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 0.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_STEP, 0), -1.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_UPDATE_STEP, 0), -1.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), -1.0);
    const double values[4] = {1, 1, 1, 1};
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe(t, 0, HLR_NEED_CURVATURE, values, 4),
                          HLR_ERR_WRONG_STATE);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe(t, 0, HLR_NEED_SLOPE, values, 3),
                          HLR_ERR_WRONG_STATE);
    double probes[4];
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_probes(t, 0, probes, 4), HLR_ERR_WRONG_STATE);
    hlr_tuner_free(t);
}

/* ------------------------------------------------------------------------------------------ */
/* 2. Exact values on quadratics                                                              */
/* ------------------------------------------------------------------------------------------ */

/* smoothing 0, relative bounds out of the way, a high ceiling: the rate is the raw candidate. */
static void set_exact(hlr_tuner *t, int method) {
    HLRT_SET(t, HLR_PARAM_SMOOTHING, 0.0);
    HLRT_SET(t, HLR_PARAM_LR_MAX, 1e6);
    if (method != HLR_METHOD_CDAT) {
        HLRT_SET(t, HLR_PARAM_LR_BOUND_LOW, DBL_MIN);
        HLRT_SET(t, HLR_PARAM_LR_BOUND_HIGH, 1e300);
    }
}

/* Observes the losses of the step's probes at the quadratic p around w along d (one d per group,
 * given as full-length vectors masked by the offsets). Returns the probe count. */
static size_t observe_quadratic_losses(hlr_tuner *t, uint64_t step, const problem *p,
                                       const double *w, const double *d, const size_t *offsets,
                                       size_t groups) {
    int need = -1;
    size_t m = 0;
    CHECK_OK(hlr_tuner_need(t, step, &need, &m));
    CHECK_EQ_INT(need, HLR_NEED_LOSSES);
    double *probes = calloc(m * groups + 1, sizeof *probes);
    double *losses = calloc(m + 1, sizeof *losses);
    CHECK_OK(hlr_tuner_get_probes(t, step, probes, m * groups));
    for (size_t j = 0; j < m; j++) {
        double trial[MAXN];
        for (size_t k = 0; k < groups; k++)
            for (size_t i = offsets[k]; i < offsets[k + 1]; i++)
                trial[i] = w[i] - probes[j * groups + k] * d[i];
        losses[j] = loss_at(p, trial);
    }
    CHECK_OK(hlr_tuner_observe(t, step, HLR_NEED_LOSSES, losses, m));
    free(probes);
    free(losses);
    return m;
}

static double quad_form(const problem *p, const double *x, const double *y) { /* x'Ay */
    double sum = 0.0;
    for (size_t i = 0; i < p->n; i++)
        for (size_t j = 0; j < p->n; j++) sum += x[i] * p->a[i * p->n + j] * y[j];
    return sum;
}

static void test_gen_exact(void) {
    /* One group: b = g'd, a = d'Ad; the fit of L(w - xi d) = L - xi b + xi^2 a / 2 is exact. */
    const double a[4] = {2.0, 0.3, 0.3, 5.0};
    const double bvec[2] = {1.0, -1.0};
    const double w[2] = {0.3, 0.7};
    problem p;
    double g[2];
    problem_quadratic_at(&p, 2, a, bvec, w, g);
    const size_t one[2] = {0, 2};
    for (int probes = 3; probes <= 7; probes += 2) {
        hlr_tuner *t = hlrt_create_method(HLR_METHOD_GEN, 1);
        set_exact(t, HLR_METHOD_GEN);
        HLRT_SET(t, HLR_PARAM_INITIAL_LR, 0.1);
        HLRT_SET(t, HLR_PARAM_PROBE_COUNT, probes);
        /* The probes: (2j - (m-1))/(m-1) * scale * lr, symmetric on [-lr, lr]. */
        int need = -1;
        size_t m = 0;
        CHECK_OK(hlr_tuner_need(t, 0, &need, &m));
        CHECK_EQ_INT(m, probes);
        double xi[7];
        CHECK_OK(hlr_tuner_get_probes(t, 0, xi, m));
        for (size_t j = 0; j < m; j++)
            CHECK_EQ_DBL(xi[j], 1.0 * 0.1 * ((double)(2 * (int)j - (probes - 1)) / (double)(probes - 1)));
        observe_quadratic_losses(t, 0, &p, w, g, one, 1);
        double b = hlrt_dot(g, g, 2), curv = quad_form(&p, g, g);
        double candidate = hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0);
        CHECK_NEAR(candidate, b / curv, 1e-9);
        CHECK_NEAR(hlrt_info(t, HLR_INFO_FIT_SLOPE, 0), b, 1e-9);
        CHECK_NEAR(hlrt_info(t, HLR_INFO_FIT_CURVATURE, 0), curv, 1e-9);
        CHECK_NEAR(hlrt_info(t, HLR_INFO_FIT_INTERCEPT, 0), loss_at(&p, w), 1e-12);
        CHECK(hlrt_info(t, HLR_INFO_FIT_R2, 0) > 1.0 - 1e-9);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), 0.0);
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), candidate); /* smoothing 0, no bound: the candidate */
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 1.0);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_STEP, 0), 0.0);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_UPDATE_STEP, 0), 4.0); /* update_period 4 */
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), -1.0);
        hlr_tuner_free(t);
    }

    /* Two groups: one shared scale, so the rates keep their ratio; every probe moves both groups,
     * each by its own rate. With the defaults the rate moves by clip + EMA:
     * lr' = 0.9 lr + 0.1 clip(b/a along the joint step, lr/2, 2 lr). */
    {
        const double a4[16] = {2.0, 0.3, 0.0, 0.0, 0.3, 5.0, 0.0, 0.0,
                               0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 3.0};
        const double b4[4] = {1.0, -1.0, 0.5, 0.25};
        const double w4[4] = {0.3, 0.7, -0.2, 0.1};
        problem p4;
        double g4[4];
        problem_quadratic_at(&p4, 4, a4, b4, w4, g4);
        const size_t two[3] = {0, 2, 4};
        hlr_tuner *t = hlrt_create_method(HLR_METHOD_GEN, 2);
        CHECK_OK(hlr_tuner_set_group_param(t, 0, HLR_PARAM_INITIAL_LR, 0.2));
        CHECK_OK(hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, 0.1));
        HLRT_SET(t, HLR_PARAM_LR_BOUND_LOW, DBL_MIN);
        HLRT_SET(t, HLR_PARAM_LR_BOUND_HIGH, 1e300);
        HLRT_SET(t, HLR_PARAM_LR_MAX, 1e6);
        observe_quadratic_losses(t, 0, &p4, w4, g4, two, 2);
        /* Along rho (xi_k = lr_k rho): the joint direction D = sum_k lr_k d_k. */
        double joint[4];
        for (size_t i = 0; i < 4; i++) joint[i] = (i < 2 ? 0.2 : 0.1) * g4[i];
        double beta = hlrt_dot(g4, joint, 4), alpha = quad_form(&p4, joint, joint);
        double c0 = hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0);
        double c1 = hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 1);
        CHECK_NEAR(c0, 0.2 * beta / alpha, 1e-9);
        CHECK_NEAR(c1, 0.1 * beta / alpha, 1e-9);
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 0.9 * 0.2 + (1 - 0.9) * c0); /* clip inactive, EMA */
        CHECK_NEAR(hlrt_lr(t, 0, 0) / hlrt_lr(t, 0, 1), 2.0, 1e-12);
        hlr_tuner_free(t);
    }

    /* A concave loss (a < 0): the fit is rejected, the rate is kept (GeN's reference), flags
     * say why. Only a failed fit (hlr_tuner_observe_failure) decays it. */
    {
        const double concave[4] = {-2.0, 0.0, 0.0, -1.0};
        problem pc;
        double gc[2];
        problem_quadratic_at(&pc, 2, concave, bvec, w, gc);
        hlr_tuner *t = hlrt_create_method(HLR_METHOD_GEN, 1);
        HLRT_SET(t, HLR_PARAM_INITIAL_LR, 0.1);
        observe_quadratic_losses(t, 0, &pc, w, gc, one, 1);
        unsigned flags = (unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0);
        CHECK(flags & HLR_FLAG_FIT_REJECTED);
        CHECK(flags & HLR_FLAG_NEGATIVE_CURVATURE);
        CHECK(isnan(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0)));
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 0.1);
        /* Whatever fit_failure_decay is. */
        HLRT_SET(t, HLR_PARAM_FIT_FAILURE_DECAY, 0.25);
        observe_quadratic_losses(t, 4, &pc, w, gc, one, 1);
        CHECK_EQ_DBL(hlrt_lr(t, 4, 0), 0.1);
        /* Ascent direction (d = -g): b < 0, not a descent direction. */
        double minus[2] = {-gc[0], -gc[1]};
        problem_quadratic_at(&pc, 2, a, bvec, w, gc);
        minus[0] = -gc[0];
        minus[1] = -gc[1];
        observe_quadratic_losses(t, 8, &pc, w, minus, one, 1);
        flags = (unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0);
        CHECK(flags & HLR_FLAG_FIT_REJECTED);
        CHECK(flags & HLR_FLAG_NOT_DESCENT);
        CHECK(!(flags & HLR_FLAG_NEGATIVE_CURVATURE));
        /* A linear loss: a = 0 within rounding -> rejected as negative curvature (no curvature). */
        const double zero[4] = {0.0, 0.0, 0.0, 0.0};
        problem pl;
        double gl[2];
        problem_quadratic_at(&pl, 2, zero, bvec, w, gl);
        observe_quadratic_losses(t, 12, &pl, w, gl, one, 1);
        flags = (unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0);
        CHECK(flags & HLR_FLAG_FIT_REJECTED);
        CHECK(flags & HLR_FLAG_NEGATIVE_CURVATURE);
        CHECK_EQ_DBL(hlrt_lr(t, 12, 0), 0.1);
        /* A failed observation decays: 0.1 * 0.5, then the clamp at lr_min. */
        HLRT_SET(t, HLR_PARAM_FIT_FAILURE_DECAY, 0.5);
        CHECK_OK(hlr_tuner_observe_failure(t, 16));
        flags = (unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0);
        CHECK(flags == (HLR_FLAG_FIT_REJECTED | HLR_FLAG_OBSERVATION_FAILED));
        CHECK_EQ_DBL(hlrt_lr(t, 16, 0), 0.05);
        CHECK(isnan(hlrt_info(t, HLR_INFO_FIT_R2, 0)));
        HLRT_SET(t, HLR_PARAM_LR_MIN, 0.04);
        CHECK_OK(hlr_tuner_observe_failure(t, 20));
        flags = (unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0);
        CHECK(flags & HLR_FLAG_CLAMPED_MIN);
        CHECK_EQ_DBL(hlrt_lr(t, 20, 0), 0.04);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 6.0);
        hlr_tuner_free(t);
    }
    /* R^2 gate with m >= 4: a loss with a cubic term fails r2_threshold 0.9999999. */
    {
        hlr_tuner *t = hlrt_create_method(HLR_METHOD_GEN, 1);
        HLRT_SET(t, HLR_PARAM_INITIAL_LR, 1.0);
        HLRT_SET(t, HLR_PARAM_PROBE_COUNT, 5);
        HLRT_SET(t, HLR_PARAM_R2_THRESHOLD, 0.9999999);
        double losses[5], xi[5];
        CHECK_OK(hlr_tuner_get_probes(t, 0, xi, 5));
        for (int j = 0; j < 5; j++) losses[j] = 1.0 - xi[j] + xi[j] * xi[j] - 3.0 * xi[j] * xi[j] * xi[j];
        CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_LOSSES, losses, 5));
        unsigned flags = (unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0);
        CHECK(flags & HLR_FLAG_POOR_FIT);
        CHECK(flags & HLR_FLAG_FIT_REJECTED);
        CHECK(hlrt_info(t, HLR_INFO_FIT_R2, 0) < 0.9999999);
        hlr_tuner_free(t);
    }
}

/* Solves the K x K system M x = r (Gaussian elimination, partial pivoting). */
static void solve(size_t k, const double *matrix, const double *rhs, double *x) {
    double m[MAXG * MAXG], r[MAXG];
    memcpy(m, matrix, k * k * sizeof *m);
    memcpy(r, rhs, k * sizeof *r);
    for (size_t c = 0; c < k; c++) {
        size_t pivot = c;
        for (size_t i = c + 1; i < k; i++)
            if (fabs(m[i * k + c]) > fabs(m[pivot * k + c])) pivot = i;
        for (size_t j = 0; j < k; j++) {
            double tmp = m[c * k + j];
            m[c * k + j] = m[pivot * k + j];
            m[pivot * k + j] = tmp;
        }
        double tmp = r[c];
        r[c] = r[pivot];
        r[pivot] = tmp;
        for (size_t i = c + 1; i < k; i++) {
            double f = m[i * k + c] / m[c * k + c];
            for (size_t j = c; j < k; j++) m[i * k + j] -= f * m[c * k + j];
            r[i] -= f * r[c];
        }
    }
    for (size_t c = k; c-- > 0;) {
        double sum = r[c];
        for (size_t j = c + 1; j < k; j++) sum -= m[c * k + j] * x[j];
        x[c] = sum / m[c * k + c];
    }
}

static void test_hidlr_exact(void) {
    /* Separable quadratic, 3 groups: L(w - sum xi_k d_k) = L - sum xi_k b_k + 1/2 sum a_k xi_k^2
     * exactly, so the diagonal fit recovers b_k = g_k'd_k, a_k = d_k'A_kk d_k and eta_k = b_k/a_k. */
    const double a[25] = {4.0, 1.0, 0.0, 0.0, 0.0,  1.0, 3.0, 0.0, 0.0, 0.0,
                          0.0, 0.0, 0.5, 0.0, 0.0,  0.0, 0.0, 0.0, 2.0, 0.4,
                          0.0, 0.0, 0.0, 0.4, 1.0};
    const double bvec[5] = {1.0, -1.0, 0.3, 2.0, -0.5};
    const double w[5] = {0.2, -0.1, 0.4, 0.3, 0.0};
    problem p;
    double g[5];
    problem_quadratic_at(&p, 5, a, bvec, w, g);
    const size_t offsets[4] = {0, 2, 3, 5};
    double b[3], curv[3], expected[3];
    for (size_t k = 0; k < 3; k++) {
        double dk[5] = {0};
        for (size_t i = offsets[k]; i < offsets[k + 1]; i++) dk[i] = g[i];
        b[k] = hlrt_dot(g, dk, 5);
        curv[k] = quad_form(&p, dk, dk);
        expected[k] = b[k] / curv[k];
    }
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_HIDLR, 3);
    set_exact(t, HLR_METHOD_HIDLR);
    for (size_t k = 0; k < 3; k++)
        CHECK_OK(hlr_tuner_set_group_param(t, k, HLR_PARAM_INITIAL_LR, 0.5 * expected[k]));
    int need = -1;
    size_t m = 0;
    CHECK_OK(hlr_tuner_need(t, 0, &need, &m));
    CHECK_EQ_INT(need, HLR_NEED_LOSSES);
    CHECK_EQ_INT(m, 12); /* automatic: max(4K, 2K+1+K) */
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_INFLUENCE_RANK, 1), -1.0);
    CHECK(isnan(hlrt_info(t, HLR_INFO_INFLUENCE, 1)));
    /* Probe 0 is the origin; the others are within +-scale*lr_k per group. */
    double probes[12 * 3];
    CHECK_OK(hlr_tuner_get_probes(t, 0, probes, 36));
    for (size_t k = 0; k < 3; k++) CHECK_EQ_DBL(probes[k], 0.0);
    for (size_t j = 1; j < 12; j++)
        for (size_t k = 0; k < 3; k++) CHECK(fabs(probes[j * 3 + k]) <= 0.5 * expected[k]);
    observe_quadratic_losses(t, 0, &p, w, g, offsets, 3);
    for (size_t k = 0; k < 3; k++) {
        double candidate = hlrt_info(t, HLR_INFO_LAST_CANDIDATE, k);
        CHECK_NEAR(candidate, expected[k], 1e-8);
        CHECK_EQ_DBL(hlrt_lr(t, 0, k), candidate);
        CHECK_NEAR(hlrt_info(t, HLR_INFO_FIT_SLOPE, k), b[k], 1e-8);
        CHECK_NEAR(hlrt_info(t, HLR_INFO_FIT_CURVATURE, k), curv[k], 1e-8);
        CHECK_NEAR(hlrt_info(t, HLR_INFO_INFLUENCE, k), b[k] * b[k] / (2.0 * curv[k]), 1e-8);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, k), 0.0);
    }
    CHECK(hlrt_info(t, HLR_INFO_FIT_R2, 0) > 1.0 - 1e-9);
    CHECK_NEAR(hlrt_info(t, HLR_INFO_FIT_INTERCEPT, 0), loss_at(&p, w), 1e-12);
    /* Influence ranks: a permutation ordered by PPI. */
    double ppi[3], rank[3];
    for (size_t k = 0; k < 3; k++) {
        ppi[k] = hlrt_info(t, HLR_INFO_INFLUENCE, k);
        rank[k] = hlrt_info(t, HLR_INFO_INFLUENCE_RANK, k);
    }
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            if (ppi[i] > ppi[j]) CHECK(rank[i] < rank[j]);
    CHECK_EQ_DBL(rank[0] + rank[1] + rank[2], 3.0);
    /* The next update draws new probes (the RNG index is the update counter). */
    double next[12 * 3];
    CHECK_OK(hlr_tuner_get_probes(t, 10, next, 36));
    CHECK(memcmp(next + 3, probes + 3, 33 * sizeof(double)) != 0);
    hlr_tuner_free(t);

    /* A group with an ascent direction keeps its rate (not descent); the others still move. */
    t = hlrt_create_method(HLR_METHOD_HIDLR, 3);
    set_exact(t, HLR_METHOD_HIDLR);
    for (size_t k = 0; k < 3; k++)
        CHECK_OK(hlr_tuner_set_group_param(t, k, HLR_PARAM_INITIAL_LR, 0.5 * expected[k]));
    double d[5];
    memcpy(d, g, sizeof d);
    d[2] = -d[2];
    observe_quadratic_losses(t, 0, &p, w, d, offsets, 3);
    CHECK((unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 1) & HLR_FLAG_NOT_DESCENT);
    CHECK_EQ_DBL(hlrt_lr(t, 0, 1), 0.5 * expected[1]);
    CHECK_NEAR(hlrt_lr(t, 0, 0), expected[0], 1e-8);
    CHECK_NEAR(hlrt_lr(t, 0, 2), expected[2], 1e-8);
    hlr_tuner_free(t);

    /* Coupled quadratic, full model: L(w - sum xi_k d_k) = L - xi'b + 1/2 xi'M xi with
     * M_kl = d_k'A d_l, minimised by xi* = M^-1 b. */
    const double coupled[16] = {3.0, 0.8, 0.6, 0.0,  0.8, 2.0, 0.3, 0.5,
                                0.6, 0.3, 1.5, 0.2,  0.0, 0.5, 0.2, 1.0};
    const double wc[4] = {0.1, 0.2, -0.3, 0.4};
    problem pc;
    double gc[4];
    problem_quadratic_at(&pc, 4, coupled, quad_b, wc, gc); /* b as in the end-to-end runs */
    const size_t two[3] = {0, 2, 4};
    double dk[2][4] = {{gc[0], gc[1], 0, 0}, {0, 0, gc[2], gc[3]}};
    double mm[4], bb[2], xi_star[2], diag_only[2];
    for (size_t k = 0; k < 2; k++) {
        bb[k] = hlrt_dot(gc, dk[k], 4);
        for (size_t l = 0; l < 2; l++) mm[k * 2 + l] = quad_form(&pc, dk[k], dk[l]);
    }
    solve(2, mm, bb, xi_star);
    for (size_t k = 0; k < 2; k++) diag_only[k] = bb[k] / mm[k * 2 + k];
    CHECK(fabs(xi_star[0] - diag_only[0]) > 1e-3 * fabs(xi_star[0])); /* the coupling matters */
    for (int model = HLR_MODEL_DIAGONAL; model <= HLR_MODEL_FULL; model++) {
        t = hlrt_create_method(HLR_METHOD_HIDLR, 2);
        set_exact(t, HLR_METHOD_HIDLR);
        HLRT_SET(t, HLR_PARAM_MODEL, model);
        HLRT_SET(t, HLR_PARAM_R2_THRESHOLD, 0.0);
        for (size_t k = 0; k < 2; k++)
            CHECK_OK(hlr_tuner_set_group_param(t, k, HLR_PARAM_INITIAL_LR, xi_star[k]));
        CHECK_OK(hlr_tuner_need(t, 0, &need, &m));
        CHECK_EQ_INT(m, model == HLR_MODEL_FULL ? 8 : 8); /* max(4K, p + K): 8 and max(8, 8) */
        observe_quadratic_losses(t, 0, &pc, wc, gc, two, 2);
        if (model == HLR_MODEL_FULL) {
            for (size_t k = 0; k < 2; k++) {
                CHECK_NEAR(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, k), xi_star[k], 1e-8);
                CHECK_NEAR(hlrt_lr(t, 0, k), xi_star[k], 1e-8);
                CHECK_NEAR(hlrt_info(t, HLR_INFO_FIT_CURVATURE, k), mm[k * 2 + k], 1e-8);
                CHECK_NEAR(hlrt_info(t, HLR_INFO_FIT_SLOPE, k), bb[k], 1e-8);
                CHECK(!((unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, k) & HLR_FLAG_PROJECTED));
            }
            CHECK(hlrt_info(t, HLR_INFO_FIT_R2, 0) > 1.0 - 1e-9);
        } else {
            /* The diagonal model cannot represent the cross term: its fit is poorer and its
             * optimum is not A^-1 b. */
            CHECK(hlrt_info(t, HLR_INFO_FIT_R2, 0) < 1.0 - 1e-9);
            CHECK(!(fabs(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0) - xi_star[0]) <= 1e-6));
        }
        hlr_tuner_free(t);
    }

    /* Full model on an indefinite quadratic: A is projected (flag), the rates stay finite. */
    {
        const double indefinite[4] = {1.0, 0.0, 0.0, -1.0};
        const double b2[2] = {1.0, 1.0};
        const double wi[2] = {0.5, 0.5};
        problem pi;
        double gi[2];
        problem_quadratic_at(&pi, 2, indefinite, b2, wi, gi);
        const size_t sep[3] = {0, 1, 2};
        t = hlrt_create_method(HLR_METHOD_HIDLR, 2);
        HLRT_SET(t, HLR_PARAM_MODEL, HLR_MODEL_FULL);
        HLRT_SET(t, HLR_PARAM_R2_THRESHOLD, 0.0);
        HLRT_SET(t, HLR_PARAM_INITIAL_LR, 0.1);
        observe_quadratic_losses(t, 0, &pi, wi, gi, sep, 2);
        unsigned flags = (unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0);
        CHECK(flags & HLR_FLAG_PROJECTED);
        for (size_t k = 0; k < 2; k++) CHECK(isfinite(hlrt_lr(t, 0, k)) && hlrt_lr(t, 0, k) > 0);
        hlr_tuner_free(t);
    }
}

static void test_cdat_exact(void) {
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_CDAT, 3);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_SMOOTHED_NUMERATOR, 0), 0.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_SMOOTHED_DENOMINATOR, 0), 0.0);
    CHECK(isnan(hlrt_info(t, HLR_INFO_EDGE_OF_STABILITY, 0)));
    CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 1e-3); /* clamp(initial_lr) before the first observation */
    double lr_max = 0;
    CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_LR_MAX, &lr_max));
    CHECK(lr_max == INFINITY); /* CDAT's default: no ceiling; 1.0 below exercises the clamp */
    HLRT_SET(t, HLR_PARAM_LR_MAX, 1.0);
    CHECK_OK(hlr_tuner_set_group_param(t, 0, HLR_PARAM_SHARPNESS, 40.0));
    /* group 0: ordinary; group 1: not a descent direction; group 2: negative curvature. */
    const double obs[6] = {0.6, 0.05, -0.3, 2.0, 0.1, -0.5};
    int need = -1;
    size_t count = 0;
    CHECK_OK(hlr_tuner_need(t, 0, &need, &count));
    CHECK_EQ_INT(need, HLR_NEED_CURVATURE);
    CHECK_EQ_INT(count, 6);
    CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_CURVATURE, obs, 6));
    const double sigma = 2.0, beta = 0.9, eps = 1e-12;
    for (size_t k = 0; k < 3; k++) {
        double s = obs[2 * k], c = obs[2 * k + 1];
        double n = s > 0 ? s : 0.0, d = fabs(c) + eps;
        double n_hat = beta * 0.0 + (1 - beta) * n, d_hat = beta * 0.0 + (1 - beta) * d;
        double candidate = n_hat == 0 ? 0.0 : sigma * n_hat / d_hat;
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, k), candidate);
        if (n > 0) CHECK_NEAR(candidate, sigma * n / d, 1e-15); /* the bias cancels: sigma n/d */
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_SMOOTHED_NUMERATOR, k), n_hat);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_SMOOTHED_DENOMINATOR, k), d_hat);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_SLOPE, k), s);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CURVATURE, k), c);
        double rate = candidate < 1e-8 ? 1e-8 : candidate > 1.0 ? 1.0 : candidate;
        CHECK_EQ_DBL(hlrt_lr(t, 0, k), rate);
    }
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_EDGE_OF_STABILITY, 0), hlrt_lr(t, 0, 0) * 40.0);
    CHECK(isnan(hlrt_info(t, HLR_INFO_EDGE_OF_STABILITY, 1)));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), (double)HLR_FLAG_CLAMPED_MAX); /* 24 > 1 */
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 1),
                 (double)(HLR_FLAG_NOT_DESCENT | HLR_FLAG_CLAMPED_MIN));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 2), (double)HLR_FLAG_NEGATIVE_CURVATURE);
    /* Second observation: the EMAs, bit for bit. */
    const double obs2[6] = {0.2, 0.1, 0.0, 1.0, 0.1, 0.4};
    CHECK_OK(hlr_tuner_observe(t, 1, HLR_NEED_CURVATURE, obs2, 6));
    for (size_t k = 0; k < 3; k++) {
        double n1 = obs[2 * k] > 0 ? obs[2 * k] : 0.0, d1 = fabs(obs[2 * k + 1]) + eps;
        double n2 = obs2[2 * k] > 0 ? obs2[2 * k] : 0.0, d2 = fabs(obs2[2 * k + 1]) + eps;
        double nh = beta * (beta * 0.0 + (1 - beta) * n1) + (1 - beta) * n2;
        double dh = beta * (beta * 0.0 + (1 - beta) * d1) + (1 - beta) * d2;
        double candidate = nh == 0 ? 0.0 : sigma * nh / dh;
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, k), candidate);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_SMOOTHED_NUMERATOR, k), nh);
    }
    CHECK((unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 1) & HLR_FLAG_ZERO_GRADIENT);
    hlr_tuner_free(t);

    /* On a quadratic along u with sigma = 1 and smoothing 0: eta = u'g / u'Au exactly. */
    const double w[4] = {0.1, 0.2, 0.3, 0.4};
    problem p;
    double g[4], u[4];
    problem_quadratic_at(&p, 4, quad_a, quad_b, w, g);
    for (size_t i = 0; i < 4; i++) u[i] = g[i] / (1.0 + (double)i);
    memcpy(p.at, w, sizeof w);
    t = hlrt_create_method(HLR_METHOD_CDAT, 1);
    HLRT_SET(t, HLR_PARAM_SIGMA, 1.0);
    HLRT_SET(t, HLR_PARAM_SMOOTHING, 0.0);
    HLRT_SET(t, HLR_PARAM_LR_MAX, 10.0);
    size_t rounds = 0;
    CHECK_OK(hlr_tuner_step_host_f64(t, 0, w, g, u, 4, NULL, 0, NAN, cb_hvp64, NULL, &p, &rounds));
    CHECK_EQ_INT(rounds, 1);
    double hu[4];
    hvp_at(&p, u, hu);
    double s = hlrt_dot(g, u, 4), c = hlrt_dot(u, hu, 4);
    CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 1.0 * s / (fabs(c) + 1e-12));
    CHECK_NEAR(hlrt_lr(t, 0, 0), s / c, 1e-11);
    hlr_tuner_free(t);
}

static void test_hessianlr_exact(void) {
    /* d = g on a quadratic: the candidate is g'g / g'Ag bit for bit (through step_host). */
    const double w[4] = {0.5, -0.5, 0.25, 0.0};
    problem p;
    double g[4];
    problem_quadratic_at(&p, 4, quad_a, quad_b, w, g);
    double hg[4]; /* Ag */
    hvp_at(&p, g, hg);
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_HESSIANLR, 1);
    set_exact(t, HLR_METHOD_HESSIANLR);
    size_t rounds = 0;
    CHECK_OK(hlr_tuner_step_host_f64(t, 0, w, g, NULL, 4, NULL, 0, NAN, cb_hvp64, NULL, &p, &rounds));
    CHECK_EQ_INT(rounds, 1);
    double expected = hlrt_dot(g, g, 4) / hlrt_dot(g, hg, 4);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0), expected);
    CHECK_EQ_DBL(hlrt_lr(t, 0, 0), expected);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_SLOPE, 0), hlrt_dot(g, g, 4));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CURVATURE, 0), hlrt_dot(g, hg, 4));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), 10.0);
    hlr_tuner_free(t);
}

/* Armijo: the trial sequence and the accepted rate computed here, checked round by round. */
static void armijo_expect(const problem *p, const double *w, const double *d, double loss0,
                          double slope, double first, double c, double factor, int max_bt,
                          double *trials, int *count, int *limit) {
    double eta = first;
    *count = 0;
    *limit = 0;
    for (int bt = 0;; bt++) {
        trials[(*count)++] = eta;
        double trial[MAXN];
        for (size_t i = 0; i < p->n; i++) trial[i] = w[i] - eta * d[i];
        if (loss_at(p, trial) <= loss0 - c * eta * slope) return;
        double next = eta * factor;
        if (bt >= max_bt || !(next > 0)) {
            *limit = 1;
            return;
        }
        eta = next;
    }
}

static void test_armijo_exact(void) {
    const double a[4] = {40.0, 0.0, 0.0, 16.0};
    const double bvec[2] = {1.0, 2.0};
    problem p;
    problem_quadratic(&p, 2, a, bvec);
    const int max_bts[2] = {15, 3};
    for (int variant = 0; variant < 2; variant++) {
        hlr_tuner *t = hlrt_create_method(HLR_METHOD_ARMIJO, 2);
        HLRT_SET(t, HLR_PARAM_MAX_BACKTRACKS, max_bts[variant]);
        double lr_max = 1.0, previous = NAN;
        double w[2] = {0.5, -0.25};
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 1.0); /* min(initial_lr, lr_max) before any search */
        CHECK(isnan(hlrt_info(t, HLR_INFO_TRIAL_LR, 0)));
        CHECK(isnan(hlrt_info(t, HLR_INFO_REFERENCE_LOSS, 0)));
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_UPDATE_STEP, 0), 0.0);
        for (uint64_t step = 0; step < 4; step++) {
            double g[2];
            gradient_at(&p, w, g);
            double loss0 = loss_at(&p, w);
            int need = -1;
            size_t count = 0;
            CHECK_OK(hlr_tuner_need(t, step, &need, &count));
            CHECK_EQ_INT(need, HLR_NEED_SLOPE);
            CHECK_EQ_INT(count, 3);
            /* Two groups, one coordinate each: slopes g_k^2. */
            double slope_obs[3] = {loss0, g[0] * g[0], g[1] * g[1]};
            CHECK_OK(hlr_tuner_observe(t, step, HLR_NEED_SLOPE, slope_obs, 3));
            double slope = 0.0 + g[0] * g[0] + g[1] * g[1];
            double first = isnan(previous) ? 1.0 : fmin(previous * 1.5, lr_max);
            double trials[64];
            int n_trials = 0, limit = 0;
            armijo_expect(&p, w, g, loss0, slope, first, 1e-4, 0.8, max_bts[variant], trials,
                          &n_trials, &limit);
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_REFERENCE_LOSS, 0), loss0);
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_SLOPE, 1), g[1] * g[1]);
            for (int j = 0; j < n_trials; j++) {
                CHECK_OK(hlr_tuner_need(t, step, &need, &count));
                CHECK_EQ_INT(need, HLR_NEED_LOSSES);
                CHECK_EQ_INT(count, 1);
                double probes[2];
                CHECK_OK(hlr_tuner_get_probes(t, step, probes, 2));
                CHECK_EQ_DBL(probes[0], trials[j]);
                CHECK_EQ_DBL(probes[1], trials[j]);
                CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_TRIAL_LR, 0), trials[j]);
                CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_BACKTRACKS, 0), (double)j);
                CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_UPDATE_STEP, 0), (double)step);
                /* During the search the rate is still the previous one. */
                CHECK_EQ_DBL(hlrt_lr(t, step, 0), isnan(previous) ? 1.0 : previous);
                double trial[2] = {w[0] - probes[0] * g[0], w[1] - probes[1] * g[1]};
                double l = loss_at(&p, trial);
                CHECK_OK(hlr_tuner_observe(t, step, HLR_NEED_LOSSES, &l, 1));
            }
            CHECK_OK(hlr_tuner_need(t, step, &need, &count));
            CHECK_EQ_INT(need, HLR_NEED_NOTHING);
            double accepted = trials[n_trials - 1];
            CHECK_EQ_DBL(hlrt_lr(t, step, 0), accepted);
            CHECK_EQ_DBL(hlrt_lr(t, step, 1), accepted);
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0), accepted);
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_BACKTRACKS, 0), (double)(n_trials - 1));
            CHECK(isnan(hlrt_info(t, HLR_INFO_TRIAL_LR, 0)));
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), (double)(step + 1));
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_UPDATE_STEP, 0), (double)(step + 1));
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), limit ? (double)HLR_FLAG_BACKTRACK_LIMIT : 0.0);
            if (variant == 0 && step == 0) CHECK(n_trials > 3); /* the fixture backtracks */
            if (variant == 1 && step == 0) CHECK(limit);
            previous = accepted;
            w[0] -= accepted * g[0];
            w[1] -= accepted * g[1];
        }
        /* A step with S <= 0 is searched all the same (flag). */
        const double up[3] = {1.0, -0.5, 0.25};
        CHECK_OK(hlr_tuner_observe(t, 10, HLR_NEED_SLOPE, up, 3));
        const double bigger = 2.0;
        for (int j = 0; j < 64; j++) {
            int need = -1;
            CHECK_OK(hlr_tuner_need(t, 10, &need, NULL));
            if (need == HLR_NEED_NOTHING) break;
            CHECK_OK(hlr_tuner_observe(t, 10, HLR_NEED_LOSSES, &bigger, 1));
        }
        unsigned flags = (unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0);
        CHECK(flags & HLR_FLAG_NOT_DESCENT);
        CHECK(flags & HLR_FLAG_BACKTRACK_LIMIT);
        /* A line search left unfinished is abandoned by the next step's slope. */
        const double slope_obs[3] = {1.0, 0.5, 0.5};
        CHECK_OK(hlr_tuner_observe(t, 11, HLR_NEED_SLOPE, slope_obs, 3));
        double before = hlrt_lr(t, 11, 0);
        CHECK_OK(hlr_tuner_observe(t, 12, HLR_NEED_SLOPE, slope_obs, 3));
        CHECK_EQ_DBL(hlrt_lr(t, 12, 0), before);
        hlr_tuner_free(t);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 3. Info keys and options per method                                                        */
/* ------------------------------------------------------------------------------------------ */

static const char *const info_names[21] = {
    NULL,          "updates",       "last_step",      "next_curvature_step", "last_candidate",
    "last_flags",  "last_curvature", "last_slope",    "next_update_step",    "fit_intercept",
    "fit_slope",   "fit_curvature", "fit_r2",         "influence",           "influence_rank",
    "edge_of_stability", "smoothed_numerator", "smoothed_denominator", "backtracks", "trial_lr",
    "reference_loss",
};

static void test_info_and_param_keys(void) {
    /* The info keys each method has (from the Swift sources' documentation). */
    static const int has_info[METHOD_COUNT][21] = {
        /*               1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19 20 */
        [0] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, /* hessianlr */
        [1] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0}, /* cdat */
        [2] = {0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}, /* gen */
        [3] = {0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, /* hidlr */
        [4] = {0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, /* armijo */
        [5] = {0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, /* constant */
    };
    static const int per_group[21] = {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0,
                                      1, 1, 1, 1, 1, 0, 0, 0};
    for (int m = 0; m < METHOD_COUNT; m++) {
        int method = all_methods[m];
        hlr_tuner *t = hlrt_create_method(method, 2);
        for (int key = 0; key <= 22; key++) {
            double value = 1234.5;
            int expected = (key >= 1 && key <= 20 && has_info[m][key]) ? HLR_OK : HLR_ERR_UNKNOWN_KEY;
            if (expected == HLR_OK) {
                CHECK_OK(hlr_tuner_get_info(t, key, 1, &value));
                CHECK(value != 1234.5);
                if (per_group[key]) {
                    CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_info(t, key, 2, &value),
                                          HLR_ERR_INVALID_ARGUMENT);
                } else {
                    CHECK_OK(hlr_tuner_get_info(t, key, SIZE_MAX, &value));
                }
            } else {
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_info(t, key, 0, &value), HLR_ERR_UNKNOWN_KEY);
                /* The message names the key: by its name when it exists (another method has it),
                 * by its number otherwise. */
                char text[16];
                snprintf(text, sizeof text, "%d", key);
                CHECK_ERROR_HAS(key >= 1 && key <= 20 ? info_names[key] : text);
                if (key >= 1 && key <= 20) CHECK_ERROR_HAS(method_name(method));
                CHECK(value == 1234.5);
            }
        }
        /* Options: every key 1..24 either has bounds (and its default round-trips through
         * set/get) or is unknown for all of set/get/bounds. */
        for (int key = 0; key <= 25; key++) {
            double lo = 0, hi = 0, def = 0;
            int status = hlr_param_bounds(method, key, &lo, &hi, &def);
            if (status == HLR_OK) {
                CHECK(lo <= def && def <= hi);
                double got = -1;
                CHECK_OK(hlr_tuner_get_param(t, key, &got));
                CHECK_EQ_DBL(got, def);
                CHECK_OK(hlr_tuner_set_param(t, key, def));
            } else {
                CHECK_EQ_INT(status, HLR_ERR_UNKNOWN_KEY);
                double got = 5.5;
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, key, 1.0), HLR_ERR_UNKNOWN_KEY);
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_param(t, key, &got), HLR_ERR_UNKNOWN_KEY);
                CHECK(got == 5.5);
            }
        }
        hlr_tuner_free(t);
    }
    /* A few documented defaults per method. */
    double def = 0;
    CHECK_OK(hlr_param_bounds(HLR_METHOD_CDAT, HLR_PARAM_SIGMA, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 2.0);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_CDAT, HLR_PARAM_DIRECTION, NULL, NULL, &def));
    CHECK_EQ_DBL(def, HLR_DIRECTION_UPDATE);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_GEN, HLR_PARAM_PROBE_COUNT, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 3.0);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_GEN, HLR_PARAM_UPDATE_PERIOD, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 4.0);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HIDLR, HLR_PARAM_MODEL, NULL, NULL, &def));
    CHECK_EQ_DBL(def, HLR_MODEL_DIAGONAL);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_ARMIJO, HLR_PARAM_DECREASE_FACTOR, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 0.8);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_ARMIJO, HLR_PARAM_INITIAL_LR, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 1.0);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_CONSTANT, HLR_PARAM_INITIAL_LR, NULL, NULL, &def));
    CHECK_EQ_DBL(def, 1e-3);
    /* Armijo has one rate for all groups: initial_lr is not per group. */
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_ARMIJO, 2);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, 0.5),
                          HLR_ERR_INVALID_ARGUMENT);
    hlr_tuner_free(t);
    /* Hi-DLR: the full model is limited to 16 groups; probe counts below the unknowns refused. */
    t = hlrt_create_method(HLR_METHOD_HIDLR, 17);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, HLR_PARAM_MODEL, HLR_MODEL_FULL),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("16");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, HLR_PARAM_PROBE_COUNT, 34),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("34");
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_PROBE_COUNT, 35));
    hlr_tuner_free(t);
    /* Group limits per method: Hi-DLR at most 256. */
    hlr_tuner *out = NULL;
    CHECK_FAILS(hlr_tuner_create(HLR_METHOD_HIDLR, 257, &out), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("257");
    CHECK(out == NULL);
    CHECK_OK(hlr_tuner_create(HLR_METHOD_HIDLR, 256, &out));
    hlr_tuner_free(out);
}

/* Observations of the wrong kind or at the wrong step, for each method. */
static void test_wrong_kinds(void) {
    for (int m = 0; m < METHOD_COUNT; m++) {
        int method = all_methods[m];
        hlr_tuner *t = hlrt_create_method(method, 2);
        int need = -1;
        size_t count = 0;
        CHECK_OK(hlr_tuner_need(t, 0, &need, &count));
        const int expected_need[METHOD_COUNT] = {HLR_NEED_CURVATURE, HLR_NEED_CURVATURE,
                                                 HLR_NEED_LOSSES,    HLR_NEED_LOSSES,
                                                 HLR_NEED_SLOPE,     HLR_NEED_NOTHING};
        CHECK_EQ_INT(need, expected_need[m]);
        double values[64] = {0};
        for (int i = 0; i < 64; i++) values[i] = 1.0 + 0.01 * i;
        for (int kind = HLR_NEED_CURVATURE; kind <= HLR_NEED_SLOPE; kind++) {
            if (kind == need) continue;
            size_t n = kind == HLR_NEED_CURVATURE ? 4 : kind == HLR_NEED_SLOPE ? 3 : 1;
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe(t, 0, kind, values, n), HLR_ERR_WRONG_STATE);
        }
        if (need != HLR_NEED_LOSSES) {
            double probes[8];
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_probes(t, 0, probes, 8), HLR_ERR_WRONG_STATE);
        }
        if (need != HLR_NEED_NOTHING) {
            CHECK_OK(hlr_tuner_observe(t, 0, need, values, count));
            /* The step is done (or, for Armijo, waits for a trial loss): a second slope or
             * curvature observation at the same step is refused. */
            if (method != HLR_METHOD_ARMIJO) {
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe(t, 0, need, values, count),
                                      HLR_ERR_WRONG_STATE);
            } else {
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe(t, 0, HLR_NEED_SLOPE, values, 3),
                                      HLR_ERR_WRONG_STATE);
            }
        }
        hlr_tuner_free(t);
    }
}

/* Denormal observations are finite: accepted, and every rate stays finite and in range. */
static void test_denormal_observations(void) {
    const double tiny = 4.9406564584124654e-324, small = 2.2250738585072014e-309;
    for (int m = 0; m < METHOD_COUNT; m++) {
        int method = all_methods[m];
        if (method == HLR_METHOD_CONSTANT) continue;
        hlr_tuner *t = hlrt_create_method(method, 2);
        for (uint64_t step = 0; step < 40; step++) {
            int need = -1;
            size_t count = 0;
            CHECK_OK(hlr_tuner_need(t, step, &need, &count));
            if (need == HLR_NEED_NOTHING) continue;
            double values[64];
            for (size_t i = 0; i < count; i++) values[i] = (i + step) % 2 ? tiny : small;
            if (need == HLR_NEED_LOSSES) values[0] = 1.0; /* a loss surface, not all denormal */
            CHECK_OK(hlr_tuner_observe(t, step, need, values, count));
            double lrs[2];
            CHECK_OK(hlr_tuner_get_lrs(t, step, lrs, 2));
            CHECK(isfinite(lrs[0]) && lrs[0] > 0 && isfinite(lrs[1]) && lrs[1] > 0);
        }
        hlr_tuner_free(t);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 4. Snapshot in the middle of an Armijo line search                                         */
/* ------------------------------------------------------------------------------------------ */

static void test_armijo_mid_search_snapshot(void) {
    const double a[4] = {40.0, 0.0, 0.0, 16.0};
    const double bvec[2] = {1.0, 2.0};
    const double w[2] = {0.5, -0.25};
    problem p;
    double g[2];
    problem_quadratic_at(&p, 2, a, bvec, w, g);
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_ARMIJO, 1);
    double loss0 = loss_at(&p, w);
    const double slope_obs[2] = {loss0, hlrt_dot(g, g, 2)};
    CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_SLOPE, slope_obs, 2));
    /* Two trial losses in, the search is still open. */
    for (int j = 0; j < 2; j++) {
        double eta = 0;
        CHECK_OK(hlr_tuner_get_probes(t, 0, &eta, 1));
        double trial[2] = {w[0] - eta * g[0], w[1] - eta * g[1]};
        double l = loss_at(&p, trial);
        CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_LOSSES, &l, 1));
    }
    int need = -1;
    CHECK_OK(hlr_tuner_need(t, 0, &need, NULL));
    CHECK_EQ_INT(need, HLR_NEED_LOSSES);
    hlrt_state mid = hlrt_capture(t);
    hlr_tuner *u = hlrt_create_method(HLR_METHOD_ARMIJO, 1);
    CHECK_OK(hlr_tuner_restore(u, mid.bytes, mid.size));
    CHECK_EQ_DBL(hlrt_info(u, HLR_INFO_TRIAL_LR, 0), hlrt_info(t, HLR_INFO_TRIAL_LR, 0));
    CHECK_EQ_DBL(hlrt_info(u, HLR_INFO_BACKTRACKS, 0), 2.0);
    /* Both finish the search the same way. */
    hlr_tuner *both[2] = {t, u};
    for (int h = 0; h < 2; h++) {
        for (int j = 0; j < 64; j++) {
            CHECK_OK(hlr_tuner_need(both[h], 0, &need, NULL));
            if (need == HLR_NEED_NOTHING) break;
            double eta = 0;
            CHECK_OK(hlr_tuner_get_probes(both[h], 0, &eta, 1));
            double trial[2] = {w[0] - eta * g[0], w[1] - eta * g[1]};
            double l = loss_at(&p, trial);
            CHECK_OK(hlr_tuner_observe(both[h], 0, HLR_NEED_LOSSES, &l, 1));
        }
    }
    CHECK_EQ_DBL(hlrt_lr(t, 0, 0), hlrt_lr(u, 0, 0));
    CHECK(same_snapshot(t, u));
    /* And through step_host: a restored mid-search handle finishes the search from the host. */
    hlr_tuner *v = hlrt_create_method(HLR_METHOD_ARMIJO, 1);
    CHECK_OK(hlr_tuner_restore(v, mid.bytes, mid.size));
    size_t rounds = 0;
    problem pv = p;
    CHECK_OK(hlr_tuner_step_host_f64(v, 0, w, g, NULL, 2, NULL, 0, loss0, NULL, cb_loss64, &pv,
                                     &rounds));
    CHECK(rounds >= 1);
    CHECK(same_snapshot(t, v));
    hlrt_release(&mid);
    hlr_tuner_free(t);
    hlr_tuner_free(u);
    hlr_tuner_free(v);
}

/* ------------------------------------------------------------------------------------------ */
/* 5. step_host all or nothing                                                                */
/* ------------------------------------------------------------------------------------------ */

static void test_step_host_all_or_nothing(void) {
    const double w[4] = {0.1, -0.2, 0.3, 0.05};
    problem base;
    double g[4], u[4];
    problem_quadratic_at(&base, 4, quad_a, quad_b, w, g);
    for (size_t i = 0; i < 4; i++) u[i] = 0.5 * g[i];
    memcpy(base.at, w, sizeof w);
    float w32[4], g32[4], u32[4];
    for (size_t i = 0; i < 4; i++) {
        w32[i] = (float)w[i];
        g32[i] = (float)g[i];
        u32[i] = (float)u[i];
    }
    const size_t offsets[3] = {0, 2, 4};

    for (int m = 0; m < METHOD_COUNT; m++) {
        int method = all_methods[m];
        if (method == HLR_METHOD_CONSTANT) continue;
        int curvature = method == HLR_METHOD_HESSIANLR || method == HLR_METHOD_CDAT;
        const double *up = method == HLR_METHOD_CDAT ? u : NULL; /* CDAT's default direction */
        const float *up32 = method == HLR_METHOD_CDAT ? u32 : NULL;
        for (int f32 = 0; f32 <= 1; f32++) {
            /* Advance a few steps first so the state is not the initial one. */
            hlr_tuner *t = hlrt_create_method(method, 2);
            if (method == HLR_METHOD_ARMIJO) {
                /* Every search starts far too high, so its first trial is always rejected and
                 * the loss callback is called at least 3 times. */
                HLRT_SET(t, HLR_PARAM_LR_MAX, 1000.0);
                HLRT_SET(t, HLR_PARAM_INCREASE_FACTOR, 1000.0);
                HLRT_SET(t, HLR_PARAM_MAX_BACKTRACKS, 60);
            }
            problem p = base;
            for (uint64_t s = 0; s < 3; s++) {
                size_t r = 0;
                CHECK_OK(hlr_tuner_step_host_f64(t, s, w, g, up, 4, offsets, 3, NAN, cb_hvp64,
                                                 cb_loss64, &p, &r));
            }
            uint64_t step = 4; /* every method needs something at step 4 (P = 1, 4, 10, 1...) */
            if (method == HLR_METHOD_HIDLR) step = 10;
            if (method == HLR_METHOD_HESSIANLR) step = 10;
            hlrt_state before = hlrt_capture(t);
#define STEP_HOST(prob, loss_value, hvp_fn, loss_fn)                                           \
    (f32 ? hlr_tuner_step_host_f32(t, step, w32, g32, up32, 4, offsets, 3, (loss_value),       \
                                   (hvp_fn) ? cb_hvp32 : NULL, (loss_fn) ? cb_loss32 : NULL,   \
                                   (prob), NULL)                                                \
         : hlr_tuner_step_host_f64(t, step, w, g, up, 4, offsets, 3, (loss_value),             \
                                   (hvp_fn) ? cb_hvp64 : NULL, (loss_fn) ? cb_loss64 : NULL,   \
                                   (prob), NULL))
            /* A callback failing on its 3rd call (HVP for the curvature methods: 2 groups, so 2
             * HVPs; use the 2nd there). */
            p = base;
            if (curvature) p.fail_hvp_on = 2;
            else p.fail_loss_on = 3;
            CHECK_FAILS_UNCHANGED(t, STEP_HOST(&p, NAN, 1, 1), HLR_ERR_CALLBACK);
            CHECK_ERROR_HAS(curvature ? "HVP callback returned 9" : "loss callback returned 7");
            CHECK_EQ_INT(curvature ? p.hvp_calls : p.loss_calls, curvature ? 2 : 3);
            /* A callback writing NaN: an HVP, or the loss at the current weights (GeN's zero
             * probe is its 2nd row, Hi-DLR's its 1st, Armijo's L(w) its 1st call). A NaN trial
             * loss is a failed observation, not an error (test_step.c). */
            p = base;
            if (curvature) p.nan_hvp_on = 1;
            else p.nan_loss_on = method == HLR_METHOD_GEN ? 2 : 1;
            CHECK_FAILS_UNCHANGED(t, STEP_HOST(&p, NAN, 1, 1), HLR_ERR_NONFINITE);
            /* +-Inf current loss: refused before any callback. */
            p = base;
            CHECK_FAILS_UNCHANGED(t, STEP_HOST(&p, INFINITY, 1, 1), HLR_ERR_NONFINITE);
            CHECK_ERROR_HAS("inf");
            CHECK_FAILS_UNCHANGED(t, STEP_HOST(&p, -INFINITY, 1, 1), HLR_ERR_NONFINITE);
            CHECK_ERROR_HAS("-inf");
            CHECK_EQ_INT(p.loss_calls + p.hvp_calls, 0);
            /* The callback the step needs is missing: NULL_POINTER naming it. */
            p = base;
            CHECK_FAILS_UNCHANGED(t, STEP_HOST(&p, 1.0, !curvature, curvature), HLR_ERR_NULL_POINTER);
            CHECK_ERROR_HAS(curvature ? "hvp" : "loss");
            /* A callback that changes the tuner through another call: nothing of the step is
             * applied, the callback's own change is. */
            p = base;
            p.reenter = t;
            p.reenter_on = 2;
            p.reenter_mutates = 1;
            CHECK_FAILS(STEP_HOST(&p, NAN, 1, 1), HLR_ERR_WRONG_STATE);
            CHECK_ERROR_HAS("changed");
            CHECK_EQ_INT(p.reenter_status, HLR_OK);
            {
                hlr_tuner *expected = hlrt_create_method(method, 2);
                CHECK_OK(hlr_tuner_restore(expected, before.bytes, before.size));
                CHECK_OK(hlr_tuner_set_param(expected, HLR_PARAM_INITIAL_LR, 0.0123));
                CHECK(same_snapshot(t, expected));
                hlr_tuner_free(expected);
                CHECK_OK(hlr_tuner_restore(t, before.bytes, before.size));
            }
            /* Read-only calls from a callback are fine (also on the same handle). */
            p = base;
            p.reenter = t;
            p.reenter_on = 1;
            p.reenter_mutates = 0;
            size_t rounds = 0;
            CHECK_OK(f32 ? hlr_tuner_step_host_f32(t, step, w32, g32, up32, 4, offsets, 3, NAN,
                                                   cb_hvp32, cb_loss32, &p, &rounds)
                         : hlr_tuner_step_host_f64(t, step, w, g, up, 4, offsets, 3, NAN, cb_hvp64,
                                                   cb_loss64, &p, &rounds));
            CHECK_EQ_INT(p.reenter_status, HLR_OK);
            CHECK(rounds >= 1);
            hlrt_state after_nan = hlrt_capture(t);
            int calls_nan = p.loss_calls;
            /* NaN current_loss means "not given": the same step with L(w) given gives the same
             * state with fewer loss calls (curvature methods call no loss at all). */
            CHECK_OK(hlr_tuner_restore(t, before.bytes, before.size));
            p = base;
            double lw;
            if (f32) {
                double wide[4] = {w32[0], w32[1], w32[2], w32[3]};
                lw = loss_at(&base, wide);
            } else {
                lw = loss_at(&base, w);
            }
            CHECK_OK(f32 ? hlr_tuner_step_host_f32(t, step, w32, g32, up32, 4, offsets, 3, lw,
                                                   cb_hvp32, cb_loss32, &p, &rounds)
                         : hlr_tuner_step_host_f64(t, step, w, g, up, 4, offsets, 3, lw, cb_hvp64,
                                                   cb_loss64, &p, &rounds));
            CHECK(hlrt_same_state(t, &after_nan));
            if (curvature) {
                CHECK_EQ_INT(calls_nan, 0);
                CHECK_EQ_INT(p.loss_calls, 0);
            } else {
                CHECK_EQ_INT(p.loss_calls, calls_nan - 1);
            }
            hlrt_release(&after_nan);
#undef STEP_HOST
            hlrt_release(&before);
            hlr_tuner_free(t);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Reported library bugs (strict known-bug checks, see check.h)                               */
/* ------------------------------------------------------------------------------------------ */

/* Regression: probe steps s * lr must stay finite. lr_max = initial_lr = DBL_MAX with
 * probe_scale = 4 made the probe steps of GeN and Hi-DLR overflow (hlr_tuner_get_probes gave
 * -inf/NaN/+inf and every host step was refused). Now their rates obey min(lr_max, 1e150 / s), so
 * lr_max may be DBL_MAX or +inf (no ceiling), and s * initial_lr <= 1e150, s * lr_min <= 1e150
 * are cross-constraints: 1e150 rates with probe_scale = 4 are refused when the last option is
 * set, naming probe_scale and the product. */
static void test_probe_steps_stay_finite(void) {
    const int methods[2] = {HLR_METHOD_GEN, HLR_METHOD_HIDLR};
    for (int i = 0; i < 2; i++) {
        hlr_tuner *t = hlrt_create_method(methods[i], 1);
        CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_MAX, DBL_MAX));
        CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_MAX, INFINITY));
        double value = 0;
        CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_LR_MAX, &value));
        CHECK(value == INFINITY);
        CHECK_FAILS(hlr_tuner_set_param(t, HLR_PARAM_INITIAL_LR, DBL_MAX), HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS("probe_scale");
        CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_INITIAL_LR, 1e150));
        hlrt_state before = hlrt_capture(t);
        CHECK_FAILS(hlr_tuner_set_param(t, HLR_PARAM_PROBE_SCALE, 4.0), HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS("probe_scale");
        CHECK(hlrt_same_state(t, &before));
        hlrt_release(&before);
        int need = -1;
        size_t m = 0;
        CHECK_OK(hlr_tuner_need(t, 0, &need, &m));
        double *probes = calloc(m * 1 + 1, sizeof *probes);
        CHECK_OK(hlr_tuner_get_probes(t, 0, probes, m));
        for (size_t j = 0; j < m; j++) CHECK(isfinite(probes[j]));
        free(probes);
        hlr_tuner_free(t);
    }
}

/* Regression: a call that is refused changes nothing, so it must not make a concurrent or
 * re-entrant host step fail with HLR_ERR_WRONG_STATE ("the tuner was changed by another call"):
 * the handle's generation now advances only when a mutation succeeds. */
static void test_refused_call_does_not_abort_a_step(void) {
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_GEN, 1);
    problem p;
    problem_quadratic(&p, 4, quad_a, quad_b);
    p.reenter = t;
    p.reenter_on = 2;
    p.reenter_mutates = 2;
    const double w[4] = {0.1, 0.2, 0.3, 0.4}, g[4] = {1, 1, 1, 1};
    int status = hlr_tuner_step_host_f64(t, 0, w, g, NULL, 4, NULL, 0, NAN, NULL, cb_loss64, &p, NULL);
    CHECK_EQ_INT(p.reenter_status, HLR_ERR_INVALID_ARGUMENT); /* the inner call was refused */
    CHECK_EQ_INT(status, HLR_OK);
    hlr_tuner_free(t);
}

/* hlr_tuner_set_params checks the cross-constraints on the result: option sets that no order of
 * hlr_tuner_set_param reaches (each single step crosses a constraint) are taken together. */
static void test_set_params_in_any_order(void) {
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_HESSIANLR, 1); /* lr in [1e-8, 1] */
    const int window[2] = {HLR_PARAM_LR_MIN, HLR_PARAM_LR_MAX};
    const double high[2] = {2.0, 10.0};
    CHECK_FAILS(hlr_tuner_set_param(t, HLR_PARAM_LR_MIN, 2.0), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_tuner_set_params(t, window, high, 2));
    double value = 0;
    CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_LR_MIN, &value));
    CHECK(value == 2.0);
    CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_LR_MAX, &value));
    CHECK(value == 10.0);
    /* ... and back below, lr_min first (lr_max = 1e-3 alone would cross lr_min = 2). */
    const double low[2] = {1e-6, 1e-3};
    CHECK_FAILS(hlr_tuner_set_param(t, HLR_PARAM_LR_MAX, 1e-3), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_tuner_set_params(t, window, low, 2));
    CHECK_OK(hlr_tuner_free(t));

    /* auto: from SGD with Nesterov to Adam (nesterov is an SGD option; momentum 0 refuses it). */
    t = hlrt_create_method(HLR_METHOD_AUTO, 1);
    const int nesterov[2] = {HLR_PARAM_NESTEROV, HLR_PARAM_MOMENTUM};
    const double on[2] = {1, 0.9};
    CHECK_FAILS(hlr_tuner_set_param(t, HLR_PARAM_NESTEROV, 1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_tuner_set_params(t, nesterov, on, 2));
    const int adam[2] = {HLR_PARAM_OPTIMIZER, HLR_PARAM_NESTEROV};
    const double to_adam[2] = {1, 0};
    CHECK_FAILS(hlr_tuner_set_param(t, HLR_PARAM_OPTIMIZER, 1), HLR_ERR_INVALID_ARGUMENT);
    CHECK_OK(hlr_tuner_set_params(t, adam, to_adam, 2));
    CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_OPTIMIZER, &value));
    CHECK(value == 1);
    CHECK_OK(hlr_tuner_free(t));
}

int main(void) {
    test_set_params_in_any_order();
    test_protocol_vs_step_host();
    test_constant_needs_nothing();
    test_hessianlr_exact();
    test_gen_exact();
    test_hidlr_exact();
    test_cdat_exact();
    test_armijo_exact();
    test_info_and_param_keys();
    test_wrong_kinds();
    test_denormal_observations();
    test_armijo_mid_search_snapshot();
    test_step_host_all_or_nothing();
    test_probe_steps_stay_finite();
    test_refused_call_does_not_abort_a_step();
    return CHECK_SUMMARY();
}
