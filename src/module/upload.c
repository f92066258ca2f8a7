/*
 * upload.c: the POST /customers body, streamed (see cc_upload.h).
 *
 * The brigade loop follows mod_reflector/cgi_common: READBYTES, BLOCK,
 * always apr_bucket_read, stop at EOS, clean the brigade each pass, so a
 * chunked body or Expect: 100-continue behave like any other.
 */
#include "cc_upload.h"
#include "cc_multipart.h"
#include "cc_sniff.h"

#include "apr_strings.h"

APLOG_USE_MODULE(cartevo_customers);

const char *const cc_upload_doc_names[2] = { "id_document_front",
                                             "id_document_back" };

enum { CUR_IGNORE, CUR_TEXT, CUR_FILE };

typedef struct {
    request_rec *r;
    cc_upload_t *up;
    apr_off_t max_file;
    int cur;
    int cur_index;
} ctx_t;

static void stop(ctx_t *c, int status, const char *message)
{
    c->up->status = status;
    c->up->message = message;
}

/* At most 64 bytes of a name are echoed (cc_json_clean_field), cut at a
 * character boundary: keeping 3 more lets it finish, or drop, a character
 * that starts before the cut instead of seeing it broken. */
#define EXTRA_NAME_KEEP (64 + 3)

static void add_extra(ctx_t *c, const char *name, apr_size_t len,
                      int repeated)
{
    cc_upload_t *up = c->up;
    int i;

    /* Names are compared on what is kept, so a long name sent twice is
     * one entry. */
    len = len > EXTRA_NAME_KEEP ? EXTRA_NAME_KEEP : len;
    for (i = 0; i < up->n_extras; i++) {
        if (up->extras[i].name_len == len
            && memcmp(up->extras[i].name, name, len) == 0) {
            return;
        }
    }
    if (up->n_extras < CC_MAX_EXTRAS) {
        up->extras[up->n_extras].name = apr_pstrmemdup(c->r->pool, name, len);
        up->extras[up->n_extras].name_len = len;
        up->extras[up->n_extras].repeated = repeated;
        up->n_extras++;
    }
}

static int doc_index(const char *name, apr_size_t len)
{
    int i;

    for (i = 0; i < 2; i++) {
        if (strlen(cc_upload_doc_names[i]) == len
            && memcmp(cc_upload_doc_names[i], name, len) == 0) {
            return i;
        }
    }
    return -1;
}

/* Fields the issuer's published schema lists that are accepted and
 * ignored (api-contract.md). */
static int ignored_field(const char *name, apr_size_t len)
{
    return (len == 6 && memcmp(name, "number", 6) == 0)
           || (len == 5 && memcmp(name, "image", 5) == 0)
           || (len == 5 && memcmp(name, "photo", 5) == 0);
}

static int on_begin(void *ctx, const cc_mp_part_t *part)
{
    ctx_t *c = ctx;
    cc_upload_t *up = c->up;
    int i = cc_rules_field_lookup(part->name, part->name_len);
    int err;

    c->cur = CUR_IGNORE;
    if (i >= 0) {
        if (up->fields[i].present) {
            add_extra(c, part->name, part->name_len, 1);
            return 0;
        }
        up->fields[i].present = 1;
        up->fields[i].value = apr_palloc(c->r->pool, CC_FIELD_MAX_BYTES);
        c->cur = CUR_TEXT;
        c->cur_index = i;
        return 0;
    }
    i = doc_index(part->name, part->name_len);
    if (i >= 0) {
        if (up->docs[i].present) {
            add_extra(c, part->name, part->name_len, 1);
            return 0;
        }
        up->docs[i].present = 1;
        err = cc_spool_open(c->r, &up->docs[i].spool);
        if (err != 0) {
            stop(c, cc_spool_http_status(err), NULL);
            return 1;
        }
        c->cur = CUR_FILE;
        c->cur_index = i;
        return 0;
    }
    if (!ignored_field(part->name, part->name_len)) {
        add_extra(c, part->name, part->name_len, 0);
    }
    return 0;
}

static int on_data(void *ctx, const char *data, size_t len)
{
    ctx_t *c = ctx;
    cc_value_t *v;
    cc_upload_doc_t *d;
    apr_size_t take;
    size_t head_len;
    int err;

    if (c->cur == CUR_TEXT) {
        v = &c->up->fields[c->cur_index];
        take = CC_FIELD_MAX_BYTES - v->len;
        if (len > take) {
            v->truncated = 1;
        }
        take = len < take ? len : take;
        memcpy((char *)v->value + v->len, data, take);
        v->len += take;
        return 0;
    }
    if (c->cur != CUR_FILE) {
        return 0;
    }
    d = &c->up->docs[c->cur_index];
    /* The limit is enforced as bytes arrive: the byte after the limit
     * ends the request, whatever the rest of the body holds. */
    if (d->bytes + (apr_off_t)len > c->max_file) {
        cc_metrics_rejected(CC_REJECT_TOO_LARGE);
        stop(c, HTTP_REQUEST_ENTITY_TOO_LARGE, "File too large");
        return 1;
    }
    d->bytes += (apr_off_t)len;
    if (d->type_bad) {
        return 0;
    }
    err = cc_store_append(d->spool, data, len);
    if (err != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(err), c->r,
                      CCLOGNO(00801) "cannot write a document file");
        stop(c, cc_spool_http_status(err), NULL);
        return 1;
    }
    /* A wrong signature is known from the first bytes; stop storing then
     * (the size limit is still counted above). */
    cc_store_head(d->spool, &head_len);
    if (head_len >= CC_DOC_SNIFF_BYTES
        && cc_doc_sniff(cc_store_head(d->spool, &head_len), head_len)
               == CC_DOC_UNKNOWN) {
        d->type_bad = 1;
    }
    return 0;
}

