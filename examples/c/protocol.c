/*
 * protocol.c — every tuning method from C through the general protocol of include/hessianlr.h.
 *
 * Ridge regression on synthetic data, trained by gradient descent with two parameter groups
 * (feature weights | bias). Each step asks the tuner what it needs before its rates are final
 * (hlr_tuner_need) and measures exactly that:
 *
 *   HLR_NEED_CURVATURE  [g_k'd_k, d_k'H d_k] per group    (HessianLR, CDAT)
 *   HLR_NEED_LOSSES     L(w - sum_k xi_jk d_k) per probe   (GeN, Hi-DLR, Armijo's trial rates)
 *   HLR_NEED_SLOPE      [L(w), g_k'd_k per group]          (Armijo)
 *
 * then observes it (hlr_tuner_observe) until the need is HLR_NEED_NOTHING, and steps with
 * hlr_tuner_get_lrs. The same step is also available in one call, hlr_tuner_step_host_f64, which
 * computes those measurements itself from the buffers and two callbacks; the program runs both
 * and checks that they give the same rates bit for bit. Finally it attaches a base schedule
 * (linear warmup + cosine) to a HessianLR tuner and saves / restores it mid-run.
 *
 *   cc -std=c11 -Wall -Wextra -O2 -Iinclude -o protocol examples/c/protocol.c \
 *      -Lbuild/lib -lhessianlr -Wl,-rpath,$PWD/build/lib -lm
 *   ./protocol
 *
 * Exits with status 1 on any library error (printing hlr_last_error()).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hessianlr.h"

#define CALL(expr)                                                                          \
    do {                                                                                    \
        int status_ = (expr);                                                               \
        if (status_ != HLR_OK) {                                                            \
            fprintf(stderr, "protocol: %s failed: %s (%d)\n  hlr_last_error: %s\n", #expr, \
                    hlr_strerror(status_), status_, hlr_last_error());                      \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

enum { SAMPLES = 200, FEATURES = 8, N = FEATURES + 1, GROUPS = 2, STEPS = 60 };
static const size_t offsets[GROUPS + 1] = {0, FEATURES, N}; /* features | bias */

/* L(w) = |Xw - y|^2 / (2 m) + lambda/2 |w|^2, its gradient and its (constant) Hessian. */
typedef struct {
    double x[SAMPLES][N], y[SAMPLES], lambda;
    int losses, hvps; /* callback calls */
} problem;

static double loss(const problem *p, const double *w) {
    double sum = 0, norm = 0;
    for (int s = 0; s < SAMPLES; s++) {
        double r = -p->y[s];
        for (int j = 0; j < N; j++) r += p->x[s][j] * w[j];
        sum += r * r;
    }
    for (int j = 0; j < N; j++) norm += w[j] * w[j];
    return sum / (2.0 * SAMPLES) + 0.5 * p->lambda * norm;
}

static void gradient(const problem *p, const double *w, double *g) {
    for (int j = 0; j < N; j++) g[j] = p->lambda * w[j];
    for (int s = 0; s < SAMPLES; s++) {
        double r = -p->y[s];
        for (int j = 0; j < N; j++) r += p->x[s][j] * w[j];
        for (int j = 0; j < N; j++) g[j] += r * p->x[s][j] / SAMPLES;
    }
}

static void hessian_times(const problem *p, const double *v, double *out) {
    for (int j = 0; j < N; j++) out[j] = p->lambda * v[j];
    for (int s = 0; s < SAMPLES; s++) {
        double xv = 0;
        for (int j = 0; j < N; j++) xv += p->x[s][j] * v[j];
        for (int j = 0; j < N; j++) out[j] += xv * p->x[s][j] / SAMPLES;
    }
}

/* The callbacks of hlr_tuner_step_host_f64: ctx is the problem. */
static int loss_callback(void *ctx, const double *w, size_t n, double *value) {
    problem *p = ctx;
    if (n != N) return 1;
    p->losses++;
    *value = loss(p, w);
    return 0;
}

