/* hlr_tuner_step and hlr_step_ops: the step driver's contract beyond the bit-identity with host
 * mode (test_methods.c runs every method through all three paths):
 *
 *  1. distributed: P processes (threads here, with a real barrier all-reduce in rank order) on
 *     their own handles and their own "batches" get the same rates bit for bit, equal to one
 *     process that feeds the mean observation ((v_0 + ... + v_{P-1}) / P) itself, for every
 *     method, over many steps; every rank makes the same number of callback calls;
 *  2. the failure policy: a NaN/Inf trial loss is a failed observation (counted in *failures,
 *     HLR_FLAG_OBSERVATION_FAILED, GeN's rate times fit_failure_decay), the trial rows after it
 *     are skipped in one process and evaluated in several; a NaN at the current weights is
 *     HLR_ERR_NONFINITE;
 *  3. restore: called once after each losses observation, and after a failing callback that
 *     follows a set_trial; never without a set_trial;
 *  4. a failing all_reduce or one that does not add the process count is HLR_ERR_CALLBACK and
 *     changes nothing; a correct one with one process is the single-process run bit for bit.
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

enum { N = 6, GROUPS = 2, MAXP = 4, STEPS = 24 };

/* The weights every test starts from. */
static const double start_w[N] = {0.3, -0.2, 0.8, 1.1, -0.7, 0.05};
static const size_t group_begin[GROUPS + 1] = {0, 3, 6};

/* A "process": its batch is a diagonal quadratic L_r(w) = 1/2 sum a_ri (w_i - c_ri)^2 with its
 * own a_r, c_r; the weights w are replicated (every rank holds the same w). d = g, the gradient
 * of the MEAN loss (as after DDP's all-reduce of the gradient). */
typedef struct {
    double a[N], c[N];
} batch;

typedef struct {
    int rank, processes;
    const batch *batches; /* all P batches (rank r uses batches[r]; the gradient uses all) */
    const double *w;      /* the shared weights */
    int trial;
    double xi[GROUPS];
    /* instrumentation */
    int slopes_calls, curvature_calls, set_trials, losses, restores, reduces;
    int nan_trial_on;     /* 1-based loss call (trial rows only) that returns NaN; 0 never */
    int fail_loss_on;     /* 1-based loss call that returns 7 */
    int reduce_mode;      /* 0 sum; 1 return 99 (a failing collective); 2 write a wrong count */
    hlrt_reducer *reducer;
} rank_ctx;

static void mean_gradient(const rank_ctx *r, double *g) {
    for (size_t i = 0; i < N; i++) {
        double sum = 0.0;
        for (int p = 0; p < r->processes; p++)
            sum += r->batches[p].a[i] * (r->w[i] - r->batches[p].c[i]);
        g[i] = sum / r->processes;
    }
}

static double local_loss(const rank_ctx *r, const double *w) {
    const batch *b = &r->batches[r->rank];
    double sum = 0.0;
    for (size_t i = 0; i < N; i++) sum += 0.5 * b->a[i] * (w[i] - b->c[i]) * (w[i] - b->c[i]);
    return sum;
}

static int cb_slopes(void *ctx, double *out, size_t groups) {
    rank_ctx *r = ctx;
    r->slopes_calls++;
    double g[N];
    mean_gradient(r, g);
    for (size_t k = 0; k < groups; k++) {
        out[k] = 0.0;
        for (size_t i = group_begin[k]; i < group_begin[k + 1]; i++) out[k] += g[i] * g[i];
    }
    return 0;
}

static int cb_curvatures(void *ctx, double *out, size_t groups) {
    rank_ctx *r = ctx;
    r->curvature_calls++;
    double g[N];
    mean_gradient(r, g);
    const batch *b = &r->batches[r->rank]; /* the local batch's Hessian */
    for (size_t k = 0; k < groups; k++) {
        out[k] = 0.0;
        for (size_t i = group_begin[k]; i < group_begin[k + 1]; i++) out[k] += b->a[i] * g[i] * g[i];
    }
    return 0;
}

static int cb_set_trial(void *ctx, const double *steps, size_t groups) {
    rank_ctx *r = ctx;
    r->set_trials++;
    memcpy(r->xi, steps, groups * sizeof *steps);
    r->trial = 1;
    return 0;
}

