/* Every function's failure paths: the documented status, a non-empty hlr_last_error() that
 * names the function and the bad value, and a handle whose snapshot is byte for byte the same
 * before and after the failing call.
 *
 * The first part tests the tuner surface in depth. The second part is the bad-input matrix
 * (issue 6): one ROW per function of include/hessianlr.h, listing the classes of bad input its
 * case function exercises. Tests/c/gen_matrix.py (run by this test) parses every prototype of the
 * header and fails if a function has no row or a row lacks a class its parameters require; this
 * program fails if a row's case function does not exercise exactly the classes the row lists. */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define HLR_EXPERIMENTAL  /* hlr_tuner_plan is in the matrix too */
#include "check.h"

/* The lowercase names the messages use for the option keys (HLR_PARAM_<NAME> lowercased). */
static const char *const param_names[] = {
    NULL,          "initial_lr", "warmup_steps", "update_period",           "lr_bound_low",
    "lr_bound_high", "lr_min",   "lr_max",       "smoothing", "negative_curvature_decay",
    "direction",
};
enum { FIRST_PARAM = 1, LAST_PARAM = 10 };

static int hvp_identity_f64(void *ctx, const double *v, double *out, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n; i++) out[i] = v[i];
    return 0;
}

static int hvp_identity_f32(void *ctx, const float *v, float *out, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n; i++) out[i] = v[i];
    return 0;
}

/* A 2-group handle with non-default options and two observations applied. */
static hlr_tuner *make_busy_handle(void) {
    hlr_tuner *t = hlrt_create(2);
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_WARMUP_STEPS, 2));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 3));
    CHECK_OK(hlr_tuner_set_group_param(t, 0, HLR_PARAM_INITIAL_LR, 0.01));
    CHECK_OK(hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, 0.02));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_SMOOTHING, 0.5));
    const double obs2[4] = {4.0, 2.0, 1.0, 50.0};
    const double obs5[4] = {3.0, 1.0, 2.0, 30.0};
    CHECK_OK(hlr_tuner_observe_curvature(t, 2, obs2, 4));
    CHECK_OK(hlr_tuner_observe_curvature(t, 5, obs5, 4));
    return t;
}

/* Every function that takes a handle, called with `bad` and otherwise valid arguments. */
/* A well-formed snapshot (made before any handle under test is freed, so that creating its
 * donor cannot hand a freed address out again), so restore fails only because of the handle. */
static unsigned char good_snapshot[1024];
static size_t good_snapshot_size;

static void check_every_call_rejects(hlr_tuner *bad, const char *what) {
    fprintf(stderr, "-- handle: %s\n", what);
    int i32 = 0;
    size_t size = 0;
    double d = 0.0;
    double lrs[2] = {0};
    const double obs[2] = {1.0, 1.0};
    const double g64[3] = {1.0, 2.0, 3.0};
    const float g32[3] = {1.0f, 2.0f, 3.0f};
    unsigned char buffer[1024];
    memset(buffer, 0, sizeof buffer);

#define REJECTS(function, call)                                \
    do {                                                       \
        CHECK_FAILS(call, HLR_ERR_INVALID_HANDLE);             \
        CHECK_ERROR_HAS(function);                             \
        CHECK_ERROR_HAS("handle");                             \
    } while (0)

    REJECTS("hlr_tuner_reset", hlr_tuner_reset(bad, HLR_RESET_ALL));
    REJECTS("hlr_tuner_method", hlr_tuner_method(bad, &i32));
    REJECTS("hlr_tuner_group_count", hlr_tuner_group_count(bad, &size));
    REJECTS("hlr_tuner_set_param", hlr_tuner_set_param(bad, HLR_PARAM_SMOOTHING, 0.5));
    REJECTS("hlr_tuner_get_param", hlr_tuner_get_param(bad, HLR_PARAM_SMOOTHING, &d));
    REJECTS("hlr_tuner_set_group_param",
            hlr_tuner_set_group_param(bad, 0, HLR_PARAM_INITIAL_LR, 0.1));
    REJECTS("hlr_tuner_get_group_param",
            hlr_tuner_get_group_param(bad, 0, HLR_PARAM_INITIAL_LR, &d));
    REJECTS("hlr_tuner_get_info", hlr_tuner_get_info(bad, HLR_INFO_UPDATES, 0, &d));
    REJECTS("hlr_tuner_wants_curvature", hlr_tuner_wants_curvature(bad, 0, &i32));
    REJECTS("hlr_tuner_observe_curvature", hlr_tuner_observe_curvature(bad, 0, obs, 2));
    REJECTS("hlr_tuner_get_lr", hlr_tuner_get_lr(bad, 0, 0, &d));
    REJECTS("hlr_tuner_get_lrs", hlr_tuner_get_lrs(bad, 0, lrs, 1));
    REJECTS("hlr_tuner_observe_host_f32",
            hlr_tuner_observe_host_f32(bad, 0, g32, NULL, 3, NULL, 0, hvp_identity_f32, NULL));
    REJECTS("hlr_tuner_observe_host_f64",
            hlr_tuner_observe_host_f64(bad, 0, g64, NULL, 3, NULL, 0, hvp_identity_f64, NULL));
    REJECTS("hlr_tuner_snapshot_size", hlr_tuner_snapshot_size(bad, &size));
    REJECTS("hlr_tuner_save", hlr_tuner_save(bad, buffer, sizeof buffer, &size));
    REJECTS("hlr_tuner_restore", hlr_tuner_restore(bad, good_snapshot, good_snapshot_size));
    if (bad != NULL) REJECTS("hlr_tuner_free", hlr_tuner_free(bad));
#undef REJECTS
}

static void test_invalid_handles(void) {
    hlr_tuner *donor = hlrt_create(1);
    CHECK_OK(hlr_tuner_save(donor, good_snapshot, sizeof good_snapshot, &good_snapshot_size));
    CHECK_OK(hlr_tuner_free(donor));
    hlr_tuner *bystander = make_busy_handle();
    hlrt_state before = hlrt_capture(bystander);

    check_every_call_rejects(NULL, "NULL");
    CHECK_OK(hlr_tuner_free(NULL)); /* free(NULL) is a no-op */

    /* Garbage values: never dereferenced. */
    check_every_call_rejects((hlr_tuner *)(uintptr_t)0xdeadbeefu, "0xdeadbeef");
    check_every_call_rejects((hlr_tuner *)(uintptr_t)1u, "0x1");
    check_every_call_rejects((hlr_tuner *)(uintptr_t)UINTPTR_MAX, "UINTPTR_MAX");
    int on_stack = 42;
    check_every_call_rejects((hlr_tuner *)(void *)&on_stack, "a stack address");
    check_every_call_rejects((hlr_tuner *)(void *)((char *)bystander + 8), "live handle + 8");

    /* Freed handles, and a double free. (No handle is created between the free and the calls,
     * so the address cannot have been handed out again.) */
    hlr_tuner *freed = hlrt_create(1);
    CHECK_OK(hlr_tuner_free(freed));
    CHECK_FAILS(hlr_tuner_free(freed), HLR_ERR_INVALID_HANDLE);
    CHECK_ERROR_HAS("hlr_tuner_free");
    check_every_call_rejects(freed, "freed");

    /* A live handle of another kind names the kind it is not, with its article. */
    CHECK_FAILS(hlr_estimator_free((hlr_estimator *)(void *)bystander), HLR_ERR_INVALID_HANDLE);
    CHECK_ERROR_HAS("is not an estimator");
    CHECK_FAILS(hlr_schedule_free((hlr_schedule *)(void *)bystander), HLR_ERR_INVALID_HANDLE);
    CHECK_ERROR_HAS("is not a schedule");

    CHECK(hlrt_same_state(bystander, &before));
    hlrt_release(&before);
    CHECK_OK(hlr_tuner_free(bystander));

    /* A freed handle stays invalid after later creations: it must not come back to life as
     * (or alias) a newly created tuner, or a stale handle / double free in a binding would act
     * on somebody else's tuner. */
    hlr_tuner *stale = hlrt_create(1);
    CHECK_OK(hlr_tuner_free(stale));
    hlr_tuner *later[4];
    for (int i = 0; i < 4; i++) later[i] = hlrt_create(3);
    size_t groups = 0;
    CHECK_FAILS(hlr_tuner_group_count(stale, &groups), HLR_ERR_INVALID_HANDLE);
    CHECK_FAILS(hlr_tuner_free(stale), HLR_ERR_INVALID_HANDLE);
    for (int i = 0; i < 4; i++) {
        /* Still live (a stale free above must not have freed one of them). */
        CHECK_OK(hlr_tuner_group_count(later[i], &groups));
        CHECK_EQ_INT(groups, 3);
    }
    for (int i = 0; i < 4; i++) hlr_tuner_free(later[i]);
}

static void test_param_bounds_errors(void) {
    double lo = 0, hi = 0, def = 0;
    const int methods[] = {0, 99, -1, 1000, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        CHECK_FAILS(hlr_param_bounds(methods[i], HLR_PARAM_SMOOTHING, &lo, &hi, &def),
                    HLR_ERR_UNKNOWN_METHOD);
        char text[32];
        snprintf(text, sizeof text, "%d", methods[i]);
        CHECK_ERROR_HAS(text);
        CHECK_ERROR_HAS("hlr_param_bounds");
    }
    const int keys[] = {0, 11, 12, -1, 999, INT32_MIN};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        lo = hi = def = 77.0;
        CHECK_FAILS(hlr_param_bounds(HLR_METHOD_HESSIANLR, keys[i], &lo, &hi, &def),
                    HLR_ERR_UNKNOWN_KEY);
        char text[32];
        snprintf(text, sizeof text, "%d", keys[i]);
        CHECK_ERROR_HAS(text);
        CHECK(lo == 77.0 && hi == 77.0 && def == 77.0); /* outputs untouched on failure */
    }
    /* NULL outputs are allowed. */
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_SMOOTHING, NULL, NULL, NULL));
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_SMOOTHING, &lo, NULL, NULL));
    CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_SMOOTHING, NULL, &hi, &def));
    CHECK(hi < 1.0 && def == 0.9);
}

static void test_create_errors(void) {
    hlr_tuner *out = (hlr_tuner *)(uintptr_t)0x1234;
    CHECK_FAILS(hlr_tuner_create(HLR_METHOD_HESSIANLR, 1, NULL), HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("out");
    CHECK_FAILS(hlr_tuner_create(0, 1, &out), HLR_ERR_UNKNOWN_METHOD);
    CHECK(out == NULL);
    CHECK_ERROR_HAS("hlr_tuner_create");
    CHECK_ERROR_HAS("0");
    out = (hlr_tuner *)(uintptr_t)0x1234;
    CHECK_FAILS(hlr_tuner_create(77, 1, &out), HLR_ERR_UNKNOWN_METHOD);
    CHECK_ERROR_HAS("77");
    CHECK(out == NULL);
    const size_t bad_groups[] = {0, ((size_t)1 << 20) + 1, (size_t)1 << 30, ((size_t)1 << 30) + 1,
                                 (size_t)1 << 40, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_groups / sizeof bad_groups[0]; i++) {
        out = (hlr_tuner *)(uintptr_t)0x1234;
        CHECK_FAILS(hlr_tuner_create(HLR_METHOD_HESSIANLR, bad_groups[i], &out),
                    HLR_ERR_INVALID_ARGUMENT);
        CHECK(out == NULL);
        char text[32];
        snprintf(text, sizeof text, "%zu", bad_groups[i]);
        CHECK_ERROR_HAS(text);
        CHECK_ERROR_HAS("groups");
        if (bad_groups[i] > 0) CHECK_ERROR_HAS("at most 1048576"); /* was 1073741824 beyond 2^30 */
    }
    /* The largest documented group count works. */
    CHECK_OK(hlr_tuner_create(HLR_METHOD_HESSIANLR, (size_t)1 << 20, &out));
    CHECK(out != NULL);
    CHECK_OK(hlr_tuner_free(out));
}

static void test_null_outputs(void) {
    hlr_tuner *t = make_busy_handle();
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_method(t, NULL), HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_group_count(t, NULL), HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_param(t, HLR_PARAM_SMOOTHING, NULL),
                          HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_group_param(t, 1, HLR_PARAM_INITIAL_LR, NULL),
                          HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_info(t, HLR_INFO_UPDATES, 0, NULL),
                          HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_wants_curvature(t, 8, NULL), HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, NULL, 4), HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("values");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_lr(t, 8, 0, NULL), HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_lrs(t, 8, NULL, 2), HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_snapshot_size(t, NULL), HLR_ERR_NULL_POINTER);
    size_t written = 0;
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_save(t, NULL, 4096, &written), HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("buffer");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, NULL, 100), HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, NULL, 0), HLR_ERR_NULL_POINTER);

    const size_t offsets[3] = {0, 2, 4};
    const double g64[4] = {1, 2, 3, 4};
    const float g32[4] = {1, 2, 3, 4};
    CHECK_FAILS_UNCHANGED(
        t, hlr_tuner_observe_host_f64(t, 8, NULL, NULL, 4, offsets, 3, hvp_identity_f64, NULL),
        HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("gradient");
    CHECK_FAILS_UNCHANGED(
        t, hlr_tuner_observe_host_f32(t, 8, NULL, NULL, 4, offsets, 3, hvp_identity_f32, NULL),
        HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 8, g64, NULL, 4, offsets, 3, NULL, NULL),
                          HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("hvp");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f32(t, 8, g32, NULL, 4, offsets, 3, NULL, NULL),
                          HLR_ERR_NULL_POINTER);
    /* 2 groups need offsets. */
    CHECK_FAILS_UNCHANGED(
        t, hlr_tuner_observe_host_f64(t, 8, g64, NULL, 4, NULL, 3, hvp_identity_f64, NULL),
        HLR_ERR_NULL_POINTER);
    CHECK_FAILS_UNCHANGED(
        t, hlr_tuner_observe_host_f64(t, 8, g64, NULL, 4, NULL, 0, hvp_identity_f64, NULL),
        HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("group_offsets");
    /* Direction update without an update buffer. */
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_DIRECTION, HLR_DIRECTION_UPDATE));
    CHECK_FAILS_UNCHANGED(
        t, hlr_tuner_observe_host_f64(t, 8, g64, NULL, 4, offsets, 3, hvp_identity_f64, NULL),
        HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("update");
    CHECK_FAILS_UNCHANGED(
        t, hlr_tuner_observe_host_f32(t, 8, g32, NULL, 4, offsets, 3, hvp_identity_f32, NULL),
        HLR_ERR_NULL_POINTER);

    /* Optional outputs: written may be NULL; lo/hi/def may be NULL (test_param_bounds). */
    unsigned char buffer[4096];
    CHECK_OK(hlr_tuner_save(t, buffer, sizeof buffer, NULL));
    CHECK_OK(hlr_tuner_free(t));
}

static void test_param_errors(void) {
    hlr_tuner *t = make_busy_handle();
    char text[256];

    /* Unknown keys, on every key-taking function. */
    const int bad_keys[] = {0, 11, -1, 1000, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        double value = 3.25;
        snprintf(text, sizeof text, "%d", bad_keys[i]);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, bad_keys[i], 0.5), HLR_ERR_UNKNOWN_KEY);
        CHECK_ERROR_HAS(text);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_param(t, bad_keys[i], &value), HLR_ERR_UNKNOWN_KEY);
        CHECK_ERROR_HAS(text);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_group_param(t, 0, bad_keys[i], 0.5),
                              HLR_ERR_UNKNOWN_KEY);
        CHECK_ERROR_HAS(text);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_group_param(t, 0, bad_keys[i], &value),
                              HLR_ERR_UNKNOWN_KEY);
        CHECK_ERROR_HAS(text);
        CHECK(value == 3.25);
    }
    const int bad_info[] = {0, 9, -1, 100}; /* 9: fit_intercept, which HessianLR lacks */
    for (size_t i = 0; i < sizeof bad_info / sizeof bad_info[0]; i++) {
        double value = 3.25;
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_info(t, bad_info[i], 0, &value), HLR_ERR_UNKNOWN_KEY);
        snprintf(text, sizeof text, "%d", bad_info[i]);
        CHECK_ERROR_HAS(text);
        CHECK(value == 3.25);
    }

    /* NaN and +-Inf for every option, through both setters; an infinity is taken only where it
     * is the option's bound (hlr_param_bounds: lr_max = +inf, no ceiling). */
    for (int key = FIRST_PARAM; key <= LAST_PARAM; key++) {
        const double values[] = {NAN, INFINITY, -INFINITY};
        const char *spelled[] = {"nan", "inf", "-inf"};
        double lo = 0, hi = 0, def = 0;
        CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, key, &lo, &hi, &def));
        for (int v = 0; v < 3; v++) {
            if (values[v] == hi || values[v] == lo) {
                CHECK_OK(hlr_tuner_set_param(t, key, values[v]));
                CHECK_OK(hlr_tuner_set_param(t, key, def));
                continue;
            }
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, key, values[v]),
                                  HLR_ERR_INVALID_ARGUMENT);
            CHECK_ERROR_HAS(param_names[key]);
            CHECK_ERROR_HAS(spelled[v]);
            CHECK_ERROR_HAS("hlr_tuner_set_param");
        }
    }
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, NAN),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("initial_lr");
    CHECK_ERROR_HAS("nan");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_group_param(t, 0, HLR_PARAM_INITIAL_LR, INFINITY),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_group_param(t, 0, HLR_PARAM_INITIAL_LR, -INFINITY),
                          HLR_ERR_INVALID_ARGUMENT);

    /* Just outside every option's range (hlr_param_bounds), and well outside. */
    for (int key = FIRST_PARAM; key <= LAST_PARAM; key++) {
        double lo = 0, hi = 0, def = 0;
        CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, key, &lo, &hi, &def));
        CHECK(lo <= def && def <= hi);
        const double below[] = {nextafter(lo, -INFINITY), lo - 1.0, -DBL_MAX};
        for (int i = 0; i < 3; i++) {
            if (!(below[i] < lo)) continue;
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, key, below[i]),
                                  HLR_ERR_INVALID_ARGUMENT);
            CHECK_ERROR_HAS(param_names[key]);
        }
        if (hi < DBL_MAX) {
            const double above[] = {nextafter(hi, INFINITY), hi + 1.0, hi * 2.0, DBL_MAX};
            for (int i = 0; i < 4; i++) {
                if (!(above[i] > hi)) continue;
                CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, key, above[i]),
                                      HLR_ERR_INVALID_ARGUMENT);
                CHECK_ERROR_HAS(param_names[key]);
            }
        }
    }
    /* The messages name the option and the value. */
    const struct {
        int key;
        double value;
        const char *value_text;
    } named[] = {
        {HLR_PARAM_SMOOTHING, 1.5, "1.5"}, /* the header's own example message */
        {HLR_PARAM_SMOOTHING, -0.25, "-0.25"},
        {HLR_PARAM_LR_BOUND_LOW, 1.5, "1.5"},
        {HLR_PARAM_LR_BOUND_LOW, 0.0, "0"},
        {HLR_PARAM_LR_BOUND_HIGH, 0.5, "0.5"},
        {HLR_PARAM_NEGATIVE_CURVATURE_DECAY, 1.25, "1.25"},
        {HLR_PARAM_NEGATIVE_CURVATURE_DECAY, 0.0, "0"},
        {HLR_PARAM_INITIAL_LR, -1.0, "-1"},
        {HLR_PARAM_INITIAL_LR, 0.0, "0"},
        {HLR_PARAM_LR_MIN, -3.0, "-3"},
        {HLR_PARAM_LR_MAX, 0.0, "0"},
        {HLR_PARAM_LR_MAX, -2.0, "-2"},
        {HLR_PARAM_UPDATE_PERIOD, 0.0, "0"},
        {HLR_PARAM_WARMUP_STEPS, -4.0, "-4"},
        {HLR_PARAM_DIRECTION, 2.0, "2"},
        {HLR_PARAM_DIRECTION, -1.0, "-1"},
        /* Integer options reject fractions. */
        {HLR_PARAM_WARMUP_STEPS, 2.5, "2.5"},
        {HLR_PARAM_UPDATE_PERIOD, 10.5, "10.5"},
        {HLR_PARAM_UPDATE_PERIOD, 1.0000000000000002, "1.0000000000000002"},
        {HLR_PARAM_DIRECTION, 0.5, "0.5"},
        {HLR_PARAM_WARMUP_STEPS, 9007199254740994.0, "9.007199254740994e+15"},
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, named[i].key, named[i].value),
                              HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS(param_names[named[i].key]);
        CHECK_ERROR_HAS(named[i].value_text);
    }
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, HLR_PARAM_WARMUP_STEPS, 2.5),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("integer");

    /* lr_min > lr_max, from either side (defaults 1e-8 and 1.0). */
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, HLR_PARAM_LR_MIN, 2.0), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("lr_min");
    CHECK_ERROR_HAS("lr_max");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, HLR_PARAM_LR_MIN, nextafter(1.0, 2.0)),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, HLR_PARAM_LR_MAX, 5e-9), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("lr_min");
    CHECK_ERROR_HAS("lr_max");
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_MIN, 1.0)); /* equal is fine */
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_MIN, 1e-8));

    /* Group index out of range, and a handle-wide key set per group. */
    const size_t bad_groups[] = {2, 3, 1000, (size_t)1 << 40, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_groups / sizeof bad_groups[0]; i++) {
        double value = 3.25;
        snprintf(text, sizeof text, "%zu", bad_groups[i]);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_group_param(t, bad_groups[i], HLR_PARAM_INITIAL_LR, 0.1),
                              HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS("group");
        CHECK_ERROR_HAS(text);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_group_param(t, bad_groups[i], HLR_PARAM_INITIAL_LR, &value),
                              HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS(text);
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_lr(t, 8, bad_groups[i], &value), HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS(text);
        for (int key = HLR_INFO_LAST_CANDIDATE; key <= HLR_INFO_LAST_SLOPE; key++) {
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_info(t, key, bad_groups[i], &value),
                                  HLR_ERR_INVALID_ARGUMENT);
            CHECK_ERROR_HAS(text);
        }
        CHECK(value == 3.25);
    }
    for (int key = FIRST_PARAM; key <= LAST_PARAM; key++) {
        if (key == HLR_PARAM_INITIAL_LR) continue;
        double lo = 0, def = 0;
        CHECK_OK(hlr_param_bounds(HLR_METHOD_HESSIANLR, key, &lo, NULL, &def));
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_group_param(t, 0, key, def), HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS(param_names[key]);
    }
    /* Handle-wide keys ignore the group argument of hlr_tuner_get_info (header). */
    double value = -1;
    CHECK_OK(hlr_tuner_get_info(t, HLR_INFO_UPDATES, 5, &value));
    CHECK(value == 2.0);
    CHECK_OK(hlr_tuner_get_info(t, HLR_INFO_LAST_STEP, 1000, &value));
    CHECK(value == 5.0);
    value = -1;
    CHECK_OK(hlr_tuner_get_info(t, HLR_INFO_NEXT_CURVATURE_STEP, SIZE_MAX, &value));
    CHECK(value == 8.0);

    /* Reset with an invalid selector. */
    const int selectors[] = {0, 4, 5, 7, -1, -3, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof selectors / sizeof selectors[0]; i++) {
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_reset(t, selectors[i]), HLR_ERR_INVALID_ARGUMENT);
        snprintf(text, sizeof text, "%d", selectors[i]);
        CHECK_ERROR_HAS(text);
        CHECK_ERROR_HAS("hlr_tuner_reset");
    }
    CHECK_OK(hlr_tuner_free(t));
}