static int hvp_callback(void *ctx, const double *v, double *out, size_t n) {
    problem *p = ctx;
    if (n != N) return 1;
    p->hvps++;
    hessian_times(p, v, out);
    return 0;
}

/* The library's documented dot product (fixed order, float64): 8 lanes, then the tail. Using it
 * here makes the protocol path reproduce step_host's numbers bit for bit. */
static double dot(const double *x, const double *y, size_t n) {
    double lanes[8] = {0};
    size_t body = n - n % 8, i = 0;
    for (; i < body; i += 8)
        for (size_t l = 0; l < 8; l++) lanes[l] += x[i + l] * y[i + l];
    double sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) +
                 ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
}

/* One step through the general protocol, measuring what the tuner asks for. The direction is
 * d = g (plain gradient descent); current_loss is L(w). Returns the number of observations. */
static int protocol_step(hlr_tuner *t, uint64_t step, problem *p, const double *w, const double *g,
                         double current_loss) {
    int observations = 0;
    for (;;) {
        int need = 0;
        size_t count = 0;
        CALL(hlr_tuner_need(t, step, &need, &count));
        if (need == HLR_NEED_NOTHING) return observations;
        double *values = calloc(count, sizeof *values);
        if (values == NULL) exit(2);
        if (need == HLR_NEED_CURVATURE) {
            for (int k = 0; k < GROUPS; k++) {
                size_t b = offsets[k], e = offsets[k + 1];
                double masked[N] = {0}, hd[N] = {0};
                memcpy(masked + b, g + b, (e - b) * sizeof *g); /* d restricted to group k */
                p->hvps++;
                hessian_times(p, masked, hd);
                values[2 * k] = dot(g + b, g + b, e - b);      /* g_k'd_k */
                values[2 * k + 1] = dot(g + b, hd + b, e - b); /* d_k'H d_k */
            }
        } else if (need == HLR_NEED_LOSSES) {
            double *xi = malloc(count * GROUPS * sizeof *xi);
            if (xi == NULL) exit(2);
            CALL(hlr_tuner_get_probes(t, step, xi, count * GROUPS));
            for (size_t j = 0; j < count; j++) {
                double trial[N];
                int at_w = 1;
                for (int k = 0; k < GROUPS; k++) {
                    at_w &= xi[j * GROUPS + k] == 0.0;
                    for (size_t i = offsets[k]; i < offsets[k + 1]; i++)
                        trial[i] = w[i] - xi[j * GROUPS + k] * g[i];
                }
                if (at_w) {
                    values[j] = current_loss; /* the probe at w itself: no evaluation needed */
                } else {
                    p->losses++;
                    values[j] = loss(p, trial);
                }
            }
            free(xi);
        } else { /* HLR_NEED_SLOPE */
            values[0] = current_loss;
            for (int k = 0; k < GROUPS; k++)
                values[1 + k] = dot(g + offsets[k], g + offsets[k], offsets[k + 1] - offsets[k]);
        }
        CALL(hlr_tuner_observe(t, step, need, values, count));
        free(values);
        observations++;
    }
}

static void make_problem(problem *p) {
    uint64_t state = 0x9E3779B97F4A7C15ull;
    memset(p, 0, sizeof *p);
    p->lambda = 1e-3;
    for (int s = 0; s < SAMPLES; s++) {
        double target = 0.5;
        for (int j = 0; j < FEATURES; j++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(state >> 11) * 0x1.0p-53;
            p->x[s][j] = (2.0 * u - 1.0) * (1.0 + j); /* features of different scales */
            target += (j % 2 ? -0.3 : 0.2) * p->x[s][j];
        }
        p->x[s][FEATURES] = 1.0; /* bias */
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        p->y[s] = target + 0.1 * ((double)(state >> 11) * 0x1.0p-53 - 0.5);
    }
}