static int cb_loss(void *ctx, double *out) {
    rank_ctx *r = ctx;
    r->losses++;
    if (r->fail_loss_on == r->losses) return 7;
    double w[N], g[N];
    mean_gradient(r, g);
    for (size_t i = 0; i < N; i++) w[i] = r->trial ? r->w[i] - r->xi[i < 3 ? 0 : 1] * g[i] : r->w[i];
    *out = local_loss(r, w);
    if (r->trial && r->nan_trial_on == r->losses) *out = NAN;
    return 0;
}

static int cb_restore(void *ctx) {
    rank_ctx *r = ctx;
    r->restores++;
    r->trial = 0;
    return 0;
}

static int cb_all_reduce(void *ctx, double *values, size_t count) {
    rank_ctx *r = ctx;
    r->reduces++;
    int status = hlrt_reduce(r->reducer, r->rank, values, count);
    if (r->reduce_mode == 2) values[count - 1] = 0.5;
    return status != 0 ? status : r->reduce_mode == 1 ? 99 : 0;
}

static const hlr_step_ops ops_single = {sizeof(hlr_step_ops), cb_slopes, cb_curvatures, cb_set_trial,
                                        cb_loss, cb_restore, NULL};
static const hlr_step_ops ops_distributed = {sizeof(hlr_step_ops), cb_slopes, cb_curvatures, cb_set_trial,
                                             cb_loss, cb_restore, cb_all_reduce};

static void make_batches(batch *b, int processes, uint64_t seed) {
    uint64_t s = seed;
    for (int p = 0; p < processes; p++)
        for (size_t i = 0; i < N; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            b[p].a[i] = 0.5 + (double)(s >> 11) * 0x1.0p-53 * 3.0;
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            b[p].c[i] = (double)(s >> 11) * 0x1.0p-53 * 2.0 - 1.0;
        }
}

static hlr_tuner *make_tuner(int method) {
    hlr_tuner *t = hlrt_create_method(method, GROUPS);
    switch (method) {
    case HLR_METHOD_HESSIANLR: HLRT_SET(t, HLR_PARAM_UPDATE_PERIOD, 2); break;
    case HLR_METHOD_CDAT: HLRT_SET(t, HLR_PARAM_SIGMA, 1.0); break;
    case HLR_METHOD_GEN:
    case HLR_METHOD_HIDLR: HLRT_SET(t, HLR_PARAM_UPDATE_PERIOD, 2); break;
    default: break;
    }
    return t;
}

/* --- 1. distributed == one process fed the mean ----------------------------------------- */

typedef struct {
    rank_ctx ctx;
    hlr_tuner *tuner;
    uint64_t step;
    double current_loss;
    int status;
    size_t rounds, failures;
} rank_job;

static void *run_rank(void *arg) {
    rank_job *job = arg;
    job->status = hlr_tuner_step(job->tuner, job->step, &ops_distributed, &job->ctx, job->current_loss,
                                 &job->rounds, &job->failures);
    return NULL;
}

/* The reference: one process whose callbacks return the mean over the P batches, summed in
 * rank order and divided by P, exactly what the driver computes from the all-reduce. */
typedef struct {
    rank_ctx ranks[MAXP];
    int processes;
} mean_ctx;

#define MEAN_OF(call, count)                                                                \
    do {                                                                                    \
        double sums[GROUPS + 1] = {0}, part[GROUPS + 1];                                    \
        for (int p = 0; p < m->processes; p++) {                                            \
            int st_ = (call);                                                               \
            if (st_ != 0) return st_;                                                       \
            for (size_t i = 0; i < (count); i++) sums[i] += part[i];                        \
        }                                                                                   \
        for (size_t i = 0; i < (count); i++) out[i] = sums[i] / m->processes;              \
    } while (0)

static int mean_slopes(void *ctx, double *out, size_t groups) {
    mean_ctx *m = ctx;
    MEAN_OF(cb_slopes(&m->ranks[p], part, groups), groups);
    return 0;
}
static int mean_curvatures(void *ctx, double *out, size_t groups) {
    mean_ctx *m = ctx;
    MEAN_OF(cb_curvatures(&m->ranks[p], part, groups), groups);
    return 0;
}
static int mean_set_trial(void *ctx, const double *steps, size_t groups) {
    mean_ctx *m = ctx;
    for (int p = 0; p < m->processes; p++) cb_set_trial(&m->ranks[p], steps, groups);
    return 0;
}
static int mean_loss(void *ctx, double *out) {
    mean_ctx *m = ctx;
    MEAN_OF(cb_loss(&m->ranks[p], part), 1);
    return 0;
}
static int mean_restore(void *ctx) {
    mean_ctx *m = ctx;
    for (int p = 0; p < m->processes; p++) cb_restore(&m->ranks[p]);
    return 0;
}

