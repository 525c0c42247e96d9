/* Soak test through the C ABI: N observation steps on one handle. See README.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hessianlr.h"

#define GROUPS 2

static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* CounterRNG(seed, stream, index) key and uniform(i), as documented in
 * Sources/HessianLR/Random/CounterRNG.swift. */
static uint64_t rng_key(uint64_t seed, uint64_t stream, uint64_t index) {
    uint64_t k0 = mix(seed + 0x9E3779B97F4A7C15ULL);
    uint64_t k1 = mix(k0 ^ (stream * 0xD1B54A32D192ED03ULL));
    return mix(k1 ^ (index * 0x8CB92BA72F3D8DD7ULL));
}

static double uniform(uint64_t key, uint64_t i) {
    uint64_t bits = mix(key + (i + 1) * 0x9E3779B97F4A7C15ULL);
    return (double)(bits >> 11) * 0x1p-53;
}

static long resident_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident * 4; /* 4 KiB pages */
}

static void fail(const char *what, int rc) {
    fprintf(stderr, "soak: %s failed: %s (%s)\n", what, hlr_strerror(rc), hlr_last_error());
    exit(1);
}

int main(int argc, char **argv) {
    uint64_t steps = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000ULL;
    hlr_tuner *tuner = NULL;
    hlr_schedule *cosine = NULL;
    int rc;
    if ((rc = hlr_tuner_create(HLR_METHOD_HESSIANLR, GROUPS, &tuner)) != HLR_OK) fail("create", rc);
    if ((rc = hlr_tuner_set_param(tuner, HLR_PARAM_UPDATE_PERIOD, 1)) != HLR_OK) fail("period", rc);
    if ((rc = hlr_tuner_set_param(tuner, HLR_PARAM_LR_MAX, 10)) != HLR_OK) fail("lr_max", rc);
    if ((rc = hlr_schedule_create(HLR_SCHEDULE_COSINE, &cosine)) != HLR_OK) fail("schedule", rc);
    if ((rc = hlr_schedule_set_param(cosine, HLR_SCHED_PARAM_BASE_LR, 1)) != HLR_OK) fail("base_lr", rc);
    if ((rc = hlr_schedule_set_param(cosine, HLR_SCHED_PARAM_T_MAX, 1000)) != HLR_OK) fail("t_max", rc);
    if ((rc = hlr_tuner_set_schedule(tuner, cosine)) != HLR_OK) fail("set_schedule", rc);
    hlr_schedule_free(cosine);

    uint64_t key = rng_key(2026, 99, 0);
    uint64_t hash = 0xCBF29CE484222325ULL; /* FNV-1a 64 */
    uint64_t refused = 0;
    long rss[3] = {0, 0, 0};
    double values[2 * GROUPS], lrs[GROUPS];
    for (uint64_t t = 0; t < steps; t++) {
        for (int k = 0; k < 2 * GROUPS; k++) values[k] = 4 * uniform(key, 2 * t * GROUPS + (uint64_t)k) - 1;
        int status = hlr_tuner_observe_curvature(tuner, t, values, 2 * GROUPS);
        if (status != HLR_OK) {
            if (status != HLR_ERR_INVALID_ARGUMENT) fail("observe", status);
            refused++;
        }
        if ((rc = hlr_tuner_get_lrs(tuner, t, lrs, GROUPS)) != HLR_OK) fail("get_lrs", rc);
        unsigned char bytes[sizeof lrs + 1];
        memcpy(bytes, lrs, sizeof lrs);
        bytes[sizeof lrs] = (unsigned char)status;
        for (size_t i = 0; i < sizeof bytes; i++) hash = (hash ^ bytes[i]) * 0x100000001B3ULL;
        if (t == steps / 10) rss[0] = resident_kib();
        if (t == steps / 2) rss[1] = resident_kib();
    }
    rss[2] = resident_kib();
    uint64_t bits[GROUPS];
    memcpy(bits, lrs, sizeof bits);
    printf("steps %" PRIu64 " refused %" PRIu64 " hash %016" PRIx64 " lr %016" PRIx64 " %016" PRIx64 "\n",
           steps, refused, hash, bits[0], bits[1]);
    fprintf(stderr, "soak: resident KiB at 10%%/50%%/100%%: %ld %ld %ld\n", rss[0], rss[1], rss[2]);
    hlr_tuner_free(tuner);
    /* Allocator warm-up may take a few pages early on; a leak of even one byte per step would
     * add megabytes over the second half of the run. */
    if (rss[0] > 0 && (rss[1] - rss[0] > 1024 || rss[2] - rss[1] > 64)) {
        fprintf(stderr, "soak: resident memory grew (10%%->50%%: %ld KiB, 50%%->100%%: %ld KiB)\n",
                rss[1] - rss[0], rss[2] - rss[1]);
        return 1;
    }
    return 0;
}
