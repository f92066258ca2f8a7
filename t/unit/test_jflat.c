/*
 * test_jflat.c: unit tests of cc_jflat_parse: RFC 8259's examples and
 * grammar corners, escapes and surrogates, bad UTF-8, numbers, nesting and
 * depth, what is malformed, and that a malformed body reports no member.
 *
 * Each case renders the members it got as "key|kind:value;" with bytes
 * outside 0x21-0x7e as \xNN, kinds S(tring) N(ull) O(ther) B(ad UTF-8),
 * and "!" after the key when it was bad; NULL means CC_JFLAT_MALFORMED.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc_jflat.h"

typedef struct {
    char out[4096];
    size_t n;
    int calls;
} render_t;

static void put_bytes(render_t *r, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len && r->n + 5 < sizeof(r->out); i++) {
        unsigned char c = (unsigned char)s[i];

        if (c > 0x20 && c < 0x7f) {
            r->out[r->n++] = (char)c;
        } else {
            r->n += (size_t)snprintf(r->out + r->n, 5, "\\x%02x", c);
        }
    }
    r->out[r->n] = '\0';
}

static void on_member(void *ctx, const char *key, size_t key_len, int kind,
                      const char *val, size_t val_len)
{
    static const char kinds[] = "SNOB";
    render_t *r = ctx;
    char tag[4];

    r->calls++;
    put_bytes(r, key, key_len);
    tag[0] = (kind & CC_JFLAT_KEY_BAD) ? '!' : '|';
    tag[1] = (kind & CC_JFLAT_KEY_BAD) ? '|' : kinds[CC_JFLAT_KIND(kind)];
    tag[2] = (kind & CC_JFLAT_KEY_BAD) ? kinds[CC_JFLAT_KIND(kind)] : '\0';
    tag[3] = '\0';
    put_bytes(r, tag, strlen(tag));
    if (CC_JFLAT_KIND(kind) == CC_JFLAT_STRING) {
        assert_non_null(val);
        put_bytes(r, ":", 1);
        put_bytes(r, val, val_len);
    } else {
        assert_null(val);
    }
    put_bytes(r, ";", 1);
}

typedef struct {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *want;
} case_t;

#define L(s) s, sizeof(s) - 1
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Parses a copy of exactly len bytes, so a read past the end is caught
 * by the sanitizers, and compares the rendering. */
static void check(const case_t *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        size_t len = c[i].len ? c[i].len : strlen(c[i].in);
        char *buf = malloc(len ? len : 1), *scratch = malloc(len ? len : 1);
        render_t r;
        int rc;

        memcpy(buf, c[i].in, len);
        memset(&r, 0, sizeof(r));
        rc = cc_jflat_parse(buf, len, on_member, &r, scratch, len);
        if (!c[i].want) {
            if (rc != CC_JFLAT_MALFORMED || r.calls != 0) {
                fail_msg("case %zu [%s]: rc %d, got \"%s\", want malformed",
                         i, c[i].in, rc, r.out);
            }
        } else if (rc != CC_JFLAT_OK || strcmp(r.out, c[i].want) != 0) {
            fail_msg("case %zu [%s]: rc %d, got \"%s\", want \"%s\"", i,
                     c[i].in, rc, r.out, c[i].want);
        }
        /* Checking only gives the same verdict. */
        assert_int_equal(cc_jflat_parse(buf, len, NULL, NULL, NULL, 0),
                         c[i].want ? CC_JFLAT_OK : CC_JFLAT_MALFORMED);
        free(buf);
        free(scratch);
    }
}

