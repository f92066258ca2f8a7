/*
 * cc_multipart.c: streaming multipart/form-data push parser (contract and
 * policies in cc_multipart.h).
 *
 * One byte-driven state machine. Part data and the preamble are scanned in
 * bulk for CR/LF; only from a line break on are bytes held back, and only
 * while they still match "--" boundary (plus one byte after it), so at most
 * boundary length + 5 bytes are ever withheld and every byte is looked at
 * a bounded number of times whatever the chunking. Each decision depends
 * only on the bytes, never on where a chunk ends, which makes the events
 * identical for every split of the input.
 *
 * Choices the header leaves open, made so that no other parser (or a WAF
 * in front of us) can see different parts in the same body:
 *  - a "--" boundary line after a bare LF or bare CR, or ending in a bare
 *    LF, is an error rather than data, since lenient parsers split there;
 *    "--boundary" followed by anything but padding, CRLF or "--" is data;
 *  - a delimiter right after the header block ends an empty part;
 *  - a close-delimiter as the first delimiter is an empty form only at
 *    offset 0; behind a preamble it is an error (RFC 2046 wants a part);
 *  - after a close-delimiter, one CRLF is free and the rest is epilogue;
 *  - in quoted Content-Disposition values only \" and \\ are escapes.
 */
#include "cc_multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The longest request Content-Type value we look at. */
#define CT_MAX 1024

/* Parameters per Content-Disposition: enough for name, filename, their
 * starred forms and a few extras; keeps duplicate detection cheap. */
#define CD_MAX_PARAMS 16

#define ERR_CRLF "delimiters and part headers must end with crlf"

enum mp_state {
    ST_PREAMBLE,      /* before the first delimiter */
    ST_BODY,          /* part data */
    ST_PAD,           /* transport padding after a delimiter */
    ST_PAD_CR,        /* CR ending the padded delimiter line */
    ST_HDR_START,     /* at the start of a part header line */
    ST_HDR_LINE,      /* inside a part header line */
    ST_HDR_CR,        /* CR ending a part header line */
    ST_HDR_END_CR,    /* CR of the empty line ending the header block */
    ST_EPI_START,     /* just after the close-delimiter */
    ST_EPI_CR,        /* CR just after the close-delimiter */
    ST_EPILOGUE       /* discarding the epilogue */
};

/* Delimiter search inside ST_PREAMBLE and ST_BODY. */
enum scan_state {
    SC_DATA,          /* not at a line start */
    SC_CR,            /* a CR is held */
    SC_DASH,          /* at a line start, matching "--" boundary */
    SC_TAIL,          /* "--" boundary matched */
    SC_TAIL_DASH,     /* ... followed by "-" */
    SC_TAIL_CR        /* ... followed by CR */
};

/* What started the line being matched. */
enum line_break {
    LB_START,         /* offset 0 of the body, or the start of part data */
    LB_CRLF,
    LB_LF,
    LB_CR
};

struct cc_mp_parser {
    cc_mp_callbacks_t cb;
    void *ctx;
    cc_mp_limits_t lim;

    int status;
    const char *why;
    int finished;
    size_t offset;

    enum mp_state state;
    enum scan_state scan;
    enum line_break lb;
    size_t match;     /* bytes of dash_boundary matched in SC_DASH */

    /* Held-back bytes: line break + matched part of "--" boundary + one
     * byte after it; never emitted unless proven to be data. */
    unsigned char hold[2 + 2 + CC_MP_MAX_BOUNDARY + 1];
    size_t hold_len;

    char dash_boundary[2 + CC_MP_MAX_BOUNDARY];
    size_t dash_len;

    size_t preamble;
    size_t epilogue;
    size_t pad;
    size_t parts;
    int in_part;

    /* The current part's header block. */
    size_t block;
    size_t nheaders;
    size_t line_len;
    size_t colon_at;
    int have_colon;
    int seen_cd;
    int seen_ct;
    int has_name;
    int has_filename;
    size_t name_len;
    size_t filename_len;
    size_t ctype_len;
    char *line;       /* each of these holds max_header_line + 1 bytes */
    char *name;
    char *filename;
    char *ctype;
};