static void test_distributed_equals_the_mean(int method, int processes) {
    batch batches[MAXP];
    make_batches(batches, processes, 0x1234 + (uint64_t)processes);
    double w[N];
    memcpy(w, start_w, sizeof w);
    hlrt_reducer red;
    hlrt_reducer_init(&red, processes);
    rank_job jobs[MAXP];
    for (int p = 0; p < processes; p++) {
        memset(&jobs[p], 0, sizeof jobs[p]);
        jobs[p].ctx = (rank_ctx){.rank = p, .processes = processes, .batches = batches, .w = w, .reducer = &red};
        jobs[p].tuner = make_tuner(method);
    }
    mean_ctx mean = {.processes = processes};
    for (int p = 0; p < processes; p++) mean.ranks[p] = jobs[p].ctx;
    const hlr_step_ops ops_mean = {sizeof(hlr_step_ops), mean_slopes, mean_curvatures, mean_set_trial,
                                   mean_loss, mean_restore, NULL};
    hlr_tuner *reference = make_tuner(method);
    int failed_before = atomic_load(&check_failed_);
    size_t total_rounds = 0;
    for (uint64_t step = 0; step < STEPS; step++) {
        pthread_t threads[MAXP];
        for (int p = 0; p < processes; p++) {
            jobs[p].step = step;
            jobs[p].current_loss = step % 3 == 0 ? NAN : local_loss(&jobs[p].ctx, w);
            pthread_create(&threads[p], NULL, run_rank, &jobs[p]);
        }
        for (int p = 0; p < processes; p++) pthread_join(threads[p], NULL);
        double mean_loss_now = NAN;
        if (step % 3 != 0) {
            double sum = 0.0;
            for (int p = 0; p < processes; p++) sum += jobs[p].current_loss;
            mean_loss_now = sum / processes;
        }
        size_t rounds = 0, failures = 0;
        CHECK_OK(hlr_tuner_step(reference, step, &ops_mean, &mean, mean_loss_now, &rounds, &failures));
        total_rounds += rounds;
        double expected[GROUPS];
        CHECK_OK(hlr_tuner_get_lrs(reference, step, expected, GROUPS));
        for (int p = 0; p < processes; p++) {
            CHECK_EQ_INT(jobs[p].status, HLR_OK);
            CHECK_EQ_INT(jobs[p].rounds, rounds);
            CHECK_EQ_INT(jobs[p].failures, failures);
            double lrs[GROUPS];
            CHECK_OK(hlr_tuner_get_lrs(jobs[p].tuner, step, lrs, GROUPS));
            for (size_t k = 0; k < GROUPS; k++) CHECK_EQ_DBL(lrs[k], expected[k]);
            /* every rank made the same callback calls (a forward pass may be collective) */
            CHECK_EQ_INT(jobs[p].ctx.losses, jobs[0].ctx.losses);
            CHECK_EQ_INT(jobs[p].ctx.reduces, jobs[0].ctx.reduces);
            CHECK_EQ_INT(jobs[p].ctx.set_trials, jobs[0].ctx.set_trials);
            CHECK(!jobs[p].ctx.trial);
        }
        /* one all-reduce per observation */
        CHECK_EQ_INT((size_t)jobs[0].ctx.reduces, total_rounds);
        /* the replicated weights move along the mean gradient with the common rates */
        double g[N];
        mean_gradient(&jobs[0].ctx, g);
        for (size_t i = 0; i < N; i++) w[i] -= expected[i < 3 ? 0 : 1] * g[i];
    }
    if (method != HLR_METHOD_CONSTANT) CHECK(total_rounds > 0);
    if (atomic_load(&check_failed_) != failed_before)
        fprintf(stderr, "    ^ method %d with %d processes\n", method, processes);
    for (int p = 0; p < processes; p++) hlr_tuner_free(jobs[p].tuner);
    hlr_tuner_free(reference);
    hlrt_reducer_destroy(&red);
}

/* --- 2. the failure policy --------------------------------------------------------------- */

