/*
 * idem.c: Idempotency-Key on both POSTs (api-contract.md).
 *
 * A key is scoped to company, method and path. It is claimed once the
 * body is read and valid, right before the transaction: the row in
 * idempotency_keys is the claim, and a claim that is not completed within
 * 60 s expires, so a request that died cannot hold a key for ever. The
 * 201 is stored with its customer in the create's transaction; a
 * duplicate 409 is stored after it. Both are replayed byte for byte with
 * Idempotent-Replayed: true. Other answers release the claim.
 *
 * The fingerprint covers what the create keeps: the accepted field names
 * and values, enroll, and each stored document's SHA-256 (uploads) or
 * URL (enroll); ignored inputs (number, image, photo, a passport's back)
 * are left out, so sending them differently is the same request.
 */
#include "cc_create.h"
#include "cc_crypto.h"
#include "cc_db_sql.h"

#include "apr_strings.h"

#include <openssl/evp.h>

APLOG_USE_MODULE(cartevo_customers);

#define KEY_MAX 255

static int count_key(void *rec, const char *k, const char *v)
{
    (void)k;
    (void)v;
    ++*(int *)rec;
    return 1;
}

int cc_idem_header(cc_create_t *c)
{
    request_rec *r = c->r;
    const char *k = apr_table_get(r->headers_in, "Idempotency-Key");
    apr_size_t i;
    int n = 0;

    if (!k) {
        return OK;
    }
    /* httpd joins repeated headers with ", ", which no key may hold;
     * counting still catches a table that was not merged. */
    apr_table_do(count_key, &n, r->headers_in, "Idempotency-Key", NULL);
    for (i = 0; k[i]; i++) {
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e) {
            return HTTP_BAD_REQUEST;
        }
    }
    if (n != 1 || i < 1 || i > KEY_MAX) {
        return HTTP_BAD_REQUEST;
    }
    c->idem_key = k;
    return OK;
}

typedef struct {
    const char *name;
    const char *value;
    apr_size_t len;
} pair_t;

static int pair_cmp(const void *a, const void *b)
{
    return strcmp(((const pair_t *)a)->name, ((const pair_t *)b)->name);
}

static void hash_pair(EVP_MD_CTX *md, const pair_t *p)
{
    unsigned char n[8];
    apr_uint64_t len = p->len;
    int i;

    /* name NUL length value: no two different pair lists hash alike. */
    for (i = 7; i >= 0; i--, len >>= 8) {
        n[i] = (unsigned char)(len & 0xff);
    }
    EVP_DigestUpdate(md, p->name, strlen(p->name) + 1);
    EVP_DigestUpdate(md, n, sizeof(n));
    EVP_DigestUpdate(md, p->value, p->len);
}

void cc_idem_fingerprint(const cc_create_t *c, char out[65])
{
    static const char *const doc_names[2][2] = {
        { "id_document_front", "id_document_back" },
        { "id_document_front_url", "id_document_back_url" }
    };
    pair_t p[CC_F__COUNT + 3];
    int i, n = 0;
    unsigned char sha[32];
    unsigned int shalen = sizeof(sha);
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    for (i = 0; i < CC_F__COUNT; i++, n++) {
        p[n].name = cc_rules_field_name((cc_field_t)i);
        p[n].value = c->fields[i].value;
        p[n].len = c->fields[i].len;
    }
    p[n].name = "enroll";
    p[n].value = c->enroll ? "true" : "false";
    p[n++].len = c->enroll ? 4 : 5;
    for (i = 0; i < c->ndocs; i++, n++) {
        p[n].name = doc_names[c->by_url][i];
        p[n].value = c->by_url ? c->doc[i].url : c->doc[i].sha_hex;
        p[n].len = strlen(p[n].value);
    }
    qsort(p, (size_t)n, sizeof(p[0]), pair_cmp);
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        memset(sha, 0, sizeof(sha));
    }
    else {
        for (i = 0; i < n; i++) {
            hash_pair(md, &p[i]);
        }
        EVP_DigestFinal_ex(md, sha, &shalen);
    }
    EVP_MD_CTX_free(md);
    cc_crypto_hex(sha, sizeof(sha), out);
}

