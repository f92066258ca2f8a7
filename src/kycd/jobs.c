/*
 * jobs.c: the kyc_jobs protocol.
 *
 * A worker claims a due job (queued and due, or running with an expired
 * lease: its daemon died) with FOR UPDATE SKIP LOCKED, so daemons never
 * wait on or take each other's rows, and stamps it with a lease token of
 * its own ("<daemon owner>#<claim number>") and a lease. Every decision
 * is one transaction that first updates the job "WHERE id AND lease_owner
 * = this claim's token AND state = 'running' AND phase = ..." and writes
 * nothing else unless that matched: a worker whose lease ran out (and
 * whose job another daemon, or another worker of this daemon, took) loses
 * the race cleanly. The token is per claim, not per daemon, because the
 * re-claim of an expired lease can come from a sibling worker. With
 * the unique (job_id, event) index on outbox_events this is what makes
 * one terminal change and one outcome event per job, however many
 * daemons run and however often provider calls are repeated.
 *
 * Phases: fetch (customers enrolled by URL: the document rows are
 * committed with the move to verify), verify, enroll. Each move to the
 * next phase is committed with the outcome that allows it, under the
 * fence, so a re-claimed job resumes where it was.
 */
#include "kycd.h"

#include "cc_crypto.h"
#include "cc_store.h"

#include <apr_atomic.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The claim of the next due job or (a poke) of one job: two statements,
 * not one with "$2 = 0 OR id = $2", so that each is planned once per
 * session (db.c) and the poke finds its row by the primary key. $1 is the
 * lease token, $2 the lease in seconds, $3 the poked job. */
#define CLAIM_DUE                                                          \
    "((state = 'queued' AND next_attempt_at <= now())"                     \
    " OR (state = 'running' AND lease_until < now()))"
#define CLAIM_SET                                                          \
    " UPDATE kyc_jobs j SET state = 'running', lease_owner = $1,"         \
    "   lease_until = clock_timestamp()"                                   \
    "     + make_interval(secs => $2::double precision),"                  \
    "   attempts = j.attempts + 1, claimed_at = clock_timestamp(),"        \
    "   first_claimed_at = coalesce(j.first_claimed_at, clock_timestamp()),"\
    "   updated_at = clock_timestamp()"                                    \
    " FROM c WHERE j.id = c.id"                                            \
    " RETURNING j.id, j.customer_id,"                                      \
    "   (SELECT company_id FROM customers WHERE id = j.customer_id),"      \
    "   j.enroll, j.phase, j.attempts"

static const char claim_next_sql[] =
    "WITH c AS (SELECT id FROM kyc_jobs WHERE "
    CLAIM_DUE " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
    CLAIM_SET;

static const char claim_one_sql[] =
    "WITH c AS (SELECT id FROM kyc_jobs WHERE id = $3::bigint AND "
    CLAIM_DUE " FOR UPDATE SKIP LOCKED)" CLAIM_SET;

const char *cc_jobs_phase_name(cc_phase_t phase)
{
    return phase == CC_PHASE_FETCH    ? "fetch"
           : phase == CC_PHASE_ENROLL ? "enroll"
                                      : "verify";
}

static cc_phase_t phase_of(const char *name)
{
    return strcmp(name, "fetch") == 0    ? CC_PHASE_FETCH
           : strcmp(name, "enroll") == 0 ? CC_PHASE_ENROLL
                                         : CC_PHASE_VERIFY;
}

int cc_jobs_claim(PGconn *conn, cc_kycd_t *d, long long job_id,
                  cc_job_t *job)
{
    char idbuf[24], lease[24], token[sizeof(job->lease)];
    const char *vals[3] = { token, lease, idbuf };
    PGresult *res;

    snprintf(token, sizeof(token), "%s#%u", d->owner,
             apr_atomic_inc32(&d->claims) + 1);
    snprintf(idbuf, sizeof(idbuf), "%lld", job_id);
    snprintf(lease, sizeof(lease), "%d", d->cfg->lease_seconds);
    res = job_id ? cc_db_exec(conn, "claim job", claim_one_sql, 3, vals)
                 : cc_db_exec(conn, "claim job", claim_next_sql, 2, vals);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    memset(job, 0, sizeof(*job));
    job->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    snprintf(job->lease, sizeof(job->lease), "%s", token);
    snprintf(job->customer_id, sizeof(job->customer_id), "%s",
             PQgetvalue(res, 0, 1));
    snprintf(job->company_id, sizeof(job->company_id), "%s",
             PQgetvalue(res, 0, 2));
    job->enroll = PQgetvalue(res, 0, 3)[0] == 't';
    job->phase = phase_of(PQgetvalue(res, 0, 4));
    job->attempts = atoi(PQgetvalue(res, 0, 5));
    PQclear(res);
    return 1;
}

