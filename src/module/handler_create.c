/*
 * handler_create.c: POST /customers.
 *
 * The order of checks is the contract's precedence: 401, 403, 415
 * (request Content-Type), 400 (framing), 413 (a document over the limit,
 * as bytes arrive), 415 (a document's sniffed type), 400 (all field errors
 * together), 422 (document quality), 409 (email before identification
 * number). Everything that can be decided from the request head is
 * decided before the first body byte is read; such a request is answered
 * at once and its connection closed, so httpd never drains a large body.
 */
#include "cc_upload.h"
#include "cc_crypto.h"
#include "cc_db_sql.h"
#include "cc_multipart.h"

#include "apr_strings.h"
#include "http_core.h"

#include <errno.h>

APLOG_USE_MODULE(cartevo_customers);

typedef struct {
    json_object *env;
} errs_t;

static void collect(void *ctx, const char *field, const char *message)
{
    errs_t *e = ctx;

    if (!e->env) {
        e->env = cc_json_error_new(HTTP_BAD_REQUEST, message);
    }
    cc_json_error_add(e->env, field, strlen(field), message);
}

/* Answers without reading the body; the connection cannot be reused. */
static int refuse_early(request_rec *r, int status, const char *message)
{
    r->connection->keepalive = AP_CONN_CLOSE;
    return cc_http_error(r, status, message);
}

static int unavailable(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "5");
    return cc_http_error(r, HTTP_SERVICE_UNAVAILABLE,
                         "Service temporarily unavailable");
}

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

static int answer_storage(request_rec *r, int status)
{
    if (status == HTTP_INSUFFICIENT_STORAGE) {
        return cc_http_error(r, status, "Insufficient storage");
    }
    return cc_http_error(r, HTTP_INTERNAL_SERVER_ERROR,
                         "Internal server error");
}

/* The stored fields of a document, as SQL text parameters. */
typedef struct {
    const char *name;
    const char *mime;
    const char *size;
    char sha[65];
    const char *w;
    const char *h;
} doc_params_t;

/* After the connection was lost under the insert: whether the customer
 * row exists (1), does not (0), or cannot be known (-1). The id is ours,
 * so the reconnected session can tell a commit whose answer was lost
 * from a statement that never ran. */
static int committed_anyway(request_rec *r, ap_dbd_t *dbd, const char *id)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int found = 0;

    if (!cc_db_alive(r, dbd)
        || cc_db_select(r, dbd, CC_SQL_CUSTOMER_EXISTS, &res, NULL, id, NULL)
               != 0) {
        return -1;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        found = 1;
    }
    return found;
}

/* Inserts the customer. OK, or the status to answer; *keep_docs is set
 * when the answer is not OK but the files must stay (the row may exist:
 * an orphan is the daemon sweeper's to remove, a row without its files
 * would be lost for good). */
static int create_row(request_rec *r, const cc_principal_t *who,
                      cc_upload_t *up, doc_params_t *dp, int ndocs,
                      int enroll, const char *id, json_object **data,
                      int *keep_docs)
{
    cc_value_t *f = up->fields;
    const char *v[CC_F__COUNT];
    char event_id[37];
    ap_dbd_t *dbd;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *err = NULL, *created = NULL, *updated = NULL, *job = NULL;
    const char *base;
    cc_customer_t c;
    int i, rc;

    for (i = 0; i < CC_F__COUNT; i++) {
        v[i] = apr_pstrmemdup(r->pool, f[i].value, f[i].len);
    }
    if (cc_crypto_uuid4(event_id) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00905)
                      "cannot make a random event id");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    dbd = cc_db_acquire(r);
    if (!dbd) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
#define CUSTOMER_ARGS                                                       \
    id, who->company_id, v[CC_F_FIRST_NAME], v[CC_F_LAST_NAME],             \
        v[CC_F_EMAIL], v[CC_F_COUNTRY], v[CC_F_STREET], v[CC_F_CITY],       \
        v[CC_F_STATE], v[CC_F_POSTAL_CODE], v[CC_F_COUNTRY_ISO_CODE],       \
        v[CC_F_COUNTRY_PHONE_CODE], v[CC_F_PHONE_NUMBER],                   \
        v[CC_F_IDENTIFICATION_NUMBER], v[CC_F_ID_DOCUMENT_TYPE],            \
        v[CC_F_DATE_OF_BIRTH], enroll ? "true" : "false", event_id,         \
        who->company_id
