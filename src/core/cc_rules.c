/*
 * cc_rules.c: the field rules of POST /customers (see cc_rules.h).
 *
 * register-customer.md gives the fields and their lengths; api-contract.md
 * ("Envelopes" and "Field rules the source leaves open") gives the
 * messages and the formats the source leaves open. Everything here works
 * on raw bytes with explicit lengths, so a value with an embedded NUL or
 * without a terminator is judged by what actually arrived.
 */
#include "cc_rules.h"

#include <stdio.h>
#include <string.h>

/* Large enough for the longest message: a field name (at most 21 bytes)
 * and the longest fixed text. */
#define CC_MSG_MAX 128

typedef enum {
    FMT_NONE = 0,
    FMT_EMAIL,
    FMT_ISO,
    FMT_DIAL,
    FMT_PHONE,
    FMT_IDNUM,
    FMT_DOCTYPE,
    FMT_DATE
} fmt_t;

typedef struct {
    const char *name;
    int min; /* code points; 0 when the source gives no length */
    int max;
    fmt_t fmt;
} field_rule_t;

/*
 * Table order is the order of the source's Body fields table. The source's
 * schema also lists "1 - 255" for country_iso_code and country_phone_code;
 * their format rules are stricter than that, so only the format message is
 * ever reported for them (min 0 here). email has no code point length: its
 * 254-octet limit is part of the email grammar and of its message.
 */
static const field_rule_t field_rules[CC_F__COUNT] = {
    { "first_name",            3, 255, FMT_NONE },
    { "last_name",             3, 255, FMT_NONE },
    { "email",                 0, 0,   FMT_EMAIL },
    { "country",               2, 255, FMT_NONE },
    { "street",                2, 255, FMT_NONE },
    { "city",                  2, 255, FMT_NONE },
    { "state",                 2, 255, FMT_NONE },
    { "postal_code",           3, 255, FMT_NONE },
    { "country_iso_code",      0, 0,   FMT_ISO },
    { "country_phone_code",    0, 0,   FMT_DIAL },
    { "phone_number",          3, 255, FMT_PHONE },
    { "identification_number", 1, 255, FMT_IDNUM },
    { "id_document_type",      0, 0,   FMT_DOCTYPE },
    { "date_of_birth",         0, 0,   FMT_DATE }
};

static const char *const doctype_names[] = {
    "NIN", "PASSPORT", "VOTERS_CARD", "DRIVERS_LICENSE"
};

#define CC_DOCTYPE_COUNT \
    ((int)(sizeof(doctype_names) / sizeof(doctype_names[0])))

/*
 * The 249 officially assigned ISO 3166-1 alpha-2 codes (as in the iso-codes
 * and tzdata iso3166.tab lists), sorted, plus the user-assigned XK that the
 * issuer accepts for Kosovo. Reserved codes such as UK and EU are absent on
 * purpose: the contract rejects them.
 */
static const char iso_codes[] =
    "AD" "AE" "AF" "AG" "AI" "AL" "AM" "AO" "AQ" "AR" "AS" "AT" "AU" "AW"
    "AX" "AZ" "BA" "BB" "BD" "BE" "BF" "BG" "BH" "BI" "BJ" "BL" "BM" "BN"
    "BO" "BQ" "BR" "BS" "BT" "BV" "BW" "BY" "BZ" "CA" "CC" "CD" "CF" "CG"
    "CH" "CI" "CK" "CL" "CM" "CN" "CO" "CR" "CU" "CV" "CW" "CX" "CY" "CZ"
    "DE" "DJ" "DK" "DM" "DO" "DZ" "EC" "EE" "EG" "EH" "ER" "ES" "ET" "FI"
    "FJ" "FK" "FM" "FO" "FR" "GA" "GB" "GD" "GE" "GF" "GG" "GH" "GI" "GL"
    "GM" "GN" "GP" "GQ" "GR" "GS" "GT" "GU" "GW" "GY" "HK" "HM" "HN" "HR"
    "HT" "HU" "ID" "IE" "IL" "IM" "IN" "IO" "IQ" "IR" "IS" "IT" "JE" "JM"
    "JO" "JP" "KE" "KG" "KH" "KI" "KM" "KN" "KP" "KR" "KW" "KY" "KZ" "LA"
    "LB" "LC" "LI" "LK" "LR" "LS" "LT" "LU" "LV" "LY" "MA" "MC" "MD" "ME"
    "MF" "MG" "MH" "MK" "ML" "MM" "MN" "MO" "MP" "MQ" "MR" "MS" "MT" "MU"
    "MV" "MW" "MX" "MY" "MZ" "NA" "NC" "NE" "NF" "NG" "NI" "NL" "NO" "NP"
    "NR" "NU" "NZ" "OM" "PA" "PE" "PF" "PG" "PH" "PK" "PL" "PM" "PN" "PR"
    "PS" "PT" "PW" "PY" "QA" "RE" "RO" "RS" "RU" "RW" "SA" "SB" "SC" "SD"
    "SE" "SG" "SH" "SI" "SJ" "SK" "SL" "SM" "SN" "SO" "SR" "SS" "ST" "SV"
    "SX" "SY" "SZ" "TC" "TD" "TF" "TG" "TH" "TJ" "TK" "TL" "TM" "TN" "TO"
    "TR" "TT" "TV" "TW" "TZ" "UA" "UG" "UM" "US" "UY" "UZ" "VA" "VC" "VE"
    "VG" "VI" "VN" "VU" "WF" "WS" "YE" "YT" "ZA" "ZM" "ZW"
    "XK";