/* RFC 8259 section 13 and the small texts of section 2. */
static const case_t rfc_cases[] = {
    { "{\n  \"Image\": {\n    \"Width\":  800,\n    \"Height\": 600,\n"
      "    \"Title\":  \"View from 15th Floor\",\n    \"Thumbnail\": {\n"
      "      \"Url\":    \"http://www.example.com/image/481989943\",\n"
      "      \"Height\": 125,\n      \"Width\":  100\n    },\n"
      "    \"Animated\" : false,\n    \"IDs\": [116, 943, 234, 38793]\n"
      "  }\n}\n", 0, "Image|O;" },
    { "[\n  {\n    \"precision\": \"zip\",\n    \"Latitude\":  37.7668,\n"
      "    \"Longitude\": -122.3959,\n    \"Address\":   \"\",\n"
      "    \"City\":      \"SAN FRANCISCO\",\n    \"State\":     \"CA\",\n"
      "    \"Zip\":       \"94107\",\n    \"Country\":   \"US\"\n  }\n]",
      0, NULL },
    { "{\"precision\": \"zip\", \"Latitude\": 37.7668, \"Longitude\": "
      "-122.3959, \"Address\": \"\", \"City\": \"SAN FRANCISCO\"}", 0,
      "precision|S:zip;Latitude|O;Longitude|O;Address|S:;"
      "City|S:SAN\\x20FRANCISCO;" },
    { "\"Hello world!\"", 0, NULL },
    { "42", 0, NULL },
    { "true", 0, NULL },
    { "null", 0, NULL },
    { "{}", 0, "" },
    { " \t\r\n{ \t\r\n} \t\r\n", 0, "" },
    { "{\"a\" : \"b\" , \"c\" :null}", 0, "a|S:b;c|N;" },
    { "{\"b\":\"1\",\"a\":null}", 0, "b|S:1;a|N;" },
    { "{\"a\":\"1\",\"a\":\"2\"}", 0, "a|S:1;a|S:2;" },
    { "{\"\":\"\"}", 0, "|S:;" },
    { "{\"client_id\":\"cli_1\",\"client_key\":\"k\"}", 0,
      "client_id|S:cli_1;client_key|S:k;" }
};

static void rfc_examples(void **state)
{
    (void)state;
    check(rfc_cases, COUNT(rfc_cases));
}

static const case_t escape_cases[] = {
    { "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", 0,
      "a|S:\"\\/\\x08\\x0c\\x0a\\x0d\\x09;" },
    { "{\"a\":\"\\u0041\\u00e9\\u20AC\"}", 0,
      "a|S:A\\xc3\\xa9\\xe2\\x82\\xac;" },
    { "{\"a\":\"\\ud83d\\ude00\"}", 0, "a|S:\\xf0\\x9f\\x98\\x80;" },
    { "{\"a\":\"\\uD83D\\uDE00x\"}", 0, "a|S:\\xf0\\x9f\\x98\\x80x;" },
    { "{\"a\":\"\\udbff\\udfff\"}", 0, "a|S:\\xf4\\x8f\\xbf\\xbf;" },
    { "{\"a\":\"\\uffff\\u007f\"}", 0, "a|S:\\xef\\xbf\\xbf\\x7f;" },
    { "{\"a\":\"\\ud800\"}", 0, "a|B;" },
    { "{\"a\":\"\\ud800x\"}", 0, "a|B;" },
    { "{\"a\":\"\\ud800\\n\"}", 0, "a|B;" },
    { "{\"a\":\"\\udc00\"}", 0, "a|B;" },
    { "{\"a\":\"\\udc00\\ud800\"}", 0, "a|B;" },
    { "{\"a\":\"\\ud800\\ud800\\udc00\"}", 0, "a|B;" },
    { "{\"a\":\"\\ud800\\u0041\"}", 0, "a|B;" },
    { "{\"a\":\"\\u0000\"}", 0, "a|B;" },
    { "{\"a\":\"x\\u0000y\"}", 0, "a|B;" },
    { "{\"\\u0061\":\"1\"}", 0, "a|S:1;" },
    { "{\"\\ud800\":\"x\"}", 0, "\\xef\\xbf\\xbd!|S:x;" },
    { "{\"a\\u0000b\":\"x\"}", 0, "a\\x00b!|S:x;" },
    { "{\"\xff\":\"x\"}", 0, "\\xff!|S:x;" },
    { "{\"\xff\":\"\xff\"}", 0, "\\xff!|B;" },
    { "{\"\xff\":1}", 0, "\\xff!|O;" },
    /* Not escapes of RFC 8259. */
    { "{\"a\":\"\\x41\"}", 0, NULL },
    { "{\"a\":\"\\'\"}", 0, NULL },
    { "{\"a\":\"\\U0041\"}", 0, NULL },
    { "{\"a\":\"\\u004\"}", 0, NULL },
    { "{\"a\":\"\\u12g4\"}", 0, NULL },
    { "{\"a\":\"\\ud800\\u12\"}", 0, NULL },
    { "{\"a\":\"\\ud800\\\"}", 0, NULL },
    { "{\"a\":\"\\\"}", 0, NULL },
    { "{\"a\":\"\\", 0, NULL },
    { L("{\"a\":\"\\\0\"}"), NULL },
    { "{\"a\":\"\\ \"}", 0, NULL }
};

