/*
 * handler_enroll.c: POST /customers/enroll, the JSON front-end of the
 * create pipeline (cc_create.h).
 *
 * The body is one flat JSON object of strings, at most 64 KiB, read whole
 * and parsed by the core's strict reader (cc_jflat.h), because json-c
 * keeps the last of duplicate keys without saying so. Fields, rules,
 * messages, precedence and 409s are the multipart endpoint's; the
 * documents are https URLs that the daemon fetches after the 201, which
 * echoes them in image / photo. The customer is always enrolled.
 */
#include "cc_create.h"
#include "cc_jflat.h"
#include "cc_url.h"

#include "apr_strings.h"
#include "http_core.h"

APLOG_USE_MODULE(cartevo_customers);

#define BODY_MAX (64 * 1024)

static const char *const url_names[2] = { "id_document_front_url",
                                          "id_document_back_url" };

/* What arrived for a key the reader reported. */
typedef struct {
    int seen;
    int kind;          /* CC_JFLAT_* */
    const char *value; /* CC_JFLAT_STRING: NUL-terminated copy */
    apr_size_t len;
} member_t;

#define EXTRAS_MAX 64

typedef struct {
    const char *name;
    apr_size_t len;
    int repeated;
} extra_t;

typedef struct {
    cc_create_t *c;
    member_t field[CC_F__COUNT];
    member_t url[2];
    /* Unknown and repeated names, reported after the fields. */
    extra_t extra[EXTRAS_MAX];
    int n_extra;
} body_t;

/* "application/json", any case, optionally "; charset=utf-8" and nothing
 * else. */
static int json_content_type(const char *ct)
{
    const char *p;

    if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
        return 0;
    }
    p = ct + 16;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (!*p) {
        return 1;
    }
    if (*p++ != ';') {
        return 0;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (strncasecmp(p, "charset=", 8) != 0) {
        return 0;
    }
    p += 8;
    if (strncasecmp(p, "utf-8", 5) == 0) {
        p += 5;
    }
    else if (strncasecmp(p, "\"utf-8\"", 7) == 0) {
        p += 7;
    }
    else {
        return 0;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return *p == '\0';
}

/* The checks on the request head: 0 to go on, 1 answered. */
static int check_head(request_rec *r, int *answer)
{
    const char *ce = apr_table_get(r->headers_in, "Content-Encoding");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t declared;

    if (!json_content_type(apr_table_get(r->headers_in, "Content-Type"))) {
        *answer = cc_create_refuse(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                   "Content-Type must be application/json");
        return 1;
    }
    if (ce && strcasecmp(ce, "identity") != 0) {
        *answer = cc_create_refuse(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                   "Content-Encoding is not supported");
        return 1;
    }
    if (cl && ap_parse_strict_length(&declared, cl) && declared > BODY_MAX) {
        *answer = cc_create_refuse(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   "Request body too large");
        return 1;
    }
    return 0;
}

/* Reads at most BODY_MAX bytes into *buf. OK, 413, or httpd's status. */
static int read_body(request_rec *r, char **buf, apr_size_t *len)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    char *out = apr_palloc(r->pool, BODY_MAX + 1);
    apr_size_t got = 0, n;
    apr_status_t rv;
    int eos = 0;

    while (!eos) {
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                            APR_BLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        eos = APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb));
        n = BODY_MAX + 1 - got;
        rv = apr_brigade_flatten(bb, out + got, &n);
        apr_brigade_cleanup(bb);
        if (rv != APR_SUCCESS) {
            return HTTP_BAD_REQUEST;
        }
        got += n;
        if (got > BODY_MAX) {
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
    }
    *buf = out;
    *len = got;
    return OK;
}

/* Fields the issuer's published schema lists that are accepted and
 * ignored, as on the multipart endpoint. */
static int ignored_key(const char *k, size_t n)
{
    return (n == 6 && memcmp(k, "number", 6) == 0)
           || (n == 5 && memcmp(k, "image", 5) == 0)
           || (n == 5 && memcmp(k, "photo", 5) == 0);
}

static int url_index(const char *k, size_t n)
{
    int i;

    for (i = 0; i < 2; i++) {
        if (strlen(url_names[i]) == n && memcmp(url_names[i], k, n) == 0) {
            return i;
        }
    }
    return -1;
}

/* At most 64 bytes of a name are echoed; a few more let the cleaner
 * finish a character cut there. Names are compared on what is kept, so a
 * long name sent twice is one entry. */
static void add_extra(body_t *b, const char *name, size_t len, int repeated)
{
    int i;

    len = len > 67 ? 67 : len;
    for (i = 0; i < b->n_extra; i++) {
        if (b->extra[i].len == len && memcmp(b->extra[i].name, name, len) == 0) {
            return;
        }
    }
    if (b->n_extra < EXTRAS_MAX) {
        b->extra[b->n_extra].name = apr_pstrmemdup(b->c->r->pool, name, len);
        b->extra[b->n_extra].len = len;
        b->extra[b->n_extra++].repeated = repeated;
    }
}

static void keep_member(body_t *b, member_t *m, int kind, const char *val,
                        size_t len)
{
    m->seen = 1;
    m->kind = kind;
    if (kind == CC_JFLAT_STRING) {
        m->value = apr_pstrmemdup(b->c->r->pool, val, len);
        m->len = len;
    }
}

