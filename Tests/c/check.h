/*
 * check.h — a tiny header-only test harness for the C-surface tests of libhessianlr.
 *
 *   CHECK(cond)                    cond must be true
 *   CHECK_EQ_INT(a, b)             two integer expressions must be equal (printed on failure)
 *   CHECK_EQ_DBL(a, b)             two doubles must be bit-identical (printed with %a on failure)
 *   CHECK_STATUS(call, expected)   the library call must return the status `expected`
 *   CHECK_OK(call)                 CHECK_STATUS(call, HLR_OK)
 *   CHECK_FAILS(call, expected)    CHECK_STATUS plus: hlr_last_error() is non-empty and changed
 *   CHECK_ERROR_HAS(text)          hlr_last_error() contains `text`
 *   CHECK_NEAR(a, b, rel)          |a - b| <= rel * max(|a|, |b|) (both finite), or a == b
 *   CHECK_SUMMARY()                prints the totals; evaluates to the process exit status
 *
 * A failed check prints file:line, the expression, the values involved and hlr_last_error(),
 * then the test goes on. Counters are atomic, so checks may run on several threads.
 *
 * The snapshot helpers (hlrt_capture / hlrt_same_state) implement "the handle's state is
 * unchanged": a handle's full state (options + observations) is its hlr_tuner_save bytes; the
 * same for schedules with hlr_schedule_save (hlrt_capture_schedule / hlrt_same_schedule,
 * CHECK_FAILS_SCHEDULE_UNCHANGED).
 *
 * C11; compiles warning-free with -std=c11 -Wall -Wextra -Werror -pedantic.
 */
#ifndef HLR_TESTS_CHECK_H
#define HLR_TESTS_CHECK_H

#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hessianlr.h"

/* The tests recompute the library's arithmetic and compare bit for bit. The library (Swift)
 * rounds every operation; clang's default -ffp-contract=on would fuse a*b + c in the tests'
 * reference formulas (and constant-fold them as one fma), so contraction is off here. GCC does
 * not contract in -std=c11 mode and does not know the pragma. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static atomic_int check_passed_;
static atomic_int check_failed_;

/* Symbolic name of a status code (for readable failure messages). */
static inline const char *check_status_name(int code) {
    static const char *const names[] = {
        "HLR_OK",
        "HLR_ERR_NULL_POINTER",
        "HLR_ERR_INVALID_HANDLE",
        "HLR_ERR_INVALID_ARGUMENT",
        "HLR_ERR_UNKNOWN_METHOD",
        "HLR_ERR_UNKNOWN_KEY",
        "HLR_ERR_NONFINITE",
        "HLR_ERR_CALLBACK",
        "HLR_ERR_WRONG_STATE",
        "HLR_ERR_BUFFER_TOO_SMALL",
        "HLR_ERR_SNAPSHOT_CORRUPT",
        "HLR_ERR_SNAPSHOT_VERSION",
        "HLR_ERR_SNAPSHOT_MISMATCH",
    };
    if (code >= 0 && code < (int)(sizeof names / sizeof names[0])) return names[code];
    return "(unknown status)";
}

static inline int check_report_(int ok, const char *file, int line, const char *what) {
    if (ok) {
        atomic_fetch_add(&check_passed_, 1);
        return 1;
    }
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "%s:%d: FAILED: %s\n    hlr_last_error: \"%s\"\n", file, line, what,
            hlr_last_error());
    return 0;
}

static inline int check_int_(long long a, long long b, const char *file, int line,
                             const char *ea, const char *eb) {
    if (a == b) return check_report_(1, file, line, "");
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "%s:%d: FAILED: %s == %s\n    got %lld, expected %lld\n"
                    "    hlr_last_error: \"%s\"\n",
            file, line, ea, eb, a, b, hlr_last_error());
    return 0;
}

