/* Snapshots: bit-identical continuation, buffer sizes, and refusal of every damaged blob
 * (truncation at every length, every single bit flipped, newer and retired versions, other
 * methods and group counts, crafted payloads with a valid CRC but invalid contents). Every refusal
 * must leave the target handle byte for byte unchanged.
 *
 * Container layout (Sources/HessianLR/State/Snapshot.swift): "HLRS", u16 version (LE) at 4,
 * u16 method at 6, u64 payload length at 8, payload, then the CRC-32 (zlib) of all bytes
 * before it in the last 4 bytes. Payload fields are located by searching for distinctive
 * values rather than by hard-coded offsets where possible. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static uint32_t crc32_zlib(const unsigned char *bytes, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= bytes[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

static uint64_t get_le(const unsigned char *p, int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le(unsigned char *p, uint64_t v, int width) {
    for (int i = 0; i < width; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_double(unsigned char *p, double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    put_le(p, bits, 8);
}

static double get_double(const unsigned char *p) {
    uint64_t bits = get_le(p, 8);
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* Rewrites the trailing CRC of a blob of `size` bytes. */
static void reseal(unsigned char *blob, size_t size) {
    put_le(blob + size - 4, crc32_zlib(blob, size - 4), 4);
}

/* Offset of the only occurrence of the 8-byte little-endian pattern of `bits`, or -1. */
static long find_u64(const unsigned char *blob, size_t size, uint64_t bits) {
    unsigned char pattern[8];
    put_le(pattern, bits, 8);
    long found = -1;
    for (size_t i = 16; i + 8 <= size - 4; i++) {
        if (memcmp(blob + i, pattern, 8) == 0) {
            if (found >= 0) return -2; /* not unique */
            found = (long)i;
        }
    }
    return found;
}

static long find_double(const unsigned char *blob, size_t size, double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return find_u64(blob, size, bits);
}

static hlrt_state save(const hlr_tuner *t) {
    hlrt_state s = hlrt_capture(t);
    CHECK(s.bytes != NULL);
    return s;
}

/* Restores `blob` into `t` and expects `expected`, with the handle unchanged on failure. */
#define EXPECT_REFUSED(t, blob, size, expected) \
    CHECK_FAILS_UNCHANGED(t, hlr_tuner_restore((t), (blob), (size)), (expected))

static uint64_t rng = 0x12345678u;
static double rand_unit(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) * 0x1.0p-53;
}

/* Feeds the observation of step s (random but reproducible from s) if it is wanted. */
static void drive(hlr_tuner *t, size_t groups, uint64_t s, const double *table) {
    int wants = 0;
    CHECK_OK(hlr_tuner_wants_curvature(t, s, &wants));
    if (!wants) return;
    double values[8];
    for (size_t k = 0; k < groups; k++) {
        values[2 * k] = table[(s * 7 + k * 3) % 97];
        values[2 * k + 1] = table[(s * 11 + k * 5 + 1) % 97] - 0.1;
    }
    CHECK_OK(hlr_tuner_observe_curvature(t, s, values, 2 * groups));
}

