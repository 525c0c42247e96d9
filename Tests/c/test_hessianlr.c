/* HessianLR semantics end to end through the C ABI: the curvature schedule, warmup, exact
 * values on quadratics with a known Hessian (observation mode and host mode), relative bounds,
 * EMA, absolute clamp, the degenerate cases and their flags, per-group rates, info keys, reset,
 * and a bit-exact comparison against a reference model of the documented rule on random
 * observation sequences. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* ------------------------------------------------------------------------------------------ */
/* Reference model of the documented rule (header + HessianLRRule.swift)                      */
/* ------------------------------------------------------------------------------------------ */

enum { MAX_GROUPS = 4 };

typedef struct {
    double eta0[MAX_GROUPS];
    uint64_t warmup, period;
    double low, high, lr_min, lr_max, beta, decay;
    int direction;
} ref_options;

typedef struct {
    size_t groups;
    ref_options o;
    double current[MAX_GROUPS];
    uint64_t updates;
    int has_last;
    uint64_t last;
    unsigned flags[MAX_GROUPS];
    double candidate[MAX_GROUPS];
} ref_tuner;

static void ref_init(ref_tuner *r, size_t groups) {
    memset(r, 0, sizeof *r);
    r->groups = groups;
    for (size_t k = 0; k < groups; k++) {
        r->o.eta0[k] = 1e-3;
        r->current[k] = NAN;
        r->candidate[k] = NAN;
    }
    r->o.warmup = 0;
    r->o.period = 10;
    r->o.low = 0.3;
    r->o.high = 3.0;
    r->o.lr_min = 1e-8;
    r->o.lr_max = 1.0;
    r->o.beta = 0.9;
    r->o.decay = 0.5;
    r->o.direction = HLR_DIRECTION_GRADIENT;
}

static double ref_clamp(const ref_options *o, double v, unsigned *flags) {
    if (v < o->lr_min) {
        *flags |= HLR_FLAG_CLAMPED_MIN;
        return o->lr_min;
    }
    if (v > o->lr_max) {
        *flags |= HLR_FLAG_CLAMPED_MAX;
        return o->lr_max;
    }
    return v;
}

/* Warmup: eta0*(t+1)/W for t < W (the library evaluates eta0 * ((t+1)/W); compare warmup
 * values with a few ulps of tolerance), eta0 after it; clamped. */
static double ref_scheduled(const ref_options *o, size_t k, uint64_t t) {
    unsigned ignored = 0;
    if (t < o->warmup) return ref_clamp(o, o->eta0[k] * ((double)(t + 1) / (double)o->warmup), &ignored);
    return ref_clamp(o, o->eta0[k], &ignored);
}

static int ref_wants(const ref_tuner *r, uint64_t t) {
    if (r->has_last && t <= r->last) return 0;
    return t >= r->o.warmup && (t - r->o.warmup) % r->o.period == 0;
}

/* One group's update: candidate -> relative bound -> EMA -> absolute clamp. */
static double ref_decide(const ref_options *o, double current, double s, double c, unsigned *flags,
                         double *raw) {
    *flags = 0;
    *raw = NAN;
    if (s == 0) {
        *flags |= HLR_FLAG_ZERO_GRADIENT;
        return ref_clamp(o, current, flags);
    }
    if (s < 0) {
        *flags |= HLR_FLAG_NOT_DESCENT;
        return ref_clamp(o, current, flags);
    }
    double candidate;
    if (c <= 0) {
        *flags |= HLR_FLAG_NEGATIVE_CURVATURE;
        candidate = o->decay * current;
    } else {
        *raw = s / c;
        candidate = *raw;
    }
    double low = o->low * current, high = o->high * current;
    if (candidate < low) {
        candidate = low;
        *flags |= HLR_FLAG_BOUNDED_LOW;
    } else if (candidate > high) {
        candidate = high;
        *flags |= HLR_FLAG_BOUNDED_HIGH;
    }
    double smoothed = o->beta * current + (1 - o->beta) * candidate;
    return ref_clamp(o, smoothed, flags);
}

static void ref_observe(ref_tuner *r, uint64_t t, const double *values) {
    for (size_t k = 0; k < r->groups; k++) {
        double rate = r->updates > 0 ? r->current[k] : ref_scheduled(&r->o, k, t);
        r->current[k] = ref_decide(&r->o, rate, values[2 * k], values[2 * k + 1], &r->flags[k],
                                   &r->candidate[k]);
    }
    r->updates++;
    r->has_last = 1;
    r->last = t;
}

static double ref_lr(const ref_tuner *r, uint64_t t, size_t k) {
    if (t < r->o.warmup || r->updates == 0) return ref_scheduled(&r->o, k, t);
    unsigned ignored = 0;
    return ref_clamp(&r->o, r->current[k], &ignored);
}

/* |a - b| within `ulps` units in the last place of b. */
static int close_ulps(double a, double b, int ulps) {
    if (a == b) return 1;
    double x = b;
    for (int i = 0; i < ulps; i++) x = nextafter(x, a);
    return a > b ? a <= x : a >= x;
}