static const char *method_name(int method) {
    static const char *const names[] = {"", "hessianlr", "cdat", "gen", "hidlr", "armijo", "constant"};
    return method >= 1 && method <= 6 ? names[method] : "?";
}

/* Trains with `method`, both paths side by side; returns the final loss. */
static double train(int method, const problem *prototype) {
    problem by_protocol = *prototype, by_host = *prototype;
    hlr_tuner *a = NULL, *b = NULL;
    CALL(hlr_tuner_create(method, GROUPS, &a));
    CALL(hlr_tuner_create(method, GROUPS, &b));
    if (method == HLR_METHOD_CDAT) {
        /* CDAT's default direction is the optimizer's update; here the update is the gradient.
         * Its default sigma = 2 puts each group on its own edge of stability; with two coupled
         * groups both on the edge the joint step is unstable, so use the quadratically greedy
         * sigma = 1. */
        CALL(hlr_tuner_set_param(a, HLR_PARAM_DIRECTION, HLR_DIRECTION_GRADIENT));
        CALL(hlr_tuner_set_param(b, HLR_PARAM_DIRECTION, HLR_DIRECTION_GRADIENT));
        CALL(hlr_tuner_set_param(a, HLR_PARAM_SIGMA, 1.0));
        CALL(hlr_tuner_set_param(b, HLR_PARAM_SIGMA, 1.0));
    }
    if (method != HLR_METHOD_ARMIJO) { /* Armijo has one rate for all groups */
        CALL(hlr_tuner_set_param(a, HLR_PARAM_INITIAL_LR, 0.01));
        CALL(hlr_tuner_set_param(b, HLR_PARAM_INITIAL_LR, 0.01));
    }
    double w[N] = {0};
    int observations = 0;
    double first = loss(prototype, w);
    for (uint64_t step = 0; step < STEPS; step++) {
        double g[N];
        gradient(prototype, w, g);
        double current = loss(prototype, w);
        observations += protocol_step(a, step, &by_protocol, w, g, current);
        size_t rounds = 0;
        CALL(hlr_tuner_step_host_f64(b, step, w, g, NULL, N, offsets, GROUPS + 1, current,
                                     hvp_callback, loss_callback, &by_host, &rounds));
        double lrs[GROUPS], lrs_host[GROUPS];
        CALL(hlr_tuner_get_lrs(a, step, lrs, GROUPS));
        CALL(hlr_tuner_get_lrs(b, step, lrs_host, GROUPS));
        if (memcmp(lrs, lrs_host, sizeof lrs) != 0) {
            fprintf(stderr, "protocol: %s step %llu: the two paths disagree\n", method_name(method),
                    (unsigned long long)step);
            exit(1);
        }
        for (int k = 0; k < GROUPS; k++)
            for (size_t i = offsets[k]; i < offsets[k + 1]; i++) w[i] -= lrs[k] * g[i];
    }
    double last = loss(prototype, w), lrs[GROUPS];
    CALL(hlr_tuner_get_lrs(a, STEPS - 1, lrs, GROUPS));
    printf("%-10s  loss %.6f -> %.6f   lr %.4g | %.4g   observations %3d   loss evals %4d   HVPs %3d\n",
           method_name(method), first, last, lrs[0], lrs[1], observations, by_protocol.losses,
           by_protocol.hvps);
    CALL(hlr_tuner_free(a));
    CALL(hlr_tuner_free(b));
    return last;
}

/* A base schedule on a HessianLR tuner: 10 warmup steps from 0, then cosine to 1% over 50; the
 * tuner's rates are its own times value(t) / nominal. Saved and restored mid-run, the restored
 * handle continues bit for bit (the snapshot carries the schedule). */