/* observe_curvature with a huge n must fail with INVALID_ARGUMENT. Run in a child process: a
 * library that copied n doubles before checking n would crash (or read far out of bounds). */
static void check_huge_n_in_child(size_t n) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        CHECK(!"fork failed");
        return;
    }
    if (pid == 0) {
        hlr_tuner *t = NULL;
        if (hlr_tuner_create(HLR_METHOD_HESSIANLR, 1, &t) != HLR_OK) _exit(90);
        double values[4] = {1.0, 1.0, 1.0, 1.0};
        int status = hlr_tuner_observe_curvature(t, 0, values, n);
        int wants = -1;
        hlr_tuner_wants_curvature(t, 0, &wants);
        hlr_tuner_free(t);
        _exit(status == HLR_ERR_INVALID_ARGUMENT && wants == 1 ? 0 : 91);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(stderr, "observe_curvature(n = %zu) on a 4-double buffer: child %s %d\n", n,
                WIFSIGNALED(status) ? "killed by signal" : "exited with",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_observe_errors(void) {
    hlr_tuner *t = make_busy_handle(); /* W = 2, P = 3, observed 2 and 5: next is 8 */
    char text[128];
    double values[8] = {1.0, 2.0, 1.0, 4.0, 0.0, 0.0, 0.0, 0.0};

    /* Steps that want no curvature: never observed, and not increasing. */
    const uint64_t unwanted[] = {0, 1, 2, 3, 5, 6, 7, 9, UINT64_MAX - 2};
    for (size_t i = 0; i < sizeof unwanted / sizeof unwanted[0]; i++) {
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, unwanted[i], values, 4),
                              HLR_ERR_WRONG_STATE);
        snprintf(text, sizeof text, "%llu", (unsigned long long)unwanted[i]);
        CHECK_ERROR_HAS(text);
    }
    /* Wrong counts at a step that wants one (2 groups: n = 4). */
    const size_t counts[] = {0, 1, 2, 3, 5, 6, 8};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, values, counts[i]),
                              HLR_ERR_INVALID_ARGUMENT);
        snprintf(text, sizeof text, "got %zu", counts[i]);
        CHECK_ERROR_HAS(text);
    }
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, NULL, 0), HLR_ERR_INVALID_ARGUMENT);
    /* Huge n: refused without touching the buffer. */
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, values, SIZE_MAX),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("18446744073709551615");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, values, SIZE_MAX / 8),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, values, (size_t)1 << 41),
                          HLR_ERR_INVALID_ARGUMENT);
    check_huge_n_in_child((size_t)1 << 40);
    check_huge_n_in_child(((size_t)1 << 36) + 1);

    /* Non-finite observations, in each slot. */
    const double finite[4] = {1.0, 2.0, 1.0, 4.0};
    hlrt_check_nonfinite_curvature(t, 8, finite);
    /* Negative g'g with direction gradient (either group). */
    const double negative0[4] = {-1.0, 2.0, 1.0, 4.0};
    const double negative1[4] = {1.0, 2.0, -0.5, 4.0};
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, negative0, 4), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("negative");
    CHECK_ERROR_HAS("-1");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, negative1, 4), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("-0.5");

    /* get_lrs with a wrong n. */
    double lrs[8] = {0};
    const size_t lr_counts[] = {0, 1, 3, 8, SIZE_MAX};
    for (size_t i = 0; i < sizeof lr_counts / sizeof lr_counts[0]; i++) {
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_lrs(t, 8, lrs, lr_counts[i]), HLR_ERR_INVALID_ARGUMENT);
        snprintf(text, sizeof text, "%zu", lr_counts[i]);
        CHECK_ERROR_HAS(text);
    }
    for (int i = 0; i < 8; i++) CHECK(lrs[i] == 0.0); /* nothing written on failure */

    /* Host mode argument errors. */
    const double g64[4] = {1, 2, 3, 4};
    const float g32[4] = {1, 2, 3, 4};
    const size_t good[3] = {0, 2, 4};
    const size_t not_from_zero[3] = {1, 2, 4};
    const size_t decreasing[3] = {0, 3, 2};
    const size_t short_end[3] = {0, 2, 3};
    const size_t long_end[3] = {0, 2, 5};
    const size_t *bad_offsets[] = {not_from_zero, decreasing, short_end, long_end};
    const char *offset_text[] = {"group_offsets[0]", "group_offsets[2]", "group_offsets[2]",
                                 "group_offsets[2]"};
    for (int i = 0; i < 4; i++) {
        CHECK_FAILS_UNCHANGED(
            t, hlr_tuner_observe_host_f64(t, 8, g64, NULL, 4, bad_offsets[i], 3, hvp_identity_f64, NULL),
            HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS(offset_text[i]);
        CHECK_FAILS_UNCHANGED(
            t, hlr_tuner_observe_host_f32(t, 8, g32, NULL, 4, bad_offsets[i], 3, hvp_identity_f32, NULL),
            HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS(offset_text[i]);
    }
    const size_t n_offsets[] = {0, 1, 2, 4, SIZE_MAX};
    for (size_t i = 0; i < sizeof n_offsets / sizeof n_offsets[0]; i++) {
        CHECK_FAILS_UNCHANGED(
            t, hlr_tuner_observe_host_f64(t, 8, g64, NULL, 4, good, n_offsets[i], hvp_identity_f64, NULL),
            HLR_ERR_INVALID_ARGUMENT);
        snprintf(text, sizeof text, "%zu", n_offsets[i]);
        CHECK_ERROR_HAS(text);
        CHECK_ERROR_HAS("n_offsets");
    }
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 8, g64, NULL, 0, good, 3, hvp_identity_f64, NULL),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_FAILS_UNCHANGED(
        t, hlr_tuner_observe_host_f64(t, 8, g64, NULL, SIZE_MAX, good, 3, hvp_identity_f64, NULL),
        HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("18446744073709551615");
    CHECK_FAILS_UNCHANGED(
        t, hlr_tuner_observe_host_f32(t, 8, g32, NULL, SIZE_MAX, good, 3, hvp_identity_f32, NULL),
        HLR_ERR_INVALID_ARGUMENT);
    /* An update buffer with direction gradient. */
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 8, g64, g64, 4, good, 3, hvp_identity_f64, NULL),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("update");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f32(t, 8, g32, g32, 4, good, 3, hvp_identity_f32, NULL),
                          HLR_ERR_INVALID_ARGUMENT);
    /* A step that wants nothing. */
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f64(t, 7, g64, NULL, 4, good, 3, hvp_identity_f64, NULL),
                          HLR_ERR_WRONG_STATE);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_host_f32(t, 5, g32, NULL, 4, good, 3, hvp_identity_f32, NULL),
                          HLR_ERR_WRONG_STATE);

    /* Snapshot buffer errors (corruption is test_snapshot.c). */
    size_t size = 0, written = 0;
    CHECK_OK(hlr_tuner_snapshot_size(t, &size));
    unsigned char buffer[4096];
    CHECK(size < sizeof buffer);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_save(t, buffer, size - 1, &written), HLR_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(written, size);
    written = 0;
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_save(t, buffer, 0, &written), HLR_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(written, size);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_save(t, buffer, 1, NULL), HLR_ERR_BUFFER_TOO_SMALL);
    CHECK_OK(hlr_tuner_save(t, buffer, SIZE_MAX, &written)); /* a huge capacity is fine */
    CHECK_EQ_INT(written, size);
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, buffer, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("18446744073709551615");
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore(t, buffer, 0), HLR_ERR_SNAPSHOT_CORRUPT);
    CHECK_OK(hlr_tuner_restore(t, buffer, size));

    /* After all that, the handle still works and wants step 8. */
    int wants = 0;
    CHECK_OK(hlr_tuner_wants_curvature(t, 8, &wants));
    CHECK_EQ_INT(wants, 1);
    CHECK_OK(hlr_tuner_observe_curvature(t, 8, values, 4));
    CHECK_OK(hlr_tuner_free(t));
}

/* Extreme steps: no overflow, no crash; the schedule stays (t - W) % P == 0. */
static void test_extreme_steps(void) {
    hlr_tuner *t = hlrt_create(1); /* W = 0, P = 10 */
    int wants = -1;
    /* (2^64 - 1) % 10 == 5, so UINT64_MAX is not a curvature step; 2^64 - 6 is. */
    CHECK_OK(hlr_tuner_wants_curvature(t, UINT64_MAX - 5, &wants));
    CHECK_EQ_INT(wants, 1);
    CHECK_OK(hlr_tuner_wants_curvature(t, UINT64_MAX, &wants));
    CHECK_EQ_INT(wants, 0);
    CHECK_OK(hlr_tuner_wants_curvature(t, UINT64_MAX - 1, &wants));
    CHECK_EQ_INT(wants, 0);
    double lr = 0;
    CHECK_OK(hlr_tuner_get_lr(t, UINT64_MAX, 0, &lr));
    CHECK(lr == 1e-3);
    const double obs[2] = {1.0, 2.0};
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, UINT64_MAX, obs, 2), HLR_ERR_WRONG_STATE);
    CHECK_OK(hlr_tuner_observe_curvature(t, UINT64_MAX - 5, obs, 2));
    /* After the last possible curvature step nothing wants curvature any more. */
    CHECK_OK(hlr_tuner_wants_curvature(t, UINT64_MAX, &wants));
    CHECK_EQ_INT(wants, 0);
    CHECK_OK(hlr_tuner_get_lr(t, UINT64_MAX, 0, &lr));
    CHECK(lr > 0 && lr <= 1.0);
    CHECK_OK(hlr_tuner_free(t));

    /* Warmup close to 2^53 and a period of 2^53: still exact. */
    t = hlrt_create(1);
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_WARMUP_STEPS, 9007199254740992.0));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 9007199254740992.0));
    CHECK_OK(hlr_tuner_wants_curvature(t, 9007199254740992ull, &wants));
    CHECK_EQ_INT(wants, 1);
    CHECK_OK(hlr_tuner_wants_curvature(t, 2 * 9007199254740992ull, &wants));
    CHECK_EQ_INT(wants, 1);
    CHECK_OK(hlr_tuner_wants_curvature(t, 9007199254740993ull, &wants));
    CHECK_EQ_INT(wants, 0);
    CHECK_OK(hlr_tuner_wants_curvature(t, UINT64_MAX, &wants));
    CHECK_EQ_INT(wants, 0);
    CHECK_OK(hlr_tuner_get_lr(t, 0, 0, &lr));
    CHECK(lr > 0 && lr <= 1e-3);
    CHECK_OK(hlr_tuner_free(t));
}

/* ============================================================================================ */
/* The bad-input matrix                                                                         */
/* ============================================================================================ */

/* Fixtures: live handles of every kind, in states worth protecting (options set, observations
 * made, a line search open, estimator results present). Every failing matrix call must leave
 * ALL of them exactly as they were, not only the handle it names. */
static struct {
    hlr_tuner *tuner;        /* HessianLR, 2 groups, W = 2, P = 3, observed 2 and 5: next 8   */
    hlr_tuner *gen;          /* GeN, 2 groups, waiting for 3 losses at step 0               */
    hlr_tuner *armijo;       /* Armijo, 2 groups, line search open at step 0 (needs a loss) */
    hlr_tuner *cdat;         /* CDAT, 1 group, direction update, wants curvature at 0       */
    hlr_schedule *schedule;  /* warmup(cosine)                                              */
    hlr_schedule *multi;     /* multi_step with milestones                                  */
    hlr_estimator *lanczos;  /* Lanczos k = 2 with eigenvectors, after a host run           */
    hlr_estimator *diag;     /* diagonal with 2 blocks, after an ops run (a vector result)  */
    void *freed_tuner, *freed_schedule, *freed_estimator;
} fx;

enum { MX_N = 6 };

/* --- callbacks ------------------------------------------------------------------------------ */

static void *mx_ctx_seen;   /* the ctx the last callback received */
static int mx_hvp_mode;     /* 0: diag(1..n); 1: return 5; 2: write NaN; 3: non-symmetric */
static hlr_tuner *mx_reenter; /* a handle the HVP callback changes (then step_host must refuse) */

static void mx_apply(const double *v, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (double)(i + 1) * v[i];
    if (mx_hvp_mode == 3 && n > 1) out[0] += 5.0 * v[1]; /* not symmetric */
}

static int mx_hvp64(void *ctx, const double *v, double *out, size_t n) {
    mx_ctx_seen = ctx;
    if (mx_reenter != NULL) (void)hlr_tuner_set_param(mx_reenter, HLR_PARAM_SMOOTHING, 0.25);
    if (mx_hvp_mode == 1) return 5;
    mx_apply(v, out, n);
    if (mx_hvp_mode == 2) out[n - 1] = NAN;
    return 0;
}

static int mx_hvp32(void *ctx, const float *v, float *out, size_t n) {
    mx_ctx_seen = ctx;
    if (mx_reenter != NULL) (void)hlr_tuner_set_param(mx_reenter, HLR_PARAM_SMOOTHING, 0.25);
    if (mx_hvp_mode == 1) return 5;
    for (size_t i = 0; i < n; i++) out[i] = (float)(i + 1) * v[i];
    if (mx_hvp_mode == 3 && n > 1) out[0] += 5.0f * v[1];
    if (mx_hvp_mode == 2) out[n - 1] = NAN;
    return 0;
}

static int mx_loss_mode; /* 0: sum of squares; 1: return 6; 2: NaN */

static int mx_loss64(void *ctx, const double *w, size_t n, double *loss) {
    mx_ctx_seen = ctx;
    if (mx_loss_mode == 1) return 6;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (double)(i + 1) * w[i] * w[i];
    *loss = mx_loss_mode == 2 ? NAN : 0.5 * sum;
    return 0;
}

static int mx_loss32(void *ctx, const float *w, size_t n, double *loss) {
    double wide[64];
    for (size_t i = 0; i < n && i < 64; i++) wide[i] = w[i];
    return mx_loss64(ctx, wide, n < 64 ? n : 64, loss);
}

/* --- a host implementation of hlr_vector_ops ---------------------------------------------- */

enum { OPS_SLOTS = 64, OPS_BASE = 7000 };
enum { OP_ALLOC = 1, OP_COPY, OP_DOT, OP_AXPY, OP_SCALE, OP_FILL, OP_HVP, OP_MUL_ACC, OP_BLOCK_DOTS,
       OP_COUNT };
static const char *const op_names[OP_COUNT] = {NULL,   "alloc",      "copy", "dot",     "axpy",
                                               "scale", "fill_probe", "hvp",  "mul_acc", "block_dots"};

typedef struct {
    size_t n;
    double *slot[OPS_SLOTS];
    int live;
    int fail_op;       /* OP_* that returns 11 */
    int nan_op;        /* OP_DOT: *out = NaN; OP_HVP: out[0] = NaN */
    int called[OP_COUNT];
    void *ctx_seen_self;
} ops_state;

static double *ops_vec(ops_state *s, uint64_t h) {
    return hlrt_pool_vec(s->slot, OPS_SLOTS, OPS_BASE, h);
}

static int ops_enter(ops_state *s, int op) {
    s->called[op]++;
    return s->fail_op == op ? 11 : 0;
}

static int ops_alloc(void *ctx, uint64_t *out) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_ALLOC)) return 11;
    if (hlrt_pool_alloc(s->slot, OPS_SLOTS, OPS_BASE, s->n, out) != 0) return 12;
    s->live++;
    return 0;
}

static void ops_release(void *ctx, uint64_t v) {
    ops_state *s = ctx;
    if (hlrt_pool_release(s->slot, OPS_SLOTS, OPS_BASE, v)) s->live--;
}

static int ops_copy(void *ctx, uint64_t src, uint64_t dst) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_COPY)) return 11;
    memcpy(ops_vec(s, dst), ops_vec(s, src), s->n * sizeof(double));
    return 0;
}

static int ops_dot(void *ctx, uint64_t x, uint64_t y, double *out) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_DOT)) return 11;
    double *a = ops_vec(s, x), *b = ops_vec(s, y), sum = 0;
    for (size_t i = 0; i < s->n; i++) sum += a[i] * b[i];
    *out = s->nan_op == OP_DOT ? NAN : sum;
    return 0;
}

static int ops_axpy(void *ctx, double a, uint64_t x, uint64_t y) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_AXPY)) return 11;
    double *px = ops_vec(s, x), *py = ops_vec(s, y);
    for (size_t i = 0; i < s->n; i++) py[i] += a * px[i];
    return 0;
}

static int ops_scale(void *ctx, double a, uint64_t x) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_SCALE)) return 11;
    double *px = ops_vec(s, x);
    for (size_t i = 0; i < s->n; i++) px[i] *= a;
    return 0;
}

static int ops_fill(void *ctx, uint64_t v, uint64_t seed, uint64_t stream, uint64_t index,
                    int distribution) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_FILL)) return 11;
    return hlr_probe_fill_f64(seed, stream, index, distribution, 0, ops_vec(s, v), s->n) == HLR_OK ? 0 : 13;
}

static int ops_hvp(void *ctx, uint64_t v, uint64_t out) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_HVP)) return 11;
    mx_apply(ops_vec(s, v), ops_vec(s, out), s->n);
    if (s->nan_op == OP_HVP) ops_vec(s, out)[0] = NAN;
    return 0;
}

static int ops_mul_acc(void *ctx, double a, uint64_t x, uint64_t y, uint64_t acc) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_MUL_ACC)) return 11;
    double *px = ops_vec(s, x), *py = ops_vec(s, y), *pa = ops_vec(s, acc);
    for (size_t i = 0; i < s->n; i++) pa[i] += a * (px[i] * py[i]);
    return 0;
}

static int ops_block_dots(void *ctx, uint64_t x, uint64_t y, const size_t *offsets, size_t n_offsets,
                          double *out) {
    ops_state *s = ctx;
    if (ops_enter(s, OP_BLOCK_DOTS)) return 11;
    double *px = ops_vec(s, x), *py = ops_vec(s, y);
    for (size_t b = 0; b + 1 < n_offsets; b++) {
        double sum = 0;
        for (size_t i = offsets[b]; i < offsets[b + 1]; i++) sum += px[i] * py[i];
        out[b] = sum;
    }
    return 0;
}

static hlr_vector_ops ops_table(size_t n) {
    return hlrt_vector_ops(n, ops_alloc, ops_release, ops_copy, ops_dot, ops_axpy, ops_scale, ops_fill, ops_hvp,
                           ops_mul_acc, ops_block_dots);
}

static ops_state fx_ops; /* the vectors of fx.diag's ops run (its DIAGONAL result is ours) */

/* --- fixture state ------------------------------------------------------------------------ */

typedef struct {
    unsigned char *bytes;
    size_t size;
} blob;

static void blob_add(blob *b, const void *data, size_t n) {
    unsigned char *grown = realloc(b->bytes, b->size + n + 1);
    if (grown == NULL) return;
    b->bytes = grown;
    memcpy(b->bytes + b->size, data, n);
    b->size += n;
}

/* Everything observable about an estimator handle: kind, seed, every parameter, and every
 * result of its last run (sizes, values, vector handles). */
static void estimator_fingerprint(const hlr_estimator *e, blob *b) {
    int kind = -1;
    uint64_t seed = 0;
    int status = hlr_estimator_kind(e, &kind);
    blob_add(b, &status, sizeof status);
    blob_add(b, &kind, sizeof kind);
    status = hlr_estimator_get_seed(e, &seed);
    blob_add(b, &status, sizeof status);
    blob_add(b, &seed, sizeof seed);
    for (int key = 1; key <= 20; key++) {
        double value = 0;
        status = hlr_estimator_get_param(e, key, &value);
        blob_add(b, &status, sizeof status);
        blob_add(b, &value, sizeof value);
    }
    for (int key = 1; key <= 24; key++) {
        size_t n = 0;
        status = hlr_estimator_result_size(e, key, &n);
        blob_add(b, &status, sizeof status);
        blob_add(b, &n, sizeof n);
        if (status != HLR_OK || n == 0 || n > 4096) continue;
        double values[4096];
        uint64_t handles[4096];
        status = hlr_estimator_get_result(e, key, values, n);
        blob_add(b, &status, sizeof status);
        if (status == HLR_OK) blob_add(b, values, n * sizeof values[0]);
        status = hlr_estimator_get_vectors(e, key, handles, n);
        blob_add(b, &status, sizeof status);
        if (status == HLR_OK) blob_add(b, handles, n * sizeof handles[0]);
    }
}