static void test_continuation(void) {
    double table[97];
    for (int i = 0; i < 97; i++) table[i] = rand_unit() * 10.0;
    const size_t groups = 3;
    const uint64_t total = 300;
    const uint64_t save_points[] = {0, 1, 4, 5, 37, 150, 299};
    for (size_t p = 0; p < sizeof save_points / sizeof save_points[0]; p++) {
        hlr_tuner *a = hlrt_create(groups);
        CHECK_OK(hlr_tuner_set_param(a, HLR_PARAM_WARMUP_STEPS, 5));
        CHECK_OK(hlr_tuner_set_param(a, HLR_PARAM_UPDATE_PERIOD, 3));
        CHECK_OK(hlr_tuner_set_param(a, HLR_PARAM_SMOOTHING, 0.7));
        CHECK_OK(hlr_tuner_set_param(a, HLR_PARAM_LR_MAX, 5.0));
        CHECK_OK(hlr_tuner_set_group_param(a, 1, HLR_PARAM_INITIAL_LR, 0.05));
        CHECK_OK(hlr_tuner_set_group_param(a, 2, HLR_PARAM_INITIAL_LR, 0.3));
        hlr_tuner *b = NULL;
        int mismatches = 0;
        for (uint64_t s = 0; s < total; s++) {
            drive(a, groups, s, table);
            if (b != NULL) drive(b, groups, s, table);
            if (b != NULL) {
                double la[3], lb[3];
                CHECK_OK(hlr_tuner_get_lrs(a, s, la, groups));
                CHECK_OK(hlr_tuner_get_lrs(b, s, lb, groups));
                if (memcmp(la, lb, sizeof la) != 0) mismatches++;
                int wa = 0, wb = 0;
                CHECK_OK(hlr_tuner_wants_curvature(a, s + 1, &wa));
                CHECK_OK(hlr_tuner_wants_curvature(b, s + 1, &wb));
                if (wa != wb) mismatches++;
            }
            if (s == save_points[p]) {
                /* A fresh handle with other options and its own history receives it. */
                b = hlrt_create(groups);
                CHECK_OK(hlr_tuner_set_param(b, HLR_PARAM_SMOOTHING, 0.1));
                CHECK_OK(hlr_tuner_set_param(b, HLR_PARAM_UPDATE_PERIOD, 1));
                const double obs[6] = {1, 2, 3, 4, 5, 6};
                CHECK_OK(hlr_tuner_observe_curvature(b, 0, obs, 6));
                hlrt_state snap = save(a);
                CHECK_OK(hlr_tuner_restore(b, snap.bytes, snap.size));
                CHECK(hlrt_same_state(b, &snap)); /* re-saving gives the same bytes */
                double v = 0;
                CHECK_OK(hlr_tuner_get_param(b, HLR_PARAM_SMOOTHING, &v));
                CHECK_EQ_DBL(v, 0.7);
                CHECK_OK(hlr_tuner_get_group_param(b, 2, HLR_PARAM_INITIAL_LR, &v));
                CHECK_EQ_DBL(v, 0.3);
                for (int key = HLR_INFO_UPDATES; key <= HLR_INFO_LAST_SLOPE; key++)
                    for (size_t k = 0; k < groups; k++) {
                        double x = hlrt_info(a, key, k), y = hlrt_info(b, key, k);
                        CHECK(memcmp(&x, &y, sizeof x) == 0);
                    }
                hlrt_release(&snap);
            }
        }
        CHECK_EQ_INT(mismatches, 0);
        hlrt_state sa = save(a);
        CHECK(hlrt_same_state(b, &sa));
        hlrt_release(&sa);
        CHECK_OK(hlr_tuner_free(a));
        CHECK_OK(hlr_tuner_free(b));
    }

    /* Rewind: restoring an earlier snapshot into the same handle replays identically. */
    hlr_tuner *t = hlrt_create(2);
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 2));
    for (uint64_t s = 0; s < 20; s++) drive(t, 2, s, table);
    hlrt_state mid = save(t);
    double first[40][2];
    for (uint64_t s = 20; s < 60; s++) {
        drive(t, 2, s, table);
        CHECK_OK(hlr_tuner_get_lrs(t, s, first[s - 20], 2));
    }
    hlrt_state end = save(t);
    CHECK_OK(hlr_tuner_restore(t, mid.bytes, mid.size));
    CHECK(hlrt_same_state(t, &mid));
    int mismatches = 0;
    for (uint64_t s = 20; s < 60; s++) {
        drive(t, 2, s, table);
        double lrs[2];
        CHECK_OK(hlr_tuner_get_lrs(t, s, lrs, 2));
        if (memcmp(lrs, first[s - 20], sizeof lrs) != 0) mismatches++;
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(hlrt_same_state(t, &end));
    hlrt_release(&mid);
    hlrt_release(&end);
    CHECK_OK(hlr_tuner_free(t));

    /* A fresh handle's snapshot restores too (no observation yet). */
    hlr_tuner *x = hlrt_create(2), *y = hlrt_create(2);
    CHECK_OK(hlr_tuner_set_param(y, HLR_PARAM_UPDATE_PERIOD, 1));
    const double obs[4] = {1, 2, 3, 4};
    CHECK_OK(hlr_tuner_observe_curvature(y, 0, obs, 4));
    hlrt_state fresh = save(x);
    CHECK_OK(hlr_tuner_restore(y, fresh.bytes, fresh.size));
    CHECK(hlrt_same_state(y, &fresh));
    CHECK_EQ_DBL(hlrt_info(y, HLR_INFO_LAST_STEP, 0), -1.0);
    hlrt_release(&fresh);
    CHECK_OK(hlr_tuner_free(x));
    CHECK_OK(hlr_tuner_free(y));
}

