/*
 * dispatch.c: routes a request under the mount point to its handler,
 * with the method check (405 + Allow) before anything else.
 */
#include "cc_mod.h"

#include "apr_strings.h"
#include "ap_expr.h"
#include "http_core.h"

APLOG_USE_MODULE(cartevo_customers);

static int not_allowed(request_rec *r, const char *allow)
{
    apr_table_setn(r->err_headers_out, "Allow", allow);
    r->connection->keepalive = AP_CONN_CLOSE;
    return cc_http_error(r, HTTP_METHOD_NOT_ALLOWED, "Method not allowed");
}

static int is_get(request_rec *r)
{
    return r->method_number == M_GET;
}

/* Only the two POST handlers read a request body. Any other request that
 * carries one is answered without reading it, so its connection must
 * close: otherwise httpd drains the whole body (up to LimitRequestBody)
 * before the answer leaves, and the client waits for nothing. */
static void body_unread(request_rec *r)
{
    if (ap_request_has_body(r)) {
        r->connection->keepalive = AP_CONN_CLOSE;
    }
}

/* httpd's own errors (a body over LimitRequestBody, broken chunking, a
 * read timeout) are produced by its filters, not by us; an internal
 * redirect to this handler turns them into the error envelope too. */
static void claim_error_responses(request_rec *r, const char *mount)
{
    static const int statuses[] = { HTTP_BAD_REQUEST, HTTP_REQUEST_TIME_OUT,
                                    HTTP_REQUEST_ENTITY_TOO_LARGE,
                                    HTTP_INTERNAL_SERVER_ERROR };
    const char *url = apr_pstrcat(r->pool, mount, "/.error", NULL);
    apr_size_t i;

    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        ap_custom_response(r, statuses[i], url);
    }
}

/* Only httpd's redirect to our own error URL (claim_error_responses)
 * takes the error path; any other internal redirect (a RewriteRule inside
 * the mount) is a request like any other. */
static int is_error_redirect(request_rec *r)
{
    const char *st = r->prev ? apr_table_get(r->subprocess_env,
                                             "REDIRECT_STATUS")
                             : NULL;

    return st && atoi(st) >= 400
           && strcmp(r->uri, apr_pstrcat(r->pool, cc_cfg_dir(r)->mount,
                                         "/.error", NULL)) == 0;
}

static int error_redirect(request_rec *r, const char *status)
{
    int st = atoi(status);
    static const char *const notes[] = { CC_NOTE_REQUEST, CC_NOTE_COMPANY,
                                         CC_NOTE_CUSTOMER };
    const char *rid = apr_table_get(r->prev->notes, CC_NOTE_REQUEST);
    const char *v;
    apr_size_t i;

    /* The error page is logged as its own request too. */
    for (i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
        if ((v = apr_table_get(r->prev->notes, notes[i])) != NULL) {
            apr_table_setn(r->notes, notes[i], v);
        }
    }
    if (rid) {
        apr_table_setn(r->err_headers_out, "X-Request-Id", rid);
    }

    switch (st) {
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        return cc_http_error(r, st, "Request body too large");
    case HTTP_REQUEST_TIME_OUT:
        return cc_http_error(r, st, "Request timeout");
    case HTTP_BAD_REQUEST:
        return cc_http_error(r, st, "Malformed request body");
    default:
        if (st < 400 || st > 599) {
            st = HTTP_INTERNAL_SERVER_ERROR;
        }
        return cc_http_error(r, st, st == HTTP_INTERNAL_SERVER_ERROR
                                        ? "Internal server error"
                                        : cc_json_reason(st));
    }
}

/* The API's URIs name no files: once the <Location> walk says a request
 * goes to our handler, the directory and file walks are skipped (saving
 * stat calls, and working whatever the DocumentRoot's permissions). */
int cc_map_to_storage(request_rec *r)
{
    core_dir_config *cd;
    const char *h = NULL, *err = NULL;

    if (ap_location_walk(r) != OK) {
        return DECLINED;
    }
    cd = ap_get_core_module_config(r->per_dir_config);
    if (cd && cd->expr_handler) {
        h = ap_expr_str_exec(r, cd->expr_handler, &err);
    }
    return (h && !err && strcmp(h, CC_HANDLER_NAME) == 0) ? OK : DECLINED;
}

/* /customers/{id} and /customers/{id}/documents/{front,back}; DECLINED
 * when rest names neither. */
static int route_customer(request_rec *r, const char *rest)
{
    const char *slash = strchr(rest, '/');
    char *id;

    if (!slash && *rest) {
        cc_metrics_route(r, CC_EP_CUSTOMER);
        if (!is_get(r)) {
            return not_allowed(r, "GET, HEAD");
        }
        body_unread(r);
        return cc_handle_get(r, rest);
    }
    if (slash && slash != rest
        && (strcmp(slash, "/documents/front") == 0
            || strcmp(slash, "/documents/back") == 0)) {
        cc_metrics_route(r, CC_EP_DOCUMENT);
        if (!is_get(r)) {
            return not_allowed(r, "GET, HEAD");
        }
        id = apr_pstrmemdup(r->pool, rest, (apr_size_t)(slash - rest));
        body_unread(r);
        return cc_handle_document(r, id, slash + 11);
    }
    return DECLINED;
}

/* The routes under the mount; path is relative to it. */
static int route(request_rec *r, const char *path)
{
    int rc;

    if (strcmp(path, "/auth/token") == 0) {
        cc_metrics_route(r, CC_EP_TOKEN);
        return r->method_number == M_POST ? cc_handle_token(r)
                                          : not_allowed(r, "POST");
    }
    if (strcmp(path, "/customers") == 0) {
        cc_metrics_route(r, CC_EP_CUSTOMERS);
        if (r->method_number == M_POST) {
            return cc_handle_create(r);
        }
        if (!is_get(r)) {
            return not_allowed(r, "GET, HEAD, POST");
        }
        body_unread(r);
        return cc_handle_list(r);
    }
    if (strcmp(path, "/customers/enroll") == 0) {
        cc_metrics_route(r, CC_EP_ENROLL);
        return r->method_number == M_POST ? cc_handle_enroll(r)
                                          : not_allowed(r, "POST");
    }
    if (strncmp(path, "/customers/", 11) == 0
        && (rc = route_customer(r, path + 11)) != DECLINED) {
        return rc;
    }
    body_unread(r);
    return cc_http_error(r, HTTP_NOT_FOUND, "Not found");
}

int cc_handler(request_rec *r)
{
    const cc_dir_cfg_t *dc;
    apr_size_t mlen;

    if (!r->handler || strcmp(r->handler, CC_HANDLER_NAME) != 0) {
        return DECLINED;
    }
    if (is_error_redirect(r)) {
        return error_redirect(r, apr_table_get(r->subprocess_env,
                                               "REDIRECT_STATUS"));
    }
    cc_http_request_id(r);
    dc = cc_cfg_dir(r);
    claim_error_responses(r, dc->mount);
    mlen = strlen(dc->mount);
    if (strncmp(r->uri, dc->mount, mlen) != 0) {
        body_unread(r);
        return cc_http_error(r, HTTP_NOT_FOUND, "Not found");
    }
    return route(r, r->uri + mlen);
}
