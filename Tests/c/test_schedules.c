/* Schedules through the C ABI: every kind's value at chosen steps against its formula written
 * here (torch.optim.lr_scheduler semantics as documented in Sources/HessianLR/Schedules/Kinds,
 * in the same floating-point operation order, so pure arithmetic is compared bit for bit and
 * formulas with pow/cos within a few ulps of the nominal rate), join and warmup composition,
 * milestones, parameter bounds and defaults, cross-constraints, values up to UINT64_MAX, save/load
 * round trips with every truncation and bit flip refused, and tuners with a base schedule
 * (hlr_tuner_set_schedule): rates scaled by value/nominal, HLR_METHOD_CONSTANT following the
 * schedule, snapshots carrying the schedule, HLR_RESET_OPTIONS detaching it, and schedule and
 * tuner handles never accepted for one another. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { FIRST_KIND = HLR_SCHEDULE_CONSTANT, LAST_LEAF = HLR_SCHEDULE_EXP_HYPERBOLIC, LAST_KEY = 31 };

static const char *const kind_names[] = {
    NULL,       "constant",      "linear",      "step",        "multi_step",
    "exponential", "polynomial", "cosine",      "cosine_warm_restarts", "one_cycle",
    "cyclic",   "warmup_stable_decay", "hyperbolic", "exp_hyperbolic", "join", "warmup",
};

static const char *const key_names[] = {
    NULL,           "base_lr",        "factor",         "total_iters",   "start_factor",
    "end_factor",   "step_size",      "gamma",          "power",         "t_max",
    "eta_min",      "t_0",            "t_mult",         "max_lr",        "total_steps",
    "pct_start",    "anneal_strategy", "div_factor",    "final_div_factor", "three_phase",
    "step_size_up", "step_size_down", "mode",           "warmup_steps",  "stable_steps",
    "decay_steps",  "start_lr",       "final_lr",       "decay_shape",   "max_iter",
    "upper_bound",  "infimum_lr",
};

/* The keys each kind has (the specs in Sources/HessianLR/Schedules/Kinds/). */
static int kind_has_key(int kind, int key) {
    static const int keys[16][9] = {
        [HLR_SCHEDULE_CONSTANT] = {1, 2, 3},
        [HLR_SCHEDULE_LINEAR] = {1, 4, 5, 3},
        [HLR_SCHEDULE_STEP] = {1, 6, 7},
        [HLR_SCHEDULE_MULTI_STEP] = {1, 7},
        [HLR_SCHEDULE_EXPONENTIAL] = {1, 7},
        [HLR_SCHEDULE_POLYNOMIAL] = {1, 3, 8},
        [HLR_SCHEDULE_COSINE] = {1, 9, 10},
        [HLR_SCHEDULE_COSINE_WARM_RESTARTS] = {1, 11, 12, 10},
        [HLR_SCHEDULE_ONE_CYCLE] = {13, 14, 15, 16, 17, 18, 19},
        [HLR_SCHEDULE_CYCLIC] = {1, 13, 20, 21, 22, 7},
        [HLR_SCHEDULE_WARMUP_STABLE_DECAY] = {1, 23, 24, 25, 26, 27, 28},
        [HLR_SCHEDULE_HYPERBOLIC] = {1, 29, 30, 31},
        [HLR_SCHEDULE_EXP_HYPERBOLIC] = {1, 29, 30, 31},
        [HLR_SCHEDULE_JOIN] = {0},
        [HLR_SCHEDULE_WARMUP] = {23, 26},
    };
    if (kind < 1 || kind > 15) return 0;
    for (int i = 0; i < 9 && keys[kind][i] != 0; i++)
        if (keys[kind][i] == key) return 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static hlr_schedule *make(int kind, const int *keys, const double *values, size_t n) {
    hlr_schedule *s = hlrt_schedule(kind);
    if (n > 0) CHECK_OK(hlr_schedule_set_params(s, keys, values, n));
    return s;
}

static double value_at(const hlr_schedule *s, uint64_t step) {
    double v = NAN;
    if (hlr_schedule_value(s, step, &v) != HLR_OK) {
        fprintf(stderr, "hlr_schedule_value(step %llu) failed: %s\n", (unsigned long long)step,
                hlr_last_error());
        atomic_fetch_add(&check_failed_, 1);
    }
    return v;
}

static double nominal_of(const hlr_schedule *s) {
    double v = NAN;
    CHECK_OK(hlr_schedule_nominal(s, &v));
    return v;
}

/* Expected value: bit for bit (exact = 1) or within 1e-14 of the scale (pow/cos formulas). */
static int check_value_(const hlr_schedule *s, uint64_t step, double expected, int exact,
                        double scale, int line) {
    double got = value_at(s, step);
    int ok = exact ? memcmp(&got, &expected, sizeof got) == 0
                   : (got == expected || fabs(got - expected) <= 1e-14 * scale);
    if (!ok) {
        atomic_fetch_add(&check_failed_, 1);
        fprintf(stderr, "%s:%d: FAILED: value at step %llu is %.17g (%a), expected %.17g (%a)%s\n",
                __FILE__, line, (unsigned long long)step, got, got, expected, expected,
                exact ? " bit for bit" : "");
        return 0;
    }
    atomic_fetch_add(&check_passed_, 1);
    return 1;
}
#define CHECK_VALUE(s, step, expected) check_value_((s), (step), (expected), 1, 0.0, __LINE__)
#define CHECK_VALUE_NEAR(s, step, expected, scale) \
    check_value_((s), (step), (expected), 0, (scale), __LINE__)

/* Steps to probe every formula at: the start, around every boundary parameter, far away. */
static const uint64_t probe_steps[] = {0,    1,    2,    3,    4,    5,    6,    7,    9,
                                       10,   11,   15,   19,   20,   21,   29,   30,   31,
                                       49,   50,   51,   99,   100,  101,  149,  150,  199,
                                       200,  201,  299,  300,  301,  999,  1000, 4095, 123456,
                                       (uint64_t)1 << 40, ((uint64_t)1 << 53) + 1, UINT64_MAX - 1,
                                       UINT64_MAX};
enum { PROBES = sizeof probe_steps / sizeof probe_steps[0] };

/* hlr_schedule_values equals hlr_schedule_value step by step, up to step UINT64_MAX; steps past
 * it do not exist and are refused, changing nothing. */
static void check_values_agree(const hlr_schedule *s) {
    const uint64_t starts[] = {0, 95, UINT64_MAX - 7};
    for (int i = 0; i < 3; i++) {
        double values[8];
        CHECK_OK(hlr_schedule_values(s, starts[i], values, 8));
        for (uint64_t j = 0; j < 8; j++) CHECK_EQ_DBL(values[j], value_at(s, starts[i] + j));
    }
    double untouched[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    CHECK_FAILS(hlr_schedule_values(s, UINT64_MAX - 3, untouched, 8), HLR_ERR_INVALID_ARGUMENT);
    for (int j = 0; j < 8; j++) CHECK(untouched[j] == -1);
}

/* ------------------------------------------------------------------------------------------ */
/* Reference formulas (same operation order as the library, torch semantics)                  */
/* ------------------------------------------------------------------------------------------ */

/* x^y with 0^0 = 1 (Python's convention). */
static double py_pow(double x, double y) {
    if (y == 0) return 1;
    if (x == 0) return y > 0 ? 0 : INFINITY;
    return pow(x, y);
}

static double lerp(double a, double b, double u) { return a + (b - a) * u; }

static double cos_anneal(double high, double low, double current, double period) {
    return low + (high - low) * (1 + cos(M_PI * current / period)) / 2;
}

static double ref_constant(double base, double factor, uint64_t total, uint64_t t) {
    return t < total ? base * factor : base;
}

static double ref_linear(double base, double s, double e, uint64_t total, uint64_t t) {
    double done = (double)(t < total ? t : total);
    return base * (s + (e - s) * done / (double)total);
}

static double ref_step(double base, uint64_t size, double gamma, uint64_t t) {
    return base * py_pow(gamma, (double)(t / size));
}

static double ref_multi_step(double base, double gamma, const uint64_t *milestones, size_t n,
                             uint64_t t) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += milestones[i] <= t;
    return base * py_pow(gamma, (double)count);
}

static double ref_exponential(double base, double gamma, uint64_t t) {
    return base * py_pow(gamma, (double)t);
}

static double ref_polynomial(double base, uint64_t total, double power, uint64_t t) {
    double remaining = 1.0 - (double)(t < total ? t : total) / (double)total;
    return base * py_pow(remaining, power);
}

static double ref_cosine(double base, uint64_t t_max, double eta_min, uint64_t t) {
    return cos_anneal(base, eta_min, (double)t, (double)t_max);
}

static double ref_warm_restarts(double base, uint64_t t0, uint64_t mult, double eta_min,
                                uint64_t t) {
    uint64_t current = t;
    double length;
    if (mult == 1) {
        current = t % t0;
        length = (double)t0;
    } else {
        uint64_t len = t0;
        length = (double)len;
        while (current >= len) {
            current -= len;
            if (len > UINT64_MAX / mult) { /* this cycle outlasts every step */
                length = (double)len * (double)mult;
                goto done;
            }
            len *= mult;
        }
        length = (double)len;
    }
done:
    return cos_anneal(base, eta_min, (double)current, length);
}

static double one_cycle_anneal(double start, double end, double fraction, int strategy) {
    if (strategy == HLR_ANNEAL_COS) return end + (start - end) / 2.0 * (cos(M_PI * fraction) + 1);
    return (end - start) * fraction + start;
}

static double ref_one_cycle(double max_lr, uint64_t total, double pct, int strategy, double div,
                            double final_div, int three, uint64_t step) {
    double t = (double)(step < total - 1 ? step : total - 1);
    double initial = max_lr / div;
    double minimum = initial / final_div;
    double last = (double)(total - 1);
    double first_end = pct * (double)total - 1;
    double ends[3], from[3], to[3];
    int phases;
    if (three) {
        phases = 3;
        ends[0] = first_end, from[0] = initial, to[0] = max_lr;
        ends[1] = 2 * pct * (double)total - 2, from[1] = max_lr, to[1] = initial;
        ends[2] = last, from[2] = initial, to[2] = minimum;
    } else {
        phases = 2;
        ends[0] = first_end, from[0] = initial, to[0] = max_lr;
        ends[1] = last, from[1] = max_lr, to[1] = minimum;
    }
    double start = 0.0;
    for (int i = 0; i < phases; i++) {
        if (t <= ends[i] || i == phases - 1) {
            double length = ends[i] - start;
            double fraction = length == 0 ? 1 : (t - start) / length;
            return one_cycle_anneal(from[i], to[i], fraction, strategy);
        }
        start = ends[i];
    }
    return minimum;
}

static double ref_cyclic(double base, double max_lr, double up, double down_param, int mode,
                         double gamma, uint64_t step) {
    double down = down_param < 0 ? up : down_param;
    double total = up + down;
    double ratio = up / total;
    double t = (double)step;
    double cycle = floor(1 + t / total);
    double x = 1.0 + t / total - cycle;
    double shape = x <= ratio ? x / ratio : (x - 1) / (ratio - 1);
    double height = (max_lr - base) * shape;
    double scale = mode == HLR_CYCLIC_TRIANGULAR    ? 1
                   : mode == HLR_CYCLIC_TRIANGULAR2 ? 1 / py_pow(2.0, cycle - 1)
                                                    : py_pow(gamma, t);
    return base + height * scale;
}

static double ref_wsd(double peak, uint64_t warmup, uint64_t stable, uint64_t decay, double start,
                      double final, int shape, uint64_t step) {
    if (step < warmup) return lerp(start, peak, (double)step / (double)warmup);
    uint64_t after = step - warmup;
    if (after < stable) return peak;
    uint64_t into = after - stable;
    if (into >= decay) return final;
    double u = (double)into / (double)decay;
    switch (shape) {
    case HLR_DECAY_LINEAR: return lerp(peak, final, u);
    case HLR_DECAY_COSINE: return final + (peak - final) * (1 + cos(M_PI * u)) / 2;
    default: return final + (peak - final) * (1 - sqrt(u));
    }
}

static double hyper_h(double x, double n, double u) {
    double v = (n - x) / u * (2 - (n + x) / u);
    return sqrt(v > 0 ? v : 0);
}

static double ref_hyperbolic(double base, uint64_t max_iter, double upper, double infimum,
                             int exponential, uint64_t step) {
    double n = (double)max_iter;
    double x = (double)(step < max_iter ? step : max_iter);
    double e = hyper_h(x, n, upper) - sqrt(n / upper * (2 - n / upper));
    if (exponential) return base * py_pow(base / infimum, e);
    return base + (base - infimum) * e;
}

/* A reference formula on one test case's parameters p, in the order of that kind's keys below
 * (counts and enum ids are held as doubles there). */
typedef double (*formula_fn)(const double *p, uint64_t step);

static double linear_formula(const double *p, uint64_t t) {
    return ref_linear(p[0], p[1], p[2], (uint64_t)p[3], t);
}
static double step_formula(const double *p, uint64_t t) {
    return ref_step(p[0], (uint64_t)p[1], p[2], t);
}
static double exponential_formula(const double *p, uint64_t t) {
    return ref_exponential(p[0], p[1], t);
}
static double polynomial_formula(const double *p, uint64_t t) {
    return ref_polynomial(p[0], (uint64_t)p[1], p[2], t);
}
static double warm_restarts_formula(const double *p, uint64_t t) {
    return ref_warm_restarts(p[0], (uint64_t)p[1], (uint64_t)p[2], p[3], t);
}
static double one_cycle_formula(const double *p, uint64_t t) {
    return ref_one_cycle(p[0], (uint64_t)p[1], p[2], (int)p[3], p[4], p[5], (int)p[6], t);
}
static double wsd_formula(const double *p, uint64_t t) {
    return ref_wsd(p[0], (uint64_t)p[1], (uint64_t)p[2], (uint64_t)p[3], p[4], p[5], (int)p[6], t);
}

/* One case of a kind: the schedule with keys[i] = p[i] (i < n), at every probe step, against
 * formula(p, step): bit for bit where `exact`, else within 1e-14 of `scale`. Returns the schedule
 * for the case's own checks; the caller frees it. */
static hlr_schedule *check_formula(int kind, const int *keys, const double *p, size_t n, formula_fn formula,
                                   int exact, double scale) {
    hlr_schedule *s = make(kind, keys, p, n);
    for (int i = 0; i < PROBES; i++)
        check_value_(s, probe_steps[i], formula(p, probe_steps[i]), exact, scale, __LINE__);
    return s;
}

/* ------------------------------------------------------------------------------------------ */
/* 1. Every kind against its formula                                                          */
/* ------------------------------------------------------------------------------------------ */

static void test_leaf_formulas(void) {
    /* ConstantLR: torch's defaults factor 1/3, total_iters 5. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_FACTOR, HLR_SCHED_PARAM_TOTAL_ITERS};
        const double v[] = {0.1, 1.0 / 3.0, 5};
        hlr_schedule *s = make(HLR_SCHEDULE_CONSTANT, k, v, 3);
        for (int i = 0; i < PROBES; i++)
            CHECK_VALUE(s, probe_steps[i], ref_constant(0.1, 1.0 / 3.0, 5, probe_steps[i]));
        CHECK_VALUE(s, 4, 0.1 * (1.0 / 3.0));
        CHECK_VALUE(s, 5, 0.1);
        CHECK_EQ_DBL(nominal_of(s), 0.1);
        check_values_agree(s);
        hlr_schedule_free(s);
        /* Defaults: a plain constant 1e-3. */
        s = hlrt_schedule(HLR_SCHEDULE_CONSTANT);
        CHECK_VALUE(s, 0, 1e-3);
        CHECK_VALUE(s, UINT64_MAX, 1e-3);
        hlr_schedule_free(s);
    }
    /* LinearLR. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_START_FACTOR,
                         HLR_SCHED_PARAM_END_FACTOR, HLR_SCHED_PARAM_TOTAL_ITERS};
        const double params[][4] = {{0.1, 0.25, 1.0, 10}, {2.0, 1.0, 0.0, 7}, {0.05, 1.0 / 3, 1, 5}};
        for (int c = 0; c < 3; c++) {
            hlr_schedule *s = check_formula(HLR_SCHEDULE_LINEAR, k, params[c], 4, linear_formula, 1, 0.0);
            CHECK_EQ_DBL(nominal_of(s), params[c][0]);
            check_values_agree(s);
            hlr_schedule_free(s);
        }
    }
    /* StepLR. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_STEP_SIZE, HLR_SCHED_PARAM_GAMMA};
        const double params[][3] = {{0.1, 30, 0.1}, {1.0, 1, 0.5}, {0.3, 7, 0.0}, {0.3, 7, 1.0}};
        for (int c = 0; c < 4; c++)
            hlr_schedule_free(check_formula(HLR_SCHEDULE_STEP, k, params[c], 3, step_formula, 0, params[c][0]));
        hlr_schedule *s = make(HLR_SCHEDULE_STEP, k, params[0], 3);
        CHECK_VALUE(s, 29, 0.1);
        CHECK_VALUE(s, 30, 0.1 * 0.1);
        CHECK_VALUE(s, 60, 0.1 * pow(0.1, 2.0));
        hlr_schedule_free(s);
    }
    /* ExponentialLR. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_GAMMA};
        const double params[][2] = {{0.1, 0.96}, {1.0, 0.5}, {0.2, 1.0}, {0.2, 0.0}};
        for (int c = 0; c < 4; c++) {
            hlr_schedule *s =
                check_formula(HLR_SCHEDULE_EXPONENTIAL, k, params[c], 2, exponential_formula, 0, params[c][0]);
            CHECK_VALUE(s, 0, params[c][0]); /* gamma^0 = 1, also 0^0 */
            hlr_schedule_free(s);
        }
    }
    /* PolynomialLR. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_TOTAL_ITERS, HLR_SCHED_PARAM_POWER};
        const double params[][3] = {{0.1, 5, 1.0}, {0.1, 100, 2.0}, {1.0, 30, 0.5}, {1.0, 10, 0.0}};
        for (int c = 0; c < 4; c++) {
            hlr_schedule *s =
                check_formula(HLR_SCHEDULE_POLYNOMIAL, k, params[c], 3, polynomial_formula, 0, params[c][0]);
            /* At and past total_iters: 0 (power > 0), base (power 0, 0^0 = 1). */
            CHECK_VALUE(s, (uint64_t)params[c][1], params[c][2] == 0 ? params[c][0] : 0.0);
            CHECK_VALUE(s, UINT64_MAX, params[c][2] == 0 ? params[c][0] : 0.0);
            hlr_schedule_free(s);
        }
    }
    /* CosineAnnealingLR: keeps oscillating past T_max (period 2 T_max), as torch. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_T_MAX, HLR_SCHED_PARAM_ETA_MIN};
        const double params[][3] = {{0.1, 100, 0.0}, {0.1, 10, 0.01}, {0.01, 50, 0.1}};
        for (int c = 0; c < 3; c++) {
            hlr_schedule *s = make(HLR_SCHEDULE_COSINE, k, params[c], 3);
            double scale = fmax(params[c][0], params[c][2]);
            for (int i = 0; i < PROBES; i++) {
                double got = value_at(s, probe_steps[i]);
                CHECK(isfinite(got) && got >= fmin(params[c][0], params[c][2]) - 1e-15 &&
                      got <= scale + 1e-15);
                if (probe_steps[i] < ((uint64_t)1 << 40))
                    CHECK_VALUE_NEAR(s, probe_steps[i],
                                     ref_cosine(params[c][0], (uint64_t)params[c][1], params[c][2],
                                                probe_steps[i]),
                                     scale);
            }
            uint64_t tmax = (uint64_t)params[c][1];
            CHECK_VALUE_NEAR(s, 0, params[c][0], scale);
            CHECK_VALUE_NEAR(s, tmax, params[c][2], scale);
            CHECK_VALUE_NEAR(s, 2 * tmax, params[c][0], scale);
            CHECK_EQ_DBL(nominal_of(s), scale);
            hlr_schedule_free(s);
        }
    }
    /* CosineAnnealingWarmRestarts. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_T_0, HLR_SCHED_PARAM_T_MULT,
                         HLR_SCHED_PARAM_ETA_MIN};
        const double params[][4] = {{0.1, 10, 1, 0.0}, {0.1, 10, 2, 0.001}, {0.5, 1, 3, 0.0},
                                    {0.1, 9007199254740992.0, 9007199254740992.0, 0.0}};
        for (int c = 0; c < 4; c++) {
            hlr_schedule *s = check_formula(HLR_SCHEDULE_COSINE_WARM_RESTARTS, k, params[c], 4,
                                            warm_restarts_formula, 0, params[c][0]);
            check_values_agree(s);
            hlr_schedule_free(s);
        }
        /* Restarts: T_0 = 10, T_mult = 2 restarts at 10, 30, 70. */
        hlr_schedule *s = make(HLR_SCHEDULE_COSINE_WARM_RESTARTS, k, params[1], 4);
        CHECK_VALUE(s, 10, 0.1);
        CHECK_VALUE(s, 30, 0.1);
        CHECK_VALUE(s, 70, 0.1);
        CHECK(value_at(s, 29) < value_at(s, 30));
        hlr_schedule_free(s);
    }
    /* OneCycleLR: two and three phases, cos and linear annealing, then held at step T-1. */
    {
        const int k[] = {HLR_SCHED_PARAM_MAX_LR,          HLR_SCHED_PARAM_TOTAL_STEPS,
                         HLR_SCHED_PARAM_PCT_START,       HLR_SCHED_PARAM_ANNEAL_STRATEGY,
                         HLR_SCHED_PARAM_DIV_FACTOR,      HLR_SCHED_PARAM_FINAL_DIV_FACTOR,
                         HLR_SCHED_PARAM_THREE_PHASE};
        const double params[][7] = {
            {0.1, 100, 0.3, HLR_ANNEAL_COS, 25, 1e4, 0},    {0.1, 100, 0.3, HLR_ANNEAL_LINEAR, 25, 1e4, 0},
            {1.0, 1000, 0.25, HLR_ANNEAL_COS, 10, 100, 1},  {1.0, 37, 0.4, HLR_ANNEAL_LINEAR, 5, 3, 1},
            {0.5, 10, 0.1, HLR_ANNEAL_COS, 25, 1e4, 0},     /* pct*T = 1: zero-length first phase */
            {0.5, 1, 0.3, HLR_ANNEAL_COS, 25, 1e4, 0},      /* T = 1 */
        };
        for (int c = 0; c < 6; c++) {
            /* Linear annealing is arithmetic (bit for bit), cos is not. */
            hlr_schedule *s = check_formula(HLR_SCHEDULE_ONE_CYCLE, k, params[c], 7, one_cycle_formula,
                                            params[c][3] == HLR_ANNEAL_LINEAR, params[c][0]);
            double initial = params[c][0] / params[c][4];
            CHECK_EQ_DBL(nominal_of(s), fmax(params[c][0], fmax(initial, initial / params[c][5])));
            hlr_schedule_free(s);
        }
        hlr_schedule *s = make(HLR_SCHEDULE_ONE_CYCLE, k, params[0], 7);
        CHECK_VALUE_NEAR(s, 0, 0.1 / 25, 0.1);       /* max_lr / div_factor */
        CHECK_VALUE_NEAR(s, 29, 0.1, 0.1);           /* the peak at pct*T - 1 */
        CHECK_VALUE_NEAR(s, 99, 0.1 / 25 / 1e4, 0.1); /* the floor at T - 1, held after */
        CHECK_EQ_DBL(value_at(s, 100), value_at(s, 99));
        CHECK_EQ_DBL(value_at(s, UINT64_MAX), value_at(s, 99));
        hlr_schedule_free(s);
    }
    /* CyclicLR: triangular, triangular2, exp_range; step_size_down -1 (torch's None) and 0. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_MAX_LR, HLR_SCHED_PARAM_STEP_SIZE_UP,
                         HLR_SCHED_PARAM_STEP_SIZE_DOWN, HLR_SCHED_PARAM_MODE, HLR_SCHED_PARAM_GAMMA};
        const double params[][6] = {
            {0.001, 0.01, 10, -1, HLR_CYCLIC_TRIANGULAR, 1.0},
            {0.001, 0.01, 4, 6, HLR_CYCLIC_TRIANGULAR2, 1.0},
            {0.001, 0.01, 5, -1, HLR_CYCLIC_EXP_RANGE, 0.99},
            {0.01, 0.001, 3, 0, HLR_CYCLIC_TRIANGULAR, 1.0}, /* inverted, no decreasing half */
        };
        for (int c = 0; c < 4; c++) {
            hlr_schedule *s = make(HLR_SCHEDULE_CYCLIC, k, params[c], 6);
            for (int i = 0; i < PROBES; i++) {
                double expected = ref_cyclic(params[c][0], params[c][1], params[c][2], params[c][3],
                                             (int)params[c][4], params[c][5], probe_steps[i]);
                double got = value_at(s, probe_steps[i]);
                CHECK(isfinite(got));
                if (params[c][4] == HLR_CYCLIC_TRIANGULAR) CHECK_VALUE(s, probe_steps[i], expected);
                else CHECK_VALUE_NEAR(s, probe_steps[i], expected, 0.01);
            }
            CHECK_EQ_DBL(nominal_of(s), fmax(params[c][0], params[c][1]));
            hlr_schedule_free(s);
        }
        hlr_schedule *s = make(HLR_SCHEDULE_CYCLIC, k, params[0], 6);
        CHECK_VALUE(s, 0, 0.001);
        CHECK_VALUE_NEAR(s, 10, 0.01, 0.01); /* the peak */
        CHECK_VALUE(s, 20, 0.001);
        hlr_schedule_free(s);
    }
    /* Warmup-stable-decay, every decay shape, and zero-length phases. */
    {
        const int k[] = {HLR_SCHED_PARAM_BASE_LR,     HLR_SCHED_PARAM_WARMUP_STEPS,
                         HLR_SCHED_PARAM_STABLE_STEPS, HLR_SCHED_PARAM_DECAY_STEPS,
                         HLR_SCHED_PARAM_START_LR,     HLR_SCHED_PARAM_FINAL_LR,
                         HLR_SCHED_PARAM_DECAY_SHAPE};
        const double params[][7] = {
            {0.1, 10, 20, 30, 0.0, 0.001, HLR_DECAY_LINEAR},
            {0.1, 10, 20, 30, 0.01, 0.0, HLR_DECAY_COSINE},
            {0.1, 10, 20, 30, 0.0, 0.0, HLR_DECAY_ONE_MINUS_SQRT},
            {0.1, 0, 0, 7, 0.0, 0.05, HLR_DECAY_LINEAR},
            {0.1, 5, 0, 0, 0.2, 0.05, HLR_DECAY_COSINE},
        };
        for (int c = 0; c < 5; c++) {
            /* A linear decay is arithmetic (bit for bit), cosine and 1 - sqrt are not. */
            hlr_schedule *s = check_formula(HLR_SCHEDULE_WARMUP_STABLE_DECAY, k, params[c], 7, wsd_formula,
                                            params[c][6] == HLR_DECAY_LINEAR, 0.2);
            CHECK_EQ_DBL(nominal_of(s), fmax(params[c][4], fmax(params[c][0], params[c][5])));
            hlr_schedule_free(s);
        }
        hlr_schedule *s = make(HLR_SCHEDULE_WARMUP_STABLE_DECAY, k, params[0], 7);
        CHECK_VALUE(s, 0, 0.0);
        CHECK_VALUE(s, 10, 0.1);
        CHECK_VALUE(s, 29, 0.1);
        CHECK_VALUE(s, 30, 0.1);
        CHECK_VALUE(s, 60, 0.001);
        CHECK(value_at(s, 31) < 0.1 && value_at(s, 59) > 0.001);
        hlr_schedule_free(s);
    }
    /* HyperbolicLR and ExpHyperbolicLR. */
    for (int exponential = 0; exponential <= 1; exponential++) {
        int kind = exponential ? HLR_SCHEDULE_EXP_HYPERBOLIC : HLR_SCHEDULE_HYPERBOLIC;
        const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_MAX_ITER,
                         HLR_SCHED_PARAM_UPPER_BOUND, HLR_SCHED_PARAM_INFIMUM_LR};
        const double params[][4] = {{1e-3, 100, 250, 1e-6}, {0.1, 1000, 1000, 1e-4},
                                    {0.5, 1, 1.5, 0.25}, {1e-2, 300, 1e6, 1e-5}};
        for (int c = 0; c < 4; c++) {
            hlr_schedule *s = make(kind, k, params[c], 4);
            double prev = INFINITY;
            for (int i = 0; i < PROBES; i++) {
                double expected = ref_hyperbolic(params[c][0], (uint64_t)params[c][1], params[c][2],
                                                 params[c][3], exponential, probe_steps[i]);
                if (exponential) CHECK_VALUE_NEAR(s, probe_steps[i], expected, params[c][0]);
                else CHECK_VALUE(s, probe_steps[i], expected);
                double got = value_at(s, probe_steps[i]);
                CHECK(got <= prev); /* non-increasing, held after max_iter */
                prev = got;
            }
            CHECK_VALUE(s, 0, params[c][0]);
            CHECK_EQ_DBL(value_at(s, UINT64_MAX), value_at(s, (uint64_t)params[c][1]));
            CHECK_EQ_DBL(nominal_of(s), params[c][0]);
            hlr_schedule_free(s);
        }
        /* N = U: the straight line eta0 - (eta0 - eta_inf) x / U (hyperbolic) reaches eta_inf. */
        if (!exponential) {
            hlr_schedule *s = make(kind, k, params[1], 4);
            CHECK_NEAR(value_at(s, 1000), 1e-4, 1e-12);
            CHECK_NEAR(value_at(s, 500), 0.1 - (0.1 - 1e-4) * 0.5, 1e-6);
            hlr_schedule_free(s);
        }
    }
}

