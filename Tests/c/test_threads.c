/* Threads: many handles used concurrently give exactly the single-threaded results; several
 * threads hammering one handle never crash and leave a consistent state; a handle freed while
 * other threads use it fails cleanly; hlr_last_error() is per thread.
 *
 * HLR_TEST_THREADS_SCALE (environment, default 1.0) scales the amount of work, e.g. 0.2 under
 * valgrind. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

static double scale = 1.0;
static int scaled(int n) {
    int m = (int)(n * scale);
    return m < 1 ? 1 : m;
}

/* ------------------------------------------------------------------------------------------ */
/* 1. Many handles, one per (thread, index): concurrent == single-threaded, bit for bit.       */
/* ------------------------------------------------------------------------------------------ */

enum { THREADS = 8, HANDLES_PER_THREAD = 50, STEPS = 1000 };

static double obs_value(uint64_t handle, uint64_t step, uint64_t slot) {
    uint64_t z = handle * 0x9E3779B97F4A7C15ull ^ step * 0xBF58476D1CE4E5B9ull ^ slot * 0x94D049BB133111EBull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    double u = (double)(z >> 11) * 0x1.0p-53;
    if (slot % 2 == 1 && u < 0.05) return -u; /* some negative curvature */
    if (slot % 2 == 0 && u < 0.02) return 0.0; /* some zero gradients */
    return exp(10.0 * u - 5.0);
}

static hlr_tuner *make_handle(uint64_t id, size_t *groups) {
    *groups = 1 + id % 3;
    hlr_tuner *t = NULL;
    if (hlr_tuner_create(HLR_METHOD_HESSIANLR, *groups, &t) != HLR_OK) return NULL;
    int ok = hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, (double)(1 + id % 4)) == HLR_OK &&
             hlr_tuner_set_param(t, HLR_PARAM_WARMUP_STEPS, (double)(id % 5)) == HLR_OK &&
             hlr_tuner_set_param(t, HLR_PARAM_SMOOTHING, 0.1 * (double)(id % 10)) == HLR_OK &&
             hlr_tuner_set_param(t, HLR_PARAM_INITIAL_LR, 1e-3 * (double)(1 + id % 7)) == HLR_OK;
    if (!ok) {
        hlr_tuner_free(t);
        return NULL;
    }
    return t;
}

/* FNV-1a over the bits of every rate handed out, per handle. */
static void mix(uint64_t *hash, double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    for (int i = 0; i < 8; i++) {
        *hash ^= (bits >> (8 * i)) & 0xFF;
        *hash *= 0x100000001B3ull;
    }
}

typedef struct {
    int thread;
    int handles;
    int steps;
    uint64_t *hashes; /* [handles] */
    int errors;
} many_job;

static void *many_worker(void *arg) {
    many_job *job = arg;
    hlr_tuner *tuners[HANDLES_PER_THREAD];
    size_t groups[HANDLES_PER_THREAD];
    for (int h = 0; h < job->handles; h++) {
        uint64_t id = (uint64_t)(job->thread * HANDLES_PER_THREAD + h);
        tuners[h] = make_handle(id, &groups[h]);
        if (tuners[h] == NULL) job->errors++;
        job->hashes[h] = 0xCBF29CE484222325ull;
    }
    if (job->errors) return NULL;
    for (int s = 0; s < job->steps; s++) {
        for (int h = 0; h < job->handles; h++) {
            uint64_t id = (uint64_t)(job->thread * HANDLES_PER_THREAD + h);
            int wants = 0;
            if (hlr_tuner_wants_curvature(tuners[h], (uint64_t)s, &wants) != HLR_OK) job->errors++;
            if (wants) {
                double values[6];
                for (size_t k = 0; k < 2 * groups[h]; k++) values[k] = obs_value(id, (uint64_t)s, k);
                if (hlr_tuner_observe_curvature(tuners[h], (uint64_t)s, values, 2 * groups[h]) != HLR_OK)
                    job->errors++;
            }
            double lrs[3];
            if (hlr_tuner_get_lrs(tuners[h], (uint64_t)s, lrs, groups[h]) != HLR_OK) job->errors++;
            for (size_t k = 0; k < groups[h]; k++) mix(&job->hashes[h], lrs[k]);
        }
    }
    for (int h = 0; h < job->handles; h++) {
        /* The final snapshot goes into the hash as well. */
        hlrt_state state = hlrt_capture(tuners[h]);
        if (state.bytes == NULL) job->errors++;
        for (size_t i = 0; i < state.size; i++) {
            job->hashes[h] ^= state.bytes[i];
            job->hashes[h] *= 0x100000001B3ull;
        }
        hlrt_release(&state);
        if (hlr_tuner_free(tuners[h]) != HLR_OK) job->errors++;
    }
    return NULL;
}