static inline uint64_t check_bits_(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static inline int check_dbl_(double a, double b, const char *file, int line, const char *ea,
                             const char *eb) {
    if (check_bits_(a) == check_bits_(b)) return check_report_(1, file, line, "");
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "%s:%d: FAILED: %s == %s (bit for bit)\n    got %.17g (%a), expected %.17g (%a)\n",
            file, line, ea, eb, a, a, b, b);
    return 0;
}

static inline int check_status_(int got, int expected, const char *file, int line,
                                const char *call) {
    if (got == expected) return check_report_(1, file, line, "");
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "%s:%d: FAILED: %s\n    returned %d (%s), expected %d (%s)\n"
                    "    hlr_last_error: \"%s\"\n",
            file, line, call, got, check_status_name(got), expected,
            check_status_name(expected), hlr_last_error());
    return 0;
}

/* CHECK_FAILS: the status, plus a non-empty last error that differs from the previous one
 * (every failing test call is preceded by a reset of the message through a known failure, see
 * check_mark_error_). */
static inline void check_mark_error_(void) {
    /* A deliberately failing call with a recognisable message: resets hlr_last_error(). */
    (void)hlr_param_bounds(-424242, HLR_PARAM_SMOOTHING, NULL, NULL, NULL);
}

static inline int check_fails_(int got, int expected, const char *file, int line,
                               const char *call) {
    int ok = check_status_(got, expected, file, line, call);
    const char *message = hlr_last_error();
    if (message == NULL || message[0] == '\0' || strstr(message, "-424242") != NULL) {
        atomic_fetch_add(&check_failed_, 1);
        fprintf(stderr, "%s:%d: FAILED: %s\n    did not set a new hlr_last_error (\"%s\")\n",
                file, line, call, message ? message : "(NULL)");
        return 0;
    }
    return ok;
}

static inline int check_error_has_(const char *text, const char *file, int line) {
    const char *message = hlr_last_error();
    if (message != NULL && strstr(message, text) != NULL) return check_report_(1, file, line, "");
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "%s:%d: FAILED: hlr_last_error() should contain \"%s\"\n    it is \"%s\"\n",
            file, line, text, message ? message : "(NULL)");
    return 0;
}

static inline int check_near_(double a, double b, double rel, const char *file, int line,
                              const char *ea, const char *eb) {
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (a == b || (isfinite(a) && isfinite(b) && fabs(a - b) <= rel * scale))
        return check_report_(1, file, line, "");
    atomic_fetch_add(&check_failed_, 1);
    fprintf(stderr, "%s:%d: FAILED: %s ~= %s (relative %g)\n    got %.17g (%a), expected %.17g (%a)\n",
            file, line, ea, eb, rel, a, a, b, b);
    return 0;
}

static inline int check_summary_(const char *file) {
    int passed = atomic_load(&check_passed_);
    int failed = atomic_load(&check_failed_);
    printf("%s: %d checks, %d passed, %d failed\n", file, passed + failed, passed, failed);
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}

