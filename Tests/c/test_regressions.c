/*
 * test_regressions.c — the defects an outside test campaign found (issue 11), one test each:
 *
 *   rate_infinity        lr_max = +inf, initial_lr = DBL_MAX, cyclic schedule: rates stay finite
 *   armijo_backtracks    a search with backtracks, then max_backtracks = 0: the snapshot restores
 *   armijo_lr_max        a lowered lr_max applies at once; crafted blobs above lr_max are refused
 *   observe_host_stale   an HVP callback that changes the tuner: observe_host is WRONG_STATE
 *   estimator_work       XTrace with matvecs >> n, and runs whose work exceeds the documented
 *                        bound (EstimatorConfig.WorkBound), are capped or refused at once
 *
 * The property tests (test_properties.c) and test_bounds.c cover their siblings.
 */
#include <float.h>

#include "check.h"

static void test_rate_infinity(void) {
    const int methods[] = {HLR_METHOD_HESSIANLR, HLR_METHOD_CDAT, HLR_METHOD_ARMIJO, HLR_METHOD_CONSTANT,
                           HLR_METHOD_GEN, HLR_METHOD_HIDLR};
    hlr_schedule *s = hlrt_schedule(HLR_SCHEDULE_CYCLIC);
    CHECK_OK(hlr_schedule_set_param(s, HLR_SCHED_PARAM_STEP_SIZE_UP, 1));
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        hlr_tuner *t = hlrt_create_method(methods[i], 1);
        (void)hlr_tuner_set_param(t, HLR_PARAM_LR_MAX, INFINITY); /* Constant has no lr_max */
        /* GeN and Hi-DLR refuse DBL_MAX (probe steps must stay finite); the others accept it. */
        int accepted = hlr_tuner_set_param(t, HLR_PARAM_INITIAL_LR, DBL_MAX) == HLR_OK;
        CHECK(accepted || methods[i] == HLR_METHOD_GEN || methods[i] == HLR_METHOD_HIDLR);
        CHECK_OK(hlr_tuner_set_schedule(t, s));
        for (uint64_t step = 0; step < 8; step++) {
            double lr = hlrt_lr(t, step, 0);
            CHECK(isfinite(lr));
            CHECK(lr >= 0);
        }
        hlr_tuner_free(t);
    }
    hlr_schedule_free(s);
}

/* One Armijo search that backtracks once at step 0 and stays open. */
static hlr_tuner *armijo_after_backtrack(void) {
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_ARMIJO, 1);
    const double slope[2] = {1.0, 1.0};
    CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_SLOPE, slope, 2));
    const double worse = 2.0;
    CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_LOSSES, &worse, 1));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_BACKTRACKS, 0), 1.0);
    return t;
}

static void test_armijo_backtracks(void) {
    hlr_tuner *t = armijo_after_backtrack();
    HLRT_SET(t, HLR_PARAM_MAX_BACKTRACKS, 0);
    hlrt_state snap = hlrt_capture(t);
    hlr_tuner *fresh = hlrt_create_method(HLR_METHOD_ARMIJO, 1);
    CHECK_OK(hlr_tuner_restore(fresh, snap.bytes, snap.size));
    CHECK(hlrt_same_state(fresh, &snap));
    /* The next failed trial ends the search (the limit is below the decreases made). */
    const double worse = 2.0;
    CHECK_OK(hlr_tuner_observe(fresh, 0, HLR_NEED_LOSSES, &worse, 1));
    int need = -1;
    size_t count = 0;
    CHECK_OK(hlr_tuner_need(fresh, 0, &need, &count));
    CHECK_EQ_INT(need, HLR_NEED_NOTHING);
    CHECK(((unsigned)hlrt_info(fresh, HLR_INFO_LAST_FLAGS, 0) & HLR_FLAG_BACKTRACK_LIMIT) != 0);
    hlrt_release(&snap);
    hlr_tuner_free(fresh);
    hlr_tuner_free(t);
}

static void put_double(unsigned char *at, double value) { memcpy(at, &value, sizeof value); }

static void test_armijo_lr_max(void) {
    /* Lowered during a search and after one: the rate and the trial follow at once. */
    hlr_tuner *t = armijo_after_backtrack();
    HLRT_SET(t, HLR_PARAM_LR_MAX, 0.5);
    CHECK(hlrt_lr(t, 0, 0) <= 0.5);
    CHECK(hlrt_info(t, HLR_INFO_TRIAL_LR, 0) <= 0.5);
    hlr_tuner_free(t);

    t = hlrt_create_method(HLR_METHOD_ARMIJO, 1);
    const double slope[2] = {1.0, 1.0};
    CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_SLOPE, slope, 2));
    const double better = 0.0;
    CHECK_OK(hlr_tuner_observe(t, 0, HLR_NEED_LOSSES, &better, 1));
    CHECK_EQ_DBL(hlrt_lr(t, 1, 0), 1.0);
    HLRT_SET(t, HLR_PARAM_LR_MAX, 0.5);
    CHECK_EQ_DBL(hlrt_lr(t, 1, 0), 0.5);
    /* A reset of the options brings lr_max back to its default; the rate stays within it. */
    HLRT_SET(t, HLR_PARAM_LR_MAX, 100.0);
    HLRT_SET(t, HLR_PARAM_INITIAL_LR, 50.0);
    CHECK_OK(hlr_tuner_reset(t, HLR_RESET_OPTIONS));
    CHECK(hlrt_lr(t, 1, 0) <= 1.0);

    /* A crafted snapshot (valid CRC) holding a rate above its own lr_max is refused: find the
     * stored rate 0.5 in the payload, raise it to 0.75 with lr_max 0.5, reseal. */
    HLRT_SET(t, HLR_PARAM_LR_MAX, 0.5);
    hlrt_state snap = hlrt_capture(t);
    int found = 0;
    for (size_t at = 16; at + 8 <= snap.size - 4; at++) {
        double value;
        memcpy(&value, snap.bytes + at, sizeof value);
        if (value != 0.5 || at < 16 + 8 * 2) continue; /* skip the options' own lr_max */
        unsigned char *blob = malloc(snap.size);
        memcpy(blob, snap.bytes, snap.size);
        put_double(blob + at, 0.75);
        /* CRC-32 (IEEE) of bytes [0, size - 4). */
        uint32_t crc = 0xFFFFFFFFu;
        for (size_t i = 0; i < snap.size - 4; i++) {
            crc ^= blob[i];
            for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
        crc ^= 0xFFFFFFFFu;
        for (int b = 0; b < 4; b++) blob[snap.size - 4 + b] = (unsigned char)(crc >> (8 * b));
        hlr_tuner *target = hlrt_create_method(HLR_METHOD_ARMIJO, 1);
        int status = hlr_tuner_restore(target, blob, snap.size);
        if (status == HLR_ERR_SNAPSHOT_CORRUPT && strstr(hlr_last_error(), "lr_max") != NULL) found = 1;
        /* Whatever the field was, a restored handle never hands out more than lr_max. */
        if (status == HLR_OK) CHECK(hlrt_lr(target, 1, 0) <= 0.5);
        hlr_tuner_free(target);
        free(blob);
    }
    CHECK(found);
    hlrt_release(&snap);
    hlr_tuner_free(t);
}