static void test_layout_and_sizes(void) {
    hlr_tuner *t = hlrt_create(2);
    size_t size = 0, written = 0;
    CHECK_OK(hlr_tuner_snapshot_size(t, &size));
    CHECK(size >= 20 && size < 100000);
    unsigned char *buffer = malloc(size + 64);
    /* Too small, at every capacity: the needed size is reported, the buffer is untouched. */
    int touched = 0, wrong_size = 0;
    for (size_t capacity = 0; capacity < size; capacity++) {
        memset(buffer, 0xAB, size + 64);
        written = 0;
        if (hlr_tuner_save(t, buffer, capacity, &written) != HLR_ERR_BUFFER_TOO_SMALL) wrong_size++;
        if (written != size) wrong_size++;
        for (size_t i = 0; i < size + 64; i++)
            if (buffer[i] != 0xAB) {
                touched++;
                break;
            }
    }
    CHECK_EQ_INT(wrong_size, 0);
    CHECK_EQ_INT(touched, 0);
    /* Exact and larger capacities: `size` bytes written, nothing after them. */
    memset(buffer, 0xAB, size + 64);
    CHECK_OK(hlr_tuner_save(t, buffer, size + 64, &written));
    CHECK_EQ_INT(written, size);
    for (size_t i = size; i < size + 64; i++) CHECK_EQ_INT(buffer[i], 0xAB);
    CHECK_OK(hlr_tuner_save(t, buffer, size, &written));
    CHECK_EQ_INT(written, size);
    /* Header and trailer as documented. */
    CHECK(memcmp(buffer, "HLRS", 4) == 0);
    CHECK_EQ_INT(get_le(buffer + 4, 2), 2);
    CHECK_EQ_INT(get_le(buffer + 6, 2), HLR_METHOD_HESSIANLR);
    CHECK_EQ_INT(get_le(buffer + 8, 8), size - 20);
    CHECK_EQ_INT(get_le(buffer + size - 4, 4), crc32_zlib(buffer, size - 4));
    CHECK_EQ_INT(crc32_zlib((const unsigned char *)"123456789", 9), 0xCBF43926u);
    /* The size does not depend on the history; it grows with the group count. */
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 1));
    const double obs[4] = {1, 2, 3, 4};
    CHECK_OK(hlr_tuner_observe_curvature(t, 0, obs, 4));
    size_t size2 = 0;
    CHECK_OK(hlr_tuner_snapshot_size(t, &size2));
    CHECK_EQ_INT(size2, size);
    hlr_tuner *big = hlrt_create(7);
    CHECK_OK(hlr_tuner_snapshot_size(big, &size2));
    CHECK(size2 > size);
    CHECK_OK(hlr_tuner_free(big));
    free(buffer);
    CHECK_OK(hlr_tuner_free(t));
}