static void escapes(void **state)
{
    (void)state;
    check(escape_cases, COUNT(escape_cases));
}

static const case_t utf8_cases[] = {
    { "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", 0,
      "a|S:\\xc3\\xa9\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80;" },
    { "{\"a\":\"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\x7f\"}", 0,
      "a|S:\\xed\\x9f\\xbf\\xee\\x80\\x80\\xf4\\x8f\\xbf\\xbf\\x7f;" },
    { "{\"a\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xf0\x90\x80\x80\"}", 0,
      "a|S:\\xc2\\x80\\xdf\\xbf\\xe0\\xa0\\x80\\xf0\\x90\\x80\\x80;" },
    { "{\"a\":\"\xc0\xaf\"}", 0, "a|B;" },         /* overlong "/" */
    { "{\"a\":\"\xc1\xbf\"}", 0, "a|B;" },
    { "{\"a\":\"\xe0\x80\xaf\"}", 0, "a|B;" },
    { "{\"a\":\"\xe0\x9f\xbf\"}", 0, "a|B;" },
    { "{\"a\":\"\xf0\x80\x80\xaf\"}", 0, "a|B;" },
    { "{\"a\":\"\xf0\x8f\xbf\xbf\"}", 0, "a|B;" },
    { "{\"a\":\"\xed\xa0\x80\"}", 0, "a|B;" },     /* U+D800 */
    { "{\"a\":\"\xed\xbf\xbf\"}", 0, "a|B;" },     /* U+DFFF */
    { "{\"a\":\"\xed\xa0\xbd\xed\xb8\x80\"}", 0, "a|B;" }, /* CESU-8 */
    { "{\"a\":\"\xf4\x90\x80\x80\"}", 0, "a|B;" }, /* U+110000 */
    { "{\"a\":\"\xf5\x80\x80\x80\"}", 0, "a|B;" },
    { "{\"a\":\"\xf8\x88\x80\x80\x80\"}", 0, "a|B;" },
    { "{\"a\":\"\xe2\x82\"}", 0, "a|B;" },         /* cut short */
    { "{\"a\":\"\xc3\"}", 0, "a|B;" },
    { "{\"a\":\"\xf0\x9f\x98\"}", 0, "a|B;" },
    { "{\"a\":\"\x80\"}", 0, "a|B;" },
    { "{\"a\":\"\xbf\xbf\"}", 0, "a|B;" },
    { "{\"a\":\"\xfe\xff\"}", 0, "a|B;" },
    { "{\"a\":\"\xc3\\u0041\"}", 0, "a|B;" },
    { "{\"a\":\"\xc3\",\"b\":\"ok\"}", 0, "a|B;b|S:ok;" },
    /* Raw controls are syntax errors; DEL is not a control in JSON. */
    { "{\"a\":\"x\x01\"}", 0, NULL },
    { "{\"a\":\"x\x1f\"}", 0, NULL },
    { "{\"a\":\"\t\"}", 0, NULL },
    { "{\"a\":\"\n\"}", 0, NULL },
    { L("{\"a\":\"x\0\"}"), NULL },
    { L("{\"a\":\"x\"}\0"), NULL },
    { L("\0{}"), NULL },
    { "{\"a\x01\":\"x\"}", 0, NULL },
    /* Bad bytes outside strings. */
    { "{\"a\":\xc3\xa9}", 0, NULL },
    { "\xef\xbb\xbf{}", 0, NULL }, /* BOM */
    { "{\xc2\xa0}", 0, NULL }      /* NBSP is not whitespace */
};

