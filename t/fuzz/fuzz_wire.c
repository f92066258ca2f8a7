/*
 * fuzz_wire.c: libFuzzer target for the module -> daemon wake-up line
 * (cc_wire.h). Oracles:
 * - decode of arbitrary bytes: an accepted line is exactly the encoding
 *   of the id it yields (with or without the newline), so the daemon
 *   reads one spelling per id and nothing else (no leading zeros, signs,
 *   spaces or other versions slip through);
 * - encode then decode is the identity for every id 1..2^63-1, the
 *   encoder refuses ids <= 0, and a buffer one byte short is refused
 *   rather than truncated into a line that decodes to another id.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     src/core/cc_wire.c t/fuzz/fuzz_wire.c -o /tmp/fuzz_wire
 */
#include "cc_wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decoded(const uint8_t *data, size_t size, long long id)
{
    char line[CC_WIRE_MAX_LINE + 2];
    int n;

    if (id <= 0) {
        abort();
    }
    n = cc_wire_wake_encode(line, sizeof(line), id);
    if (n <= 0) {
        abort();
    }
    /* The input is the encoding, or the encoding minus its newline. */
    if (!((size_t)n == size && memcmp(line, data, size) == 0)
        && !((size_t)n == size + 1 && memcmp(line, data, size) == 0)) {
        abort();
    }
}

static void check_round_trip(long long id)
{
    char line[CC_WIRE_MAX_LINE + 2], small[CC_WIRE_MAX_LINE + 2];
    long long back = 0;
    int n;

    n = cc_wire_wake_encode(line, sizeof(line), id);
    if (id <= 0) {
        if (n != -1) {
            abort();
        }
        return;
    }
    if (n <= 0 || (size_t)n != strlen(line) || line[n - 1] != '\n') {
        abort();
    }
    if (cc_wire_wake_decode(line, (size_t)n, &back) != 0 || back != id) {
        abort();
    }
    back = 0;
    if (cc_wire_wake_decode(line, (size_t)n - 1, &back) != 0 || back != id) {
        abort();
    }
    /* n + 1 bytes (line and NUL) fit; n do not. */
    if (cc_wire_wake_encode(small, (size_t)n, id) != -1
        || cc_wire_wake_encode(small, (size_t)n + 1, id) != n) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long long id = 0;
    uint64_t raw = 0;
    char *copy;

    /* An exact-size copy, so ASan sees any read past len. */
    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    if (cc_wire_wake_decode(copy, size, &id) == 0) {
        check_decoded(data, size, id);
    }
    free(copy);

    memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
    check_round_trip((long long)raw);
    check_round_trip((long long)(raw >> 1));   /* always >= 0 */
    check_round_trip((long long)(raw & 0xffff)); /* small ids too */
    return 0;
}
