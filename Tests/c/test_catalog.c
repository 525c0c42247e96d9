/*
 * test_catalog.c — hlr_param_count / hlr_param_info: every parameter of every method, schedule
 * kind and estimator kind, compared with the *_param_bounds functions (each key the bounds
 * functions know appears exactly once, with the same range and default); the per-group flag
 * against what hlr_tuner_set_group_param accepts; struct_size handling (too small refused, a
 * larger one from a newer header written only up to the known fields); bad family, kind, index
 * and NULL, each writing nothing.
 */
#include <stddef.h>

#include "check.h"

#define MAX_KEY 64

static int bounds(int family, int kind, int key, double *lo, double *hi, double *def) {
    switch (family) {
    case HLR_FAMILY_TUNER: return hlr_param_bounds(kind, key, lo, hi, def);
    case HLR_FAMILY_SCHEDULE: return hlr_schedule_param_bounds(kind, key, lo, hi, def);
    default: return hlr_estimator_param_bounds(kind, key, lo, hi, def);
    }
}

/* Enumerates kind 1..kinds of family; returns the number of parameters seen in all. */
static size_t check_family(int family, int kinds) {
    size_t total = 0;
    for (int kind = 1; kind <= kinds; kind++) {
        size_t count = 12345;
        CHECK_OK(hlr_param_count(family, kind, &count));
        CHECK(count < MAX_KEY);
        int seen[MAX_KEY] = {0};
        for (size_t i = 0; i < count; i++) {
            hlr_param_desc d;
            memset(&d, 0xAB, sizeof d);
            d.struct_size = sizeof d;
            CHECK_OK(hlr_param_info(family, kind, i, &d));
            CHECK_EQ_INT(d.struct_size, sizeof d);
            CHECK(d.key > 0 && d.key < MAX_KEY);
            if (d.key <= 0 || d.key >= MAX_KEY) continue;
            seen[d.key]++;
            double lo, hi, def;
            CHECK_OK(bounds(family, kind, d.key, &lo, &hi, &def));
            CHECK_EQ_DBL(d.min, lo);
            CHECK_EQ_DBL(d.max, hi);
            CHECK_EQ_DBL(d.default_value, def);
            CHECK((d.flags & ~(unsigned)(HLR_PARAM_FLAG_INTEGRAL | HLR_PARAM_FLAG_PER_GROUP)) == 0);
            CHECK(memchr(d.name, '\0', sizeof d.name) != NULL);
            CHECK(d.name[0] != '\0');
            if (d.flags & HLR_PARAM_FLAG_INTEGRAL) CHECK(floor(d.default_value) == d.default_value);
            if (family != HLR_FAMILY_TUNER) CHECK((d.flags & HLR_PARAM_FLAG_PER_GROUP) == 0);
        }
        /* Exactly the keys the bounds functions know, each once. */
        for (int key = 1; key < MAX_KEY; key++) {
            double lo, hi, def;
            int known = bounds(family, kind, key, &lo, &hi, &def) == HLR_OK;
            if (seen[key] != (known ? 1 : 0)) {
                CHECK(!"a key the bounds function knows is not listed exactly once (or vice versa)");
                fprintf(stderr, "    family %d kind %d key %d: listed %d times, known %d\n", family, kind, key,
                        seen[key], known);
            }
        }
        /* One past the last: INVALID_ARGUMENT naming the index and the count; nothing written. */
        hlr_param_desc d;
        memset(&d, 0x5A, sizeof d);
        d.struct_size = sizeof d;
        hlr_param_desc before = d;
        CHECK_FAILS(hlr_param_info(family, kind, count, &d), HLR_ERR_INVALID_ARGUMENT);
        char text[64];
        snprintf(text, sizeof text, "index %zu", count);
        CHECK_ERROR_HAS(text);
        snprintf(text, sizeof text, "has %zu parameter", count);
        CHECK_ERROR_HAS(text);
        CHECK(memcmp(&d, &before, sizeof d) == 0);
        total += count;
    }
    return total;
}

/* The per-group flag is exactly what hlr_tuner_set_group_param accepts (what the Python binding
 * used to find out by trial). */
static void check_per_group(void) {
    for (int method = HLR_METHOD_HESSIANLR; method <= HLR_METHOD_CONSTANT; method++) {
        hlr_tuner *tuner = hlrt_create_method(method, 1);
        size_t count = 0;
        CHECK_OK(hlr_param_count(HLR_FAMILY_TUNER, method, &count));
        for (size_t i = 0; i < count; i++) {
            hlr_param_desc d = {.struct_size = sizeof d};
            CHECK_OK(hlr_param_info(HLR_FAMILY_TUNER, method, i, &d));
            int accepted = hlr_tuner_set_group_param(tuner, 0, d.key, d.default_value) == HLR_OK;
            CHECK_EQ_INT(accepted, (d.flags & HLR_PARAM_FLAG_PER_GROUP) != 0);
        }
        hlr_tuner_free(tuner);
    }
}

/* The catalog of (family, kind) lists `key`, under `name` and with exactly `flags`. */
static void check_entry(int family, int kind, int key, const char *name, unsigned flags) {
    size_t count = 0;
    CHECK_OK(hlr_param_count(family, kind, &count));
    int found = 0;
    for (size_t i = 0; i < count; i++) {
        hlr_param_desc d = {.struct_size = sizeof d};
        CHECK_OK(hlr_param_info(family, kind, i, &d));
        if (d.key == key) {
            found = 1;
            CHECK(strcmp(d.name, name) == 0);
            CHECK_EQ_INT(d.flags, flags);
        }
    }
    CHECK(found);
}

