/*
 * fuzz_rules.c: libFuzzer target for the field rules. The input is split
 * on NUL bytes into the fourteen text fields (the last one may be cut), so
 * every rule sees arbitrary bytes, invalid UTF-8 and odd lengths. Oracle:
 * every reported field is a known name with a non-empty message, at most
 * one error per field, in table order.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     src/core/cc_rules.c t/fuzz/fuzz_rules.c -o /tmp/fuzz_rules
 */
#include "cc_rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int last;
    int count;
} seen_t;

static void on_error(void *ctx, const char *field, const char *message)
{
    seen_t *s = ctx;
    int i = cc_rules_field_lookup(field, strlen(field));

    if (i < 0 || i <= s->last || !message || !*message) {
        abort();
    }
    s->last = i;
    s->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_value_t v[CC_F__COUNT];
    size_t off = 0, end;
    seen_t s = { -1, 0 };
    int i, n, y, m, d;

    memset(v, 0, sizeof(v));
    for (i = 0; i < CC_F__COUNT && off <= size; i++) {
        end = off;
        while (end < size && data[end] != 0) {
            end++;
        }
        v[i].value = (const char *)data + off;
        v[i].len = end - off;
        if (v[i].len > CC_FIELD_MAX_BYTES) {
            v[i].len = CC_FIELD_MAX_BYTES;
            v[i].truncated = 1;
        }
        v[i].present = 1;
        off = end + 1;
    }
    n = cc_rules_validate(v, 2026, 11, 26, on_error, &s);
    if (n != s.count || n > CC_F__COUNT) {
        abort();
    }
    if (cc_rules_parse_date(v[CC_F_DATE_OF_BIRTH].value,
                            v[CC_F_DATE_OF_BIRTH].len, &y, &m, &d)
        && (m < 1 || m > 12 || d < 1 || d > 31)) {
        abort();
    }
    cc_rules_parse_enroll(v[0].value, v[0].len);
    return 0;
}
