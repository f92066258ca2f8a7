/*
 * handler_create.c: POST /customers, the multipart front-end of the create
 * pipeline (cc_create.h).
 *
 * The order of checks is the contract's precedence: 401, 403, 415
 * (request Content-Type), 400 (framing), 413 (a document over the limit,
 * as bytes arrive), 415 (a document's sniffed type), 400 (all field errors
 * together), 422 (document quality), 409 (email before identification
 * number). Everything that can be decided from the request head is
 * decided before the first body byte is read; such a request is answered
 * at once and its connection closed, so httpd never drains a large body.
 */
#include "cc_create.h"
#include "cc_upload.h"
#include "cc_crypto.h"
#include "cc_multipart.h"

#include "apr_strings.h"
#include "http_core.h"

#include <errno.h>

APLOG_USE_MODULE(cartevo_customers);

/* The enroll flag: 1/0, or -1 when it is invalid or repeated. Absent is
 * false. Other query parameters are ignored. */
static int parse_enroll(request_rec *r)
{
    const char *args = r->args, *amp, *eq;
    apr_size_t n;
    int value = 0, seen = 0;

    while (args && *args) {
        amp = strchr(args, '&');
        n = amp ? (apr_size_t)(amp - args) : strlen(args);
        eq = memchr(args, '=', n);
        if ((eq ? (apr_size_t)(eq - args) : n) == 6
            && memcmp(args, "enroll", 6) == 0) {
            if (seen++) {
                return -1;
            }
            value = eq ? cc_rules_parse_enroll(eq + 1,
                                               n - (apr_size_t)(eq + 1 - args))
                       : -1;
            if (value < 0) {
                return -1;
            }
        }
        args = amp ? amp + 1 : NULL;
    }
    return value;
}

/* The checks on the request head: 0 to go on, 1 answered. */
static int check_head(request_rec *r, char *boundary, int *answer)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *why = NULL, *ce, *cl;
    apr_size_t blen;
    apr_off_t limit, declared;
    int rc = cc_mp_parse_content_type(ct, boundary, &blen, &why);

    if (rc == CC_MP_CT_NOT_FORM_DATA) {
        *answer = cc_create_refuse(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                   "Content-Type must be multipart/form-data");
        return 1;
    }
    if (rc != CC_MP_CT_OK) {
        *answer = cc_create_refuse(
            r, HTTP_BAD_REQUEST,
            apr_pstrcat(r->pool, "Malformed multipart body: ",
                        why ? why : "invalid boundary", NULL));
        return 1;
    }
    ce = apr_table_get(r->headers_in, "Content-Encoding");
    if (ce && strcasecmp(ce, "identity") != 0) {
        *answer = cc_create_refuse(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                   "Content-Encoding is not supported");
        return 1;
    }
    /* A declared length over LimitRequestBody is httpd's 413, but httpd
     * would produce it inside the first read, as its own HTML page; the
     * head already says it, so answer here in the API's form, unread. */
    limit = ap_get_limit_req_body(r);
    cl = apr_table_get(r->headers_in, "Content-Length");
    if (limit > 0 && cl && ap_parse_strict_length(&declared, cl)
        && declared > limit) {
        *answer = cc_create_refuse(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                                   "Request body too large");
        return 1;
    }
    return 0;
}

static int is_passport(const cc_upload_t *up)
{
    const cc_value_t *t = &up->fields[CC_F_ID_DOCUMENT_TYPE];

    return t->present && !t->truncated
           && cc_rules_doctype(t->value, t->len) == CC_DOCTYPE_PASSPORT;
}

/* Reads the body: 0 to go on, 1 answered (framing, 413, storage, the
 * credential again, 415). */
static int read_body(cc_create_t *c, const char *boundary, cc_upload_t *up,
                     int *answer)
{
    request_rec *r = c->r;
    int i;

    cc_upload_read(r, boundary, up);
    cc_metrics_upload(up->docs[0].bytes + up->docs[1].bytes);
    if (up->status == AP_FILTER_ERROR) {
        *answer = AP_FILTER_ERROR;
        return 1;
    }
    if (up->status != OK) {
        /* Whatever is left of the body is not read. */
        r->connection->keepalive = AP_CONN_CLOSE;
        *answer = up->status == HTTP_INSUFFICIENT_STORAGE
                          || up->status == HTTP_INTERNAL_SERVER_ERROR
                      ? cc_http_fail(r, up->status)
                      : cc_http_error(r, up->status,
                                      up->message ? up->message
                                                  : "Bad request");
        return 1;
    }
    if (cc_create_recheck(c, answer)) {
        return 1;
    }
    for (i = 0; i < 2; i++) {
        /* A passport's back is ignored (api-contract.md), so its type is
         * nobody's business; only the exact value PASSPORT says so. */
        if (up->docs[i].present && up->docs[i].type_bad
            && !(i == CC_DOC_BACK && is_passport(up))) {
            cc_metrics_rejected(CC_REJECT_TYPE);
            *answer = cc_http_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                    "Unsupported file type");
            return 1;
        }
    }
    return 0;
}

