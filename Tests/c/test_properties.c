/*
 * test_properties.c — properties over random sequences of calls, for every method:
 *
 *   P1 (rates)     every rate get_lr / get_lrs hands out, at any step, is finite, >= 0 and within
 *                  [lr_min, lr_max] of the method (a method without those options: [0, DBL_MAX]),
 *                  with or without a base schedule (any kind, warmups and joins included) and
 *                  whatever options were accepted (boundary values such as DBL_MAX, +inf, 0 and
 *                  subnormals included).
 *   P2 (snapshots) for every state reached, save -> restore into a fresh handle -> save gives
 *                  the same bytes, and the restored handle hands out the same rates.
 *   P3 (no crash)  nothing in the sequence crashes; a refused call changes nothing.
 *   P4 (crafted)   a reachable state's snapshot with one field overwritten by an extreme value
 *                  and a valid CRC is refused (changing nothing) or keeps P1 and P2 after restore.
 *
 * The sequence mixes everything a trainer or a careless caller does: observations of the kind
 * asked for (consistent quadratic losses, noisy, negative or huge values), failures, option
 * changes at any time (also in the middle of a line search), resets, schedules attached and
 * detached. HLR_PROPERTY_ITERATIONS sets the number of sequences (default 1000, a fraction of a second;
 * `make test-properties-long` runs 1000000, a few minutes). HLR_PROPERTY_SEED changes the seed.
 */
#include <float.h>

#include "check.h"

static uint64_t rng_state;
static long crafted_tried, crafted_accepted;

static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(void) { return (double)(next_u64() >> 11) * 0x1.0p-53; }
static int below(int n) { return (int)(next_u64() % (uint64_t)n); }

/* A value for an option or schedule parameter with bounds [lo, hi] and a default. */
static double pick_value(double lo, double hi, double def) {
    static const double specials[] = {0.0, 1.0, DBL_MAX, INFINITY, 1e150, 0x1p-1060, 1e-300, 2.0, 0.5};
    switch (below(8)) {
    case 0: return lo;
    case 1: return hi;
    case 2: return def;
    case 3: return specials[below((int)(sizeof specials / sizeof specials[0]))];
    case 4: return floor(uniform() * 50);
    default: {
        double a = isfinite(lo) ? lo : -1e6, b = isfinite(hi) ? hi : 1e6;
        if (a > 0 && b / a > 1e3) return a * pow(b / a, uniform()); /* log-uniform */
        if (b - a > 1e6) b = a + 1e6;
        return a + (b - a) * uniform();
    }
    }
}

static hlr_schedule *random_leaf(void) {
    int kind = 1 + below(13);
    hlr_schedule *s = NULL;
    if (hlr_schedule_create(kind, &s) != HLR_OK) return NULL;
    for (int key = 1; key <= 31; key++) {
        double lo, hi, def;
        if (hlr_schedule_param_bounds(kind, key, &lo, &hi, &def) != HLR_OK) continue;
        if (below(2)) continue;
        double v = pick_value(lo, hi, def);
        if (hlr_schedule_param_bounds(kind, key, &lo, &hi, &def) == HLR_OK && (lo == floor(lo)) &&
            (hi == floor(hi) || isinf(hi)) && def == floor(def) && below(2))
            v = floor(v);
        (void)hlr_schedule_set_param(s, key, v); /* refusals change nothing */
    }
    if (kind == HLR_SCHEDULE_MULTI_STEP) {
        uint64_t m[3] = {next_u64() % 20, next_u64() % 20, next_u64() % 1000};
        (void)hlr_schedule_set_milestones(s, m, 3);
    }
    return s;
}

static hlr_schedule *random_schedule(void) {
    hlr_schedule *leaf = random_leaf();
    if (leaf == NULL) return NULL;
    int shape = below(4);
    if (shape == 0) {
        hlr_schedule *w = NULL;
        double start = below(2) ? 0.0 : pick_value(0, 1e3, 0);
        if (hlr_schedule_warmup(leaf, next_u64() % 30, start, &w) == HLR_OK) {
            hlr_schedule_free(leaf);
            return w;
        }
    } else if (shape == 1) {
        hlr_schedule *other = random_leaf();
        if (other != NULL) {
            const hlr_schedule *pieces[2] = {leaf, other};
            uint64_t boundary = 1 + next_u64() % 40;
            hlr_schedule *j = NULL;
            int ok = hlr_schedule_join(pieces, 2, &boundary, 1, &j) == HLR_OK;
            hlr_schedule_free(other);
            if (ok) {
                hlr_schedule_free(leaf);
                return j;
            }
        }
    }
    return leaf;
}

