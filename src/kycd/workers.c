/*
 * workers.c: worker threads. Each pops queue items (a poked job id, or 0
 * for "any due job"), claims through jobs.c, and runs the job's phases:
 * verify with the configured provider and commit the verdict; then, when
 * the request asked for it (enroll=true) or enroll_approved is set and
 * the customer was approved, enroll on the issuer and commit that. A
 * transient provider failure gives the job back with backoff.
 */
#include "kycd.h"

#include <stdlib.h>
#include <string.h>

/* Runs one claimed job to its next commit point(s). */
static void run_job(cc_kycd_t *d, PGconn *conn, cc_job_t *job, apr_pool_t *p)
{
    const cc_kycd_cfg_t *cfg = d->cfg;
    const char *why = NULL, *issuer_id = NULL;
    int rc;

    cc_kycd_log(CC_LOG_INFO, "job %lld: claimed (attempt %d, phase %s)",
                job->id, job->attempts,
                job->phase_enroll ? "enroll" : "verify");
    if (!job->phase_enroll) {
        cc_docs_t docs;
        cc_verdict_t v;
        int enroll_next;

        memset(&v, 0, sizeof(v));
        if (cc_jobs_load_docs(conn, job->customer_id, &docs) != 0) {
            cc_jobs_retry(conn, d, job, "cannot load the customer");
            return;
        }
        if (strcmp(cfg->verify_provider, "http") == 0) {
            rc = cc_verify_http(d, conn, job, &docs, &v, p, &why);
        }
        else {
            rc = cc_verify_local(d, &docs, &v, p, &why);
        }
        if (rc != CC_VERIFY_DONE) {
            /* A permanent provider failure (e.g. 4xx: our request or its
             * configuration is wrong) still gets retries: an operator may
             * fix it; the attempts bound the cost. */
            cc_jobs_retry(conn, d, job, why ? why : "provider failed");
            return;
        }
        enroll_next = strcmp(v.kyc_status, "APPROVED") == 0
                      && (job->enroll || cfg->enroll_approved);
        rc = cc_jobs_complete_verify(conn, d, job, &v, enroll_next);
        if (rc < 0) {
            cc_jobs_retry(conn, d, job, "cannot commit the verdict");
            return;
        }
        if (rc == 0) {
            return;
        }
        cc_kycd_log(CC_LOG_INFO, "job %lld: %s%s%s", job->id, v.kyc_status,
                    v.reason ? " " : "", v.reason ? v.reason : "");
        cc_kycd_webhooks_kick(d);
        if (!enroll_next) {
            return;
        }
        job->phase_enroll = 1;
        job->attempts = 1;
    }
    rc = cc_enroll(d, conn, job, p, &issuer_id, &why);
    if (rc == CC_ENROLL_RETRY && job->attempts < cfg->max_attempts) {
        cc_jobs_retry(conn, d, job, why ? why : "issuer unavailable");
        return;
    }
    rc = cc_jobs_complete_enroll(conn, d, job,
                                 rc == CC_ENROLL_OK ? issuer_id : NULL,
                                 why ? why : "enrollment refused");
    if (rc < 0) {
        cc_jobs_retry(conn, d, job, "cannot commit the enrollment");
        return;
    }
    if (rc == 1) {
        cc_kycd_log(CC_LOG_INFO, "job %lld: %s", job->id,
                    issuer_id ? "ENROLLED" : "enrollment FAILED");
        cc_kycd_webhooks_kick(d);
    }
}

void *APR_THREAD_FUNC cc_worker_thread(apr_thread_t *t, void *data)
{
    cc_kycd_t *d = data;
    PGconn *conn = NULL;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    for (;;) {
        void *v = NULL;
        cc_kycd_item_t *it;
        long long want;
        cc_job_t job;
        int rc;

        if (apr_queue_pop(d->queue, &v) != APR_SUCCESS) {
            if (d->stopping) {
                break;
            }
            continue; /* EINTR */
        }
        it = v;
        want = it->job_id;
        free(it);
        if (d->stopping) {
            break;
        }
        if (cc_db_ensure(&conn, d->cfg, "cartevo-kycd") != 0) {
            continue; /* the next sweep retries */
        }
        /* A poke claims its job; a sweep token drains everything due. */
        do {
            rc = cc_jobs_claim(conn, d, want, &job);
            if (rc == 1) {
                run_job(d, conn, &job, p);
                apr_pool_clear(p);
            }
        } while (rc == 1 && want == 0 && !d->stopping);
    }
    if (conn) {
        PQfinish(conn);
    }
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}