static int on_end(void *ctx)
{
    ctx_t *c = ctx;
    cc_upload_doc_t *d;
    const unsigned char *head;
    size_t head_len;
    const char *why = NULL;
    int err;

    if (c->cur != CUR_FILE) {
        c->cur = CUR_IGNORE;
        return 0;
    }
    c->cur = CUR_IGNORE;
    d = &c->up->docs[c->cur_index];
    if (d->type_bad || d->bytes == 0) {
        return 0;
    }
    head = cc_store_head(d->spool, &head_len);
    switch (cc_sniff_type(head, head_len, &d->type, &why)) {
    case CC_SNIFF_BAD:
        d->type_bad = 1;
        return 0;
    case CC_SNIFF_UNUSABLE:
        /* A 500, not a 415 that would blame every client's document. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, c->r, CCLOGNO(00602)
                      "libmagic is unusable: %s", why);
        stop(c, HTTP_INTERNAL_SERVER_ERROR, NULL);
        return 1;
    case CC_SNIFF_OK:
        break;
    }
    err = cc_store_flush(d->spool);
    if (err != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(err), c->r,
                      CCLOGNO(00802) "cannot write a document file");
        stop(c, cc_spool_http_status(err), NULL);
        return 1;
    }
    return 0;
}

static apr_status_t destroy_parser(void *mp)
{
    cc_mp_destroy(mp);
    return APR_SUCCESS;
}

/* What a failed read of the body means for the answer. */
static void read_failed(cc_upload_t *up, apr_status_t rv)
{
    up->status = ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
    if (up->status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        up->message = "Request body too large";
    }
    else if (up->status == HTTP_REQUEST_TIME_OUT) {
        /* RequestReadTimeout: the words of httpd's own 408s. */
        up->message = "Request timeout";
    }
    else if (up->status == HTTP_BAD_REQUEST) {
        up->message = "Malformed multipart body: request body incomplete";
    }
}

/* Feeds one brigade to the parser: CC_MP_OK to go on, or what stopped
 * it; *eos once the body ended. -1 when a bucket could not be read. */
static int feed(cc_mp_parser_t *mp, apr_bucket_brigade *bb, int *eos)
{
    apr_bucket *b;
    const char *data;
    apr_size_t len;
    int prc = CC_MP_OK;

    for (b = APR_BRIGADE_FIRST(bb);
         b != APR_BRIGADE_SENTINEL(bb) && prc == CC_MP_OK;
         b = APR_BUCKET_NEXT(b)) {
        if (APR_BUCKET_IS_EOS(b)) {
            *eos = 1;
            break;
        }
        if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
            return -1;
        }
        prc = cc_mp_feed(mp, data, len);
    }
    return prc;
}

void cc_upload_read(request_rec *r, const char *boundary, cc_upload_t *up)
{
    static const cc_mp_callbacks_t cb = { on_begin, on_data, on_end };
    apr_bucket_brigade *bb;
    cc_mp_parser_t *mp;
    ctx_t c;
    apr_status_t rv;
    int seen_eos = 0, prc = CC_MP_OK;

    memset(&c, 0, sizeof(c));
    c.r = r;
    c.up = up;
    c.max_file = cc_cfg_dir(r)->max_file_size;
    up->status = OK;
    mp = cc_mp_create(boundary, strlen(boundary), NULL, &cb, &c);
    if (!mp) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, APR_ENOMEM, r, CCLOGNO(00803)
                      "cannot create the multipart parser");
        up->status = HTTP_INTERNAL_SERVER_ERROR;
        return;
    }
    apr_pool_cleanup_register(r->pool, mp, destroy_parser,
                              apr_pool_cleanup_null);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    while (!seen_eos && prc == CC_MP_OK) {
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                            APR_BLOCK_READ, HUGE_STRING_LEN);
        prc = rv == APR_SUCCESS ? feed(mp, bb, &seen_eos) : CC_MP_OK;
        apr_brigade_cleanup(bb);
        if (rv != APR_SUCCESS) {
            read_failed(up, rv);
            return;
        }
        if (prc == -1) {
            /* A bucket that cannot be read: the body ended early. */
            up->status = HTTP_BAD_REQUEST;
            up->message = "Malformed multipart body: request body incomplete";
            return;
        }
    }
    if (prc == CC_MP_OK) {
        prc = cc_mp_finish(mp);
    }
    if (prc == CC_MP_MALFORMED) {
        up->status = HTTP_BAD_REQUEST;
        up->message = apr_pstrcat(r->pool, "Malformed multipart body: ",
                                  cc_mp_error(mp) ? cc_mp_error(mp)
                                                  : "invalid framing",
                                  NULL);
    }
    /* CC_MP_ABORTED: a callback already set up->status. */
}