/* Field, document, enroll and unknown-field errors, in the contract's
 * order; which documents are kept. */
static void validate(cc_create_t *c, cc_upload_t *up, int enroll)
{
    int has[2], i;

    memcpy(c->fields, up->fields, sizeof(c->fields));
    cc_create_fields(c);
    for (i = 0; i < 2; i++) {
        has[i] = up->docs[i].present && up->docs[i].bytes > 0;
    }
    cc_rules_check_documents(c->dtype, has[CC_DOC_FRONT], has[CC_DOC_BACK],
                             cc_create_rule_error, c);
    if (enroll < 0) {
        cc_create_error(c, "enroll", 6,
                        "enroll must be one of true, false, 1, 0");
    }
    for (i = 0; i < up->n_extras; i++) {
        cc_create_extra(c, up->extras[i].name, up->extras[i].name_len,
                        up->extras[i].repeated);
    }
    c->enroll = enroll == 1;
    /* A passport's back is size-limited like any document, never kept. */
    if (c->dtype == CC_DOCTYPE_PASSPORT && up->docs[CC_DOC_BACK].present) {
        cc_spool_discard(c->r, up->docs[CC_DOC_BACK].spool);
        has[CC_DOC_BACK] = 0;
    }
    c->ndocs = 1 + has[CC_DOC_BACK];
    for (i = 0; i < c->ndocs; i++) {
        c->doc[i].spool = up->docs[i].spool;
        c->doc[i].type = up->docs[i].type;
    }
}

/* The cheap quality gate: OK, 422, or 500. */
static int check_document(request_rec *r, cc_create_doc_t *d)
{
    const cc_dir_cfg_t *dc = cc_cfg_dir(r);
    cc_doc_info_t info;
    const char *why = NULL;
    unsigned char sha[32];
    int rc;

    rc = cc_doc_check_fd(cc_store_fd(d->spool), cc_store_size(d->spool),
                         d->type, &info, &why);
    if (rc == CC_DOC_IO_ERROR) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(errno), r,
                      CCLOGNO(00906) "cannot read a document file back");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rc != CC_DOC_READABLE
        || (d->type != CC_DOC_PDF
            && !cc_doc_big_enough(info.width, info.height,
                                  (uint32_t)dc->min_w,
                                  (uint32_t)dc->min_h))) {
        cc_metrics_rejected(rc != CC_DOC_READABLE ? CC_REJECT_UNREADABLE
                                                  : CC_REJECT_TOO_SMALL);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(00903)
                      "document refused: %s",
                      rc != CC_DOC_READABLE ? (why ? why : "unreadable")
                                            : "too small");
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    cc_store_sha256(d->spool, sha);
    cc_crypto_hex(sha, sizeof(sha), d->sha_hex);
    d->width = info.width;
    d->height = info.height;
    return OK;
}

int cc_handle_create(request_rec *r)
{
    cc_create_t c;
    char boundary[CC_MP_MAX_BOUNDARY + 1];
    cc_upload_t *up;
    int rc, i, enroll;

    if (cc_create_begin(r, &c, "/customers", &rc)
        || check_head(r, boundary, &rc)) {
        return rc;
    }
    enroll = parse_enroll(r);
    up = apr_pcalloc(r->pool, sizeof(*up));
    if (read_body(&c, boundary, up, &rc)) {
        return rc;
    }
    validate(&c, up, enroll);
    if (c.errors) {
        return cc_create_finish(&c);
    }
    for (i = 0; i < c.ndocs; i++) {
        rc = check_document(r, &c.doc[i]);
        if (rc == HTTP_UNPROCESSABLE_ENTITY) {
            return cc_http_error(r, rc, "KYC document unreadable");
        }
        if (rc != OK) {
            return cc_http_fail(r, rc);
        }
    }
    return cc_create_finish(&c);
}
