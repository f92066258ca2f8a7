/*
 * test_rules.c: unit tests of the POST /customers field rules (cc_rules.c)
 * against register-customer.md and api-contract.md, messages verbatim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cc_rules.h"

#define TODAY_Y 2026
#define TODAY_M 5
#define TODAY_D 9

#define MAX_ERRS 40

typedef struct {
    int n;
    char field[MAX_ERRS][64];
    char msg[MAX_ERRS][160];
} errs_t;

static void capture(void *ctx, const char *field, const char *message)
{
    errs_t *e = ctx;

    assert_non_null(field);
    assert_non_null(message);
    assert_true(e->n < MAX_ERRS);
    snprintf(e->field[e->n], sizeof(e->field[0]), "%s", field);
    snprintf(e->msg[e->n], sizeof(e->msg[0]), "%s", message);
    e->n++;
}

/* The source's own example customer (its example pairs Nigeria with CM,
 * which the contract allows; NG is used here so the NIN rule applies). */
static const char *const valid_values[CC_F__COUNT] = {
    "John",
    "Doe",
    "john.doe@example.com",
    "Nigeria",
    "123 Main Street",
    "Lagos",
    "Lagos State",
    "100001",
    "NG",
    "+234",
    "8012345678",
    "12345678901",
    "NIN",
    "1990-01-15"
};

static void set_valid(cc_value_t *v)
{
    int f;

    for (f = 0; f < CC_F__COUNT; f++) {
        v[f].value = valid_values[f];
        v[f].len = strlen(valid_values[f]);
        v[f].present = 1;
        v[f].truncated = 0;
    }
}

static void set_field(cc_value_t *v, int f, const char *s, size_t len)
{
    v[f].value = s;
    v[f].len = len;
    v[f].present = 1;
    v[f].truncated = 0;
}

static int run(const cc_value_t *v, errs_t *e)
{
    int n;

    memset(e, 0, sizeof(*e));
    n = cc_rules_validate(v, TODAY_Y, TODAY_M, TODAY_D, capture, e);
    assert_int_equal(n, e->n);
    return n;
}

/*
 * Sets field f of an otherwise valid customer to s (len bytes) and checks
 * that exactly the expected message comes back for f, or none when expect
 * is NULL.
 */
static void check_len(int line, int f, const char *s, size_t len,
                      const char *expect)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;
    int n;

    set_valid(v);
    set_field(v, f, s, len);
    n = run(&v[0], &e);
    if (expect == NULL) {
        if (n != 0) {
            fail_msg("line %d: %s=\"%.*s\": unexpected \"%s\"", line,
                     cc_rules_field_name((cc_field_t)f), (int)len, s,
                     e.msg[0]);
        }
        return;
    }
    if (n != 1 || strcmp(e.field[0], cc_rules_field_name((cc_field_t)f))
        || strcmp(e.msg[0], expect)) {
        fail_msg("line %d: %s=\"%.*s\": expected \"%s\", got %d error(s), "
                 "first %s: \"%s\"", line,
                 cc_rules_field_name((cc_field_t)f), (int)len, s, expect, n,
                 n ? e.field[0] : "-", n ? e.msg[0] : "-");
    }
}

#define CHECK_OK(f, s) check_len(__LINE__, (f), (s), strlen(s), NULL)
#define CHECK_ERR(f, s, m) check_len(__LINE__, (f), (s), strlen(s), (m))
#define CHECK_ERR_N(f, s, n, m) check_len(__LINE__, (f), (s), (n), (m))

/* Fills buf with n copies of unit; returns the byte length. */
static size_t repeat(char *buf, size_t bufsz, const char *unit, size_t n)
{
    size_t ul = strlen(unit), i;

    assert_true(ul * n < bufsz);
    for (i = 0; i < n; i++) {
        memcpy(buf + i * ul, unit, ul);
    }
    buf[ul * n] = '\0';
    return ul * n;
}

static const char *const field_names[CC_F__COUNT] = {
    "first_name", "last_name", "email", "country", "street", "city", "state",
    "postal_code", "country_iso_code", "country_phone_code", "phone_number",
    "identification_number", "id_document_type", "date_of_birth"
};

static const char m_email[] = "email must be a valid email";
static const char m_iso[] =
    "country_iso_code must be a valid ISO 3166-1 alpha-2 code";
static const char m_dial[] =
    "country_phone_code must be a dial code such as +237";
static const char m_phone[] =
    "phone_number must contain only digits, spaces or hyphens";
static const char m_doctype[] =
    "id_document_type must be one of NIN, PASSPORT, VOTERS_CARD, "
    "DRIVERS_LICENSE";
static const char m_date[] =
    "date_of_birth must be a valid date in YYYY-MM-DD format";
static const char m_adult[] = "Customer must be 18 or older";
static const char m_nin[] = "identification_number is not a valid NIN number";
static const char m_passport[] =
    "identification_number is not a valid PASSPORT number";
static const char m_voters[] =
    "identification_number is not a valid VOTERS_CARD number";
static const char m_drivers[] =
    "identification_number is not a valid DRIVERS_LICENSE number";

/* ---- names ------------------------------------------------------------ */

static void test_field_names(void **state)
{
    int f;

    (void)state;
    for (f = 0; f < CC_F__COUNT; f++) {
        assert_string_equal(cc_rules_field_name((cc_field_t)f),
                            field_names[f]);
    }
    assert_int_equal(CC_F__COUNT, 14);
    assert_null(cc_rules_field_name(CC_F__COUNT));
    assert_null(cc_rules_field_name((cc_field_t)-1));
}

static void test_field_lookup(void **state)
{
    static const char *const others[] = {
        "First_name", "first_name ", " first_name", "first_nam",
        "first_namex", "FIRST_NAME", "number", "image", "photo",
        "id_document_front", "id_document_back", "enroll", "type", ""
    };
    size_t i;
    int f;

    (void)state;
    for (f = 0; f < CC_F__COUNT; f++) {
        assert_int_equal(cc_rules_field_lookup(field_names[f],
                                               strlen(field_names[f])), f);
    }
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        assert_int_equal(cc_rules_field_lookup(others[i], strlen(others[i])),
                         -1);
    }
    /* Exact bytes: a NUL inside or a shorter length is another name. */
    assert_int_equal(cc_rules_field_lookup("email\0", 6), -1);
    assert_int_equal(cc_rules_field_lookup("email\0x", 7), -1);
    assert_int_equal(cc_rules_field_lookup("emailx", 5), CC_F_EMAIL);
    assert_int_equal(cc_rules_field_lookup("emailx", 4), -1);
}

/* ---- whole-record behaviour ------------------------------------------ */

static void test_valid_customer(void **state)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;

    (void)state;
    set_valid(v);
    assert_int_equal(run(v, &e), 0);
    assert_int_equal(cc_rules_validate(v, TODAY_Y, TODAY_M, TODAY_D, NULL,
                                       NULL), 0);
    /* Values need not be NUL-terminated: only len bytes count. */
    set_field(v, CC_F_FIRST_NAME, "JohnXYZ", 4);
    set_field(v, CC_F_COUNTRY_ISO_CODE, "NGA", 2);
    set_field(v, CC_F_ID_DOCUMENT_TYPE, "NINE", 3);
    set_field(v, CC_F_DATE_OF_BIRTH, "1990-01-150", 10);
    assert_int_equal(run(v, &e), 0);
}

static void test_all_missing(void **state)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;
    char want[96];
    int f;

    (void)state;
    memset(v, 0, sizeof(v));
    assert_int_equal(run(v, &e), CC_F__COUNT);
    for (f = 0; f < CC_F__COUNT; f++) {
        snprintf(want, sizeof(want), "%s is required", field_names[f]);
        assert_string_equal(e.field[f], field_names[f]);
        assert_string_equal(e.msg[f], want);
    }
    assert_string_equal(e.msg[0], "first_name is required");
    assert_string_equal(e.msg[13], "date_of_birth is required");
    assert_int_equal(cc_rules_validate(v, TODAY_Y, TODAY_M, TODAY_D, NULL,
                                       NULL), CC_F__COUNT);
}