static blob fixtures_state(void) {
    blob b = {NULL, 0};
    const hlr_tuner *tuners[4] = {fx.tuner, fx.gen, fx.armijo, fx.cdat};
    for (int i = 0; i < 4; i++) {
        hlrt_state s = hlrt_capture(tuners[i]);
        blob_add(&b, &s.size, sizeof s.size);
        if (s.bytes) blob_add(&b, s.bytes, s.size);
        hlrt_release(&s);
    }
    const hlr_schedule *schedules[2] = {fx.schedule, fx.multi};
    for (int i = 0; i < 2; i++) {
        hlrt_state s = hlrt_capture_schedule(schedules[i]);
        blob_add(&b, &s.size, sizeof s.size);
        if (s.bytes) blob_add(&b, s.bytes, s.size);
        hlrt_release(&s);
    }
    estimator_fingerprint(fx.lanczos, &b);
    estimator_fingerprint(fx.diag, &b);
    /* The freed handles stay freed. */
    size_t groups = 0;
    int status = hlr_tuner_group_count(fx.freed_tuner, &groups);
    blob_add(&b, &status, sizeof status);
    int kind = 0;
    status = hlr_schedule_kind(fx.freed_schedule, &kind);
    blob_add(&b, &status, sizeof status);
    status = hlr_estimator_kind(fx.freed_estimator, &kind);
    blob_add(&b, &status, sizeof status);
    blob_add(&b, &fx_ops.live, sizeof fx_ops.live);
    return b;
}

/* --- running a row ------------------------------------------------------------------------ */

static const char *row_function;   /* the function of the row being run */
static char row_seen[4096];        /* " tag1 tag2 ... " exercised so far */

static void row_record(const char *tag) {
    char padded[128];
    snprintf(padded, sizeof padded, " %s ", tag);
    if (strstr(row_seen, padded) == NULL && strlen(row_seen) + strlen(padded) < sizeof row_seen)
        strcat(row_seen, padded + (row_seen[0] ? 1 : 0));
}

/* One case of the current row: `got` must be `expected`; a failure's message must start with
 * "<function>: " and contain `needle` (the bad value or what is wrong with it), and every fixture
 * must be unchanged. An accepted call (expected HLR_OK) is checked for its status only. */
static void matrix_verify_(const char *tag, int got, int expected, const char *needle,
                           blob *before, const char *call, int line) {
    row_record(tag);
    char where[512];
    snprintf(where, sizeof where, "%s [%s]: %s", row_function, tag, call);
    check_status_(got, expected, __FILE__, line, where);
    if (expected != HLR_OK && got == expected) {
        const char *message = hlr_last_error();
        size_t len = strlen(row_function);
        if (strncmp(message, row_function, len) != 0 || message[len] != ':') {
            atomic_fetch_add(&check_failed_, 1);
            fprintf(stderr, "%s:%d: FAILED: %s\n    the message does not name the function: \"%s\"\n",
                    __FILE__, line, where, message);
        } else {
            atomic_fetch_add(&check_passed_, 1);
        }
        if (needle != NULL) {
            if (strstr(message, needle) == NULL) {
                atomic_fetch_add(&check_failed_, 1);
                fprintf(stderr, "%s:%d: FAILED: %s\n    the message should contain \"%s\": \"%s\"\n",
                        __FILE__, line, where, needle, message);
            } else {
                atomic_fetch_add(&check_passed_, 1);
            }
        }
        blob after = fixtures_state();
        if (after.size != before->size || memcmp(after.bytes, before->bytes, after.size) != 0) {
            atomic_fetch_add(&check_failed_, 1);
            fprintf(stderr, "%s:%d: FAILED: %s\n    changed the state of a fixture handle\n", __FILE__,
                    line, where);
        } else {
            atomic_fetch_add(&check_passed_, 1);
        }
        free(after.bytes);
    }
    free(before->bytes);
}

#define BAD(tag, call, expected, needle)                                                 \
    do {                                                                                 \
        blob before_ = fixtures_state();                                                 \
        check_mark_error_();                                                             \
        int got_ = (call);                                                               \
        matrix_verify_((tag), got_, (expected), (needle), &before_, #call, __LINE__);    \
    } while (0)

/* Bad handle values for a parameter that takes handles of kind `kind` (0 tuner, 1 schedule,
 * 2 estimator): NULL (unless it is allowed), freed handles of every kind, live handles of the
 * other kinds, garbage that was never a handle. */
enum { H_TUNER, H_SCHEDULE, H_ESTIMATOR };
static int bad_handles(int kind, int with_null, void **out) {
    static int on_stack;
    int n = 0;
    if (with_null) out[n++] = NULL;
    out[n++] = fx.freed_tuner;
    out[n++] = fx.freed_schedule;
    out[n++] = fx.freed_estimator;
    if (kind != H_TUNER) out[n++] = fx.tuner;
    if (kind != H_SCHEDULE) out[n++] = fx.schedule;
    if (kind != H_ESTIMATOR) out[n++] = fx.lanczos;
    out[n++] = (void *)(uintptr_t)0xdeadbeefu;
    out[n++] = (void *)(uintptr_t)1u;
    out[n++] = (void *)(uintptr_t)UINTPTR_MAX;
    out[n++] = (void *)&on_stack;
    return n;
}

/* Every bad handle in the place of H in `call`: HLR_ERR_INVALID_HANDLE. */
#define BAD_HANDLES(tag, kind, with_null, call)                                          \
    do {                                                                                 \
        void *handles_[16];                                                              \
        int count_ = bad_handles((kind), (with_null), handles_);                        \
        for (int h_ = 0; h_ < count_; h_++) {                                            \
            void *H = handles_[h_];                                                      \
            BAD((tag), call, HLR_ERR_INVALID_HANDLE, "handle");                          \
        }                                                                                \
    } while (0)

static const double g4[4] = {1.0, -2.0, 0.5, 3.0};
static const float g4f[4] = {1.0f, -2.0f, 0.5f, 3.0f};
static const size_t two_groups[3] = {0, 2, 4};

/* --- library-wide ------------------------------------------------------------------------- */

static void case_hlr_version_number(void) {
    BAD("call", hlr_version_number() == HLR_VERSION_NUMBER ? HLR_OK : -1, HLR_OK, NULL);
}

static void case_hlr_version_string(void) {
    BAD("call", strcmp(hlr_version_string(), HLR_VERSION_STRING) == 0 ? HLR_OK : -1, HLR_OK, NULL);
}

static void case_hlr_strerror(void) {
    const int codes[] = {-1, 13, 100, INT32_MIN, INT32_MAX};
    for (int i = 0; i < 5; i++)
        BAD("bad:code", strcmp(hlr_strerror(codes[i]), "unknown status code") == 0 ? HLR_OK : -1,
            HLR_OK, NULL);
    for (int code = 0; code <= 12; code++)
        BAD("bad:code", hlr_strerror(code) != NULL && hlr_strerror(code)[0] ? HLR_OK : -1, HLR_OK, NULL);
}

/* The message of the last failure on this thread; a success leaves it as it is. */
static int last_error_after(int succeed_too) {
    hlr_tuner *out = NULL;
    size_t groups = 0;
    (void)hlr_tuner_create(999, 1, &out);
    if (succeed_too) (void)hlr_tuner_group_count(fx.tuner, &groups);
    const char *message = hlr_last_error();
    return message != NULL && strstr(message, "hlr_tuner_create: ") == message && strstr(message, "999")
               ? HLR_OK
               : -1;
}

static void case_hlr_last_error(void) {
    BAD("call", last_error_after(0), HLR_OK, NULL);
    BAD("call", last_error_after(1), HLR_OK, NULL);
}

static void case_hlr_param_bounds(void) {
    double lo = 0, hi = 0, def = 0;
    const int methods[] = {0, 8, -1, INT32_MAX};
    const char *spelled[] = {"0", "8", "-1", "2147483647"};
    for (int i = 0; i < 4; i++)
        BAD("bad:method", hlr_param_bounds(methods[i], HLR_PARAM_SMOOTHING, &lo, &hi, &def),
            HLR_ERR_UNKNOWN_METHOD, spelled[i]);
    BAD("bad:key", hlr_param_bounds(HLR_METHOD_HESSIANLR, 0, &lo, &hi, &def), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_param_bounds(HLR_METHOD_HESSIANLR, 25, &lo, &hi, &def), HLR_ERR_UNKNOWN_KEY, "25");
    BAD("bad:key", hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_SIGMA, &lo, &hi, &def),
        HLR_ERR_UNKNOWN_KEY, "sigma");
    BAD("bad:key", hlr_param_bounds(HLR_METHOD_GEN, HLR_PARAM_MODEL, &lo, &hi, &def),
        HLR_ERR_UNKNOWN_KEY, "model");
    BAD("bad:key", hlr_param_bounds(HLR_METHOD_CONSTANT, HLR_PARAM_LR_MAX, &lo, &hi, &def),
        HLR_ERR_UNKNOWN_KEY, "lr_max");
    BAD("optional:min", hlr_param_bounds(HLR_METHOD_CDAT, HLR_PARAM_SIGMA, NULL, &hi, &def), HLR_OK, NULL);
    BAD("optional:max", hlr_param_bounds(HLR_METHOD_CDAT, HLR_PARAM_SIGMA, &lo, NULL, &def), HLR_OK, NULL);
    BAD("optional:default_value", hlr_param_bounds(HLR_METHOD_CDAT, HLR_PARAM_SIGMA, &lo, &hi, NULL),
        HLR_OK, NULL);
}

static void case_hlr_param_count(void) {
    size_t count = 0;
    const int families[] = {0, 4, -1, INT32_MIN};
    const char *spelled[] = {"family 0", "family 4", "family -1", "family -2147483648"};
    for (int i = 0; i < 4; i++)
        BAD("bad:family", hlr_param_count(families[i], 1, &count), HLR_ERR_INVALID_ARGUMENT, spelled[i]);
    BAD("bad:kind", hlr_param_count(HLR_FAMILY_TUNER, 8, &count), HLR_ERR_UNKNOWN_METHOD, "method id 8");
    BAD("bad:kind", hlr_param_count(HLR_FAMILY_SCHEDULE, 0, &count), HLR_ERR_UNKNOWN_METHOD, "schedule kind 0");
    BAD("bad:kind", hlr_param_count(HLR_FAMILY_ESTIMATOR, INT32_MAX, &count), HLR_ERR_UNKNOWN_METHOD,
        "estimator kind 2147483647");
    BAD("null:count", hlr_param_count(HLR_FAMILY_TUNER, HLR_METHOD_GEN, NULL), HLR_ERR_NULL_POINTER, "count");
}

static void case_hlr_param_info(void) {
    hlr_param_desc d = {.struct_size = sizeof d};
    const int families[] = {0, 4, -1, INT32_MAX};
    const char *spelled[] = {"family 0", "family 4", "family -1", "family 2147483647"};
    for (int i = 0; i < 4; i++)
        BAD("bad:family", hlr_param_info(families[i], 1, 0, &d), HLR_ERR_INVALID_ARGUMENT, spelled[i]);
    BAD("bad:kind", hlr_param_info(HLR_FAMILY_TUNER, 0, 0, &d), HLR_ERR_UNKNOWN_METHOD, "method id 0");
    BAD("bad:kind", hlr_param_info(HLR_FAMILY_SCHEDULE, 16, 0, &d), HLR_ERR_UNKNOWN_METHOD, "schedule kind 16");
    BAD("bad:kind", hlr_param_info(HLR_FAMILY_ESTIMATOR, -1, 0, &d), HLR_ERR_UNKNOWN_METHOD, "estimator kind -1");
    /* JOIN has no parameters: even index 0 is past the last. */
    BAD("zero:index", hlr_param_info(HLR_FAMILY_SCHEDULE, HLR_SCHEDULE_JOIN, 0, &d), HLR_ERR_INVALID_ARGUMENT,
        "has 0 parameters");
    BAD("huge:index", hlr_param_info(HLR_FAMILY_TUNER, HLR_METHOD_GEN, SIZE_MAX, &d), HLR_ERR_INVALID_ARGUMENT,
        "index");
    BAD("huge:index", hlr_param_info(HLR_FAMILY_TUNER, HLR_METHOD_GEN, 64, &d), HLR_ERR_INVALID_ARGUMENT,
        "index 64");
    BAD("null:out", hlr_param_info(HLR_FAMILY_TUNER, HLR_METHOD_GEN, 0, NULL), HLR_ERR_NULL_POINTER, "out");
    const size_t sizes[] = {0, sizeof(size_t), sizeof(hlr_param_desc) - 1};
    for (int i = 0; i < 3; i++) {
        d.struct_size = sizes[i];
        BAD("layout:out", hlr_param_info(HLR_FAMILY_TUNER, HLR_METHOD_GEN, 0, &d), HLR_ERR_INVALID_ARGUMENT,
            "struct_size");
        CHECK_EQ_INT(d.struct_size, sizes[i]);
    }
}

/* --- tuner handles ------------------------------------------------------------------------ */

static void case_hlr_tuner_create(void) {
    hlr_tuner *out = (hlr_tuner *)(uintptr_t)0x1;
    BAD("null:out", hlr_tuner_create(HLR_METHOD_GEN, 1, NULL), HLR_ERR_NULL_POINTER, "out");
    const int methods[] = {0, 8, -1, INT32_MIN};
    const char *spelled[] = {"0", "8", "-1", "-2147483648"};
    for (int i = 0; i < 4; i++) {
        out = (hlr_tuner *)(uintptr_t)0x1;
        BAD("bad:method", hlr_tuner_create(methods[i], 1, &out), HLR_ERR_UNKNOWN_METHOD, spelled[i]);
        CHECK(out == NULL);
    }
    for (int method = HLR_METHOD_HESSIANLR; method <= HLR_METHOD_CONSTANT; method++) {
        out = (hlr_tuner *)(uintptr_t)0x1;
        BAD("zero:groups", hlr_tuner_create(method, 0, &out), HLR_ERR_INVALID_ARGUMENT, "groups");
        CHECK(out == NULL);
        BAD("huge:groups", hlr_tuner_create(method, SIZE_MAX, &out), HLR_ERR_INVALID_ARGUMENT,
            "18446744073709551615");
        BAD("huge:groups", hlr_tuner_create(method, ((size_t)1 << 20) + 1, &out),
            HLR_ERR_INVALID_ARGUMENT, "1048577");
        CHECK(out == NULL);
    }
    BAD("huge:groups", hlr_tuner_create(HLR_METHOD_HIDLR, 257, &out), HLR_ERR_INVALID_ARGUMENT, "257");
}

static void case_hlr_tuner_free(void) {
    BAD_HANDLES("handle:tuner", H_TUNER, 0, hlr_tuner_free(H));
    BAD("handle:tuner", hlr_tuner_free(NULL), HLR_OK, NULL);
}

static void case_hlr_tuner_reset(void) {
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_reset(H, HLR_RESET_ALL));
    const int what[] = {0, 4, -1, INT32_MAX};
    const char *spelled[] = {"got 0", "got 4", "got -1", "got 2147483647"};
    for (int i = 0; i < 4; i++)
        BAD("bad:what", hlr_tuner_reset(fx.tuner, what[i]), HLR_ERR_INVALID_ARGUMENT, spelled[i]);
}

static void case_hlr_tuner_method(void) {
    int m = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_method(H, &m));
    BAD("null:method", hlr_tuner_method(fx.gen, NULL), HLR_ERR_NULL_POINTER, "method");
}

static void case_hlr_tuner_group_count(void) {
    size_t g = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_group_count(H, &g));
    BAD("null:groups", hlr_tuner_group_count(fx.gen, NULL), HLR_ERR_NULL_POINTER, "groups");
}

static void case_hlr_tuner_set_param(void) {
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_set_param(H, HLR_PARAM_SMOOTHING, 0.5));
    BAD("bad:key", hlr_tuner_set_param(fx.tuner, 0, 0.5), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_tuner_set_param(fx.tuner, 25, 0.5), HLR_ERR_UNKNOWN_KEY, "25");
    BAD("bad:key", hlr_tuner_set_param(fx.tuner, HLR_PARAM_SIGMA, 0.5), HLR_ERR_UNKNOWN_KEY, "sigma");
    BAD("bad:key", hlr_tuner_set_param(fx.armijo, HLR_PARAM_SMOOTHING, 0.5), HLR_ERR_UNKNOWN_KEY, "smoothing");
    hlr_tuner *all[4] = {fx.tuner, fx.gen, fx.armijo, fx.cdat};
    for (int i = 0; i < 4; i++) {
        BAD("nan:value", hlr_tuner_set_param(all[i], HLR_PARAM_INITIAL_LR, NAN), HLR_ERR_INVALID_ARGUMENT, "nan");
        /* +inf is refused except where it is the bound (lr_max = +inf: no ceiling, test_methods). */
        BAD("inf:value", hlr_tuner_set_param(all[i], HLR_PARAM_INITIAL_LR, INFINITY), HLR_ERR_INVALID_ARGUMENT, "inf");
        BAD("inf:value", hlr_tuner_set_param(all[i], HLR_PARAM_LR_MAX, -INFINITY), HLR_ERR_INVALID_ARGUMENT, "-inf");
        /* Denormal: below the smallest normal, the lower bound of strictly positive options. */
        BAD("range:value", hlr_tuner_set_param(all[i], HLR_PARAM_INITIAL_LR, 4.9406564584124654e-324),
            HLR_ERR_INVALID_ARGUMENT, "initial_lr");
        BAD("range:value", hlr_tuner_set_param(all[i], HLR_PARAM_LR_MAX, -1.0), HLR_ERR_INVALID_ARGUMENT, "-1");
    }
    BAD("range:value", hlr_tuner_set_param(fx.tuner, HLR_PARAM_SMOOTHING, 1.0), HLR_ERR_INVALID_ARGUMENT, "smoothing");
    BAD("range:value", hlr_tuner_set_param(fx.tuner, HLR_PARAM_UPDATE_PERIOD, 2.5), HLR_ERR_INVALID_ARGUMENT, "integer");
    BAD("range:value", hlr_tuner_set_param(fx.gen, HLR_PARAM_PROBE_COUNT, 2), HLR_ERR_INVALID_ARGUMENT, "probe_count");
    BAD("range:value", hlr_tuner_set_param(fx.gen, HLR_PARAM_PROBE_COUNT, 65537), HLR_ERR_INVALID_ARGUMENT, "65537");
    BAD("range:value", hlr_tuner_set_param(fx.armijo, HLR_PARAM_MAX_BACKTRACKS, 1001), HLR_ERR_INVALID_ARGUMENT, "1001");
    BAD("range:value", hlr_tuner_set_param(fx.cdat, HLR_PARAM_DIRECTION, 2), HLR_ERR_INVALID_ARGUMENT, "direction");
    BAD("constraint", hlr_tuner_set_param(fx.tuner, HLR_PARAM_LR_MIN, 5.0), HLR_ERR_INVALID_ARGUMENT, "lr_max");
}

static void case_hlr_tuner_get_param(void) {
    double v = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_get_param(H, HLR_PARAM_SMOOTHING, &v));
    BAD("bad:key", hlr_tuner_get_param(fx.tuner, -5, &v), HLR_ERR_UNKNOWN_KEY, "-5");
    BAD("bad:key", hlr_tuner_get_param(fx.gen, HLR_PARAM_WARMUP_STEPS, &v), HLR_ERR_UNKNOWN_KEY, "warmup_steps");
    BAD("null:value", hlr_tuner_get_param(fx.tuner, HLR_PARAM_SMOOTHING, NULL), HLR_ERR_NULL_POINTER, "value");
}

static void case_hlr_tuner_set_group_param(void) {
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_set_group_param(H, 0, HLR_PARAM_INITIAL_LR, 0.1));
    BAD("zero:group", hlr_tuner_set_group_param(fx.tuner, 0, HLR_PARAM_SMOOTHING, 0.5),
        HLR_ERR_INVALID_ARGUMENT, "smoothing");
    BAD("huge:group", hlr_tuner_set_group_param(fx.tuner, 2, HLR_PARAM_INITIAL_LR, 0.1),
        HLR_ERR_INVALID_ARGUMENT, "group 2");
    BAD("huge:group", hlr_tuner_set_group_param(fx.tuner, SIZE_MAX, HLR_PARAM_INITIAL_LR, 0.1),
        HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("bad:key", hlr_tuner_set_group_param(fx.tuner, 0, 99, 0.1), HLR_ERR_UNKNOWN_KEY, "99");
    BAD("bad:key", hlr_tuner_set_group_param(fx.armijo, 0, HLR_PARAM_INITIAL_LR, 0.1),
        HLR_ERR_INVALID_ARGUMENT, "initial_lr"); /* Armijo: one rate for all groups */
    BAD("nan:value", hlr_tuner_set_group_param(fx.gen, 1, HLR_PARAM_INITIAL_LR, NAN),
        HLR_ERR_INVALID_ARGUMENT, "nan");
    BAD("inf:value", hlr_tuner_set_group_param(fx.gen, 1, HLR_PARAM_INITIAL_LR, INFINITY),
        HLR_ERR_INVALID_ARGUMENT, "inf");
    BAD("range:value", hlr_tuner_set_group_param(fx.cdat, 0, HLR_PARAM_SHARPNESS, -1.0),
        HLR_ERR_INVALID_ARGUMENT, "sharpness");
}