static void random_option(hlr_tuner *t, int method, size_t groups) {
    int key = 1 + below(24);
    double lo, hi, def;
    if (hlr_param_bounds(method, key, &lo, &hi, &def) != HLR_OK) return;
    double v = pick_value(lo, hi, def);
    if (below(3) == 0) v = floor(v);
    if (below(4) == 0)
        (void)hlr_tuner_set_group_param(t, (size_t)below((int)groups), key, v);
    else
        (void)hlr_tuner_set_param(t, key, v);
}

/* The bounds of P1 for this handle now. */
static void rate_bounds(const hlr_tuner *t, double *lo, double *hi) {
    *lo = 0.0;
    *hi = DBL_MAX;
    double v;
    if (hlr_tuner_get_param(t, HLR_PARAM_LR_MIN, &v) == HLR_OK) *lo = v;
    if (hlr_tuner_get_param(t, HLR_PARAM_LR_MAX, &v) == HLR_OK && v < *hi) *hi = v;
}

static int rates_ok(const hlr_tuner *t, size_t groups, uint64_t step, int method, int iteration) {
    double lrs[8];
    double lo, hi;
    rate_bounds(t, &lo, &hi);
    if (hlr_tuner_get_lrs(t, step, lrs, groups) != HLR_OK) {
        fprintf(stderr, "iteration %d method %d: get_lrs(step %" PRIu64 ") failed: %s\n", iteration, method,
                step, hlr_last_error());
        return 0;
    }
    for (size_t k = 0; k < groups; k++) {
        double one = -1;
        if (hlr_tuner_get_lr(t, step, k, &one) != HLR_OK || check_bits_(one) != check_bits_(lrs[k]) ||
            !isfinite(lrs[k]) || !(lrs[k] >= 0) || lrs[k] < lo || lrs[k] > hi) {
            fprintf(stderr,
                    "iteration %d method %d: step %" PRIu64 " group %zu rate %a (get_lr %a) outside "
                    "[%a, %a]\n",
                    iteration, method, step, k, lrs[k], one, lo, hi);
            return 0;
        }
    }
    return 1;
}

/* P2: save -> restore into a fresh handle -> save is the identity, rates included. */
static int roundtrip_ok(const hlr_tuner *t, int method, size_t groups, uint64_t step, int iteration) {
    hlrt_state a = hlrt_capture(t);
    if (a.bytes == NULL) return 0;
    hlr_tuner *fresh = hlrt_create_method(method, groups);
    int ok = hlr_tuner_restore(fresh, a.bytes, a.size) == HLR_OK;
    if (!ok)
        fprintf(stderr, "iteration %d method %d: own snapshot refused: %s\n", iteration, method, hlr_last_error());
    if (ok && !hlrt_same_state(fresh, &a)) {
        fprintf(stderr, "iteration %d method %d: save/restore/save differs\n", iteration, method);
        ok = 0;
    }
    if (ok) {
        double x[8], y[8];
        int sa = hlr_tuner_get_lrs(t, step, x, groups), sb = hlr_tuner_get_lrs(fresh, step, y, groups);
        if (sa != sb || (sa == HLR_OK && memcmp(x, y, groups * sizeof(double)) != 0)) {
            fprintf(stderr, "iteration %d method %d: restored rates differ\n", iteration, method);
            ok = 0;
        }
    }
    hlr_tuner_free(fresh);
    hlrt_release(&a);
    return ok;
}

/* One observation of what `step` needs, of a random quality. */
static void random_observation(hlr_tuner *t, uint64_t step, size_t groups) {
    int need = 0;
    size_t count = 0;
    if (hlr_tuner_need(t, step, &need, &count) != HLR_OK || need == HLR_NEED_NOTHING || count * groups > 4096) return;
    double values[4096];
    int quality = below(10);
    if (quality == 0) {
        (void)hlr_tuner_observe_failure(t, step);
        return;
    }
    if (need == HLR_NEED_LOSSES) {
        double probes[4096];
        if (hlr_tuner_get_probes(t, step, probes, count * groups) != HLR_OK) return;
        double a[8], b[8], l0 = pick_value(0, 10, 1);
        for (size_t k = 0; k < groups; k++) {
            a[k] = quality == 1 ? -uniform() : pow(10, 6 * uniform() - 3);
            b[k] = quality == 2 ? -uniform() : pow(10, 6 * uniform() - 3);
        }
        for (size_t j = 0; j < count; j++) {
            double l = l0;
            for (size_t k = 0; k < groups; k++) {
                double xi = probes[j * groups + k];
                l += -b[k] * xi + 0.5 * a[k] * xi * xi;
            }
            if (quality == 3) l += 1e-3 * (uniform() - 0.5);
            if (quality == 4) l = pick_value(-1e6, 1e6, 0);
            values[j] = isfinite(l) ? l : DBL_MAX;
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            double v = pow(10, 12 * uniform() - 6);
            if (quality == 5 && below(2)) v = -v;
            if (quality == 6) v = below(2) ? 0.0 : DBL_MAX;
            values[i] = v;
        }
    }
    (void)hlr_tuner_observe(t, step, need, values, count);
}