void cc_mp_limits_default(cc_mp_limits_t *lim)
{
    lim->max_parts = 64;
    lim->max_header_line = 1024;
    lim->max_header_block = 8192;
    lim->max_headers = 16;
    lim->max_preamble = 1024;
    lim->max_epilogue = 1024;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z');
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 2046 bchars (space included; it may not be the last one). */
static int is_bchar(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("'()+_,-./:=? ", c));
}

static int is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive comparison of s[0..len) with the NUL-terminated lit. */
static int ci_eq(const char *s, size_t len, const char *lit)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (lit[i] == '\0' || lower((unsigned char)s[i]) != lit[i]) {
            return 0;
        }
    }
    return lit[len] == '\0';
}

static int ci_eq2(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i;

    if (alen != blen) {
        return 0;
    }
    for (i = 0; i < alen; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

static int valid_boundary(const char *b, size_t len)
{
    size_t i;

    if (len == 0 || len > CC_MP_MAX_BOUNDARY || b[len - 1] == ' ') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_bchar((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* Request Content-Type                                                 */
/* ------------------------------------------------------------------ */

int cc_mp_parse_content_type(const char *ct, char *out, size_t *out_len,
                             const char **why)
{
    const unsigned char *s = (const unsigned char *)ct;
    size_t n, i, start, ows;
    int have_boundary = 0;

    if (why) {
        *why = NULL;
    }
    if (ct == NULL) {
        return CC_MP_CT_NOT_FORM_DATA;
    }
    /* Never read more than one byte past the cap, so an unterminated
     * hostile value costs at most CT_MAX steps. */
    for (n = 0; n <= CT_MAX && ct[n] != '\0'; n++) {
        continue;
    }

#define CT_FAIL(reason)                                                   \
    do {                                                                  \
        if (why) {                                                        \
            *why = (reason);                                              \
        }                                                                 \
        return CC_MP_CT_BAD;                                              \
    } while (0)

    i = 0;
    while (i < n && is_ows(s[i])) {
        i++;
    }
    start = i;
    while (i < n && is_tchar(s[i])) {
        i++;
    }
    if (i == start || i == n || s[i] != '/') {
        return CC_MP_CT_NOT_FORM_DATA;
    }
    i++;
    while (i < n && is_tchar(s[i])) {
        i++;
    }
    if (!ci_eq(ct + start, i - start, "multipart/form-data")) {
        return CC_MP_CT_NOT_FORM_DATA;
    }
    if (n > CT_MAX) {
        CT_FAIL("content-type too long");
    }

    for (;;) {
        size_t pname, pname_len, vstart, vlen = 0;
        int is_boundary;
        char val[CC_MP_MAX_BOUNDARY + 1];

        ows = i;
        while (i < n && is_ows(s[i])) {
            i++;
        }
        if (i == n) {
            if (ows != i) {
                CT_FAIL("trailing whitespace in content-type");
            }
            break;
        }
        if (s[i] != ';') {
            CT_FAIL("missing semicolon between parameters");
        }
        i++;
        while (i < n && is_ows(s[i])) {
            i++;
        }
        pname = i;
        while (i < n && is_tchar(s[i])) {
            i++;
        }
        pname_len = i - pname;
        if (pname_len == 0) {
            CT_FAIL("malformed content-type parameter");
        }
        if (i == n || s[i] != '=') {
            if (i < n && is_ows(s[i])) {
                CT_FAIL("whitespace around equals sign");
            }
            CT_FAIL("malformed content-type parameter");
        }
        i++;
        is_boundary = ci_eq(ct + pname, pname_len, "boundary");
        if (is_boundary && have_boundary) {
            CT_FAIL("duplicate boundary");
        }

        vstart = i;
        if (i < n && s[i] == '"') {
            i++;
            for (;;) {
                unsigned char c;

                if (i == n) {
                    CT_FAIL("unterminated quoted string");
                }
                c = s[i++];
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    /* A backslash is never a bchar; refusing it outright
                     * spares us deciding whether it escaped anything. */
                    if (is_boundary) {
                        CT_FAIL("invalid boundary character");
                    }
                    if (i == n) {
                        CT_FAIL("unterminated quoted string");
                    }
                    c = s[i++];
                }
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                    CT_FAIL("invalid character in content-type");
                }
                if (is_boundary) {
                    if (vlen == CC_MP_MAX_BOUNDARY) {
                        CT_FAIL("boundary too long");
                    }
                    val[vlen] = (char)c;
                }
                vlen++;
            }
        }
        else {
            while (i < n && is_tchar(s[i])) {
                i++;
            }
            vlen = i - vstart;
            /* Bchars such as "," "/" ":" are not tchars: a boundary using
             * them must be quoted, or parsers split it differently. */
            if (i < n && !is_ows(s[i]) && s[i] != ';') {
                CT_FAIL(is_boundary ? "invalid boundary character"
                                    : "malformed content-type parameter");
            }
            if (vlen == 0) {
                if (i < n && is_ows(s[i])) {
                    CT_FAIL("whitespace around equals sign");
                }
                CT_FAIL(is_boundary ? "empty boundary"
                                    : "empty parameter value");
            }
            if (is_boundary) {
                if (vlen > CC_MP_MAX_BOUNDARY) {
                    CT_FAIL("boundary too long");
                }
                memcpy(val, ct + vstart, vlen);
            }
        }

        if (is_boundary) {
            if (vlen == 0) {
                CT_FAIL("empty boundary");
            }
            if (val[vlen - 1] == ' ') {
                CT_FAIL("boundary ends with space");
            }
            if (!valid_boundary(val, vlen)) {
                CT_FAIL("invalid boundary character");
            }
            have_boundary = 1;
            if (out) {
                memcpy(out, val, vlen);
                out[vlen] = '\0';
            }
            if (out_len) {
                *out_len = vlen;
            }
        }
    }
    if (!have_boundary) {
        CT_FAIL("missing boundary");
    }
#undef CT_FAIL
    return CC_MP_CT_OK;
}

/* ------------------------------------------------------------------ */
/* Parser lifecycle                                                     */
/* ------------------------------------------------------------------ */

cc_mp_parser_t *cc_mp_create(const char *boundary, size_t boundary_len,
                             const cc_mp_limits_t *lim,
                             const cc_mp_callbacks_t *cb, void *ctx)
{
    cc_mp_parser_t *p;
    cc_mp_limits_t l;
    size_t bufsz;

    if (boundary == NULL || !valid_boundary(boundary, boundary_len)) {
        return NULL;
    }
    if (lim) {
        l = *lim;
    }
    else {
        cc_mp_limits_default(&l);
    }
    /* Four buffers of max_header_line + 1 bytes follow the struct. */
    if (l.max_header_line > (SIZE_MAX - sizeof(*p)) / 4 - 1) {
        return NULL;
    }
    bufsz = l.max_header_line + 1;
    p = calloc(1, sizeof(*p) + 4 * bufsz);
    if (p == NULL) {
        return NULL;
    }
    if (cb) {
        p->cb = *cb;
    }
    p->ctx = ctx;
    p->lim = l;
    p->status = CC_MP_OK;
    p->line = (char *)(p + 1);
    p->name = p->line + bufsz;
    p->filename = p->name + bufsz;
    p->ctype = p->filename + bufsz;

    p->dash_boundary[0] = '-';
    p->dash_boundary[1] = '-';
    memcpy(p->dash_boundary + 2, boundary, boundary_len);
    p->dash_len = boundary_len + 2;

    /* The first delimiter may open the body without a preceding CRLF. */
    p->state = ST_PREAMBLE;
    p->scan = SC_DASH;
    p->lb = LB_START;
    return p;
}

void cc_mp_destroy(cc_mp_parser_t *p)
{
    free(p);
}

const char *cc_mp_error(const cc_mp_parser_t *p)
{
    return p->why;
}

size_t cc_mp_offset(const cc_mp_parser_t *p)
{
    return p->offset;
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

static int fail(cc_mp_parser_t *p, const char *why)
{
    p->status = CC_MP_MALFORMED;
    p->why = why;
    return -1;
}

static int abort_parse(cc_mp_parser_t *p)
{
    p->status = CC_MP_ABORTED;
    return -1;
}

/* Hands bytes proven not to be a delimiter to the current context: the
 * preamble (counted, discarded) or the part's data callback. */
static int emit(cc_mp_parser_t *p, const unsigned char *data, size_t len)
{
    if (len == 0) {
        return 0;
    }
    if (p->state == ST_PREAMBLE) {
        if (len > p->lim.max_preamble - p->preamble) {
            return fail(p, "preamble too large");
        }
        p->preamble += len;
        return 0;
    }
    if (p->cb.on_part_data
        && p->cb.on_part_data(p->ctx, (const char *)data, len) != 0) {
        return abort_parse(p);
    }
    return 0;
}

static int release_hold(cc_mp_parser_t *p, size_t len)
{
    int rv = emit(p, p->hold, len);

    p->hold_len = 0;
    return rv;
}

static int end_part(cc_mp_parser_t *p)
{
    if (!p->in_part) {
        return 0;
    }
    p->in_part = 0;
    if (p->cb.on_part_end && p->cb.on_part_end(p->ctx) != 0) {
        return abort_parse(p);
    }
    return 0;
}

/* A delimiter line "--boundary [padding] CRLF" is complete. */
static int delimiter_done(cc_mp_parser_t *p)
{
    if (end_part(p) != 0) {
        return -1;
    }
    if (p->parts == p->lim.max_parts) {
        return fail(p, "too many parts");
    }
    p->parts++;
    p->state = ST_HDR_START;
    p->block = 0;
    p->nheaders = 0;
    p->seen_cd = 0;
    p->seen_ct = 0;
    p->has_name = 0;
    p->has_filename = 0;
    p->name_len = 0;
    p->filename_len = 0;
    p->ctype_len = 0;
    return 0;
}

/* The close-delimiter "--boundary--" is complete. */
static int close_done(cc_mp_parser_t *p)
{
    /* RFC 2046 wants at least one part; a bare close-delimiter at offset 0
     * is the usual encoding of an empty form, but one behind a preamble
     * is what a body with a mangled first delimiter looks like. */
    if (p->state == ST_PREAMBLE && p->lb != LB_START) {
        return fail(p, "no parts before final boundary");
    }
    if (end_part(p) != 0) {
        return -1;
    }
    p->state = ST_EPI_START;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Part headers                                                         */
/* ------------------------------------------------------------------ */

/* Parses a Content-Disposition value: "form-data" *( OWS ";" OWS token
 * "=" ( token / quoted-string ) ) OWS. Inside quotes only \" and \\ are
 * escapes; any other backslash is literal, because MSIE sends full
 * Windows paths unescaped (this is also what Go and ModSecurity do, and
 * it cannot change where a value ends). */
static int parse_disposition(cc_mp_parser_t *p, const char *v, size_t n)
{
    size_t i = 0, start, nparams = 0;
    size_t poff[CD_MAX_PARAMS], plen[CD_MAX_PARAMS];

    while (i < n && is_tchar((unsigned char)v[i])) {
        i++;
    }
    if (i == 0) {
        return fail(p, "malformed content-disposition");
    }
    if (!ci_eq(v, i, "form-data")) {
        return fail(p, "content-disposition is not form-data");
    }
    for (;;) {
        size_t k, pname, pname_len;
        char *dest = NULL;
        size_t dlen = 0;

        while (i < n && is_ows((unsigned char)v[i])) {
            i++;
        }
        if (i == n) {
            break;
        }
        if (v[i] != ';') {
            return fail(p, "malformed content-disposition");
        }
        i++;
        while (i < n && is_ows((unsigned char)v[i])) {
            i++;
        }
        pname = i;
        while (i < n && is_tchar((unsigned char)v[i])) {
            i++;
        }
        pname_len = i - pname;
        if (pname_len == 0 || i == n || v[i] != '=') {
            return fail(p, "malformed content-disposition");
        }
        i++;
        for (k = 0; k < nparams; k++) {
            if (ci_eq2(v + poff[k], plen[k], v + pname, pname_len)) {
                return fail(p, "duplicate content-disposition parameter");
            }
        }
        if (nparams == CD_MAX_PARAMS) {
            return fail(p, "too many content-disposition parameters");
        }
        poff[nparams] = pname;
        plen[nparams] = pname_len;
        nparams++;

        /* name*= and filename*= fall through to "ignored": the plain
         * parameter is the only one we honour. */
        if (ci_eq(v + pname, pname_len, "name")) {
            dest = p->name;
            p->has_name = 1;
        }
        else if (ci_eq(v + pname, pname_len, "filename")) {
            dest = p->filename;
            p->has_filename = 1;
        }

        if (i < n && v[i] == '\'') {
            return fail(p, "single-quoted parameter value");
        }
        if (i < n && v[i] == '"') {
            i++;
            for (;;) {
                char c;

                if (i == n) {
                    return fail(p, "unterminated quoted string");
                }
                c = v[i++];
                if (c == '"') {
                    break;
                }
                if (c == '\\' && i < n && (v[i] == '"' || v[i] == '\\')) {
                    c = v[i++];
                }
                if (dest) {
                    dest[dlen] = c;
                }
                dlen++;
            }
            /* A raw quote inside a quoted value (old Firefox and IE send
             * those) leaves text here; refuse to guess where it ended. */
            k = i;
            while (k < n && is_ows((unsigned char)v[k])) {
                k++;
            }
            if (k < n && v[k] != ';') {
                return fail(p, "garbage after quoted parameter value");
            }
        }
        else {
            start = i;
            while (i < n && is_tchar((unsigned char)v[i])) {
                i++;
            }
            dlen = i - start;
            if (dlen == 0) {
                if (dest == p->name) {
                    return fail(p, "empty part name");
                }
                return fail(p, "malformed content-disposition");
            }
            if (dest) {
                memcpy(dest, v + start, dlen);
            }
        }
        if (dest == p->name) {
            p->name_len = dlen;
        }
        else if (dest == p->filename) {
            p->filename_len = dlen;
        }
        if (dest) {
            dest[dlen] = '\0';
        }
    }
    if (!p->has_name) {
        return fail(p, "missing part name");
    }
    if (p->name_len == 0) {
        return fail(p, "empty part name");
    }
    return 0;
}

/* A complete header line sits in p->line[0..line_len). */
static int header_line_done(cc_mp_parser_t *p)
{
    const char *name = p->line;
    size_t name_len = p->colon_at;
    const char *v;
    size_t n;

    if (!p->have_colon) {
        return fail(p, "part header without colon");
    }
    v = p->line + p->colon_at + 1;
    n = p->line_len - p->colon_at - 1;
    while (n > 0 && is_ows((unsigned char)v[0])) {
        v++;
        n--;
    }
    while (n > 0 && is_ows((unsigned char)v[n - 1])) {
        n--;
    }
    if (ci_eq(name, name_len, "content-disposition")) {
        if (p->seen_cd) {
            return fail(p, "duplicate content-disposition");
        }
        p->seen_cd = 1;
        return parse_disposition(p, v, n);
    }
    if (ci_eq(name, name_len, "content-type")) {
        if (p->seen_ct) {
            return fail(p, "duplicate content-type");
        }
        p->seen_ct = 1;
        memcpy(p->ctype, v, n);
        p->ctype[n] = '\0';
        p->ctype_len = n;
        return 0;
    }
    if (ci_eq(name, name_len, "content-transfer-encoding")) {
        /* RFC 7578 4.7 deprecates it; storing still-encoded bytes as the
         * document would be worse than refusing. */
        if (!ci_eq(v, n, "7bit") && !ci_eq(v, n, "8bit")
            && !ci_eq(v, n, "binary")) {
            return fail(p, "unsupported content-transfer-encoding");
        }
    }
    return 0;
}

static int headers_done(cc_mp_parser_t *p)
{
    cc_mp_part_t part;

    if (!p->seen_cd) {
        return fail(p, "missing content-disposition");
    }
    part.name = p->name;
    part.name_len = p->name_len;
    part.filename = p->has_filename ? p->filename : NULL;
    part.filename_len = p->has_filename ? p->filename_len : 0;
    part.content_type = p->seen_ct ? p->ctype : NULL;
    part.content_type_len = p->seen_ct ? p->ctype_len : 0;
    p->in_part = 1;
    if (p->cb.on_part_begin && p->cb.on_part_begin(p->ctx, &part) != 0) {
        return abort_parse(p);
    }
    /* Part data begins at a line start: a delimiter right after the
     * header block is an empty part (as ModSecurity and Go see it). */
    p->state = ST_BODY;
    p->scan = SC_DASH;
    p->lb = LB_START;
    p->match = 0;
    p->hold_len = 0;
    return 0;
}

/* One byte of a header line other than CR/LF. */
static int header_byte(cc_mp_parser_t *p, unsigned char c)
{
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return fail(p, "invalid character in part header");
    }
    if (!p->have_colon) {
        if (c == ':') {
            if (p->line_len == 0) {
                return fail(p, "empty part header name");
            }
            p->have_colon = 1;
            p->colon_at = p->line_len;
        }
        else if (!is_tchar(c)) {
            return fail(p, "invalid part header name");
        }
    }
    if (p->line_len == p->lim.max_header_line) {
        return fail(p, "part header line too long");
    }
    p->line[p->line_len++] = (char)c;
    return 0;
}

static int header_step(cc_mp_parser_t *p, unsigned char c)
{
    if (p->block == p->lim.max_header_block) {
        return fail(p, "part headers too large");
    }
    p->block++;

    switch (p->state) {
    case ST_HDR_START:
        if (c == '\r') {
            p->state = ST_HDR_END_CR;
            return 0;
        }
        if (c == '\n') {
            return fail(p, ERR_CRLF);
        }
        if (is_ows(c)) {
            return fail(p, "folded part header");
        }
        if (p->nheaders == p->lim.max_headers) {
            return fail(p, "too many part headers");
        }
        p->nheaders++;
        p->line_len = 0;
        p->have_colon = 0;
        p->colon_at = 0;
        p->state = ST_HDR_LINE;
        return header_byte(p, c);
    case ST_HDR_LINE:
        if (c == '\r') {
            p->state = ST_HDR_CR;
            return 0;
        }
        if (c == '\n') {
            return fail(p, ERR_CRLF);
        }
        return header_byte(p, c);
    case ST_HDR_CR:
        if (c != '\n') {
            return fail(p, "bare cr in part header");
        }
        p->state = ST_HDR_START;
        return header_line_done(p);
    case ST_HDR_END_CR:
        if (c != '\n') {
            return fail(p, "bare cr in part header");
        }
        return headers_done(p);
    default:
        return fail(p, "internal parser state");
    }
}

/* ------------------------------------------------------------------ */
/* Delimiter search                                                     */
/* ------------------------------------------------------------------ */

/* Where byte c next occurs in buf[from..end), or end. */
static size_t find(const unsigned char *buf, size_t from, size_t end, int c)
{
    const unsigned char *at = memchr(buf + from, c, end - from);

    return at ? (size_t)(at - buf) : end;
}

/* Whether the line break at buf[k] can begin a delimiter (or the bare CR
 * or LF before "--" that is an error): only when "-" follows it, after
 * the LF of a CR LF. A break whose next bytes are not in this chunk yet
 * (or past the preamble's cap) is held like any other, so the events and
 * the offset of an error stay those of a byte-wise scan. */
static int may_delimit(const unsigned char *buf, size_t k, size_t len)
{
    size_t n = k + 1;

    if (buf[k] == '\r' && n < len && buf[n] == '\n') {
        n++;
    }
    return n >= len || buf[n] == '-';
}

/* The end of the data run starting at buf[i]: the first line break that
 * may begin a delimiter, or end. memchr does the scanning, which matters
 * since binary documents hold a CR or LF every 128 bytes on average and
 * nearly none of them is followed by "-". */
static size_t data_run(const unsigned char *buf, size_t i, size_t end)
{
    size_t cr = find(buf, i, end, '\r'), lf = find(buf, i, end, '\n');

    for (;;) {
        size_t k = cr < lf ? cr : lf;

        if (k == end || may_delimit(buf, k, end)) {
            return k;
        }
        if (k == cr) {
            cr = find(buf, k + 1, end, '\r');
        }
        else {
            lf = find(buf, k + 1, end, '\n');
        }
    }
}

/* Part data (or preamble) from buf[i]: emits the run up to the next line
 * break that may begin a delimiter and holds that break; returns where
 * scanning goes on. */
static size_t scan_data(cc_mp_parser_t *p, const unsigned char *buf,
                        size_t i, size_t len)
{
    size_t j, end = len;

    /* In the preamble, stop right at the byte that crosses the cap so the
     * error offset does not depend on chunking. */
    if (p->state == ST_PREAMBLE
        && end - i > p->lim.max_preamble - p->preamble) {
        end = i + (p->lim.max_preamble - p->preamble) + 1;
    }
    j = data_run(buf, i, end);
    if (emit(p, buf + i, j - i) != 0 || j == end) {
        return j;
    }
    p->hold[0] = buf[j];
    p->hold_len = 1;
    if (buf[j] == '\r') {
        p->scan = SC_CR;
    }
    else {
        p->lb = LB_LF;
        p->match = 0;
        p->scan = SC_DASH;
    }
    return j + 1;
}

/* What is held cannot be a delimiter: it is data, and the byte at hand
 * is looked at again as data. */
static int not_a_delimiter(cc_mp_parser_t *p)
{
    p->scan = SC_DATA;
    return release_hold(p, p->hold_len);
}

/* The steps of the delimiter match, one byte each. They return 1 when c
 * was consumed (also on an error, which includes the offending byte) and
 * 0 when c must be looked at again in the new scan state. */
static int step_cr(cc_mp_parser_t *p, unsigned char c)
{
    if (c == '\n' || c == '-') {
        p->hold[p->hold_len++] = c;
        p->lb = c == '\n' ? LB_CRLF : LB_CR;
        p->match = c == '\n' ? 0 : 1;
        p->scan = SC_DASH;
        return 1;
    }
    if (c == '\r') {
        if (release_hold(p, 1) == 0) {
            p->hold[0] = c;
            p->hold_len = 1;
        }
        return 1;
    }
    return not_a_delimiter(p) != 0;
}

static int step_dash(cc_mp_parser_t *p, unsigned char c)
{
    /* The held bytes hold no CR/LF after the line break, so no delimiter
     * can start inside them. */
    if (c != (unsigned char)p->dash_boundary[p->match]) {
        return not_a_delimiter(p) != 0;
    }
    p->hold[p->hold_len++] = c;
    if (++p->match == p->dash_len) {
        p->scan = SC_TAIL;
    }
    return 1;
}

/* A "--" boundary line after a bare CR or LF is an error, not data. */
static int bare_break(const cc_mp_parser_t *p)
{
    return p->lb == LB_LF || p->lb == LB_CR;
}

static int step_tail(cc_mp_parser_t *p, unsigned char c)
{
    if (c == '-' || c == '\r') {
        p->hold[p->hold_len++] = c;
        p->scan = c == '-' ? SC_TAIL_DASH : SC_TAIL_CR;
    }
    else if (c == '\n' || (is_ows(c) && bare_break(p))) {
        fail(p, ERR_CRLF);
    }
    else if (is_ows(c)) {
        p->hold_len = 0;
        p->pad = 1;
        p->state = ST_PAD;
    }
    else {
        return not_a_delimiter(p) != 0;
    }
    return 1;
}

static int step_tail_dash(cc_mp_parser_t *p, unsigned char c)
{
    if (c != '-') {
        return not_a_delimiter(p) != 0;
    }
    if (bare_break(p)) {
        fail(p, ERR_CRLF);
        return 1;
    }
    p->hold_len = 0;
    close_done(p);
    return 1;
}

static int step_tail_cr(cc_mp_parser_t *p, unsigned char c)
{
    if (c != '\n') {
        /* "--boundary" CR X is data, but that CR may still begin the next
         * line break. */
        if (release_hold(p, p->hold_len - 1) != 0) {
            return 1;
        }
        p->hold[0] = '\r';
        p->hold_len = 1;
        p->scan = SC_CR;
        return 0;
    }
    if (bare_break(p)) {
        fail(p, ERR_CRLF);
        return 1;
    }
    p->hold_len = 0;
    delimiter_done(p);
    return 1;
}

/* Scans preamble or part data from buf[0..len). Returns the number of
 * bytes consumed; on error that includes the offending byte. Stops early
 * when a delimiter changes the state. */
static size_t scan(cc_mp_parser_t *p, const unsigned char *buf, size_t len)
{
    size_t i = 0;
    enum mp_state entry = p->state;

    while (i < len && p->status == CC_MP_OK && p->state == entry) {
        switch (p->scan) {
        case SC_DATA:
            i = scan_data(p, buf, i, len);
            break;
        case SC_CR:
            i += (size_t)step_cr(p, buf[i]);
            break;
        case SC_DASH:
            i += (size_t)step_dash(p, buf[i]);
            break;
        case SC_TAIL:
            i += (size_t)step_tail(p, buf[i]);
            break;
        case SC_TAIL_DASH:
            i += (size_t)step_tail_dash(p, buf[i]);
            break;
        case SC_TAIL_CR:
            i += (size_t)step_tail_cr(p, buf[i]);
            break;
        }
    }
    return i;
}

/* ------------------------------------------------------------------ */
/* Feeding                                                              */
/* ------------------------------------------------------------------ */

/* Counts n epilogue bytes; returns how many were consumed, including the
 * one that crossed the cap. */
static size_t epilogue_bytes(cc_mp_parser_t *p, size_t n)
{
    size_t room = p->lim.max_epilogue - p->epilogue;

    if (n > room) {
        fail(p, "epilogue too large");
        return room + 1;
    }
    p->epilogue += n;
    return n;
}

int cc_mp_feed(cc_mp_parser_t *p, const char *data, size_t len)
{
    const unsigned char *buf = (const unsigned char *)data;
    size_t i = 0;

    if (p->status != CC_MP_OK) {
        return p->status;
    }
    if (p->finished) {
        if (len > 0) {
            fail(p, "data after end of input");
        }
        return p->status;
    }

    while (i < len && p->status == CC_MP_OK) {
        unsigned char c = buf[i];

        switch (p->state) {
        case ST_PREAMBLE:
        case ST_BODY:
            i += scan(p, buf + i, len - i);
            break;
        case ST_PAD:
            if (is_ows(c)) {
                if (p->pad >= p->lim.max_header_line) {
                    fail(p, "delimiter line too long");
                }
                p->pad++;
            }
            else if (c == '\r') {
                p->state = ST_PAD_CR;
            }
            else if (c == '\n') {
                fail(p, ERR_CRLF);
            }
            else {
                fail(p, "garbage after delimiter");
            }
            i++;
            break;
        case ST_PAD_CR:
            if (c == '\n') {
                delimiter_done(p);
            }
            else {
                fail(p, "garbage after delimiter");
            }
            i++;
            break;
        case ST_HDR_START:
        case ST_HDR_LINE:
        case ST_HDR_CR:
        case ST_HDR_END_CR:
            header_step(p, c);
            i++;
            break;
        case ST_EPI_START:
            if (c == '\r') {
                p->state = ST_EPI_CR;
                i++;
            }
            else {
                p->state = ST_EPILOGUE;
            }
            break;
        case ST_EPI_CR:
            /* The CRLF ending the close-delimiter line is not epilogue;
             * a bare CR is, and the byte after it is looked at again. */
            p->state = ST_EPILOGUE;
            if (c == '\n') {
                i++;
            }
            else {
                epilogue_bytes(p, 1);
                if (p->status != CC_MP_OK) {
                    i++;
                }
            }
            break;
        case ST_EPILOGUE:
            i += epilogue_bytes(p, len - i);
            break;
        }
    }
    p->offset += i;
    return p->status;
}

int cc_mp_finish(cc_mp_parser_t *p)
{
    if (p->status != CC_MP_OK || p->finished) {
        return p->status;
    }
    p->finished = 1;
    switch (p->state) {
    case ST_EPI_START:
    case ST_EPILOGUE:
        break;
    case ST_EPI_CR:
        epilogue_bytes(p, 1);
        break;
    case ST_PREAMBLE:
        fail(p, p->offset == 0 ? "empty body" : "no delimiter found");
        break;
    default:
        fail(p, "final boundary missing");
        break;
    }
    return p->status;
}