static void case_hlr_tuner_get_group_param(void) {
    double v = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_get_group_param(H, 0, HLR_PARAM_INITIAL_LR, &v));
    BAD("zero:group", hlr_tuner_get_group_param(fx.tuner, 0, HLR_PARAM_INITIAL_LR, &v), HLR_OK, NULL);
    BAD("huge:group", hlr_tuner_get_group_param(fx.tuner, SIZE_MAX, HLR_PARAM_INITIAL_LR, &v),
        HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("huge:group", hlr_tuner_get_group_param(fx.cdat, 1, HLR_PARAM_SHARPNESS, &v),
        HLR_ERR_INVALID_ARGUMENT, "group 1");
    BAD("bad:key", hlr_tuner_get_group_param(fx.tuner, 0, 0, &v), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("null:value", hlr_tuner_get_group_param(fx.tuner, 1, HLR_PARAM_INITIAL_LR, NULL),
        HLR_ERR_NULL_POINTER, "value");
}

static void case_hlr_tuner_get_info(void) {
    double v = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_get_info(H, HLR_INFO_UPDATES, 0, &v));
    BAD("bad:key", hlr_tuner_get_info(fx.tuner, 0, 0, &v), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_tuner_get_info(fx.tuner, 21, 0, &v), HLR_ERR_UNKNOWN_KEY, "21");
    BAD("bad:key", hlr_tuner_get_info(fx.tuner, HLR_INFO_FIT_R2, 0, &v), HLR_ERR_UNKNOWN_KEY, "fit_r2");
    BAD("bad:key", hlr_tuner_get_info(fx.gen, HLR_INFO_BACKTRACKS, 0, &v), HLR_ERR_UNKNOWN_KEY, "backtracks");
    BAD("zero:group", hlr_tuner_get_info(fx.tuner, HLR_INFO_LAST_CANDIDATE, 0, &v), HLR_OK, NULL);
    BAD("huge:group", hlr_tuner_get_info(fx.tuner, HLR_INFO_LAST_CANDIDATE, 2, &v),
        HLR_ERR_INVALID_ARGUMENT, "group 2");
    BAD("huge:group", hlr_tuner_get_info(fx.armijo, HLR_INFO_LAST_SLOPE, SIZE_MAX, &v),
        HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    /* Handle-wide keys ignore the group. */
    BAD("huge:group", hlr_tuner_get_info(fx.armijo, HLR_INFO_TRIAL_LR, SIZE_MAX, &v), HLR_OK, NULL);
    BAD("null:value", hlr_tuner_get_info(fx.tuner, HLR_INFO_UPDATES, 0, NULL), HLR_ERR_NULL_POINTER, "value");
}

/* --- observation mode --------------------------------------------------------------------- */

static void case_hlr_tuner_wants_curvature(void) {
    int w = -1;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_wants_curvature(H, 8, &w));
    BAD("extreme:step", hlr_tuner_wants_curvature(fx.tuner, UINT64_MAX, &w), HLR_OK, NULL);
    CHECK_EQ_INT(w, 0);
    BAD("extreme:step", hlr_tuner_wants_curvature(fx.tuner, 0, &w), HLR_OK, NULL);
    CHECK_EQ_INT(w, 0);
    BAD("null:wants", hlr_tuner_wants_curvature(fx.tuner, 8, NULL), HLR_ERR_NULL_POINTER, "wants");
}