static void test_empty_is_missing(void **state)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;
    char want[96];
    int f;

    (void)state;
    for (f = 0; f < CC_F__COUNT; f++) {
        snprintf(want, sizeof(want), "%s is required", field_names[f]);
        /* present but empty */
        CHECK_ERR_N(f, "", 0, want);
        /* absent, whatever value the caller left behind */
        set_valid(v);
        v[f].present = 0;
        assert_int_equal(run(v, &e), 1);
        assert_string_equal(e.field[0], field_names[f]);
        assert_string_equal(e.msg[0], want);
        /* an empty truncated value is still missing */
        set_valid(v);
        v[f].len = 0;
        v[f].truncated = 1;
        assert_int_equal(run(v, &e), 1);
        assert_string_equal(e.msg[0], want);
    }
}

static void test_error_order_and_one_per_field(void **state)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;

    (void)state;
    set_valid(v);
    /* Failing fields set in reverse table order on purpose. */
    set_field(v, CC_F_DATE_OF_BIRTH, "2010-01-01", 10);
    set_field(v, CC_F_ID_DOCUMENT_TYPE, "nin", 3);
    set_field(v, CC_F_PHONE_NUMBER, "12", 2);
    set_field(v, CC_F_COUNTRY_ISO_CODE, "UK", 2);
    set_field(v, CC_F_POSTAL_CODE, "1", 1);
    set_field(v, CC_F_EMAIL, "john.doe@example", 16);
    set_field(v, CC_F_FIRST_NAME, "\xff", 1);
    assert_int_equal(run(v, &e), 7);
    assert_string_equal(e.field[0], "first_name");
    assert_string_equal(e.msg[0], "first_name must be valid UTF-8");
    assert_string_equal(e.field[1], "email");
    assert_string_equal(e.msg[1], m_email);
    assert_string_equal(e.field[2], "postal_code");
    assert_string_equal(e.msg[2], "postal_code must be at least 3 characters");
    assert_string_equal(e.field[3], "country_iso_code");
    assert_string_equal(e.msg[3], m_iso);
    assert_string_equal(e.field[4], "phone_number");
    assert_string_equal(e.msg[4],
                        "phone_number must be at least 3 characters");
    assert_string_equal(e.field[5], "id_document_type");
    assert_string_equal(e.msg[5], m_doctype);
    assert_string_equal(e.field[6], "date_of_birth");
    assert_string_equal(e.msg[6], m_adult);
    assert_int_equal(cc_rules_validate(v, TODAY_Y, TODAY_M, TODAY_D, NULL,
                                       NULL), 7);

    /* Mixed missing and invalid, each field once. */
    set_valid(v);
    v[CC_F_LAST_NAME].present = 0;
    set_field(v, CC_F_COUNTRY_PHONE_CODE, "237", 3);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "123", 3);
    assert_int_equal(run(v, &e), 3);
    assert_string_equal(e.msg[0], "last_name is required");
    assert_string_equal(e.msg[1], m_dial);
    assert_string_equal(e.field[2], "identification_number");
    assert_string_equal(e.msg[2], m_nin);
}

static void test_first_failing_rule_only(void **state)
{
    char buf[2048];
    size_t n;

    (void)state;
    /* UTF-8 before length */
    CHECK_ERR_N(CC_F_FIRST_NAME, "\xff", 1, "first_name must be valid UTF-8");
    CHECK_ERR_N(CC_F_IDENTIFICATION_NUMBER, "\xc0\x80", 2,
                "identification_number must be valid UTF-8");
    /* length before format */
    CHECK_ERR(CC_F_PHONE_NUMBER, "1-",
              "phone_number must be at least 3 characters");
    n = repeat(buf, sizeof(buf), "#", 256);
    CHECK_ERR_N(CC_F_IDENTIFICATION_NUMBER, buf, n,
                "identification_number must be at most 255 characters");
    n = repeat(buf, sizeof(buf), "x", 256);
    CHECK_ERR_N(CC_F_PHONE_NUMBER, buf, n,
                "phone_number must be at most 255 characters");
    /* an invalid date is not also a minor */
    CHECK_ERR(CC_F_DATE_OF_BIRTH, "2030-02-30", m_date);
    /* UTF-8 before the format-only rules */
    CHECK_ERR_N(CC_F_EMAIL, "a\xff@example.com", 14,
                "email must be valid UTF-8");
    CHECK_ERR_N(CC_F_COUNTRY_ISO_CODE, "N\xc7", 2,
                "country_iso_code must be valid UTF-8");
    CHECK_ERR_N(CC_F_COUNTRY_PHONE_CODE, "+2\xed\xa0\x80", 5,
                "country_phone_code must be valid UTF-8");
    CHECK_ERR_N(CC_F_ID_DOCUMENT_TYPE, "NIN\x80", 4,
                "id_document_type must be valid UTF-8");
    CHECK_ERR_N(CC_F_DATE_OF_BIRTH, "1990-01-1\xf5", 10,
                "date_of_birth must be valid UTF-8");
}

/* ---- lengths ----------------------------------------------------------- */

typedef struct {
    int field;
    int min;
    int max;
} len_rule_t;

static const len_rule_t len_rules[] = {
    { CC_F_FIRST_NAME, 3, 255 },
    { CC_F_LAST_NAME, 3, 255 },
    { CC_F_COUNTRY, 2, 255 },
    { CC_F_STREET, 2, 255 },
    { CC_F_CITY, 2, 255 },
    { CC_F_STATE, 2, 255 },
    { CC_F_POSTAL_CODE, 3, 255 }
};

static void test_length_bounds_free_text(void **state)
{
    /* One to four bytes per code point: the limits count code points. */
    static const char *const units[] = {
        "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"
    };
    char buf[4 * 256 + 1], want[96];
    size_t i, u, n;

    (void)state;
    for (i = 0; i < sizeof(len_rules) / sizeof(len_rules[0]); i++) {
        const len_rule_t *r = &len_rules[i];
        const char *name = field_names[r->field];

        for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
            snprintf(want, sizeof(want), "%s must be at least %d characters",
                     name, r->min);
            n = repeat(buf, sizeof(buf), units[u], (size_t)r->min - 1);
            CHECK_ERR_N(r->field, buf, n, want);
            n = repeat(buf, sizeof(buf), units[u], 1);
            CHECK_ERR_N(r->field, buf, n, want);
            n = repeat(buf, sizeof(buf), units[u], (size_t)r->min);
            CHECK_ERR_N(r->field, buf, n, NULL);
            n = repeat(buf, sizeof(buf), units[u], (size_t)r->max);
            CHECK_ERR_N(r->field, buf, n, NULL);
            snprintf(want, sizeof(want), "%s must be at most %d characters",
                     name, r->max);
            n = repeat(buf, sizeof(buf), units[u], (size_t)r->max + 1);
            CHECK_ERR_N(r->field, buf, n, want);
        }
    }
}

static void test_length_messages_verbatim(void **state)
{
    char buf[1100];
    size_t n;

    (void)state;
    CHECK_ERR(CC_F_FIRST_NAME, "Jo",
              "first_name must be at least 3 characters");
    CHECK_ERR(CC_F_LAST_NAME, "D", "last_name must be at least 3 characters");
    CHECK_ERR(CC_F_COUNTRY, "N", "country must be at least 2 characters");
    CHECK_ERR(CC_F_STREET, "1", "street must be at least 2 characters");
    CHECK_ERR(CC_F_CITY, "L", "city must be at least 2 characters");
    CHECK_ERR(CC_F_STATE, "L", "state must be at least 2 characters");
    CHECK_ERR(CC_F_POSTAL_CODE, "10",
              "postal_code must be at least 3 characters");
    CHECK_ERR(CC_F_PHONE_NUMBER, "80",
              "phone_number must be at least 3 characters");
    n = repeat(buf, sizeof(buf), "a", 256);
    CHECK_ERR_N(CC_F_FIRST_NAME, buf, n,
                "first_name must be at most 255 characters");
    CHECK_ERR_N(CC_F_LAST_NAME, buf, n,
                "last_name must be at most 255 characters");
    CHECK_ERR_N(CC_F_COUNTRY, buf, n,
                "country must be at most 255 characters");
    CHECK_ERR_N(CC_F_STREET, buf, n, "street must be at most 255 characters");
    CHECK_ERR_N(CC_F_CITY, buf, n, "city must be at most 255 characters");
    CHECK_ERR_N(CC_F_STATE, buf, n, "state must be at most 255 characters");
    CHECK_ERR_N(CC_F_POSTAL_CODE, buf, n,
                "postal_code must be at most 255 characters");
}