static int same_double(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

static uint64_t rng_state;
static uint64_t rng_next(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; }
static double rng_log_uniform(double lo, double hi) { return exp(log(lo) + (log(hi) - log(lo)) * rng_unit()); }

/* ------------------------------------------------------------------------------------------ */

static void set(hlr_tuner *t, int key, double value) {
    if (!CHECK_OK(hlr_tuner_set_param(t, key, value)))
        fprintf(stderr, "    (key %d = %.17g)\n", key, value);
}

/* smoothing 0 and wide bounds: the rate becomes the raw candidate. */
static void set_exact(hlr_tuner *t) {
    set(t, HLR_PARAM_SMOOTHING, 0.0);
    set(t, HLR_PARAM_LR_BOUND_LOW, DBL_MIN);
    set(t, HLR_PARAM_LR_BOUND_HIGH, DBL_MAX);
    set(t, HLR_PARAM_LR_MIN, 0.0);
    set(t, HLR_PARAM_LR_MAX, DBL_MAX);
    set(t, HLR_PARAM_UPDATE_PERIOD, 1);
}

static void test_defaults(void) {
    const struct {
        int key;
        double def;
    } defaults[] = {
        {HLR_PARAM_INITIAL_LR, 1e-3},   {HLR_PARAM_WARMUP_STEPS, 0},  {HLR_PARAM_UPDATE_PERIOD, 10},
        {HLR_PARAM_LR_BOUND_LOW, 0.3},  {HLR_PARAM_LR_BOUND_HIGH, 3}, {HLR_PARAM_LR_MIN, 1e-8},
        {HLR_PARAM_LR_MAX, 1.0},        {HLR_PARAM_SMOOTHING, 0.9},   {HLR_PARAM_NEGATIVE_CURVATURE_DECAY, 0.5},
        {HLR_PARAM_DIRECTION, HLR_DIRECTION_GRADIENT},
    };
    hlr_tuner *t = hlrt_create(3);
    int method = 0;
    size_t groups = 0;
    CHECK_OK(hlr_tuner_method(t, &method));
    CHECK_EQ_INT(method, HLR_METHOD_HESSIANLR);
    CHECK_OK(hlr_tuner_group_count(t, &groups));
    CHECK_EQ_INT(groups, 3);
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        double lo = NAN, hi = NAN, def = NAN, value = NAN;
        CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, defaults[i].key, &lo, &hi, &def));
        CHECK_EQ_DBL(def, defaults[i].def);
        CHECK_OK(hlr_tuner_get_param(t, defaults[i].key, &value));
        CHECK_EQ_DBL(value, defaults[i].def);
        CHECK_OK(hlr_tuner_get_group_param(t, 2, defaults[i].key, &value));
        CHECK_EQ_DBL(value, defaults[i].def);
        /* The bounds themselves are accepted (with lr_min/lr_max opened up around them). */
        CHECK_OK(hlr_tuner_reset(t, HLR_RESET_OPTIONS));
        set(t, HLR_PARAM_LR_MAX, DBL_MAX);
        set(t, HLR_PARAM_LR_MIN, 0.0);
        if (defaults[i].key != HLR_PARAM_LR_MIN) CHECK_OK(hlr_tuner_set_param(t, defaults[i].key, lo));
        CHECK_OK(hlr_tuner_set_param(t, defaults[i].key, hi));
        CHECK_OK(hlr_tuner_get_param(t, defaults[i].key, &value));
        CHECK_EQ_DBL(value, hi);
        CHECK_OK(hlr_tuner_reset(t, HLR_RESET_OPTIONS));
    }
    /* The documented ranges. */
    double lo, hi;
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_SMOOTHING, &lo, &hi, NULL));
    CHECK(lo == 0.0 && hi < 1.0 && hi == nextafter(1.0, 0.0));
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_LR_BOUND_LOW, &lo, &hi, NULL));
    CHECK(lo > 0.0 && hi == 1.0);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_LR_BOUND_HIGH, &lo, &hi, NULL));
    CHECK(lo == 1.0);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_DIRECTION, &lo, &hi, NULL));
    CHECK(lo == 0.0 && hi == 1.0);
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_UPDATE_PERIOD, &lo, NULL, NULL));
    CHECK(lo == 1.0);
    CHECK_OK(hlr_tuner_free(t));
}

static void test_schedule(void) {
    const uint64_t warmups[] = {0, 1, 3, 7, 20};
    const uint64_t periods[] = {1, 2, 5, 10, 13};
    for (size_t wi = 0; wi < 5; wi++) {
        for (size_t pi = 0; pi < 5; pi++) {
            uint64_t W = warmups[wi], P = periods[pi];
            hlr_tuner *t = hlrt_create(1);
            set(t, HLR_PARAM_WARMUP_STEPS, (double)W);
            set(t, HLR_PARAM_UPDATE_PERIOD, (double)P);
            /* Before any observation: wanted iff t >= W and (t - W) % P == 0. */
            int mismatches = 0;
            for (uint64_t s = 0; s < 200; s++) {
                int wants = -1;
                CHECK_OK(hlr_tuner_wants_curvature(t, s, &wants));
                int expected = s >= W && (s - W) % P == 0;
                if (wants != expected) mismatches++;
            }
            CHECK_EQ_INT(mismatches, 0);
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), (double)W);
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_STEP, 0), -1.0);
            /* Observe every wanted step: after step s, nothing <= s is wanted any more. */
            const double obs[2] = {1.0, 1000.0};
            uint64_t observed = 0;
            for (uint64_t s = 0; s < 120; s++) {
                int wants = -1;
                CHECK_OK(hlr_tuner_wants_curvature(t, s, &wants));
                if (!wants) {
                    if (s >= W && (s - W) % P == 0) CHECK(!"a scheduled step was not wanted");
                    continue;
                }
                CHECK_OK(hlr_tuner_observe_curvature(t, s, obs, 2));
                observed++;
                CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_STEP, 0), (double)s);
                CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), (double)(s + P));
                CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), (double)observed);
                for (uint64_t back = (s > 30 ? s - 30 : 0); back <= s; back++) {
                    CHECK_OK(hlr_tuner_wants_curvature(t, back, &wants));
                    if (wants) {
                        CHECK(!"a step not after the last observation is wanted");
                        break;
                    }
                }
                CHECK_STATUS(hlr_tuner_observe_curvature(t, s, obs, 2), HLR_ERR_WRONG_STATE);
            }
            CHECK(observed > 0);
            CHECK_OK(hlr_tuner_free(t));
        }
    }
    /* Skipping curvature steps is allowed; earlier ones are then gone. */
    hlr_tuner *t = hlrt_create(1);
    set(t, HLR_PARAM_WARMUP_STEPS, 4);
    set(t, HLR_PARAM_UPDATE_PERIOD, 3);
    const double obs[2] = {1.0, 1000.0};
    CHECK_OK(hlr_tuner_observe_curvature(t, 10, obs, 2)); /* 4 and 7 skipped */
    int wants = -1;
    CHECK_OK(hlr_tuner_wants_curvature(t, 7, &wants));
    CHECK_EQ_INT(wants, 0);
    CHECK_OK(hlr_tuner_wants_curvature(t, 13, &wants));
    CHECK_EQ_INT(wants, 1);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), 13.0);
    CHECK_STATUS(hlr_tuner_observe_curvature(t, 7, obs, 2), HLR_ERR_WRONG_STATE);
    /* Changing the period re-anchors the schedule at W. */
    set(t, HLR_PARAM_UPDATE_PERIOD, 5);
    CHECK_OK(hlr_tuner_wants_curvature(t, 13, &wants));
    CHECK_EQ_INT(wants, 0);
    CHECK_OK(hlr_tuner_wants_curvature(t, 14, &wants));
    CHECK_EQ_INT(wants, 1);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), 14.0);
    CHECK_OK(hlr_tuner_free(t));
}