static void test_milestones(void) {
    hlr_schedule *s = hlrt_schedule(HLR_SCHEDULE_MULTI_STEP);
    const int k[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_GAMMA};
    const double v[] = {0.1, 0.5};
    CHECK_OK(hlr_schedule_set_params(s, k, v, 2));
    /* No milestones: constant base_lr. */
    CHECK_VALUE(s, 0, 0.1);
    CHECK_VALUE(s, UINT64_MAX, 0.1);
    /* Any order, repeats counted (torch's Counter), milestone 0 applies at step 0, UINT64_MAX. */
    const uint64_t milestones[] = {30, 10, 80, 30, 0, UINT64_MAX};
    CHECK_OK(hlr_schedule_set_milestones(s, milestones, 6));
    for (int i = 0; i < PROBES; i++)
        CHECK_VALUE_NEAR(s, probe_steps[i], ref_multi_step(0.1, 0.5, milestones, 6, probe_steps[i]),
                         0.1);
    CHECK_VALUE(s, 0, 0.1 * 0.5);
    CHECK_VALUE(s, 9, 0.1 * 0.5);
    CHECK_VALUE(s, 10, 0.1 * 0.25);
    CHECK_VALUE(s, 30, 0.1 * pow(0.5, 4.0));
    CHECK_VALUE(s, UINT64_MAX, 0.1 * pow(0.5, 6.0));
    check_values_agree(s);
    /* The largest list, and one more refused (unchanged). */
    uint64_t *many = malloc(4097 * sizeof *many);
    for (int i = 0; i < 4097; i++) many[i] = (uint64_t)(4096 - i);
    CHECK_OK(hlr_schedule_set_milestones(s, many, 4096));
    CHECK_VALUE_NEAR(s, 100, 0.1 * pow(0.5, 100.0), 0.1);
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_milestones(s, many, 4097),
                                   HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("4097");
    free(many);
    /* n = 0 clears them (NULL allowed then); NULL with n > 0 refused. */
    CHECK_OK(hlr_schedule_set_milestones(s, NULL, 0));
    CHECK_VALUE(s, 1000, 0.1);
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_milestones(s, NULL, 3), HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("milestones");
    hlr_schedule_free(s);
    /* Other kinds have no milestones. */
    for (int kind = FIRST_KIND; kind <= LAST_LEAF; kind++) {
        if (kind == HLR_SCHEDULE_MULTI_STEP) continue;
        hlr_schedule *other = hlrt_schedule(kind);
        CHECK_FAILS_SCHEDULE_UNCHANGED(other, hlr_schedule_set_milestones(other, milestones, 2),
                                       HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS(kind_names[kind]);
        hlr_schedule_free(other);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 2. Composition                                                                             */
/* ------------------------------------------------------------------------------------------ */

static void test_join_and_warmup(void) {
    const int ck[] = {HLR_SCHED_PARAM_BASE_LR};
    const double c1[] = {0.01}, c2[] = {0.1};
    hlr_schedule *a = make(HLR_SCHEDULE_CONSTANT, ck, c1, 1);
    const int ek[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_GAMMA};
    const double ev[] = {0.1, 0.9};
    hlr_schedule *b = make(HLR_SCHEDULE_EXPONENTIAL, ek, ev, 2);
    hlr_schedule *c = make(HLR_SCHEDULE_CONSTANT, ck, c2, 1);
    const hlr_schedule *pieces[3] = {a, b, c};
    const uint64_t bounds[2] = {10, 25};
    hlr_schedule *j = NULL;
    CHECK_OK(hlr_schedule_join(pieces, 3, bounds, 2, &j));
    int kind = 0;
    CHECK_OK(hlr_schedule_kind(j, &kind));
    CHECK_EQ_INT(kind, HLR_SCHEDULE_JOIN);
    /* Each piece counts its steps from its own boundary (optax join_schedules). */
    for (uint64_t t = 0; t < 40; t++) {
        double expected = t < 10 ? value_at(a, t) : t < 25 ? value_at(b, t - 10) : value_at(c, t - 25);
        CHECK_VALUE(j, t, expected);
    }
    CHECK_VALUE(j, 10, 0.1);
    CHECK_VALUE(j, UINT64_MAX, 0.1);
    CHECK_EQ_DBL(nominal_of(j), 0.1);
    check_values_agree(j);
    /* The pieces were copied: changing or freeing them changes nothing. */
    hlrt_state before = hlrt_capture_schedule(j);
    CHECK_OK(hlr_schedule_set_param(a, HLR_SCHED_PARAM_BASE_LR, 0.5));
    hlr_schedule_free(c);
    CHECK(hlrt_same_schedule(j, &before));
    CHECK_VALUE(j, 0, 0.01);
    hlrt_release(&before);
    /* A join has no parameters of its own. */
    double value = 0;
    for (int key = 1; key <= LAST_KEY; key++)
        CHECK_FAILS_SCHEDULE_UNCHANGED(j, hlr_schedule_get_param(j, key, &value), HLR_ERR_UNKNOWN_KEY);
    /* A first boundary 0 leaves the first piece unused; one piece needs no boundary. */
    const uint64_t zero_first[1] = {0};
    hlr_schedule *j2 = NULL;
    CHECK_OK(hlr_schedule_join(pieces, 2, zero_first, 1, &j2));
    CHECK_VALUE(j2, 0, 0.1);
    CHECK_VALUE(j2, 3, value_at(b, 3));
    hlr_schedule_free(j2);
    CHECK_OK(hlr_schedule_join(pieces, 1, NULL, 0, &j2));
    CHECK_VALUE(j2, 12345, value_at(a, 12345));
    hlr_schedule_free(j2);

    /* Warmup: linear from start_lr to child(0) over W steps, then child(t - W). */
    const int ck2[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_T_MAX, HLR_SCHED_PARAM_ETA_MIN};
    const double cv2[] = {0.2, 50, 0.002};
    hlr_schedule *cosine = make(HLR_SCHEDULE_COSINE, ck2, cv2, 3);
    hlr_schedule *w = NULL;
    CHECK_OK(hlr_schedule_warmup(cosine, 8, 0.01, &w));
    CHECK_OK(hlr_schedule_kind(w, &kind));
    CHECK_EQ_INT(kind, HLR_SCHEDULE_WARMUP);
    for (uint64_t t = 0; t < 100; t++) {
        double expected = t < 8 ? lerp(0.01, value_at(cosine, 0), (double)t / 8.0)
                                : value_at(cosine, t - 8);
        CHECK_VALUE(w, t, expected);
    }
    CHECK_EQ_DBL(nominal_of(w), 0.2);
    double param = 0;
    CHECK_OK(hlr_schedule_get_param(w, HLR_SCHED_PARAM_WARMUP_STEPS, &param));
    CHECK_EQ_DBL(param, 8.0);
    CHECK_OK(hlr_schedule_get_param(w, HLR_SCHED_PARAM_START_LR, &param));
    CHECK_EQ_DBL(param, 0.01);
    /* Its parameters can be changed afterwards. */
    CHECK_OK(hlr_schedule_set_param(w, HLR_SCHED_PARAM_WARMUP_STEPS, 4));
    CHECK_VALUE(w, 4, value_at(cosine, 0));
    CHECK_VALUE(w, 2, lerp(0.01, value_at(cosine, 0), 2.0 / 4.0));
    /* start_lr above the child: the nominal follows it. */
    CHECK_OK(hlr_schedule_set_param(w, HLR_SCHED_PARAM_START_LR, 0.5));
    CHECK_EQ_DBL(nominal_of(w), 0.5);
    /* W = 0 is the child itself. */
    hlr_schedule *w0 = NULL;
    CHECK_OK(hlr_schedule_warmup(cosine, 0, 0.0, &w0));
    for (int i = 0; i < PROBES; i++) CHECK_VALUE(w0, probe_steps[i], value_at(cosine, probe_steps[i]));
    hlr_schedule_free(w0);
    /* The reference HyperbolicLR warmup: warmup(hyperbolic(max_iter - W), W, infimum_lr). */
    const int hk[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_MAX_ITER, HLR_SCHED_PARAM_UPPER_BOUND,
                      HLR_SCHED_PARAM_INFIMUM_LR};
    const double hv[] = {0.01, 90, 200, 1e-5};
    hlr_schedule *hyper = make(HLR_SCHEDULE_HYPERBOLIC, hk, hv, 4);
    hlr_schedule *hw = NULL;
    CHECK_OK(hlr_schedule_warmup(hyper, 10, 1e-5, &hw));
    CHECK_VALUE(hw, 0, 1e-5);
    CHECK_VALUE(hw, 10, 0.01);
    CHECK_VALUE(hw, 100, value_at(hyper, 90));

    /* Nesting: a warmup in front of a join of a warmup and a step schedule. */
    const int sk[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_STEP_SIZE, HLR_SCHED_PARAM_GAMMA};
    const double sv[] = {0.05, 5, 0.5};
    hlr_schedule *stp = make(HLR_SCHEDULE_STEP, sk, sv, 3);
    const hlr_schedule *nested_pieces[2] = {hw, stp};
    const uint64_t nb[1] = {50};
    hlr_schedule *nj = NULL, *nw = NULL;
    CHECK_OK(hlr_schedule_join(nested_pieces, 2, nb, 1, &nj));
    CHECK_OK(hlr_schedule_warmup(nj, 3, 0.0, &nw));
    for (uint64_t t = 0; t < 120; t++) {
        double inner = t < 3 ? NAN : (t - 3 < 50 ? value_at(hw, t - 3) : value_at(stp, t - 53));
        double expected = t < 3 ? lerp(0.0, value_at(nj, 0), (double)t / 3.0) : inner;
        CHECK_VALUE(nw, t, expected);
    }
    CHECK_EQ_DBL(nominal_of(nw), 0.05);
    CHECK(isfinite(value_at(nw, UINT64_MAX)));

    /* Depth limit: 16 levels. A chain of warmups: 15 wrappers on a leaf are fine, 16 are not. */
    hlr_schedule *chain = hlrt_schedule(HLR_SCHEDULE_CONSTANT);
    int depth_refused = 0;
    for (int level = 2; level <= 17; level++) {
        hlr_schedule *next = NULL;
        int status = hlr_schedule_warmup(chain, 1, 0.0, &next);
        if (level <= 16) {
            CHECK_EQ_INT(status, HLR_OK);
        } else {
            CHECK_EQ_INT(status, HLR_ERR_INVALID_ARGUMENT);
            CHECK_ERROR_HAS("17");
            CHECK(next == NULL);
            depth_refused = 1;
        }
        if (next != NULL) {
            hlr_schedule_free(chain);
            chain = next;
        }
    }
    CHECK(depth_refused);
    hlr_schedule_free(chain);
    /* Node limit: 256. Joins of 85 leaves: 86 nodes; three of those joined: 259 > 256. */
    hlr_schedule *leaf = hlrt_schedule(HLR_SCHEDULE_CONSTANT);
    const hlr_schedule *leaves[85];
    uint64_t lb[84];
    for (int i = 0; i < 85; i++) leaves[i] = leaf;
    for (int i = 0; i < 84; i++) lb[i] = (uint64_t)(i + 1);
    hlr_schedule *big = NULL;
    CHECK_OK(hlr_schedule_join(leaves, 85, lb, 84, &big));
    const hlr_schedule *bigs[3] = {big, big, big};
    const uint64_t b3[2] = {100, 200};
    hlr_schedule *too_big = (hlr_schedule *)(uintptr_t)0x1;
    CHECK_FAILS(hlr_schedule_join(bigs, 3, b3, 2, &too_big), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("259");
    CHECK(too_big == NULL);
    CHECK_OK(hlr_schedule_join(bigs, 2, b3, 1, &too_big)); /* 173 nodes */
    hlr_schedule_free(too_big);
    hlr_schedule_free(big);
    hlr_schedule_free(leaf);

    hlr_schedule_free(a);
    hlr_schedule_free(b);
    hlr_schedule_free(j);
    hlr_schedule_free(cosine);
    hlr_schedule_free(w);
    hlr_schedule_free(hyper);
    hlr_schedule_free(hw);
    hlr_schedule_free(stp);
    hlr_schedule_free(nj);
    hlr_schedule_free(nw);
}

/* ------------------------------------------------------------------------------------------ */
/* 3. Bounds, defaults, cross-constraints, extreme steps                                      */
/* ------------------------------------------------------------------------------------------ */

static void test_bounds_and_defaults(void) {
    for (int kind = FIRST_KIND; kind <= HLR_SCHEDULE_WARMUP; kind++) {
        int leaf = kind <= LAST_LEAF;
        hlr_schedule *s = NULL;
        if (leaf) {
            s = hlrt_schedule(kind);
        } else {
            hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
            CHECK_FAILS(hlr_schedule_create(kind, &out), HLR_ERR_INVALID_ARGUMENT);
            CHECK_ERROR_HAS(kind_names[kind]);
            CHECK(out == NULL);
        }
        for (int key = 0; key <= LAST_KEY + 2; key++) {
            double lo = 7, hi = 7, def = 7;
            int has = key >= 1 && key <= LAST_KEY && kind_has_key(kind, key);
            int status = hlr_schedule_param_bounds(kind, key, &lo, &hi, &def);
            if (!has) {
                CHECK_EQ_INT(status, HLR_ERR_UNKNOWN_KEY);
                CHECK(lo == 7 && hi == 7 && def == 7);
                if (s != NULL) {
                    double got = 3.5;
                    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_param(s, key, 1.0),
                                                   HLR_ERR_UNKNOWN_KEY);
                    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_get_param(s, key, &got),
                                                   HLR_ERR_UNKNOWN_KEY);
                    CHECK(got == 3.5);
                }
                continue;
            }
            CHECK_EQ_INT(status, HLR_OK);
            CHECK(lo <= def && def <= hi);
            CHECK(isfinite(lo) && isfinite(hi) && isfinite(def));
            if (s == NULL) continue;
            double got = NAN;
            CHECK_OK(hlr_schedule_get_param(s, key, &got));
            CHECK_EQ_DBL(got, def);
            CHECK_OK(hlr_schedule_set_param(s, key, def));
            /* Outside the range, NaN, +-Inf: refused naming kind, key and value. */
            const double outside[] = {nextafter(lo, -INFINITY), lo - 1.0, -DBL_MAX, NAN, INFINITY,
                                      -INFINITY, nextafter(hi, INFINITY), hi + 1.0};
            for (int i = 0; i < 8; i++) {
                double x = outside[i];
                if (x >= lo && x <= hi) continue; /* e.g. hi + 1 == hi for huge hi */
                CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_param(s, key, x),
                                               HLR_ERR_INVALID_ARGUMENT);
                CHECK_ERROR_HAS(key_names[key]);
                CHECK_ERROR_HAS(kind_names[kind]);
            }
        }
        if (s != NULL) {
            int got_kind = 0;
            CHECK_OK(hlr_schedule_kind(s, &got_kind));
            CHECK_EQ_INT(got_kind, kind);
            /* Defaults evaluate finite everywhere. */
            for (int i = 0; i < PROBES; i++) {
                double v = value_at(s, probe_steps[i]);
                CHECK(isfinite(v) && v >= 0);
            }
            hlr_schedule_free(s);
        }
    }
    /* Integral parameters reject fractions. */
    hlr_schedule *s = hlrt_schedule(HLR_SCHEDULE_STEP);
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_param(s, HLR_SCHED_PARAM_STEP_SIZE, 2.5),
                                   HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("integer");
    CHECK_ERROR_HAS("2.5");
    hlr_schedule_free(s);
    /* Documented defaults (torch's where torch has one). */
    const struct {
        int kind, key;
        double value;
    } defaults[] = {
        {HLR_SCHEDULE_CONSTANT, HLR_SCHED_PARAM_FACTOR, 1.0},
        {HLR_SCHEDULE_CONSTANT, HLR_SCHED_PARAM_TOTAL_ITERS, 0.0},
        {HLR_SCHEDULE_LINEAR, HLR_SCHED_PARAM_START_FACTOR, 1.0 / 3},
        {HLR_SCHEDULE_LINEAR, HLR_SCHED_PARAM_TOTAL_ITERS, 5.0},
        {HLR_SCHEDULE_STEP, HLR_SCHED_PARAM_GAMMA, 0.1},
        {HLR_SCHEDULE_EXPONENTIAL, HLR_SCHED_PARAM_GAMMA, 0.96},
        {HLR_SCHEDULE_MULTI_STEP, HLR_SCHED_PARAM_GAMMA, 0.1},
        {HLR_SCHEDULE_COSINE_WARM_RESTARTS, HLR_SCHED_PARAM_T_MULT, 1.0},
        {HLR_SCHEDULE_ONE_CYCLE, HLR_SCHED_PARAM_PCT_START, 0.3},
        {HLR_SCHEDULE_ONE_CYCLE, HLR_SCHED_PARAM_DIV_FACTOR, 25.0},
        {HLR_SCHEDULE_ONE_CYCLE, HLR_SCHED_PARAM_FINAL_DIV_FACTOR, 1e4},
        {HLR_SCHEDULE_ONE_CYCLE, HLR_SCHED_PARAM_ANNEAL_STRATEGY, HLR_ANNEAL_COS},
        {HLR_SCHEDULE_CYCLIC, HLR_SCHED_PARAM_STEP_SIZE_UP, 2000.0},
        {HLR_SCHEDULE_CYCLIC, HLR_SCHED_PARAM_STEP_SIZE_DOWN, -1.0},
        {HLR_SCHEDULE_CYCLIC, HLR_SCHED_PARAM_MODE, HLR_CYCLIC_TRIANGULAR},
        {HLR_SCHEDULE_HYPERBOLIC, HLR_SCHED_PARAM_UPPER_BOUND, 250.0},
        {HLR_SCHEDULE_WARMUP, HLR_SCHED_PARAM_WARMUP_STEPS, 0.0},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        double def = NAN;
        CHECK_OK(hlr_schedule_param_bounds(defaults[i].kind, defaults[i].key, NULL, NULL, &def));
        CHECK_EQ_DBL(def, defaults[i].value);
    }
    /* Unknown kinds. */
    const int bad_kinds[] = {0, 16, -1, 1000, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_kinds / sizeof bad_kinds[0]; i++) {
        hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
        CHECK_FAILS(hlr_schedule_create(bad_kinds[i], &out), HLR_ERR_UNKNOWN_METHOD);
        CHECK(out == NULL);
        char text[32];
        snprintf(text, sizeof text, "%d", bad_kinds[i]);
        CHECK_ERROR_HAS(text);
        CHECK_FAILS(hlr_schedule_param_bounds(bad_kinds[i], 1, NULL, NULL, NULL), HLR_ERR_UNKNOWN_METHOD);
    }
}

static void test_cross_constraints(void) {
    /* hyperbolic: upper_bound >= max_iter (defaults 100 and 250); infimum_lr < base_lr. */
    for (int kind = HLR_SCHEDULE_HYPERBOLIC; kind <= HLR_SCHEDULE_EXP_HYPERBOLIC; kind++) {
        hlr_schedule *s = hlrt_schedule(kind);
        CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_param(s, HLR_SCHED_PARAM_UPPER_BOUND, 99),
                                       HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS("upper_bound");
        CHECK_ERROR_HAS("max_iter");
        CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_param(s, HLR_SCHED_PARAM_MAX_ITER, 251),
                                       HLR_ERR_INVALID_ARGUMENT);
        CHECK_OK(hlr_schedule_set_param(s, HLR_SCHED_PARAM_UPPER_BOUND, 100)); /* U = N is fine */
        /* Only the combination is valid: set together. */
        const int k[] = {HLR_SCHED_PARAM_MAX_ITER, HLR_SCHED_PARAM_UPPER_BOUND};
        const double v[] = {500, 800};
        CHECK_OK(hlr_schedule_set_params(s, k, v, 2));
        double got = 0;
        CHECK_OK(hlr_schedule_get_param(s, HLR_SCHED_PARAM_MAX_ITER, &got));
        CHECK_EQ_DBL(got, 500);
        const double bad[] = {900, 800};
        CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_params(s, k, bad, 2),
                                       HLR_ERR_INVALID_ARGUMENT);
        CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_param(s, HLR_SCHED_PARAM_INFIMUM_LR, 1e-3),
                                       HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS("infimum_lr");
        if (kind == HLR_SCHEDULE_EXP_HYPERBOLIC) {
            CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_param(s, HLR_SCHED_PARAM_INFIMUM_LR, 0.0),
                                           HLR_ERR_INVALID_ARGUMENT);
            CHECK_ERROR_HAS("infimum_lr must be > 0");
            const int k2[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_INFIMUM_LR};
            const double v2[] = {1e300, 1e-300};
            CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_params(s, k2, v2, 2),
                                           HLR_ERR_INVALID_ARGUMENT);
            CHECK_ERROR_HAS("not finite");
        } else {
            CHECK_OK(hlr_schedule_set_param(s, HLR_SCHED_PARAM_INFIMUM_LR, 0.0));
            CHECK_VALUE(s, 500, ref_hyperbolic(1e-3, 500, 800, 0.0, 0, 500));
        }
        hlr_schedule_free(s);
    }
    /* one_cycle: max_lr / div_factor and its final division must stay rates (<= 1e300). */
    hlr_schedule *s = hlrt_schedule(HLR_SCHEDULE_ONE_CYCLE);
    const int k[] = {HLR_SCHED_PARAM_MAX_LR, HLR_SCHED_PARAM_DIV_FACTOR};
    const double v[] = {1e300, 0.5};
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_params(s, k, v, 2), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("div_factor");
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_param(s, HLR_SCHED_PARAM_FINAL_DIV_FACTOR, 1e-305),
                                   HLR_ERR_INVALID_ARGUMENT);
    /* set_params: duplicates refused; n = 0 is a no-op (NULL allowed); too many keys refused. */
    const int dup[] = {HLR_SCHED_PARAM_MAX_LR, HLR_SCHED_PARAM_MAX_LR};
    const double dv[] = {0.1, 0.2};
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_params(s, dup, dv, 2), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("max_lr");
    CHECK_OK(hlr_schedule_set_params(s, NULL, NULL, 0));
    int keys[40];
    double values[40];
    for (int i = 0; i < 40; i++) keys[i] = i + 1, values[i] = 1.0;
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_params(s, keys, values, 40),
                                   HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("40");
    /* One bad key in the middle of a batch: nothing of the batch is applied. */
    const int mixed[] = {HLR_SCHED_PARAM_MAX_LR, HLR_SCHED_PARAM_GAMMA};
    const double mv[] = {0.5, 0.5};
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_params(s, mixed, mv, 2), HLR_ERR_UNKNOWN_KEY);
    CHECK_ERROR_HAS("gamma");
    const double mv2[] = {0.5, NAN};
    const int mixed2[] = {HLR_SCHED_PARAM_MAX_LR, HLR_SCHED_PARAM_PCT_START};
    CHECK_FAILS_SCHEDULE_UNCHANGED(s, hlr_schedule_set_params(s, mixed2, mv2, 2),
                                   HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("pct_start");
    CHECK_ERROR_HAS("nan");
    hlr_schedule_free(s);
}