static const char msg_email[] = "email must be a valid email";
static const char msg_iso[] =
    "country_iso_code must be a valid ISO 3166-1 alpha-2 code";
static const char msg_dial[] =
    "country_phone_code must be a dial code such as +237";
static const char msg_phone[] =
    "phone_number must contain only digits, spaces or hyphens";
static const char msg_doctype[] =
    "id_document_type must be one of NIN, PASSPORT, VOTERS_CARD, "
    "DRIVERS_LICENSE";
static const char msg_date[] =
    "date_of_birth must be a valid date in YYYY-MM-DD format";
static const char msg_adult[] = "Customer must be 18 or older";

/* Locale-free ASCII classes: the contract's "letters" and "digits" are
 * ASCII, and isalpha() would follow the process locale. */
static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static unsigned char to_upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

const char *cc_rules_field_name(cc_field_t f)
{
    if ((int)f < 0 || f >= CC_F__COUNT) {
        return NULL;
    }
    return field_rules[f].name;
}

int cc_rules_field_lookup(const char *name, size_t len)
{
    int i;

    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < CC_F__COUNT; i++) {
        if (strlen(field_rules[i].name) == len
            && memcmp(field_rules[i].name, name, len) == 0) {
            return i;
        }
    }
    return -1;
}

cc_doctype_t cc_rules_doctype(const char *v, size_t len)
{
    int i;

    if (v == NULL) {
        return CC_DOCTYPE_INVALID;
    }
    for (i = 0; i < CC_DOCTYPE_COUNT; i++) {
        if (strlen(doctype_names[i]) == len
            && memcmp(doctype_names[i], v, len) == 0) {
            return (cc_doctype_t)i;
        }
    }
    return CC_DOCTYPE_INVALID;
}

const char *cc_rules_doctype_name(cc_doctype_t t)
{
    if ((int)t < 0 || (int)t >= CC_DOCTYPE_COUNT) {
        return NULL;
    }
    return doctype_names[t];
}

int cc_rules_parse_enroll(const char *v, size_t len)
{
    if (v == NULL) {
        return -1;
    }
    if ((len == 4 && memcmp(v, "true", 4) == 0)
        || (len == 1 && v[0] == '1')) {
        return 1;
    }
    if ((len == 5 && memcmp(v, "false", 5) == 0)
        || (len == 1 && v[0] == '0')) {
        return 0;
    }
    return -1;
}

/*
 * Unicode 15 table 3-7 ("well-formed UTF-8 byte sequences"): the second
 * byte's range is narrowed after E0 (overlongs), ED (surrogates), F0
 * (overlongs) and F4 (beyond U+10FFFF); C0, C1 and F5..FF never start a
 * sequence. U+0000 is refused as well although it is well-formed: a field
 * value ends up in C strings and PostgreSQL text, which cannot hold it,
 * and no legitimate name, address or number contains it. A cut sequence
 * is only accepted when every byte present could still start a valid one.
 */