static void test_warmup(void) {
    const uint64_t warmups[] = {1, 2, 3, 10, 37, 1000};
    const double etas[] = {1e-3, 0.1, 0.7, 3e-5};
    for (size_t wi = 0; wi < sizeof warmups / sizeof warmups[0]; wi++) {
        for (size_t ei = 0; ei < 4; ei++) {
            uint64_t W = warmups[wi];
            double eta0 = etas[ei];
            hlr_tuner *t = hlrt_create(1);
            set(t, HLR_PARAM_WARMUP_STEPS, (double)W);
            set(t, HLR_PARAM_INITIAL_LR, eta0);
            set(t, HLR_PARAM_LR_MIN, 0.0);
            int bad = 0;
            for (uint64_t s = 0; s < W + 5; s++) {
                double lr = hlrt_lr(t, s, 0);
                double expected = s < W ? eta0 * (double)(s + 1) / (double)W : eta0;
                if (!close_ulps(lr, expected, 2)) {
                    if (bad++ < 3)
                        fprintf(stderr, "    warmup W=%llu eta0=%g t=%llu: lr %.17g, expected %.17g\n",
                                (unsigned long long)W, eta0, (unsigned long long)s, lr, expected);
                }
                if (s + 1 >= W) CHECK_EQ_DBL(lr, eta0); /* the last warmup step reaches eta0 */
                int wants = -1;
                CHECK_OK(hlr_tuner_wants_curvature(t, s, &wants));
                CHECK_EQ_INT(wants, s == W);
            }
            CHECK_EQ_INT(bad, 0);
            /* Far after the warmup, before any observation: eta0. */
            CHECK_EQ_DBL(hlrt_lr(t, 1000000, 0), eta0);
            CHECK_OK(hlr_tuner_free(t));
        }
    }
    /* Warmup values below lr_min are raised to it; eta0 above lr_max is lowered. */
    hlr_tuner *t = hlrt_create(1);
    set(t, HLR_PARAM_WARMUP_STEPS, 100);
    set(t, HLR_PARAM_INITIAL_LR, 1e-3);
    set(t, HLR_PARAM_LR_MIN, 1e-4);
    CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 1e-4);   /* 1e-5 -> 1e-4 */
    CHECK(close_ulps(hlrt_lr(t, 9, 0), 1e-4, 2)); /* 1e-4, maybe raised to it */
    CHECK(hlrt_lr(t, 9, 0) >= 1e-4);
    CHECK(hlrt_lr(t, 49, 0) > 4.9e-4 && hlrt_lr(t, 49, 0) < 5.1e-4);
    set(t, HLR_PARAM_INITIAL_LR, 5.0);
    CHECK_EQ_DBL(hlrt_lr(t, 150, 0), 1.0);
    CHECK_EQ_DBL(hlrt_lr(t, 49, 0), 1.0);   /* 2.5 -> 1.0 */
    CHECK(close_ulps(hlrt_lr(t, 9, 0), 0.5, 2));
    CHECK_OK(hlr_tuner_free(t));
}

/* Dense HVP for host mode: ctx is a row-major n x n matrix. */
typedef struct {
    const double *h;
    size_t n;
    int calls;
} dense_f64;

static int dense_hvp_f64(void *ctx, const double *v, double *out, size_t n) {
    dense_f64 *m = ctx;
    m->calls++;
    if (n != m->n) return 99;
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (size_t j = 0; j < n; j++) sum += m->h[i * n + j] * v[j];
        out[i] = sum;
    }
    return 0;
}