/* Every kind at extreme parameter values: finite, non-negative values up to UINT64_MAX. */
static void test_extreme_values(void) {
    for (int kind = FIRST_KIND; kind <= LAST_LEAF; kind++) {
        for (int corner = 0; corner < 3; corner++) {
            hlr_schedule *s = hlrt_schedule(kind);
            /* corner 0: defaults; 1: every parameter at its minimum; 2: at its maximum (as far
             * as the cross-constraints allow: those settings are then skipped). */
            for (int key = 1; key <= LAST_KEY && corner > 0; key++) {
                if (!kind_has_key(kind, key)) continue;
                double lo = 0, hi = 0;
                CHECK_OK(hlr_schedule_param_bounds(kind, key, &lo, &hi, NULL));
                (void)hlr_schedule_set_param(s, key, corner == 1 ? lo : hi);
            }
            for (int i = 0; i < PROBES; i++) {
                double v = value_at(s, probe_steps[i]);
                if (!CHECK(isfinite(v) && v >= 0))
                    fprintf(stderr, "    kind %s corner %d step %llu: %g\n", kind_names[kind], corner,
                            (unsigned long long)probe_steps[i], v);
            }
            double nominal = nominal_of(s);
            CHECK(isfinite(nominal) && nominal >= 0);
            double values[4];
            CHECK_OK(hlr_schedule_values(s, UINT64_MAX - 3, values, 4)); /* the last four steps */
            for (int i = 0; i < 4; i++) CHECK(isfinite(values[i]) && values[i] >= 0);
            hlr_schedule_free(s);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 4. Save / load                                                                             */
/* ------------------------------------------------------------------------------------------ */

static unsigned char *save_schedule(const hlr_schedule *s, size_t *size) {
    CHECK_OK(hlr_schedule_snapshot_size(s, size));
    unsigned char *blob = malloc(*size);
    size_t written = 0;
    CHECK_OK(hlr_schedule_save(s, blob, *size, &written));
    CHECK_EQ_INT(written, *size);
    return blob;
}

/* A loaded copy has the same kind, values and snapshot bytes. */
static void check_round_trip(const hlr_schedule *s) {
    size_t size = 0;
    unsigned char *blob = save_schedule(s, &size);
    CHECK(size >= 20 && memcmp(blob, "HLSC", 4) == 0);
    hlr_schedule *copy = NULL;
    CHECK_OK(hlr_schedule_load(blob, size, &copy));
    int k1 = 0, k2 = 0;
    CHECK_OK(hlr_schedule_kind(s, &k1));
    CHECK_OK(hlr_schedule_kind(copy, &k2));
    CHECK_EQ_INT(k1, k2);
    for (int i = 0; i < PROBES; i++) CHECK_EQ_DBL(value_at(copy, probe_steps[i]), value_at(s, probe_steps[i]));
    CHECK_EQ_DBL(nominal_of(copy), nominal_of(s));
    hlrt_state state = {blob, size};
    CHECK(hlrt_same_schedule(copy, &state));
    hlr_schedule_free(copy);
    free(blob);
}

/* Every truncation and every single-bit flip of a schedule blob is refused. */
static void check_damage_refused(const unsigned char *blob, size_t size) {
    unsigned char *damaged = malloc(size + 1);
    int failures_before = atomic_load(&check_failed_);
    for (size_t n = 0; n < size; n++) {
        hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
        CHECK_EQ_INT(hlr_schedule_load(blob, n, &out), HLR_ERR_SNAPSHOT_CORRUPT);
        CHECK(out == NULL);
    }
    for (size_t byte = 0; byte < size; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(damaged, blob, size);
            damaged[byte] ^= (unsigned char)(1u << bit);
            int expected = HLR_ERR_SNAPSHOT_CORRUPT;
            if (byte == 4 || byte == 5) { /* the format version: 0 is corrupt, newer is VERSION */
                unsigned version = (unsigned)damaged[4] | ((unsigned)damaged[5] << 8);
                expected = version == 0 ? HLR_ERR_SNAPSHOT_CORRUPT : HLR_ERR_SNAPSHOT_VERSION;
            }
            hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
            int status = hlr_schedule_load(damaged, size, &out);
            if (!CHECK_EQ_INT(status, expected))
                fprintf(stderr, "    bit %d of byte %zu of %zu\n", bit, byte, size);
            CHECK(out == NULL);
        }
    }
    /* A trailing byte. */
    memcpy(damaged, blob, size);
    damaged[size] = 0;
    hlr_schedule *out = NULL;
    CHECK_EQ_INT(hlr_schedule_load(damaged, size + 1, &out), HLR_ERR_SNAPSHOT_CORRUPT);
    free(damaged);
    if (atomic_load(&check_failed_) != failures_before)
        fprintf(stderr, "    ^ damaged schedule snapshots (%zu bytes)\n", size);
}

static void test_save_load(void) {
    /* Every leaf kind with non-default parameters, and composites. */
    hlr_schedule *all[LAST_LEAF + 1] = {NULL};
    for (int kind = FIRST_KIND; kind <= LAST_LEAF; kind++) {
        all[kind] = hlrt_schedule(kind);
        for (int key = 1; key <= LAST_KEY; key++) {
            if (!kind_has_key(kind, key)) continue;
            double lo = 0, hi = 0, def = 0;
            CHECK_OK(hlr_schedule_param_bounds(kind, key, &lo, &hi, &def));
            /* Nudge the value (keeping integers integral and constraints satisfied when it can). */
            double nudged = def == 0 ? (hi >= 1 ? 1 : hi / 2) : def * 0.75;
            if (floor(def) == def && def >= 2) nudged = floor(def * 0.75);
            if (nudged < lo || nudged > hi) nudged = def;
            (void)hlr_schedule_set_param(all[kind], key, nudged);
        }
        if (kind == HLR_SCHEDULE_MULTI_STEP) {
            const uint64_t m[] = {5, 5, 17, UINT64_MAX};
            CHECK_OK(hlr_schedule_set_milestones(all[kind], m, 4));
        }
        check_round_trip(all[kind]);
    }
    const hlr_schedule *pieces[3] = {all[HLR_SCHEDULE_COSINE], all[HLR_SCHEDULE_MULTI_STEP],
                                     all[HLR_SCHEDULE_ONE_CYCLE]};
    const uint64_t bounds[2] = {7, 300};
    hlr_schedule *j = NULL, *w = NULL;
    CHECK_OK(hlr_schedule_join(pieces, 3, bounds, 2, &j));
    CHECK_OK(hlr_schedule_warmup(j, 11, 1e-4, &w));
    check_round_trip(j);
    check_round_trip(w);

    /* Damage: a leaf, a multi-step with milestones and the nested composite. */
    const hlr_schedule *victims[3] = {all[HLR_SCHEDULE_CYCLIC], all[HLR_SCHEDULE_MULTI_STEP], w};
    for (int v = 0; v < 3; v++) {
        size_t size = 0;
        unsigned char *blob = save_schedule(victims[v], &size);
        check_damage_refused(blob, size);
        free(blob);
    }
    /* Buffer sizes: too small refused with the size reported; a huge capacity is fine. */
    size_t size = 0, written = 0;
    unsigned char *blob = save_schedule(w, &size);
    unsigned char *buffer = malloc(size);
    CHECK_FAILS_SCHEDULE_UNCHANGED(w, hlr_schedule_save(w, buffer, size - 1, &written),
                                   HLR_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(written, size);
    CHECK_OK(hlr_schedule_save(w, buffer, SIZE_MAX, NULL));
    CHECK(memcmp(buffer, blob, size) == 0);
    /* A tuner snapshot is not a schedule snapshot (and the other way round). */
    hlr_tuner *t = hlrt_create(1);
    hlrt_state ts = hlrt_capture(t);
    hlr_schedule *out = NULL;
    CHECK_FAILS(hlr_schedule_load(ts.bytes, ts.size, &out), HLR_ERR_SNAPSHOT_CORRUPT);
    CHECK_ERROR_HAS("magic");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, blob, size), HLR_ERR_SNAPSHOT_CORRUPT);
    hlrt_release(&ts);
    hlr_tuner_free(t);
    /* A version from the future. */
    blob[4] = 2;
    CHECK_FAILS(hlr_schedule_load(blob, size, &out), HLR_ERR_SNAPSHOT_VERSION);
    free(blob);
    free(buffer);
    for (int kind = FIRST_KIND; kind <= LAST_LEAF; kind++) hlr_schedule_free(all[kind]);
    hlr_schedule_free(j);
    hlr_schedule_free(w);
}

/* ------------------------------------------------------------------------------------------ */
/* 5. Tuners with a base schedule                                                             */
/* ------------------------------------------------------------------------------------------ */

/* Feeds step `step` whatever it needs, with fixed synthetic values (the same for twin handles). */
static void feed(hlr_tuner *t, uint64_t step) {
    for (int round = 0; round < 64; round++) {
        int need = -1;
        size_t count = 0;
        CHECK_OK(hlr_tuner_need(t, step, &need, &count));
        if (need == HLR_NEED_NOTHING) return;
        double *values = malloc(count * sizeof *values);
        for (size_t i = 0; i < count; i++) {
            double x = (double)((step * 7 + i * 3 + (uint64_t)round) % 11);
            values[i] = need == HLR_NEED_LOSSES ? 1.0 + 0.01 * x * x - 0.02 * x
                        : need == HLR_NEED_SLOPE ? (i == 0 ? 2.0 : 0.5 + 0.1 * x)
                                                 : (i % 2 == 0 ? 0.5 + 0.1 * x : 1.0 + x);
        }
        CHECK_OK(hlr_tuner_observe(t, step, need, values, count));
        free(values);
    }
}

static void test_tuner_with_schedule(void) {
    const int methods[] = {HLR_METHOD_HESSIANLR, HLR_METHOD_CDAT,   HLR_METHOD_GEN,
                           HLR_METHOD_HIDLR,     HLR_METHOD_ARMIJO, HLR_METHOD_CONSTANT};
    const int ck[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_T_MAX, HLR_SCHED_PARAM_ETA_MIN};
    const double cv[] = {0.4, 30, 0.01};
    hlr_schedule *cosine = make(HLR_SCHEDULE_COSINE, ck, cv, 3);
    hlr_schedule *sched = NULL;
    CHECK_OK(hlr_schedule_warmup(cosine, 5, 0.0, &sched));
    double nominal = nominal_of(sched);
    CHECK_EQ_DBL(nominal, 0.4);

    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        int method = methods[m];
        hlr_tuner *plain = hlrt_create_method(method, 2);
        hlr_tuner *scheduled = hlrt_create_method(method, 2);
        hlr_schedule *none = (hlr_schedule *)(uintptr_t)0x1;
        CHECK_OK(hlr_tuner_get_schedule(scheduled, &none));
        CHECK(none == NULL);
        CHECK_OK(hlr_tuner_set_schedule(scheduled, sched));
        /* The tuner holds a copy: changing the original changes nothing. */
        hlr_schedule *held = NULL;
        CHECK_OK(hlr_tuner_get_schedule(scheduled, &held));
        CHECK(held != NULL && held != sched);
        if (held != NULL)
            for (int i = 0; i < PROBES; i++)
                CHECK_EQ_DBL(value_at(held, probe_steps[i]), value_at(sched, probe_steps[i]));
        CHECK_OK(hlr_tuner_set_schedule(plain, NULL)); /* NULL detaches: fine without one */
        {
            /* The tuner holds a copy: changing or freeing the original changes nothing. */
            hlr_tuner *probe = hlrt_create_method(method, 2);
            hlr_schedule *local = make(HLR_SCHEDULE_COSINE, ck, cv, 3);
            CHECK_OK(hlr_tuner_set_schedule(probe, local));
            hlrt_state attached = hlrt_capture(probe);
            double lr = hlrt_lr(probe, 7, 0);
            CHECK_OK(hlr_schedule_set_param(local, HLR_SCHED_PARAM_BASE_LR, 0.9));
            CHECK(hlrt_same_state(probe, &attached));
            hlr_schedule_free(local);
            CHECK(hlrt_same_state(probe, &attached));
            CHECK_EQ_DBL(hlrt_lr(probe, 7, 0), lr);
            hlrt_release(&attached);
            hlr_tuner_free(probe);
        }

        unsigned char *mid = NULL;
        size_t mid_size = 0;
        for (uint64_t step = 0; step < 60; step++) {
            feed(plain, step);
            feed(scheduled, step);
            for (size_t k = 0; k < 2; k++) {
                double base = hlrt_lr(plain, step, k);
                double rate = hlrt_lr(scheduled, step, k);
                double value = value_at(sched, step);
                /* The scaled rate, clamped once more to the method's [lr_min, lr_max]. */
                double expected = base * (value / nominal), bound;
                if (hlr_tuner_get_param(scheduled, HLR_PARAM_LR_MIN, &bound) == HLR_OK && expected < bound)
                    expected = bound;
                if (hlr_tuner_get_param(scheduled, HLR_PARAM_LR_MAX, &bound) == HLR_OK && expected > bound)
                    expected = bound;
                CHECK_EQ_DBL(rate, expected);
            }
            /* The schedule scales rates only: observations and decisions are the same. */
            CHECK_EQ_DBL(hlrt_info(scheduled, HLR_INFO_UPDATES, 0), hlrt_info(plain, HLR_INFO_UPDATES, 0));
            double lrs[2];
            CHECK_OK(hlr_tuner_get_lrs(scheduled, step, lrs, 2));
            CHECK_EQ_DBL(lrs[1], hlrt_lr(scheduled, step, 1));
            if (step == 20) {
                hlrt_state s = hlrt_capture(scheduled);
                mid = s.bytes;
                mid_size = s.size;
            }
        }
        /* The snapshot carries the schedule: a fresh handle continues bit for bit. */
        hlr_tuner *restored = hlrt_create_method(method, 2);
        CHECK_OK(hlr_tuner_restore(restored, mid, mid_size));
        hlr_schedule *carried = NULL;
        CHECK_OK(hlr_tuner_get_schedule(restored, &carried));
        CHECK(carried != NULL);
        if (carried != NULL) {
            for (int i = 0; i < PROBES; i++)
                CHECK_EQ_DBL(value_at(carried, probe_steps[i]), value_at(sched, probe_steps[i]));
            hlr_schedule_free(carried);
        }
        hlr_tuner *twin = hlrt_create_method(method, 2);
        CHECK_OK(hlr_tuner_restore(twin, mid, mid_size));
        for (uint64_t step = 21; step < 60; step++) feed(twin, step);
        {
            hlrt_state a = hlrt_capture(scheduled);
            CHECK(hlrt_same_state(twin, &a));
            hlrt_release(&a);
        }
        for (uint64_t step = 55; step < 60; step++)
            CHECK_EQ_DBL(hlrt_lr(twin, step, 0), hlrt_lr(scheduled, step, 0));

        /* Every truncation and bit flip of a tuner+schedule snapshot is refused, unchanged. */
        if (method == HLR_METHOD_CDAT || method == HLR_METHOD_CONSTANT) {
            unsigned char *damaged = malloc(mid_size);
            int failures_before = atomic_load(&check_failed_);
            for (size_t n = 0; n < mid_size; n++)
                CHECK_FAILS_UNCHANGED(restored, hlr_tuner_restore(restored, mid, n),
                                      HLR_ERR_SNAPSHOT_CORRUPT);
            /* The tuner container is 16 + L + 4 bytes (L at offset 8), the schedule's follows. */
            uint64_t payload = 0;
            for (int b = 7; b >= 0; b--) payload = payload << 8 | mid[8 + b];
            size_t tuner_part = (size_t)(16 + payload + 4);
            CHECK(tuner_part < mid_size && memcmp(mid + tuner_part, "HLSC", 4) == 0);
            for (size_t byte = 0; byte < mid_size; byte++) {
                for (int bit = 0; bit < 8; bit++) {
                    memcpy(damaged, mid, mid_size);
                    damaged[byte] ^= (unsigned char)(1u << bit);
                    size_t base = byte < tuner_part ? 0 : tuner_part;
                    int expected = HLR_ERR_SNAPSHOT_CORRUPT;
                    if (byte == base + 4 || byte == base + 5) {
                        unsigned version = (unsigned)damaged[base + 4] | ((unsigned)damaged[base + 5] << 8);
                        expected = version == 0 ? HLR_ERR_SNAPSHOT_CORRUPT : HLR_ERR_SNAPSHOT_VERSION;
                    }
                    CHECK_FAILS_UNCHANGED(restored, hlr_tuner_restore(restored, damaged, mid_size),
                                          expected);
                }
            }
            free(damaged);
            if (atomic_load(&check_failed_) != failures_before)
                fprintf(stderr, "    ^ damaged tuner+schedule snapshots of %s\n", method == HLR_METHOD_CDAT ? "cdat" : "constant");
        }
        /* Restoring a snapshot without a schedule detaches it (the schedule is an option). */
        hlrt_state plain_state = hlrt_capture(plain);
        CHECK_OK(hlr_tuner_restore(restored, plain_state.bytes, plain_state.size));
        hlr_schedule *after = (hlr_schedule *)(uintptr_t)0x1;
        CHECK_OK(hlr_tuner_get_schedule(restored, &after));
        CHECK(after == NULL);
        hlrt_release(&plain_state);

        /* HLR_RESET_STATE keeps it; HLR_RESET_OPTIONS detaches it. */
        CHECK_OK(hlr_tuner_reset(scheduled, HLR_RESET_STATE));
        CHECK_OK(hlr_tuner_get_schedule(scheduled, &after));
        CHECK(after != NULL);
        hlr_schedule_free(after);
        CHECK_OK(hlr_tuner_reset(scheduled, HLR_RESET_OPTIONS));
        after = (hlr_schedule *)(uintptr_t)0x1;
        CHECK_OK(hlr_tuner_get_schedule(scheduled, &after));
        CHECK(after == NULL);
        hlr_tuner *fresh = hlrt_create_method(method, 2);
        CHECK_EQ_DBL(hlrt_lr(scheduled, 3, 0), hlrt_lr(fresh, 3, 0)); /* back to the defaults */
        hlr_tuner_free(fresh);
        /* set_schedule(NULL) detaches too. */
        CHECK_OK(hlr_tuner_set_schedule(twin, NULL));
        CHECK_OK(hlr_tuner_get_schedule(twin, &after));
        CHECK(after == NULL);

        free(mid);
        hlr_schedule_free(held);
        hlr_tuner_free(plain);
        hlr_tuner_free(scheduled);
        hlr_tuner_free(restored);
        hlr_tuner_free(twin);
    }

    /* METHOD_CONSTANT with initial_lr = nominal follows the schedule (to within an ulp), per
     * group scaled by its own initial_lr. */
    const int kinds[] = {HLR_SCHEDULE_ONE_CYCLE, HLR_SCHEDULE_CYCLIC, HLR_SCHEDULE_WARMUP_STABLE_DECAY,
                         HLR_SCHEDULE_EXP_HYPERBOLIC, HLR_SCHEDULE_COSINE_WARM_RESTARTS};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        hlr_schedule *s = hlrt_schedule(kinds[i]);
        double nom = nominal_of(s);
        hlr_tuner *t = hlrt_create_method(HLR_METHOD_CONSTANT, 2);
        CHECK_OK(hlr_tuner_set_group_param(t, 0, HLR_PARAM_INITIAL_LR, nom));
        CHECK_OK(hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, 2 * nom));
        CHECK_OK(hlr_tuner_set_schedule(t, s));
        for (int p = 0; p < PROBES; p++) {
            double v = value_at(s, probe_steps[p]);
            double lr = hlrt_lr(t, probe_steps[p], 0);
            CHECK(lr == v || lr == nextafter(v, INFINITY) || lr == nextafter(v, -INFINITY));
            CHECK_EQ_DBL(lr, nom * (v / nom));
            CHECK_EQ_DBL(hlrt_lr(t, probe_steps[p], 1), 2 * nom * (v / nom));
        }
        hlr_tuner_free(t);
        hlr_schedule_free(s);
    }
    /* A schedule whose nominal rate is 0 scales every rate to 0, then lr_min applies (0 when
     * lr_min is 0). */
    {
        const int zk[] = {HLR_SCHED_PARAM_BASE_LR};
        const double zv[] = {0.0};
        hlr_schedule *zero = make(HLR_SCHEDULE_CONSTANT, zk, zv, 1);
        CHECK_EQ_DBL(nominal_of(zero), 0.0);
        hlr_tuner *t = hlrt_create_method(HLR_METHOD_HESSIANLR, 1);
        CHECK_OK(hlr_tuner_set_schedule(t, zero));
        double lr_min = 0;
        CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_LR_MIN, &lr_min));
        CHECK_EQ_DBL(hlrt_lr(t, 5, 0), lr_min);
        HLRT_SET(t, HLR_PARAM_LR_MIN, 0.0);
        CHECK_EQ_DBL(hlrt_lr(t, 5, 0), 0.0);
        hlr_tuner_free(t);
        hlr_schedule_free(zero);
    }
    hlr_schedule_free(cosine);
    hlr_schedule_free(sched);
}

