/*
 * handler_token.c: POST /auth/token, client credentials for an HS256
 * access token (api-contract.md "Authentication"). The answer is not
 * enveloped: {"access_token", "token_type", "expires_in"}.
 */
#include "cc_mod.h"
#include "cc_crypto.h"
#include "cc_db_sql.h"
#include "cc_token.h"

#include "apr_strings.h"

APLOG_USE_MODULE(cartevo_customers);

#define TOKEN_TTL 3600
#define MAX_BODY 4096

/* Reads a small body whole; returns OK, or the status to answer. The cap
 * makes memory bounded whatever the client sends. */
static int read_small_body(request_rec *r, char **out, apr_size_t *outlen)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    char *buf = apr_palloc(r->pool, MAX_BODY + 1);
    apr_size_t len = 0;
    int seen_eos = 0;
    apr_status_t rv;
    apr_bucket *b;
    const char *data;
    apr_size_t n;

    do {
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                            APR_BLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                return HTTP_BAD_REQUEST;
            }
            if (len + n > MAX_BODY) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            memcpy(buf + len, data, n);
            len += n;
        }
        apr_brigade_cleanup(bb);
    } while (!seen_eos);
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return OK;
}

/* A string member as a C string, or NULL. JSON strings may hold \u0000;
 * such a value is refused, or everything after the NUL would be ignored
 * (a key "<real key>\u0000junk" would match). */
static const char *str_member(json_object *o, const char *key)
{
    json_object *v;
    const char *s;

    if (!json_object_object_get_ex(o, key, &v)
        || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    s = json_object_get_string(v);
    if (strlen(s) != (size_t)json_object_get_string_len(v)) {
        return NULL;
    }
    return s;
}

/* The client's company when client_key's SHA-256 (hex) matches: OK with
 * *company, 401, or a database failure's status. */
static int check_client(request_rec *r, const char *client_id,
                        const char *hex, const char **company)
{
    /* Compared in constant time even when the client is unknown, so the
     * timing does not tell which client ids exist. */
    static const char nothing[65] =
        "----------------------------------------------------------------";
    ap_dbd_t *dbd = cc_db_acquire(r);
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *hash = NULL;

    *company = NULL;
    if (!dbd
        || cc_db_select(r, dbd, CC_SQL_CLIENT_KEY, &res, NULL, client_id,
                        NULL) != 0) {
        return cc_db_failure(r, dbd, "client lookup");
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        *company = cc_db_get(r, dbd, row, 0);
        hash = cc_db_get(r, dbd, row, 1);
    }
    if (!cc_crypto_equal(hex, hash && strlen(hash) == 64 ? hash : nothing,
                         64)
        || !*company || !hash) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(00402)
                      "token refused: invalid client credentials");
        return HTTP_UNAUTHORIZED;
    }
    return OK;
}

/* The 200 answer (not enveloped, as the contract says). */
static int issue(request_rec *r, const char *client_id, const char *company)
{
    const cc_srv_cfg_t *sc = cc_cfg_srv(r);
    json_object *resp;
    char *token = cc_token_issue(sc->secret, sc->secret_len, client_id,
                                 company, (long)apr_time_sec(apr_time_now()),
                                 TOKEN_TTL);

    if (!token) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00403)
                      "cannot sign a token");
        return cc_http_fail(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    resp = json_object_new_object();
    json_object_object_add(resp, "access_token",
                           json_object_new_string(token));
    json_object_object_add(resp, "token_type",
                           json_object_new_string("Bearer"));
    json_object_object_add(resp, "expires_in",
                           json_object_new_int(TOKEN_TTL));
    cc_token_free(token);
    return cc_http_json(r, HTTP_OK, resp);
}

int cc_handle_token(request_rec *r)
{
    char *body = NULL;
    apr_size_t len = 0;
    json_tokener *tok;
    json_object *req;
    const char *client_id, *client_key, *company = NULL;
    unsigned char digest[32];
    char hex[65];
    int rc;

    rc = read_small_body(r, &body, &len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return cc_http_error(r, rc, "Request body too large");
    }
    if (rc == AP_FILTER_ERROR) {
        return rc;
    }
    if (rc == HTTP_REQUEST_TIME_OUT) {
        /* A stalled body (RequestReadTimeout) is not a malformed one. */
        r->connection->keepalive = AP_CONN_CLOSE;
        return cc_http_error(r, rc, "Request timeout");
    }
    if (rc != OK) {
        return cc_http_error(r, HTTP_BAD_REQUEST, "Malformed JSON body");
    }
    tok = json_tokener_new();
    req = json_tokener_parse_ex(tok, body, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success
        || tok->char_offset != (int)len || !req
        || !json_object_is_type(req, json_type_object)) {
        json_tokener_free(tok);
        json_object_put(req);
        return cc_http_error(r, HTTP_BAD_REQUEST, "Malformed JSON body");
    }
    json_tokener_free(tok);
    client_id = str_member(req, "client_id");
    client_key = str_member(req, "client_key");
    if (!client_id || !client_key || strlen(client_id) > 63) {
        json_object_put(req);
        return cc_http_error(r, HTTP_UNAUTHORIZED,
                             "Invalid client credentials");
    }
    client_id = apr_pstrdup(r->pool, client_id);
    cc_crypto_sha256(client_key, strlen(client_key), digest);
    cc_crypto_hex(digest, sizeof(digest), hex);
    json_object_put(req);
    rc = check_client(r, client_id, hex, &company);
    if (rc == HTTP_UNAUTHORIZED) {
        return cc_http_error(r, rc, "Invalid client credentials");
    }
    return rc == OK ? issue(r, client_id, company) : cc_http_fail(r, rc);
}
