/*
 * respond.c: the single place where outcomes become HTTP answers: the
 * error and success envelopes, the fixed answers to failures (401, 403,
 * 500, 503 with Retry-After, 507), X-Request-Id, and the public base URL.
 */
#include "cc_mod.h"
#include "cc_crypto.h"

#include "apr_lib.h"
#include "apr_strings.h"
#include "http_core.h"

APLOG_USE_MODULE(cartevo_customers);

static int request_id_ok(const char *v)
{
    apr_size_t n = 0;

    for (; v[n]; n++) {
        if (n >= 128 || !(apr_isalnum(v[n]) || v[n] == '.' || v[n] == '_'
                          || v[n] == ':' || v[n] == '-')) {
            return 0;
        }
    }
    return n > 0;
}

void cc_http_request_id(request_rec *r)
{
    const char *in = apr_table_get(r->headers_in, "X-Request-Id");
    char uuid[37];

    if (!in || !request_id_ok(in)) {
        in = cc_crypto_uuid4(uuid) == 0 ? apr_pstrdup(r->pool, uuid)
                                        : r->log_id;
    }
    if (in) {
        apr_table_setn(r->notes, CC_NOTE_REQUEST, in);
        /* err_headers_out so that every answer, errors included, has it. */
        apr_table_setn(r->err_headers_out, "X-Request-Id", in);
    }
}

int cc_http_raw_json(request_rec *r, int status, const char *body,
                     apr_size_t len)
{
    r->status = status;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

int cc_http_json(request_rec *r, int status, json_object *body)
{
    size_t len;
    const char *s = cc_json_string(body, &len);

    cc_http_raw_json(r, status, s, len);
    json_object_put(body);
    return OK;
}

int cc_http_error(request_rec *r, int status, const char *message)
{
    return cc_http_json(r, status, cc_json_error_new(status, message));
}

int cc_http_fail(request_rec *r, int status)
{
    switch (status) {
    case HTTP_UNAUTHORIZED:
        return cc_http_error(r, status, "Unauthorized");
    case HTTP_FORBIDDEN:
        return cc_http_error(r, status, "Company KYB status must be APPROVED");
    case HTTP_SERVICE_UNAVAILABLE:
        /* Every 503 says when to come back; clients of a payments API
         * retry on it. */
        apr_table_setn(r->err_headers_out, "Retry-After", "5");
        return cc_http_error(r, status, "Service temporarily unavailable");
    case HTTP_INSUFFICIENT_STORAGE:
        return cc_http_error(r, status, "Insufficient storage");
    default:
        return cc_http_error(r, HTTP_INTERNAL_SERVER_ERROR,
                             "Internal server error");
    }
}

const char *cc_http_public_base(request_rec *r)
{
    const cc_srv_cfg_t *sc = cc_cfg_srv(r);
    const cc_dir_cfg_t *dc = cc_cfg_dir(r);

    if (sc->public_base_url) {
        return sc->public_base_url;
    }
    /* Without a configured URL, the URL this request came in on: correct
     * for direct clients, which is why production sets the directive. */
    return apr_pstrcat(r->pool, ap_construct_url(r->pool, "", r), dc->mount,
                       NULL);
}