static void case_hlr_tuner_observe_curvature(void) {
    const double ok[4] = {1.0, 2.0, 1.0, 4.0};
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_observe_curvature(H, 8, ok, 4));
    BAD("extreme:step", hlr_tuner_observe_curvature(fx.tuner, UINT64_MAX, ok, 4), HLR_ERR_WRONG_STATE, "18446744073709551615");
    BAD("extreme:step", hlr_tuner_observe_curvature(fx.tuner, 0, ok, 4), HLR_ERR_WRONG_STATE, "step 0");
    BAD("state", hlr_tuner_observe_curvature(fx.tuner, 7, ok, 4), HLR_ERR_WRONG_STATE, "8");
    BAD("state", hlr_tuner_observe_curvature(fx.gen, 0, ok, 4), HLR_ERR_WRONG_STATE, NULL);
    BAD("null:values", hlr_tuner_observe_curvature(fx.tuner, 8, NULL, 4), HLR_ERR_NULL_POINTER, "values");
    BAD("zero:n", hlr_tuner_observe_curvature(fx.tuner, 8, ok, 0), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("zero:n", hlr_tuner_observe_curvature(fx.tuner, 8, NULL, 0), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("huge:n", hlr_tuner_observe_curvature(fx.tuner, 8, ok, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("mismatch", hlr_tuner_observe_curvature(fx.tuner, 8, ok, 2), HLR_ERR_INVALID_ARGUMENT, "got 2");
    const double bad[3] = {NAN, INFINITY, -INFINITY};
    for (int slot = 0; slot < 4; slot++)
        for (int b = 0; b < 3; b++) {
            double v[4] = {1.0, 2.0, 1.0, 4.0};
            v[slot] = bad[b];
            BAD("nonfinite:values", hlr_tuner_observe_curvature(fx.tuner, 8, v, 4), HLR_ERR_NONFINITE,
                slot < 2 ? "group 0" : "group 1");
            if (slot < 2) /* CDAT, one group: [g'u, u'Hu] */
                BAD("nonfinite:values", hlr_tuner_observe_curvature(fx.cdat, 0, v, 2), HLR_ERR_NONFINITE,
                    "of group 0");
        }
    hlr_tuner *local = hlrt_create(1);
    const double tiny[2] = {4.9406564584124654e-324, 2.2250738585072014e-309};
    BAD("denormal:values", hlr_tuner_observe_curvature(local, 0, tiny, 2), HLR_OK, NULL);
    double lr = hlrt_lr(local, 0, 0);
    CHECK(isfinite(lr) && lr > 0);
    hlr_tuner_free(local);
}

static void case_hlr_tuner_need(void) {
    int need = -1;
    size_t count = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_need(H, 0, &need, &count));
    BAD("extreme:step", hlr_tuner_need(fx.gen, UINT64_MAX, &need, &count), HLR_OK, NULL);
    CHECK_EQ_INT(need, HLR_NEED_NOTHING); /* (2^64 - 1) % 4 != 0 */
    BAD("extreme:step", hlr_tuner_need(fx.armijo, 0, &need, &count), HLR_OK, NULL);
    CHECK_EQ_INT(need, HLR_NEED_LOSSES);
    BAD("null:need", hlr_tuner_need(fx.gen, 0, NULL, &count), HLR_ERR_NULL_POINTER, "need");
    BAD("optional:count", hlr_tuner_need(fx.gen, 0, &need, NULL), HLR_OK, NULL);
    CHECK_EQ_INT(need, HLR_NEED_LOSSES);
}

static void case_hlr_tuner_get_probes(void) {
    double probes[16] = {0};
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_get_probes(H, 0, probes, 6));
    BAD("extreme:step", hlr_tuner_get_probes(fx.gen, UINT64_MAX, probes, 6), HLR_ERR_WRONG_STATE, "18446744073709551615");
    BAD("state", hlr_tuner_get_probes(fx.gen, 1, probes, 6), HLR_ERR_WRONG_STATE, "step 1");
    BAD("state", hlr_tuner_get_probes(fx.tuner, 8, probes, 6), HLR_ERR_WRONG_STATE, NULL);
    BAD("null:probes", hlr_tuner_get_probes(fx.gen, 0, NULL, 6), HLR_ERR_NULL_POINTER, "probes");
    BAD("zero:n", hlr_tuner_get_probes(fx.gen, 0, probes, 0), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("huge:n", hlr_tuner_get_probes(fx.gen, 0, probes, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("mismatch", hlr_tuner_get_probes(fx.gen, 0, probes, 3), HLR_ERR_INVALID_ARGUMENT, "got 3");
    BAD("mismatch", hlr_tuner_get_probes(fx.armijo, 0, probes, 1), HLR_ERR_INVALID_ARGUMENT, "got 1");
    for (int i = 0; i < 16; i++) CHECK(probes[i] == 0.0); /* nothing written on failure */
}

static void case_hlr_tuner_observe_failure(void) {
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_observe_failure(H, 0));
    BAD("extreme:step", hlr_tuner_observe_failure(fx.gen, UINT64_MAX), HLR_ERR_WRONG_STATE, "needs nothing");
    BAD("state", hlr_tuner_observe_failure(fx.gen, 1), HLR_ERR_WRONG_STATE, "next update step is 4");
    BAD("state", hlr_tuner_observe_failure(fx.tuner, 0), HLR_ERR_WRONG_STATE, "not losses");
    BAD("state", hlr_tuner_observe_failure(fx.armijo, 1), HLR_ERR_WRONG_STATE, "needs slope");
    BAD("state", hlr_tuner_observe_failure(fx.cdat, 0), HLR_ERR_WRONG_STATE, "not losses");
}

static void case_hlr_tuner_observe(void) {
    const double losses[3] = {1.0, 0.9, 1.1};
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_observe(H, 0, HLR_NEED_LOSSES, losses, 3));
    const int kinds[] = {0, 4, -1, INT32_MAX};
    for (int i = 0; i < 4; i++)
        BAD("bad:kind", hlr_tuner_observe(fx.gen, 0, kinds[i], losses, 3), HLR_ERR_INVALID_ARGUMENT, "kind");
    BAD("state", hlr_tuner_observe(fx.gen, 0, HLR_NEED_SLOPE, losses, 3), HLR_ERR_WRONG_STATE, NULL);
    BAD("state", hlr_tuner_observe(fx.armijo, 0, HLR_NEED_SLOPE, losses, 3), HLR_ERR_WRONG_STATE, NULL);
    BAD("state", hlr_tuner_observe(fx.tuner, 8, HLR_NEED_LOSSES, losses, 3), HLR_ERR_WRONG_STATE, NULL);
    BAD("extreme:step", hlr_tuner_observe(fx.gen, UINT64_MAX, HLR_NEED_LOSSES, losses, 3), HLR_ERR_WRONG_STATE, NULL);
    const double four[4] = {1.0, 2.0, 1.0, 2.0};
    BAD("extreme:step", hlr_tuner_observe(fx.tuner, 0, HLR_NEED_CURVATURE, four, 4), HLR_ERR_WRONG_STATE, NULL);
    BAD("null:values", hlr_tuner_observe(fx.gen, 0, HLR_NEED_LOSSES, NULL, 3), HLR_ERR_NULL_POINTER, "values");
    BAD("zero:n", hlr_tuner_observe(fx.gen, 0, HLR_NEED_LOSSES, losses, 0), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("huge:n", hlr_tuner_observe(fx.gen, 0, HLR_NEED_LOSSES, losses, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT,
        "18446744073709551615");
    BAD("mismatch", hlr_tuner_observe(fx.armijo, 0, HLR_NEED_LOSSES, losses, 2), HLR_ERR_INVALID_ARGUMENT, "got 2");
    const double bad[3] = {NAN, INFINITY, -INFINITY};
    for (int b = 0; b < 3; b++) {
        for (int slot = 0; slot < 3; slot++) {
            double v[3] = {1.0, 0.9, 1.1};
            v[slot] = bad[b];
            char needle[32];
            snprintf(needle, sizeof needle, "probe %d", slot);
            BAD("nonfinite:values", hlr_tuner_observe(fx.gen, 0, HLR_NEED_LOSSES, v, 3), HLR_ERR_NONFINITE, needle);
        }
        double one = bad[b];
        BAD("nonfinite:values", hlr_tuner_observe(fx.armijo, 0, HLR_NEED_LOSSES, &one, 1), HLR_ERR_NONFINITE,
            "trial loss");
    }
    /* Denormal observations are finite: accepted (on a scratch handle). */
    hlr_tuner *local = hlrt_create_method(HLR_METHOD_ARMIJO, 1);
    const double slope[2] = {4.9406564584124654e-324, 2.2250738585072014e-309};
    BAD("denormal:values", hlr_tuner_observe(local, 0, HLR_NEED_SLOPE, slope, 2), HLR_OK, NULL);
    hlr_tuner_free(local);
}

static void case_hlr_tuner_get_lr(void) {
    double lr = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_get_lr(H, 0, 0, &lr));
    BAD("extreme:step", hlr_tuner_get_lr(fx.tuner, UINT64_MAX, 1, &lr), HLR_OK, NULL);
    BAD("zero:group", hlr_tuner_get_lr(fx.tuner, 0, 0, &lr), HLR_OK, NULL);
    BAD("huge:group", hlr_tuner_get_lr(fx.tuner, 0, 2, &lr), HLR_ERR_INVALID_ARGUMENT, "group 2");
    BAD("huge:group", hlr_tuner_get_lr(fx.armijo, 0, SIZE_MAX, &lr), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("null:lr", hlr_tuner_get_lr(fx.tuner, 0, 0, NULL), HLR_ERR_NULL_POINTER, "lr");
}

static void case_hlr_tuner_get_lrs(void) {
    double lrs[4] = {0};
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_get_lrs(H, 0, lrs, 2));
    BAD("extreme:step", hlr_tuner_get_lrs(fx.gen, UINT64_MAX, lrs, 2), HLR_OK, NULL);
    BAD("null:lrs", hlr_tuner_get_lrs(fx.gen, 0, NULL, 2), HLR_ERR_NULL_POINTER, "lrs");
    BAD("zero:n", hlr_tuner_get_lrs(fx.gen, 0, lrs, 0), HLR_ERR_INVALID_ARGUMENT, "0");
    BAD("huge:n", hlr_tuner_get_lrs(fx.gen, 0, lrs, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("mismatch", hlr_tuner_get_lrs(fx.cdat, 0, lrs, 2), HLR_ERR_INVALID_ARGUMENT, "n = 2");
}

static void case_hlr_tuner_plan(void) {
    double lrs[4] = {0};
    int need = -1;
    size_t count = 0;
    uint64_t until = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_plan(H, 0, &need, &count, lrs, 2, &until));
    BAD("extreme:step", hlr_tuner_plan(fx.gen, UINT64_MAX, &need, &count, lrs, 2, &until), HLR_OK, NULL);
    CHECK_EQ_INT(need, HLR_NEED_NOTHING);
    CHECK(until == UINT64_MAX);
    BAD("extreme:step", hlr_tuner_plan(fx.gen, 0, &need, &count, lrs, 2, &until), HLR_OK, NULL);
    CHECK_EQ_INT(need, HLR_NEED_LOSSES);
    CHECK(until == 1);
    BAD("null:need", hlr_tuner_plan(fx.gen, 0, NULL, &count, lrs, 2, &until), HLR_ERR_NULL_POINTER, "need");
    BAD("optional:count", hlr_tuner_plan(fx.gen, 0, &need, NULL, lrs, 2, &until), HLR_OK, NULL);
    BAD("null:lrs", hlr_tuner_plan(fx.gen, 0, &need, &count, NULL, 2, &until), HLR_ERR_NULL_POINTER, "lrs");
    BAD("null:steady_until", hlr_tuner_plan(fx.gen, 0, &need, &count, lrs, 2, NULL), HLR_ERR_NULL_POINTER,
        "steady_until");
    BAD("zero:n", hlr_tuner_plan(fx.gen, 0, &need, &count, lrs, 0, &until), HLR_ERR_INVALID_ARGUMENT, "0");
    BAD("huge:n", hlr_tuner_plan(fx.gen, 0, &need, &count, lrs, SIZE_MAX, &until), HLR_ERR_INVALID_ARGUMENT,
        "18446744073709551615");
    BAD("mismatch", hlr_tuner_plan(fx.cdat, 0, &need, &count, lrs, 2, &until), HLR_ERR_INVALID_ARGUMENT, "n = 2");
}

/* --- host mode ---------------------------------------------------------------------------- */

/* observe_host_f32 and _f64 share their cases; F32 selects the precision. */
static void host_observe_cases(int f32) {
#define OBS(t, step, g, u, n, offs, n_offs, hvp_ok, ctx)                                            \
    (f32 ? hlr_tuner_observe_host_f32((t), (step), (g) ? g4f : NULL, (u) ? g4f : NULL, (n), (offs), \
                                      (n_offs), (hvp_ok) ? mx_hvp32 : NULL, (ctx))                  \
         : hlr_tuner_observe_host_f64((t), (step), (g) ? g4 : NULL, (u) ? g4 : NULL, (n), (offs),   \
                                      (n_offs), (hvp_ok) ? mx_hvp64 : NULL, (ctx)))
    BAD_HANDLES("handle:tuner", H_TUNER, 1, OBS(H, 8, 1, 0, 4, two_groups, 3, 1, NULL));
    BAD("extreme:step", OBS(fx.tuner, UINT64_MAX, 1, 0, 4, two_groups, 3, 1, NULL), HLR_ERR_WRONG_STATE, NULL);
    BAD("state", OBS(fx.tuner, 7, 1, 0, 4, two_groups, 3, 1, NULL), HLR_ERR_WRONG_STATE, "step 7");
    BAD("state", OBS(fx.gen, 0, 1, 0, 4, two_groups, 3, 1, NULL), HLR_ERR_WRONG_STATE, NULL);
    BAD("null:gradient", OBS(fx.tuner, 8, 0, 0, 4, two_groups, 3, 1, NULL), HLR_ERR_NULL_POINTER, "gradient");
    BAD("null:update", OBS(fx.cdat, 0, 1, 0, 4, NULL, 0, 1, NULL), HLR_ERR_NULL_POINTER, "update");
    BAD("mismatch", OBS(fx.tuner, 8, 1, 1, 4, two_groups, 3, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "update");
    BAD("zero:n", OBS(fx.tuner, 8, 1, 0, 0, two_groups, 3, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("huge:n", OBS(fx.tuner, 8, 1, 0, SIZE_MAX, two_groups, 3, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("null:group_offsets", OBS(fx.tuner, 8, 1, 0, 4, NULL, 0, 1, NULL), HLR_ERR_NULL_POINTER, "group_offsets");
    BAD("null:group_offsets", OBS(fx.tuner, 8, 1, 0, 4, NULL, 3, 1, NULL), HLR_ERR_NULL_POINTER, "group_offsets");
    const size_t bad_offsets[4][3] = {{1, 2, 4}, {0, 3, 2}, {0, 2, 3}, {0, 2, 5}};
    for (int i = 0; i < 4; i++)
        BAD("offsets:group_offsets", OBS(fx.tuner, 8, 1, 0, 4, bad_offsets[i], 3, 1, NULL),
            HLR_ERR_INVALID_ARGUMENT, "group_offsets[");
    BAD("zero:n_offsets", OBS(fx.tuner, 8, 1, 0, 4, two_groups, 0, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "n_offsets");
    BAD("huge:n_offsets", OBS(fx.tuner, 8, 1, 0, 4, two_groups, SIZE_MAX, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "n_offsets");
    BAD("mismatch", OBS(fx.tuner, 8, 1, 0, 4, two_groups, 2, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "n_offsets");
    BAD("null:hvp", OBS(fx.tuner, 8, 1, 0, 4, two_groups, 3, 0, NULL), HLR_ERR_NULL_POINTER, "hvp");
    mx_hvp_mode = 1;
    BAD("fail:hvp", OBS(fx.tuner, 8, 1, 0, 4, two_groups, 3, 1, NULL), HLR_ERR_CALLBACK, "returned 5");
    mx_hvp_mode = 2;
    BAD("nan:hvp", OBS(fx.tuner, 8, 1, 0, 4, two_groups, 3, 1, NULL), HLR_ERR_NONFINITE, "HVP output");
    mx_hvp_mode = 0;
    /* Non-finite data. */
    const double nan4[4] = {1.0, NAN, 0.5, 3.0};
    const float nan4f[4] = {1.0f, NAN, 0.5f, 3.0f};
    const double inf4[4] = {1.0, 2.0, INFINITY, 3.0};
    const float inf4f[4] = {1.0f, 2.0f, INFINITY, 3.0f};
    BAD("nonfinite:gradient",
        f32 ? hlr_tuner_observe_host_f32(fx.tuner, 8, nan4f, NULL, 4, two_groups, 3, mx_hvp32, NULL)
            : hlr_tuner_observe_host_f64(fx.tuner, 8, nan4, NULL, 4, two_groups, 3, mx_hvp64, NULL),
        HLR_ERR_NONFINITE, "group 0");
    BAD("nonfinite:gradient",
        f32 ? hlr_tuner_observe_host_f32(fx.tuner, 8, inf4f, NULL, 4, two_groups, 3, mx_hvp32, NULL)
            : hlr_tuner_observe_host_f64(fx.tuner, 8, inf4, NULL, 4, two_groups, 3, mx_hvp64, NULL),
        HLR_ERR_NONFINITE, "group 1");
    BAD("nonfinite:update",
        f32 ? hlr_tuner_observe_host_f32(fx.cdat, 0, g4f, nan4f, 4, NULL, 0, mx_hvp32, NULL)
            : hlr_tuner_observe_host_f64(fx.cdat, 0, g4, nan4, 4, NULL, 0, mx_hvp64, NULL),
        HLR_ERR_NONFINITE, "not finite");
    /* Accepted: update NULL with direction gradient, offsets NULL for one group, any ctx (never
     * dereferenced, handed to the callback unchanged). */
    hlr_tuner *local = hlrt_create(1);
    void *opaque = (void *)(uintptr_t)0xfeedfacecafebeefull;
    mx_ctx_seen = NULL;
    BAD("optional:update", OBS(local, 0, 1, 0, 4, NULL, 0, 1, opaque), HLR_OK, NULL);
    BAD("optional:group_offsets", OBS(local, 10, 1, 0, 4, NULL, 0, 1, opaque), HLR_OK, NULL);
    BAD("opaque:ctx", mx_ctx_seen == opaque ? HLR_OK : -1, HLR_OK, NULL);
    hlr_tuner_free(local);
#undef OBS
}

static void case_hlr_tuner_observe_host_f32(void) { host_observe_cases(1); }
static void case_hlr_tuner_observe_host_f64(void) { host_observe_cases(0); }

static void host_step_cases(int f32) {
#define STEP(t, step, w, g, u, n, offs, n_offs, loss0, hvp_ok, loss_ok, ctx, rounds)                \
    (f32 ? hlr_tuner_step_host_f32((t), (step), (w) ? g4f : NULL, (g) ? g4f : NULL,                 \
                                   (u) ? g4f : NULL, (n), (offs), (n_offs), (loss0),                \
                                   (hvp_ok) ? mx_hvp32 : NULL, (loss_ok) ? mx_loss32 : NULL, (ctx), \
                                   (rounds))                                                        \
         : hlr_tuner_step_host_f64((t), (step), (w) ? g4 : NULL, (g) ? g4 : NULL,                   \
                                   (u) ? g4 : NULL, (n), (offs), (n_offs), (loss0),                 \
                                   (hvp_ok) ? mx_hvp64 : NULL, (loss_ok) ? mx_loss64 : NULL, (ctx), \
                                   (rounds)))
    size_t rounds = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, STEP(H, 8, 1, 1, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds));
    BAD("null:weights", STEP(fx.gen, 0, 0, 1, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds),
        HLR_ERR_NULL_POINTER, "weights");
    BAD("null:gradient", STEP(fx.gen, 0, 1, 0, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds),
        HLR_ERR_NULL_POINTER, "gradient");
    BAD("zero:n", STEP(fx.gen, 0, 1, 1, 0, 0, two_groups, 3, NAN, 1, 1, NULL, &rounds), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("huge:n", STEP(fx.gen, 0, 1, 1, 0, SIZE_MAX, two_groups, 3, NAN, 1, 1, NULL, &rounds),
        HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("null:group_offsets", STEP(fx.gen, 0, 1, 1, 0, 4, NULL, 0, NAN, 1, 1, NULL, &rounds),
        HLR_ERR_NULL_POINTER, "group_offsets");
    const size_t bad_offsets[4][3] = {{1, 2, 4}, {0, 3, 2}, {0, 2, 3}, {0, 2, 5}};
    for (int i = 0; i < 4; i++)
        BAD("offsets:group_offsets", STEP(fx.gen, 0, 1, 1, 0, 4, bad_offsets[i], 3, NAN, 1, 1, NULL, &rounds),
            HLR_ERR_INVALID_ARGUMENT, "group_offsets[");
    BAD("zero:n_offsets", STEP(fx.gen, 0, 1, 1, 0, 4, two_groups, 0, NAN, 1, 1, NULL, &rounds),
        HLR_ERR_INVALID_ARGUMENT, "n_offsets");
    BAD("huge:n_offsets", STEP(fx.gen, 0, 1, 1, 0, 4, two_groups, SIZE_MAX, NAN, 1, 1, NULL, &rounds),
        HLR_ERR_INVALID_ARGUMENT, "n_offsets");
    BAD("inf:current_loss", STEP(fx.armijo, 0, 1, 1, 0, 4, two_groups, 3, INFINITY, 1, 1, NULL, &rounds),
        HLR_ERR_NONFINITE, "inf");
    BAD("inf:current_loss", STEP(fx.gen, 0, 1, 1, 0, 4, two_groups, 3, -INFINITY, 1, 1, NULL, &rounds),
        HLR_ERR_NONFINITE, "-inf");
    /* The callback a step needs, missing: HLR_ERR_NULL_POINTER naming it (header). */
    BAD("null:hvp", STEP(fx.tuner, 8, 1, 1, 0, 4, two_groups, 3, NAN, 0, 1, NULL, &rounds),
        HLR_ERR_NULL_POINTER, "hvp");
    BAD("null:loss", STEP(fx.gen, 0, 1, 1, 0, 4, two_groups, 3, 1.0, 1, 0, NULL, &rounds),
        HLR_ERR_NULL_POINTER, "loss");
    BAD("null:loss", STEP(fx.armijo, 0, 1, 1, 0, 4, two_groups, 3, 1.0, 1, 0, NULL, &rounds),
        HLR_ERR_NULL_POINTER, "loss");
    mx_hvp_mode = 1;
    BAD("fail:hvp", STEP(fx.tuner, 8, 1, 1, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds),
        HLR_ERR_CALLBACK, "returned 5");
    BAD("fail:hvp", STEP(fx.cdat, 0, 1, 1, 1, 4, NULL, 0, NAN, 1, 1, NULL, &rounds), HLR_ERR_CALLBACK, "returned 5");
    mx_hvp_mode = 2;
    BAD("nan:hvp", STEP(fx.tuner, 8, 1, 1, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds), HLR_ERR_NONFINITE, NULL);
    mx_hvp_mode = 0;
    mx_loss_mode = 1;
    BAD("fail:loss", STEP(fx.gen, 0, 1, 1, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds), HLR_ERR_CALLBACK, "returned 6");
    BAD("fail:loss", STEP(fx.armijo, 0, 1, 1, 0, 4, two_groups, 3, 1.0, 1, 1, NULL, &rounds), HLR_ERR_CALLBACK, "returned 6");
    mx_loss_mode = 2;
    BAD("nan:loss", STEP(fx.gen, 0, 1, 1, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds), HLR_ERR_NONFINITE, "nan");
    /* NaN at the current weights (a fresh search's L(w)) is an error; a NaN trial loss (as in
     * the fixture's pending search) is a failed observation, not an error (test_step.c). */
    hlr_tuner *fresh = hlrt_create_method(HLR_METHOD_ARMIJO, 2);
    BAD("nan:loss", STEP(fresh, 0, 1, 1, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds), HLR_ERR_NONFINITE,
        "the loss at the current weights is not finite");
    hlr_tuner_free(fresh);
    mx_loss_mode = 0;
    /* Non-finite buffers. */
    const double nan4[4] = {1.0, NAN, 0.5, 3.0};
    const float nan4f[4] = {1.0f, NAN, 0.5f, 3.0f};
#define STEP_DATA(t, step, w, g, u, offs, n_offs)                                                  \
    (f32 ? hlr_tuner_step_host_f32((t), (step), (w) ? nan4f : g4f, (g) ? nan4f : g4f,              \
                                   (u) ? nan4f : NULL, 4, (offs), (n_offs), NAN, mx_hvp32,         \
                                   mx_loss32, NULL, &rounds)                                       \
         : hlr_tuner_step_host_f64((t), (step), (w) ? nan4 : g4, (g) ? nan4 : g4,                  \
                                   (u) ? nan4 : NULL, 4, (offs), (n_offs), NAN, mx_hvp64,          \
                                   mx_loss64, NULL, &rounds))
    BAD("nonfinite:weights", STEP_DATA(fx.gen, 0, 1, 0, 0, two_groups, 3), HLR_ERR_NONFINITE, "weights[1]");
    BAD("nonfinite:gradient", STEP_DATA(fx.tuner, 8, 0, 1, 0, two_groups, 3), HLR_ERR_NONFINITE, "group 0");
    BAD("nonfinite:gradient", STEP_DATA(fx.armijo, 0, 0, 1, 0, two_groups, 3), HLR_ERR_NONFINITE, NULL);
    BAD("nonfinite:update", STEP_DATA(fx.gen, 0, 0, 0, 1, two_groups, 3), HLR_ERR_NONFINITE, "direction[1]");
    BAD("nonfinite:update", STEP_DATA(fx.cdat, 0, 0, 0, 1, NULL, 0), HLR_ERR_NONFINITE, NULL);
#undef STEP_DATA
    /* Another call changing the tuner while the callbacks run: nothing of the step is applied. */
    {
        hlr_tuner *local = hlrt_create(2);
        hlrt_state before = hlrt_capture(local);
        mx_reenter = local;
        BAD("state", STEP(local, 0, 1, 1, 0, 4, two_groups, 3, NAN, 1, 1, NULL, &rounds), HLR_ERR_WRONG_STATE,
            "changed");
        mx_reenter = NULL;
        /* The callback's own change is there; the step's observation is not. */
        hlr_tuner *expected = hlrt_create(2);
        CHECK_OK(hlr_tuner_restore(expected, before.bytes, before.size));
        CHECK_OK(hlr_tuner_set_param(expected, HLR_PARAM_SMOOTHING, 0.25));
        hlrt_state want = hlrt_capture(expected);
        CHECK(hlrt_same_state(local, &want));
        hlrt_release(&want);
        hlr_tuner_free(expected);
        hlrt_release(&before);
        hlr_tuner_free(local);
    }
    /* Accepted: NaN current_loss (not given), no update (d = g), NULL offsets for one group, NULL
     * rounds, callbacks the method never needs NULL, any ctx. */
    hlr_tuner *local = hlrt_create_method(HLR_METHOD_GEN, 1);
    void *opaque = (void *)(uintptr_t)0x5eed5eedull;
    mx_ctx_seen = NULL;
    BAD("nan:current_loss", STEP(local, 0, 1, 1, 0, 4, NULL, 0, NAN, 0, 1, opaque, &rounds), HLR_OK, NULL);
    CHECK_EQ_INT(rounds, 1);
    BAD("opaque:ctx", mx_ctx_seen == opaque ? HLR_OK : -1, HLR_OK, NULL);
    BAD("optional:update", STEP(local, 4, 1, 1, 0, 4, NULL, 0, 2.0, 0, 1, NULL, NULL), HLR_OK, NULL);
    BAD("optional:group_offsets", STEP(local, 8, 1, 1, 0, 4, NULL, 0, 2.0, 0, 1, NULL, &rounds), HLR_OK, NULL);
    BAD("optional:hvp", STEP(local, 12, 1, 1, 0, 4, NULL, 0, 2.0, 0, 1, NULL, &rounds), HLR_OK, NULL);
    BAD("optional:rounds", STEP(local, 16, 1, 1, 0, 4, NULL, 0, 2.0, 0, 1, NULL, NULL), HLR_OK, NULL);
    BAD("extreme:step", STEP(local, UINT64_MAX, 1, 1, 0, 4, NULL, 0, 2.0, 0, 0, NULL, &rounds), HLR_OK, NULL);
    CHECK_EQ_INT(rounds, 0); /* 2^64 - 1 is not a multiple of 4: nothing to do */
    hlr_tuner_free(local);
    local = hlrt_create(1);
    BAD("optional:loss", STEP(local, 0, 1, 1, 0, 4, NULL, 0, NAN, 1, 0, NULL, &rounds), HLR_OK, NULL);
    hlr_tuner_free(local);
#undef STEP
}

static void case_hlr_tuner_step_host_f32(void) { host_step_cases(1); }
static void case_hlr_tuner_step_host_f64(void) { host_step_cases(0); }

/* hlr_tuner_step: a diagonal quadratic L = 1/2 sum a_i w_i^2 on 4 weights in 2 groups, d = g. */
static int so_mode; /* 0: exact; 1: every callback returns 5; 2: NaN values */
static void *so_ctx_seen;
static int so_trial;
static double so_xi[2];
static const double so_w[4] = {0.5, -1.0, 2.0, 0.25}, so_a[4] = {1.0, 2.0, 3.0, 4.0};

static int so_group_sums(void *ctx, double *out, size_t groups, int power) {
    so_ctx_seen = ctx;
    if (so_mode == 1) return 5;
    for (size_t k = 0; k < groups && k < 2; k++) {
        out[k] = 0.0;
        for (size_t i = 2 * k; i < 2 * k + 2; i++) {
            double g = so_a[i] * so_w[i];
            out[k] += (power ? so_a[i] : 1.0) * g * g;
        }
    }
    if (so_mode == 2) out[0] = NAN;
    return 0;
}
static int so_slopes(void *ctx, double *out, size_t groups) { return so_group_sums(ctx, out, groups, 0); }
static int so_curvatures(void *ctx, double *out, size_t groups) { return so_group_sums(ctx, out, groups, 1); }
static int so_set_trial(void *ctx, const double *steps, size_t groups) {
    so_ctx_seen = ctx;
    if (so_mode == 1) return 5;
    for (size_t k = 0; k < groups && k < 2; k++) so_xi[k] = steps[k];
    so_trial = 1;
    return 0;
}
static int so_loss(void *ctx, double *out) {
    so_ctx_seen = ctx;
    if (so_mode == 1) return 5;
    double sum = 0.0;
    for (size_t i = 0; i < 4; i++) {
        double w = so_trial ? so_w[i] - so_xi[i / 2] * so_a[i] * so_w[i] : so_w[i];
        sum += 0.5 * so_a[i] * w * w;
    }
    *out = so_mode == 2 ? NAN : sum;
    return 0;
}
static int so_restore(void *ctx) {
    so_ctx_seen = ctx;
    so_trial = 0;
    return so_mode == 1 ? 5 : 0;
}

static void case_hlr_tuner_step(void) {
    const hlr_step_ops ops = {sizeof ops, so_slopes, so_curvatures, so_set_trial, so_loss, so_restore, NULL};
    size_t rounds = 0, failures = 0;
    /* fx.tuner (HessianLR) needs curvature at step 8, fx.gen losses at step 0. */
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_step(H, 8, &ops, NULL, NAN, &rounds, &failures));
    BAD("null:ops", hlr_tuner_step(fx.tuner, 8, NULL, NULL, NAN, &rounds, &failures), HLR_ERR_NULL_POINTER, "ops");
    hlr_step_ops bad = ops;
    bad.struct_size = sizeof bad - sizeof(void *);
    BAD("layout:ops", hlr_tuner_step(fx.tuner, 8, &bad, NULL, NAN, &rounds, &failures), HLR_ERR_INVALID_ARGUMENT,
        "struct_size");
    bad = ops;
    bad.curvatures = NULL;
    BAD("layout:ops", hlr_tuner_step(fx.tuner, 8, &bad, NULL, NAN, &rounds, &failures), HLR_ERR_NULL_POINTER,
        "curvatures");
    bad = ops;
    bad.set_trial = NULL;
    BAD("layout:ops", hlr_tuner_step(fx.gen, 0, &bad, NULL, NAN, &rounds, &failures), HLR_ERR_NULL_POINTER,
        "set_trial");
    bad = ops;
    bad.restore = NULL;
    BAD("layout:ops", hlr_tuner_step(fx.armijo, 0, &bad, NULL, NAN, &rounds, &failures), HLR_ERR_NULL_POINTER,
        "restore");
    so_mode = 1;
    BAD("fail:ops", hlr_tuner_step(fx.tuner, 8, &ops, NULL, NAN, &rounds, &failures), HLR_ERR_CALLBACK,
        "ops->slopes callback returned 5");
    BAD("fail:ops", hlr_tuner_step(fx.gen, 0, &ops, NULL, NAN, &rounds, &failures), HLR_ERR_CALLBACK,
        "ops->set_trial callback returned 5");
    so_mode = 2;
    BAD("nan:ops", hlr_tuner_step(fx.tuner, 8, &ops, NULL, NAN, &rounds, &failures), HLR_ERR_NONFINITE,
        "gᵀd of group 0 is not finite");
    BAD("nan:ops", hlr_tuner_step(fx.gen, 0, &ops, NULL, NAN, &rounds, &failures), HLR_ERR_NONFINITE,
        "the loss at the current weights");
    so_mode = 0;
    BAD("inf:current_loss", hlr_tuner_step(fx.gen, 0, &ops, NULL, INFINITY, &rounds, &failures), HLR_ERR_NONFINITE,
        "inf");
    BAD("inf:current_loss", hlr_tuner_step(fx.gen, 0, &ops, NULL, -INFINITY, &rounds, &failures), HLR_ERR_NONFINITE,
        "-inf");
    /* Accepted: NaN current_loss ("not given"), NULL rounds / failures, any ctx (handed to every
     * callback unchanged), any step (one before the last observed needs nothing). */
    hlr_tuner *local = hlrt_create_method(HLR_METHOD_GEN, 2);
    void *opaque = (void *)(uintptr_t)0xfeedfacecafebeefull;
    so_ctx_seen = NULL;
    BAD("nan:current_loss", hlr_tuner_step(local, 0, &ops, opaque, NAN, &rounds, &failures), HLR_OK, NULL);
    BAD("opaque:ctx", so_ctx_seen == opaque && rounds == 1 && failures == 0 ? HLR_OK : -1, HLR_OK, NULL);
    BAD("optional:rounds", hlr_tuner_step(local, 4, &ops, NULL, 1.0, NULL, &failures), HLR_OK, NULL);
    BAD("optional:failures", hlr_tuner_step(local, 8, &ops, NULL, 1.0, &rounds, NULL), HLR_OK, NULL);
    BAD("extreme:step", hlr_tuner_step(local, 0, &ops, NULL, NAN, &rounds, &failures), HLR_OK, NULL);
    BAD("extreme:step", rounds == 0 ? HLR_OK : -1, HLR_OK, NULL);
    BAD("extreme:step", hlr_tuner_step(local, UINT64_MAX, &ops, NULL, NAN, &rounds, &failures), HLR_OK, NULL);
    double lrs[2] = {NAN, NAN};
    BAD("extreme:step", hlr_tuner_get_lrs(local, UINT64_MAX, lrs, 2), HLR_OK, NULL);
    BAD("extreme:step", isfinite(lrs[0]) && isfinite(lrs[1]) ? HLR_OK : -1, HLR_OK, NULL);
    hlr_tuner_free(local);
}

/* --- schedules ---------------------------------------------------------------------------- */

static void case_hlr_schedule_create(void) {
    hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
    BAD("null:out", hlr_schedule_create(HLR_SCHEDULE_STEP, NULL), HLR_ERR_NULL_POINTER, "out");
    const int kinds[] = {0, 16, -1, INT32_MAX};
    const char *spelled[] = {"0", "16", "-1", "2147483647"};
    for (int i = 0; i < 4; i++) {
        BAD("bad:kind", hlr_schedule_create(kinds[i], &out), HLR_ERR_UNKNOWN_METHOD, spelled[i]);
        CHECK(out == NULL);
    }
    BAD("bad:kind", hlr_schedule_create(HLR_SCHEDULE_JOIN, &out), HLR_ERR_INVALID_ARGUMENT, "hlr_schedule_join");
    BAD("bad:kind", hlr_schedule_create(HLR_SCHEDULE_WARMUP, &out), HLR_ERR_INVALID_ARGUMENT, "warmup");
    CHECK(out == NULL);
}

static void case_hlr_schedule_free(void) {
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 0, hlr_schedule_free(H));
    BAD("handle:schedule", hlr_schedule_free(NULL), HLR_OK, NULL);
}

static void case_hlr_schedule_kind(void) {
    int kind = 0;
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_kind(H, &kind));
    BAD("null:kind", hlr_schedule_kind(fx.schedule, NULL), HLR_ERR_NULL_POINTER, "kind");
}

static void case_hlr_schedule_param_bounds(void) {
    double lo, hi, def;
    BAD("bad:kind", hlr_schedule_param_bounds(0, HLR_SCHED_PARAM_BASE_LR, &lo, &hi, &def), HLR_ERR_UNKNOWN_METHOD, "0");
    BAD("bad:kind", hlr_schedule_param_bounds(16, HLR_SCHED_PARAM_BASE_LR, &lo, &hi, &def), HLR_ERR_UNKNOWN_METHOD, "16");
    BAD("bad:key", hlr_schedule_param_bounds(HLR_SCHEDULE_STEP, 0, &lo, &hi, &def), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_schedule_param_bounds(HLR_SCHEDULE_STEP, 32, &lo, &hi, &def), HLR_ERR_UNKNOWN_KEY, "32");
    BAD("bad:key", hlr_schedule_param_bounds(HLR_SCHEDULE_STEP, HLR_SCHED_PARAM_T_MAX, &lo, &hi, &def),
        HLR_ERR_UNKNOWN_KEY, "t_max");
    BAD("bad:key", hlr_schedule_param_bounds(HLR_SCHEDULE_JOIN, HLR_SCHED_PARAM_BASE_LR, &lo, &hi, &def),
        HLR_ERR_UNKNOWN_KEY, "base_lr");
    BAD("optional:min", hlr_schedule_param_bounds(HLR_SCHEDULE_STEP, HLR_SCHED_PARAM_GAMMA, NULL, &hi, &def), HLR_OK, NULL);
    BAD("optional:max", hlr_schedule_param_bounds(HLR_SCHEDULE_STEP, HLR_SCHED_PARAM_GAMMA, &lo, NULL, &def), HLR_OK, NULL);
    BAD("optional:default_value", hlr_schedule_param_bounds(HLR_SCHEDULE_STEP, HLR_SCHED_PARAM_GAMMA, &lo, &hi, NULL),
        HLR_OK, NULL);
}

static void case_hlr_schedule_set_param(void) {
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_set_param(H, HLR_SCHED_PARAM_BASE_LR, 0.1));
    BAD("bad:key", hlr_schedule_set_param(fx.multi, 0, 0.1), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_schedule_set_param(fx.multi, HLR_SCHED_PARAM_T_MAX, 10), HLR_ERR_UNKNOWN_KEY, "t_max");
    BAD("bad:key", hlr_schedule_set_param(fx.schedule, HLR_SCHED_PARAM_BASE_LR, 0.1), HLR_ERR_UNKNOWN_KEY, "base_lr");
    BAD("nan:value", hlr_schedule_set_param(fx.multi, HLR_SCHED_PARAM_GAMMA, NAN), HLR_ERR_INVALID_ARGUMENT, "nan");
    BAD("inf:value", hlr_schedule_set_param(fx.multi, HLR_SCHED_PARAM_BASE_LR, INFINITY), HLR_ERR_INVALID_ARGUMENT, "inf");
    BAD("inf:value", hlr_schedule_set_param(fx.schedule, HLR_SCHED_PARAM_START_LR, -INFINITY),
        HLR_ERR_INVALID_ARGUMENT, "-inf");
    BAD("range:value", hlr_schedule_set_param(fx.multi, HLR_SCHED_PARAM_GAMMA, 1.5), HLR_ERR_INVALID_ARGUMENT, "1.5");
    BAD("range:value", hlr_schedule_set_param(fx.multi, HLR_SCHED_PARAM_BASE_LR, 2e300), HLR_ERR_INVALID_ARGUMENT, "base_lr");
    BAD("range:value", hlr_schedule_set_param(fx.schedule, HLR_SCHED_PARAM_WARMUP_STEPS, 1.5),
        HLR_ERR_INVALID_ARGUMENT, "integer");
    hlr_schedule *hyper = hlrt_schedule(HLR_SCHEDULE_HYPERBOLIC);
    BAD("constraint", hlr_schedule_set_param(hyper, HLR_SCHED_PARAM_UPPER_BOUND, 10), HLR_ERR_INVALID_ARGUMENT, "upper_bound");
    hlr_schedule_free(hyper);
}

static void case_hlr_tuner_set_params(void) {
    const int keys[2] = {HLR_PARAM_LR_MAX, HLR_PARAM_SMOOTHING};
    const double values[2] = {0.5, 0.8};
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_set_params(H, keys, values, 2));
    BAD("null:keys", hlr_tuner_set_params(fx.tuner, NULL, values, 2), HLR_ERR_NULL_POINTER, "keys");
    BAD("null:values", hlr_tuner_set_params(fx.tuner, keys, NULL, 2), HLR_ERR_NULL_POINTER, "values");
    BAD("huge:n", hlr_tuner_set_params(fx.tuner, keys, values, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT,
        "18446744073709551615");
    BAD("huge:n", hlr_tuner_set_params(fx.tuner, keys, values, 1000), HLR_ERR_INVALID_ARGUMENT, "1000");
    const double nan_values[2] = {0.5, NAN};
    BAD("nonfinite:values", hlr_tuner_set_params(fx.tuner, keys, nan_values, 2), HLR_ERR_INVALID_ARGUMENT, "smoothing");
    const double range[2] = {0.5, 1.5};
    BAD("range:values", hlr_tuner_set_params(fx.tuner, keys, range, 2), HLR_ERR_INVALID_ARGUMENT, "1.5");
    const int dup[2] = {HLR_PARAM_SMOOTHING, HLR_PARAM_SMOOTHING};
    BAD("bad:keys", hlr_tuner_set_params(fx.tuner, dup, values, 2), HLR_ERR_INVALID_ARGUMENT, "twice");
    const int unknown[2] = {HLR_PARAM_LR_MAX, 77};
    BAD("bad:keys", hlr_tuner_set_params(fx.tuner, unknown, values, 2), HLR_ERR_UNKNOWN_KEY, "77");
    const int absent[2] = {HLR_PARAM_LR_MAX, HLR_PARAM_SIGMA}; /* sigma: not HessianLR's */
    BAD("bad:keys", hlr_tuner_set_params(fx.tuner, absent, values, 2), HLR_ERR_UNKNOWN_KEY, "sigma");
    /* The cross-constraints on the result: lr_min above lr_max together is refused, naming both. */
    const int window[2] = {HLR_PARAM_LR_MIN, HLR_PARAM_LR_MAX};
    const double crossed[2] = {0.5, 0.1};
    BAD("constraint", hlr_tuner_set_params(fx.tuner, window, crossed, 2), HLR_ERR_INVALID_ARGUMENT,
        "lr_min = 0.5, lr_max = 0.1");
    BAD("zero:n", hlr_tuner_set_params(fx.tuner, NULL, NULL, 0), HLR_OK, NULL);
    BAD("optional:keys", hlr_tuner_set_params(fx.tuner, NULL, values, 0), HLR_OK, NULL);
    BAD("optional:values", hlr_tuner_set_params(fx.tuner, keys, NULL, 0), HLR_OK, NULL);
}

static void case_hlr_schedule_set_params(void) {
    const int keys[2] = {HLR_SCHED_PARAM_BASE_LR, HLR_SCHED_PARAM_GAMMA};
    const double values[2] = {0.2, 0.5};
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_set_params(H, keys, values, 2));
    BAD("null:keys", hlr_schedule_set_params(fx.multi, NULL, values, 2), HLR_ERR_NULL_POINTER, "keys");
    BAD("null:values", hlr_schedule_set_params(fx.multi, keys, NULL, 2), HLR_ERR_NULL_POINTER, "values");
    BAD("huge:n", hlr_schedule_set_params(fx.multi, keys, values, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT,
        "18446744073709551615");
    BAD("huge:n", hlr_schedule_set_params(fx.multi, keys, values, 32), HLR_ERR_INVALID_ARGUMENT, "32");
    const double nan_values[2] = {0.2, NAN};
    const double inf_values[2] = {INFINITY, 0.5};
    BAD("nonfinite:values", hlr_schedule_set_params(fx.multi, keys, nan_values, 2), HLR_ERR_INVALID_ARGUMENT, "gamma");
    BAD("nonfinite:values", hlr_schedule_set_params(fx.multi, keys, inf_values, 2), HLR_ERR_INVALID_ARGUMENT, "base_lr");
    const int dup[2] = {HLR_SCHED_PARAM_GAMMA, HLR_SCHED_PARAM_GAMMA};
    BAD("bad:keys", hlr_schedule_set_params(fx.multi, dup, values, 2), HLR_ERR_INVALID_ARGUMENT, "twice");
    const int unknown[2] = {HLR_SCHED_PARAM_BASE_LR, 77};
    BAD("bad:keys", hlr_schedule_set_params(fx.multi, unknown, values, 2), HLR_ERR_UNKNOWN_KEY, "77");
    BAD("zero:n", hlr_schedule_set_params(fx.multi, NULL, NULL, 0), HLR_OK, NULL);
    BAD("optional:keys", hlr_schedule_set_params(fx.multi, NULL, values, 0), HLR_OK, NULL);
    BAD("optional:values", hlr_schedule_set_params(fx.multi, keys, NULL, 0), HLR_OK, NULL);
}

static void case_hlr_schedule_get_param(void) {
    double v = 0;
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_get_param(H, HLR_SCHED_PARAM_BASE_LR, &v));
    BAD("bad:key", hlr_schedule_get_param(fx.multi, -3, &v), HLR_ERR_UNKNOWN_KEY, "-3");
    BAD("bad:key", hlr_schedule_get_param(fx.multi, HLR_SCHED_PARAM_POWER, &v), HLR_ERR_UNKNOWN_KEY, "power");
    BAD("null:value", hlr_schedule_get_param(fx.multi, HLR_SCHED_PARAM_GAMMA, NULL), HLR_ERR_NULL_POINTER, "value");
}

static void case_hlr_schedule_set_milestones(void) {
    const uint64_t m[3] = {5, 1, 5};
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_set_milestones(H, m, 3));
    BAD("null:milestones", hlr_schedule_set_milestones(fx.multi, NULL, 3), HLR_ERR_NULL_POINTER, "milestones");
    BAD("huge:n", hlr_schedule_set_milestones(fx.multi, m, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("huge:n", hlr_schedule_set_milestones(fx.multi, m, 4097), HLR_ERR_INVALID_ARGUMENT, "4097");
    BAD("bad:schedule", hlr_schedule_set_milestones(fx.schedule, m, 3), HLR_ERR_INVALID_ARGUMENT, "milestones");
    hlr_schedule *local = hlrt_schedule(HLR_SCHEDULE_MULTI_STEP);
    BAD("zero:n", hlr_schedule_set_milestones(local, m, 0), HLR_OK, NULL);
    BAD("optional:milestones", hlr_schedule_set_milestones(local, NULL, 0), HLR_OK, NULL);
    hlr_schedule_free(local);
}

static void case_hlr_schedule_join(void) {
    const hlr_schedule *pieces[2] = {fx.multi, fx.schedule};
    const uint64_t bounds[2] = {10, 20};
    hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
    BAD("null:out", hlr_schedule_join(pieces, 2, bounds, 1, NULL), HLR_ERR_NULL_POINTER, "out");
    BAD("null:pieces", hlr_schedule_join(NULL, 2, bounds, 1, &out), HLR_ERR_NULL_POINTER, "pieces");
    CHECK(out == NULL);
    {
        void *handles[16];
        int count = bad_handles(H_SCHEDULE, 1, handles);
        for (int h = 0; h < count; h++) {
            const hlr_schedule *with_bad[2] = {fx.multi, handles[h]};
            BAD("handle:pieces", hlr_schedule_join(with_bad, 2, bounds, 1, &out), HLR_ERR_INVALID_HANDLE, "handle");
            CHECK(out == NULL);
        }
    }
    BAD("zero:n_pieces", hlr_schedule_join(pieces, 0, bounds, 0, &out), HLR_ERR_INVALID_ARGUMENT, "at least one");
    BAD("huge:n_pieces", hlr_schedule_join(pieces, SIZE_MAX, bounds, 1, &out), HLR_ERR_INVALID_ARGUMENT, "n_pieces");
    BAD("null:boundaries", hlr_schedule_join(pieces, 2, NULL, 1, &out), HLR_ERR_NULL_POINTER, "boundaries");
    BAD("zero:n_boundaries", hlr_schedule_join(pieces, 2, bounds, 0, &out), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("huge:n_boundaries", hlr_schedule_join(pieces, 2, bounds, SIZE_MAX, &out), HLR_ERR_INVALID_ARGUMENT, "n_boundaries");
    BAD("mismatch", hlr_schedule_join(pieces, 2, bounds, 2, &out), HLR_ERR_INVALID_ARGUMENT, "got 2");
    const hlr_schedule *three[3] = {fx.multi, fx.schedule, fx.multi};
    const uint64_t backwards[2] = {20, 20};
    BAD("constraint", hlr_schedule_join(three, 3, backwards, 2, &out), HLR_ERR_INVALID_ARGUMENT, "increasing");
    CHECK(out == NULL);
    BAD("optional:boundaries", hlr_schedule_join(pieces, 1, NULL, 0, &out), HLR_OK, NULL);
    hlr_schedule_free(out);
}

static void case_hlr_schedule_warmup(void) {
    hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
    BAD_HANDLES("handle:child", H_SCHEDULE, 1, hlr_schedule_warmup(H, 5, 0.0, &out));
    CHECK(out == NULL);
    BAD("null:out", hlr_schedule_warmup(fx.multi, 5, 0.0, NULL), HLR_ERR_NULL_POINTER, "out");
    BAD("extreme:steps", hlr_schedule_warmup(fx.multi, UINT64_MAX, 0.0, &out), HLR_ERR_INVALID_ARGUMENT,
        "18446744073709551615");
    BAD("extreme:steps", hlr_schedule_warmup(fx.multi, ((uint64_t)1 << 53) + 1, 0.0, &out), HLR_ERR_INVALID_ARGUMENT,
        "9007199254740993");
    BAD("nan:start_lr", hlr_schedule_warmup(fx.multi, 5, NAN, &out), HLR_ERR_INVALID_ARGUMENT, "nan");
    BAD("inf:start_lr", hlr_schedule_warmup(fx.multi, 5, INFINITY, &out), HLR_ERR_INVALID_ARGUMENT, "inf");
    BAD("range:start_lr", hlr_schedule_warmup(fx.multi, 5, -0.5, &out), HLR_ERR_INVALID_ARGUMENT, "-0.5");
    CHECK(out == NULL);
    BAD("extreme:steps", hlr_schedule_warmup(fx.multi, 0, 0.0, &out), HLR_OK, NULL);
    hlr_schedule_free(out);
}

static void case_hlr_schedule_rescale(void) {
    hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_rescale(H, 0.5, &out));
    CHECK(out == NULL);
    BAD("null:out", hlr_schedule_rescale(fx.multi, 0.5, NULL), HLR_ERR_NULL_POINTER, "out");
    BAD("nan:nominal", hlr_schedule_rescale(fx.multi, NAN, &out), HLR_ERR_INVALID_ARGUMENT, "nan");
    BAD("inf:nominal", hlr_schedule_rescale(fx.multi, INFINITY, &out), HLR_ERR_INVALID_ARGUMENT, "inf");
    BAD("range:nominal", hlr_schedule_rescale(fx.multi, -0.5, &out), HLR_ERR_INVALID_ARGUMENT, "-0.5");
    CHECK(out == NULL);
}

static void case_hlr_schedule_value(void) {
    double v = 0;
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_value(H, 0, &v));
    BAD("extreme:step", hlr_schedule_value(fx.schedule, UINT64_MAX, &v), HLR_OK, NULL);
    CHECK(isfinite(v));
    BAD("null:value", hlr_schedule_value(fx.schedule, 0, NULL), HLR_ERR_NULL_POINTER, "value");
}

static void case_hlr_schedule_values(void) {
    double v[4] = {0};
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_values(H, 0, v, 4));
    BAD("extreme:first_step", hlr_schedule_values(fx.multi, UINT64_MAX, v, 1), HLR_OK, NULL);
    BAD("range:first_step", hlr_schedule_values(fx.multi, UINT64_MAX, v, 4), HLR_ERR_INVALID_ARGUMENT,
        "first_step + n = 18446744073709551615 + 4 exceeds 2^64");
    BAD("null:values", hlr_schedule_values(fx.multi, 0, NULL, 4), HLR_ERR_NULL_POINTER, "values");
    BAD("huge:n", hlr_schedule_values(fx.multi, 0, v, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("zero:n", hlr_schedule_values(fx.multi, 0, v, 0), HLR_OK, NULL);
    BAD("optional:values", hlr_schedule_values(fx.multi, 0, NULL, 0), HLR_OK, NULL);
}

static void case_hlr_schedule_nominal(void) {
    double v = 0;
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_nominal(H, &v));
    BAD("null:rate", hlr_schedule_nominal(fx.schedule, NULL), HLR_ERR_NULL_POINTER, "rate");
}

static void case_hlr_schedule_factor(void) {
    double v = 0;
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_factor(H, 3, &v));
    BAD("null:factor", hlr_schedule_factor(fx.schedule, 3, NULL), HLR_ERR_NULL_POINTER, "factor");
    BAD("extreme:step", hlr_schedule_factor(fx.schedule, UINT64_MAX, &v), HLR_OK, NULL);
    CHECK(v >= 0 && v <= 1);
    BAD("extreme:step", hlr_schedule_factor(fx.schedule, 0, &v), HLR_OK, NULL);
}

static void case_hlr_schedule_snapshot_size(void) {
    size_t size = 0;
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_snapshot_size(H, &size));
    BAD("null:size", hlr_schedule_snapshot_size(fx.schedule, NULL), HLR_ERR_NULL_POINTER, "size");
}

static void case_hlr_schedule_save(void) {
    unsigned char buffer[1024];
    size_t written = 0;
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 1, hlr_schedule_save(H, buffer, sizeof buffer, &written));
    BAD("null:buffer", hlr_schedule_save(fx.schedule, NULL, sizeof buffer, &written), HLR_ERR_NULL_POINTER, "buffer");
    BAD("zero:capacity", hlr_schedule_save(fx.schedule, buffer, 0, &written), HLR_ERR_BUFFER_TOO_SMALL, "capacity 0");
    CHECK(written > 0);
    BAD("huge:capacity", hlr_schedule_save(fx.schedule, buffer, SIZE_MAX, &written), HLR_OK, NULL);
    BAD("optional:written", hlr_schedule_save(fx.schedule, buffer, sizeof buffer, NULL), HLR_OK, NULL);
}

static void case_hlr_schedule_load(void) {
    unsigned char blob_bytes[1024];
    size_t size = 0;
    CHECK_OK(hlr_schedule_save(fx.schedule, blob_bytes, sizeof blob_bytes, &size));
    hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
    BAD("null:buffer", hlr_schedule_load(NULL, size, &out), HLR_ERR_NULL_POINTER, "buffer");
    BAD("null:buffer", hlr_schedule_load(NULL, 0, &out), HLR_ERR_NULL_POINTER, "buffer");
    CHECK(out == NULL);
    BAD("null:out", hlr_schedule_load(blob_bytes, size, NULL), HLR_ERR_NULL_POINTER, "out");
    BAD("zero:size", hlr_schedule_load(blob_bytes, 0, &out), HLR_ERR_SNAPSHOT_CORRUPT, "truncated");
    BAD("huge:size", hlr_schedule_load(blob_bytes, SIZE_MAX, &out), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("mismatch", hlr_schedule_load(blob_bytes, size - 1, &out), HLR_ERR_SNAPSHOT_CORRUPT, NULL);
    CHECK(out == NULL);
}

static void case_hlr_tuner_set_schedule(void) {
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_set_schedule(H, fx.schedule));
    BAD_HANDLES("handle:schedule", H_SCHEDULE, 0, hlr_tuner_set_schedule(fx.tuner, H));
    hlr_tuner *local = hlrt_create(1);
    BAD("handle:schedule", hlr_tuner_set_schedule(local, NULL), HLR_OK, NULL); /* NULL detaches */
    hlr_tuner_free(local);
}

static void case_hlr_tuner_get_schedule(void) {
    hlr_schedule *out = (hlr_schedule *)(uintptr_t)0x1;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_get_schedule(H, &out));
    BAD("null:out", hlr_tuner_get_schedule(fx.tuner, NULL), HLR_ERR_NULL_POINTER, "out");
}

/* --- snapshots ---------------------------------------------------------------------------- */

static void case_hlr_tuner_snapshot_size(void) {
    size_t size = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_snapshot_size(H, &size));
    BAD("null:size", hlr_tuner_snapshot_size(fx.tuner, NULL), HLR_ERR_NULL_POINTER, "size");
}

static void case_hlr_tuner_save(void) {
    unsigned char buffer[4096];
    size_t written = 0;
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_save(H, buffer, sizeof buffer, &written));
    BAD("null:buffer", hlr_tuner_save(fx.gen, NULL, sizeof buffer, &written), HLR_ERR_NULL_POINTER, "buffer");
    BAD("zero:capacity", hlr_tuner_save(fx.gen, buffer, 0, &written), HLR_ERR_BUFFER_TOO_SMALL, "capacity 0");
    CHECK(written > 0);
    BAD("huge:capacity", hlr_tuner_save(fx.gen, buffer, SIZE_MAX, &written), HLR_OK, NULL);
    BAD("optional:written", hlr_tuner_save(fx.gen, buffer, sizeof buffer, NULL), HLR_OK, NULL);
}

static void case_hlr_tuner_restore(void) {
    unsigned char own[4096], other[4096];
    size_t own_size = 0, other_size = 0;
    CHECK_OK(hlr_tuner_save(fx.gen, own, sizeof own, &own_size));
    CHECK_OK(hlr_tuner_save(fx.tuner, other, sizeof other, &other_size));
    BAD_HANDLES("handle:tuner", H_TUNER, 1, hlr_tuner_restore(H, own, own_size));
    BAD("null:buffer", hlr_tuner_restore(fx.gen, NULL, own_size), HLR_ERR_NULL_POINTER, "buffer");
    BAD("zero:size", hlr_tuner_restore(fx.gen, own, 0), HLR_ERR_SNAPSHOT_CORRUPT, "truncated");
    BAD("huge:size", hlr_tuner_restore(fx.gen, own, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("mismatch", hlr_tuner_restore(fx.gen, other, other_size), HLR_ERR_SNAPSHOT_MISMATCH, "hessianlr");
    BAD("mismatch", hlr_tuner_restore(fx.cdat, other, other_size), HLR_ERR_SNAPSHOT_MISMATCH, NULL);
    hlr_tuner *three = hlrt_create_method(HLR_METHOD_GEN, 3);
    BAD("mismatch", hlr_tuner_restore(three, own, own_size), HLR_ERR_SNAPSHOT_MISMATCH, "groups");
    hlr_tuner_free(three);
}

/* --- estimators --------------------------------------------------------------------------- */

static void case_hlr_estimator_create(void) {
    hlr_estimator *out = (hlr_estimator *)(uintptr_t)0x1;
    BAD("null:out", hlr_estimator_create(HLR_ESTIMATOR_LANCZOS, NULL), HLR_ERR_NULL_POINTER, "out");
    const int kinds[] = {0, 9, -1, INT32_MIN};
    const char *spelled[] = {"0", "9", "-1", "-2147483648"};
    for (int i = 0; i < 4; i++) {
        BAD("bad:kind", hlr_estimator_create(kinds[i], &out), HLR_ERR_UNKNOWN_METHOD, spelled[i]);
        CHECK(out == NULL);
    }
}

static void case_hlr_estimator_free(void) {
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 0, hlr_estimator_free(H));
    BAD("handle:estimator", hlr_estimator_free(NULL), HLR_OK, NULL);
}

static void case_hlr_estimator_kind(void) {
    int kind = 0;
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_kind(H, &kind));
    BAD("null:kind", hlr_estimator_kind(fx.lanczos, NULL), HLR_ERR_NULL_POINTER, "kind");
}

static void case_hlr_estimator_param_bounds(void) {
    double lo, hi, def;
    BAD("bad:kind", hlr_estimator_param_bounds(0, HLR_EST_PARAM_COUNT, &lo, &hi, &def), HLR_ERR_UNKNOWN_METHOD, "0");
    BAD("bad:kind", hlr_estimator_param_bounds(9, HLR_EST_PARAM_COUNT, &lo, &hi, &def), HLR_ERR_UNKNOWN_METHOD, "9");
    BAD("bad:key", hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, 0, &lo, &hi, &def), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, 999, &lo, &hi, &def), HLR_ERR_UNKNOWN_KEY, "999");
    BAD("bad:key", hlr_estimator_param_bounds(HLR_ESTIMATOR_POWER_ITERATION, HLR_EST_PARAM_EIGENVALUE_TOLERANCE, &lo, &hi,
                                              &def), HLR_ERR_UNKNOWN_KEY, "eigenvalue_tolerance");
    BAD("bad:key", hlr_estimator_param_bounds(HLR_ESTIMATOR_LANCZOS, HLR_EST_PARAM_SAMPLES, &lo, &hi, &def),
        HLR_ERR_UNKNOWN_KEY, "samples");
    BAD("optional:min", hlr_estimator_param_bounds(HLR_ESTIMATOR_HUTCHINSON, HLR_EST_PARAM_SAMPLES, NULL, &hi, &def),
        HLR_OK, NULL);
    BAD("optional:max", hlr_estimator_param_bounds(HLR_ESTIMATOR_HUTCHINSON, HLR_EST_PARAM_SAMPLES, &lo, NULL, &def),
        HLR_OK, NULL);
    BAD("optional:default_value",
        hlr_estimator_param_bounds(HLR_ESTIMATOR_HUTCHINSON, HLR_EST_PARAM_SAMPLES, &lo, &hi, NULL), HLR_OK, NULL);
}

