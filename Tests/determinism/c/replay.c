/*
 * replay.c — the C side of the cross-language determinism check (Tests/determinism/README.md).
 *
 *   replay SCENARIO_FILE
 *
 * Reads a scenario, drives a tuner through libhessianlr.so and writes one trace line per step
 * to standard output: `T wants status HEX(lr_0) ... HEX(lr_{G-1})`. Exits 0 on success; a
 * malformed scenario or a failing create/set/save/restore (or get_lrs) exits 2 with a message on
 * standard error.
 *
 * Scenario grammar (one record per line, single spaces, no blank lines, no comments):
 *   hlr-replay 1
 *   method M
 *   groups G
 *   param KEY HEX               (zero or more, before the first step)
 *   group_param GROUP KEY HEX   (zero or more, before the first step)
 *   save_restore STEP           (zero or more)
 *   step T HEX_0 ... HEX_{2G-1} (T = 0, 1, 2, ... consecutive)
 * HEX is exactly 16 lowercase hex digits: the IEEE-754 bit pattern of a double.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hessianlr.h"

static const char *scenario_path = "";
static size_t line_number = 0;

static _Noreturn void fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "replay: %s:%zu: ", scenario_path, line_number);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(2);
}

static _Noreturn void fail_call(const char *what, int status) {
    fail("%s failed: %s (%d): %s", what, hlr_strerror(status), status, hlr_last_error());
}

/* Splits `line` in place at single spaces; returns the field count (at most `max`). */
static size_t split(char *line, char **fields, size_t max) {
    size_t count = 0;
    char *p = line;
    for (;;) {
        if (count == max) fail("too many fields");
        if (*p == ' ' || *p == '\0') fail("empty field (fields are separated by single spaces)");
        fields[count++] = p;
        char *space = strchr(p, ' ');
        if (space == NULL) break;
        *space = '\0';
        p = space + 1;
    }
    return count;
}

/* A decimal unsigned integer (no sign, no leading '+', no spaces). */
static uint64_t parse_u64(const char *text, const char *what) {
    if (text[0] < '0' || text[0] > '9') fail("%s: '%s' is not a non-negative decimal integer", what, text);
    uint64_t value = 0;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9') fail("%s: '%s' is not a non-negative decimal integer", what, text);
        unsigned digit = (unsigned)(*c - '0');
        if (value > (UINT64_MAX - digit) / 10) fail("%s: '%s' is too large", what, text);
        value = value * 10 + digit;
    }
    return value;
}

/* A decimal int, possibly negative (method ids and keys are ints in the C API). */
static int parse_int(const char *text, const char *what) {
    const char *digits = text[0] == '-' ? text + 1 : text;
    uint64_t magnitude = parse_u64(digits, what);
    if (text[0] == '-') {
        if (magnitude > 2147483648u) fail("%s: '%s' is out of range", what, text);
        return magnitude == 2147483648u ? INT32_MIN : -(int)magnitude;
    }
    if (magnitude > 2147483647u) fail("%s: '%s' is out of range", what, text);
    return (int)magnitude;
}