#define CHECK(cond) check_report_((cond) ? 1 : 0, __FILE__, __LINE__, #cond)
#define CHECK_EQ_INT(a, b) check_int_((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_EQ_DBL(a, b) check_dbl_((double)(a), (double)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_STATUS(call, expected) \
    check_status_((call), (expected), __FILE__, __LINE__, #call " -> " #expected)
#define CHECK_OK(call) CHECK_STATUS(call, HLR_OK)
#define CHECK_FAILS(call, expected) \
    (check_mark_error_(), check_fails_((call), (expected), __FILE__, __LINE__, #call " -> " #expected))
#define CHECK_ERROR_HAS(text) check_error_has_((text), __FILE__, __LINE__)
#define CHECK_NEAR(a, b, rel) \
    check_near_((double)(a), (double)(b), (double)(rel), __FILE__, __LINE__, #a, #b)
#define CHECK_SUMMARY() check_summary_(__FILE__)

/* ------------------------------------------------------------------------------------------ */
/* Library helpers shared by the tests                                                        */
/* ------------------------------------------------------------------------------------------ */

/* The library's documented dot product (HostKernels.dot), which the tests reproduce bit for bit:
 * float64 products, eight lanes over the first floor(n/8)*8 elements (lane l takes i = l mod 8),
 * lanes combined as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the tail in index order.
 * test_host.c checks the library against it. */
static inline double hlrt_dot(const double *x, const double *y, size_t n) {
    double lanes[8] = {0};
    size_t body = n - n % 8, i = 0;
    for (; i < body; i += 8)
        for (size_t l = 0; l < 8; l++) lanes[l] += x[i + l] * y[i + l];
    double sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) +
                 ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
    for (; i < n; i++) sum += x[i] * y[i];
    return sum;
}

/* An hlr_vector_ops table (struct_size = the full struct) for vectors of length `n` with the
 * callbacks of version 1 of the struct: the eight every backend must provide, then mul_acc and
 * block_dots, which may be NULL. The later optional ones (all_reduce, hvp_block, multi_dot,
 * multi_axpy) are NULL for the caller to set where its backend implements them. */
static inline hlr_vector_ops hlrt_vector_ops(
    size_t n, int (*alloc)(void *, uint64_t *), void (*release)(void *, uint64_t),
    int (*copy)(void *, uint64_t, uint64_t), int (*dot)(void *, uint64_t, uint64_t, double *),
    int (*axpy)(void *, double, uint64_t, uint64_t), int (*scale)(void *, double, uint64_t),
    int (*fill_probe)(void *, uint64_t, uint64_t, uint64_t, uint64_t, int),
    int (*hvp)(void *, uint64_t, uint64_t),
    int (*mul_acc)(void *, double, uint64_t, uint64_t, uint64_t),
    int (*block_dots)(void *, uint64_t, uint64_t, const size_t *, size_t, double *)) {
    hlr_vector_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.struct_size = sizeof ops;
    ops.n = n;
    ops.alloc = alloc;
    ops.release = release;
    ops.copy = copy;
    ops.dot = dot;
    ops.axpy = axpy;
    ops.scale = scale;
    ops.fill_probe = fill_probe;
    ops.hvp = hvp;
    ops.mul_acc = mul_acc;
    ops.block_dots = block_dots;
    return ops;
}

/* A backend's vectors held in a pool of host arrays: slots[i] (of `capacity`) is the vector of
 * handle base + i, NULL while free. The handles are opaque uint64 values to the library. */

/* The vector of handle h: NULL outside the pool or in a free slot. */
static inline double *hlrt_pool_vec(double *const *slots, size_t capacity, uint64_t base, uint64_t h) {
    return h >= base && h - base < capacity ? slots[h - base] : NULL;
}

/* A zeroed vector of n doubles in the first free slot, its handle in *out: 0, or -28 when every
 * slot is taken, -12 when calloc fails (nothing done then). */
static inline int hlrt_pool_alloc(double **slots, size_t capacity, uint64_t base, size_t n, uint64_t *out) {
    for (size_t i = 0; i < capacity; i++) {
        if (slots[i] != NULL) continue;
        slots[i] = calloc(n, sizeof(double));
        if (slots[i] == NULL) return -12;
        *out = base + (uint64_t)i;
        return 0;
    }
    return -28;
}

/* Frees the vector of handle h and empties its slot: 1, or 0 (nothing done) when h names none. */
static inline int hlrt_pool_release(double **slots, size_t capacity, uint64_t base, uint64_t h) {
    double *v = hlrt_pool_vec(slots, capacity, base, h);
    if (v == NULL) return 0;
    free(v);
    slots[h - base] = NULL;
    return 1;
}

/* The full state of a handle: its snapshot bytes (malloc'd; hlrt_release frees them). */
typedef struct {
    unsigned char *bytes;
    size_t size;
} hlrt_state;

/* A handle's snapshot bytes: `snapshot_size` gives the size, `save` writes exactly that many into
 * a buffer of that size. An empty state (bytes NULL) if either fails or malloc does. */
static inline hlrt_state hlrt_capture_with(const void *handle,
                                           int (*snapshot_size)(const void *handle, size_t *size),
                                           int (*save)(const void *handle, void *buffer,
                                                       size_t capacity, size_t *written)) {
    hlrt_state state = {NULL, 0};
    size_t size = 0;
    if (snapshot_size(handle, &size) != HLR_OK || size == 0) return state;
    state.bytes = malloc(size);
    if (state.bytes == NULL) return state;
    size_t written = 0;
    if (save(handle, state.bytes, size, &written) != HLR_OK || written != size) {
        free(state.bytes);
        state.bytes = NULL;
        return state;
    }
    state.size = size;
    return state;
}

/* hlr_tuner_snapshot_size / hlr_tuner_save for hlrt_capture_with. */
static inline int hlrt_tuner_size_(const void *tuner, size_t *size) {
    return hlr_tuner_snapshot_size((const hlr_tuner *)tuner, size);
}
static inline int hlrt_tuner_save_(const void *tuner, void *buffer, size_t capacity, size_t *written) {
    return hlr_tuner_save((const hlr_tuner *)tuner, buffer, capacity, written);
}

/* The full state of a tuner handle: its hlr_tuner_save bytes. */
static inline hlrt_state hlrt_capture(const hlr_tuner *tuner) {
    return hlrt_capture_with(tuner, hlrt_tuner_size_, hlrt_tuner_save_);
}

static inline void hlrt_release(hlrt_state *state) {
    free(state->bytes);
    state->bytes = NULL;
    state->size = 0;
}

/* 1 if `now` (released here) equals `before` byte for byte (both captured). */
static inline int hlrt_same_bytes(hlrt_state now, const hlrt_state *before) {
    int same = before->bytes != NULL && now.bytes != NULL && now.size == before->size &&
               memcmp(now.bytes, before->bytes, now.size) == 0;
    hlrt_release(&now);
    return same;
}

/* 1 if the handle's snapshot equals `before` byte for byte. */
static inline int hlrt_same_state(const hlr_tuner *tuner, const hlrt_state *before) {
    return hlrt_same_bytes(hlrt_capture(tuner), before);
}

/* A failing call on a live handle whose state `capture(handle)` reads: expected status, a new
 * non-empty message, and the state byte for byte the same before and after. */
#define CHECK_FAILS_UNCHANGED_BY(capture, handle, what, call, expected)                   \
    do {                                                                                  \
        hlrt_state before_ = capture(handle);                                             \
        CHECK(before_.bytes != NULL);                                                     \
        CHECK_FAILS(call, expected);                                                      \
        if (!hlrt_same_bytes(capture(handle), &before_)) {                                \
            atomic_fetch_add(&check_failed_, 1);                                          \
            fprintf(stderr, "%s:%d: FAILED: %s changed the %s's state\n", __FILE__,       \
                    __LINE__, #call, what);                                               \
        } else {                                                                          \
            atomic_fetch_add(&check_passed_, 1);                                          \
        }                                                                                 \
        hlrt_release(&before_);                                                           \
    } while (0)

/* CHECK_FAILS_UNCHANGED_BY for a tuner handle. */
#define CHECK_FAILS_UNCHANGED(tuner, call, expected) \
    CHECK_FAILS_UNCHANGED_BY(hlrt_capture, tuner, "handle", call, expected)

/* hlr_tuner_observe_curvature(tuner, step, obs, 4) on a two-group handle, `obs` being `good` with
 * NaN, +Inf or -Inf put in each of its four values in turn: every call is refused with
 * HLR_ERR_NONFINITE, a message naming the group, and the state unchanged. */
static inline void hlrt_check_nonfinite_curvature(hlr_tuner *tuner, uint64_t step,
                                                  const double good[4]) {
    const double specials[] = {NAN, INFINITY, -INFINITY};
    for (int slot = 0; slot < 4; slot++) {
        for (int i = 0; i < 3; i++) {
            double obs[4];
            memcpy(obs, good, sizeof obs);
            obs[slot] = specials[i];
            CHECK_FAILS_UNCHANGED(tuner, hlr_tuner_observe_curvature(tuner, step, obs, 4),
                                  HLR_ERR_NONFINITE);
            char group[32];
            snprintf(group, sizeof group, "group %d", slot / 2);
            CHECK_ERROR_HAS(group);
        }
    }
}

/* Creates a HessianLR handle or aborts the test (nothing else can be checked without one). */
static inline hlr_tuner *hlrt_create(size_t groups) {
    hlr_tuner *tuner = NULL;
    int status = hlr_tuner_create(HLR_METHOD_HESSIANLR, groups, &tuner);
    if (status != HLR_OK || tuner == NULL) {
        fprintf(stderr, "hlr_tuner_create(%zu groups) failed: %d %s\n", groups, status,
                hlr_last_error());
        exit(2);
    }
    return tuner;
}

static inline double hlrt_lr(const hlr_tuner *tuner, uint64_t step, size_t group) {
    double lr = -1.0;
    if (hlr_tuner_get_lr(tuner, step, group, &lr) != HLR_OK) {
        fprintf(stderr, "hlr_tuner_get_lr(step %" PRIu64 ", group %zu) failed: %s\n", step, group,
                hlr_last_error());
        atomic_fetch_add(&check_failed_, 1);
    }
    return lr;
}

static inline double hlrt_info(const hlr_tuner *tuner, int key, size_t group) {
    double value = -12345.0;
    if (hlr_tuner_get_info(tuner, key, group, &value) != HLR_OK) {
        fprintf(stderr, "hlr_tuner_get_info(key %d, group %zu) failed: %s\n", key, group,
                hlr_last_error());
        atomic_fetch_add(&check_failed_, 1);
    }
    return value;
}

/* Creates a handle of any method or aborts the test. */
static inline hlr_tuner *hlrt_create_method(int method, size_t groups) {
    hlr_tuner *tuner = NULL;
    int status = hlr_tuner_create(method, groups, &tuner);
    if (status != HLR_OK || tuner == NULL) {
        fprintf(stderr, "hlr_tuner_create(method %d, %zu groups) failed: %d %s\n", method, groups,
                status, hlr_last_error());
        exit(2);
    }
    return tuner;
}

/* Sets an option that must be accepted (a refusal is a failed check). */
#define HLRT_SET(tuner, key, value) CHECK_OK(hlr_tuner_set_param((tuner), (key), (value)))

/* hlr_schedule_snapshot_size / hlr_schedule_save for hlrt_capture_with. */
static inline int hlrt_schedule_size_(const void *schedule, size_t *size) {
    return hlr_schedule_snapshot_size((const hlr_schedule *)schedule, size);
}
static inline int hlrt_schedule_save_(const void *schedule, void *buffer, size_t capacity,
                                      size_t *written) {
    return hlr_schedule_save((const hlr_schedule *)schedule, buffer, capacity, written);
}

/* The full state of a schedule handle: its hlr_schedule_save bytes. */
static inline hlrt_state hlrt_capture_schedule(const hlr_schedule *schedule) {
    return hlrt_capture_with(schedule, hlrt_schedule_size_, hlrt_schedule_save_);
}

static inline int hlrt_same_schedule(const hlr_schedule *schedule, const hlrt_state *before) {
    return hlrt_same_bytes(hlrt_capture_schedule(schedule), before);
}

/* CHECK_FAILS_UNCHANGED for a schedule handle. */
#define CHECK_FAILS_SCHEDULE_UNCHANGED(schedule, call, expected) \
    CHECK_FAILS_UNCHANGED_BY(hlrt_capture_schedule, schedule, "schedule", call, expected)

/* Creates a schedule of `kind` or aborts the test. */
static inline hlr_schedule *hlrt_schedule(int kind) {
    hlr_schedule *schedule = NULL;
    int status = hlr_schedule_create(kind, &schedule);
    if (status != HLR_OK || schedule == NULL) {
        fprintf(stderr, "hlr_schedule_create(%d) failed: %d %s\n", kind, status, hlr_last_error());
        exit(2);
    }
    return schedule;
}

#endif /* HLR_TESTS_CHECK_H */