static void on_member(void *ctx, const char *key, size_t key_len, int kind,
                      const char *val, size_t val_len)
{
    body_t *b = ctx;
    member_t *m = NULL;
    int i;

    if (kind & CC_JFLAT_KEY_BAD) {
        add_extra(b, key, key_len, 0);
        return;
    }
    if ((i = cc_rules_field_lookup(key, key_len)) >= 0) {
        m = &b->field[i];
    }
    else if ((i = url_index(key, key_len)) >= 0) {
        m = &b->url[i];
    }
    else if (ignored_key(key, key_len)) {
        return;
    }
    else {
        add_extra(b, key, key_len, 0);
        return;
    }
    if (m->seen) {
        add_extra(b, key, key_len, 1);
        return;
    }
    keep_member(b, m, CC_JFLAT_KIND(kind), val, val_len);
}

/* A member's verdict when it is not a usable string, else NULL. null
 * counts as missing (NULL, and *present = 0). */
static const char *type_error(request_rec *r, const member_t *m,
                              const char *name, int *present)
{
    *present = m->seen && m->kind == CC_JFLAT_STRING && m->len > 0;
    if (m->seen && m->kind == CC_JFLAT_OTHER) {
        return apr_pstrcat(r->pool, name, " must be a string", NULL);
    }
    if (m->seen && m->kind == CC_JFLAT_BAD_UTF8) {
        return apr_pstrcat(r->pool, name, " must be valid UTF-8", NULL);
    }
    return NULL;
}

static void take_fields(body_t *b)
{
    cc_create_t *c = b->c;
    int i, present;

    for (i = 0; i < CC_F__COUNT; i++) {
        c->field_error[i] = type_error(c->r, &b->field[i],
                                       cc_rules_field_name((cc_field_t)i),
                                       &present);
        c->fields[i].present = present;
        c->fields[i].value = b->field[i].value;
        c->fields[i].len = present ? b->field[i].len : 0;
    }
}

/* The first failing rule of a document URL (required is the caller's),
 * or NULL. */
static const char *url_error(request_rec *r, const member_t *m,
                             const char *name)
{
    int present;
    const char *e = type_error(r, m, name, &present);

    if (e || !present) {
        return e;
    }
    switch (cc_url_check_https(m->value, m->len, NULL)) {
    case CC_URL_OK:
        return NULL;
    case CC_URL_TOO_LONG:
        return apr_pstrcat(r->pool, name, " must be at most 2048 characters",
                           NULL);
    default:
        return apr_pstrcat(r->pool, name, " must be an https URL", NULL);
    }
}

/* The document URLs, front then back; which are kept. A passport's back
 * is ignored: not checked, not fetched, not fingerprinted. */
static void take_urls(body_t *b)
{
    cc_create_t *c = b->c;
    request_rec *r = c->r;
    const char *e;
    int i, present, needs_back;

    needs_back = c->dtype == CC_DOCTYPE_NIN
                 || c->dtype == CC_DOCTYPE_DRIVERS_LICENSE;
    c->ndocs = 0;
    for (i = 0; i < 2; i++) {
        if (i == CC_SIDE_BACK && c->dtype == CC_DOCTYPE_PASSPORT) {
            break;
        }
        e = url_error(r, &b->url[i], url_names[i]);
        type_error(r, &b->url[i], url_names[i], &present);
        if (!e && !present && (i == CC_SIDE_FRONT || needs_back)) {
            e = i == CC_SIDE_FRONT
                    ? "id_document_front_url is required"
                    : apr_pstrcat(r->pool, "id_document_back_url is required "
                                           "for ",
                                  cc_rules_doctype_name(c->dtype), NULL);
        }
        if (e) {
            cc_create_error(c, url_names[i], strlen(url_names[i]), e);
        }
        else if (present && c->ndocs == i) {
            c->doc[c->ndocs++].url = b->url[i].value;
        }
    }
}

int cc_handle_enroll(request_rec *r)
{
    cc_create_t c;
    body_t b;
    char *buf = NULL, *scratch;
    apr_size_t len = 0;
    int rc, i;

    if (cc_create_begin(r, &c, "/customers/enroll", &rc)
        || check_head(r, &rc)) {
        return rc;
    }
    rc = read_body(r, &buf, &len);
    if (rc != OK) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return cc_http_error(r, rc,
                             rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                                 ? "Request body too large"
                             : rc == HTTP_REQUEST_TIME_OUT
                                 ? "Request timeout"
                                 : "Malformed JSON body");
    }
    if (cc_create_recheck(&c, &rc)) {
        return rc;
    }
    memset(&b, 0, sizeof(b));
    b.c = &c;
    scratch = apr_palloc(r->pool, len + 1);
    /* Members are reported only when the whole document is well formed. */
    if (cc_jflat_parse(buf, len, on_member, &b, scratch, len + 1)
        != CC_JFLAT_OK) {
        return cc_http_error(r, HTTP_BAD_REQUEST, "Malformed JSON body");
    }
    take_fields(&b);
    cc_create_fields(&c);
    take_urls(&b);
    for (i = 0; i < b.n_extra; i++) {
        cc_create_extra(&c, b.extra[i].name, b.extra[i].len,
                        b.extra[i].repeated);
    }
    c.by_url = 1;
    c.enroll = 1;
    return cc_create_finish(&c);
}