/* Schedule and tuner handles are never accepted for one another. */
static void test_handle_kinds(void) {
    hlr_tuner *t = hlrt_create(2);
    hlr_schedule *s = hlrt_schedule(HLR_SCHEDULE_STEP);
    hlrt_state ts = hlrt_capture(t);
    hlrt_state ss = hlrt_capture_schedule(s);
    hlr_tuner *s_as_t = (hlr_tuner *)(void *)s;
    hlr_schedule *t_as_s = (hlr_schedule *)(void *)t;
    double d = 0;
    int i = 0;
    size_t z = 0;
    unsigned char buffer[256];

    CHECK_FAILS(hlr_tuner_free(s_as_t), HLR_ERR_INVALID_HANDLE);
    CHECK_ERROR_HAS("not a tuner");
    CHECK_FAILS(hlr_schedule_free(t_as_s), HLR_ERR_INVALID_HANDLE);
    CHECK_ERROR_HAS("not a schedule");
    CHECK_FAILS(hlr_tuner_get_lr(s_as_t, 0, 0, &d), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_tuner_set_param(s_as_t, HLR_PARAM_SMOOTHING, 0.5), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_tuner_snapshot_size(s_as_t, &z), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_tuner_set_schedule(s_as_t, s), HLR_ERR_INVALID_HANDLE);
    hlr_schedule *got = (hlr_schedule *)(uintptr_t)0x1;
    CHECK_FAILS(hlr_tuner_get_schedule(s_as_t, &got), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_schedule(t, t_as_s), HLR_ERR_INVALID_HANDLE);
    CHECK_ERROR_HAS("schedule");
    CHECK_FAILS(hlr_schedule_value(t_as_s, 0, &d), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_schedule_kind(t_as_s, &i), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_schedule_set_param(t_as_s, HLR_SCHED_PARAM_BASE_LR, 0.5), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_schedule_save(t_as_s, buffer, sizeof buffer, &z), HLR_ERR_INVALID_HANDLE);
    hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
    CHECK_FAILS(hlr_schedule_warmup(t_as_s, 1, 0.0, &out), HLR_ERR_INVALID_HANDLE);
    CHECK(out == NULL);
    const hlr_schedule *pieces[2] = {s, t_as_s};
    const uint64_t bounds[1] = {5};
    out = (hlr_schedule *)(uintptr_t)0x1;
    CHECK_FAILS(hlr_schedule_join(pieces, 2, bounds, 1, &out), HLR_ERR_INVALID_HANDLE);
    CHECK(out == NULL);
    /* Both are still alive and unchanged. */
    CHECK(hlrt_same_state(t, &ts));
    CHECK(hlrt_same_schedule(s, &ss));
    CHECK_OK(hlr_schedule_free(s));
    CHECK_OK(hlr_tuner_free(t));
    /* And freed schedules are stale like freed tuners. */
    CHECK_FAILS(hlr_schedule_value(s, 0, &d), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_schedule_free(s), HLR_ERR_INVALID_HANDLE);
    CHECK_OK(hlr_schedule_free(NULL));
    hlrt_release(&ts);
    hlrt_release(&ss);
}