static void test_exact_quadratic(void) {
    /* H = diag(lambda); g = a * e_i (an eigenvector): g'g / g'Hg = 1/lambda_i. */
    const double lambdas[] = {4.0, 0.5, 10.0, 3.0, 1e-3, 250.0};
    const double amplitudes[] = {3.0, -2.0, 0.5, 7.0, 1.0, 1.0 / 16};
    enum { N = 6 };
    double h[N * N];
    memset(h, 0, sizeof h);
    for (size_t i = 0; i < N; i++) h[i * N + i] = lambdas[i];

    for (size_t i = 0; i < N; i++) {
        double a = amplitudes[i];
        /* Observation mode: s = a^2, c = a * (lambda a). */
        hlr_tuner *t = hlrt_create(1);
        set_exact(t);
        double obs[2] = {a * a, a * (lambdas[i] * a)};
        CHECK_OK(hlr_tuner_observe_curvature(t, 0, obs, 2));
        double lr = hlrt_lr(t, 0, 0);
        CHECK_EQ_DBL(lr, obs[0] / obs[1]);
        CHECK(close_ulps(lr, 1.0 / lambdas[i], 1));
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0), obs[0] / obs[1]);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), 0.0);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_SLOPE, 0), obs[0]);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CURVATURE, 0), obs[1]);
        CHECK_OK(hlr_tuner_free(t));

        /* Host mode: the library computes the same s and c from g and the HVP callback. */
        t = hlrt_create(1);
        set_exact(t);
        double g[N] = {0};
        g[i] = a;
        dense_f64 m = {h, N, 0};
        CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, NULL, N, NULL, 0, dense_hvp_f64, &m));
        CHECK_EQ_INT(m.calls, 1);
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), obs[0] / obs[1]);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_SLOPE, 0), obs[0]);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CURVATURE, 0), obs[1]);
        CHECK_OK(hlr_tuner_free(t));
    }
    /* Exactly representable cases: 1/lambda bit for bit. */
    const double powers[] = {4.0, 0.5, 2.0, 1024.0, 0.125};
    for (size_t i = 0; i < 5; i++) {
        hlr_tuner *t = hlrt_create(1);
        set_exact(t);
        double obs[2] = {9.0, 9.0 * powers[i]};
        CHECK_OK(hlr_tuner_observe_curvature(t, 0, obs, 2));
        CHECK_EQ_DBL(hlrt_lr(t, 5, 0), 1.0 / powers[i]);
        CHECK_OK(hlr_tuner_free(t));
    }
    /* A general g on a general SPD H: the rate is g'g / g'Hg. */
    {
        const double hs[9] = {4.0, 1.0, 0.0, 1.0, 3.0, 0.5, 0.0, 0.5, 2.0};
        const double g[3] = {1.0, -2.0, 0.5};
        double hg[3], gg = 0, ghg = 0;
        for (int r = 0; r < 3; r++) {
            hg[r] = 0;
            for (int c = 0; c < 3; c++) hg[r] += hs[r * 3 + c] * g[c];
        }
        for (int r = 0; r < 3; r++) {
            gg += g[r] * g[r];
            ghg += g[r] * hg[r];
        }
        hlr_tuner *t = hlrt_create(1);
        set_exact(t);
        dense_f64 m = {hs, 3, 0};
        CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, NULL, 3, NULL, 0, dense_hvp_f64, &m));
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), gg / ghg); /* small integers and halves: exact sums */
        CHECK_OK(hlr_tuner_free(t));
    }
    /* Several groups, each its own quadratic: lr_k = 1/lambda_k. */
    {
        hlr_tuner *t = hlrt_create(3);
        set_exact(t);
        double obs[6] = {4.0, 16.0, 1.0, 0.5, 2.0, 20.0};
        CHECK_OK(hlr_tuner_observe_curvature(t, 0, obs, 6));
        double lrs[3];
        CHECK_OK(hlr_tuner_get_lrs(t, 0, lrs, 3));
        CHECK_EQ_DBL(lrs[0], 0.25);
        CHECK_EQ_DBL(lrs[1], 2.0);
        CHECK_EQ_DBL(lrs[2], 0.1);
        for (size_t k = 0; k < 3; k++) CHECK_EQ_DBL(hlrt_lr(t, 0, k), lrs[k]);
        CHECK_OK(hlr_tuner_free(t));
    }
}

