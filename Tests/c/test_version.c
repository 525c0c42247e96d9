/* Version macros, hlr_version_*, hlr_strerror and the initial hlr_last_error. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

int main(void) {
    /* Before any failing call on this thread the last error is "" (never NULL). */
    CHECK(hlr_last_error() != NULL);
    CHECK(strcmp(hlr_last_error(), "") == 0);

    /* Macros agree with each other and with the loaded library. */
    CHECK_EQ_INT(HLR_VERSION_NUMBER,
                 HLR_VERSION_MAJOR * 10000 + HLR_VERSION_MINOR * 100 + HLR_VERSION_PATCH);
    CHECK_EQ_INT(hlr_version_number(), HLR_VERSION_NUMBER);
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", HLR_VERSION_MAJOR, HLR_VERSION_MINOR,
             HLR_VERSION_PATCH);
    CHECK(strcmp(HLR_VERSION_STRING, expected) == 0);
    const char *version = hlr_version_string();
    CHECK(version != NULL);
    if (version != NULL) {
        CHECK(strcmp(version, HLR_VERSION_STRING) == 0);
        CHECK(hlr_version_string() == version); /* static storage: the same pointer each time */
    }
    /* What a binding checks at load: same major, minor at least the header's. */
    CHECK_EQ_INT(hlr_version_number() / 10000, HLR_VERSION_MAJOR);
    CHECK(hlr_version_number() % 10000 / 100 >= HLR_VERSION_MINOR);

    /* Every status code has its own non-empty description. */
    const int codes[] = {HLR_OK,
                         HLR_ERR_NULL_POINTER,
                         HLR_ERR_INVALID_HANDLE,
                         HLR_ERR_INVALID_ARGUMENT,
                         HLR_ERR_UNKNOWN_METHOD,
                         HLR_ERR_UNKNOWN_KEY,
                         HLR_ERR_NONFINITE,
                         HLR_ERR_CALLBACK,
                         HLR_ERR_WRONG_STATE,
                         HLR_ERR_BUFFER_TOO_SMALL,
                         HLR_ERR_SNAPSHOT_CORRUPT,
                         HLR_ERR_SNAPSHOT_VERSION,
                         HLR_ERR_SNAPSHOT_MISMATCH};
    const size_t count = sizeof codes / sizeof codes[0];
    CHECK_EQ_INT(count, 13);
    for (size_t i = 0; i < count; i++) {
        CHECK_EQ_INT(codes[i], (int)i); /* the codes are 0..12 */
        const char *text = hlr_strerror(codes[i]);
        CHECK(text != NULL);
        if (text == NULL) continue;
        CHECK(strlen(text) > 0);
        CHECK(strcmp(text, "unknown status code") != 0);
        CHECK(hlr_strerror(codes[i]) == text); /* static */
        for (size_t j = 0; j < i; j++) {
            const char *other = hlr_strerror(codes[j]);
            if (other != NULL && strcmp(text, other) == 0) {
                CHECK(!"two status codes share a description");
                fprintf(stderr, "    codes %zu and %zu: \"%s\"\n", i, j, text);
            }
        }
    }
    const int unknown[] = {-1, 13, 14, 99, 1000, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *text = hlr_strerror(unknown[i]);
        CHECK(text != NULL);
        if (text != NULL) CHECK(strcmp(text, "unknown status code") == 0);
    }

    /* hlr_strerror and the version functions do not touch the last error. */
    CHECK(strcmp(hlr_last_error(), "") == 0);

    return CHECK_SUMMARY();
}