static void test_length_not_trimmed(void **state)
{
    (void)state;
    CHECK_OK(CC_F_FIRST_NAME, "   ");
    CHECK_OK(CC_F_FIRST_NAME, " Al");
    CHECK_ERR(CC_F_FIRST_NAME, " ",
              "first_name must be at least 3 characters");
    CHECK_ERR(CC_F_FIRST_NAME, "  ",
              "first_name must be at least 3 characters");
    CHECK_OK(CC_F_CITY, " L");
    CHECK_OK(CC_F_POSTAL_CODE, "\t\t\t");
    /* Names with letters beyond ASCII are text like any other. */
    CHECK_OK(CC_F_FIRST_NAME, "J\xc3\xa9r\xc3\xb4me");
    CHECK_OK(CC_F_LAST_NAME, "\xe5\xbc\xa0\xe4\xbc\x9f\xe6\x98\x8e");
    CHECK_ERR(CC_F_LAST_NAME, "\xe5\xbc\xa0\xe4\xbc\x9f",
              "last_name must be at least 3 characters");
}

static void test_length_phone_and_idnum(void **state)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;
    char buf[4 * 256 + 1];
    size_t n;

    (void)state;
    CHECK_OK(CC_F_PHONE_NUMBER, "123");
    CHECK_OK(CC_F_PHONE_NUMBER, "1-2");
    n = repeat(buf, sizeof(buf), "5", 255);
    CHECK_ERR_N(CC_F_PHONE_NUMBER, buf, n, NULL);
    n = repeat(buf, sizeof(buf), "5", 256);
    CHECK_ERR_N(CC_F_PHONE_NUMBER, buf, n,
                "phone_number must be at most 255 characters");
    n = repeat(buf, sizeof(buf), "\xd9\xa1", 256);
    CHECK_ERR_N(CC_F_PHONE_NUMBER, buf, n,
                "phone_number must be at most 255 characters");
    n = repeat(buf, sizeof(buf), "\xd9\xa1", 255);
    CHECK_ERR_N(CC_F_PHONE_NUMBER, buf, n, m_phone);

    /* identification_number: 1-255 code points, counted before spaces and
     * hyphens are removed; VOTERS_CARD has the loosest format. */
    set_valid(v);
    set_field(v, CC_F_ID_DOCUMENT_TYPE, "VOTERS_CARD", 11);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "A", 1);
    assert_int_equal(run(v, &e), 0);
    n = repeat(buf, sizeof(buf), "A", 255);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, buf, n);
    assert_int_equal(run(v, &e), 0);
    n = repeat(buf, sizeof(buf), "A-", 128);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, buf, n - 1);
    assert_int_equal(run(v, &e), 0);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, buf, n);
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.msg[0],
                        "identification_number must be at most 255 "
                        "characters");
    n = repeat(buf, sizeof(buf), "A", 256);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, buf, n);
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.field[0], "identification_number");
    assert_string_equal(e.msg[0],
                        "identification_number must be at most 255 "
                        "characters");
    n = repeat(buf, sizeof(buf), "\xf0\x9f\x98\x80", 256);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, buf, n);
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.msg[0],
                        "identification_number must be at most 255 "
                        "characters");
    n = repeat(buf, sizeof(buf), "\xf0\x9f\x98\x80", 255);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, buf, n);
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.msg[0], m_voters);
}

/* ---- UTF-8 ------------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t len;
} bytes_t;

#define B(lit) { lit, sizeof(lit) - 1 }

static const bytes_t bad_utf8[] = {
    B("\xc0\x80"),             /* overlong NUL */
    B("\xc1\xbf"),             /* overlong */
    B("\xe0\x80\x80"),         /* overlong */
    B("\xe0\x9f\xbf"),         /* overlong U+07FF */
    B("\xed\xa0\x80"),         /* surrogate U+D800 */
    B("\xed\xbf\xbf"),         /* surrogate U+DFFF */
    B("\xf0\x80\x80\x80"),     /* overlong */
    B("\xf0\x8f\xbf\xbf"),     /* overlong U+FFFF */
    B("\xf4\x90\x80\x80"),     /* U+110000 */
    B("\xf5\x80\x80\x80"),
    B("\xf8\x88\x80\x80\x80"), /* 5-byte form */
    B("\xfc\x84\x80\x80\x80\x80"),
    B("\xfe"),
    B("\xff"),
    B("\x80"),                 /* stray continuation */
    B("\xbf"),
    B("abc\x80"),
    B("\xc2\x41"),             /* lead without continuation */
    B("\xe1\x80\x41"),
    B("\xf1\x80\x80\x41"),
    B("\xc2\xc2\x80"),
    B("\xe2\x82"),             /* cut at the end */
    B("abc\xf0\x9f\x98"),
    B("ab\x00" "cd"),          /* U+0000 */
    B("\x00"),
    B("abc\x00")
};

