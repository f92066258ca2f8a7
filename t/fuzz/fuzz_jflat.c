/*
 * fuzz_jflat.c: libFuzzer target for the strict flat-object reader.
 * Oracles:
 * - json-c in strict mode (json_tokener, JSON_TOKENER_STRICT) agrees on
 *   OK versus MALFORMED, except where json-c is known to differ from RFC
 *   8259, which are excluded rather than copied:
 *   - inputs with a NUL byte: json-c stops at it;
 *   - inputs with a raw control character (0x00-0x1F) inside a string,
 *     which json-c takes as it is;
 *   - inputs with a bare token (outside strings) that is neither true,
 *     false, null nor an RFC 8259 number: json-c's strict mode still
 *     takes "1.", "1.e5", "00", "-01", "01.5", NaN, Infinity and
 *     -Infinity (it hands numbers to strtod);
 *   - inputs nested deeper than our cap (json-c's own cap is set higher
 *     so it never decides);
 *   the first three must be MALFORMED for us, which is checked instead
 *   (json-c 0.18 rejects control characters in strict mode, issue #867;
 *   later versions check the number grammar);
 * - when both accept and no key repeats, each member matches json-c's
 *   value: STRING bytes equal json-c's string, NULL is null, OTHER is a
 *   non-string, BAD_UTF8 is a string (json-c decodes it anyway). json-c
 *   before PR #893 (2025) turns a pair decoding to a code point whose
 *   low 16 bits look like a surrogate (U+1D800, U+2DC00, ...) into
 *   U+FFFD, so values holding one are not compared;
 * - every STRING value and every key not flagged bad is valid UTF-8
 *   without U+0000, and the members come only on CC_JFLAT_OK.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     -I/usr/include/json-c src/core/cc_jflat.c src/core/cc_rules.c \
 *     t/fuzz/fuzz_jflat.c -ljson-c -o /tmp/fuzz_jflat
 */
#include "cc_jflat.h"
#include "cc_rules.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MEMBERS 256

typedef struct {
    char *key;
    size_t key_len;
    int kind;
    char *val;
    size_t val_len;
} member_t;

typedef struct {
    member_t m[MAX_MEMBERS];
    size_t n;
    int overflow;
} members_t;

static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (n) {
        memcpy(d, s, n);
    }
    d[n] = '\0';
    return d;
}

static void on_member(void *ctx, const char *key, size_t key_len, int kind,
                      const char *val, size_t val_len)
{
    members_t *ms = ctx;
    member_t *m;

    if (CC_JFLAT_KIND(kind) == CC_JFLAT_STRING
        && !cc_rules_utf8_valid(val, val_len, 0, NULL)) {
        abort();
    }
    if (!(kind & CC_JFLAT_KEY_BAD)
        && !cc_rules_utf8_valid(key, key_len, 0, NULL)) {
        abort();
    }
    if (ms->n == MAX_MEMBERS) {
        ms->overflow = 1;
        return;
    }
    m = &ms->m[ms->n++];
    m->key = dup_bytes(key, key_len);
    m->key_len = key_len;
    m->kind = kind;
    m->val = val ? dup_bytes(val, val_len) : NULL;
    m->val_len = val_len;
}

/* Deepest nesting of brackets outside strings, ignoring validity. */
static int max_depth(const uint8_t *d, size_t n)
{
    int depth = 0, max = 0, in_str = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (in_str) {
            if (d[i] == '\\') {
                i++;
            } else if (d[i] == '"') {
                in_str = 0;
            }
        } else if (d[i] == '"') {
            in_str = 1;
        } else if (d[i] == '{' || d[i] == '[') {
            max = ++depth > max ? depth : max;
        } else if (d[i] == '}' || d[i] == ']') {
            depth--;
        }
    }
    return max;
}

/* number = [ "-" ] int [ frac ] [ exp ] (RFC 8259 section 6), written
 * apart from cc_jflat.c's. */