/* A 2-group source with distinctive values in every option, history applied. */
static hlr_tuner *make_source(void) {
    hlr_tuner *t = hlrt_create(2);
    CHECK_OK(hlr_tuner_set_group_param(t, 0, HLR_PARAM_INITIAL_LR, 0.0123));
    CHECK_OK(hlr_tuner_set_group_param(t, 1, HLR_PARAM_INITIAL_LR, 0.0456));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_WARMUP_STEPS, 3));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 1));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_BOUND_LOW, 0.321));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_BOUND_HIGH, 3.21));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_MAX, 1.234));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_LR_MIN, 1.5e-8));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_SMOOTHING, 0.123456789));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_NEGATIVE_CURVATURE_DECAY, 0.4321));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_DIRECTION, HLR_DIRECTION_UPDATE));
    const double obs[4] = {1.0, 30.0, 2.0, 50.0};
    CHECK_OK(hlr_tuner_observe_curvature(t, 3, obs, 4));
    CHECK_OK(hlr_tuner_observe_curvature(t, 4, obs, 4));
    CHECK_OK(hlr_tuner_observe_curvature(t, 12345, obs, 4));
    return t;
}

/* A target whose state differs from the source's (so a wrong restore would show). */
static hlr_tuner *make_target(size_t groups) {
    hlr_tuner *t = hlrt_create(groups);
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_SMOOTHING, 0.5));
    CHECK_OK(hlr_tuner_set_param(t, HLR_PARAM_UPDATE_PERIOD, 2));
    double obs[8] = {1, 10, 1, 20, 1, 30, 1, 40};
    CHECK_OK(hlr_tuner_observe_curvature(t, 0, obs, 2 * groups));
    return t;
}

/* What the restore tests start from: the source, its snapshot, a target whose state differs and
 * a scratch buffer for altered copies of the snapshot (its size plus `slack` bytes). */
typedef struct {
    hlr_tuner *source, *target;
    hlrt_state snap;
    unsigned char *blob;
} restore_fixture;

static restore_fixture open_fixture(size_t slack) {
    restore_fixture f;
    f.source = make_source();
    f.target = make_target(2);
    f.snap = save(f.source);
    f.blob = malloc(f.snap.size + slack);
    return f;
}

/* Frees what open_fixture made (each handle's free must succeed). */
static void close_fixture(restore_fixture *f) {
    hlrt_release(&f->snap);
    free(f->blob);
    CHECK_OK(hlr_tuner_free(f->source));
    CHECK_OK(hlr_tuner_free(f->target));
}

static void test_truncation_and_bit_flips(void) {
    restore_fixture f = open_fixture(8);

    /* Truncated at every length. */
    int wrong = 0;
    hlrt_state before = save(f.target);
    for (size_t len = 0; len < f.snap.size; len++) {
        memcpy(f.blob, f.snap.bytes, f.snap.size);
        int status = hlr_tuner_restore(f.target, f.blob, len);
        if (status != HLR_ERR_SNAPSHOT_CORRUPT) {
            if (wrong++ < 5) fprintf(stderr, "    truncated to %zu: status %d\n", len, status);
        }
        if (!hlrt_same_state(f.target, &before)) wrong++;
        if (hlr_last_error()[0] == '\0') wrong++;
    }
    CHECK_EQ_INT(wrong, 0);
    /* A trailing extra byte is refused as well. */
    memcpy(f.blob, f.snap.bytes, f.snap.size);
    f.blob[f.snap.size] = 0;
    EXPECT_REFUSED(f.target, f.blob, f.snap.size + 1, HLR_ERR_SNAPSHOT_CORRUPT);

    /* Every single bit flipped. */
    wrong = 0;
    int versions = 0;
    for (size_t byte = 0; byte < f.snap.size; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(f.blob, f.snap.bytes, f.snap.size);
            f.blob[byte] ^= (unsigned char)(1u << bit);
            int expected = HLR_ERR_SNAPSHOT_CORRUPT;
            if (byte == 4 || byte == 5) {
                uint64_t version = get_le(f.blob + 4, 2);
                if (version != 0) expected = HLR_ERR_SNAPSHOT_VERSION; /* any but the current 2 */
            }
            int status = hlr_tuner_restore(f.target, f.blob, f.snap.size);
            if (status != expected) {
                if (wrong++ < 5)
                    fprintf(stderr, "    bit %d of byte %zu: status %d, expected %d (%s)\n", bit, byte,
                            status, expected, hlr_last_error());
            }
            if (status == HLR_ERR_SNAPSHOT_VERSION) versions++;
            if (!hlrt_same_state(f.target, &before)) wrong++;
        }
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(versions, 15); /* every flip of the version field except bit 1 (version 0) */
    CHECK_OK(hlr_tuner_restore(f.target, f.snap.bytes, f.snap.size)); /* the original is fine */
    CHECK(hlrt_same_state(f.target, &f.snap));

    /* Not a snapshot at all. */
    memset(f.blob, 0, f.snap.size);
    CHECK_OK(hlr_tuner_reset(f.target, HLR_RESET_ALL));
    EXPECT_REFUSED(f.target, f.blob, f.snap.size, HLR_ERR_SNAPSHOT_CORRUPT);
    memset(f.blob, 0xFF, f.snap.size);
    EXPECT_REFUSED(f.target, f.blob, f.snap.size, HLR_ERR_SNAPSHOT_CORRUPT);
    EXPECT_REFUSED(f.target, "HLRS", 4, HLR_ERR_SNAPSHOT_CORRUPT);

    hlrt_release(&before);
    close_fixture(&f);
}