/* Runs a statement inside the caller's transaction; -1 on error. */
static int tx_exec(PGconn *conn, const char *what, const char *sql, int n,
                   const char *const *vals, long *affected)
{
    PGresult *res = cc_db_exec(conn, what, sql, n, vals);

    if (res == NULL) {
        return -1;
    }
    if (affected) {
        *affected = cc_db_affected(res);
    }
    PQclear(res);
    return 0;
}

/* Inserts the outcome event with the customer as now (inside the
 * transaction, so the snapshot is exactly what is committed). */
static int insert_event(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                        const char *event)
{
    char uuid[37], jid[24];
    char *data = cc_customer_json(conn, d->cfg, job->customer_id);
    const char *vals[6];
    int rc;

    if (data == NULL || cc_crypto_uuid4(uuid) != 0) {
        free(data);
        return -1;
    }
    snprintf(jid, sizeof(jid), "%lld", job->id);
    vals[0] = uuid;
    vals[1] = job->company_id;
    vals[2] = job->customer_id;
    vals[3] = event;
    vals[4] = jid;
    vals[5] = data;
    rc = tx_exec(conn, "insert outcome event",
                 "INSERT INTO outbox_events"
                 " (id, company_id, customer_id, event, job_id, data)"
                 " VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5::bigint, $6)",
                 6, vals, NULL);
    free(data);
    return rc;
}

/* Freezes customer.created's data as the customer is now, inside the
 * verification transaction and before its customer update: only the
 * daemon ever changes a customer, and this is its first change, so "now"
 * is "as created". Without it the dispatcher would build the body when it
 * gets to the event, often after the verdict (it is woken by it), and
 * customer.created would say APPROVED. A dispatcher holding the event
 * (FOR UPDATE) is reading the row as it is now too; this UPDATE waits for
 * it and then matches nothing. */
static int freeze_created(PGconn *conn, cc_kycd_t *d, const cc_job_t *job)
{
    char *data = cc_customer_json(conn, d->cfg, job->customer_id);
    const char *vals[2] = { job->customer_id, data };
    int rc;

    if (data == NULL) {
        return -1;
    }
    rc = tx_exec(conn, "freeze customer.created",
                 "UPDATE outbox_events SET data = $2"
                 " WHERE customer_id = $1::uuid"
                 " AND event = 'customer.created'"
                 " AND data IS NULL AND dispatched_at IS NULL",
                 2, vals, NULL);
    free(data);
    return rc;
}

/* A lease renewed from now for lease_seconds, given as parameter $n. */
#define RENEW_LEASE(n)                                                      \
    " lease_until = clock_timestamp()"                                      \
    "   + make_interval(secs => $" #n "::double precision),"

/* The job id and the lease length as statement parameters. */
static void job_params(const cc_kycd_t *d, const cc_job_t *job,
                       char jid[24], char lease[24])
{
    snprintf(jid, 24, "%lld", job->id);
    snprintf(lease, 24, "%d", d->cfg->lease_seconds);
}

/* Opens an outcome's transaction with its lease-fenced job update: 1 when
 * this claim still holds the job (the transaction stays open for the rest
 * of the outcome), 0 when the lease was lost (rolled back: the new holder
 * decides), -1 on a database error (rolled back). */
static int fenced_begin(PGconn *conn, const cc_job_t *job, const char *what,
                        const char *sql, int n, const char *const *vals)
{
    long affected = 0;

    if (cc_db_begin(conn) != 0) {
        return -1;
    }
    if (tx_exec(conn, what, sql, n, vals, &affected) != 0) {
        cc_db_rollback(conn);
        return -1;
    }
    if (affected != 1) {
        cc_db_rollback(conn);
        cc_kycd_log(CC_LOG_WARN, "job %lld: lease lost, %s dropped", job->id,
                    what);
        return 0;
    }
    return 1;
}