typedef struct {
    hlr_tuner *tuner;
    int calls;
} stale_ctx;

/* A correct HVP (identity) that, on its first call, sets another direction on the tuner. */
static int hvp_that_changes_tuner(void *ctx, const double *v, double *out, size_t n) {
    stale_ctx *c = ctx;
    if (c->calls++ == 0) (void)hlr_tuner_set_param(c->tuner, HLR_PARAM_SMOOTHING, 0.5);
    for (size_t i = 0; i < n; i++) out[i] = v[i];
    return 0;
}

static void test_observe_host_stale(void) {
    enum { N = 6 };
    double g[N] = {1, 2, 3, 4, 5, 6};
    hlr_tuner *t = hlrt_create_method(HLR_METHOD_HESSIANLR, 1);
    stale_ctx c = {t, 0};
    double updates_before = hlrt_info(t, HLR_INFO_UPDATES, 0);
    CHECK_FAILS(hlr_tuner_observe_host_f64(t, 0, g, NULL, N, NULL, 0, hvp_that_changes_tuner, &c),
                HLR_ERR_WRONG_STATE);
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), updates_before);
    /* The callback's own change stays; the observation can be made again. */
    double smoothing = 0;
    CHECK_OK(hlr_tuner_get_param(t, HLR_PARAM_SMOOTHING, &smoothing));
    CHECK_EQ_DBL(smoothing, 0.5);
    CHECK_OK(hlr_tuner_observe_host_f64(t, 0, g, NULL, N, NULL, 0, hvp_that_changes_tuner, &c));
    CHECK_EQ_DBL(hlrt_info(t, HLR_INFO_UPDATES, 0), updates_before + 1);
    hlr_tuner_free(t);
}

static int scaled_identity(void *ctx, const double *v, double *out, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n; i++) out[i] = (1.0 + (double)i) * v[i];
    return 0;
}

static void test_estimator_work(void) {
    enum { N = 3 };
    /* XTrace: 131072 matvecs on n = 41 used to allocate s^2 doubles (34 GB) and abort; the same
     * on n = 3 (cheap under valgrind). With s > n test vectors the sketch spans the space and
     * the trace is exact. */
    hlr_estimator *e = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_XTRACE, &e));
    CHECK_OK(hlr_estimator_set_param(e, HLR_EST_PARAM_MATVECS, 131072));
    CHECK_OK(hlr_estimator_run_host_f64(e, N, scaled_identity, NULL));
    double trace = 0, hvps = 0;
    CHECK_OK(hlr_estimator_get_result(e, HLR_RESULT_TRACE, &trace, 1));
    CHECK_OK(hlr_estimator_get_result(e, HLR_RESULT_HVPS, &hvps, 1));
    CHECK_NEAR(trace, N * (N + 1) / 2.0, 1e-9);
    CHECK(hvps <= 131072 / 2 + N); /* s columns, then Z = AQ for the min(s, n) basis vectors */
    hlr_estimator_free(e);

    /* Power iteration: count x max_iterations above 2^31 HVPs is refused before any HVP. */
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_POWER_ITERATION, &e));
    CHECK_OK(hlr_estimator_set_param(e, HLR_EST_PARAM_COUNT, N));
    CHECK_OK(hlr_estimator_set_param(e, HLR_EST_PARAM_MAX_ITERATIONS, 2147483648.0));
    CHECK_FAILS(hlr_estimator_run_host_f64(e, N, scaled_identity, NULL), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("count × max_iterations");
    hlr_estimator_free(e);

    /* Spectral density: runs x min(steps, n) x grid_points above 2^34 terms is refused. */
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_SPECTRAL_DENSITY, &e));
    CHECK_OK(hlr_estimator_set_param(e, HLR_EST_PARAM_RUNS, 65536));
    CHECK_OK(hlr_estimator_set_param(e, HLR_EST_PARAM_GRID_POINTS, 10000000));
    CHECK_FAILS(hlr_estimator_run_host_f64(e, N, scaled_identity, NULL), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("grid_points");
    hlr_estimator_free(e);
}

int main(void) {
    test_rate_infinity();
    test_armijo_backtracks();
    test_armijo_lr_max();
    test_observe_host_stale();
    test_estimator_work();
    return CHECK_SUMMARY();
}