static void case_hlr_estimator_set_param(void) {
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_set_param(H, HLR_EST_PARAM_COUNT, 1));
    BAD("bad:key", hlr_estimator_set_param(fx.lanczos, 0, 1), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_estimator_set_param(fx.lanczos, 99, 1), HLR_ERR_UNKNOWN_KEY, "99");
    BAD("bad:key", hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_GRID_POINTS, 10), HLR_ERR_UNKNOWN_KEY, "grid_points");
    BAD("nan:value", hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_TOLERANCE, NAN), HLR_ERR_INVALID_ARGUMENT, "nan");
    BAD("nan:value", hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_SYMMETRY_TOLERANCE, NAN),
        HLR_ERR_INVALID_ARGUMENT, "nan");
    BAD("inf:value", hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_COUNT, INFINITY), HLR_ERR_INVALID_ARGUMENT, "inf");
    BAD("inf:value", hlr_estimator_set_param(fx.diag, HLR_EST_PARAM_SAMPLES, -INFINITY), HLR_ERR_INVALID_ARGUMENT, "inf");
    BAD("range:value", hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_COUNT, 0), HLR_ERR_INVALID_ARGUMENT, "count");
    BAD("range:value", hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_COUNT, 1.5), HLR_ERR_INVALID_ARGUMENT, "1.5");
    BAD("range:value", hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_THREADS, 257), HLR_ERR_INVALID_ARGUMENT, "257");
    BAD("range:value", hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_EIGENVALUE_TOLERANCE, -1e-6),
        HLR_ERR_INVALID_ARGUMENT, "eigenvalue_tolerance");
    /* Documented infinite bounds are accepted (on a scratch handle). */
    hlr_estimator *local = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_LANCZOS, &local));
    BAD("inf:value", hlr_estimator_set_param(local, HLR_EST_PARAM_SYMMETRY_TOLERANCE, INFINITY), HLR_OK, NULL);
    hlr_estimator_free(local);
}