static void test_utf8_validator(void **state)
{
    static const struct {
        bytes_t b;
        size_t cps;
    } good[] = {
        { B(""), 0 },
        { B("abc"), 3 },
        { B("\x01\x7f"), 2 },
        { B("\xc2\x80"), 1 },             /* U+0080 */
        { B("\xdf\xbf"), 1 },             /* U+07FF */
        { B("\xe0\xa0\x80"), 1 },         /* U+0800 */
        { B("\xed\x9f\xbf"), 1 },         /* U+D7FF */
        { B("\xee\x80\x80"), 1 },         /* U+E000 */
        { B("\xef\xbf\xbf"), 1 },         /* U+FFFF */
        { B("\xf0\x90\x80\x80"), 1 },     /* U+10000 */
        { B("\xf4\x8f\xbf\xbf"), 1 },     /* U+10FFFF */
        { B("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), 5 }
    };
    size_t i, cps;
    int ok;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cps = 999;
        assert_int_equal(cc_rules_utf8_valid(good[i].b.s, good[i].b.len, 0,
                                             &cps), 1);
        assert_int_equal(cps, good[i].cps);
        cps = 999;
        assert_int_equal(cc_rules_utf8_valid(good[i].b.s, good[i].b.len, 1,
                                             &cps), 1);
        assert_int_equal(cps, good[i].cps);
        assert_int_equal(cc_rules_utf8_valid(good[i].b.s, good[i].b.len, 0,
                                             NULL), 1);
    }
    for (i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
        ok = cc_rules_utf8_valid(bad_utf8[i].s, bad_utf8[i].len, 0, NULL);
        if (ok) {
            fail_msg("bad_utf8[%zu] accepted", i);
        }
    }
    assert_int_equal(cc_rules_utf8_valid(NULL, 0, 0, &cps), 1);
    assert_int_equal(cps, 0);
}

static void test_utf8_cut(void **state)
{
    size_t cps;

    (void)state;
    /* A sequence cut at the end is accepted only with allow_cut, and only
     * when the bytes present can still begin a valid sequence. */
    cps = 99;
    assert_int_equal(cc_rules_utf8_valid("a\xc2", 2, 1, &cps), 1);
    assert_int_equal(cps, 1);
    assert_int_equal(cc_rules_utf8_valid("a\xc2", 2, 0, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("ab\xe2\x82", 4, 1, &cps), 1);
    assert_int_equal(cps, 2);
    assert_int_equal(cc_rules_utf8_valid("\xe2", 1, 1, &cps), 1);
    assert_int_equal(cps, 0);
    assert_int_equal(cc_rules_utf8_valid("\xf0\x9f\x98", 3, 1, &cps), 1);
    assert_int_equal(cps, 0);
    assert_int_equal(cc_rules_utf8_valid("\xf4\x8f", 2, 1, NULL), 1);
    assert_int_equal(cc_rules_utf8_valid("\xf0\x9f\x98", 3, 0, NULL), 0);
    /* impossible prefixes */
    assert_int_equal(cc_rules_utf8_valid("a\xe0\x80", 3, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("a\xed\xa0", 3, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("a\xf4\x90", 3, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("a\xf0\x8f", 3, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("a\xf5", 2, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("a\xc0", 2, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("a\xc1", 2, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("a\x80", 2, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("a\xe2\x41", 3, 1, NULL), 0);
    /* only at the very end */
    assert_int_equal(cc_rules_utf8_valid("\xc2" "a", 2, 1, NULL), 0);
    assert_int_equal(cc_rules_utf8_valid("\xe2\x82" "a", 3, 1, NULL), 0);
    /* NUL stays invalid with allow_cut */
    assert_int_equal(cc_rules_utf8_valid("a\x00", 2, 1, NULL), 0);
}

static void test_utf8_large_input(void **state)
{
    static char big[1 << 20];
    size_t i, cps;

    (void)state;
    for (i = 0; i + 4 <= sizeof(big); i += 4) {
        memcpy(big + i, "\xf0\x9f\x98\x80", 4);
    }
    assert_int_equal(cc_rules_utf8_valid(big, sizeof(big), 0, &cps), 1);
    assert_int_equal(cps, sizeof(big) / 4);
    big[sizeof(big) - 1] = 'x';
    assert_int_equal(cc_rules_utf8_valid(big, sizeof(big), 0, NULL), 0);
}

static void test_utf8_every_field(void **state)
{
    char want[96];
    size_t i;
    int f;

    (void)state;
    for (f = 0; f < CC_F__COUNT; f++) {
        snprintf(want, sizeof(want), "%s must be valid UTF-8",
                 field_names[f]);
        for (i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
            CHECK_ERR_N(f, bad_utf8[i].s, bad_utf8[i].len, want);
        }
    }
    CHECK_ERR_N(CC_F_FIRST_NAME, "Jo\0hn", 5,
                "first_name must be valid UTF-8");
    CHECK_ERR_N(CC_F_EMAIL, "john.doe@example.com\0", 21,
                "email must be valid UTF-8");
}

/* ---- truncated values ------------------------------------------------- */

static void check_truncated(int line, int f, const char *s, size_t len,
                            const char *expect)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;
    int n;

    set_valid(v);
    set_field(v, f, s, len);
    v[f].truncated = 1;
    n = run(v, &e);
    if (n != 1 || strcmp(e.field[0], field_names[f])
        || strcmp(e.msg[0], expect)) {
        fail_msg("line %d: truncated %s: expected \"%s\", got %d, \"%s\"",
                 line, field_names[f], expect, n, n ? e.msg[0] : "-");
    }
}

static void test_truncated(void **state)
{
    static char ascii[CC_FIELD_MAX_BYTES], cut[CC_FIELD_MAX_BYTES];
    static char bad[CC_FIELD_MAX_BYTES], badcut[CC_FIELD_MAX_BYTES];
    static char nul[CC_FIELD_MAX_BYTES], digits[CC_FIELD_MAX_BYTES];
    static char emails[CC_FIELD_MAX_BYTES];
    char want[96];
    size_t i;
    int f;

    (void)state;
    memset(ascii, 'a', sizeof(ascii));
    memset(digits, '1', sizeof(digits));
    /* 682 euro signs and two bytes of a 683rd, cut by the limit */
    for (i = 0; i + 3 <= sizeof(cut); i += 3) {
        memcpy(cut + i, "\xe2\x82\xac", 3);
    }
    memcpy(cut + i, "\xe2\x82", 2);
    memset(bad, 'a', sizeof(bad));
    bad[1000] = (char)0xff;
    memset(badcut, 'a', sizeof(badcut));
    badcut[sizeof(badcut) - 2] = (char)0xed;
    badcut[sizeof(badcut) - 1] = (char)0xa0;
    memset(nul, 'a', sizeof(nul));
    nul[5] = '\0';
    memset(emails, 'a', sizeof(emails));
    memcpy(emails + 3, "@example.com", 12);

    for (f = 0; f < CC_F__COUNT; f++) {
        const char *over;

        switch (f) {
        case CC_F_EMAIL:
            over = m_email;
            break;
        case CC_F_COUNTRY_ISO_CODE:
            over = m_iso;
            break;
        case CC_F_COUNTRY_PHONE_CODE:
            over = m_dial;
            break;
        case CC_F_ID_DOCUMENT_TYPE:
            over = m_doctype;
            break;
        case CC_F_DATE_OF_BIRTH:
            over = m_date;
            break;
        default:
            snprintf(want, sizeof(want), "%s must be at most 255 characters",
                     field_names[f]);
            over = want;
        }
        check_truncated(__LINE__, f, ascii, sizeof(ascii), over);
        check_truncated(__LINE__, f, cut, sizeof(cut), over);
        check_truncated(__LINE__, f, digits, sizeof(digits), over);
        snprintf(want, sizeof(want), "%s must be valid UTF-8", field_names[f]);
        check_truncated(__LINE__, f, bad, sizeof(bad), want);
        check_truncated(__LINE__, f, badcut, sizeof(badcut), want);
        check_truncated(__LINE__, f, nul, sizeof(nul), want);
    }
    /* The flag wins over the kept bytes, which may look valid. */
    check_truncated(__LINE__, CC_F_EMAIL, emails, 15, m_email);
    check_truncated(__LINE__, CC_F_ID_DOCUMENT_TYPE, "NIN", 3, m_doctype);
    check_truncated(__LINE__, CC_F_COUNTRY_ISO_CODE, "NG", 2, m_iso);
    check_truncated(__LINE__, CC_F_FIRST_NAME, "John", 4,
                    "first_name must be at most 255 characters");
    /* Without the flag the same cut prefix is simply invalid UTF-8. */
    CHECK_ERR_N(CC_F_STREET, "Main\xe2\x82", 6, "street must be valid UTF-8");
}

static void test_truncated_type_and_iso_disable_dependants(void **state)
{
    static char ascii[CC_FIELD_MAX_BYTES];
    cc_value_t v[CC_F__COUNT];
    errs_t e;

    (void)state;
    memset(ascii, 'N', sizeof(ascii));
    /* A truncated id_document_type is no type: the ID number's format is
     * not checked. */
    set_valid(v);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "###", 3);
    set_field(v, CC_F_ID_DOCUMENT_TYPE, ascii, sizeof(ascii));
    v[CC_F_ID_DOCUMENT_TYPE].truncated = 1;
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.field[0], "id_document_type");
    /* A truncated country_iso_code is not NG: NIN falls back to the
     * general rule. */
    set_valid(v);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "AB/12", 5);
    set_field(v, CC_F_COUNTRY_ISO_CODE, "NG", 2);
    v[CC_F_COUNTRY_ISO_CODE].truncated = 1;
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.field[0], "country_iso_code");
}

/* ---- email ------------------------------------------------------------- */

static void test_email_valid(void **state)
{
    static const char *const ok[] = {
        "john.doe@example.com",
        "a@b.co",
        "JOHN.DOE@EXAMPLE.COM",
        "John.Doe@Example.Com",
        "user+tag@sub.example.org",
        "!#$%&'*+-/=?^_`{|}~@example.com",
        "a.b.c.d@x-y.example.ng",
        "o'brien@example.ie",
        "user@1.example.com",
        "user@123.com",
        "user@a-b-c.d-e.fr",
        "user@xn--80ak6aa92e.com",
        "user@example.xn--p1ai",
        "user@EXAMPLE.XN--P1AI",
        "user@example.xn--3e0b707e",
        "user@example.xn--a-b",
        "1234567890@example.com",
        "_@example.com",
        "a@b-c.de"
    };
    char buf[300];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        CHECK_OK(CC_F_EMAIL, ok[i]);
    }
    /* local part of 64, labels of 63, 254 octets in all */
    repeat(buf, sizeof(buf), "l", 64);
    strcat(buf, "@");
    repeat(buf + 65, sizeof(buf) - 65, "d", 63);
    strcat(buf, ".");
    repeat(buf + 129, sizeof(buf) - 129, "e", 63);
    strcat(buf, ".");
    repeat(buf + 193, sizeof(buf) - 193, "f", 57);
    strcat(buf, ".com");
    assert_int_equal(strlen(buf), 254);
    CHECK_OK(CC_F_EMAIL, buf);
    /* last label of 63 letters */
    strcpy(buf, "a@example.");
    repeat(buf + 10, sizeof(buf) - 10, "z", 63);
    CHECK_OK(CC_F_EMAIL, buf);
}

static void test_email_invalid(void **state)
{
    static const char *const bad[] = {
        "plainaddress",
        "@example.com",
        "john@",
        "john@@example.com",
        "jo@hn@example.com",
        ".john@example.com",
        "john.@example.com",
        "jo..hn@example.com",
        ".@example.com",
        "\"john\"@example.com",
        "\"john doe\"@example.com",
        "john doe@example.com",
        "john(comment)@example.com",
        "jo,hn@example.com",
        "jo\\hn@example.com",
        "jo<hn>@example.com",
        "john@example",
        "john@com",
        "john@example.c",
        "john@example.c0m",
        "john@example.123",
        "john@example.c-m",
        "john@example.c_m",
        "john@[192.168.0.1]",
        "john@[IPv6:::1]",
        "john@192.168.0.1",
        "john@example.com.",
        "john@.example.com",
        "john@example..com",
        "john@-example.com",
        "john@example-.com",
        "john@exa_mple.com",
        "john@exam ple.com",
        "john@example.com ",
        " john@example.com",
        "john@example.com\n",
        "john\t@example.com",
        "john@xn--.com",
        "john@example.xn--",
        "john@example.xn--p1ai-",
        "john@example.-xn--p1ai",
        "john@example.x",
        "j\xc3\xb6hn@example.com",
        "john@ex\xc3\xa4mple.com",
        "john@example.\xc3\xa7om",
        "john@",
        "@",
        "john.doe.example.com",
        "john@example.com@example.com"
    };
    char buf[300];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ERR(CC_F_EMAIL, bad[i], m_email);
    }
    /* local part of 65 */
    repeat(buf, sizeof(buf), "l", 65);
    strcat(buf, "@example.com");
    CHECK_ERR(CC_F_EMAIL, buf, m_email);
    /* a label of 64 */
    strcpy(buf, "a@");
    repeat(buf + 2, sizeof(buf) - 2, "d", 64);
    strcat(buf, ".com");
    CHECK_ERR(CC_F_EMAIL, buf, m_email);
    /* last label of 64 */
    strcpy(buf, "a@example.");
    repeat(buf + 10, sizeof(buf) - 10, "z", 64);
    CHECK_ERR(CC_F_EMAIL, buf, m_email);
    /* 255 octets: over the limit with every part valid on its own */
    repeat(buf, sizeof(buf), "l", 64);
    strcat(buf, "@");
    repeat(buf + 65, sizeof(buf) - 65, "d", 63);
    strcat(buf, ".");
    repeat(buf + 129, sizeof(buf) - 129, "e", 63);
    strcat(buf, ".");
    repeat(buf + 193, sizeof(buf) - 193, "f", 58);
    strcat(buf, ".com");
    assert_int_equal(strlen(buf), 255);
    CHECK_ERR(CC_F_EMAIL, buf, m_email);
}

/* ---- country_iso_code ------------------------------------------------- */

/* ISO 3166-1 alpha-2, officially assigned (iso-codes 4.15). */
static const char iso_official[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH "
    "BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL "
    "CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU "
    "GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE "
    "KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC "
    "MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC "
    "NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT "
    "PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR "
    "SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA "
    "UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

static int iso_accepted(const char *code)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;

    set_valid(v);
    set_field(v, CC_F_COUNTRY_ISO_CODE, code, strlen(code));
    /* keep the ID number valid whatever the country */
    set_field(v, CC_F_ID_DOCUMENT_TYPE, "PASSPORT", 8);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "A1234567", 8);
    if (run(v, &e) == 0) {
        return 1;
    }
    assert_int_equal(e.n, 1);
    assert_string_equal(e.field[0], "country_iso_code");
    assert_string_equal(e.msg[0], m_iso);
    return 0;
}

static void test_iso_full_list(void **state)
{
    char code[3];
    int a, b, accepted = 0, official = 0;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(iso_official) - 1; i += 3) {
        official++;
        code[0] = iso_official[i];
        code[1] = iso_official[i + 1];
        code[2] = '\0';
        if (!iso_accepted(code)) {
            fail_msg("%s rejected", code);
        }
        code[0] = (char)(code[0] - 'A' + 'a');
        code[1] = (char)(code[1] - 'A' + 'a');
        if (!iso_accepted(code)) {
            fail_msg("%s rejected", code);
        }
    }
    assert_int_equal(official, 249);
    /* Exactly the 249 and XK among all letter pairs. */
    for (a = 'A'; a <= 'Z'; a++) {
        for (b = 'A'; b <= 'Z'; b++) {
            code[0] = (char)a;
            code[1] = (char)b;
            code[2] = '\0';
            accepted += iso_accepted(code);
        }
    }
    assert_int_equal(accepted, 250);
}

static void test_iso_spot_checks(void **state)
{
    static const char *const ok[] = {
        "CM", "NG", "XK", "xk", "cm", "ng", "Cm", "nG", "GB", "US", "SS",
        "BQ", "CW", "SX"
    };
    static const char *const bad[] = {
        "UK", "EU", "ZZ", "uk", "eu", "AN", "CS", "YU", "TP", "QM", "XA",
        "AA", "C", "N", "CMR", "NGA", "C1", "1C", "12", "N ", " N", "NG ",
        " NG", "N-G", "\xef\xbc\xae\xef\xbc\xa7", "N\xc3\x87", "+234"
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(iso_accepted(ok[i]), 1);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (iso_accepted(bad[i])) {
            fail_msg("\"%s\" accepted", bad[i]);
        }
    }
    CHECK_ERR(CC_F_COUNTRY_ISO_CODE, "UK",
              "country_iso_code must be a valid ISO 3166-1 alpha-2 code");
    CHECK_ERR_N(CC_F_COUNTRY_ISO_CODE, "N\0", 2, "country_iso_code must be "
                "valid UTF-8");
}

/* ---- country_phone_code ---------------------------------------------- */

static void test_dial_code(void **state)
{
    static const char *const ok[] = {
        "+237", "+1-268", "+44 1481", "+1", "+7", "+234", "+1234567",
        "+1 2 3", "+1-2-3-4-5-6-7", "+44-1481", "+9"
    };
    static const char *const bad[] = {
        "+", "237", "+0", "+012", "+0237", "+12345678", "+1234 5678",
        "+1--2", "+1  2", "+1 -2", "+1- 2", "+ 1", "+-1", "+1 ", "+1-",
        "++1", "+1+2", "+12a", "+1\t2", "00237", "+\xd9\xa1", "+\xef\xbc\x91",
        " +237", "+237 ", "(+237)", "+1.268", "-+237", "+ ", "+-"
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        CHECK_OK(CC_F_COUNTRY_PHONE_CODE, ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ERR(CC_F_COUNTRY_PHONE_CODE, bad[i],
                  "country_phone_code must be a dial code such as +237");
    }
    /* The contract's 1-255 schema length never shows: "+" alone is not too
     * short, it is not a dial code. */
    CHECK_ERR(CC_F_COUNTRY_PHONE_CODE, "+", m_dial);
}

/* ---- phone_number ----------------------------------------------------- */

static void test_phone_number(void **state)
{
    static const char *const ok[] = {
        "8012345678", "801 234 5678", "801-234-5678", "801-234 5678",
        "000", "1 2", "1-2", "0801234567"
    };
    static const char *const bad[] = {
        "801  234", "801--234", "801 -234", "801- 234", "-8012345678",
        "8012345678-", " 8012345678", "8012345678 ", "+2348012345678",
        "80a", "801.234.5678", "(801)2345678", "801_234", "801\t234",
        "\xd9\xa1\xd9\xa2\xd9\xa3", "1 -", "---", "   ", "12 ",
        "801/234", "801\n234"
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        CHECK_OK(CC_F_PHONE_NUMBER, ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_ERR(CC_F_PHONE_NUMBER, bad[i],
                  "phone_number must contain only digits, spaces or "
                  "hyphens");
    }
}

/* ---- identification_number ------------------------------------------- */

static void check_id(int line, const char *type, const char *iso,
                     const char *num, const char *expect)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;
    int n;

    set_valid(v);
    set_field(v, CC_F_ID_DOCUMENT_TYPE, type, strlen(type));
    set_field(v, CC_F_COUNTRY_ISO_CODE, iso, strlen(iso));
    set_field(v, CC_F_IDENTIFICATION_NUMBER, num, strlen(num));
    n = run(v, &e);
    if (expect == NULL ? n != 0
        : (n != 1 || strcmp(e.field[0], "identification_number")
           || strcmp(e.msg[0], expect))) {
        fail_msg("line %d: %s/%s \"%s\": expected %s, got %d: %s: \"%s\"",
                 line, type, iso, num, expect ? expect : "no error", n,
                 n ? e.field[0] : "-", n ? e.msg[0] : "-");
    }
}

#define ID_OK(t, iso, num) check_id(__LINE__, (t), (iso), (num), NULL)
#define ID_BAD(t, iso, num, m) check_id(__LINE__, (t), (iso), (num), (m))

static void test_idnum_nin_nigeria(void **state)
{
    static const char *const ok[] = {
        "12345678901", "00000000000", "123-4567-8901", "123 4567 8901",
        "1-2-3-4-5-6-7-8-9-0-1", " 12345678901 ", "AB123456789012CD",
        "ab123456789012cd", "Ab123456789012cD", "AB 1234 5678 9012 CD",
        "AB-123456789012-CD"
    };
    static const char *const bad[] = {
        "1234567890", "123456789012", "1234567890A", "A2345678901",
        "12345/67890", "1234567890.1", "AB12345678901CD", "AB1234567890123CD",
        "A1123456789012CD", "AB123456789012C1", "1B123456789012CD",
        "AB12345678901CDE", "ABC12345678901CD", "AB123456789012C",
        "AB12345678901X2CD",
        ("\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5"
         "\xd9\xa6\xd9\xa7\xd9\xa8\xd9\xa9\xd9\xa0\xd9\xa1"),
        "---", "   ", "1234567890_1", "ABCDEFGHIJK"
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ID_OK("NIN", "NG", ok[i]);
        ID_OK("NIN", "ng", ok[i]);
        ID_OK("NIN", "Ng", ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ID_BAD("NIN", "NG", bad[i], m_nin);
        ID_BAD("NIN", "nG", bad[i], m_nin);
    }
    ID_BAD("NIN", "NG", "123",
           "identification_number is not a valid NIN number");
}

static void test_idnum_nin_elsewhere(void **state)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;

    (void)state;
    /* Outside NG a NIN follows the general rule. */
    ID_OK("NIN", "CM", "123");
    ID_OK("NIN", "CM", "12345678901");
    ID_OK("NIN", "CM", "ABC/123-45 6");
    ID_OK("NIN", "GH", "GHA-123456789-0");
    ID_OK("NIN", "cm", "X");
    /* Only NG itself selects the Nigerian rule, not a code sharing a
     * letter with it. */
    ID_OK("NIN", "NE", "12/34");
    ID_OK("NIN", "GN", "12/34");
    ID_OK("NIN", "NL", "AB12");
    ID_OK("NIN", "SG", "AB12");
    ID_OK("NIN", "CM", "/1/");
    ID_BAD("NIN", "CM", "///", m_nin);
    ID_BAD("NIN", "CM", "- -", m_nin);
    ID_BAD("NIN", "CM", "AB#1", m_nin);
    ID_BAD("NIN", "CM", "AB.1", m_nin);
    ID_BAD("NIN", "CM", "\xc3\x89" "123", m_nin);

    /* An invalid ISO code is not NG either; only its own error shows. */
    set_valid(v);
    set_field(v, CC_F_COUNTRY_ISO_CODE, "NGA", 3);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "12/34", 5);
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.field[0], "country_iso_code");
    set_field(v, CC_F_COUNTRY_ISO_CODE, "NG ", 3);
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.field[0], "country_iso_code");
    /* Missing ISO code: general rule for the NIN too. */
    set_valid(v);
    v[CC_F_COUNTRY_ISO_CODE].present = 0;
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "12/34", 5);
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.msg[0], "country_iso_code is required");
}

