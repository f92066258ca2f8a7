/*
 * enroll.c: enrollment of an approved customer on the card issuer.
 *
 * sandbox (default): no network; the issuer id is derived from the
 *   customer id ("sbx_" + 24 hex of its SHA-256), so repeating the call
 *   after a crash yields the same id, like an idempotent issuer would.
 * http: POST issuer_url with the customer's data (wire format in
 *   README.md, "cartevo-kycd"), Idempotency-Key: <customer id>. 200/201 {"id"} is
 *   success; 409 with {"id"} means "already enrolled", also success (a
 *   repeat after a crash). Other 4xx: the issuer refuses (FAILED); 5xx,
 *   429 and transport errors: retried with backoff.
 */
#include "kycd.h"

#include "cc_crypto.h"
#include "cc_json.h"

#include <apr_strings.h>

#include <stdlib.h>
#include <string.h>

static int enroll_sandbox(const cc_job_t *job, apr_pool_t *p,
                          const char **issuer_id)
{
    unsigned char h[32];
    char hex[65];

    cc_crypto_sha256(job->customer_id, strlen(job->customer_id), h);
    cc_crypto_hex(h, 12, hex);
    *issuer_id = apr_pstrcat(p, "sbx_", hex, NULL);
    return CC_ENROLL_OK;
}

/* The "id" string of an issuer answer, or NULL. */
static const char *answer_id(apr_pool_t *p, const char *body)
{
    json_object *o = body ? json_tokener_parse(body) : NULL, *x;
    const char *id = NULL;

    if (o && json_object_object_get_ex(o, "id", &x)
        && json_object_is_type(x, json_type_string)
        && json_object_get_string_len(x) > 0
        && json_object_get_string_len(x) <= 128) {
        id = apr_pstrdup(p, json_object_get_string(x));
    }
    if (o) {
        json_object_put(o);
    }
    return id;
}

static int enroll_http(cc_kycd_t *d, PGconn *conn, const cc_job_t *job,
                       apr_pool_t *p, const char **issuer_id,
                       const char **why)
{
    const cc_kycd_cfg_t *cfg = d->cfg;
    char *json = cc_customer_json(conn, cfg, job->customer_id);
    const char *hdrs[4], *key;
    cc_http_resp_t resp;
    int rc;

    if (json == NULL) {
        *why = "cannot load the customer";
        return CC_ENROLL_RETRY;
    }
    hdrs[0] = "Content-Type: application/json";
    key = d->issuer_api_key; /* one read: a reload may swap it */
    hdrs[1] = key ? apr_pstrcat(p, "Authorization: Bearer ", key, NULL)
                  : "X-No-Auth: 1";
    hdrs[2] = apr_pstrcat(p, "Idempotency-Key: ", job->customer_id, NULL);
    hdrs[3] = NULL;
    rc = cc_http_post(cfg, cfg->issuer_url, hdrs, json, strlen(json),
                      cfg->issuer_timeout, 65536, &resp, NULL, 1);
    free(json);
    if (rc != 0) {
        *why = apr_psprintf(p, "issuer unreachable: %s", resp.error);
        return CC_ENROLL_RETRY;
    }
    if (resp.status >= 500 || resp.status == 429) {
        *why = apr_psprintf(p, "issuer answered %ld", resp.status);
        rc = CC_ENROLL_RETRY;
    }
    else if (resp.status == 200 || resp.status == 201 || resp.status == 409) {
        *issuer_id = answer_id(p, resp.body);
        if (*issuer_id) {
            rc = CC_ENROLL_OK;
        }
        else {
            *why = apr_psprintf(p, "issuer answered %ld without an id",
                                resp.status);
            rc = CC_ENROLL_RETRY;
        }
    }
    else {
        *why = apr_psprintf(p, "issuer refused (%ld)", resp.status);
        rc = CC_ENROLL_REFUSED;
    }
    cc_http_resp_free(&resp);
    return rc;
}

int cc_enroll(cc_kycd_t *d, PGconn *conn, const cc_job_t *job, apr_pool_t *p,
              const char **issuer_id, const char **why)
{
    *issuer_id = NULL;
    if (strcmp(d->cfg->enroll_provider, "http") == 0) {
        return enroll_http(d, conn, job, p, issuer_id, why);
    }
    return enroll_sandbox(job, p, issuer_id);
}