static void case_hlr_estimator_get_param(void) {
    double v = 0;
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_get_param(H, HLR_EST_PARAM_COUNT, &v));
    BAD("bad:key", hlr_estimator_get_param(fx.lanczos, -1, &v), HLR_ERR_UNKNOWN_KEY, "-1");
    BAD("bad:key", hlr_estimator_get_param(fx.diag, HLR_EST_PARAM_COUNT, &v), HLR_ERR_UNKNOWN_KEY, "count");
    BAD("null:value", hlr_estimator_get_param(fx.lanczos, HLR_EST_PARAM_COUNT, NULL), HLR_ERR_NULL_POINTER, "value");
}

static void case_hlr_estimator_set_seed(void) {
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_set_seed(H, 5));
    hlr_estimator *local = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_HUTCHINSON, &local));
    BAD("extreme:seed", hlr_estimator_set_seed(local, UINT64_MAX), HLR_OK, NULL);
    uint64_t seed = 0;
    CHECK_OK(hlr_estimator_get_seed(local, &seed));
    CHECK(seed == UINT64_MAX);
    BAD("extreme:seed", hlr_estimator_set_seed(local, 0), HLR_OK, NULL);
    hlr_estimator_free(local);
}

static void case_hlr_estimator_get_seed(void) {
    uint64_t seed = 0;
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_get_seed(H, &seed));
    BAD("null:seed", hlr_estimator_get_seed(fx.lanczos, NULL), HLR_ERR_NULL_POINTER, "seed");
}

static void case_hlr_estimator_set_blocks(void) {
    const size_t offsets[3] = {0, 2, 6};
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_set_blocks(H, offsets, 3));
    BAD("null:offsets", hlr_estimator_set_blocks(fx.diag, NULL, 3), HLR_ERR_NULL_POINTER, "offsets");
    const size_t bad[3][3] = {{1, 2, 6}, {0, 4, 2}, {0, SIZE_MAX, SIZE_MAX}};
    const char *needles[3] = {"offsets[0]", "decrease", "too large"};
    for (int i = 0; i < 3; i++)
        BAD("offsets:offsets", hlr_estimator_set_blocks(fx.diag, bad[i], 3), HLR_ERR_INVALID_ARGUMENT, needles[i]);
    BAD("zero:n_offsets", hlr_estimator_set_blocks(fx.diag, offsets, 0), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("mismatch", hlr_estimator_set_blocks(fx.diag, offsets, 1), HLR_ERR_INVALID_ARGUMENT, "at least 2");
    BAD("huge:n_offsets", hlr_estimator_set_blocks(fx.diag, offsets, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT, "n_offsets");
    BAD("huge:n_offsets", hlr_estimator_set_blocks(fx.diag, offsets, ((size_t)1 << 20) + 2), HLR_ERR_INVALID_ARGUMENT,
        "n_offsets");
    BAD("bad:estimator", hlr_estimator_set_blocks(fx.lanczos, offsets, 3), HLR_ERR_INVALID_ARGUMENT, "lanczos");
    hlr_estimator *local = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_HUTCHINSON, &local));
    BAD("optional:offsets", hlr_estimator_set_blocks(local, NULL, 0), HLR_OK, NULL);
    hlr_estimator_free(local);
}

static void estimator_run_cases(int f32) {
#define RUN(e, n, hvp_ok, ctx)                                                                        \
    (f32 ? hlr_estimator_run_host_f32((e), (n), (hvp_ok) ? mx_hvp32 : NULL, (ctx))                     \
         : hlr_estimator_run_host_f64((e), (n), (hvp_ok) ? mx_hvp64 : NULL, (ctx)))
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, RUN(H, MX_N, 1, NULL));
    /* Failing runs on the fixtures themselves: their previous results must survive. */
    BAD("null:hvp", RUN(fx.lanczos, MX_N, 0, NULL), HLR_ERR_NULL_POINTER, "hvp");
    BAD("zero:n", RUN(fx.lanczos, 0, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "got 0");
    BAD("huge:n", RUN(fx.lanczos, SIZE_MAX, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("huge:n", RUN(fx.lanczos, ((size_t)1 << 31) + 1, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "2147483649");
    BAD("constraint", RUN(fx.lanczos, 1, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "count");
    BAD("constraint", RUN(fx.diag, 5, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "block");
    mx_hvp_mode = 1;
    BAD("fail:hvp", RUN(fx.lanczos, MX_N, 1, NULL), HLR_ERR_CALLBACK, "returned 5");
    BAD("fail:hvp", RUN(fx.diag, MX_N, 1, NULL), HLR_ERR_CALLBACK, "returned 5");
    mx_hvp_mode = 2;
    BAD("nan:hvp", RUN(fx.lanczos, MX_N, 1, NULL), HLR_ERR_NONFINITE, NULL);
    BAD("nan:hvp", RUN(fx.diag, MX_N, 1, NULL), HLR_ERR_NONFINITE, NULL);
    mx_hvp_mode = 3;
    BAD("bad:hvp", RUN(fx.lanczos, MX_N, 1, NULL), HLR_ERR_INVALID_ARGUMENT, "symmetr");
    mx_hvp_mode = 0;
    hlr_estimator *local = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_HUTCHINSON, &local));
    void *opaque = (void *)(uintptr_t)0xabcdef12ull;
    mx_ctx_seen = NULL;
    BAD("opaque:ctx", RUN(local, MX_N, 1, opaque), HLR_OK, NULL);
    BAD("opaque:ctx", mx_ctx_seen == opaque ? HLR_OK : -1, HLR_OK, NULL);
    hlr_estimator_free(local);
#undef RUN
}

static void case_hlr_estimator_run_host_f32(void) { estimator_run_cases(1); }
static void case_hlr_estimator_run_host_f64(void) { estimator_run_cases(0); }

static void case_hlr_estimator_run_ops(void) {
    hlr_vector_ops ops = ops_table(MX_N);
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_run_ops(H, &ops, &fx_ops));
    BAD("null:ops", hlr_estimator_run_ops(fx.diag, NULL, &fx_ops), HLR_ERR_NULL_POINTER, "ops");
    /* The table's layout: too small a struct_size, a required callback missing, an optional one
     * the configuration needs missing, n out of range. */
    hlr_vector_ops bad = ops;
    bad.struct_size = 12 * sizeof(void *) - 1; /* version 1 has 12 fields (all_reduce came later) */
    BAD("layout:ops", hlr_estimator_run_ops(fx.diag, &bad, &fx_ops), HLR_ERR_INVALID_ARGUMENT, "struct_size");
    bad.struct_size = 0;
    BAD("layout:ops", hlr_estimator_run_ops(fx.diag, &bad, &fx_ops), HLR_ERR_INVALID_ARGUMENT, "struct_size");
    const char *required[8] = {"alloc", "release", "copy", "dot", "axpy", "scale", "fill_probe", "hvp"};
    for (int i = 0; i < 8; i++) {
        bad = ops;
        void *null_field = NULL;
        memcpy((char *)&bad + (2 + (size_t)i) * sizeof(void *), &null_field, sizeof null_field);
        BAD("layout:ops", hlr_estimator_run_ops(fx.diag, &bad, &fx_ops), HLR_ERR_NULL_POINTER, required[i]);
    }
    bad = ops;
    bad.mul_acc = NULL;
    BAD("layout:ops", hlr_estimator_run_ops(fx.diag, &bad, &fx_ops), HLR_ERR_NULL_POINTER, "mul_acc");
    bad = ops;
    bad.block_dots = NULL;
    BAD("layout:ops", hlr_estimator_run_ops(fx.diag, &bad, &fx_ops), HLR_ERR_NULL_POINTER, "block_dots");
    bad = ops;
    bad.n = 0;
    BAD("layout:ops", hlr_estimator_run_ops(fx.lanczos, &bad, &fx_ops), HLR_ERR_INVALID_ARGUMENT, "≥ 1");
    bad.n = SIZE_MAX;
    BAD("layout:ops", hlr_estimator_run_ops(fx.lanczos, &bad, &fx_ops), HLR_ERR_INVALID_ARGUMENT, "ops->n");
    /* Every callback the runs call, failing in turn; NaN from dot and hvp. Each failing run
     * releases every vector it allocated. */
    hlr_estimator *targets[2] = {fx.diag, fx.lanczos};
    for (int t = 0; t < 2; t++) {
        ops_state probe;
        memset(&probe, 0, sizeof probe);
        probe.n = MX_N;
        /* A scratch estimator with the target's exact configuration shows which callbacks a run
         * calls (a callback that is never called cannot fail the run). */
        hlr_estimator *scratch = NULL;
        int kind = 0;
        uint64_t seed = 0;
        CHECK_OK(hlr_estimator_kind(targets[t], &kind));
        CHECK_OK(hlr_estimator_get_seed(targets[t], &seed));
        CHECK_OK(hlr_estimator_create(kind, &scratch));
        CHECK_OK(hlr_estimator_set_seed(scratch, seed));
        for (int key = 1; key <= 20; key++) {
            double value = 0;
            if (hlr_estimator_get_param(targets[t], key, &value) == HLR_OK)
                CHECK_OK(hlr_estimator_set_param(scratch, key, value));
        }
        if (kind == HLR_ESTIMATOR_DIAGONAL) {
            const size_t offsets[3] = {0, 2, MX_N};
            CHECK_OK(hlr_estimator_set_blocks(scratch, offsets, 3));
        }
        CHECK_OK(hlr_estimator_run_ops(scratch, &ops, &probe));
        hlr_estimator_free(scratch);
        for (int i = 0; i < OPS_SLOTS; i++) free(probe.slot[i]);
        for (int op = OP_ALLOC; op < OP_COUNT; op++) {
            if (probe.called[op] == 0) continue;
            int live = fx_ops.live;
            memset(fx_ops.called, 0, sizeof fx_ops.called);
            fx_ops.fail_op = op;
            char needle[64];
            snprintf(needle, sizeof needle, "ops->%s callback returned 11", op_names[op]);
            BAD("fail:ops", hlr_estimator_run_ops(targets[t], &ops, &fx_ops), HLR_ERR_CALLBACK, needle);
            fx_ops.fail_op = 0;
            CHECK_EQ_INT(fx_ops.live, live); /* nothing leaked by the aborted run */
        }
        const int nan_ops[2] = {OP_DOT, OP_HVP};
        for (int i = 0; i < 2; i++) {
            if (probe.called[nan_ops[i]] == 0) continue;
            int live = fx_ops.live;
            fx_ops.nan_op = nan_ops[i];
            BAD("nan:ops", hlr_estimator_run_ops(targets[t], &ops, &fx_ops), HLR_ERR_NONFINITE, NULL);
            fx_ops.nan_op = 0;
            CHECK_EQ_INT(fx_ops.live, live);
        }
    }
    /* ctx: never dereferenced by the library, handed to every callback unchanged. */
    hlr_estimator *local = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_HUTCHINSON, &local));
    ops_state own;
    memset(&own, 0, sizeof own);
    own.n = MX_N;
    BAD("opaque:ctx", hlr_estimator_run_ops(local, &ops, &own), HLR_OK, NULL);
    BAD("opaque:ctx", own.called[OP_HVP] > 0 && own.live == 0 ? HLR_OK : -1, HLR_OK, NULL);
    hlr_estimator_free(local);
}

static void case_hlr_estimator_result_size(void) {
    size_t n = 0;
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_result_size(H, HLR_RESULT_EIGENVALUES, &n));
    BAD("bad:key", hlr_estimator_result_size(fx.lanczos, 0, &n), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_estimator_result_size(fx.lanczos, 26, &n), HLR_ERR_UNKNOWN_KEY, "26");
    BAD("state", hlr_estimator_result_size(fx.lanczos, HLR_RESULT_TRACE, &n), HLR_ERR_WRONG_STATE, "trace");
    hlr_estimator *fresh = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_LANCZOS, &fresh));
    BAD("state", hlr_estimator_result_size(fresh, HLR_RESULT_EIGENVALUES, &n), HLR_ERR_WRONG_STATE, "no run");
    hlr_estimator_free(fresh);
    BAD("null:n", hlr_estimator_result_size(fx.lanczos, HLR_RESULT_EIGENVALUES, NULL), HLR_ERR_NULL_POINTER, "n");
}

static void case_hlr_estimator_get_result(void) {
    double out[64];
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_get_result(H, HLR_RESULT_EIGENVALUES, out, 64));
    BAD("bad:key", hlr_estimator_get_result(fx.lanczos, 99, out, 64), HLR_ERR_UNKNOWN_KEY, "99");
    BAD("state", hlr_estimator_get_result(fx.lanczos, HLR_RESULT_DENSITY, out, 64), HLR_ERR_WRONG_STATE, "density");
    BAD("state", hlr_estimator_get_result(fx.diag, HLR_RESULT_DIAGONAL, out, 64), HLR_ERR_WRONG_STATE,
        "hlr_estimator_get_vectors");
    BAD("null:out", hlr_estimator_get_result(fx.lanczos, HLR_RESULT_EIGENVALUES, NULL, 64), HLR_ERR_NULL_POINTER, "out");
    BAD("zero:n", hlr_estimator_get_result(fx.lanczos, HLR_RESULT_EIGENVALUES, out, 0), HLR_ERR_BUFFER_TOO_SMALL, "n = 0");
    BAD("mismatch", hlr_estimator_get_result(fx.lanczos, HLR_RESULT_EIGENVECTORS, out, 2 * MX_N - 1),
        HLR_ERR_BUFFER_TOO_SMALL, "11");
    BAD("huge:n", hlr_estimator_get_result(fx.lanczos, HLR_RESULT_EIGENVALUES, out, SIZE_MAX), HLR_OK, NULL);
}

static void case_hlr_estimator_get_vectors(void) {
    uint64_t handles[8] = {0};
    BAD_HANDLES("handle:estimator", H_ESTIMATOR, 1, hlr_estimator_get_vectors(H, HLR_RESULT_DIAGONAL, handles, 8));
    BAD("bad:key", hlr_estimator_get_vectors(fx.diag, 0, handles, 8), HLR_ERR_UNKNOWN_KEY, "0");
    BAD("bad:key", hlr_estimator_get_vectors(fx.diag, HLR_RESULT_TRACE, handles, 8), HLR_ERR_INVALID_ARGUMENT,
        "not a vector");
    BAD("state", hlr_estimator_get_vectors(fx.lanczos, HLR_RESULT_EIGENVECTORS, handles, 8), HLR_ERR_WRONG_STATE,
        "hlr_estimator_get_result");
    BAD("null:handles", hlr_estimator_get_vectors(fx.diag, HLR_RESULT_DIAGONAL, NULL, 8), HLR_ERR_NULL_POINTER, "handles");
    BAD("zero:n", hlr_estimator_get_vectors(fx.diag, HLR_RESULT_DIAGONAL, handles, 0), HLR_ERR_BUFFER_TOO_SMALL, "n = 0");
    BAD("huge:n", hlr_estimator_get_vectors(fx.diag, HLR_RESULT_DIAGONAL, handles, SIZE_MAX), HLR_OK, NULL);
}

static void probe_fill_cases(int f32) {
#define FILL(seed, stream, index, dist, first, out_ok, n)                                         \
    (f32 ? hlr_probe_fill_f32((seed), (stream), (index), (dist), (first), (out_ok) ? buf32 : NULL, (n)) \
         : hlr_probe_fill_f64((seed), (stream), (index), (dist), (first), (out_ok) ? buf64 : NULL, (n)))
    float buf32[8];
    double buf64[8];
    const int dists[] = {0, 3, -1, INT32_MAX};
    for (int i = 0; i < 4; i++)
        BAD("bad:distribution", FILL(1, 2, 3, dists[i], 0, 1, 8), HLR_ERR_INVALID_ARGUMENT, "distribution");
    BAD("null:out", FILL(1, 2, 3, HLR_PROBE_GAUSSIAN, 0, 0, 8), HLR_ERR_NULL_POINTER, "out");
    BAD("optional:out", FILL(1, 2, 3, HLR_PROBE_GAUSSIAN, 0, 0, 0), HLR_OK, NULL);
    BAD("zero:n", FILL(1, 2, 3, HLR_PROBE_GAUSSIAN, 0, 1, 0), HLR_OK, NULL);
    BAD("huge:n", FILL(1, 2, 3, HLR_PROBE_GAUSSIAN, 0, 1, SIZE_MAX), HLR_ERR_INVALID_ARGUMENT, "18446744073709551615");
    BAD("extreme:first", FILL(1, 2, 3, HLR_PROBE_RADEMACHER, UINT64_MAX, 1, 2), HLR_ERR_INVALID_ARGUMENT, "exceeds");
    BAD("extreme:first", FILL(1, 2, 3, HLR_PROBE_RADEMACHER, UINT64_MAX - 8, 1, 8), HLR_OK, NULL);
    BAD("extreme:seed", FILL(UINT64_MAX, 0, 0, HLR_PROBE_GAUSSIAN, 0, 1, 8), HLR_OK, NULL);
    BAD("extreme:stream", FILL(0, UINT64_MAX, 0, HLR_PROBE_GAUSSIAN, 0, 1, 8), HLR_OK, NULL);
    BAD("extreme:index", FILL(0, 0, UINT64_MAX, HLR_PROBE_GAUSSIAN, 0, 1, 8), HLR_OK, NULL);
    for (int i = 0; i < 8; i++) CHECK(f32 ? isfinite(buf32[i]) : isfinite(buf64[i]));
#undef FILL
}

static void case_hlr_probe_fill_f32(void) { probe_fill_cases(1); }
static void case_hlr_probe_fill_f64(void) { probe_fill_cases(0); }

/* edge_of_stability and sgd_trace_stability: f(lr, x, out). */
static void stability_cases(int (*f)(double, double, double *), const char *x_name) {
    double out = 0;
    char nan_tag[32], inf_tag[32];
    snprintf(nan_tag, sizeof nan_tag, "nan:%s", x_name);
    snprintf(inf_tag, sizeof inf_tag, "inf:%s", x_name);
    BAD("nan:lr", f(NAN, 10.0, &out), HLR_ERR_NONFINITE, "nan");
    BAD("inf:lr", f(INFINITY, 10.0, &out), HLR_ERR_NONFINITE, "inf");
    BAD("inf:lr", f(-INFINITY, 10.0, &out), HLR_ERR_NONFINITE, "-inf");
    BAD("range:lr", f(0.0, 10.0, &out), HLR_ERR_INVALID_ARGUMENT, "> 0");
    BAD("range:lr", f(-0.1, 10.0, &out), HLR_ERR_INVALID_ARGUMENT, "-0.1");
    BAD(nan_tag, f(0.1, NAN, &out), HLR_ERR_NONFINITE, "nan");
    BAD(inf_tag, f(0.1, INFINITY, &out), HLR_ERR_NONFINITE, "inf");
    BAD(inf_tag, f(0.1, -INFINITY, &out), HLR_ERR_NONFINITE, "-inf");
    BAD("constraint", f(DBL_MAX, DBL_MAX, &out), HLR_ERR_NONFINITE, "overflows");
    BAD("null:out", f(0.1, 10.0, NULL), HLR_ERR_NULL_POINTER, "out");
    BAD("call", f(0.1, 10.0, &out), HLR_OK, NULL);
    CHECK_EQ_DBL(out, 0.1 * 10.0 / 2);
}