static void test_bounds_ema_clamp(void) {
    /* Relative bounds (smoothing 0, clamp wide): candidate clamped to [low*lr, high*lr]. */
    hlr_tuner *t = hlrt_create(1);
    set(t, HLR_PARAM_SMOOTHING, 0.0);
    set(t, HLR_PARAM_UPDATE_PERIOD, 1);
    set(t, HLR_PARAM_INITIAL_LR, 0.1);
    set(t, HLR_PARAM_LR_MAX, 100.0);
    const double high_obs[2] = {1.0, 1.0}; /* candidate 1.0 > 3 * 0.1 */
    CHECK_OK(hlr_tuner_observe_curvature(t, 0, high_obs, 2));
    CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 3.0 * 0.1);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_BOUNDED_HIGH);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0), 1.0); /* raw s/c, before the bound */
    double cur = 3.0 * 0.1;
    const double low_obs[2] = {1.0, 1e4}; /* candidate 1e-4 < 0.3 * 0.3 */
    CHECK_OK(hlr_tuner_observe_curvature(t, 1, low_obs, 2));
    CHECK_EQ_DBL(hlrt_lr(t, 1, 0), 0.3 * cur);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_BOUNDED_LOW);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0), 1e-4);
    cur = 0.3 * cur;
    const double inside[2] = {1.0, 10.0}; /* 0.1 within [0.027, 0.27] */
    CHECK_OK(hlr_tuner_observe_curvature(t, 2, inside, 2));
    CHECK_EQ_DBL(hlrt_lr(t, 2, 0), 0.1);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), 0.0);
    /* Custom bounds: low = high = 1 freezes the rate. */
    set(t, HLR_PARAM_LR_BOUND_LOW, 1.0);
    set(t, HLR_PARAM_LR_BOUND_HIGH, 1.0);
    CHECK_OK(hlr_tuner_observe_curvature(t, 3, high_obs, 2));
    CHECK_EQ_DBL(hlrt_lr(t, 3, 0), 0.1);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_BOUNDED_HIGH);
    CHECK_OK(hlr_tuner_observe_curvature(t, 4, low_obs, 2));
    CHECK_EQ_DBL(hlrt_lr(t, 4, 0), 0.1);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_BOUNDED_LOW);
    CHECK_OK(hlr_tuner_free(t));

    /* EMA: lr' = beta*lr + (1-beta)*candidate, for several beta. */
    const double betas[] = {0.9, 0.5, 0.0, 0.99, 0.25};
    for (int b = 0; b < 5; b++) {
        t = hlrt_create(1);
        set(t, HLR_PARAM_SMOOTHING, betas[b]);
        set(t, HLR_PARAM_UPDATE_PERIOD, 2);
        set(t, HLR_PARAM_INITIAL_LR, 0.01);
        double lr = 0.01;
        const double cands[][2] = {{2.0, 100.0}, {1.0, 40.0}, {3.0, 200.0}, {1.0, 40.0}};
        for (int i = 0; i < 4; i++) {
            CHECK_OK(hlr_tuner_observe_curvature(t, (uint64_t)(2 * i), cands[i], 2));
            double cand = cands[i][0] / cands[i][1];
            CHECK(cand >= 0.3 * lr && cand <= 3.0 * lr);
            lr = betas[b] * lr + (1 - betas[b]) * cand;
            CHECK_EQ_DBL(hlrt_lr(t, (uint64_t)(2 * i), 0), lr);
            CHECK_EQ_DBL(hlrt_lr(t, (uint64_t)(2 * i + 1), 0), lr); /* held between updates */
        }
        CHECK_OK(hlr_tuner_free(t));
    }

    /* Absolute clamp after the EMA, and its flags. */
    t = hlrt_create(1);
    set(t, HLR_PARAM_SMOOTHING, 0.5);
    set(t, HLR_PARAM_UPDATE_PERIOD, 1);
    set(t, HLR_PARAM_INITIAL_LR, 0.1);
    set(t, HLR_PARAM_LR_MAX, 0.15);
    set(t, HLR_PARAM_LR_MIN, 0.08);
    const double up[2] = {1.0, 4.0}; /* 0.25: EMA 0.175 > 0.15 */
    CHECK_OK(hlr_tuner_observe_curvature(t, 0, up, 2));
    CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 0.15);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_CLAMPED_MAX);
    const double far_up[2] = {1.0, 1.0}; /* 1.0 > 3*0.15: bounded, then clamped */
    CHECK_OK(hlr_tuner_observe_curvature(t, 1, far_up, 2));
    CHECK_EQ_DBL(hlrt_lr(t, 1, 0), 0.15);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_BOUNDED_HIGH | HLR_FLAG_CLAMPED_MAX);
    const double down[2] = {1.0, 50.0}; /* 0.02 within [0.045, ..]? no: bounded to 0.045; EMA 0.0975 */
    CHECK_OK(hlr_tuner_observe_curvature(t, 2, down, 2));
    CHECK_EQ_DBL(hlrt_lr(t, 2, 0), 0.5 * 0.15 + 0.5 * (0.3 * 0.15));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_BOUNDED_LOW);
    cur = 0.5 * 0.15 + 0.5 * (0.3 * 0.15);
    CHECK_OK(hlr_tuner_observe_curvature(t, 3, down, 2)); /* EMA below 0.08 -> lr_min */
    CHECK(0.5 * cur + 0.5 * (0.3 * cur) < 0.08);
    CHECK_EQ_DBL(hlrt_lr(t, 3, 0), 0.08);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_BOUNDED_LOW | HLR_FLAG_CLAMPED_MIN);
    /* The clamp also applies to rates handed out after the options change, without altering
     * the state: lowering lr_max caps get_lr, raising it again gives the stored rate back. */
    set(t, HLR_PARAM_LR_MIN, 0.0);
    set(t, HLR_PARAM_LR_MAX, 0.05);
    CHECK_EQ_DBL(hlrt_lr(t, 3, 0), 0.05);
    double lrs[1];
    CHECK_OK(hlr_tuner_get_lrs(t, 3, lrs, 1));
    CHECK_EQ_DBL(lrs[0], 0.05);
    set(t, HLR_PARAM_LR_MAX, 1.0);
    CHECK_EQ_DBL(hlrt_lr(t, 3, 0), 0.08);
    CHECK_OK(hlr_tuner_free(t));
}