static void test_many_handles(void) {
    const int handles = scaled(HANDLES_PER_THREAD) > HANDLES_PER_THREAD ? HANDLES_PER_THREAD
                                                                        : scaled(HANDLES_PER_THREAD);
    const int steps = scaled(STEPS);
    static uint64_t serial[THREADS][HANDLES_PER_THREAD], parallel[THREADS][HANDLES_PER_THREAD];
    many_job jobs[THREADS];
    /* Single-threaded reference: the same jobs one after another. */
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (many_job){i, handles, steps, serial[i], 0};
        many_worker(&jobs[i]);
        CHECK_EQ_INT(jobs[i].errors, 0);
    }
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (many_job){i, handles, steps, parallel[i], 0};
        CHECK_EQ_INT(pthread_create(&threads[i], NULL, many_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK_EQ_INT(jobs[i].errors, 0);
    }
    int differ = 0;
    for (int i = 0; i < THREADS; i++)
        for (int h = 0; h < handles; h++)
            if (serial[i][h] != parallel[i][h]) differ++;
    CHECK_EQ_INT(differ, 0);
    printf("many handles: %d threads x %d handles x %d steps, %d differences\n", THREADS, handles,
           steps, differ);
}

/* ------------------------------------------------------------------------------------------ */
/* 2. Several threads hammering ONE handle.                                                    */
/* ------------------------------------------------------------------------------------------ */

enum { HAMMER_THREADS = 6, HAMMER_GROUPS = 2 };

static hlr_tuner *shared;
static atomic_int observed_ok;
static atomic_ullong max_observed_step;
static atomic_int unexpected;

static int hvp_scale(void *ctx, const double *v, double *out, size_t n) {
    (void)ctx;
    for (size_t i = 0; i < n; i++) out[i] = 3.0 * v[i];
    return 0;
}

static void note_observed(uint64_t step) {
    atomic_fetch_add(&observed_ok, 1);
    unsigned long long seen = atomic_load(&max_observed_step);
    while (step > seen && !atomic_compare_exchange_weak(&max_observed_step, &seen, step)) {
    }
}

