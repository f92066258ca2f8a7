/*
 * cc_jflat.c: the strict flat-object JSON reader (see cc_jflat.h).
 *
 * A recursive-descent parser over RFC 8259's grammar, run twice: first to
 * check the whole document with no output, then, only if it is valid, to
 * decode and report the top-level members. The second run cannot fail
 * when the first succeeded (same input, same code path), and a caller
 * never sees members of a document it must reject. Recursion is bounded
 * by CC_JFLAT_MAX_DEPTH.
 */
#include "cc_jflat.h"

#include <string.h>

typedef struct {
    const unsigned char *p;   /* next byte */
    const unsigned char *end; /* one past the last byte */
    int depth;                /* objects and arrays open around p */
    char *out;                /* decode buffer; NULL while checking */
    cc_jflat_member_fn fn;    /* NULL while checking */
    void *ctx;
} jp_t;

static int parse_value(jp_t *j);

static void skip_ws(jp_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t'
                             || *j->p == '\n' || *j->p == '\r')) {
        j->p++;
    }
}

/* 1 when the next byte is c; consumes it. */
static int eat(jp_t *j, unsigned char c)
{
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    int i, h;

    for (i = 0; i < 4; i++) {
        if ((h = hex_value(p[i])) < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

/*
 * Length of the well-formed UTF-8 sequence at p (lead byte >= 0x80), or 0
 * when it is not one: overlong, a surrogate, beyond U+10FFFF, a stray
 * continuation byte or cut short. A continuation byte is >= 0x80, so a
 * bad sequence never swallows the closing quote or a backslash.
 */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n, i;

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) {
            return 0;
        }
    }
    return n;
}

/* Appends code point cp as UTF-8 at out[*n] (out may be NULL). */
static void put_cp(char *out, size_t *n, unsigned long cp)
{
    unsigned char b[4];
    size_t k;

    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (out) {
        memcpy(out + *n, b, k);
    }
    *n += k;
}

/*
 * A \u escape at j->p (just past the backslash, at the "u"): decodes it,
 * joining a following low surrogate escape to a high one. Returns the
 * code point, 0xFFFD with *bad set for a lone surrogate, or -1 for a
 * syntax error (fewer than four hex digits).
 */
static long u_escape(jp_t *j, int *bad)
{
    long cp, lo;

    if (j->end - j->p < 5 || (cp = hex4(j->p + 1)) < 0) {
        return -1;
    }
    j->p += 5;
    if (cp >= 0xdc00 && cp <= 0xdfff) {
        *bad = 1;
        return 0xfffd;
    }
    if (cp < 0xd800 || cp > 0xdbff) {
        *bad |= cp == 0;
        return cp;
    }
    /* A high surrogate: only an immediately following low one pairs. A
     * malformed escape after it is left for the caller to refuse. */
    if (j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u'
        && (lo = hex4(j->p + 2)) >= 0xdc00 && lo <= 0xdfff) {
        j->p += 6;
        return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    *bad = 1;
    return 0xfffd;
}

/* One escape at j->p (just past the backslash): appends its bytes.
 * Returns 0, or -1 for an escape RFC 8259 does not have. */
static int escape(jp_t *j, char *out, size_t *n, int *bad)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *k;
    long cp;

    if (j->p >= j->end) {
        return -1;
    }
    if (*j->p == 'u') {
        if ((cp = u_escape(j, bad)) < 0) {
            return -1;
        }
        put_cp(out, n, (unsigned long)cp);
        return 0;
    }
    if (*j->p == '\0' || !(k = strchr(from, *j->p))) {
        return -1;
    }
    if (out) {
        out[*n] = to[k - from];
    }
    (*n)++;
    j->p++;
    return 0;
}

/*
 * A string at j->p (at its opening quote). Decodes into out (NULL: check
 * only), sets *len to the decoded length and *bad when it is not valid
 * UTF-8 without U+0000; an invalid raw byte is kept as it is. Returns 0,
 * or -1 on a syntax error (unterminated, raw control character, bad
 * escape).
 */
static int parse_string(jp_t *j, char *out, size_t *len, int *bad)
{
    size_t n = 0, k;

    *bad = 0;
    if (!eat(j, '"')) {
        return -1;
    }
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = *j->p;

        if (c < 0x20) {
            return -1;
        }
        if (c == '\\') {
            j->p++;
            if (escape(j, out, &n, bad) != 0) {
                return -1;
            }
            continue;
        }
        k = c < 0x80 ? 1 : utf8_seq(j->p, j->end);
        if (k == 0) {
            *bad = 1;
            k = 1;
        }
        if (out) {
            memcpy(out + n, j->p, k);
        }
        n += k;
        j->p += k;
    }
    *len = n;
    return eat(j, '"') ? 0 : -1;
}

static int digits(jp_t *j)
{
    const unsigned char *start = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        j->p++;
    }
    return j->p > start ? 0 : -1;
}