static void utf8(void **state)
{
    (void)state;
    check(utf8_cases, COUNT(utf8_cases));
}

static const case_t value_cases[] = {
    { "{\"a\":0,\"b\":-0,\"c\":1e5,\"d\":1E+5,\"e\":1e-5,\"f\":-1.5e10,"
      "\"g\":0.5,\"h\":123,\"i\":-0.0e0}", 0,
      "a|O;b|O;c|O;d|O;e|O;f|O;g|O;h|O;i|O;" },
    { "{\"a\":true,\"b\":false,\"c\":null}", 0, "a|O;b|O;c|N;" },
    { "{\"a\":{\"b\":\"c\"},\"d\":[1,\"x\",null,{}],\"e\":[],\"f\":{}}",
      0, "a|O;d|O;e|O;f|O;" },
    { "{\"a\":[[[]]],\"b\":{\"c\":{\"d\":[{\"e\":\"\\ud800\"}]}}}", 0,
      "a|O;b|O;" },
    { "{\"a\":[\"\xff\"]}", 0, "a|O;" },
    { "{\"a\":01}", 0, NULL },
    { "{\"a\":-01}", 0, NULL },
    { "{\"a\":00}", 0, NULL },
    { "{\"a\":1.}", 0, NULL },
    { "{\"a\":1.e5}", 0, NULL },
    { "{\"a\":.5}", 0, NULL },
    { "{\"a\":-}", 0, NULL },
    { "{\"a\":+1}", 0, NULL },
    { "{\"a\":--1}", 0, NULL },
    { "{\"a\":1e}", 0, NULL },
    { "{\"a\":1e+}", 0, NULL },
    { "{\"a\":1e5.0}", 0, NULL },
    { "{\"a\":0x10}", 0, NULL },
    { "{\"a\":Infinity}", 0, NULL },
    { "{\"a\":-Infinity}", 0, NULL },
    { "{\"a\":NaN}", 0, NULL },
    { "{\"a\":1 2}", 0, NULL },
    { "{\"a\":tru}", 0, NULL },
    { "{\"a\":True}", 0, NULL },
    { "{\"a\":nul}", 0, NULL },
    { "{\"a\":NULL}", 0, NULL },
    { "{\"a\":nulll}", 0, NULL },
    { "{\"a\":truefalse}", 0, NULL },
    { "{\"a\":[1,]}", 0, NULL },
    { "{\"a\":[,1]}", 0, NULL },
    { "{\"a\":[1 2]}", 0, NULL },
    { "{\"a\":{\"b\"}}", 0, NULL },
    { "{\"a\":{1:2}}", 0, NULL },
    { "{\"a\":[}", 0, NULL },
    { "{\"a\":{]}", 0, NULL },
    { "{\"a\":'b'}", 0, NULL }
};

static void values(void **state)
{
    (void)state;
    check(value_cases, COUNT(value_cases));
}