int cc_rules_utf8_valid(const char *s, size_t len, int allow_cut,
                        size_t *cps)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n = 0;

    while (i < len) {
        unsigned char c = p[i];
        unsigned char lo = 0x80, hi = 0xBF;
        size_t need, k;

        if (c == 0x00) {
            return 0;
        }
        if (c < 0x80) {
            i++;
            n++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        }
        else if (c == 0xE0) {
            need = 2;
            lo = 0xA0;
        }
        else if (c == 0xED) {
            need = 2;
            hi = 0x9F;
        }
        else if (c >= 0xE1 && c <= 0xEF) {
            need = 2;
        }
        else if (c == 0xF0) {
            need = 3;
            lo = 0x90;
        }
        else if (c >= 0xF1 && c <= 0xF3) {
            need = 3;
        }
        else if (c == 0xF4) {
            need = 3;
            hi = 0x8F;
        }
        else {
            return 0;
        }
        for (k = 1; k <= need; k++) {
            unsigned char b;

            if (i + k >= len) {
                if (!allow_cut) {
                    return 0;
                }
                /* The cut code point is not counted: it never arrived. */
                if (cps != NULL) {
                    *cps = n;
                }
                return 1;
            }
            b = p[i + k];
            if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) {
                return 0;
            }
        }
        i += need + 1;
        n++;
    }
    if (cps != NULL) {
        *cps = n;
    }
    return 1;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

/*
 * Year 0000 is refused: the proleptic Gregorian calendar the database uses
 * has no year zero, and nobody alive was born then anyway.
 */
int cc_rules_parse_date(const char *s, size_t len, int *y, int *m, int *d)
{
    const unsigned char *p = (const unsigned char *)s;
    int yy, mm, dd;
    size_t i;

    if (s == NULL || len != 10 || p[4] != '-' || p[7] != '-') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (i != 4 && i != 7 && !is_digit(p[i])) {
            return 0;
        }
    }
    yy = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10
         + (p[3] - '0');
    mm = (p[5] - '0') * 10 + (p[6] - '0');
    dd = (p[8] - '0') * 10 + (p[9] - '0');
    if (yy < 1 || mm < 1 || mm > 12 || dd < 1
        || dd > days_in_month(yy, mm)) {
        return 0;
    }
    if (y != NULL) {
        *y = yy;
    }
    if (m != NULL) {
        *m = mm;
    }
    if (d != NULL) {
        *d = dd;
    }
    return 1;
}

/*
 * Compares today with the 18th anniversary as a (year, month, day) tuple.
 * For 29 February that anniversary never exists (y + 18 is never a leap
 * year), and the first real date not before it is 1 March, as the contract
 * wants: no adjustment is needed.
 */
int cc_rules_is_adult(int y, int m, int d, int ty, int tm, int td)
{
    int ay = y + 18;

    if (ty != ay) {
        return ty > ay;
    }
    if (tm != m) {
        return tm > m;
    }
    return td >= d;
}

/*
 * Digits in groups split by single spaces or hyphens: no separator first,
 * last or next to another one. Counts the digits in *ndigits.
 */
static int digit_groups(const unsigned char *p, size_t len, size_t *ndigits)
{
    size_t i, n = 0;

    if (len == 0 || !is_digit(p[0]) || !is_digit(p[len - 1])) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (is_digit(p[i])) {
            n++;
        }
        else if (p[i] == ' ' || p[i] == '-') {
            if (!is_digit(p[i + 1])) {
                return 0; /* p[len - 1] is a digit, so i + 1 < len */
            }
        }
        else {
            return 0;
        }
    }
    *ndigits = n;
    return 1;
}

static int dial_code_valid(const unsigned char *p, size_t len)
{
    size_t n;

    if (len < 2 || p[0] != '+' || p[1] == '0') {
        return 0;
    }
    return digit_groups(p + 1, len - 1, &n) && n >= 1 && n <= 7;
}

static int iso_code_valid(const unsigned char *p, size_t len)
{
    unsigned char a, b;
    size_t i;

    if (len != 2) {
        return 0;
    }
    a = to_upper(p[0]);
    b = to_upper(p[1]);
    for (i = 0; i + 1 < sizeof(iso_codes); i += 2) {
        if ((unsigned char)iso_codes[i] == a
            && (unsigned char)iso_codes[i + 1] == b) {
            return 1;
        }
    }
    return 0;
}

static int is_atext(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int email_local_valid(const unsigned char *p, size_t len)
{
    size_t i;

    if (len < 1 || len > 64 || p[0] == '.' || p[len - 1] == '.') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (p[i] == '.') {
            if (p[i + 1] == '.') {
                return 0; /* p[len - 1] is not a dot, so i + 1 < len */
            }
        }
        else if (!is_atext(p[i])) {
            return 0;
        }
    }
    return 1;
}