#define DOC_ARGS(d) d.name, d.mime, d.size, d.sha, d.w, d.h
    if (ndocs == 1) {
        rc = cc_db_select(r, dbd, CC_SQL_CREATE_1, &res, &err, CUSTOMER_ARGS,
                          DOC_ARGS(dp[0]), NULL);
    }
    else {
        rc = cc_db_select(r, dbd, CC_SQL_CREATE_2, &res, &err, CUSTOMER_ARGS,
                          DOC_ARGS(dp[0]), DOC_ARGS(dp[1]), NULL);
    }
#undef CUSTOMER_ARGS
#undef DOC_ARGS
    if (rc != 0) {
        /* The driver's text quotes the duplicate values: only the index
         * name is looked for and logged. */
        if (err && strstr(err, CC_IDX_EMAIL)) {
            return HTTP_CONFLICT;
        }
        if (err && strstr(err, CC_IDX_IDNUM)) {
            /* Both may be duplicates; the contract puts email first. */
            if (cc_db_select(r, dbd, CC_SQL_EMAIL_TAKEN, &res, NULL,
                             who->company_id, v[CC_F_EMAIL], NULL) == 0
                && apr_dbd_num_tuples(dbd->driver, res) > 0) {
                return HTTP_CONFLICT;
            }
            apr_table_setn(r->notes, "cartevo-conflict", "idnum");
            return HTTP_CONFLICT;
        }
        if (cc_db_lost(dbd)) {
            /* A restart, a failover or a killed session under a pooled
             * connection (the credential check came from the cache, so
             * this was its first statement): the database was not
             * reachable, which is a 503, not a 500. */
            int committed = committed_anyway(r, dbd, id);

            *keep_docs = committed != 0;
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CCLOGNO(00904)
                          "database connection lost during the customer "
                          "insert (row %s)",
                          committed < 0 ? "unknown, files kept"
                                        : committed ? "committed, files kept"
                                                    : "not written");
            return HTTP_SERVICE_UNAVAILABLE;
        }
        if (!cc_db_alive(r, dbd)) {
            return HTTP_SERVICE_UNAVAILABLE;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00901)
                      "customer insert failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        created = cc_db_get(r, dbd, row, 0);
        updated = cc_db_get(r, dbd, row, 1);
        job = cc_db_get(r, dbd, row, 2);
    }
    if (!created || !job) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00902)
                      "customer insert returned no row");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_table_setn(r->notes, "cartevo-job", apr_pstrdup(r->pool, job));

    base = cc_http_public_base(r);
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.first_name = v[CC_F_FIRST_NAME];
    c.last_name = v[CC_F_LAST_NAME];
    c.country = v[CC_F_COUNTRY];
    c.email = v[CC_F_EMAIL];
    c.street = v[CC_F_STREET];
    c.city = v[CC_F_CITY];
    c.state = v[CC_F_STATE];
    c.postal_code = v[CC_F_POSTAL_CODE];
    c.phone_country_code = v[CC_F_COUNTRY_PHONE_CODE];
    c.phone_number = v[CC_F_PHONE_NUMBER];
    c.identification_number = v[CC_F_IDENTIFICATION_NUMBER];
    c.type = v[CC_F_ID_DOCUMENT_TYPE];
    c.image = apr_pstrcat(r->pool, base, "/customers/", id,
                          "/documents/front", NULL);
    c.photo = ndocs == 2 ? apr_pstrcat(r->pool, base, "/customers/", id,
                                       "/documents/back", NULL)
                         : NULL;
    c.date_of_birth = v[CC_F_DATE_OF_BIRTH];
    c.is_active = 1;
    c.created_at = created;
    c.updated_at = updated;
    *data = cc_json_customer(&c, 0);
    return OK;
}