static void test_versions_methods_groups(void) {
    restore_fixture f = open_fixture(0);

    /* Newer format versions and the retired version 1 (HessianLR's older options layout), with a
     * correct CRC: VERSION. */
    const uint64_t newer[] = {1, 3, 255, 256, 0x8000, 0xFFFF};
    for (size_t i = 0; i < sizeof newer / sizeof newer[0]; i++) {
        memcpy(f.blob, f.snap.bytes, f.snap.size);
        put_le(f.blob + 4, newer[i], 2);
        reseal(f.blob, f.snap.size);
        EXPECT_REFUSED(f.target, f.blob, f.snap.size, HLR_ERR_SNAPSHOT_VERSION);
        char text[16];
        snprintf(text, sizeof text, "%llu", (unsigned long long)newer[i]);
        CHECK_ERROR_HAS(text);
    }
    /* Version 0 does not exist. */
    memcpy(f.blob, f.snap.bytes, f.snap.size);
    put_le(f.blob + 4, 0, 2);
    reseal(f.blob, f.snap.size);
    EXPECT_REFUSED(f.target, f.blob, f.snap.size, HLR_ERR_SNAPSHOT_CORRUPT);

    /* Unknown method ids with a correct CRC: MISMATCH. */
    const uint64_t methods[] = {0, 2, 3, 0x7FFF, 0xFFFF};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        memcpy(f.blob, f.snap.bytes, f.snap.size);
        put_le(f.blob + 6, methods[i], 2);
        reseal(f.blob, f.snap.size);
        EXPECT_REFUSED(f.target, f.blob, f.snap.size, HLR_ERR_SNAPSHOT_MISMATCH);
    }

    /* Payload length that disagrees with the size (CRC recomputed): CORRUPT. */
    const uint64_t lengths[] = {0, f.snap.size - 21, f.snap.size - 19, UINT64_MAX, UINT64_MAX - 19};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        memcpy(f.blob, f.snap.bytes, f.snap.size);
        put_le(f.blob + 8, lengths[i], 8);
        reseal(f.blob, f.snap.size);
        EXPECT_REFUSED(f.target, f.blob, f.snap.size, HLR_ERR_SNAPSHOT_CORRUPT);
    }

    /* Other group counts: MISMATCH (both directions). */
    const size_t others[] = {1, 3, 17};
    for (size_t i = 0; i < 3; i++) {
        hlr_tuner *other = make_target(others[i] < 4 ? others[i] : 4);
        if (others[i] >= 4) {
            CHECK_OK(hlr_tuner_free(other));
            other = hlrt_create(others[i]);
        }
        EXPECT_REFUSED(other, f.snap.bytes, f.snap.size, HLR_ERR_SNAPSHOT_MISMATCH);
        CHECK_ERROR_HAS("groups");
        hlrt_state theirs = save(other);
        EXPECT_REFUSED(f.target, theirs.bytes, theirs.size, HLR_ERR_SNAPSHOT_MISMATCH);
        hlrt_release(&theirs);
        CHECK_OK(hlr_tuner_free(other));
    }
    close_fixture(&f);
}