static void test_degenerate_cases(void) {
    /* Negative and zero curvature: candidate = decay * lr. */
    const double curvatures[] = {-1.0, 0.0, -0.0, -1e300};
    for (int i = 0; i < 4; i++) {
        hlr_tuner *t = hlrt_create(1);
        set(t, HLR_PARAM_UPDATE_PERIOD, 1);
        set(t, HLR_PARAM_INITIAL_LR, 0.2);
        const double obs[2] = {1.0, curvatures[i]};
        CHECK_OK(hlr_tuner_observe_curvature(t, 0, obs, 2));
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 0.9 * 0.2 + (1 - 0.9) * (0.5 * 0.2));
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_NEGATIVE_CURVATURE);
        CHECK(isnan(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0)));
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CURVATURE, 0), curvatures[i]);
        /* A decay below the lower bound: the bound wins. */
        set(t, HLR_PARAM_NEGATIVE_CURVATURE_DECAY, 0.1);
        set(t, HLR_PARAM_SMOOTHING, 0.0);
        double cur = hlrt_lr(t, 0, 0);
        CHECK_OK(hlr_tuner_observe_curvature(t, 1, obs, 2));
        CHECK_EQ_DBL(hlrt_lr(t, 1, 0), 0.3 * cur);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0),
                     HLR_FLAG_NEGATIVE_CURVATURE | HLR_FLAG_BOUNDED_LOW);
        /* decay = 1 keeps the rate. */
        set(t, HLR_PARAM_NEGATIVE_CURVATURE_DECAY, 1.0);
        cur = hlrt_lr(t, 1, 0);
        CHECK_OK(hlr_tuner_observe_curvature(t, 2, obs, 2));
        CHECK_EQ_DBL(hlrt_lr(t, 2, 0), cur);
        CHECK_OK(hlr_tuner_free(t));
    }

    /* Zero gradient: the rate is kept (g'd == 0, whatever the curvature). */
    {
        hlr_tuner *t = hlrt_create(2);
        set(t, HLR_PARAM_UPDATE_PERIOD, 1);
        set(t, HLR_PARAM_INITIAL_LR, 0.2);
        const double zero[4] = {0.0, 5.0, -0.0, -3.0};
        CHECK_OK(hlr_tuner_observe_curvature(t, 0, zero, 4));
        for (size_t k = 0; k < 2; k++) {
            CHECK_EQ_DBL(hlrt_lr(t, 0, k), 0.2);
            CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, k), HLR_FLAG_ZERO_GRADIENT);
            CHECK(isnan(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, k)));
        }
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 1.0);
        /* A kept rate still passes the absolute clamp. */
        set(t, HLR_PARAM_LR_MAX, 0.1);
        CHECK_OK(hlr_tuner_observe_curvature(t, 1, zero, 4));
        CHECK_EQ_DBL(hlrt_lr(t, 1, 0), 0.1);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0),
                     HLR_FLAG_ZERO_GRADIENT | HLR_FLAG_CLAMPED_MAX);
        CHECK_OK(hlr_tuner_free(t));
    }

    /* Not a descent direction (direction update, g'u < 0): kept. */
    {
        hlr_tuner *t = hlrt_create(2);
        set(t, HLR_PARAM_UPDATE_PERIOD, 1);
        set(t, HLR_PARAM_DIRECTION, HLR_DIRECTION_UPDATE);
        set(t, HLR_PARAM_INITIAL_LR, 0.2);
        set(t, HLR_PARAM_SMOOTHING, 0.0);
        const double obs[4] = {-1.0, 5.0, 1.0, 4.0};
        CHECK_OK(hlr_tuner_observe_curvature(t, 0, obs, 4));
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 0.2);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_NOT_DESCENT);
        CHECK(isnan(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0)));
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_SLOPE, 0), -1.0);
        CHECK_EQ_DBL(hlrt_lr(t, 0, 1), 0.25); /* the other group updates normally */
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 1), 0.0);
        /* Negative slope and negative curvature together: still "not descent", kept. */
        const double both[4] = {-2.0, -5.0, 1.0, 4.0};
        CHECK_OK(hlr_tuner_observe_curvature(t, 1, both, 4));
        CHECK_EQ_DBL(hlrt_lr(t, 1, 0), 0.2);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_NOT_DESCENT);
        /* The same negative slope with direction gradient is refused (g'g cannot be < 0). */
        set(t, HLR_PARAM_DIRECTION, HLR_DIRECTION_GRADIENT);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 2, obs, 4), HLR_ERR_INVALID_ARGUMENT);
        CHECK_OK(hlr_tuner_free(t));
    }

    /* Non-finite observations: refused, nothing changes. */
    {
        hlr_tuner *t = hlrt_create(2);
        set(t, HLR_PARAM_UPDATE_PERIOD, 1);
        const double good[4] = {1.0, 100.0, 1.0, 1000.0};
        CHECK_OK(hlr_tuner_observe_curvature(t, 0, good, 4));
        hlrt_check_nonfinite_curvature(t, 1, good);
        int wants = 0;
        CHECK_OK(hlr_tuner_wants_curvature(t, 1, &wants));
        CHECK_EQ_INT(wants, 1);
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 1.0);
        CHECK_OK(hlr_tuner_free(t));
    }

    /* Curvature so small that s/c overflows: +Inf candidate, caught by the upper bound. */
    {
        hlr_tuner *t = hlrt_create(1);
        set(t, HLR_PARAM_UPDATE_PERIOD, 1);
        set(t, HLR_PARAM_INITIAL_LR, 0.01);
        const double obs[2] = {1e300, 1e-300};
        CHECK_OK(hlr_tuner_observe_curvature(t, 0, obs, 2));
        CHECK_EQ_DBL(hlrt_lr(t, 0, 0), 0.9 * 0.01 + (1 - 0.9) * (3.0 * 0.01));
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), HLR_FLAG_BOUNDED_HIGH);
        CHECK(isinf(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0)));
        /* Huge values everywhere: the result stays finite and within [lr_min, lr_max]. */
        set(t, HLR_PARAM_LR_MAX, DBL_MAX);
        set(t, HLR_PARAM_LR_BOUND_HIGH, DBL_MAX);
        set(t, HLR_PARAM_SMOOTHING, 0.0);
        const double extreme[2] = {DBL_MAX, DBL_MIN};
        CHECK_OK(hlr_tuner_observe_curvature(t, 1, extreme, 2));
        double lr = hlrt_lr(t, 1, 0);
        CHECK(isfinite(lr) && lr > 0 && lr <= DBL_MAX);
        CHECK_OK(hlr_tuner_observe_curvature(t, 2, extreme, 2)); /* high*lr overflows now */
        lr = hlrt_lr(t, 2, 0);
        CHECK_EQ_DBL(lr, DBL_MAX);
        CHECK(((unsigned)hlrt_info(t, HLR_INFO_LAST_FLAGS, 0) & HLR_FLAG_CLAMPED_MAX) != 0);
        /* Subnormal slope and curvature are legitimate finite inputs. */
        const double tiny[2] = {4.9406564584124654e-324, 1e-310};
        CHECK_OK(hlr_tuner_observe_curvature(t, 3, tiny, 2));
        lr = hlrt_lr(t, 3, 0);
        CHECK(isfinite(lr) && lr >= 1e-8);
        CHECK_OK(hlr_tuner_free(t));
    }
}