static void test_idnum_passport(void **state)
{
    static const char *const ok[] = {
        "A12345", "A1234567", "A12345678", "123456", "ABCDEF", "a1b2c3d4",
        "A123-4567", "A 123 4567", "-A1234567-", "A1-2-3-4-5-6-7-8"
    };
    static const char *const bad[] = {
        "A1234", "12345", "A123456789", "1234567890", "A1/23456",
        "A123.456", "A123_456", "A 1 2 3", ("\xc3\x89" "1234567"), "------",
        "A12345#", "A12345678-9"
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ID_OK("PASSPORT", "NG", ok[i]);
        ID_OK("PASSPORT", "CM", ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ID_BAD("PASSPORT", "NG", bad[i], m_passport);
        ID_BAD("PASSPORT", "CM", bad[i], m_passport);
    }
    ID_BAD("PASSPORT", "CM", "A1",
           "identification_number is not a valid PASSPORT number");
}

static void test_idnum_voters_and_drivers(void **state)
{
    static const char *const ok[] = {
        "90F5B1E2D3", "A", "1", "A/B/1", "/A", "ABC-123 456",
        "LAG/123/45-67", "abc"
    };
    static const char *const bad[] = {
        "/", "//", " - ", "AB.12", "AB#12", "AB_12", "AB\\12", "\xc3\x89",
        "A B\tC", "A+B"
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ID_OK("VOTERS_CARD", "NG", ok[i]);
        ID_OK("DRIVERS_LICENSE", "NG", ok[i]);
        ID_OK("DRIVERS_LICENSE", "CM", ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ID_BAD("VOTERS_CARD", "NG", bad[i], m_voters);
        ID_BAD("DRIVERS_LICENSE", "NG", bad[i], m_drivers);
    }
    ID_BAD("VOTERS_CARD", "NG", "#",
           "identification_number is not a valid VOTERS_CARD number");
    ID_BAD("DRIVERS_LICENSE", "NG", "#",
           "identification_number is not a valid DRIVERS_LICENSE number");
}

static void test_idnum_without_valid_type(void **state)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;

    (void)state;
    /* Invalid type: only the type is reported, whatever the number. */
    set_valid(v);
    set_field(v, CC_F_ID_DOCUMENT_TYPE, "nin", 3);
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "###", 3);
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.field[0], "id_document_type");
    assert_string_equal(e.msg[0], m_doctype);
    /* Missing type: likewise. */
    v[CC_F_ID_DOCUMENT_TYPE].present = 0;
    assert_int_equal(run(v, &e), 1);
    assert_string_equal(e.msg[0], "id_document_type is required");
    /* The number's own required/UTF-8/length rules still apply. */
    set_field(v, CC_F_IDENTIFICATION_NUMBER, "\xff", 1);
    assert_int_equal(run(v, &e), 2);
    assert_string_equal(e.msg[0],
                        "identification_number must be valid UTF-8");
    assert_string_equal(e.msg[1], "id_document_type is required");
    v[CC_F_IDENTIFICATION_NUMBER].present = 0;
    assert_int_equal(run(v, &e), 2);
    assert_string_equal(e.msg[0], "identification_number is required");
}