static void check_examples(void) {
    /* initial_lr of CDAT: per group, not integral. */
    check_entry(HLR_FAMILY_TUNER, HLR_METHOD_CDAT, HLR_PARAM_INITIAL_LR, "initial_lr", HLR_PARAM_FLAG_PER_GROUP);
    /* StepLR's step_size is integral; JOIN has no parameters. */
    check_entry(HLR_FAMILY_SCHEDULE, HLR_SCHEDULE_STEP, HLR_SCHED_PARAM_STEP_SIZE, "step_size",
                HLR_PARAM_FLAG_INTEGRAL);
    size_t count = 0;
    CHECK_OK(hlr_param_count(HLR_FAMILY_SCHEDULE, HLR_SCHEDULE_JOIN, &count));
    CHECK_EQ_INT(count, 0);
    hlr_param_desc d = {.struct_size = sizeof d};
    CHECK_FAILS(hlr_param_info(HLR_FAMILY_SCHEDULE, HLR_SCHEDULE_JOIN, 0, &d), HLR_ERR_INVALID_ARGUMENT);
    CHECK_ERROR_HAS("join has 0 parameters");
}

/* A newer header's larger struct: the library writes the fields it knows and nothing after. */
typedef struct {
    hlr_param_desc v1;
    unsigned char future[32];
} desc_v2;

static void check_struct_size(void) {
    desc_v2 big;
    memset(&big, 0x77, sizeof big);
    big.v1.struct_size = sizeof big;
    CHECK_OK(hlr_param_info(HLR_FAMILY_ESTIMATOR, HLR_ESTIMATOR_LANCZOS, 0, &big.v1));
    CHECK_EQ_INT(big.v1.struct_size, sizeof big);
    for (size_t i = 0; i < sizeof big.future; i++) CHECK_EQ_INT(big.future[i], 0x77);
    hlr_param_desc exact = {.struct_size = sizeof exact};
    CHECK_OK(hlr_param_info(HLR_FAMILY_ESTIMATOR, HLR_ESTIMATOR_LANCZOS, 0, &exact));
    CHECK(memcmp((const char *)&exact + sizeof(size_t), (const char *)&big.v1 + sizeof(size_t),
                 offsetof(hlr_param_desc, name) - sizeof(size_t)) == 0);
    CHECK(strcmp(exact.name, big.v1.name) == 0);

    /* Too small (an older or unset struct_size): refused, naming both sizes; nothing written. */
    const size_t small[] = {0, 1, sizeof(size_t), offsetof(hlr_param_desc, name), sizeof(hlr_param_desc) - 1};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        hlr_param_desc d;
        memset(&d, 0x33, sizeof d);
        d.struct_size = small[i];
        hlr_param_desc before = d;
        CHECK_FAILS(hlr_param_info(HLR_FAMILY_TUNER, HLR_METHOD_GEN, 0, &d), HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS("struct_size");
        char text[64];
        snprintf(text, sizeof text, "%zu", sizeof(hlr_param_desc));
        CHECK_ERROR_HAS(text);
        CHECK(memcmp(&d, &before, sizeof d) == 0);
    }
}

static void check_bad_input(void) {
    hlr_param_desc d;
    memset(&d, 0x11, sizeof d);
    d.struct_size = sizeof d;
    hlr_param_desc before = d;
    size_t count = 777;
    const int families[] = {0, 4, -1, INT32_MAX};
    for (size_t i = 0; i < 4; i++) {
        CHECK_FAILS(hlr_param_info(families[i], 1, 0, &d), HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS("family");
        CHECK_FAILS(hlr_param_count(families[i], 1, &count), HLR_ERR_INVALID_ARGUMENT);
        CHECK_ERROR_HAS("family");
    }
    CHECK_FAILS(hlr_param_info(HLR_FAMILY_TUNER, 8, 0, &d), HLR_ERR_UNKNOWN_METHOD);
    CHECK_ERROR_HAS("method id 8");
    CHECK_FAILS(hlr_param_info(HLR_FAMILY_SCHEDULE, 16, 0, &d), HLR_ERR_UNKNOWN_METHOD);
    CHECK_ERROR_HAS("schedule kind 16");
    CHECK_FAILS(hlr_param_count(HLR_FAMILY_ESTIMATOR, 0, &count), HLR_ERR_UNKNOWN_METHOD);
    CHECK_ERROR_HAS("estimator kind 0");
    CHECK_FAILS(hlr_param_info(HLR_FAMILY_TUNER, HLR_METHOD_GEN, SIZE_MAX, &d), HLR_ERR_INVALID_ARGUMENT);
    char huge[128];
    snprintf(huge, sizeof huge, "index %zu is past the last parameter: method gen has", (size_t)SIZE_MAX);
    CHECK_ERROR_HAS(huge);
    CHECK_FAILS(hlr_param_info(HLR_FAMILY_TUNER, HLR_METHOD_GEN, 0, NULL), HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("out");
    CHECK_FAILS(hlr_param_count(HLR_FAMILY_TUNER, HLR_METHOD_GEN, NULL), HLR_ERR_NULL_POINTER);
    CHECK_ERROR_HAS("count");
    CHECK(memcmp(&d, &before, sizeof d) == 0);
    CHECK_EQ_INT(count, 777);
}

int main(void) {
    CHECK(sizeof(hlr_param_desc) == offsetof(hlr_param_desc, name) + 48);
    CHECK(check_family(HLR_FAMILY_TUNER, HLR_METHOD_CONSTANT) > 0);
    CHECK(check_family(HLR_FAMILY_SCHEDULE, HLR_SCHEDULE_WARMUP) > 0);
    CHECK(check_family(HLR_FAMILY_ESTIMATOR, HLR_ESTIMATOR_XDIAG) > 0);
    check_per_group();
    check_examples();
    check_struct_size();
    check_bad_input();
    return CHECK_SUMMARY();
}