static void with_schedule(const problem *p) {
    hlr_schedule *cosine = NULL, *schedule = NULL;
    CALL(hlr_schedule_create(HLR_SCHEDULE_COSINE, &cosine));
    const int keys[3] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_T_MAX, HLR_SCHED_PARAM_ETA_MIN};
    const double values[3] = {1.0, 50, 0.01};
    CALL(hlr_schedule_set_params(cosine, keys, values, 3));
    CALL(hlr_schedule_warmup(cosine, 10, 0.0, &schedule));
    hlr_tuner *t = NULL, *restored = NULL;
    CALL(hlr_tuner_create(HLR_METHOD_HESSIANLR, GROUPS, &t));
    CALL(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 5));
    CALL(hlr_tuner_set_param(t, HLR_PARAM_INITIAL_LR, 0.05));
    CALL(hlr_tuner_set_schedule(t, schedule));
    problem q = *p;
    double w[N] = {0};
    unsigned char *blob = NULL;
    size_t size = 0;
    double w_saved[N];
    double rates[STEPS];
    for (uint64_t step = 0; step < STEPS; step++) {
        double g[N], lrs[GROUPS];
        gradient(p, w, g);
        CALL(hlr_tuner_step_host_f64(t, step, w, g, NULL, N, offsets, GROUPS + 1, NAN, hvp_callback,
                                     loss_callback, &q, NULL));
        CALL(hlr_tuner_get_lrs(t, step, lrs, GROUPS));
        rates[step] = lrs[0];
        for (int k = 0; k < GROUPS; k++)
            for (size_t i = offsets[k]; i < offsets[k + 1]; i++) w[i] -= lrs[k] * g[i];
        if (step == 29) {
            CALL(hlr_tuner_snapshot_size(t, &size));
            blob = malloc(size);
            if (blob == NULL) exit(2);
            CALL(hlr_tuner_save(t, blob, size, NULL));
            memcpy(w_saved, w, sizeof w);
        }
    }
    CALL(hlr_tuner_create(HLR_METHOD_HESSIANLR, GROUPS, &restored));
    CALL(hlr_tuner_restore(restored, blob, size));
    for (uint64_t step = 30; step < STEPS; step++) {
        double g[N], lrs[GROUPS];
        gradient(p, w_saved, g);
        CALL(hlr_tuner_step_host_f64(restored, step, w_saved, g, NULL, N, offsets, GROUPS + 1, NAN,
                                     hvp_callback, loss_callback, &q, NULL));
        CALL(hlr_tuner_get_lrs(restored, step, lrs, GROUPS));
        if (lrs[0] != rates[step]) {
            fprintf(stderr, "protocol: the restored tuner diverged at step %llu\n", (unsigned long long)step);
            exit(1);
        }
        for (int k = 0; k < GROUPS; k++)
            for (size_t i = offsets[k]; i < offsets[k + 1]; i++) w_saved[i] -= lrs[k] * g[i];
    }
    printf("\nhessianlr + warmup/cosine schedule: lr(0) %.3g, lr(9) %.3g, lr(10) %.3g, lr(59) %.3g; "
           "final loss %.6f; restored at step 30 of a %zu-byte snapshot, identical to the end\n",
           rates[0], rates[9], rates[10], rates[STEPS - 1], loss(p, w), size);
    free(blob);
    CALL(hlr_tuner_free(t));
    CALL(hlr_tuner_free(restored));
    CALL(hlr_schedule_free(cosine));
    CALL(hlr_schedule_free(schedule));
}

int main(void) {
    static problem p; /* large: keep it off the stack */
    make_problem(&p);
    printf("ridge regression, %d samples, %d weights in 2 groups, %d steps of gradient descent\n\n",
           SAMPLES, N, STEPS);
    const int methods[] = {HLR_METHOD_HESSIANLR, HLR_METHOD_CDAT,   HLR_METHOD_GEN,
                           HLR_METHOD_HIDLR,     HLR_METHOD_ARMIJO, HLR_METHOD_CONSTANT};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) train(methods[i], &p);
    with_schedule(&p);
    return 0;
}