/* ---- id_document_type ------------------------------------------------- */

static void test_doctype(void **state)
{
    static const char *const bad[] = {
        "nin", "Nin", "NIN ", " NIN", "NINS", "NI", "passport", "Passport",
        "VOTERS CARD", "VOTERS-CARD", "VOTERSCARD", "DRIVERS_LICENCE",
        "DRIVER_LICENSE", "drivers_license", "ID_CARD", "OTHER", "0"
    };
    size_t i;

    (void)state;
    assert_int_equal(cc_rules_doctype("NIN", 3), CC_DOCTYPE_NIN);
    assert_int_equal(cc_rules_doctype("PASSPORT", 8), CC_DOCTYPE_PASSPORT);
    assert_int_equal(cc_rules_doctype("VOTERS_CARD", 11),
                     CC_DOCTYPE_VOTERS_CARD);
    assert_int_equal(cc_rules_doctype("DRIVERS_LICENSE", 15),
                     CC_DOCTYPE_DRIVERS_LICENSE);
    assert_int_equal(cc_rules_doctype("NIN\0", 4), CC_DOCTYPE_INVALID);
    assert_int_equal(cc_rules_doctype("NINE", 3), CC_DOCTYPE_NIN);
    assert_int_equal(cc_rules_doctype("NIN", 2), CC_DOCTYPE_INVALID);
    assert_int_equal(cc_rules_doctype("", 0), CC_DOCTYPE_INVALID);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cc_rules_doctype(bad[i], strlen(bad[i])),
                         CC_DOCTYPE_INVALID);
        CHECK_ERR(CC_F_ID_DOCUMENT_TYPE, bad[i],
                  "id_document_type must be one of NIN, PASSPORT, "
                  "VOTERS_CARD, DRIVERS_LICENSE");
    }
    assert_string_equal(cc_rules_doctype_name(CC_DOCTYPE_NIN), "NIN");
    assert_string_equal(cc_rules_doctype_name(CC_DOCTYPE_PASSPORT),
                        "PASSPORT");
    assert_string_equal(cc_rules_doctype_name(CC_DOCTYPE_VOTERS_CARD),
                        "VOTERS_CARD");
    assert_string_equal(cc_rules_doctype_name(CC_DOCTYPE_DRIVERS_LICENSE),
                        "DRIVERS_LICENSE");
    assert_null(cc_rules_doctype_name(CC_DOCTYPE_INVALID));
    assert_null(cc_rules_doctype_name((cc_doctype_t)4));

    /* Each valid type passes with a number of its own format. */
    ID_OK("NIN", "NG", "12345678901");
    ID_OK("PASSPORT", "NG", "A1234567");
    ID_OK("VOTERS_CARD", "NG", "90F5B1E2D3");
    ID_OK("DRIVERS_LICENSE", "NG", "ABC12345AA01");
}