int cc_jobs_complete_verify(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                            const cc_verdict_t *v, int enroll_next)
{
    char jid[24], lease[24];
    const char *jv[5] = { jid, job->lease, enroll_next ? "t" : "f", lease,
                          cc_jobs_phase_name(job->phase) };
    const char *cv[5] = { job->customer_id, v->kyc_status, v->reason,
                          v->message, enroll_next ? "t" : "f" };
    long n = 0;
    int rc;

    job_params(d, job, jid, lease);
    rc = fenced_begin(conn, job, "verification outcome",
                "UPDATE kyc_jobs SET"
                " state = CASE WHEN $3::boolean THEN 'running' ELSE 'done' END,"
                " phase = CASE WHEN $3::boolean THEN 'enroll' ELSE phase END,"
                " attempts = CASE WHEN $3::boolean THEN 1 ELSE attempts END,"
                RENEW_LEASE(4)
                " finished_at = CASE WHEN $3::boolean THEN NULL"
                "   ELSE clock_timestamp() END,"
                " last_error = NULL, updated_at = clock_timestamp()"
                " WHERE id = $1::bigint AND lease_owner = $2"
                " AND state = 'running' AND phase = $5"
                " AND phase IN ('fetch', 'verify')",
                5, jv);
    if (rc != 1) {
        return rc;
    }
    if (freeze_created(conn, d, job) != 0
        || tx_exec(conn, "update customer",
                   "UPDATE customers SET kyc_status = $2, kyc_reason = $3,"
                   " kyc_reason_message = $4,"
                   " enrollment_status = CASE WHEN $5::boolean"
                   "   THEN 'PENDING' ELSE enrollment_status END,"
                   " updated_at = clock_timestamp() WHERE id = $1::uuid",
                   5, cv, &n)
               != 0
        || insert_event(conn, d, job,
                        strcmp(v->kyc_status, "APPROVED") == 0
                            ? "customer.kyc_approved"
                            : "customer.kyc_rejected")
               != 0
        || cc_db_commit(conn) != 0) {
        goto fail;
    }
    return 1;
fail:
    cc_db_rollback(conn);
    return -1;
}

/* Inserts one fetched document's row inside the caller's transaction. */
static int insert_document(PGconn *conn, const cc_job_t *job,
                           const cc_doc_new_t *doc)
{
    char size[24], w[16], h[16];
    const char *vals[10] = { job->customer_id, doc->side, doc->storage_name,
                             doc->mime_type, size, doc->sha256_hex, w, h,
                             doc->document_id, CC_STORE_FORMAT_PLAIN };

    snprintf(size, sizeof(size), "%llu", doc->size);
    snprintf(w, sizeof(w), "%u", doc->width);
    snprintf(h, sizeof(h), "%u", doc->height);
    return tx_exec(conn, "insert fetched document",
                   "INSERT INTO customer_documents (customer_id, side,"
                   " storage_name, mime_type, size_bytes, sha256, width,"
                   " height, document_id, format) VALUES ($1::uuid, $2, $3,"
                   " $4, $5::bigint, decode($6, 'hex'), $7::int, $8::int,"
                   " $9::uuid, $10)",
                   10, vals, NULL);
}

int cc_jobs_complete_fetch(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                           const cc_doc_new_t *docs, int ndocs)
{
    char jid[24], lease[24];
    const char *jv[3] = { jid, job->lease, lease };
    int i, rc;

    job_params(d, job, jid, lease);
    rc = fenced_begin(conn, job, "fetched documents",
                "UPDATE kyc_jobs SET phase = 'verify', attempts = 1,"
                RENEW_LEASE(3)
                " last_error = NULL, updated_at = clock_timestamp()"
                " WHERE id = $1::bigint AND lease_owner = $2"
                " AND state = 'running' AND phase = 'fetch'",
                3, jv);
    if (rc != 1) {
        return rc;
    }
    for (i = 0; i < ndocs; i++) {
        if (insert_document(conn, job, &docs[i]) != 0) {
            cc_db_rollback(conn);
            return -1;
        }
    }
    if (cc_db_commit(conn) != 0) {
        cc_db_rollback(conn);
        return -1;
    }
    return 1;
}

int cc_jobs_complete_enroll(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                            const char *issuer_id, const char *why)
{
    char jid[24];
    const char *jv[3] = { jid, job->lease, issuer_id ? NULL : why };
    const char *cv[3] = { job->customer_id, issuer_id ? "ENROLLED" : "FAILED",
                          issuer_id };
    long n = 0;
    int rc;

    snprintf(jid, sizeof(jid), "%lld", job->id);
    rc = fenced_begin(conn, job, "enrollment outcome",
                "UPDATE kyc_jobs SET state = 'done',"
                " finished_at = clock_timestamp(), last_error = $3,"
                " updated_at = clock_timestamp()"
                " WHERE id = $1::bigint AND lease_owner = $2"
                " AND state = 'running' AND phase = 'enroll'",
                3, jv);
    if (rc != 1) {
        return rc;
    }
    if (tx_exec(conn, "update customer",
                "UPDATE customers SET enrollment_status = $2,"
                " issuer_customer_id = coalesce($3, issuer_customer_id),"
                " updated_at = clock_timestamp() WHERE id = $1::uuid",
                3, cv, &n)
            != 0
        || insert_event(conn, d, job,
                        issuer_id ? "customer.enrolled"
                                  : "customer.enrollment_failed")
               != 0
        || cc_db_commit(conn) != 0) {
        goto fail;
    }
    return 1;
fail:
    cc_db_rollback(conn);
    return -1;
}