static void test_groups_info_reset(void) {
    hlr_tuner *t = hlrt_create(3);
    /* Per-group initial rates. */
    CHECK_OK(hlr_tuner_set_group_param(t, 0, HLR_PARAM_INITIAL_LR, 0.01));
    CHECK_OK(hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, 0.02));
    CHECK_OK(hlr_tuner_set_group_param(t, 2, HLR_PARAM_INITIAL_LR, 0.04));
    double v = 0;
    CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_INITIAL_LR, &v)); /* group 0's */
    CHECK_EQ_DBL(v, 0.01);
    CHECK_OK(hlr_tuner_get_group_param(t, 2, HLR_PARAM_INITIAL_LR, &v));
    CHECK_EQ_DBL(v, 0.04);
    double lrs[3];
    CHECK_OK(hlr_tuner_get_lrs(t, 0, lrs, 3));
    CHECK_EQ_DBL(lrs[0], 0.01);
    CHECK_EQ_DBL(lrs[1], 0.02);
    CHECK_EQ_DBL(lrs[2], 0.04);
    /* Handle-wide options read the same from every group. */
    set(t, HLR_PARAM_SMOOTHING, 0.0);
    set(t, HLR_PARAM_WARMUP_STEPS, 2);
    set(t, HLR_PARAM_UPDATE_PERIOD, 4);
    for (size_t k = 0; k < 3; k++) {
        CHECK_OK(hlr_tuner_get_group_param(t, k, HLR_PARAM_SMOOTHING, &v));
        CHECK_EQ_DBL(v, 0.0);
    }
    /* Warmup scales each group's own eta0. */
    CHECK_OK(hlr_tuner_get_lrs(t, 0, lrs, 3));
    CHECK_EQ_DBL(lrs[0], 0.005);
    CHECK_EQ_DBL(lrs[1], 0.01);
    CHECK_EQ_DBL(lrs[2], 0.02);

    /* Info before any observation. */
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 0.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_STEP, 0), -1.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), 2.0);
    for (size_t k = 0; k < 3; k++) {
        CHECK(isnan(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, k)));
        CHECK(isnan(hlrt_info(t, HLR_INFO_LAST_CURVATURE, k)));
        CHECK(isnan(hlrt_info(t, HLR_INFO_LAST_SLOPE, k)));
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, k), 0.0);
    }

    /* One observation: each group from its own rate, with its own flags. */
    const double obs[6] = {1.0, 50.0, 0.0, 1.0, 1.0, -2.0};
    CHECK_OK(hlr_tuner_observe_curvature(t, 2, obs, 6));
    CHECK_OK(hlr_tuner_get_lrs(t, 2, lrs, 3));
    CHECK_EQ_DBL(lrs[0], 0.02);             /* 1/50, within [0.003, 0.03] */
    CHECK_EQ_DBL(lrs[1], 0.02);             /* zero gradient: kept */
    CHECK_EQ_DBL(lrs[2], 0.5 * 0.04);       /* negative curvature: decay */
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 0), 0.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 1), HLR_FLAG_ZERO_GRADIENT);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 2), HLR_FLAG_NEGATIVE_CURVATURE);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, 0), 0.02);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_SLOPE, 2), 1.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_CURVATURE, 2), -2.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 1.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_STEP, 0), 2.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), 6.0);
    /* Rates hold between updates; per-group get_lr agrees with get_lrs. */
    for (uint64_t s = 2; s < 6; s++)
        for (size_t k = 0; k < 3; k++) CHECK_EQ_DBL(hlrt_lr(t, s, k), lrs[k]);
    /* Changing eta0 after the first update does not change the current rates. */
    CHECK_OK(hlr_tuner_set_group_param(t, 0, HLR_PARAM_INITIAL_LR, 0.5));
    CHECK_EQ_DBL(hlrt_lr(t, 3, 0), 0.02);

    /* Reset of the state keeps the options. */
    CHECK_OK(hlr_tuner_reset(t, HLR_RESET_STATE));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 0.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_STEP, 0), -1.0);
    CHECK(isnan(hlrt_info(t, HLR_INFO_LAST_SLOPE, 2)));
    CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_SMOOTHING, &v));
    CHECK_EQ_DBL(v, 0.0);
    CHECK_OK(hlr_tuner_get_lrs(t, 10, lrs, 3));
    CHECK_EQ_DBL(lrs[0], 0.5); /* back to the initial rates */
    CHECK_EQ_DBL(lrs[1], 0.02);
    CHECK_EQ_DBL(lrs[2], 0.04);
    int wants = 0;
    CHECK_OK(hlr_tuner_wants_curvature(t, 2, &wants)); /* step 2 may be observed again */
    CHECK_EQ_INT(wants, 1);

    /* Reset of the options keeps the state. */
    CHECK_OK(hlr_tuner_observe_curvature(t, 2, obs, 6));
    CHECK_OK(hlr_tuner_get_lrs(t, 2, lrs, 3));
    CHECK_OK(hlr_tuner_reset(t, HLR_RESET_OPTIONS));
    CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_SMOOTHING, &v));
    CHECK_EQ_DBL(v, 0.9);
    CHECK_OK(hlr_tuner_get_group_param(t, 2, HLR_PARAM_INITIAL_LR, &v));
    CHECK_EQ_DBL(v, 1e-3);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), 1.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_STEP, 0), 2.0);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_LAST_FLAGS, 1), HLR_FLAG_ZERO_GRADIENT);
    double after[3];
    CHECK_OK(hlr_tuner_get_lrs(t, 3, after, 3));
    for (size_t k = 0; k < 3; k++) CHECK_EQ_DBL(after[k], lrs[k]);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_NEXT_CURVATURE_STEP, 0), 10.0); /* W 0, P 10 again */

    /* Reset all: a fresh handle's snapshot. */
    CHECK_OK(hlr_tuner_reset(t, HLR_RESET_ALL));
    hlr_tuner *fresh = hlrt_create(3);
    hlrt_state fresh_state = hlrt_capture(fresh);
    CHECK(hlrt_same_state(t, &fresh_state));
    hlrt_release(&fresh_state);
    CHECK_OK(hlr_tuner_free(fresh));
    CHECK_OK(hlr_tuner_free(t));
}