/* ---- date_of_birth ---------------------------------------------------- */

static void test_parse_date(void **state)
{
    static const char *const bad[] = {
        "1990-1-15", "1990-01-5", "90-01-15", "19900115", "1990/01/15",
        "1990.01.15", "15-01-1990", "1990-01-15T00:00:00Z",
        "1990-01-15T00:00:00.000Z", " 1990-01-15", "1990-01-15 ",
        "+990-01-15", "-990-01-15", "1990-+1-15", "1990-01-+5",
        "1990-01-1a", "199O-01-15", "1990-13-01", "1990-00-10",
        "1990-01-00", "1990-01-32", "1990-02-29", "1900-02-29",
        "2100-02-29", "2023-02-29", "1990-02-30", "1990-04-31",
        "1990-06-31", "1990-09-31", "1990-11-31", "0000-01-01",
        "1990--01-15", "1990-0115", "", "1990-01-15\n", "99999-01-15"
    };
    static const int dim[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    char buf[32];
    size_t i;
    int y, m, d, mo;

    (void)state;
    y = m = d = 0;
    assert_int_equal(cc_rules_parse_date("1990-01-15", 10, &y, &m, &d), 1);
    assert_int_equal(y, 1990);
    assert_int_equal(m, 1);
    assert_int_equal(d, 15);
    assert_int_equal(cc_rules_parse_date("2000-02-29", 10, &y, &m, &d), 1);
    assert_int_equal(y, 2000);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    assert_int_equal(cc_rules_parse_date("2024-02-29", 10, &y, &m, &d), 1);
    assert_int_equal(cc_rules_parse_date("1600-02-29", 10, &y, &m, &d), 1);
    assert_int_equal(cc_rules_parse_date("0001-01-01", 10, &y, &m, &d), 1);
    assert_int_equal(y, 1);
    assert_int_equal(cc_rules_parse_date("9999-12-31", 10, &y, &m, &d), 1);
    assert_int_equal(y, 9999);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    /* only len bytes are read */
    assert_int_equal(cc_rules_parse_date("1990-01-15X", 10, &y, &m, &d), 1);
    assert_int_equal(cc_rules_parse_date("1990-01-1", 9, &y, &m, &d), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (cc_rules_parse_date(bad[i], strlen(bad[i]), &y, &m, &d)) {
            fail_msg("\"%s\" parsed", bad[i]);
        }
    }
    /* every month's last day, and the day after */
    for (mo = 1; mo <= 12; mo++) {
        snprintf(buf, sizeof(buf), "2023-%02d-%02d", mo, dim[mo - 1]);
        assert_int_equal(cc_rules_parse_date(buf, 10, &y, &m, &d), 1);
        assert_int_equal(d, dim[mo - 1]);
        snprintf(buf, sizeof(buf), "2023-%02d-%02d", mo, dim[mo - 1] + 1);
        assert_int_equal(cc_rules_parse_date(buf, 10, &y, &m, &d), 0);
    }
}

static void test_is_adult(void **state)
{
    (void)state;
    /* birthday today, yesterday, tomorrow */
    assert_int_equal(cc_rules_is_adult(2008, 5, 9, 2026, 5, 9), 1);
    assert_int_equal(cc_rules_is_adult(2008, 5, 8, 2026, 5, 9), 1);
    assert_int_equal(cc_rules_is_adult(2008, 5, 10, 2026, 5, 9), 0);
    assert_int_equal(cc_rules_is_adult(2008, 6, 1, 2026, 5, 9), 0);
    assert_int_equal(cc_rules_is_adult(2008, 4, 30, 2026, 5, 9), 1);
    assert_int_equal(cc_rules_is_adult(2009, 1, 1, 2026, 5, 9), 0);
    assert_int_equal(cc_rules_is_adult(1900, 1, 1, 2026, 5, 9), 1);
    assert_int_equal(cc_rules_is_adult(1, 1, 1, 2026, 5, 9), 1);
    /* year boundary */
    assert_int_equal(cc_rules_is_adult(2007, 12, 31, 2025, 12, 31), 1);
    assert_int_equal(cc_rules_is_adult(2007, 12, 31, 2025, 12, 30), 0);
    assert_int_equal(cc_rules_is_adult(2007, 12, 31, 2026, 1, 1), 1);
    assert_int_equal(cc_rules_is_adult(2008, 1, 1, 2025, 12, 31), 0);
    /* 29 February turns 18 on 1 March of a non-leap year */
    assert_int_equal(cc_rules_is_adult(2008, 2, 29, 2026, 2, 28), 0);
    assert_int_equal(cc_rules_is_adult(2008, 2, 29, 2026, 3, 1), 1);
    assert_int_equal(cc_rules_is_adult(2004, 2, 29, 2022, 2, 28), 0);
    assert_int_equal(cc_rules_is_adult(2004, 2, 29, 2022, 3, 1), 1);
    assert_int_equal(cc_rules_is_adult(2000, 2, 29, 2018, 2, 28), 0);
    assert_int_equal(cc_rules_is_adult(2000, 2, 29, 2018, 3, 1), 1);
    assert_int_equal(cc_rules_is_adult(2000, 2, 29, 2019, 2, 28), 1);
    assert_int_equal(cc_rules_is_adult(1896, 2, 29, 1914, 3, 1), 1);
    assert_int_equal(cc_rules_is_adult(1896, 2, 29, 1914, 2, 28), 0);
    /* 28 February is not moved */
    assert_int_equal(cc_rules_is_adult(2008, 2, 28, 2026, 2, 28), 1);
    assert_int_equal(cc_rules_is_adult(2008, 2, 28, 2026, 2, 27), 0);
    /* born in a non-leap year, 18th birthday in a leap year */
    assert_int_equal(cc_rules_is_adult(2006, 2, 28, 2024, 2, 28), 1);
    assert_int_equal(cc_rules_is_adult(2006, 3, 1, 2024, 2, 29), 0);
    assert_int_equal(cc_rules_is_adult(2006, 3, 1, 2024, 3, 1), 1);
    /* the future */
    assert_int_equal(cc_rules_is_adult(2026, 5, 10, 2026, 5, 9), 0);
    assert_int_equal(cc_rules_is_adult(2030, 1, 1, 2026, 5, 9), 0);
    assert_int_equal(cc_rules_is_adult(2026, 5, 9, 2026, 5, 9), 0);
}

static void check_dob(int line, const char *dob, int ty, int tm, int td,
                      const char *expect)
{
    cc_value_t v[CC_F__COUNT];
    errs_t e;
    int n;

    set_valid(v);
    set_field(v, CC_F_DATE_OF_BIRTH, dob, strlen(dob));
    memset(&e, 0, sizeof(e));
    n = cc_rules_validate(v, ty, tm, td, capture, &e);
    if (expect == NULL ? n != 0
        : (n != 1 || strcmp(e.field[0], "date_of_birth")
           || strcmp(e.msg[0], expect))) {
        fail_msg("line %d: dob %s on %04d-%02d-%02d: expected %s, got %d: "
                 "\"%s\"", line, dob, ty, tm, td,
                 expect ? expect : "no error", n, n ? e.msg[0] : "-");
    }
}

static void test_dob_field(void **state)
{
    (void)state;
    check_dob(__LINE__, "1990-01-15", 2026, 5, 9, NULL);
    check_dob(__LINE__, "2008-05-09", 2026, 5, 9, NULL);
    check_dob(__LINE__, "2008-05-10", 2026, 5, 9,
              "Customer must be 18 or older");
    check_dob(__LINE__, "2026-05-09", 2026, 5, 9, m_adult);
    check_dob(__LINE__, "2099-12-31", 2026, 5, 9, m_adult);
    check_dob(__LINE__, "2008-02-29", 2026, 2, 28, m_adult);
    check_dob(__LINE__, "2008-02-29", 2026, 3, 1, NULL);
    check_dob(__LINE__, "2008-02-29", 2026, 5, 9, NULL);
    check_dob(__LINE__, "2007-12-31", 2025, 12, 30, m_adult);
    check_dob(__LINE__, "2007-12-31", 2025, 12, 31, NULL);
    check_dob(__LINE__, "2009-02-29", 2030, 1, 1,
              "date_of_birth must be a valid date in YYYY-MM-DD format");
    check_dob(__LINE__, "15/01/1990", 2026, 5, 9, m_date);
    check_dob(__LINE__, "1990-01-15T00:00:00.000Z", 2026, 5, 9, m_date);
    check_dob(__LINE__, "0000-01-01", 2026, 5, 9, m_date);
    check_dob(__LINE__, "0001-01-01", 2026, 5, 9, NULL);
    check_dob(__LINE__, "2030-13-01", 2026, 5, 9, m_date);
}

/* ---- documents -------------------------------------------------------- */

static int run_docs(cc_doctype_t t, int front, int back, errs_t *e)
{
    int n;

    memset(e, 0, sizeof(*e));
    n = cc_rules_check_documents(t, front, back, capture, e);
    assert_int_equal(n, e->n);
    assert_int_equal(cc_rules_check_documents(t, front, back, NULL, NULL), n);
    return n;
}

static void test_documents(void **state)
{
    static const cc_doctype_t all[] = {
        CC_DOCTYPE_INVALID, CC_DOCTYPE_NIN, CC_DOCTYPE_PASSPORT,
        CC_DOCTYPE_VOTERS_CARD, CC_DOCTYPE_DRIVERS_LICENSE
    };
    errs_t e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        assert_int_equal(run_docs(all[i], 1, 1, &e), 0);
    }
    assert_int_equal(run_docs(CC_DOCTYPE_NIN, 1, 0, &e), 1);
    assert_string_equal(e.field[0], "id_document_back");
    assert_string_equal(e.msg[0], "id_document_back is required for NIN");
    assert_int_equal(run_docs(CC_DOCTYPE_DRIVERS_LICENSE, 1, 0, &e), 1);
    assert_string_equal(e.field[0], "id_document_back");
    assert_string_equal(e.msg[0],
                        "id_document_back is required for DRIVERS_LICENSE");
    assert_int_equal(run_docs(CC_DOCTYPE_PASSPORT, 1, 0, &e), 0);
    assert_int_equal(run_docs(CC_DOCTYPE_VOTERS_CARD, 1, 0, &e), 0);
    assert_int_equal(run_docs(CC_DOCTYPE_INVALID, 1, 0, &e), 0);

    assert_int_equal(run_docs(CC_DOCTYPE_PASSPORT, 0, 1, &e), 1);
    assert_string_equal(e.field[0], "id_document_front");
    assert_string_equal(e.msg[0], "id_document_front is required");
    assert_int_equal(run_docs(CC_DOCTYPE_INVALID, 0, 0, &e), 1);
    assert_string_equal(e.msg[0], "id_document_front is required");
    assert_int_equal(run_docs(CC_DOCTYPE_VOTERS_CARD, 0, 0, &e), 1);
    assert_int_equal(run_docs(CC_DOCTYPE_PASSPORT, 0, 0, &e), 1);
    assert_int_equal(run_docs(CC_DOCTYPE_NIN, 0, 1, &e), 1);
    assert_string_equal(e.field[0], "id_document_front");

    /* front first */
    assert_int_equal(run_docs(CC_DOCTYPE_NIN, 0, 0, &e), 2);
    assert_string_equal(e.field[0], "id_document_front");
    assert_string_equal(e.msg[0], "id_document_front is required");
    assert_string_equal(e.field[1], "id_document_back");
    assert_string_equal(e.msg[1], "id_document_back is required for NIN");
    assert_int_equal(run_docs(CC_DOCTYPE_DRIVERS_LICENSE, 0, 0, &e), 2);
    assert_string_equal(e.msg[1],
                        "id_document_back is required for DRIVERS_LICENSE");
}