/* CRC-32 (IEEE 802.3), as the snapshot trailer. */
static uint32_t crc32_of(const unsigned char *bytes, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= bytes[i];
        for (int b = 0; b < 8; b++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

/* P4 (crafted snapshots): a reachable state's snapshot with one payload field overwritten by an
 * extreme value and the CRC recomputed. Restore may refuse it (nothing changes) or accept it; an
 * accepted state must keep P1 and P2 and survive further calls. Tuner snapshots without a
 * schedule only (the payload is the bytes between the 16-byte header and the CRC). */
static int crafted_ok(const hlr_tuner *t, int method, size_t groups, uint64_t step, int iteration) {
    static const double extremes[] = {DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN, 0.0, -1.0, 1e300, 1e-320, 2.0};
    hlrt_state snap = hlrt_capture(t);
    if (snap.bytes == NULL || snap.size < 28 || (snap.bytes[7] & 0x80)) {
        hlrt_release(&snap);
        return 1;
    }
    size_t payload = snap.size - 20;
    size_t at = 16 + (payload >= 8 ? (size_t)(next_u64() % (payload - 7)) : 0);
    double value = extremes[below((int)(sizeof extremes / sizeof extremes[0]))];
    if (payload >= 8) memcpy(snap.bytes + at, &value, sizeof value);
    uint32_t crc = crc32_of(snap.bytes, snap.size - 4);
    for (int b = 0; b < 4; b++) snap.bytes[snap.size - 4 + b] = (unsigned char)(crc >> (8 * b));
    hlr_tuner *target = hlrt_create_method(method, groups);
    hlrt_state before = hlrt_capture(target);
    int ok = 1;
    crafted_tried++;
    if (hlr_tuner_restore(target, snap.bytes, snap.size) == HLR_OK) {
        crafted_accepted++;
        for (uint64_t s = step; s < step + 3 && ok; s++) {
            ok = rates_ok(target, groups, s, method, iteration) && roundtrip_ok(target, method, groups, s, iteration);
            random_observation(target, s, groups);
        }
        if (!ok) fprintf(stderr, "  (crafted: byte %zu of %zu set to %g)\n", at, snap.size, value);
    } else if (!hlrt_same_state(target, &before)) {
        fprintf(stderr, "iteration %d method %d: a refused crafted snapshot changed the handle\n", iteration, method);
        ok = 0;
    }
    hlrt_release(&before);
    hlrt_release(&snap);
    hlr_tuner_free(target);
    return ok;
}

int main(void) {
    const char *env = getenv("HLR_PROPERTY_ITERATIONS");
    const char *seed_env = getenv("HLR_PROPERTY_SEED");
    int iterations = env ? atoi(env) : 1000;
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : 20261206ull;
    int failures = 0;
    for (int it = 0; it < iterations && failures < 10; it++) {
        rng_state = seed * 1000003ull + (uint64_t)it;
        int method = 1 + below(7);
        size_t groups = 1 + (size_t)below(3);
        hlr_tuner *t = hlrt_create_method(method, groups);
        int options = below(6);
        for (int i = 0; i < options; i++) random_option(t, method, groups);
        uint64_t step = below(4) == 0 ? next_u64() % 1000 : 0;
        int length = 5 + below(40);
        for (int call = 0; call < length && failures < 10; call++) {
            int action = below(20);
            if (action < 11) {
                random_observation(t, step, groups);
            } else if (action < 14) {
                step += 1 + (below(8) == 0 ? next_u64() % 100 : 0);
            } else if (action < 16) {
                random_option(t, method, groups);
            } else if (action == 16) {
                hlr_schedule *s = below(5) == 0 ? NULL : random_schedule();
                CHECK_OK(hlr_tuner_set_schedule(t, s));
                hlr_schedule_free(s);
            } else if (action == 17 && below(4) == 0) {
                (void)hlr_tuner_reset(t, 1 + below(3));
            } else {
                uint64_t probe_steps[4] = {step, step + 1, next_u64() % 100000, UINT64_MAX - (uint64_t)below(3)};
                for (int i = 0; i < 4; i++)
                    if (!rates_ok(t, groups, probe_steps[i], method, it)) failures++;
                if (!roundtrip_ok(t, method, groups, step, it)) failures++;
                if (!crafted_ok(t, method, groups, step, it)) failures++;
            }
        }
        if (!rates_ok(t, groups, step, method, it) || !roundtrip_ok(t, method, groups, step, it)) failures++;
        hlr_tuner_free(t);
    }
    CHECK_EQ_INT(failures, 0);
    printf("test_properties: %d sequences (seed %" PRIu64 "), %ld crafted snapshots, %ld accepted\n", iterations,
           seed, crafted_tried, crafted_accepted);
    return CHECK_SUMMARY();
}