static const case_t malformed_cases[] = {
    { "", 0, NULL },
    { " \t\r\n", 0, NULL },
    { "[]", 0, NULL },
    { "[{\"a\":\"b\"}]", 0, NULL },
    { "\"a\"", 0, NULL },
    { "1", 0, NULL },
    { "{", 0, NULL },
    { "}", 0, NULL },
    { "{\"a\":\"b\"", 0, NULL },
    { "{\"a\":\"b\"}x", 0, NULL },
    { "{\"a\":\"b\"}{}", 0, NULL },
    { "{\"a\":\"b\"},", 0, NULL },
    { "{}}", 0, NULL },
    { "{\"a\":\"b\",}", 0, NULL },
    { "{,}", 0, NULL },
    { "{,\"a\":\"b\"}", 0, NULL },
    { "{\"a\":\"b\",,\"c\":\"d\"}", 0, NULL },
    { "{\"a\"}", 0, NULL },
    { "{\"a\":}", 0, NULL },
    { "{\"a\" \"b\"}", 0, NULL },
    { "{\"a\"::\"b\"}", 0, NULL },
    { "{\"a\":\"b\" \"c\":\"d\"}", 0, NULL },
    { "{\"a\":\"b\";\"c\":\"d\"}", 0, NULL },
    { "{a:\"b\"}", 0, NULL },
    { "{'a':\"b\"}", 0, NULL },
    { "{1:\"b\"}", 0, NULL },
    { "{null:\"b\"}", 0, NULL },
    { "/*x*/{}", 0, NULL },
    { "{}//x", 0, NULL },
    { "{\"a\":\"b\"/*x*/}", 0, NULL },
    { "\v{}", 0, NULL },
    { "{}\f", 0, NULL },
    { "{\"a\":\"b\",\"c\":}", 0, NULL },
    { "{\"a\":\"b\",\"c\":\"d\"", 0, NULL },
    { "{\"a\":\"b", 0, NULL }
};

static void malformed(void **state)
{
    (void)state;
    check(malformed_cases, COUNT(malformed_cases));
}

/* {"a": + n - 1 brackets: n levels in all. */
static char *nested(int n, size_t *len)
{
    char *s = malloc((size_t)n * 2 + 8);
    size_t k = 0;
    int i;

    k += (size_t)sprintf(s, "{\"a\":");
    for (i = 1; i < n; i++) {
        s[k++] = '[';
    }
    for (i = 1; i < n; i++) {
        s[k++] = ']';
    }
    s[k++] = '}';
    *len = k;
    return s;
}

static void depth(void **state)
{
    size_t len;
    char *s, *scratch = malloc(256);
    render_t r;

    (void)state;
    memset(&r, 0, sizeof(r));
    s = nested(CC_JFLAT_MAX_DEPTH, &len);
    assert_int_equal(cc_jflat_parse(s, len, on_member, &r, scratch, 256),
                     CC_JFLAT_OK);
    assert_string_equal(r.out, "a|O;");
    free(s);
    memset(&r, 0, sizeof(r));
    s = nested(CC_JFLAT_MAX_DEPTH + 1, &len);
    assert_int_equal(cc_jflat_parse(s, len, on_member, &r, scratch, 256),
                     CC_JFLAT_MALFORMED);
    assert_int_equal(r.calls, 0);
    free(s);
    s = nested(10000, &len);
    assert_int_equal(cc_jflat_parse(s, len, NULL, NULL, NULL, 0),
                     CC_JFLAT_MALFORMED);
    free(s);
    free(scratch);
}

static void scratch_size(void **state)
{
    static const char doc[] = "{\"a\":\"b\"}";
    char scratch[sizeof(doc)];
    render_t r;

    (void)state;
    memset(&r, 0, sizeof(r));
    assert_int_equal(cc_jflat_parse(doc, sizeof(doc) - 1, on_member, &r,
                                    scratch, sizeof(doc) - 2),
                     CC_JFLAT_NOSPACE);
    assert_int_equal(cc_jflat_parse(doc, sizeof(doc) - 1, on_member, &r,
                                    NULL, 100),
                     CC_JFLAT_NOSPACE);
    assert_int_equal(r.calls, 0);
    assert_int_equal(cc_jflat_parse(doc, sizeof(doc) - 1, on_member, &r,
                                    scratch, sizeof(doc) - 1),
                     CC_JFLAT_OK);
    assert_string_equal(r.out, "a|S:b;");
    assert_int_equal(cc_jflat_parse(NULL, 0, NULL, NULL, NULL, 0),
                     CC_JFLAT_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc_examples),
        cmocka_unit_test(escapes),
        cmocka_unit_test(utf8),
        cmocka_unit_test(values),
        cmocka_unit_test(malformed),
        cmocka_unit_test(depth),
        cmocka_unit_test(scratch_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