/* The key's row as it is: 0 with *found, or -1. */
static int read_key(cc_create_t *c, ap_dbd_t *dbd, int *found,
                    const char **fp, const char **status, const char **body)
{
    request_rec *r = c->r;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;

    *found = 0;
    if (cc_db_select(r, dbd, CC_SQL_IDEM_GET, &res, NULL, c->who.company_id,
                     r->method, c->path, c->idem_key, NULL) != 0) {
        return -1;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        *found = 1;
        *fp = cc_db_get(r, dbd, row, 0);
        *status = cc_db_get(r, dbd, row, 1);
        *body = cc_db_get(r, dbd, row, 2);
    }
    return 0;
}

/* Answers from a key another request holds or completed. */
static int answer_existing(cc_create_t *c, const char *fp, const char *mine,
                           const char *status, const char *body)
{
    request_rec *r = c->r;

    if (!fp || strcmp(fp, mine) != 0) {
        cc_http_error(r, HTTP_CONFLICT, "Idempotency-Key was already used "
                                        "with a different request");
        return DONE;
    }
    if (!status || !body) {
        cc_http_error(r, HTTP_CONFLICT, "A request with this Idempotency-Key "
                                        "is still in progress");
        return DONE;
    }
    apr_table_setn(r->err_headers_out, "Idempotent-Replayed", "true");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(01201)
                  "Idempotency-Key replayed (%s)", status);
    cc_http_raw_json(r, atoi(status), body, strlen(body));
    return DONE;
}

int cc_idem_claim(cc_create_t *c, ap_dbd_t *dbd)
{
    request_rec *r = c->r;
    apr_dbd_results_t *res;
    char fp[65];
    const char *kfp = NULL, *status = NULL, *body = NULL;
    int tries, found;

    cc_idem_fingerprint(c, fp);
    if (cc_crypto_random_hex(c->idem_token, 16) != 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* The row can vanish between the two statements (released, or
     * swept), so a few rounds settle it. */
    for (tries = 0; tries < 3; tries++) {
        if (cc_db_select(r, dbd, CC_SQL_IDEM_CLAIM, &res, NULL,
                         c->who.company_id, r->method, c->path, c->idem_key,
                         fp, c->idem_token, NULL) != 0) {
            return cc_db_failure(r, dbd, "idempotency claim");
        }
        if (apr_dbd_num_tuples(dbd->driver, res) > 0) {
            c->idem_claimed = 1;
            return OK;
        }
        if (read_key(c, dbd, &found, &kfp, &status, &body) != 0) {
            return cc_db_failure(r, dbd, "idempotency lookup");
        }
        if (found) {
            return answer_existing(c, kfp, fp, status, body);
        }
    }
    cc_http_error(r, HTTP_CONFLICT,
                  "A request with this Idempotency-Key is still in progress");
    return DONE;
}

int cc_idem_complete(cc_create_t *c, ap_dbd_t *dbd, int status,
                     const char *body, const char *customer_id)
{
    request_rec *r = c->r;
    apr_dbd_results_t *res;

    if (cc_db_select(r, dbd, CC_SQL_IDEM_DONE, &res, NULL,
                     apr_itoa(r->pool, status), body,
                     customer_id ? customer_id : "", c->who.company_id,
                     r->method, c->path, c->idem_key, c->idem_token, NULL)
        != 0) {
        return -1;
    }
    c->idem_claimed = 0;
    return apr_dbd_num_tuples(dbd->driver, res) > 0 ? 0 : 1;
}

void cc_idem_release(cc_create_t *c, ap_dbd_t *dbd)
{
    request_rec *r = c->r;
    apr_dbd_results_t *res;

    /* If this fails the claim expires on its own within 60 s. */
    cc_db_select(r, dbd, CC_SQL_IDEM_RELEASE, &res, NULL, c->who.company_id,
                 r->method, c->path, c->idem_key, c->idem_token, NULL);
    c->idem_claimed = 0;
}