/* Crafted payloads: valid container and CRC, invalid contents -> CORRUPT; a crafted but valid
 * change is accepted (which shows the fields were found correctly). */
static void test_crafted_payloads(void) {
    restore_fixture f = open_fixture(16);
    const size_t size = f.snap.size;

    const long at_smoothing = find_double(f.snap.bytes, size, 0.123456789);
    const long at_low = find_double(f.snap.bytes, size, 0.321);
    const long at_high = find_double(f.snap.bytes, size, 3.21);
    const long at_min = find_double(f.snap.bytes, size, 1.5e-8);
    const long at_max = find_double(f.snap.bytes, size, 1.234);
    const long at_decay = find_double(f.snap.bytes, size, 0.4321);
    const long at_eta1 = find_double(f.snap.bytes, size, 0.0456);
    const long at_last_step = find_u64(f.snap.bytes, size, 12345);
    double current = hlrt_lr(f.source, 12345, 1);
    const long at_current1 = find_double(f.snap.bytes, size, current);
    CHECK(at_smoothing > 0 && at_low > 0 && at_high > 0 && at_min > 0 && at_max > 0);
    CHECK(at_decay > 0 && at_eta1 > 0 && at_last_step > 0 && at_current1 > 0);
    if (!(at_smoothing > 0 && at_low > 0 && at_high > 0 && at_min > 0 && at_max > 0 &&
          at_decay > 0 && at_eta1 > 0 && at_last_step > 0 && at_current1 > 0)) {
        fprintf(stderr, "    cannot locate the payload fields; skipping crafted payloads\n");
        goto done;
    }
    {
        /* Fields whose position follows from the documented encoding order (the options table's
         * order, every option a double). */
        const long at_direction = at_decay + 8; /* the last option */
        const long at_has_last = at_last_step - 1;
        const long at_warmup = at_eta1 + 8;     /* after initial_lr[] */
        const long at_period = at_warmup + 8;
        CHECK_EQ_DBL(get_double(f.snap.bytes + at_direction), 1.0);
        CHECK_EQ_INT(f.snap.bytes[at_has_last], 1);
        CHECK_EQ_DBL(get_double(f.snap.bytes + at_warmup), 3.0);
        CHECK_EQ_DBL(get_double(f.snap.bytes + at_period), 1.0);
        CHECK(at_period + 8 == at_low);

        const struct {
            long offset;
            double value;
            const char *what;
        } bad_doubles[] = {
            {at_smoothing, 2.0, "smoothing"},
            {at_smoothing, 1.0, "smoothing"},
            {at_smoothing, -0.5, "smoothing"},
            {at_smoothing, NAN, "smoothing"},
            {at_smoothing, INFINITY, "smoothing"},
            {at_low, 0.0, "lr_bound_low"},
            {at_low, 1.5, "lr_bound_low"},
            {at_high, 0.5, "lr_bound_high"},
            {at_high, NAN, "lr_bound_high"},
            {at_min, -1.0, "lr_min"},
            {at_min, 2.0, "lr_min"}, /* > lr_max */
            {at_max, 1e-9, "lr_max"}, /* < lr_min */
            {at_max, -INFINITY, "lr_max"}, /* +inf is valid: no ceiling */
            {at_max, NAN, "lr_max"},
            {at_decay, 0.0, "negative_curvature_decay"},
            {at_decay, 1.5, "negative_curvature_decay"},
            {at_direction, 2.0, "direction"},
            {at_direction, 0.5, "direction"},
            {at_direction, NAN, "direction"},
            {at_warmup, 9007199254740994.0, "warmup_steps"}, /* above 2^53 */
            {at_warmup, 2.5, "warmup_steps"},
            {at_warmup, -1.0, "warmup_steps"},
            {at_period, 0.0, "update_period"},
            {at_period, INFINITY, "update_period"},
            {at_eta1, 0.0, "initial_lr"},
            {at_eta1, -0.01, "initial_lr"},
            {at_eta1, NAN, "initial_lr"},
            {at_current1, NAN, "learning rate"},
            {at_current1, INFINITY, "learning rate"},
            {at_current1, -0.5, "learning rate"},
        };
        for (size_t i = 0; i < sizeof bad_doubles / sizeof bad_doubles[0]; i++) {
            memcpy(f.blob, f.snap.bytes, size);
            put_double(f.blob + bad_doubles[i].offset, bad_doubles[i].value);
            reseal(f.blob, size);
            EXPECT_REFUSED(f.target, f.blob, size, HLR_ERR_SNAPSHOT_CORRUPT);
            CHECK_ERROR_HAS(bad_doubles[i].what);
        }
        const struct {
            long offset;
            uint64_t value;
            int width;
        } bad_ints[] = {
            {at_has_last, 2, 1},
            {at_has_last, 0, 1},                          /* updates > 0 but no last step */
            {at_eta1 - 16, 3, 8},                         /* initial_lr count 3 (not 2) */
            {at_eta1 - 16, UINT64_MAX, 8},
            {16, 2 | ((uint64_t)1 << 32), 8},             /* group count field */
        };
        for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
            memcpy(f.blob, f.snap.bytes, size);
            put_le(f.blob + bad_ints[i].offset, bad_ints[i].value, bad_ints[i].width);
            reseal(f.blob, size);
            int expected = bad_ints[i].offset == 16 ? HLR_ERR_SNAPSHOT_MISMATCH : HLR_ERR_SNAPSHOT_CORRUPT;
            if (!CHECK_STATUS(hlr_tuner_restore(f.target, f.blob, size), expected))
                fprintf(stderr, "    crafted integer #%zu (offset %ld = %llu)\n", i, bad_ints[i].offset,
                        (unsigned long long)bad_ints[i].value);
        }
        /* Consistently shortened / lengthened payloads (length field and CRC updated). */
        memcpy(f.blob, f.snap.bytes, size);
        put_le(f.blob + 8, size - 21, 8);
        memmove(f.blob + size - 5, f.blob + size - 4, 4);
        reseal(f.blob, size - 1);
        EXPECT_REFUSED(f.target, f.blob, size - 1, HLR_ERR_SNAPSHOT_CORRUPT);
        memcpy(f.blob, f.snap.bytes, size);
        put_le(f.blob + 8, size - 19, 8);
        f.blob[size - 4] = 0;
        reseal(f.blob, size + 1);
        EXPECT_REFUSED(f.target, f.blob, size + 1, HLR_ERR_SNAPSHOT_CORRUPT);
        CHECK_ERROR_HAS("trailing");

        /* Crafted but valid: accepted, and the value arrives. */
        memcpy(f.blob, f.snap.bytes, size);
        put_double(f.blob + at_smoothing, 0.25);
        put_double(f.blob + at_warmup, 7.0);
        reseal(f.blob, size);
        CHECK_OK(hlr_tuner_restore(f.target, f.blob, size));
        double v = 0;
        CHECK_OK(hlr_tuner_get_param(f.target, HLR_PARAM_SMOOTHING, &v));
        CHECK_EQ_DBL(v, 0.25);
        CHECK_OK(hlr_tuner_get_param(f.target, HLR_PARAM_WARMUP_STEPS, &v));
        CHECK_EQ_DBL(v, 7.0);
        CHECK_OK(hlr_tuner_get_param(f.target, HLR_PARAM_LR_BOUND_HIGH, &v));
        CHECK_EQ_DBL(v, 3.21);
        CHECK_EQ_DBL(hlrt_info(f.target, HLR_INFO_LAST_STEP, 0), 12345.0);
    }
done:
    close_fixture(&f);
}

int main(void) {
    test_layout_and_sizes();
    test_continuation();
    test_truncation_and_bit_flips();
    test_versions_methods_groups();
    test_crafted_payloads();
    return CHECK_SUMMARY();
}