/* ---- enroll ------------------------------------------------------------ */

static void test_enroll(void **state)
{
    static const char *const bad[] = {
        "", "True", "TRUE", "False", "FALSE", "yes", "no", "on", "off",
        "true ", " true", "tru", "truee", "10", "01", "00", "2", "-1", "t",
        "f", "+1", "1.0"
    };
    size_t i;

    (void)state;
    assert_int_equal(cc_rules_parse_enroll("true", 4), 1);
    assert_int_equal(cc_rules_parse_enroll("1", 1), 1);
    assert_int_equal(cc_rules_parse_enroll("false", 5), 0);
    assert_int_equal(cc_rules_parse_enroll("0", 1), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cc_rules_parse_enroll(bad[i], strlen(bad[i])), -1);
    }
    assert_int_equal(cc_rules_parse_enroll("true\0", 5), -1);
    assert_int_equal(cc_rules_parse_enroll("1\0", 2), -1);
    assert_int_equal(cc_rules_parse_enroll("truex", 4), 1);
    assert_int_equal(cc_rules_parse_enroll("true", 3), -1);
    assert_int_equal(cc_rules_parse_enroll(NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_names),
        cmocka_unit_test(test_field_lookup),
        cmocka_unit_test(test_valid_customer),
        cmocka_unit_test(test_all_missing),
        cmocka_unit_test(test_empty_is_missing),
        cmocka_unit_test(test_error_order_and_one_per_field),
        cmocka_unit_test(test_first_failing_rule_only),
        cmocka_unit_test(test_length_bounds_free_text),
        cmocka_unit_test(test_length_messages_verbatim),
        cmocka_unit_test(test_length_not_trimmed),
        cmocka_unit_test(test_length_phone_and_idnum),
        cmocka_unit_test(test_utf8_validator),
        cmocka_unit_test(test_utf8_cut),
        cmocka_unit_test(test_utf8_large_input),
        cmocka_unit_test(test_utf8_every_field),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_truncated_type_and_iso_disable_dependants),
        cmocka_unit_test(test_email_valid),
        cmocka_unit_test(test_email_invalid),
        cmocka_unit_test(test_iso_full_list),
        cmocka_unit_test(test_iso_spot_checks),
        cmocka_unit_test(test_dial_code),
        cmocka_unit_test(test_phone_number),
        cmocka_unit_test(test_idnum_nin_nigeria),
        cmocka_unit_test(test_idnum_nin_elsewhere),
        cmocka_unit_test(test_idnum_passport),
        cmocka_unit_test(test_idnum_voters_and_drivers),
        cmocka_unit_test(test_idnum_without_valid_type),
        cmocka_unit_test(test_doctype),
        cmocka_unit_test(test_parse_date),
        cmocka_unit_test(test_is_adult),
        cmocka_unit_test(test_dob_field),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_enroll)
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