static double parse_hex_double(const char *text) {
    if (strlen(text) != 16) fail("'%s' is not 16 lowercase hex digits", text);
    uint64_t bits = 0;
    for (int i = 0; i < 16; i++) {
        char c = text[i];
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = (unsigned)(c - 'a' + 10);
        else
            fail("'%s' is not 16 lowercase hex digits", text);
        bits = bits << 4 | digit;
    }
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static uint64_t bits_of(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t capacity = 1 << 16, used = 0;
    char *data = malloc(capacity + 1);
    for (;;) {
        if (data == NULL) {
            fprintf(stderr, "replay: out of memory\n");
            exit(2);
        }
        used += fread(data + used, 1, capacity - used, f);
        if (used < capacity) break;
        capacity *= 2;
        data = realloc(data, capacity + 1);
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    data[used] = '\0';
    *size = used;
    return data;
}

typedef struct {
    char **lines;
    size_t count;
} line_list;

/* Splits the file into lines ('\n'; a final newline is optional). */
static line_list split_lines(char *data, size_t size) {
    line_list list = {NULL, 0};
    size_t capacity = 0;
    char *p = data, *end = data + size;
    if (memchr(data, '\0', size) != NULL) {
        fprintf(stderr, "replay: %s: NUL byte in scenario\n", scenario_path);
        exit(2);
    }
    while (p < end) {
        char *newline = memchr(p, '\n', (size_t)(end - p));
        char *stop = newline ? newline : end;
        *stop = '\0';
        if (list.count == capacity) {
            capacity = capacity ? capacity * 2 : 1024;
            list.lines = realloc(list.lines, capacity * sizeof *list.lines);
            if (list.lines == NULL) {
                fprintf(stderr, "replay: out of memory\n");
                exit(2);
            }
        }
        list.lines[list.count++] = p;
        p = stop + 1;
    }
    return list;
}

static hlr_tuner *create(int method, size_t groups) {
    hlr_tuner *tuner = NULL;
    int status = hlr_tuner_create(method, groups, &tuner);
    if (status != HLR_OK) fail_call("hlr_tuner_create", status);
    return tuner;
}

/* Save, free, create a new handle, restore into it. */
static hlr_tuner *save_restore(hlr_tuner *tuner, int method, size_t groups) {
    size_t size = 0, written = 0;
    int status = hlr_tuner_snapshot_size(tuner, &size);
    if (status != HLR_OK) fail_call("hlr_tuner_snapshot_size", status);
    unsigned char *buffer = malloc(size ? size : 1);
    if (buffer == NULL) fail("out of memory");
    status = hlr_tuner_save(tuner, buffer, size, &written);
    if (status != HLR_OK) fail_call("hlr_tuner_save", status);
    if (written != size) fail("hlr_tuner_save wrote %zu bytes, snapshot size was %zu", written, size);
    status = hlr_tuner_free(tuner);
    if (status != HLR_OK) fail_call("hlr_tuner_free", status);
    hlr_tuner *fresh = create(method, groups);
    status = hlr_tuner_restore(fresh, buffer, written);
    if (status != HLR_OK) fail_call("hlr_tuner_restore", status);
    free(buffer);
    return fresh;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: replay SCENARIO_FILE\n");
        return 2;
    }
    scenario_path = argv[1];
    size_t size = 0;
    char *data = read_file(scenario_path, &size);
    line_list file = split_lines(data, size);

    /* Pass 1: header, and every save_restore step (they may appear anywhere). */
    if (file.count < 3) fail("a scenario needs at least the header, method and groups lines");
    uint64_t *restore_steps = NULL;
    size_t restore_count = 0;
    for (size_t i = 0; i < file.count; i++) {
        if (strncmp(file.lines[i], "save_restore ", 13) == 0) {
            line_number = i + 1;
            uint64_t *grown = realloc(restore_steps, (restore_count + 1) * sizeof *restore_steps);
            if (grown == NULL) fail("out of memory");
            restore_steps = grown;
            restore_steps[restore_count++] = parse_u64(file.lines[i] + 13, "save_restore STEP");
            if (strchr(file.lines[i] + 13, ' ') != NULL) fail("save_restore takes one field");
        }
    }

    char *header[4];
    char **fields = header;
    size_t max_fields = sizeof header / sizeof header[0];
    line_number = 1;
    if (strcmp(file.lines[0], "hlr-replay 1") != 0) fail("the first line must be 'hlr-replay 1'");
    line_number = 2;
    if (split(file.lines[1], fields, max_fields) != 2 || strcmp(fields[0], "method") != 0)
        fail("expected 'method M'");
    int method = parse_int(fields[1], "method");
    line_number = 3;
    if (split(file.lines[2], fields, max_fields) != 2 || strcmp(fields[0], "groups") != 0)
        fail("expected 'groups G'");
    uint64_t groups64 = parse_u64(fields[1], "groups");
    if (groups64 > SIZE_MAX / 32) fail("groups = %s is too large", fields[1]);
    size_t groups = (size_t)groups64;

    hlr_tuner *tuner = create(method, groups); /* the library checks the range */
    max_fields = 2 * groups + 3;               /* step T + 2G values, and one to detect extras */
    fields = malloc(max_fields * sizeof *fields);
    double *values = malloc(2 * groups * sizeof *values);
    double *lrs = malloc(groups * sizeof *lrs);
    if (fields == NULL || values == NULL || lrs == NULL) fail("out of memory");

    int stepping = 0;
    uint64_t next_step = 0;
    for (size_t i = 3; i < file.count; i++) {
        line_number = i + 1;
        char *line = file.lines[i];
        if (line[0] == '\0') fail("blank line");
        size_t n = split(line, fields, max_fields);
        const char *kind = fields[0];
        if (strcmp(kind, "param") == 0) {
            if (stepping) fail("param after the first step");
            if (n != 3) fail("expected 'param KEY HEX'");
            int key = parse_int(fields[1], "param KEY");
            double value = parse_hex_double(fields[2]);
            int status = hlr_tuner_set_param(tuner, key, value);
            if (status != HLR_OK) fail_call("hlr_tuner_set_param", status);
        } else if (strcmp(kind, "group_param") == 0) {
            if (stepping) fail("group_param after the first step");
            if (n != 4) fail("expected 'group_param GROUP KEY HEX'");
            uint64_t group = parse_u64(fields[1], "group_param GROUP");
            int key = parse_int(fields[2], "group_param KEY");
            double value = parse_hex_double(fields[3]);
            int status = hlr_tuner_set_group_param(tuner, (size_t)group, key, value);
            if (status != HLR_OK) fail_call("hlr_tuner_set_group_param", status);
        } else if (strcmp(kind, "save_restore") == 0) {
            if (n != 2) fail("expected 'save_restore STEP'"); /* parsed in pass 1 */
        } else if (strcmp(kind, "step") == 0) {
            stepping = 1;
            if (n != 2 + 2 * groups)
                fail("expected 'step T' and %zu values (2 per group), got %zu fields", 2 * groups, n);
            uint64_t step = parse_u64(fields[1], "step T");
            if (step != next_step)
                fail("steps must be consecutive from 0: expected %" PRIu64 ", got %" PRIu64, next_step, step);
            next_step = step + 1;
            for (size_t k = 0; k < 2 * groups; k++) values[k] = parse_hex_double(fields[2 + k]);

            int wants = 0, status = 0;
            int call = hlr_tuner_wants_curvature(tuner, step, &wants);
            if (call != HLR_OK) fail_call("hlr_tuner_wants_curvature", call);
            if (wants) status = hlr_tuner_observe_curvature(tuner, step, values, 2 * groups);
            call = hlr_tuner_get_lrs(tuner, step, lrs, groups);
            if (call != HLR_OK) fail_call("hlr_tuner_get_lrs", call);
            printf("%" PRIu64 " %d %d", step, wants ? 1 : 0, status);
            for (size_t k = 0; k < groups; k++) printf(" %016" PRIx64, bits_of(lrs[k]));
            putchar('\n');

            for (size_t r = 0; r < restore_count; r++) {
                if (restore_steps[r] == step) {
                    tuner = save_restore(tuner, method, groups);
                    break;
                }
            }
        } else if (strcmp(kind, "hlr-replay") == 0 || strcmp(kind, "method") == 0 ||
                   strcmp(kind, "groups") == 0) {
            fail("'%s' may appear only once, at the top", kind);
        } else {
            fail("unknown record '%s'", kind);
        }
    }

    int status = hlr_tuner_free(tuner);
    if (status != HLR_OK) fail_call("hlr_tuner_free", status);
    free(values);
    free(lrs);
    free(fields);
    free(restore_steps);
    free(file.lines);
    free(data);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "replay: cannot write the trace\n");
        return 2;
    }
    return 0;
}
