/* Every function's failure paths: the documented status, a non-empty hlr_last_error() that
 * names the function and the bad value, and a handle whose snapshot is byte for byte the same
 * before and after the failing call. */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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
    const int bad_info[] = {0, 8, -1, 100};
    for (size_t i = 0; i < sizeof bad_info / sizeof bad_info[0]; i++) {
        double value = 3.25;
        CHECK_FAILS_UNCHANGED(t, hlr_tuner_get_info(t, bad_info[i], 0, &value), HLR_ERR_UNKNOWN_KEY);
        snprintf(text, sizeof text, "%d", bad_info[i]);
        CHECK_ERROR_HAS(text);
        CHECK(value == 3.25);
    }

    /* NaN and +-Inf for every option, through both setters. */
    for (int key = FIRST_PARAM; key <= LAST_PARAM; key++) {
        const double values[] = {NAN, INFINITY, -INFINITY};
        const char *spelled[] = {"nan", "inf", "-inf"};
        for (int v = 0; v < 3; v++) {
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
        {HLR_PARAM_SMOOTHING, 1.5, "1.5"},
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
    /* The header's own example message. */
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_set_param(t, HLR_PARAM_SMOOTHING, 1.5),
                          HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("smoothing");
    CHECK_ERROR_HAS("1.5");
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
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int slot = 0; slot < 4; slot++) {
        for (int b = 0; b < 3; b++) {
            double obs[4] = {1.0, 2.0, 1.0, 4.0};
            obs[slot] = bad[b];
            CHECK_FAILS_UNCHANGED(t, hlr_tuner_observe_curvature(t, 8, obs, 4), HLR_ERR_NONFINITE);
            snprintf(text, sizeof text, "group %d", slot / 2);
            CHECK_ERROR_HAS(text);
        }
    }
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

int main(void) {
    test_invalid_handles();
    test_param_bounds_errors();
    test_create_errors();
    test_null_outputs();
    test_param_errors();
    test_observe_errors();
    test_extreme_steps();
    return CHECK_SUMMARY();
}
