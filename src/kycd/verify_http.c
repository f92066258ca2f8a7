/*
 * verify_http.c: the http verification provider. One POST per attempt to
 * verify_url (wire format in README.md, "cartevo-kycd"):
 *   request  {"customer_id", "id_document_type", "identification_number",
 *             "first_name", "last_name", "date_of_birth",
 *             "country_iso_code", "documents": [{"side", "mime_type",
 *             "content_base64"}]}
 *            headers Authorization: Bearer <key from verify_api_key_file>,
 *            Idempotency-Key: <customer id>
 *   answer   200 {"decision": "APPROVED"} or
 *            200 {"decision": "REJECTED", "reason"?, "message"?}
 * 5xx, 429, timeouts and transport errors are retried with backoff; other
 * answers count as provider failures (also retried, bounded by
 * max_attempts). The provider's message is stored for the client but
 * never logged (it may quote personal data).
 */
#include "kycd.h"

#include "cc_json.h"

#include <apr_strings.h>
#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DOC (10 * 1024 * 1024)
#define MAX_MESSAGE 200

/* The file as base64 (malloc'd) or NULL. */
static char *file_base64(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    unsigned char *raw = NULL;
    char *b64 = NULL;
    size_t off = 0;

    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0
        || st.st_size > MAX_DOC) {
        goto out;
    }
    raw = malloc((size_t)st.st_size);
    if (raw == NULL) {
        goto out;
    }
    while (off < (size_t)st.st_size) {
        ssize_t n = read(fd, raw + off, (size_t)st.st_size - off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            goto out;
        }
        off += (size_t)n;
    }
    b64 = malloc(4 * ((off + 2) / 3) + 1);
    if (b64 != NULL) {
        EVP_EncodeBlock((unsigned char *)b64, raw, (int)off);
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    free(raw);
    return b64;
}

/* Cuts s to at most max bytes at a UTF-8 character boundary. */
static char *cut_utf8(apr_pool_t *p, const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max) {
        return apr_pstrdup(p, s);
    }
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
        n--;
    }
    return apr_pstrndup(p, s, n);
}

static const char *const our_reasons[] = { "UNREADABLE", "LOW_RESOLUTION",
                                           "BLANK_IMAGE", "MISSING_BACK",
                                           NULL };

int cc_verify_http(cc_kycd_t *d, PGconn *conn, const cc_job_t *job,
                   const cc_docs_t *docs, cc_verdict_t *v, apr_pool_t *p,
                   const char **why)
{
    const cc_kycd_cfg_t *cfg = d->cfg;
    const char *vals[1] = { job->customer_id };
    const char *names[] = { "id_document_type", "identification_number",
                            "first_name", "last_name", "date_of_birth",
                            "country_iso_code" };
    json_object *req, *arr, *ans = NULL, *x;
    PGresult *res;
    cc_http_resp_t resp;
    const char *hdrs[4], *body, *decision, *key;
    int i, rc = CC_VERIFY_FAIL;

    res = cc_db_exec(conn, "load customer for verification",
                     "SELECT id_document_type, identification_number,"
                     " first_name, last_name,"
                     " to_char(date_of_birth, 'YYYY-MM-DD'), country_iso_code"
                     " FROM customers WHERE id = $1::uuid",
                     1, vals);
    if (res == NULL || PQntuples(res) != 1) {
        PQclear(res);
        *why = "cannot load the customer";
        return CC_VERIFY_RETRY;
    }
    req = json_object_new_object();
    json_object_object_add(req, "customer_id",
                           json_object_new_string(job->customer_id));
    for (i = 0; i < 6; i++) {
        json_object_object_add(req, names[i],
                               json_object_new_string(PQgetvalue(res, 0, i)));
    }
    PQclear(res);
    arr = json_object_new_array();
    json_object_object_add(req, "documents", arr);
    for (i = 0; i < docs->ndocs; i++) {
        char *path = apr_psprintf(p, "%s/%s", cfg->document_dir,
                                  docs->docs[i].storage_name);
        char *b64 = file_base64(path);
        json_object *o;

        if (b64 == NULL) {
            json_object_put(req);
            *why = "cannot read a stored document";
            return CC_VERIFY_RETRY;
        }
        o = json_object_new_object();
        json_object_object_add(o, "side",
                               json_object_new_string(docs->docs[i].side));
        json_object_object_add(o, "mime_type",
                               json_object_new_string(docs->docs[i].mime_type));
        json_object_object_add(o, "content_base64",
                               json_object_new_string(b64));
        free(b64);
        json_object_array_add(arr, o);
    }
    body = cc_json_string(req, NULL);
    if (body == NULL) {
        json_object_put(req);
        *why = "cannot build the verifier request";
        return CC_VERIFY_RETRY;
    }
    hdrs[0] = "Content-Type: application/json";
    key = d->verify_api_key; /* one read: a reload may swap it */
    hdrs[1] = key ? apr_pstrcat(p, "Authorization: Bearer ", key, NULL)
                  : "X-No-Auth: 1";
    hdrs[2] = apr_pstrcat(p, "Idempotency-Key: ", job->customer_id, NULL);
    hdrs[3] = NULL;
    if (cc_http_post(cfg, cfg->verify_url, hdrs, body, strlen(body),
                     cfg->verify_timeout, 65536, &resp, NULL, 1)
        != 0) {
        json_object_put(req);
        *why = apr_psprintf(p, "verifier unreachable: %s", resp.error);
        return CC_VERIFY_RETRY;
    }
    json_object_put(req);
    if (resp.status >= 500 || resp.status == 429) {
        *why = apr_psprintf(p, "verifier answered %ld", resp.status);
        rc = CC_VERIFY_RETRY;
        goto out;
    }
    if (resp.status != 200 || resp.body == NULL
        || (ans = json_tokener_parse(resp.body)) == NULL
        || !json_object_object_get_ex(ans, "decision", &x)
        || !json_object_is_type(x, json_type_string)) {
        *why = apr_psprintf(p, "verifier answered %ld without a decision",
                            resp.status);
        goto out;
    }
    decision = json_object_get_string(x);
    if (strcmp(decision, "APPROVED") == 0) {
        v->kyc_status = "APPROVED";
        rc = CC_VERIFY_DONE;
    }
    else if (strcmp(decision, "REJECTED") == 0) {
        const char *reason = "PROVIDER_REJECTED", *msg = NULL;

        if (json_object_object_get_ex(ans, "reason", &x)
            && json_object_is_type(x, json_type_string)) {
            for (i = 0; our_reasons[i]; i++) {
                if (!strcmp(json_object_get_string(x), our_reasons[i])) {
                    reason = our_reasons[i];
                }
            }
        }
        if (json_object_object_get_ex(ans, "message", &x)
            && json_object_is_type(x, json_type_string)
            && json_object_get_string_len(x) > 0) {
            msg = cut_utf8(p, json_object_get_string(x), MAX_MESSAGE);
        }
        v->kyc_status = "REJECTED";
        v->reason = reason;
        v->message = msg ? msg
                         : "The verification provider rejected the document";
        rc = CC_VERIFY_DONE;
    }
    else {
        *why = "verifier answered an unknown decision";
    }
out:
    if (ans) {
        json_object_put(ans);
    }
    cc_http_resp_free(&resp);
    return rc;
}