static int email_label_valid(const unsigned char *p, size_t len, int last)
{
    size_t i;

    if (len < 1 || len > 63 || p[0] == '-' || p[len - 1] == '-') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_alnum(p[i]) && p[i] != '-') {
            return 0;
        }
    }
    if (!last) {
        return 1;
    }
    /* An A-label top-level domain ("xn--" in any case, as DNS ignores
     * case) may carry digits; any other one is letters only. */
    if (len > 4 && to_upper(p[0]) == 'X' && to_upper(p[1]) == 'N'
        && p[2] == '-' && p[3] == '-') {
        return 1;
    }
    if (len < 2) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_alpha(p[i])) {
            return 0;
        }
    }
    return 1;
}

/*
 * The contract's grammar, which also rules out IP literals (brackets and
 * an all-digit last label fail the label rules) and quoted local parts
 * (quotes are not atext).
 */
static int email_valid(const unsigned char *p, size_t len)
{
    const unsigned char *at = NULL, *dom, *label;
    size_t i, dlen, nlabels = 0;

    if (len > 254) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (p[i] == '@') {
            if (at != NULL) {
                return 0;
            }
            at = p + i;
        }
        else if (p[i] < 0x21 || p[i] > 0x7E) {
            return 0;
        }
    }
    if (at == NULL || !email_local_valid(p, (size_t)(at - p))) {
        return 0;
    }
    dom = at + 1;
    dlen = len - (size_t)(dom - p);
    if (dlen < 1 || dlen > 253) {
        return 0;
    }
    label = dom;
    for (i = 0; i <= dlen; i++) {
        if (i == dlen || dom[i] == '.') {
            int last = (i == dlen);

            if (!email_label_valid(label, (size_t)(dom + i - label), last)) {
                return 0;
            }
            nlabels++;
            label = dom + i + 1;
        }
    }
    return nlabels >= 2;
}

static int pattern_nin_ng(const unsigned char *p, size_t len)
{
    size_t i;

    if (len == 11) {
        for (i = 0; i < len; i++) {
            if (!is_digit(p[i])) {
                return 0;
            }
        }
        return 1;
    }
    if (len == 16) {
        /* Virtual NIN: two letters, twelve digits, two letters. */
        for (i = 0; i < len; i++) {
            int letter = (i < 2 || i >= 14);

            if (letter ? !is_alpha(p[i]) : !is_digit(p[i])) {
                return 0;
            }
        }
        return 1;
    }
    return 0;
}

static int idnum_valid(const unsigned char *v, size_t len, cc_doctype_t t,
                       int is_ng)
{
    /* Length was checked first, so the value holds at most 255 code
     * points (1020 bytes); spaces and hyphens only shrink it. */
    unsigned char norm[4 * 255];
    size_t i, n = 0, alnum = 0;

    for (i = 0; i < len; i++) {
        if (v[i] == ' ' || v[i] == '-') {
            continue;
        }
        if (n == sizeof(norm)) {
            return 0;
        }
        norm[n++] = v[i];
    }
    if (t == CC_DOCTYPE_NIN && is_ng) {
        return pattern_nin_ng(norm, n);
    }
    if (t == CC_DOCTYPE_PASSPORT) {
        if (n < 6 || n > 9) {
            return 0;
        }
        for (i = 0; i < n; i++) {
            if (!is_alnum(norm[i])) {
                return 0;
            }
        }
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (is_alnum(norm[i])) {
            alnum++;
        }
        else if (norm[i] != '/') {
            return 0;
        }
    }
    return alnum > 0;
}

typedef struct {
    cc_doctype_t doctype; /* of the id_document_type field, for the ID rule */
    int is_ng;            /* country_iso_code is NG in either case */
    int ty, tm, td;
} rules_ctx_t;

/* Format message of a field whose only limits are its format. */
static const char *format_only_message(fmt_t fmt)
{
    switch (fmt) {
    case FMT_EMAIL:
        return msg_email;
    case FMT_ISO:
        return msg_iso;
    case FMT_DIAL:
        return msg_dial;
    case FMT_DOCTYPE:
        return msg_doctype;
    case FMT_DATE:
        return msg_date;
    default:
        return NULL;
    }
}

/* Format rule of a field already known to be valid UTF-8 within length;
 * NULL when it passes. */