static int rfc_number(const uint8_t *t, size_t n)
{
    size_t i = 0, d;

    i += i < n && t[i] == '-';
    if (i < n && t[i] == '0') {
        i++;
    } else {
        for (d = i; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    if (i < n && t[i] == '.') {
        for (d = ++i; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        i += i < n && (t[i] == '+' || t[i] == '-');
        for (d = i; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
        }
        if (i == d) {
            return 0;
        }
    }
    return i == n;
}

static int bare_ok(const uint8_t *t, size_t n)
{
    return (n == 4 && memcmp(t, "true", 4) == 0)
           || (n == 5 && memcmp(t, "false", 5) == 0)
           || (n == 4 && memcmp(t, "null", 4) == 0) || rfc_number(t, n);
}

/* 1 when the input holds something RFC 8259 refuses and json-c's strict
 * mode is known to take: a NUL byte, a raw control character inside a
 * string, or a run of bytes outside strings that is not structure or
 * whitespace and not a literal or an RFC number. */
static int jsonc_lenient(const uint8_t *d, size_t n)
{
    static const char sep[] = "{}[],:\" \t\r\n";
    size_t i = 0, start;

    if (memchr(d, 0, n)) {
        return 1;
    }
    while (i < n) {
        if (d[i] == '"') {
            for (i++; i < n && d[i] != '"'; i++) {
                if (d[i] < 0x20) {
                    return 1;
                }
                i += d[i] == '\\';
            }
            i++;
        } else if (d[i] && strchr(sep, d[i])) {
            i++;
        } else {
            start = i;
            while (i < n && d[i] != '"' && !(d[i] && strchr(sep, d[i]))) {
                i++;
            }
            if (!bare_ok(d + start, i - start)) {
                return 1;
            }
        }
    }
    return 0;
}

/* json-c's reading of the whole input: the object, or NULL. */
static json_object *jsonc_parse(const uint8_t *d, size_t n)
{
    json_tokener *tok = json_tokener_new_ex(CC_JFLAT_MAX_DEPTH * 4);
    json_object *o;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, (const char *)d, (int)n);
    if (o && (json_tokener_get_error(tok) != json_tokener_success
              || json_tokener_get_parse_end(tok) != n)) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* Unique as json-c sees keys: C strings, cut at a NUL from \u0000. */
static int keys_unique(const members_t *ms)
{
    size_t i, j;

    for (i = 0; i < ms->n; i++) {
        for (j = i + 1; j < ms->n; j++) {
            if (strcmp(ms->m[i].key, ms->m[j].key) == 0) {
                return 0;
            }
        }
    }
    return 1;
}

/* 1 when valid UTF-8 s holds a code point json-c 0.16 mis-decodes from
 * a surrogate pair: (cp & 0xF800) == 0xD800 above U+FFFF. */
static int jsonc_pair_bug(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned long cp;
    size_t i;

    for (i = 0; i + 3 < n; i++) {
        if (u[i] >= 0xf0) {
            cp = ((unsigned long)(u[i] & 0x07) << 18)
                 | ((unsigned long)(u[i + 1] & 0x3f) << 12)
                 | ((unsigned long)(u[i + 2] & 0x3f) << 6) | (u[i + 3] & 0x3f);
            if ((cp & 0xf800) == 0xd800) {
                return 1;
            }
        }
    }
    return 0;
}

static void compare_member(json_object *obj, const member_t *m)
{
    json_object *v;

    /* json-c keys are C strings: a key with a NUL cannot be looked up. */
    if (memchr(m->key, 0, m->key_len) || !json_object_object_get_ex(obj,
                                                                   m->key,
                                                                   &v)) {
        return;
    }
    switch (CC_JFLAT_KIND(m->kind)) {
    case CC_JFLAT_STRING:
        if (!json_object_is_type(v, json_type_string)) {
            abort();
        }
        if (((size_t)json_object_get_string_len(v) != m->val_len
             || memcmp(json_object_get_string(v), m->val, m->val_len) != 0)
            && !jsonc_pair_bug(m->val, m->val_len)) {
            abort();
        }
        break;
    case CC_JFLAT_NULL:
        if (v != NULL) {
            abort();
        }
        break;
    case CC_JFLAT_OTHER:
        if (v == NULL || json_object_is_type(v, json_type_string)) {
            abort();
        }
        break;
    case CC_JFLAT_BAD_UTF8:
        if (!json_object_is_type(v, json_type_string)) {
            abort();
        }
        break;
    default:
        abort();
    }
}

static void free_members(members_t *ms)
{
    size_t i;

    for (i = 0; i < ms->n; i++) {
        free(ms->m[i].key);
        free(ms->m[i].val);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static members_t ms;
    char *scratch = malloc(size ? size : 1);
    json_object *obj;
    size_t i;
    int rc;

    ms.n = 0;
    ms.overflow = 0;
    rc = cc_jflat_parse((const char *)data, size, on_member, &ms, scratch,
                        size);
    if (rc != CC_JFLAT_OK && (rc != CC_JFLAT_MALFORMED || ms.n != 0)) {
        abort();
    }
    if (jsonc_lenient(data, size)) {
        if (rc != CC_JFLAT_MALFORMED) {
            abort();
        }
    } else if (max_depth(data, size) <= CC_JFLAT_MAX_DEPTH) {
        obj = jsonc_parse(data, size);
        if ((obj && json_object_is_type(obj, json_type_object))
            != (rc == CC_JFLAT_OK)) {
            abort();
        }
        if (obj && rc == CC_JFLAT_OK && !ms.overflow && keys_unique(&ms)) {
            for (i = 0; i < ms.n; i++) {
                compare_member(obj, &ms.m[i]);
            }
        }
        json_object_put(obj);
    }
    free_members(&ms);
    free(scratch);
    return 0;
}