/* hlr_schedule_rescale: the schedule torch runs for a param group of another initial lr. */
static double param_of(const hlr_schedule *s, int key) {
    double v = NAN;
    CHECK_OK(hlr_schedule_get_param(s, key, &v));
    return v;
}

static void test_rescale(void) {
    /* Multiplicative kinds: base_lr = the group's lr exactly (torch's closed form). */
    const int lk[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_START_FACTOR, HLR_SCHED_PARAM_END_FACTOR,
                      HLR_SCHED_PARAM_TOTAL_ITERS};
    const double lv[] = {0.05, 0.1, 0.9, 40};
    hlr_schedule *linear = make(HLR_SCHEDULE_LINEAR, lk, lv, 4);
    hlr_schedule *group = NULL;
    CHECK_OK(hlr_schedule_rescale(linear, 0.5, &group));
    CHECK_EQ_DBL(param_of(group, HLR_SCHED_PARAM_BASE_LR), 0.5);
    CHECK_EQ_DBL(param_of(group, HLR_SCHED_PARAM_START_FACTOR), 0.1);
    for (int t = 0; t < 50; t++) CHECK_VALUE(group, (uint64_t)t, 0.5 * (0.1 + (0.9 - 0.1) * (t < 40 ? t : 40) / 40.0));
    hlr_schedule_free(group);
    /* Cosine: eta_min stays absolute (torch's test_cos_anneal_lr: group 0.5 ends at 1e-10). */
    const int ck[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_T_MAX, HLR_SCHED_PARAM_ETA_MIN};
    const double cv[] = {0.05, 10, 1e-10};
    hlr_schedule *cosine = make(HLR_SCHEDULE_COSINE, ck, cv, 3);
    CHECK_OK(hlr_schedule_rescale(cosine, 0.5, &group));
    CHECK_EQ_DBL(param_of(group, HLR_SCHED_PARAM_BASE_LR), 0.5);
    CHECK_EQ_DBL(param_of(group, HLR_SCHED_PARAM_ETA_MIN), 1e-10);
    CHECK_VALUE(group, 10, 1e-10);
    hlr_schedule_free(group);
    /* A warmup scales its start and its child; the original is unchanged. */
    hlr_schedule *warm = NULL;
    CHECK_OK(hlr_schedule_warmup(cosine, 4, 0.01, &warm));
    hlrt_state before = hlrt_capture_schedule(warm);
    CHECK_OK(hlr_schedule_rescale(warm, 0.2, &group));
    CHECK(hlrt_same_schedule(warm, &before));
    CHECK_EQ_DBL(nominal_of(group), 0.2);
    CHECK_EQ_DBL(param_of(group, HLR_SCHED_PARAM_START_LR), 0.01 * (0.2 / 0.05));
    CHECK_VALUE_NEAR(group, 4, 0.2, 0.2);   /* the child's base_lr is the group's lr */
    CHECK_VALUE(group, 14, 1e-10);
    hlr_schedule_free(group);
    /* The same nominal: the same schedule, byte for byte. */
    CHECK_OK(hlr_schedule_rescale(warm, 0.05, &group));
    CHECK(hlrt_same_schedule(group, &before));
    hlr_schedule_free(group);
    hlrt_release(&before);
    /* Refused: NaN, infinities, negative, above 1e300; *out = NULL and nothing allocated. */
    const double bad[] = {NAN, INFINITY, -INFINITY, -1e-3, 2e300};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        group = (hlr_schedule *)(uintptr_t)0x1;
        CHECK_FAILS(hlr_schedule_rescale(cosine, bad[i], &group), HLR_ERR_INVALID_ARGUMENT);
        CHECK(group == NULL);
    }
    CHECK_ERROR_HAS("nominal");
    CHECK_FAILS(hlr_schedule_rescale(cosine, 0.1, NULL), HLR_ERR_NULL_POINTER);
    CHECK_FAILS(hlr_schedule_rescale(NULL, 0.1, &group), HLR_ERR_INVALID_HANDLE);
    /* A rescaled rate out of range is refused naming it. */
    const int yk[] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_MAX_LR};
    const double yv[] = {1e-300, 1e-299};
    hlr_schedule *tiny = make(HLR_SCHEDULE_CYCLIC, yk, yv, 2);
    CHECK_FAILS(hlr_schedule_rescale(tiny, 1e300, &group), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("base_lr");
    hlr_schedule_free(tiny);
    hlr_schedule_free(warm);
    hlr_schedule_free(cosine);
    hlr_schedule_free(linear);
}