int cc_jobs_retry(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                  const char *why)
{
    char jid[24], maxa[16], delay[32];
    const char *vals[5] = { jid, job->lease, maxa, delay, why };
    double secs = d->cfg->retry_base * pow(2.0, job->attempts - 1);
    PGresult *res;

    if (secs > d->cfg->retry_max) {
        secs = d->cfg->retry_max;
    }
    /* Jitter (up to +25%) so jobs failing together spread out. */
    secs *= 1.0 + (double)(cc_crypto_random_u32() % 256) / 1024.0;
    snprintf(jid, sizeof(jid), "%lld", job->id);
    snprintf(maxa, sizeof(maxa), "%d", d->cfg->max_attempts);
    snprintf(delay, sizeof(delay), "%.3f", secs);
    res = cc_db_exec(conn, "reschedule job",
                     "UPDATE kyc_jobs SET"
                     " state = CASE WHEN attempts >= $3::int THEN 'failed'"
                     "   ELSE 'queued' END,"
                     " next_attempt_at = clock_timestamp()"
                     "   + make_interval(secs => $4::double precision),"
                     " finished_at = CASE WHEN attempts >= $3::int"
                     "   THEN clock_timestamp() END,"
                     " lease_owner = NULL, lease_until = NULL,"
                     " last_error = $5, updated_at = clock_timestamp()"
                     " WHERE id = $1::bigint AND lease_owner = $2"
                     " AND state = 'running' RETURNING state",
                     5, vals);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) == 1) {
        cc_kycd_log(strcmp(PQgetvalue(res, 0, 0), "failed") == 0
                        ? CC_LOG_ERR
                        : CC_LOG_WARN,
                    "job %lld attempt %d: %s; %s", job->id, job->attempts,
                    why,
                    strcmp(PQgetvalue(res, 0, 0), "failed") == 0
                        ? "no attempts left, job failed"
                        : "will retry");
    }
    else {
        cc_kycd_log(CC_LOG_WARN, "job %lld attempt %d: %s; lease lost, "
                    "left to its new holder", job->id, job->attempts, why);
    }
    PQclear(res);
    return 0;
}

void cc_jobs_release_all(PGconn *conn, cc_kycd_t *d)
{
    char prefix[sizeof(d->owner) + 1];
    const char *vals[1] = { prefix };
    PGresult *res;

    snprintf(prefix, sizeof(prefix), "%s#", d->owner);
    res = cc_db_exec(conn, "release leases",
                     "UPDATE kyc_jobs SET state = 'queued',"
                     " lease_owner = NULL, lease_until = NULL,"
                     " next_attempt_at = now(),"
                     " updated_at = clock_timestamp()"
                     " WHERE left(lease_owner, length($1)) = $1"
                     " AND state = 'running'",
                     1, vals);

    if (res != NULL) {
        if (cc_db_affected(res) > 0) {
            cc_kycd_log(CC_LOG_INFO, "released %ld job(s)",
                        cc_db_affected(res));
        }
        PQclear(res);
    }
}

int cc_jobs_load_docs(PGconn *conn, const char *customer_id, cc_docs_t *docs)
{
    const char *vals[1] = { customer_id };
    PGresult *res;
    int i;

    res = cc_db_exec(conn, "load documents",
                     "SELECT c.id_document_type, d.side, d.storage_name,"
                     " d.mime_type FROM customers c"
                     " LEFT JOIN customer_documents d ON d.customer_id = c.id"
                     " WHERE c.id = $1::uuid ORDER BY d.side DESC",
                     1, vals);
    if (res == NULL) {
        return -1;
    }
    memset(docs, 0, sizeof(*docs));
    if (PQntuples(res) < 1) {
        PQclear(res);
        return -1;
    }
    snprintf(docs->id_document_type, sizeof(docs->id_document_type), "%s",
             PQgetvalue(res, 0, 0));
    for (i = 0; i < PQntuples(res) && docs->ndocs < 2; i++) {
        cc_doc_row_t *r = &docs->docs[docs->ndocs];

        if (PQgetisnull(res, i, 1)) {
            continue;
        }
        snprintf(r->side, sizeof(r->side), "%s", PQgetvalue(res, i, 1));
        snprintf(r->storage_name, sizeof(r->storage_name), "%s",
                 PQgetvalue(res, i, 2));
        snprintf(r->mime_type, sizeof(r->mime_type), "%s",
                 PQgetvalue(res, i, 3));
        docs->ndocs++;
    }
    PQclear(res);
    return 0;
}