static void *hammer_worker(void *arg) {
    int id = (int)(intptr_t)arg;
    int iterations = scaled(3000);
    hlr_tuner *mirror = NULL;
    if (hlr_tuner_create(HLR_METHOD_HESSIANLR, HAMMER_GROUPS, &mirror) != HLR_OK) {
        atomic_fetch_add(&unexpected, 1);
        return NULL;
    }
    unsigned char buffer[4096];
    const size_t offsets[3] = {0, 3, 8};
    double g[8] = {1, -2, 3, 0.5, 1.5, -1, 2, 0.25};
    for (int i = 0; i < iterations; i++) {
        uint64_t step = (uint64_t)i * 3 + (uint64_t)(id % 3);
        int wants = 0;
        if (hlr_tuner_wants_curvature(shared, step, &wants) != HLR_OK) atomic_fetch_add(&unexpected, 1);
        if (wants) {
            int status;
            if (id % 2 == 0) {
                double values[4] = {1.0 + id, 10.0 + i % 7, 2.0, 5.0 + id};
                status = hlr_tuner_observe_curvature(shared, step, values, 4);
            } else {
                status = hlr_tuner_observe_host_f64(shared, step, g, NULL, 8, offsets, 3, hvp_scale, NULL);
            }
            /* Another thread may have observed a later step in between. */
            if (status == HLR_OK)
                note_observed(step);
            else if (status != HLR_ERR_WRONG_STATE)
                atomic_fetch_add(&unexpected, 1);
        }
        double lrs[HAMMER_GROUPS], lr = 0, info = 0, lo = 0, hi = 0;
        if (hlr_tuner_get_lrs(shared, step, lrs, HAMMER_GROUPS) != HLR_OK) atomic_fetch_add(&unexpected, 1);
        if (hlr_tuner_get_param(shared, HLR_PARAM_LR_MIN, &lo) != HLR_OK) atomic_fetch_add(&unexpected, 1);
        if (hlr_tuner_get_param(shared, HLR_PARAM_LR_MAX, &hi) != HLR_OK) atomic_fetch_add(&unexpected, 1);
        for (int k = 0; k < HAMMER_GROUPS; k++)
            if (!(lrs[k] > 0 && isfinite(lrs[k]))) atomic_fetch_add(&unexpected, 1);
        if (hlr_tuner_get_lr(shared, step, (size_t)(i % HAMMER_GROUPS), &lr) != HLR_OK)
            atomic_fetch_add(&unexpected, 1);
        if (hlr_tuner_get_info(shared, HLR_INFO_LAST_FLAGS, 1, &info) != HLR_OK)
            atomic_fetch_add(&unexpected, 1);
        switch (i % 5) {
        case 0: /* options change under everyone's feet (valid values only) */
            if (hlr_tuner_set_param(shared, HLR_PARAM_SMOOTHING, (i % 10) * 0.05) != HLR_OK)
                atomic_fetch_add(&unexpected, 1);
            break;
        case 1: /* a snapshot taken concurrently is never torn: it restores elsewhere */
        {
            size_t written = 0;
            if (hlr_tuner_save(shared, buffer, sizeof buffer, &written) != HLR_OK ||
                hlr_tuner_restore(mirror, buffer, written) != HLR_OK)
                atomic_fetch_add(&unexpected, 1);
            break;
        }
        case 2: /* failures on the shared handle change nothing */
            if (hlr_tuner_set_param(shared, HLR_PARAM_SMOOTHING, 1.5) != HLR_ERR_INVALID_ARGUMENT)
                atomic_fetch_add(&unexpected, 1);
            if (strstr(hlr_last_error(), "1.5") == NULL) atomic_fetch_add(&unexpected, 1);
            break;
        case 3: /* handles come and go around it */
        {
            hlr_tuner *tmp = NULL;
            if (hlr_tuner_create(HLR_METHOD_HESSIANLR, 1, &tmp) != HLR_OK || hlr_tuner_free(tmp) != HLR_OK)
                atomic_fetch_add(&unexpected, 1);
            break;
        }
        default: {
            size_t size = 0;
            if (hlr_tuner_snapshot_size(shared, &size) != HLR_OK) atomic_fetch_add(&unexpected, 1);
        }
        }
    }
    hlr_tuner_free(mirror);
    return NULL;
}