static const char *check_format(const field_rule_t *r, const cc_value_t *v,
                                const rules_ctx_t *rc, char *buf,
                                size_t bufsz)
{
    const unsigned char *p = (const unsigned char *)v->value;
    size_t n;
    int y, m, d;

    switch (r->fmt) {
    case FMT_NONE:
        return NULL;
    case FMT_EMAIL:
        return email_valid(p, v->len) ? NULL : msg_email;
    case FMT_ISO:
        return iso_code_valid(p, v->len) ? NULL : msg_iso;
    case FMT_DIAL:
        return dial_code_valid(p, v->len) ? NULL : msg_dial;
    case FMT_PHONE:
        return digit_groups(p, v->len, &n) ? NULL : msg_phone;
    case FMT_IDNUM:
        /* Without a valid type there is no format to hold it to; the
         * type's own error says what is wrong. */
        if (rc->doctype == CC_DOCTYPE_INVALID
            || idnum_valid(p, v->len, rc->doctype, rc->is_ng)) {
            return NULL;
        }
        snprintf(buf, bufsz, "%s is not a valid %s number", r->name,
                 cc_rules_doctype_name(rc->doctype));
        return buf;
    case FMT_DOCTYPE:
        return cc_rules_doctype(v->value, v->len) == CC_DOCTYPE_INVALID
               ? msg_doctype : NULL;
    case FMT_DATE:
        if (!cc_rules_parse_date(v->value, v->len, &y, &m, &d)) {
            return msg_date;
        }
        return cc_rules_is_adult(y, m, d, rc->ty, rc->tm, rc->td)
               ? NULL : msg_adult;
    }
    return NULL;
}

/* The first failing rule of one field, or NULL. */
static const char *check_field(const field_rule_t *r, const cc_value_t *v,
                               const rules_ctx_t *rc, char *buf,
                               size_t bufsz)
{
    size_t cps;

    if (!v->present || v->len == 0 || v->value == NULL) {
        snprintf(buf, bufsz, "%s is required", r->name);
        return buf;
    }
    if (v->truncated) {
        /* At least 512 code points arrived if the prefix is text at all,
         * far over every limit. */
        if (!cc_rules_utf8_valid(v->value, v->len, 1, NULL)) {
            snprintf(buf, bufsz, "%s must be valid UTF-8", r->name);
            return buf;
        }
        if (r->max > 0) {
            snprintf(buf, bufsz, "%s must be at most %d characters",
                     r->name, r->max);
            return buf;
        }
        return format_only_message(r->fmt);
    }
    if (!cc_rules_utf8_valid(v->value, v->len, 0, &cps)) {
        snprintf(buf, bufsz, "%s must be valid UTF-8", r->name);
        return buf;
    }
    if (r->min > 0 && cps < (size_t)r->min) {
        snprintf(buf, bufsz, "%s must be at least %d characters", r->name,
                 r->min);
        return buf;
    }
    if (r->max > 0 && cps > (size_t)r->max) {
        snprintf(buf, bufsz, "%s must be at most %d characters", r->name,
                 r->max);
        return buf;
    }
    return check_format(r, v, rc, buf, bufsz);
}

int cc_rules_validate(const cc_value_t *vals, int today_year, int today_month,
                      int today_day, cc_rules_error_fn err, void *ctx)
{
    const cc_value_t *iso = &vals[CC_F_COUNTRY_ISO_CODE];
    const cc_value_t *dt = &vals[CC_F_ID_DOCUMENT_TYPE];
    rules_ctx_t rc;
    char buf[CC_MSG_MAX];
    int f, failed = 0;

    rc.doctype = CC_DOCTYPE_INVALID;
    if (dt->present && !dt->truncated) {
        rc.doctype = cc_rules_doctype(dt->value, dt->len);
    }
    rc.is_ng = iso->present && !iso->truncated && iso->value != NULL
               && iso->len == 2
               && to_upper((unsigned char)iso->value[0]) == 'N'
               && to_upper((unsigned char)iso->value[1]) == 'G';
    rc.ty = today_year;
    rc.tm = today_month;
    rc.td = today_day;

    for (f = 0; f < CC_F__COUNT; f++) {
        const char *msg = check_field(&field_rules[f], &vals[f], &rc, buf,
                                      sizeof(buf));

        if (msg != NULL) {
            failed++;
            if (err != NULL) {
                err(ctx, field_rules[f].name, msg);
            }
        }
    }
    return failed;
}

int cc_rules_check_documents(cc_doctype_t t, int has_front, int has_back,
                             cc_rules_error_fn err, void *ctx)
{
    char buf[CC_MSG_MAX];
    int n = 0;

    if (!has_front) {
        n++;
        if (err != NULL) {
            err(ctx, "id_document_front", "id_document_front is required");
        }
    }
    if (!has_back
        && (t == CC_DOCTYPE_NIN || t == CC_DOCTYPE_DRIVERS_LICENSE)) {
        n++;
        if (err != NULL) {
            snprintf(buf, sizeof(buf), "id_document_back is required for %s",
                     cc_rules_doctype_name(t));
            err(ctx, "id_document_back", buf);
        }
    }
    return n;
}