static void test_nan_trial_loss_is_a_failed_fit(void) {
    batch batches[1];
    make_batches(batches, 1, 99);
    hlr_tuner *gen = make_tuner(HLR_METHOD_GEN);
    int need = -1;
    size_t count = 0;
    CHECK_OK(hlr_tuner_need(gen, 0, &need, &count));
    CHECK_EQ_INT(need, HLR_NEED_LOSSES);
    CHECK_EQ_INT(count, 3); /* rows -xi, 0, +xi */
    double before[GROUPS], decay = NAN;
    CHECK_OK(hlr_tuner_get_lrs(gen, 0, before, GROUPS));
    CHECK_OK(hlr_tuner_get_param(gen, HLR_PARAM_FIT_FAILURE_DECAY, &decay));
    rank_ctx ctx = {.rank = 0, .processes = 1, .batches = batches, .w = start_w, .nan_trial_on = 1};
    size_t rounds = 0, failures = 0;
    CHECK_OK(hlr_tuner_step(gen, 0, &ops_single, &ctx, 0.5, &rounds, &failures));
    CHECK_EQ_INT(rounds, 1);
    CHECK_EQ_INT(failures, 1);
    CHECK_EQ_INT(ctx.losses, 1);     /* the third row is skipped; the zero row uses current_loss */
    CHECK_EQ_INT(ctx.restores, 1);
    CHECK(!ctx.trial);
    double after[GROUPS], flags = 0;
    CHECK_OK(hlr_tuner_get_lrs(gen, 1, after, GROUPS));
    for (size_t k = 0; k < GROUPS; k++) CHECK_EQ_DBL(after[k], before[k] * decay);
    CHECK_OK(hlr_tuner_get_info(gen, HLR_INFO_LAST_FLAGS, 0, &flags));
    CHECK(((unsigned)flags & HLR_FLAG_OBSERVATION_FAILED) != 0);
    hlr_tuner_free(gen);

    /* Without current_loss the zero row is still evaluated after a diverged trial, so a NaN
     * there is told apart (an error) from a diverged trial (a failed fit). */
    gen = make_tuner(HLR_METHOD_GEN);
    rank_ctx again = {.rank = 0, .processes = 1, .batches = batches, .w = start_w, .nan_trial_on = 1};
    CHECK_OK(hlr_tuner_step(gen, 0, &ops_single, &again, NAN, &rounds, &failures));
    CHECK_EQ_INT(failures, 1);
    CHECK_EQ_INT(again.losses, 2);   /* row 0 (NaN), row 1 (zero, at w); row 2 skipped */
    hlr_tuner_free(gen);

    /* Armijo: a NaN trial fails the sufficient-decrease test: the search backtracks. */
    hlr_tuner *armijo = make_tuner(HLR_METHOD_ARMIJO);
    rank_ctx line = {.rank = 0, .processes = 1, .batches = batches, .w = start_w, .nan_trial_on = 2};
    CHECK_OK(hlr_tuner_step(armijo, 0, &ops_single, &line, NAN, &rounds, &failures));
    CHECK_EQ_INT(failures, 1);
    double backtracks = NAN;
    CHECK_OK(hlr_tuner_get_info(armijo, HLR_INFO_BACKTRACKS, 0, &backtracks));
    CHECK(backtracks >= 1);
    CHECK_EQ_INT(line.restores, line.set_trials); /* one trial row per losses observation */
    hlr_tuner_free(armijo);
}

static void test_nan_at_the_current_weights_is_an_error(void) {
    batch batches[1];
    make_batches(batches, 1, 7);
    hlr_tuner *armijo = make_tuner(HLR_METHOD_ARMIJO);
    rank_ctx ctx = {.rank = 0, .processes = 1, .batches = batches, .w = start_w};
    /* Armijo's slope observation takes L(w): a NaN there cannot be a failed trial. */
    ctx.nan_trial_on = 0;
    batch broken = batches[0];
    broken.c[0] = NAN;
    ctx.batches = &broken;
    CHECK_FAILS_UNCHANGED(armijo, hlr_tuner_step(armijo, 0, &ops_single, &ctx, NAN, NULL, NULL),
                          HLR_ERR_NONFINITE);
    CHECK_ERROR_HAS("not finite");
    hlr_tuner_free(armijo);
}

/* --- 3. restore on every exit path -------------------------------------------------------- */