static void test_one_handle(void) {
    shared = hlrt_create(HAMMER_GROUPS);
    CHECK_OK(hlr_tuner_set_param(shared, HLR_PARAM_UPDATE_PERIOD, 1));
    CHECK_OK(hlr_tuner_set_param(shared, HLR_PARAM_LR_MAX, 10.0));
    atomic_store(&observed_ok, 0);
    atomic_store(&max_observed_step, 0);
    atomic_store(&unexpected, 0);
    pthread_t threads[HAMMER_THREADS];
    for (int i = 0; i < HAMMER_THREADS; i++)
        CHECK_EQ_INT(pthread_create(&threads[i], NULL, hammer_worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < HAMMER_THREADS; i++) pthread_join(threads[i], NULL);
    CHECK_EQ_INT(atomic_load(&unexpected), 0);
    /* Consistent: every accepted observation counted once, the last one is the latest. */
    CHECK(atomic_load(&observed_ok) > 0);
    CHECK_EQ_DBL(hlrt_info(shared, HLR_INFO_UPDATES, 0), (double)atomic_load(&observed_ok));
    CHECK_EQ_DBL(hlrt_info(shared, HLR_INFO_LAST_STEP, 0), (double)atomic_load(&max_observed_step));
    double lrs[HAMMER_GROUPS];
    CHECK_OK(hlr_tuner_get_lrs(shared, atomic_load(&max_observed_step), lrs, HAMMER_GROUPS));
    for (int k = 0; k < HAMMER_GROUPS; k++) CHECK(lrs[k] >= 1e-8 && lrs[k] <= 10.0);
    /* Its snapshot is valid and round-trips. */
    hlrt_state state = hlrt_capture(shared);
    CHECK(state.bytes != NULL);
    hlr_tuner *copy = hlrt_create(HAMMER_GROUPS);
    CHECK_OK(hlr_tuner_restore(copy, state.bytes, state.size));
    CHECK(hlrt_same_state(copy, &state));
    hlrt_release(&state);
    CHECK_OK(hlr_tuner_free(copy));
    CHECK_OK(hlr_tuner_free(shared));
    printf("one handle: %d threads, %d observations accepted, last step %llu\n", HAMMER_THREADS,
           atomic_load(&observed_ok), (unsigned long long)atomic_load(&max_observed_step));
}

/* ------------------------------------------------------------------------------------------ */
/* 3. A handle freed while other threads are using it.                                        */
/* ------------------------------------------------------------------------------------------ */

static atomic_int user_calls;
static atomic_int freed_seen;

/* Calls on `t` until it has seen HLR_ERR_INVALID_HANDLE (the handle was freed meanwhile). */
static void *user_worker(void *arg) {
    hlr_tuner *t = arg;
    uint64_t step = 0;
    for (;;) {
        double lr = 0;
        int wants = 0;
        int s1 = hlr_tuner_get_lr(t, step, 0, &lr);
        int s2 = hlr_tuner_wants_curvature(t, step, &wants);
        int s3 = HLR_OK;
        if (s2 == HLR_OK && wants) {
            const double values[2] = {1.0, 4.0};
            s3 = hlr_tuner_observe_curvature(t, step, values, 2);
            if (s3 == HLR_ERR_WRONG_STATE) s3 = HLR_OK;
        }
        atomic_fetch_add(&user_calls, 1);
        int statuses[3] = {s1, s2, s3};
        int freed = 0;
        for (int i = 0; i < 3; i++) {
            if (statuses[i] == HLR_ERR_INVALID_HANDLE)
                freed = 1;
            else if (statuses[i] != HLR_OK)
                atomic_fetch_add(&unexpected, 1);
        }
        if (freed) {
            atomic_fetch_add(&freed_seen, 1);
            return NULL;
        }
        step++;
    }
}

static void test_free_while_used(void) {
    atomic_store(&unexpected, 0);
    for (int round = 0; round < scaled(20); round++) {
        hlr_tuner *t = hlrt_create(1);
        CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 1));
        atomic_store(&user_calls, 0);
        atomic_store(&freed_seen, 0);
        pthread_t threads[3];
        for (int i = 0; i < 3; i++) pthread_create(&threads[i], NULL, user_worker, t);
        /* Free it while they are busy with it. No handle is created until they have all seen
         * the free, so its address cannot be handed out again meanwhile. */
        while (atomic_load(&user_calls) < 20 * (round % 5 + 1)) {
            struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
        }
        CHECK_OK(hlr_tuner_free(t));
        for (int i = 0; i < 3; i++) pthread_join(threads[i], NULL);
        CHECK_EQ_INT(atomic_load(&freed_seen), 3);
    }
    CHECK_EQ_INT(atomic_load(&unexpected), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* 4. hlr_last_error is per thread.                                                            */
/* ------------------------------------------------------------------------------------------ */

enum { ERROR_THREADS = 6 };
static pthread_barrier_t barrier;
static atomic_int error_mixups;

static void *error_worker(void *arg) {
    int id = (int)(intptr_t)arg;
    char mine[32], expected_text[32];
    snprintf(mine, sizeof mine, "%d", 7000 + id);
    /* A new thread starts with "", whatever other threads did. */
    if (strcmp(hlr_last_error(), "") != 0) atomic_fetch_add(&error_mixups, 1);
    pthread_barrier_wait(&barrier);
    for (int round = 0; round < scaled(200); round++) {
        /* Each thread fails with its own method id, then everyone fails again, in turn. */
        if (hlr_param_bounds(7000 + id, HLR_PARAM_SMOOTHING, NULL, NULL, NULL) != HLR_ERR_UNKNOWN_METHOD)
            atomic_fetch_add(&error_mixups, 1);
        pthread_barrier_wait(&barrier);
        /* Others failed meanwhile; this thread's message is still its own. */
        if (strstr(hlr_last_error(), mine) == NULL) atomic_fetch_add(&error_mixups, 1);
        for (int other = 0; other < ERROR_THREADS; other++) {
            if (other == id) continue;
            snprintf(expected_text, sizeof expected_text, "id %d", 7000 + other);
            if (strstr(hlr_last_error(), expected_text) != NULL) atomic_fetch_add(&error_mixups, 1);
        }
        /* A successful call does not clear it either. */
        double v = 0;
        if (hlr_param_bounds(HLR_METHOD_HESSIANLR, HLR_PARAM_SMOOTHING, NULL, NULL, &v) != HLR_OK)
            atomic_fetch_add(&error_mixups, 1);
        if (strstr(hlr_last_error(), mine) == NULL) atomic_fetch_add(&error_mixups, 1);
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

static void *fresh_thread(void *arg) {
    int *empty = arg;
    *empty = strcmp(hlr_last_error(), "") == 0;
    return NULL;
}

static void test_last_error_per_thread(void) {
    /* The main thread fails; a new thread still sees "". */
    CHECK_STATUS(hlr_tuner_create(99, 1, NULL), HLR_ERR_NULL_POINTER);
    CHECK(hlr_last_error()[0] != '\0');
    int empty = 0;
    pthread_t t;
    pthread_create(&t, NULL, fresh_thread, &empty);
    pthread_join(t, NULL);
    CHECK_EQ_INT(empty, 1);

    char before[512];
    snprintf(before, sizeof before, "%s", hlr_last_error());
    atomic_store(&error_mixups, 0);
    pthread_barrier_init(&barrier, NULL, ERROR_THREADS);
    pthread_t threads[ERROR_THREADS];
    for (int i = 0; i < ERROR_THREADS; i++)
        pthread_create(&threads[i], NULL, error_worker, (void *)(intptr_t)i);
    for (int i = 0; i < ERROR_THREADS; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&barrier);
    CHECK_EQ_INT(atomic_load(&error_mixups), 0);
    /* The main thread's message survived all of that. */
    CHECK(strcmp(hlr_last_error(), before) == 0);
}

int main(void) {
    const char *env = getenv("HLR_TEST_THREADS_SCALE");
    if (env != NULL && atof(env) > 0) scale = atof(env);
    struct {
        const char *name;
        void (*run)(void);
    } parts[] = {
        {"last error per thread", test_last_error_per_thread},
        {"many handles", test_many_handles},
        {"one handle", test_one_handle},
        {"free while used", test_free_while_used},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        parts[i].run();
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("  %-22s %.2f s\n", parts[i].name,
               (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec));
        fflush(stdout);
    }
    return CHECK_SUMMARY();
}