static void case_hlr_density_smooth(void) {
    const double nodes[3] = {0.0, 1.0, 2.0}, weights[3] = {0.25, 0.5, 0.25}, points[2] = {0.5, 1.5};
    double bad[3] = {0.0, NAN, 2.0};
    double out[2] = {-7, -7};
    BAD("null:nodes", hlr_density_smooth(NULL, weights, 3, points, 2, 0.1, out), HLR_ERR_NULL_POINTER, "nodes");
    BAD("null:weights", hlr_density_smooth(nodes, NULL, 3, points, 2, 0.1, out), HLR_ERR_NULL_POINTER, "weights");
    BAD("null:points", hlr_density_smooth(nodes, weights, 3, NULL, 2, 0.1, out), HLR_ERR_NULL_POINTER, "points");
    BAD("null:out", hlr_density_smooth(nodes, weights, 3, points, 2, 0.1, NULL), HLR_ERR_NULL_POINTER, "out");
    BAD("nonfinite:nodes", hlr_density_smooth(bad, weights, 3, points, 2, 0.1, out), HLR_ERR_NONFINITE, "nodes[1]");
    BAD("nonfinite:weights", hlr_density_smooth(nodes, bad, 3, points, 2, 0.1, out), HLR_ERR_NONFINITE, "weights[1]");
    BAD("nonfinite:points", hlr_density_smooth(nodes, weights, 3, bad, 2, 0.1, out), HLR_ERR_NONFINITE, "points[1]");
    BAD("zero:n_nodes", hlr_density_smooth(nodes, weights, 0, points, 2, 0.1, out), HLR_ERR_INVALID_ARGUMENT, "n_nodes");
    BAD("zero:n_points", hlr_density_smooth(nodes, weights, 3, points, 0, 0.1, out), HLR_ERR_INVALID_ARGUMENT, "n_points");
    BAD("huge:n_nodes", hlr_density_smooth(nodes, weights, SIZE_MAX, points, 2, 0.1, out), HLR_ERR_INVALID_ARGUMENT,
        "18446744073709551615");
    BAD("huge:n_points", hlr_density_smooth(nodes, weights, 3, points, (size_t)1 << 33, 0.1, out),
        HLR_ERR_INVALID_ARGUMENT, "n_nodes × n_points");
    BAD("nan:sigma", hlr_density_smooth(nodes, weights, 3, points, 2, NAN, out), HLR_ERR_INVALID_ARGUMENT, "nan");
    BAD("inf:sigma", hlr_density_smooth(nodes, weights, 3, points, 2, INFINITY, out), HLR_ERR_INVALID_ARGUMENT, "inf");
    BAD("range:sigma", hlr_density_smooth(nodes, weights, 3, points, 2, -1.0, out), HLR_ERR_INVALID_ARGUMENT, "-1");
    CHECK(out[0] == -7 && out[1] == -7); /* nothing written on failure */
    const double huge[3] = {1e308, 1e308, 1e308}, at_node[2] = {1.0, 1.0};
    BAD("constraint", hlr_density_smooth(nodes, huge, 3, at_node, 2, 1e-300, out), HLR_ERR_NONFINITE, "overflows");
    CHECK(out[0] == -7 && out[1] == -7);
}

static void case_hlr_edge_of_stability(void) { stability_cases(hlr_edge_of_stability, "lambda_max"); }
static void case_hlr_sgd_trace_stability(void) { stability_cases(hlr_sgd_trace_stability, "trace"); }

static void case_hlr_scaled_lr(void) {
    double out = 0;
    BAD("nan:lr", hlr_scaled_lr(NAN, 32, 64, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_NONFINITE, "nan");
    BAD("inf:lr", hlr_scaled_lr(INFINITY, 32, 64, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_NONFINITE, "inf");
    BAD("nan:old_batch", hlr_scaled_lr(0.1, NAN, 64, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_NONFINITE, "nan");
    BAD("inf:old_batch", hlr_scaled_lr(0.1, INFINITY, 64, HLR_BATCH_SCALING_SQRT, &out), HLR_ERR_NONFINITE, "inf");
    BAD("nan:new_batch", hlr_scaled_lr(0.1, 32, NAN, HLR_BATCH_SCALING_SQRT, &out), HLR_ERR_NONFINITE, "nan");
    BAD("inf:new_batch", hlr_scaled_lr(0.1, 32, -INFINITY, HLR_BATCH_SCALING_SQRT, &out), HLR_ERR_NONFINITE, "-inf");
    BAD("range:old_batch", hlr_scaled_lr(0.1, 0.0, 64, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_INVALID_ARGUMENT, "> 0");
    BAD("range:new_batch", hlr_scaled_lr(0.1, 32, -1.0, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_INVALID_ARGUMENT, "-1");
    BAD("range:lr", hlr_scaled_lr(-0.1, 32, 64, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_INVALID_ARGUMENT, "-0.1");
    const int rules[] = {0, 3, -1, INT32_MIN};
    for (int i = 0; i < 4; i++)
        BAD("bad:rule", hlr_scaled_lr(0.1, 32, 64, rules[i], &out), HLR_ERR_INVALID_ARGUMENT, "rule");
    BAD("constraint", hlr_scaled_lr(DBL_MAX, 1e-300, 1e300, HLR_BATCH_SCALING_LINEAR, &out), HLR_ERR_NONFINITE,
        "overflows");
    BAD("null:out", hlr_scaled_lr(0.1, 32, 64, HLR_BATCH_SCALING_LINEAR, NULL), HLR_ERR_NULL_POINTER, "out");
    BAD("call", hlr_scaled_lr(0.1, 32, 64, HLR_BATCH_SCALING_LINEAR, &out), HLR_OK, NULL);
    CHECK_EQ_DBL(out, 0.1 * (64.0 / 32.0));
}

/* --- the table ---------------------------------------------------------------------------- */

typedef struct {
    const char *function;
    const char *tags;
    void (*run)(void);
} matrix_row;

#define ROW(fn, tags) {#fn, tags, case_##fn}

/* BEGIN MATRIX (checked against include/hessianlr.h by Tests/c/gen_matrix.py) */
static const matrix_row matrix[] = {
    ROW(hlr_version_number, "call"),
    ROW(hlr_version_string, "call"),
    ROW(hlr_strerror, "bad:code"),
    ROW(hlr_last_error, "call"),
    ROW(hlr_param_bounds, "bad:method bad:key optional:min optional:max optional:default_value"),
    ROW(hlr_param_count, "bad:family bad:kind null:count"),
    ROW(hlr_param_info, "bad:family bad:kind zero:index huge:index null:out layout:out"),
    ROW(hlr_tuner_create, "null:out bad:method zero:groups huge:groups"),
    ROW(hlr_tuner_free, "handle:tuner"),
    ROW(hlr_tuner_reset, "handle:tuner bad:what"),
    ROW(hlr_tuner_method, "handle:tuner null:method"),
    ROW(hlr_tuner_group_count, "handle:tuner null:groups"),
    ROW(hlr_tuner_set_param, "handle:tuner bad:key nan:value inf:value range:value constraint"),
    ROW(hlr_tuner_set_params, "handle:tuner null:keys null:values huge:n nonfinite:values range:values bad:keys "
                              "constraint zero:n optional:keys optional:values"),
    ROW(hlr_tuner_get_param, "handle:tuner bad:key null:value"),
    ROW(hlr_tuner_set_group_param, "handle:tuner zero:group huge:group bad:key nan:value inf:value range:value"),
    ROW(hlr_tuner_get_group_param, "handle:tuner zero:group huge:group bad:key null:value"),
    ROW(hlr_tuner_get_info, "handle:tuner bad:key zero:group huge:group null:value"),
    ROW(hlr_tuner_wants_curvature, "handle:tuner extreme:step null:wants"),
    ROW(hlr_tuner_observe_curvature, "handle:tuner extreme:step state null:values zero:n huge:n mismatch "
                                     "nonfinite:values denormal:values"),
    ROW(hlr_tuner_need, "handle:tuner extreme:step null:need optional:count"),
    ROW(hlr_tuner_get_probes, "handle:tuner extreme:step state null:probes zero:n huge:n mismatch"),
    ROW(hlr_tuner_observe, "handle:tuner bad:kind state extreme:step null:values zero:n huge:n mismatch "
                           "nonfinite:values denormal:values"),
    ROW(hlr_tuner_observe_failure, "handle:tuner extreme:step state"),
    ROW(hlr_tuner_get_lr, "handle:tuner extreme:step zero:group huge:group null:lr"),
    ROW(hlr_tuner_get_lrs, "handle:tuner extreme:step null:lrs zero:n huge:n mismatch"),
    ROW(hlr_tuner_plan, "handle:tuner extreme:step null:need optional:count null:lrs null:steady_until zero:n "
                        "huge:n mismatch"),
    ROW(hlr_tuner_observe_host_f32, "handle:tuner extreme:step state null:gradient null:update mismatch zero:n huge:n "
                                    "null:group_offsets offsets:group_offsets zero:n_offsets huge:n_offsets "
                                    "null:hvp fail:hvp nan:hvp nonfinite:gradient nonfinite:update "
                                    "optional:update optional:group_offsets opaque:ctx"),
    ROW(hlr_tuner_observe_host_f64, "handle:tuner extreme:step state null:gradient null:update mismatch zero:n huge:n "
                                    "null:group_offsets offsets:group_offsets zero:n_offsets huge:n_offsets "
                                    "null:hvp fail:hvp nan:hvp nonfinite:gradient nonfinite:update "
                                    "optional:update optional:group_offsets opaque:ctx"),
    ROW(hlr_tuner_step_host_f32, "handle:tuner null:weights null:gradient zero:n huge:n null:group_offsets "
                                 "offsets:group_offsets zero:n_offsets huge:n_offsets inf:current_loss null:hvp "
                                 "null:loss fail:hvp nan:hvp fail:loss nan:loss nonfinite:weights "
                                 "nonfinite:gradient nonfinite:update state nan:current_loss opaque:ctx "
                                 "optional:update optional:group_offsets optional:hvp optional:rounds "
                                 "extreme:step optional:loss"),
    ROW(hlr_tuner_step_host_f64, "handle:tuner null:weights null:gradient zero:n huge:n null:group_offsets "
                                 "offsets:group_offsets zero:n_offsets huge:n_offsets inf:current_loss null:hvp "
                                 "null:loss fail:hvp nan:hvp fail:loss nan:loss nonfinite:weights "
                                 "nonfinite:gradient nonfinite:update state nan:current_loss opaque:ctx "
                                 "optional:update optional:group_offsets optional:hvp optional:rounds "
                                 "extreme:step optional:loss"),
    ROW(hlr_tuner_step, "handle:tuner null:ops layout:ops fail:ops nan:ops inf:current_loss nan:current_loss "
                        "opaque:ctx optional:rounds optional:failures extreme:step"),
    ROW(hlr_schedule_create, "null:out bad:kind"),
    ROW(hlr_schedule_free, "handle:schedule"),
    ROW(hlr_schedule_kind, "handle:schedule null:kind"),
    ROW(hlr_schedule_param_bounds, "bad:kind bad:key optional:min optional:max optional:default_value"),
    ROW(hlr_schedule_set_param, "handle:schedule bad:key nan:value inf:value range:value constraint"),
    ROW(hlr_schedule_set_params, "handle:schedule null:keys null:values huge:n nonfinite:values bad:keys zero:n "
                                 "optional:keys optional:values"),
    ROW(hlr_schedule_get_param, "handle:schedule bad:key null:value"),
    ROW(hlr_schedule_set_milestones, "handle:schedule null:milestones huge:n bad:schedule zero:n "
                                     "optional:milestones"),
    ROW(hlr_schedule_join, "null:out null:pieces handle:pieces zero:n_pieces huge:n_pieces null:boundaries "
                           "zero:n_boundaries huge:n_boundaries mismatch constraint optional:boundaries"),
    ROW(hlr_schedule_warmup, "handle:child null:out extreme:steps nan:start_lr inf:start_lr range:start_lr"),
    ROW(hlr_schedule_rescale, "handle:schedule null:out nan:nominal inf:nominal range:nominal"),
    ROW(hlr_schedule_value, "handle:schedule extreme:step null:value"),
    ROW(hlr_schedule_values, "handle:schedule extreme:first_step range:first_step null:values huge:n zero:n optional:values"),
    ROW(hlr_schedule_nominal, "handle:schedule null:rate"),
    ROW(hlr_schedule_factor, "handle:schedule extreme:step null:factor"),
    ROW(hlr_schedule_snapshot_size, "handle:schedule null:size"),
    ROW(hlr_schedule_save, "handle:schedule null:buffer zero:capacity huge:capacity optional:written"),
    ROW(hlr_schedule_load, "null:buffer null:out zero:size huge:size mismatch"),
    ROW(hlr_tuner_set_schedule, "handle:tuner handle:schedule"),
    ROW(hlr_tuner_get_schedule, "handle:tuner null:out"),
    ROW(hlr_tuner_snapshot_size, "handle:tuner null:size"),
    ROW(hlr_tuner_save, "handle:tuner null:buffer zero:capacity huge:capacity optional:written"),
    ROW(hlr_tuner_restore, "handle:tuner null:buffer zero:size huge:size mismatch"),
    ROW(hlr_estimator_create, "null:out bad:kind"),
    ROW(hlr_estimator_free, "handle:estimator"),
    ROW(hlr_estimator_kind, "handle:estimator null:kind"),
    ROW(hlr_estimator_param_bounds, "bad:kind bad:key optional:min optional:max optional:default_value"),
    ROW(hlr_estimator_set_param, "handle:estimator bad:key nan:value inf:value range:value"),
    ROW(hlr_estimator_get_param, "handle:estimator bad:key null:value"),
    ROW(hlr_estimator_set_seed, "handle:estimator extreme:seed"),
    ROW(hlr_estimator_get_seed, "handle:estimator null:seed"),
    ROW(hlr_estimator_set_blocks, "handle:estimator null:offsets offsets:offsets zero:n_offsets mismatch "
                                  "huge:n_offsets bad:estimator optional:offsets"),
    ROW(hlr_estimator_run_host_f32, "handle:estimator null:hvp zero:n huge:n constraint fail:hvp nan:hvp bad:hvp "
                                    "opaque:ctx"),
    ROW(hlr_estimator_run_host_f64, "handle:estimator null:hvp zero:n huge:n constraint fail:hvp nan:hvp bad:hvp "
                                    "opaque:ctx"),
    ROW(hlr_estimator_run_ops, "handle:estimator null:ops layout:ops fail:ops nan:ops opaque:ctx"),
    ROW(hlr_estimator_result_size, "handle:estimator bad:key state null:n"),
    ROW(hlr_estimator_get_result, "handle:estimator bad:key state null:out zero:n mismatch huge:n"),
    ROW(hlr_estimator_get_vectors, "handle:estimator bad:key state null:handles zero:n huge:n"),
    ROW(hlr_probe_fill_f32, "bad:distribution null:out optional:out zero:n huge:n extreme:first extreme:seed "
                            "extreme:stream extreme:index"),
    ROW(hlr_probe_fill_f64, "bad:distribution null:out optional:out zero:n huge:n extreme:first extreme:seed "
                            "extreme:stream extreme:index"),
    ROW(hlr_density_smooth, "null:nodes nonfinite:nodes null:weights nonfinite:weights zero:n_nodes huge:n_nodes "
                            "null:points nonfinite:points zero:n_points huge:n_points nan:sigma inf:sigma "
                            "range:sigma null:out constraint"),
    ROW(hlr_edge_of_stability, "nan:lr inf:lr range:lr nan:lambda_max inf:lambda_max constraint null:out call"),
    ROW(hlr_sgd_trace_stability, "nan:lr inf:lr range:lr nan:trace inf:trace constraint null:out call"),
    ROW(hlr_scaled_lr, "nan:lr inf:lr nan:old_batch inf:old_batch nan:new_batch inf:new_batch range:old_batch "
                       "range:new_batch range:lr bad:rule constraint null:out call"),
};
/* END MATRIX */

/* --- fixtures ----------------------------------------------------------------------------- */

static void fixtures_create(void) {
    memset(&fx, 0, sizeof fx);
    fx.tuner = make_busy_handle();
    fx.gen = hlrt_create_method(HLR_METHOD_GEN, 2);
    CHECK_OK(hlr_tuner_set_group_param(fx.gen, 1, HLR_PARAM_INITIAL_LR, 0.02));
    fx.armijo = hlrt_create_method(HLR_METHOD_ARMIJO, 2);
    const double slope[3] = {2.0, 0.5, 0.25};
    CHECK_OK(hlr_tuner_observe(fx.armijo, 0, HLR_NEED_SLOPE, slope, 3));
    const double high = 5.0;
    CHECK_OK(hlr_tuner_observe(fx.armijo, 0, HLR_NEED_LOSSES, &high, 1)); /* backtracked once */
    fx.cdat = hlrt_create_method(HLR_METHOD_CDAT, 1);
    CHECK_OK(hlr_tuner_set_group_param(fx.cdat, 0, HLR_PARAM_SHARPNESS, 3.0));

    hlr_schedule *cosine = hlrt_schedule(HLR_SCHEDULE_COSINE);
    CHECK_OK(hlr_schedule_set_param(cosine, HLR_SCHED_PARAM_T_MAX, 40));
    CHECK_OK(hlr_schedule_warmup(cosine, 5, 1e-5, &fx.schedule));
    hlr_schedule_free(cosine);
    fx.multi = hlrt_schedule(HLR_SCHEDULE_MULTI_STEP);
    const uint64_t milestones[3] = {30, 10, 30};
    CHECK_OK(hlr_schedule_set_milestones(fx.multi, milestones, 3));

    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_LANCZOS, &fx.lanczos));
    CHECK_OK(hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_COUNT, 2));
    CHECK_OK(hlr_estimator_set_param(fx.lanczos, HLR_EST_PARAM_COMPUTE_VECTORS, 1));
    CHECK_OK(hlr_estimator_set_seed(fx.lanczos, 42));
    CHECK_OK(hlr_estimator_run_host_f64(fx.lanczos, MX_N, mx_hvp64, NULL));
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_DIAGONAL, &fx.diag));
    const size_t offsets[3] = {0, 2, MX_N};
    CHECK_OK(hlr_estimator_set_blocks(fx.diag, offsets, 3));
    CHECK_OK(hlr_estimator_set_param(fx.diag, HLR_EST_PARAM_SAMPLES, 20));
    memset(&fx_ops, 0, sizeof fx_ops);
    fx_ops.n = MX_N;
    hlr_vector_ops ops = ops_table(MX_N);
    CHECK_OK(hlr_estimator_run_ops(fx.diag, &ops, &fx_ops));
    CHECK_EQ_INT(fx_ops.live, 1); /* the DIAGONAL result vector is ours */

    hlr_tuner *t = hlrt_create(1);
    hlr_schedule *s = hlrt_schedule(HLR_SCHEDULE_STEP);
    hlr_estimator *e = NULL;
    CHECK_OK(hlr_estimator_create(HLR_ESTIMATOR_HUTCHINSON, &e));
    CHECK_OK(hlr_tuner_free(t));
    CHECK_OK(hlr_schedule_free(s));
    CHECK_OK(hlr_estimator_free(e));
    fx.freed_tuner = t;
    fx.freed_schedule = s;
    fx.freed_estimator = e;
}

static void fixtures_free(void) {
    hlr_tuner_free(fx.tuner);
    hlr_tuner_free(fx.gen);
    hlr_tuner_free(fx.armijo);
    hlr_tuner_free(fx.cdat);
    hlr_schedule_free(fx.schedule);
    hlr_schedule_free(fx.multi);
    hlr_estimator_free(fx.lanczos);
    hlr_estimator_free(fx.diag);
    for (int i = 0; i < OPS_SLOTS; i++) free(fx_ops.slot[i]);
    memset(&fx_ops, 0, sizeof fx_ops);
}

/* Runs every row; each must exercise exactly the tags it lists. */
static void run_matrix(void) {
    fixtures_create();
    size_t rows = sizeof matrix / sizeof matrix[0];
    for (size_t r = 0; r < rows; r++) {
        row_function = matrix[r].function;
        row_seen[0] = '\0';
        int failures_before = atomic_load(&check_failed_);
        matrix[r].run();
        /* Declared == exercised. */
        char declared[2048];
        snprintf(declared, sizeof declared, "%s", matrix[r].tags);
        for (char *tag = strtok(declared, " "); tag != NULL; tag = strtok(NULL, " ")) {
            char padded[128];
            snprintf(padded, sizeof padded, " %s ", tag);
            char seen[sizeof row_seen + 2];
            snprintf(seen, sizeof seen, " %s ", row_seen);
            if (!CHECK(strstr(seen, padded) != NULL))
                fprintf(stderr, "    %s: tag '%s' is listed but no case exercised it\n", row_function, tag);
        }
        char seen[sizeof row_seen];
        snprintf(seen, sizeof seen, "%s", row_seen);
        for (char *tag = strtok(seen, " "); tag != NULL; tag = strtok(NULL, " ")) {
            char padded[128], listed[2048];
            snprintf(padded, sizeof padded, " %s ", tag);
            snprintf(listed, sizeof listed, " %s ", matrix[r].tags);
            if (!CHECK(strstr(listed, padded) != NULL))
                fprintf(stderr, "    %s: case exercised tag '%s' that its ROW does not list\n", row_function, tag);
        }
        if (atomic_load(&check_failed_) != failures_before)
            fprintf(stderr, "    ^ matrix row %s\n", row_function);
    }
    fixtures_free();
    printf("bad-input matrix: %zu functions\n", rows);
}

/* The matrix covers the header: Tests/c/gen_matrix.py (next to this file) parses every prototype
 * of include/hessianlr.h and checks the ROW table above. Run from the repository root (as make
 * does) or with HLR_SOURCE_DIR set to it. */
static void check_matrix_covers_header(void) {
    char script[1024];
    const char *root = getenv("HLR_SOURCE_DIR");
    if (root != NULL) {
        snprintf(script, sizeof script, "%s/Tests/c/gen_matrix.py", root);
    } else {
        snprintf(script, sizeof script, "%s", __FILE__);
        char *slash = strrchr(script, '/');
        if (slash != NULL) slash[1] = '\0';
        else script[0] = '\0';
        strncat(script, "gen_matrix.py", sizeof script - strlen(script) - 1);
    }
    if (access(script, R_OK) != 0) {
        CHECK(!"gen_matrix.py not found (run from the repository root or set HLR_SOURCE_DIR)");
        fprintf(stderr, "    looked for %s\n", script);
        return;
    }
    char command[1200];
    snprintf(command, sizeof command, "python3 '%s' --check 2>&1", script);
    fflush(stdout);
    fflush(stderr);
    FILE *pipe = popen(command, "r");
    if (pipe == NULL) {
        CHECK(!"could not run python3 Tests/c/gen_matrix.py");
        return;
    }
    char line[1024];
    while (fgets(line, sizeof line, pipe) != NULL) fputs(line, stdout);
    int status = pclose(pipe);
    if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        fprintf(stderr, "    gen_matrix.py --check failed (exit %d): the matrix does not cover the header\n",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void) {
    test_invalid_handles();
    test_param_bounds_errors();
    test_create_errors();
    test_null_outputs();
    test_param_errors();
    test_observe_errors();
    test_extreme_steps();
    run_matrix();
    check_matrix_covers_header();
    return CHECK_SUMMARY();
}