/* The cheap quality gate; fills dp for the row. OK or 422. */
static int check_document(request_rec *r, cc_upload_doc_t *d,
                          doc_params_t *dp)
{
    const cc_dir_cfg_t *dc = cc_cfg_dir(r);
    cc_doc_info_t info;
    const char *why = NULL;
    unsigned char sha[32];
    int rc;

    rc = cc_doc_check_fd(cc_store_fd(d->spool),
                         (uint64_t)cc_store_size(d->spool), d->type, &info,
                         &why);
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
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(00903)
                      "document refused: %s",
                      rc != CC_DOC_READABLE ? (why ? why : "unreadable")
                                            : "too small");
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    cc_store_sha256(d->spool, sha);
    cc_crypto_hex(sha, sizeof(sha), dp->sha);
    dp->mime = cc_doc_mime(d->type);
    dp->size = apr_off_t_toa(r->pool, cc_store_size(d->spool));
    dp->w = apr_itoa(r->pool, (int)info.width);
    dp->h = apr_itoa(r->pool, (int)info.height);
    return OK;
}

int cc_handle_create(request_rec *r)
{
    cc_principal_t who;
    int kyb_ok = 0, rc, i, enroll, nbad, ndocs;
    const char *ct, *why = NULL;
    char boundary[CC_MP_MAX_BOUNDARY + 1];
    apr_size_t blen;
    cc_upload_t *up;
    cc_doctype_t dtype;
    apr_time_exp_t today;
    errs_t errs = { NULL };
    doc_params_t dp[2];
    char id[37];
    json_object *data = NULL;
    int has[2], keep_docs = 0;
    const char *cl;
    apr_off_t limit, declared;

    rc = cc_auth_check(r, &who, &kyb_ok);
    if (rc == HTTP_SERVICE_UNAVAILABLE) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return unavailable(r);
    }
    if (rc == HTTP_INTERNAL_SERVER_ERROR) {
        return refuse_early(r, rc, "Internal server error");
    }
    if (rc != OK) {
        return refuse_early(r, HTTP_UNAUTHORIZED, "Unauthorized");
    }
    if (!kyb_ok) {
        return refuse_early(r, HTTP_FORBIDDEN,
                            "Company KYB status must be APPROVED");
    }
    ct = apr_table_get(r->headers_in, "Content-Type");
    rc = cc_mp_parse_content_type(ct, boundary, &blen, &why);
    if (rc == CC_MP_CT_NOT_FORM_DATA) {
        return refuse_early(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                            "Content-Type must be multipart/form-data");
    }
    if (rc != CC_MP_CT_OK) {
        return refuse_early(r, HTTP_BAD_REQUEST,
                            apr_pstrcat(r->pool, "Malformed multipart body: ",
                                        why ? why : "invalid boundary",
                                        NULL));
    }
    ct = apr_table_get(r->headers_in, "Content-Encoding");
    if (ct && strcasecmp(ct, "identity") != 0) {
        return refuse_early(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                            "Content-Encoding is not supported");
    }
    /* A declared length over LimitRequestBody is httpd's 413, but httpd
     * would produce it inside the first read, as its own HTML page; the
     * head already says it, so answer here in the API's form, unread. */
    limit = ap_get_limit_req_body(r);
    cl = apr_table_get(r->headers_in, "Content-Length");
    if (limit > 0 && cl && ap_parse_strict_length(&declared, cl)
        && declared > limit) {
        return refuse_early(r, HTTP_REQUEST_ENTITY_TOO_LARGE,
                            "Request body too large");
    }
    enroll = parse_enroll(r);

    up = apr_pcalloc(r->pool, sizeof(*up));
    cc_upload_read(r, boundary, up);
    if (up->status == AP_FILTER_ERROR) {
        return AP_FILTER_ERROR;
    }
    if (up->status != OK) {
        /* Whatever is left of the body is not read. */
        r->connection->keepalive = AP_CONN_CLOSE;
        if (up->status == HTTP_INSUFFICIENT_STORAGE
            || up->status == HTTP_INTERNAL_SERVER_ERROR) {
            return answer_storage(r, up->status);
        }
        return cc_http_error(r, up->status,
                             up->message ? up->message : "Bad request");
    }
    for (i = 0, nbad = 0; i < 2; i++) {
        nbad += up->docs[i].present && up->docs[i].type_bad;
    }
    if (nbad) {
        return cc_http_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE,
                             "Unsupported file type");
    }

    apr_time_exp_gmt(&today, apr_time_now());
    cc_rules_validate(up->fields, today.tm_year + 1900, today.tm_mon + 1,
                      today.tm_mday, collect, &errs);
    dtype = up->fields[CC_F_ID_DOCUMENT_TYPE].present
                ? cc_rules_doctype(up->fields[CC_F_ID_DOCUMENT_TYPE].value,
                                   up->fields[CC_F_ID_DOCUMENT_TYPE].len)
                : CC_DOCTYPE_INVALID;
    for (i = 0; i < 2; i++) {
        has[i] = up->docs[i].present && up->docs[i].bytes > 0;
    }
    cc_rules_check_documents(dtype, has[CC_DOC_FRONT], has[CC_DOC_BACK],
                             collect, &errs);
    if (enroll < 0) {
        collect(&errs, "enroll", "enroll must be one of true, false, 1, 0");
    }
    for (i = 0; i < up->n_extras; i++) {
        char name[CC_JSON_FIELD_MAX];
        const char *msg;

        /* Field and message carry the same cleaned name: both are made
         * from the raw bytes, cleaned once each the same way. */
        cc_json_clean_field(up->extras[i].name, up->extras[i].name_len, name);
        msg = apr_pstrcat(r->pool, name,
                          up->extras[i].repeated ? " must not be repeated"
                                                 : " is not allowed",
                          NULL);
        if (!errs.env) {
            errs.env = cc_json_error_new(HTTP_BAD_REQUEST, msg);
        }
        cc_json_error_add(errs.env, up->extras[i].name,
                          up->extras[i].name_len, msg);
    }
    if (errs.env) {
        return cc_http_json(r, HTTP_BAD_REQUEST, errs.env);
    }

    /* A passport's back is size-limited like any document, never kept. */
    if (dtype == CC_DOCTYPE_PASSPORT && up->docs[CC_DOC_BACK].present) {
        cc_store_discard(up->docs[CC_DOC_BACK].spool);
        has[CC_DOC_BACK] = 0;
    }
    ndocs = 1 + has[CC_DOC_BACK];
    for (i = 0; i < ndocs; i++) {
        rc = check_document(r, &up->docs[i], &dp[i]);
        if (rc != OK) {
            return rc == HTTP_UNPROCESSABLE_ENTITY
                       ? cc_http_error(r, rc, "KYC document unreadable")
                       : answer_storage(r, rc);
        }
    }
    for (i = 0; i < ndocs; i++) {
        apr_status_t rv = cc_store_commit(up->docs[i].spool, &dp[i].name,
                                          i == ndocs - 1);
        if (rv != APR_SUCCESS) {
            return answer_storage(r, cc_store_http_status(rv));
        }
    }
    if (cc_crypto_uuid4(id) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00907)
                      "cannot make a random customer id");
        return answer_storage(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    rc = create_row(r, &who, up, dp, ndocs, enroll == 1, id, &data,
                    &keep_docs);
    if (rc != OK && keep_docs) {
        for (i = 0; i < ndocs; i++) {
            cc_store_keep(up->docs[i].spool);
        }
    }
    if (rc == HTTP_CONFLICT) {
        return cc_http_error(r, rc,
                             apr_table_get(r->notes, "cartevo-conflict")
                                 ? "Customer with this identification_number"
                                   " already exists"
                                 : "Customer with this email already exists");
    }
    if (rc == HTTP_SERVICE_UNAVAILABLE) {
        return unavailable(r);
    }
    if (rc != OK) {
        return answer_storage(r, rc);
    }
    for (i = 0; i < ndocs; i++) {
        cc_store_keep(up->docs[i].spool);
    }
    cc_notify_daemon(r, apr_table_get(r->notes, "cartevo-job"));
    return cc_http_json(r, HTTP_CREATED,
                        cc_json_success_new(HTTP_CREATED,
                                            "Customer created successfully",
                                            data));
}