/* number = [ "-" ] int [ frac ] [ exp ]; int = "0" / digit1-9 *DIGIT. */
static int parse_number(jp_t *j)
{
    eat(j, '-');
    if (!eat(j, '0') && (j->p >= j->end || *j->p < '1' || *j->p > '9'
                         || digits(j) != 0)) {
        return -1;
    }
    if (eat(j, '.') && digits(j) != 0) {
        return -1;
    }
    if (eat(j, 'e') || eat(j, 'E')) {
        if (!eat(j, '+')) {
            eat(j, '-');
        }
        return digits(j);
    }
    return 0;
}

static int parse_literal(jp_t *j, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) {
        return -1;
    }
    j->p += n;
    return 0;
}

/* A top-level member's value: decoded when reporting, kind in *kind. */
static int top_value(jp_t *j, char *out, size_t *len, int *kind)
{
    int bad;

    *len = 0;
    if (j->p < j->end && *j->p == '"') {
        if (parse_string(j, out, len, &bad) != 0) {
            return -1;
        }
        *kind = bad ? CC_JFLAT_BAD_UTF8 : CC_JFLAT_STRING;
        return 0;
    }
    if (j->p < j->end && *j->p == 'n') {
        *kind = CC_JFLAT_NULL;
        return parse_literal(j, "null");
    }
    *kind = CC_JFLAT_OTHER;
    return parse_value(j);
}

/* member = string name-separator value. At depth 1 (the body's object)
 * the member is decoded and reported when j->fn is set. */
static int parse_member(jp_t *j)
{
    int top = j->depth == 1, key_bad, kind;
    char *kout = top ? j->out : NULL;
    size_t klen, vlen;

    if (parse_string(j, kout, &klen, &key_bad) != 0) {
        return -1;
    }
    skip_ws(j);
    if (!eat(j, ':')) {
        return -1;
    }
    skip_ws(j);
    if (!top) {
        return parse_value(j);
    }
    if (top_value(j, kout ? kout + klen : NULL, &vlen, &kind) != 0) {
        return -1;
    }
    if (j->fn) {
        if (key_bad) {
            kind |= CC_JFLAT_KEY_BAD;
        }
        j->fn(j->ctx, kout, klen, kind,
              CC_JFLAT_KIND(kind) == CC_JFLAT_STRING ? kout + klen : NULL,
              vlen);
    }
    return 0;
}

/* An object (close == '}') or array (close == ']') at its opening
 * bracket: items separated by commas, no trailing comma. */
static int parse_container(jp_t *j, unsigned char close)
{
    int rc = 0;

    j->p++;
    if (++j->depth > CC_JFLAT_MAX_DEPTH) {
        return -1;
    }
    skip_ws(j);
    if (!eat(j, close)) {
        do {
            skip_ws(j);
            rc = close == '}' ? parse_member(j) : parse_value(j);
            if (rc != 0) {
                return -1;
            }
            skip_ws(j);
        } while (eat(j, ','));
        if (!eat(j, close)) {
            return -1;
        }
    }
    j->depth--;
    return 0;
}

static int parse_value(jp_t *j)
{
    size_t len;
    int bad;

    if (j->p >= j->end) {
        return -1;
    }
    switch (*j->p) {
    case '{':
        return parse_container(j, '}');
    case '[':
        return parse_container(j, ']');
    case '"':
        return parse_string(j, NULL, &len, &bad);
    case 't':
        return parse_literal(j, "true");
    case 'f':
        return parse_literal(j, "false");
    case 'n':
        return parse_literal(j, "null");
    default:
        return parse_number(j);
    }
}

/* ws object ws, and nothing else. */
static int parse_document(jp_t *j)
{
    skip_ws(j);
    if (j->p >= j->end || *j->p != '{' || parse_container(j, '}') != 0) {
        return -1;
    }
    skip_ws(j);
    return j->p == j->end ? 0 : -1;
}

int cc_jflat_parse(const char *buf, size_t len, cc_jflat_member_fn fn,
                   void *ctx, char *scratch, size_t scratch_len)
{
    jp_t j;

    if (fn && (scratch_len < len || !scratch)) {
        return CC_JFLAT_NOSPACE;
    }
    if (!buf) {
        return CC_JFLAT_MALFORMED;
    }
    memset(&j, 0, sizeof(j));
    j.p = (const unsigned char *)buf;
    j.end = j.p + len;
    if (parse_document(&j) != 0) {
        return CC_JFLAT_MALFORMED;
    }
    if (!fn) {
        return CC_JFLAT_OK;
    }
    j.p = (const unsigned char *)buf;
    j.depth = 0;
    j.out = scratch;
    j.fn = fn;
    j.ctx = ctx;
    return parse_document(&j) == 0 ? CC_JFLAT_OK : CC_JFLAT_MALFORMED;
}
