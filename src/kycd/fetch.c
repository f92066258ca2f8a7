/*
 * fetch.c: the fetch phase of a customer enrolled by URL (POST
 * /customers/enroll). The module stored the caller's URLs and a job in
 * phase fetch; here each document is downloaded (http.c, under the tenant
 * URL rules of targets.h) into the core store exactly as an upload is
 * spooled, passes the upload's gate (type by content, structure, minimum
 * pixels), and the rows are committed with the job's move to the verify
 * phase in one lease-fenced transaction (jobs.c). Files are kept only
 * after that commit; any other end removes them (a crash in between
 * leaves an orphan for the sweeper).
 *
 * Outcomes: a fetch that cannot succeed, or a body that is not a JPEG,
 * PNG or PDF, is REJECTED / DOCUMENT_FETCH_FAILED; a transient failure is
 * retried with the job's backoff and, with no attempts left, ends the
 * same way (workers.c); a document failing the structure or pixel gate
 * is UNREADABLE / LOW_RESOLUTION in the local provider's words. A URL is
 * never logged beyond its scheme and host: presigned URLs carry
 * credentials in their query.
 */
#include "kycd.h"

#include "cc_crypto.h"
#include "cc_doc.h"
#include "cc_sniff.h"
#include "cc_store.h"

#include <apr_strings.h>

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *side;
    const char *url;
    cc_store_spool_t *sp;
    cc_doc_type_t type;
    cc_doc_info_t info;
    char sha_hex[65];
} fetched_t;

static void fetch_failed(cc_verdict_t *v, apr_pool_t *p, const char *side,
                         const char *brief)
{
    v->kyc_status = "REJECTED";
    v->reason = "DOCUMENT_FETCH_FAILED";
    v->message = apr_psprintf(p, "The %s of the identity document could "
                              "not be fetched: %s", side, brief);
}

static int to_store(void *ud, const void *data, size_t len)
{
    return cc_store_append(ud, data, len);
}

/* The upload gate on a spooled document: CC_FETCH_STORED when it passes
 * (f->type, f->info and f->sha_hex set), else REJECT or RETRY. */
static int gate(cc_kycd_t *d, const cc_job_t *job, fetched_t *f,
                cc_verdict_t *v, apr_pool_t *p, const char **why)
{
    const cc_kycd_cfg_t *cfg = d->cfg;
    const unsigned char *head;
    unsigned char sha[32];
    size_t head_len;
    const char *w = NULL;
    int rc;

    head = cc_store_head(f->sp, &head_len);
    switch (cc_sniff_type(head, head_len, &f->type, &w)) {
    case CC_SNIFF_BAD:
        cc_kycd_log(CC_LOG_INFO, "job %lld: fetched %s document is not a "
                    "JPEG, PNG or PDF", job->id, f->side);
        fetch_failed(v, p, f->side, "it is not a JPEG, PNG or PDF file");
        return CC_FETCH_REJECT;
    case CC_SNIFF_UNUSABLE:
        *why = apr_psprintf(p, "libmagic is unusable: %s", w);
        fetch_failed(v, p, f->side, "it could not be checked");
        return CC_FETCH_RETRY;
    case CC_SNIFF_OK:
        break;
    }
    rc = cc_doc_check_fd(cc_store_fd(f->sp), cc_store_size(f->sp), f->type,
                         &f->info, &w);
    if (rc == CC_DOC_IO_ERROR) {
        *why = "cannot read a fetched document back";
        fetch_failed(v, p, f->side, "it could not be checked");
        return CC_FETCH_RETRY;
    }
    if (rc != CC_DOC_READABLE) {
        cc_kycd_log(CC_LOG_INFO, "job %lld: fetched %s document unreadable:"
                    " %s", job->id, f->side, w ? w : "structure");
        cc_verdict_unreadable(v, p, f->side);
        return CC_FETCH_REJECT;
    }
    if (f->type != CC_DOC_PDF
        && !cc_doc_big_enough(f->info.width, f->info.height,
                              cfg->fetch_min_width, cfg->fetch_min_height)) {
        cc_verdict_low_resolution(v, p, f->side, f->info.width,
                                  f->info.height, cfg->fetch_min_width,
                                  cfg->fetch_min_height);
        return CC_FETCH_REJECT;
    }
    cc_store_sha256(f->sp, sha);
    cc_crypto_hex(sha, sizeof(sha), f->sha_hex);
    return CC_FETCH_STORED;
}

/* Downloads one document into a new spool (f->sp, closed by the caller)
 * and gates it. */