/* hlr_schedule_factor is value / nominal in [0, 1], 0 for a zero nominal rate. */
static void test_factor(void) {
    hlr_schedule *s = hlrt_schedule(HLR_SCHEDULE_COSINE);
    CHECK_OK(hlr_schedule_set_param(s, HLR_SCHED_PARAM_BASE_LR, 0.2));
    CHECK_OK(hlr_schedule_set_param(s, HLR_SCHED_PARAM_T_MAX, 50));
    double nominal = 0;
    CHECK_OK(hlr_schedule_nominal(s, &nominal));
    for (uint64_t step = 0; step < 120; step += 7) {
        double value = 0, factor = -1;
        CHECK_OK(hlr_schedule_value(s, step, &value));
        CHECK_OK(hlr_schedule_factor(s, step, &factor));
        CHECK_EQ_DBL(factor, value / nominal);
        CHECK(factor >= 0 && factor <= 1);
    }
    CHECK_OK(hlr_schedule_set_param(s, HLR_SCHED_PARAM_BASE_LR, 0.0));
    double factor = -1;
    CHECK_OK(hlr_schedule_factor(s, 3, &factor));
    CHECK_EQ_DBL(factor, 0.0);
    hlr_schedule_free(s);
}

int main(void) {
    test_factor();
    test_leaf_formulas();
    test_milestones();
    test_join_and_warmup();
    test_bounds_and_defaults();
    test_cross_constraints();
    test_extreme_values();
    test_save_load();
    test_tuner_with_schedule();
    test_handle_kinds();
    test_rescale();
    return CHECK_SUMMARY();
}