static void test_restore_after_a_failing_callback(void) {
    batch batches[1];
    make_batches(batches, 1, 3);
    hlr_tuner *gen = make_tuner(HLR_METHOD_GEN);
    rank_ctx ctx = {.rank = 0, .processes = 1, .batches = batches, .w = start_w, .fail_loss_on = 2};
    CHECK_FAILS_UNCHANGED(gen, hlr_tuner_step(gen, 0, &ops_single, &ctx, NAN, NULL, NULL), HLR_ERR_CALLBACK);
    CHECK_ERROR_HAS("ops->loss callback returned 7");
    CHECK_EQ_INT(ctx.restores, 1);
    CHECK(!ctx.trial);
    /* A curvature step never moves the weights: no set_trial, no restore. */
    hlr_tuner *hlr = make_tuner(HLR_METHOD_HESSIANLR);
    rank_ctx c2 = {.rank = 0, .processes = 1, .batches = batches, .w = start_w};
    for (uint64_t step = 0; step < 6; step++) CHECK_OK(hlr_tuner_step(hlr, step, &ops_single, &c2, 1.0, NULL, NULL));
    CHECK(c2.curvature_calls > 0);
    CHECK_EQ_INT(c2.set_trials + c2.restores + c2.losses, 0);
    hlr_tuner_free(hlr);
    hlr_tuner_free(gen);
}

/* --- 4. a wrong all_reduce ----------------------------------------------------------------- */

static void *run_rank_expect_failure(void *arg) { return run_rank(arg); }

static void test_wrong_all_reduce(void) {
    batch batches[2];
    make_batches(batches, 2, 5);
    for (int mode = 1; mode <= 2; mode++) {
        hlrt_reducer red;
        hlrt_reducer_init(&red, 2);
        rank_job jobs[2];
        hlrt_state before[2];
        pthread_t threads[2];
        for (int p = 0; p < 2; p++) {
            memset(&jobs[p], 0, sizeof jobs[p]);
            jobs[p].ctx = (rank_ctx){.rank = p, .processes = 2, .batches = batches, .w = start_w, .reducer = &red,
                                     .reduce_mode = mode};
            jobs[p].tuner = make_tuner(HLR_METHOD_CDAT);
            jobs[p].step = 0;
            jobs[p].current_loss = NAN;
            before[p] = hlrt_capture(jobs[p].tuner);
            pthread_create(&threads[p], NULL, run_rank_expect_failure, &jobs[p]);
        }
        for (int p = 0; p < 2; p++) {
            pthread_join(threads[p], NULL);
            CHECK_EQ_INT(jobs[p].status, HLR_ERR_CALLBACK);
            CHECK(hlrt_same_state(jobs[p].tuner, &before[p]));
            hlrt_release(&before[p]);
            hlr_tuner_free(jobs[p].tuner);
        }
        hlrt_reducer_destroy(&red);
    }
    /* The message names the process count (checked on this thread with one rank whose reduce
     * writes 0.5 as the count: a single "process" reduces with itself). */
    hlrt_reducer solo;
    hlrt_reducer_init(&solo, 1);
    hlr_tuner *t = make_tuner(HLR_METHOD_CDAT);
    rank_ctx ctx = {.rank = 0, .processes = 1, .batches = batches, .w = start_w, .reducer = &solo, .reduce_mode = 2};
    CHECK_FAILS(hlr_tuner_step(t, 0, &ops_distributed, &ctx, NAN, NULL, NULL), HLR_ERR_CALLBACK);
    CHECK_ERROR_HAS("process count");
    /* A correct reduce with one process is the single-process run, bit for bit. */
    hlr_tuner *plain = make_tuner(HLR_METHOD_CDAT);
    ctx.reduce_mode = 0;
    rank_ctx ctx_plain = {.rank = 0, .processes = 1, .batches = batches, .w = start_w};
    for (uint64_t step = 0; step < 5; step++) {
        CHECK_OK(hlr_tuner_step(t, step, &ops_distributed, &ctx, NAN, NULL, NULL));
        CHECK_OK(hlr_tuner_step(plain, step, &ops_single, &ctx_plain, NAN, NULL, NULL));
    }
    hlrt_state a = hlrt_capture(plain);
    CHECK(hlrt_same_state(t, &a));
    hlrt_release(&a);
    hlr_tuner_free(plain);
    hlr_tuner_free(t);
    hlrt_reducer_destroy(&solo);
}

int main(void) {
    const int methods[] = {HLR_METHOD_HESSIANLR, HLR_METHOD_CDAT, HLR_METHOD_GEN,
                           HLR_METHOD_HIDLR, HLR_METHOD_ARMIJO, HLR_METHOD_CONSTANT, HLR_METHOD_AUTO};
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
        for (int processes = 1; processes <= MAXP; processes++)
            test_distributed_equals_the_mean(methods[m], processes);
    test_nan_trial_loss_is_a_failed_fit();
    test_nan_at_the_current_weights_is_an_error();
    test_restore_after_a_failing_callback();
    test_wrong_all_reduce();
    return CHECK_SUMMARY();
}