static int fetch_one(cc_kycd_t *d, const cc_job_t *job, fetched_t *f,
                     cc_verdict_t *v, apr_pool_t *p, const char **why)
{
    const cc_kycd_cfg_t *cfg = d->cfg;
    cc_http_fetch_t hf;
    int rc = cc_store_open(cfg->document_dir, &f->sp);

    if (rc != 0) {
        *why = apr_psprintf(p, "cannot open a document spool: %s",
                            strerror(rc));
        fetch_failed(v, p, f->side, "it could not be stored");
        return CC_FETCH_RETRY;
    }
    memset(&hf, 0, sizeof(hf));
    hf.url = f->url;
    hf.max_bytes = (size_t)cfg->fetch_max_bytes;
    hf.sink = to_store;
    hf.ud = f->sp;
    rc = cc_http_fetch(cfg, &hf);
    if (rc == CC_HTTP_FETCH_OK && (rc = cc_store_flush(f->sp)) != 0) {
        snprintf(hf.why, sizeof(hf.why), "cannot store the document: %s",
                 strerror(rc));
        snprintf(hf.brief, sizeof(hf.brief), "it could not be stored");
        rc = CC_HTTP_FETCH_RETRY;
    }
    if (rc != CC_HTTP_FETCH_OK) {
        if (rc == CC_HTTP_FETCH_FAILED) { /* a retry is logged by jobs.c */
            cc_kycd_log(CC_LOG_INFO, "job %lld: %s document: %s", job->id,
                        f->side, hf.why);
        }
        *why = apr_psprintf(p, "%s document: %s", f->side, hf.why);
        fetch_failed(v, p, f->side, hf.brief);
        return rc == CC_HTTP_FETCH_RETRY ? CC_FETCH_RETRY : CC_FETCH_REJECT;
    }
    cc_kycd_log(CC_LOG_DEBUG, "job %lld: %s document fetched (%llu bytes, "
                "%d redirect(s))", job->id, f->side,
                (unsigned long long)cc_store_size(f->sp), hf.redirects);
    return gate(d, job, f, v, p, why);
}

/* The customer's document URLs into f[] (front first); the count, or -1
 * when the customer cannot be loaded. */
static int load_urls(PGconn *conn, const cc_job_t *job, fetched_t *f,
                     apr_pool_t *p)
{
    const char *vals[1] = { job->customer_id };
    PGresult *res = cc_db_exec(conn, "load document URLs",
                               "SELECT front_url, back_url, id_document_type"
                               " FROM customers WHERE id = $1::uuid",
                               1, vals);
    int n = 0;

    if (res == NULL || PQntuples(res) != 1) {
        PQclear(res);
        return -1;
    }
    if (!PQgetisnull(res, 0, 0)) {
        f[n].side = "front";
        f[n++].url = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    }
    /* A passport's back is never kept (api-contract.md); the module
     * stores no back_url for one, and this holds even if a row did. */
    if (n == 1 && !PQgetisnull(res, 0, 1)
        && strcmp(PQgetvalue(res, 0, 2), "PASSPORT") != 0) {
        f[n].side = "back";
        f[n++].url = apr_pstrdup(p, PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return n;
}

/* Makes the files durable and commits their rows (jobs.c). */
static int commit_documents(cc_kycd_t *d, PGconn *conn, cc_job_t *job,
                            fetched_t *f, int n, const char **why)
{
    cc_doc_new_t rows[2];
    int i, rc;

    for (i = 0; i < n; i++) {
        rc = cc_store_commit(f[i].sp, i == n - 1);
        if (rc != 0) {
            *why = strerror(rc);
            return -1;
        }
        rows[i].side = f[i].side;
        rows[i].storage_name = cc_store_name(f[i].sp);
        rows[i].document_id = cc_store_document_id(f[i].sp);
        rows[i].mime_type = cc_doc_mime(f[i].type);
        rows[i].sha256_hex = f[i].sha_hex;
        rows[i].size = (unsigned long long)cc_store_size(f[i].sp);
        rows[i].width = f[i].info.width;
        rows[i].height = f[i].info.height;
    }
    rc = cc_jobs_complete_fetch(conn, d, job, rows, n);
    if (rc == 1) {
        for (i = 0; i < n; i++) {
            cc_store_keep(f[i].sp);
        }
    }
    if (rc < 0) {
        *why = "cannot commit the fetched documents";
    }
    return rc;
}

int cc_fetch_documents(cc_kycd_t *d, PGconn *conn, cc_job_t *job,
                       cc_verdict_t *v, apr_pool_t *p, const char **why)
{
    fetched_t f[2];
    int n, i, rc = CC_FETCH_STORED;

    memset(f, 0, sizeof(f));
    n = load_urls(conn, job, f, p);
    if (n < 0) {
        *why = "cannot load the customer";
        fetch_failed(v, p, "front", "the customer could not be loaded");
        return CC_FETCH_RETRY;
    }
    if (n == 0) {
        fetch_failed(v, p, "front", "no URL was given");
        return CC_FETCH_REJECT;
    }
    for (i = 0; i < n && rc == CC_FETCH_STORED; i++) {
        rc = fetch_one(d, job, &f[i], v, p, why);
    }
    if (rc == CC_FETCH_STORED) {
        const char *w = NULL;
        int c = commit_documents(d, conn, job, f, n, &w);

        rc = c == 1 ? CC_FETCH_STORED : c == 0 ? CC_FETCH_LOST
                                                : CC_FETCH_RETRY;
        if (c < 0) {
            *why = apr_psprintf(p, "storing fetched documents: %s", w);
            fetch_failed(v, p, "front", "it could not be stored");
        }
    }
    for (i = 0; i < n; i++) {
        cc_store_close(f[i].sp);
    }
    if (rc == CC_FETCH_STORED) {
        job->phase = CC_PHASE_VERIFY;
        job->attempts = 1;
    }
    return rc;
}
