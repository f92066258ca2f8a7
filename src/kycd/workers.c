/*
 * workers.c: worker threads. Each pops queue items (a poked job id, or 0
 * for "any due job"), claims through jobs.c, and runs the job's phases:
 * for a customer enrolled by URL, fetch its documents first (fetch.c);
 * verify with the configured provider and commit the verdict; then, when
 * the request asked for it (enroll=true) or enroll_approved is set and
 * the customer was approved, enroll on the issuer and commit that. A
 * transient failure gives the job back with backoff.
 */
#include "kycd.h"

#include <stdlib.h>
#include <string.h>

/* Commits a verdict (of the verify phase, or of a fetch that ended the
 * job) and wakes the webhook dispatcher. Returns 1 when the job goes on
 * to the enroll phase under this claim. */
static int commit_verdict(cc_kycd_t *d, PGconn *conn, cc_job_t *job,
                          const cc_verdict_t *v, int enroll_next)
{
    int rc = cc_jobs_complete_verify(conn, d, job, v, enroll_next);

    if (rc < 0) {
        cc_jobs_retry(conn, d, job, "cannot commit the verdict");
        return 0;
    }
    if (rc == 0) {
        return 0;
    }
    cc_kycd_log(CC_LOG_INFO, "job %lld: %s%s%s", job->id, v->kyc_status,
                v->reason ? " " : "", v->reason ? v->reason : "");
    cc_metrics_outcome(strcmp(v->kyc_status, "APPROVED") == 0
                           ? CC_OUTCOME_APPROVED
                           : CC_OUTCOME_REJECTED,
                       v->reason);
    cc_kycd_webhooks_kick(d);
    if (!enroll_next) {
        return 0;
    }
    job->phase = CC_PHASE_ENROLL;
    job->attempts = 1;
    return 1;
}

/* The fetch phase; 1 when the documents are stored and the job goes on
 * to verification under this claim. A transient failure is retried while
 * attempts are left, then ends the job as a fetch that cannot succeed
 * does: REJECTED, never a silent "failed". */
static int run_fetch(cc_kycd_t *d, PGconn *conn, cc_job_t *job,
                     apr_pool_t *p)
{
    const char *why = NULL;
    cc_verdict_t v;
    int rc;

    memset(&v, 0, sizeof(v));
    rc = cc_fetch_documents(d, conn, job, &v, p, &why);
    if (rc == CC_FETCH_STORED) {
        return 1;
    }
    if (rc == CC_FETCH_LOST) {
        return 0;
    }
    if (rc == CC_FETCH_RETRY) {
        cc_metrics_provider_error(CC_PROVIDER_FETCH);
        if (job->attempts < d->cfg->max_attempts) {
            cc_jobs_retry(conn, d, job, why ? why : "fetch failed");
            return 0;
        }
        cc_kycd_log(CC_LOG_WARN, "job %lld attempt %d: %s; no attempts "
                    "left", job->id, job->attempts, why ? why : "fetch failed");
    }
    commit_verdict(d, conn, job, &v, 0);
    return 0;
}

/* The verify phase; 1 when the job goes on to enrollment. */
static int run_verify(cc_kycd_t *d, PGconn *conn, cc_job_t *job,
                      apr_pool_t *p)
{
    const cc_kycd_cfg_t *cfg = d->cfg;
    const char *why = NULL;
    cc_docs_t docs;
    cc_verdict_t v;
    int rc;

    memset(&v, 0, sizeof(v));
    if (cc_jobs_load_docs(conn, job->customer_id, &docs) != 0) {
        cc_jobs_retry(conn, d, job, "cannot load the customer");
        return 0;
    }
    if (strcmp(cfg->verify_provider, "http") == 0) {
        rc = cc_verify_http(d, conn, job, &docs, &v, p, &why);
    }
    else {
        rc = cc_verify_local(d, &docs, &v, p, &why);
    }
    if (rc != CC_VERIFY_DONE) {
        cc_metrics_provider_error(CC_PROVIDER_VERIFIER);
        /* A permanent provider failure (e.g. 4xx: our request or its
         * configuration is wrong) still gets retries: an operator may
         * fix it; the attempts bound the cost. */
        cc_jobs_retry(conn, d, job, why ? why : "provider failed");
        return 0;
    }
    return commit_verdict(d, conn, job, &v,
                          strcmp(v.kyc_status, "APPROVED") == 0
                              && (job->enroll || cfg->enroll_approved));
}

static void run_enroll(cc_kycd_t *d, PGconn *conn, cc_job_t *job,
                       apr_pool_t *p)
{
    const char *why = NULL, *issuer_id = NULL;
    int rc = cc_enroll(d, conn, job, p, &issuer_id, &why);

    if (rc == CC_ENROLL_RETRY) {
        cc_metrics_provider_error(CC_PROVIDER_ISSUER);
    }
    if (rc == CC_ENROLL_RETRY && job->attempts < d->cfg->max_attempts) {
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
        cc_metrics_outcome(issuer_id ? CC_OUTCOME_ENROLLED
                                     : CC_OUTCOME_ENROLL_FAILED, NULL);
        cc_kycd_webhooks_kick(d);
    }
}

/* Runs one claimed job to its next commit point(s): each phase that
 * commits and hands on continues under the same claim. */
static void run_phases(cc_kycd_t *d, PGconn *conn, cc_job_t *job,
                       apr_pool_t *p)
{
    if (job->phase == CC_PHASE_FETCH && !run_fetch(d, conn, job, p)) {
        return;
    }
    if (job->phase == CC_PHASE_VERIFY && !run_verify(d, conn, job, p)) {
        return;
    }
    run_enroll(d, conn, job, p);
}

static void run_job(cc_kycd_t *d, PGconn *conn, cc_job_t *job, apr_pool_t *p)
{
    apr_time_t t0 = cc_kycd_mono_us();

    cc_kycd_log(CC_LOG_INFO, "job %lld: claimed (attempt %d, phase %s)",
                job->id, job->attempts, cc_jobs_phase_name(job->phase));
    run_phases(d, conn, job, p);
    cc_metrics_job((double)(cc_kycd_mono_us() - t0) / 1e6);
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
