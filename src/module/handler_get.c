/*
 * handler_get.c: GET /customers/{id} and GET /customers/{id}/documents/
 * {front,back}. Both are scoped to the token's company: another company's
 * customer is indistinguishable from an unknown one (404).
 */
#include "cc_mod.h"
#include "cc_crypto.h"
#include "cc_db_sql.h"

#include "apr_strings.h"
#include "util_filter.h"

APLOG_USE_MODULE(cartevo_customers);

/* The customer object of GET /customers/{id} (and of each list item)
 * from one row of CC_CUSTOMER_COLS. */
json_object *cc_customer_object(request_rec *r, const char *const *v)
{
    const char *base = cc_http_public_base(r);
    cc_customer_t c;
    int has_front, has_back;

    cc_customer_from_row(&c, v, &has_front, &has_back);
    if (has_front) {
        c.image = apr_pstrcat(r->pool, base, "/customers/", c.id,
                              "/documents/front", NULL);
    }
    if (has_back) {
        c.photo = apr_pstrcat(r->pool, base, "/customers/", c.id,
                              "/documents/back", NULL);
    }
    return cc_json_customer(&c, 1);
}

int cc_handle_get(request_rec *r, const char *id)
{
    cc_principal_t who;
    int rc, found = 0;
    ap_dbd_t *dbd;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *v[CC_CUSTOMER_COLUMNS];
    int i;

    /* Reads need a live credential; KYB does not matter for reading what
     * was created. */
    rc = cc_auth_require(r, &who, 0);
    if (rc != OK) {
        return cc_http_fail(r, rc);
    }
    if (!cc_crypto_is_uuid(id)) {
        return cc_http_error(r, HTTP_NOT_FOUND, "Customer not found");
    }
    dbd = cc_db_acquire(r);
    if (!dbd
        || cc_db_select(r, dbd, CC_SQL_GET_CUSTOMER, &res, NULL, id,
                        who.company_id, NULL) != 0) {
        return cc_http_fail(r, cc_db_failure(r, dbd, "customer lookup"));
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        for (i = 0; i < CC_CUSTOMER_COLUMNS; i++) {
            v[i] = cc_db_get(r, dbd, row, i);
        }
        found = 1;
    }
    if (!found) {
        return cc_http_error(r, HTTP_NOT_FOUND, "Customer not found");
    }
    apr_table_set(r->notes, CC_NOTE_CUSTOMER, id);
    return cc_http_json(r, HTTP_OK,
                        cc_json_success_new(HTTP_OK,
                                            "Customer retrieved successfully",
                                            cc_customer_object(r, v)));
}

/* Sends a stored (plain) document from a file bucket: the bytes go from
 * the page cache to the socket (sendfile where possible), never whole
 * into memory. */
static int send_document(request_rec *r, const char *name, const char *mime)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_bucket_brigade *bb;
    apr_status_t rv;

    rv = apr_file_open(&f, cc_spool_path(r, name),
                       APR_FOPEN_READ | APR_FOPEN_SENDFILE_ENABLED, 0,
                       r->pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, CCLOGNO(01002)
                      "document file %s is missing", name);
        return cc_http_fail(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    ap_set_content_type(r, mime);
    ap_set_content_length(r, fi.size);
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    apr_table_setn(r->headers_out, "Content-Disposition", "attachment");
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-store");
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_insert_file(bb, f, 0, fi.size, r->pool);
    APR_BRIGADE_INSERT_TAIL(bb,
                            apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS
               ? OK
               : AP_FILTER_ERROR;
}

int cc_handle_document(request_rec *r, const char *id, const char *side)
{
    cc_principal_t who;
    int rc, customer = 0;
    ap_dbd_t *dbd;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *name = NULL, *mime = NULL, *has;

    rc = cc_auth_require(r, &who, 0);
    if (rc != OK) {
        return cc_http_fail(r, rc);
    }
    if (!cc_crypto_is_uuid(id)) {
        return cc_http_error(r, HTTP_NOT_FOUND, "Customer not found");
    }
    dbd = cc_db_acquire(r);
    if (!dbd
        || cc_db_select(r, dbd, CC_SQL_GET_DOCUMENT, &res, NULL, id,
                        who.company_id, side, NULL) != 0) {
        return cc_http_fail(r, cc_db_failure(r, dbd, "document lookup"));
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        has = cc_db_get(r, dbd, row, 3);
        customer = 1;
        if (has && has[0] == 't') {
            name = cc_db_get(r, dbd, row, 0);
            mime = cc_db_get(r, dbd, row, 1);
        }
    }
    if (!customer) {
        return cc_http_error(r, HTTP_NOT_FOUND, "Customer not found");
    }
    apr_table_set(r->notes, CC_NOTE_CUSTOMER, id);
    if (!name || !mime) {
        return cc_http_error(r, HTTP_NOT_FOUND, "Document not found");
    }
    return send_document(r, name, mime);
}