/* Random observation sequences against the reference model, bit for bit. */
static void test_reference_model(void) {
    int mismatches = 0;
    for (int config = 0; config < 60; config++) {
        rng_state = 0x5eed0000ull + (uint64_t)config;
        size_t groups = 1 + rng_next() % 3;
        ref_tuner r;
        ref_init(&r, groups);
        hlr_tuner *t = hlrt_create(groups);
        const uint64_t warmups[] = {0, 1, 5, 17};
        const uint64_t periods[] = {1, 2, 3, 10};
        const double lows[] = {0.3, 1e-3, 1.0, 0.9};
        const double highs[] = {3.0, 1.0, 100.0, 1.5};
        const double betas[] = {0.9, 0.0, 0.5, 0.99};
        const double mins[] = {1e-8, 0.0, 1e-3, 1e-6};
        const double maxs[] = {1.0, 10.0, 1e300, 0.05};
        const double decays[] = {0.5, 0.1, 1.0, 0.75};
        r.o.warmup = warmups[rng_next() % 4];
        r.o.period = periods[rng_next() % 4];
        r.o.low = lows[rng_next() % 4];
        r.o.high = highs[rng_next() % 4];
        r.o.beta = betas[rng_next() % 4];
        r.o.lr_min = mins[rng_next() % 4];
        r.o.lr_max = maxs[rng_next() % 4];
        r.o.decay = decays[rng_next() % 4];
        r.o.direction = (int)(rng_next() % 2);
        set(t, HLR_PARAM_WARMUP_STEPS, (double)r.o.warmup);
        set(t, HLR_PARAM_UPDATE_PERIOD, (double)r.o.period);
        set(t, HLR_PARAM_LR_BOUND_LOW, r.o.low);
        set(t, HLR_PARAM_LR_BOUND_HIGH, r.o.high);
        set(t, HLR_PARAM_SMOOTHING, r.o.beta);
        set(t, HLR_PARAM_LR_MAX, DBL_MAX);
        set(t, HLR_PARAM_LR_MIN, r.o.lr_min);
        set(t, HLR_PARAM_LR_MAX, r.o.lr_max);
        set(t, HLR_PARAM_NEGATIVE_CURVATURE_DECAY, r.o.decay);
        set(t, HLR_PARAM_DIRECTION, r.o.direction);
        for (size_t k = 0; k < groups; k++) {
            r.o.eta0[k] = rng_log_uniform(1e-5, 2.0);
            CHECK_OK(hlr_tuner_set_group_param(t, k, HLR_PARAM_INITIAL_LR, r.o.eta0[k]));
        }
        for (uint64_t s = 0; s < 400; s++) {
            int wants = -1;
            CHECK_OK(hlr_tuner_wants_curvature(t, s, &wants));
            if (wants != ref_wants(&r, s)) mismatches++;
            if (wants && rng_unit() < 0.85) {
                double values[2 * MAX_GROUPS];
                for (size_t k = 0; k < groups; k++) {
                    double u = rng_unit();
                    double slope = u < 0.08 ? 0.0 : rng_log_uniform(1e-6, 1e6);
                    if (r.o.direction == HLR_DIRECTION_UPDATE && u > 0.9) slope = -slope;
                    double w = rng_unit();
                    double curv = w < 0.06 ? 0.0
                                  : w < 0.14 ? -rng_log_uniform(1e-6, 1e6)
                                  : w < 0.17 ? 1e-300
                                             : slope * rng_log_uniform(1e-1, 1e4) + 1e-3;
                    if (curv > 0 && w >= 0.17 && slope < 0) curv = -slope * 7.0;
                    values[2 * k] = slope;
                    values[2 * k + 1] = curv;
                }
                CHECK_OK(hlr_tuner_observe_curvature(t, s, values, 2 * groups));
                ref_observe(&r, s, values);
                for (size_t k = 0; k < groups; k++) {
                    if (hlrt_info(t, HLR_INFO_LAST_FLAGS, k) != (double)r.flags[k]) mismatches++;
                    if (!same_double(hlrt_info(t, HLR_INFO_LAST_CANDIDATE, k), r.candidate[k])) mismatches++;
                }
            }
            /* Occasionally change an option mid-run, in both. */
            if (rng_unit() < 0.01) {
                r.o.beta = betas[rng_next() % 4];
                set(t, HLR_PARAM_SMOOTHING, r.o.beta);
            }
            double lrs[MAX_GROUPS];
            CHECK_OK(hlr_tuner_get_lrs(t, s, lrs, groups));
            for (size_t k = 0; k < groups; k++) {
                double expected = ref_lr(&r, s, k);
                int ok = (s < r.o.warmup && r.updates == 0) ? close_ulps(lrs[k], expected, 2)
                                                            : same_double(lrs[k], expected);
                if (!ok || !(lrs[k] >= r.o.lr_min && lrs[k] <= r.o.lr_max)) {
                    if (mismatches++ < 5)
                        fprintf(stderr, "    config %d step %llu group %zu: lr %.17g, model %.17g\n",
                                config, (unsigned long long)s, k, lrs[k], expected);
                }
                if (!same_double(hlrt_lr(t, s, k), lrs[k])) mismatches++;
            }
        }
        CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), (double)r.updates);
        CHECK_OK(hlr_tuner_free(t));
    }
    CHECK_EQ_INT(mismatches, 0);
}

int main(void) {
    test_defaults();
    test_schedule();
    test_warmup();
    test_exact_quadratic();
    test_bounds_ema_clamp();
    test_degenerate_cases();
    test_groups_info_reset();
    test_reference_model();
    return CHECK_SUMMARY();
}
