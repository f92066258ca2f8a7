/*
 * kycd.h: what the parts of cartevo-kycd share.
 *
 *   main.c          start-up, privilege drop, signals, sweep timer, shutdown
 *   config.c        defaults, the config file and command-line flags
 *   db.c            libpq connections and parameterised statements
 *   listener.c      the Unix socket (CCWAKE/1 lines) -> the job queue
 *   workers.c       worker threads: queue -> claim -> (fetch) -> verify
 *                   -> enroll
 *   jobs.c          the kyc_jobs SQL: claim with a lease, complete, retry
 *   fetch.c         the fetch phase: a customer's document URLs -> store
 *   targets.c       which URLs may be fetched; allow_targets (targets.h)
 *   customer.c      a customer row as the API's JSON object (webhooks)
 *   verify_local.c  the local provider (decoding in a limited child)
 *   verify_http.c   the http verification provider
 *   enroll.c        issuer enrollment: sandbox and http
 *   http.c          libcurl requests shared by the http providers/webhooks,
 *                   and the GET of a tenant's document URL
 *   webhooks.c      outbox -> deliveries -> signed POSTs, with backoff
 *   sweeper.c       removal of document files no row references, and of
 *                   idempotency keys older than 24 hours
 *   metrics.c       Prometheus metrics on metrics_listen (libmicrohttpd)
 *
 * The database is the truth: a job is only ever decided by a transaction
 * that still holds the job's lease (see jobs.c).
 */
#ifndef KYCD_H
#define KYCD_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include <apr_pools.h>
#include <apr_queue.h>
#include <apr_thread_proc.h>
#include <libpq-fe.h>

#include "targets.h"

/* ---- configuration (config.c) ----------------------------------------- */

typedef struct {
    const char *config_file;
    const char *database;
    const char *socket_path;
    const char *socket_group; /* group of the socket; default: group */
    const char *user;         /* drop to this user when started as root */
    const char *group;
    const char *document_dir;
    const char *public_base_url;
    int workers;
    int webhook_workers; /* webhook delivery threads */
    int foreground;
    int log_debug;
    /* jobs */
    double sweep_interval; /* seconds between sweeps for due jobs */
    int lease_seconds;
    int max_attempts;
    double retry_base; /* job retry backoff, seconds */
    double retry_max;
    /* verification */
    const char *verify_provider; /* "local" or "http" */
    unsigned min_width, min_height;
    double blank_stddev;
    long decode_memory_mb;
    int decode_cpu_seconds;
    int decode_timeout;
    unsigned long long decode_max_pixels;
    const char *verify_url;
    const char *verify_api_key_file;
    double verify_timeout;
    /* enrollment */
    const char *enroll_provider; /* "sandbox" or "http" */
    int enroll_approved;         /* enroll every approved customer */
    const char *issuer_url;
    const char *issuer_api_key_file;
    double issuer_timeout;
    /* TLS for the http providers, webhooks and document fetches
     * (default: system CAs) */
    const char *ca_file;
    /* document fetches (POST /customers/enroll) */
    double fetch_connect_timeout;
    double fetch_timeout; /* one document, redirects included */
    unsigned long long fetch_max_bytes;
    unsigned fetch_min_width, fetch_min_height; /* the upload gate's size */
    const char *allow_targets; /* as configured; parsed into targets */
    cc_targets_t *targets;
    /* webhooks */
    double webhook_timeout;
    double webhook_backoff_base;
    double webhook_backoff_max;
    double webhook_retry_window;
    double webhook_poll_interval;
    /* document sweeper */
    double orphan_sweep_interval;
    double orphan_min_age;
    /* Prometheus metrics: HOST:PORT, or NULL (off) */
    const char *metrics_listen;
} cc_kycd_cfg_t;

/* Fills defaults, reads --config FILE (if given) and then the flags, which
 * win. Returns 0, or -1 after printing the problem (exit status 2). A
 * return of 1 means --help or --version was handled. */
int cc_kycd_config_load(cc_kycd_cfg_t *cfg, apr_pool_t *p, int argc,
                        const char *const *argv);

/* ---- the daemon's shared state (main.c) -------------------------------- */

typedef struct {
    /* swapped whole by a reload (reload.c): read it, never keep it */
    cc_kycd_cfg_t *_Atomic cfg;
    apr_pool_t *pool;
    apr_queue_t *queue;
    char owner[128];     /* this daemon: host:pid:random */
    volatile apr_uint32_t claims; /* numbers each claim's lease token */
    /* read before dropping privileges, again on reload (reload.c) */
    char *_Atomic verify_api_key;
    char *_Atomic issuer_api_key;
    int listen_fd;
    volatile sig_atomic_t stopping;
    /* wakes the webhook dispatcher early (after an outcome commit); plain
     * pthreads because the condition waits on CLOCK_MONOTONIC (APR's
     * timed wait is on the wall clock, which can be stepped back) */
    pthread_mutex_t wh_mutex;
    pthread_cond_t wh_cond;
    int wh_kicked;
    /* bumped (under wh_mutex, with a broadcast of wh_cond) each time the
     * dispatcher has created deliveries: a counter, not a flag, so every
     * delivery thread sees it, also one that was busy sending when it was
     * bumped, and none consumes it for the others */
    unsigned wh_generation;
} cc_kycd_t;

/* Queue items: a job id from a poke, or 0 for "claim any due job". */
typedef struct {
    long long job_id;
} cc_kycd_item_t;

/* Pushes an item without blocking; a full queue drops it (the next sweep
 * finds the job). */
void cc_kycd_enqueue(cc_kycd_t *d, long long job_id);

/* Microseconds on CLOCK_MONOTONIC: intervals measured on the wall clock
 * stretch or vanish when the clock is stepped. */
apr_time_t cc_kycd_mono_us(void);

/* SIGHUP: the configuration again (reload.c). */
void cc_kycd_reload(cc_kycd_t *d, int argc, const char *const *argv);
void cc_kycd_warn_short_lease(const cc_kycd_cfg_t *cfg);
void cc_kycd_set_debug(int on);

/* Wakes the webhook dispatcher. */
void cc_kycd_webhooks_kick(cc_kycd_t *d);

/* ---- metrics (metrics.c): counters any thread may add to ---------------- */

typedef enum {
    CC_OUTCOME_APPROVED = 0,
    CC_OUTCOME_REJECTED,
    CC_OUTCOME_ENROLLED,
    CC_OUTCOME_ENROLL_FAILED,
    CC_OUTCOME_COUNT
} cc_outcome_t;
typedef enum {
    CC_PROVIDER_VERIFIER = 0,
    CC_PROVIDER_ISSUER,
    CC_PROVIDER_FETCH,
    CC_PROVIDER_COUNT
} cc_provider_t;
typedef enum {
    CC_DELIVERY_DELIVERED = 0,
    CC_DELIVERY_RETRY,
    CC_DELIVERY_FAILED,
    CC_DELIVERY_COUNT
} cc_delivery_t;

/* Serves metrics_listen when set: 0, or -1 (logged: a configuration
 * error). */
int cc_metrics_start(const cc_kycd_cfg_t *cfg);
void cc_metrics_stop(void);
void cc_metrics_job(double seconds);
/* reason: the kyc_reason committed, NULL for none. */
void cc_metrics_outcome(cc_outcome_t o, const char *reason);
void cc_metrics_provider_error(cc_provider_t p);
void cc_metrics_delivery(cc_delivery_t o, double seconds);

/* ---- logging (main.c): never names, emails, ID numbers, keys, bytes ---- */

#define CC_LOG_ERR 3
#define CC_LOG_WARN 4
#define CC_LOG_INFO 6
#define CC_LOG_DEBUG 7

void cc_kycd_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- database (db.c) -------------------------------------------------- */

/* Connects (NULL after logging). */
PGconn *cc_db_connect(const cc_kycd_cfg_t *cfg, const char *app);

/* Makes sure conn is usable, reconnecting once; 0 or -1. */
int cc_db_ensure(PGconn **conn, const cc_kycd_cfg_t *cfg, const char *app);

/* Runs a parameterised statement (text parameters, text results). Returns
 * the result (PQclear it) or NULL after logging the primary message. */
PGresult *cc_db_exec(PGconn *conn, const char *what, const char *sql, int n,
                     const char *const *vals);

/* BEGIN / COMMIT (checked: a failed transaction's COMMIT says ROLLBACK) /
 * ROLLBACK when a transaction is open. */
int cc_db_begin(PGconn *conn);
int cc_db_commit(PGconn *conn);
void cc_db_rollback(PGconn *conn);

/* Rows affected by a command result. */
long cc_db_affected(PGresult *res);

/* ---- listener (listener.c) --------------------------------------------- */

/* Creates the socket (before the privilege drop): umask 077, bind, then
 * chown to the group and chmod 0660. Returns the fd or -1. */
int cc_listener_open(const cc_kycd_cfg_t *cfg);
void *APR_THREAD_FUNC cc_listener_thread(apr_thread_t *t, void *data);

/* ---- workers and jobs (workers.c, jobs.c) ------------------------------ */

void *APR_THREAD_FUNC cc_worker_thread(apr_thread_t *t, void *data);

typedef enum {
    CC_PHASE_FETCH = 0,
    CC_PHASE_VERIFY,
    CC_PHASE_ENROLL
} cc_phase_t;

/* kyc_jobs.phase as stored. */
const char *cc_jobs_phase_name(cc_phase_t phase);

typedef struct {
    long long id;
    /* This claim's lease token, "<owner>#<n>": unique per claim, not per
     * daemon, so a worker whose lease ran out cannot act on a claim that
     * another worker of the same daemon has since made. */
    char lease[160];
    char customer_id[37];
    char company_id[37];
    int enroll;       /* the request asked for enrollment */
    cc_phase_t phase; /* where the job is (committed phases are done) */
    int attempts;
} cc_job_t;

/* Claims job_id (0: any due job) with a lease under a new token (job->lease).
 * Returns 1 and fills *job, 0 when nothing was claimable, -1 on a database
 * error. */
int cc_jobs_claim(PGconn *conn, cc_kycd_t *d, long long job_id,
                  cc_job_t *job);

typedef struct {
    const char *kyc_status; /* "APPROVED" or "REJECTED" */
    const char *reason;     /* NULL when approved */
    const char *message;
} cc_verdict_t;

/* Commits the verification outcome if job->lease still holds the job in
 * its phase (verify, or fetch for a document that could not be fetched):
 * customer kyc_* fields, the outcome outbox event, and the job either done
 * or moved to the enroll phase (enroll_next). Returns 1 when committed, 0
 * when the lease was lost (nothing written), -1 on error. */
int cc_jobs_complete_verify(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                            const cc_verdict_t *v, int enroll_next);

/* A fetched document, committed to the store, for its row. */
typedef struct {
    const char *side;         /* "front" or "back" */
    const char *storage_name; /* cc_store_name() */
    const char *document_id;  /* cc_store_document_id() */
    const char *mime_type;
    const char *sha256_hex;
    unsigned long long size;
    unsigned width, height;   /* 0 for a PDF, as the module stores it */
} cc_doc_new_t;

/* Ends the fetch phase under the same lease rule: the document rows and
 * the job moved to the verify phase (attempts restart at 1, the lease is
 * renewed) in one transaction. Returns 1 when committed, 0 when the lease
 * was lost, -1 on error; only after 1 may the files be kept. */
int cc_jobs_complete_fetch(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                           const cc_doc_new_t *docs, int ndocs);

/* Commits the enrollment outcome (ENROLLED with issuer_id, or FAILED with
 * issuer_id NULL) under the same lease rule; the job ends done. */
int cc_jobs_complete_enroll(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                            const char *issuer_id, const char *why);

/* Gives the job back for a later attempt (backoff from attempts), or marks
 * it failed once max_attempts is reached. why is stored as last_error (no
 * PII: a provider status or a short reason). */
int cc_jobs_retry(PGconn *conn, cc_kycd_t *d, const cc_job_t *job,
                  const char *why);

/* Releases every job still leased under one of d->owner's tokens
 * (shutdown). */
void cc_jobs_release_all(PGconn *conn, cc_kycd_t *d);

/* ---- customers (customer.c) -------------------------------------------- */

/* The customer object of GET /customers/{id} as a JSON string (malloc'd;
 * free()), or NULL. */
char *cc_customer_json(PGconn *conn, const cc_kycd_cfg_t *cfg,
                       const char *customer_id);

/* ---- verification providers (verify_*.c) ------------------------------- */

#define CC_VERIFY_DONE 0  /* *verdict set */
#define CC_VERIFY_RETRY 1 /* transient failure: try again later */
#define CC_VERIFY_FAIL 2  /* permanent failure of the provider call */

typedef struct {
    char side[8];
    char storage_name[33];
    char mime_type[32];
} cc_doc_row_t;

typedef struct {
    char id_document_type[24];
    int ndocs;
    cc_doc_row_t docs[2]; /* front first */
} cc_docs_t;

/* Loads the customer's type and document rows. 0 or -1. */
int cc_jobs_load_docs(PGconn *conn, const char *customer_id, cc_docs_t *docs);

/* verdict strings are static or allocated in p. why (on RETRY/FAIL) is a
 * short PII-free text. */
int cc_verify_local(cc_kycd_t *d, const cc_docs_t *docs, cc_verdict_t *v,
                    apr_pool_t *p, const char **why);
int cc_verify_http(cc_kycd_t *d, PGconn *conn, const cc_job_t *job,
                   const cc_docs_t *docs, cc_verdict_t *v, apr_pool_t *p,
                   const char **why);

/* The local provider's rejections, also used for fetched documents that
 * fail the upload gate; side is "front" or "back". */
void cc_verdict_unreadable(cc_verdict_t *v, apr_pool_t *p, const char *side);
void cc_verdict_low_resolution(cc_verdict_t *v, apr_pool_t *p,
                               const char *side, unsigned w, unsigned h,
                               unsigned min_w, unsigned min_h);

/* ---- the decoder process (decoder.c) ---------------------------------- */

/* What decoding one stored document said. */
typedef struct {
    int ok;        /* decoded fully */
    int transient; /* our side failed: retry, do not judge */
    unsigned w, h;
    double stddev;
    char why[96]; /* PII-free, when not ok */
} cc_decoded_t;

/* Decodes one stored document in a sandboxed child within the decode_*
 * limits of cfg; fills *c. */
void cc_decoder_run(const cc_kycd_cfg_t *cfg, const cc_doc_row_t *doc,
                    cc_decoded_t *c);

/* The "--check-document TYPE ..." child: enters the sandbox, reads the
 * document on stdin, decodes it, prints one result line. Returns the exit
 * status. */
int cc_decoder_child(int argc, const char *const *argv);

/* ---- the fetch phase (fetch.c) ---------------------------------------- */

#define CC_FETCH_STORED 0 /* rows committed; job->phase is now verify */
#define CC_FETCH_REJECT 1 /* *v is the outcome to commit now */
#define CC_FETCH_RETRY 2  /* *why; *v is the outcome once no attempts are
                             left */
#define CC_FETCH_LOST 3   /* the lease was lost: nothing to do */

/* Fetches the customer's documents (front, then back when back_url is
 * set), gates them as an upload is gated, stores them and commits their
 * rows with the move to the verify phase. Strings are in p. */
int cc_fetch_documents(cc_kycd_t *d, PGconn *conn, cc_job_t *job,
                       cc_verdict_t *v, apr_pool_t *p, const char **why);

/* ---- enrollment (enroll.c) --------------------------------------------- */

#define CC_ENROLL_OK 0     /* *issuer_id set */
#define CC_ENROLL_RETRY 1  /* transient */
#define CC_ENROLL_REFUSED 2 /* the issuer said no: enrollment FAILED */

int cc_enroll(cc_kycd_t *d, PGconn *conn, const cc_job_t *job, apr_pool_t *p,
              const char **issuer_id, const char **why);

/* ---- HTTP (http.c) ----------------------------------------------------- */

typedef struct {
    long status;       /* 0 when no HTTP answer */
    char *body;        /* malloc'd, NUL-terminated, capped; may be NULL */
    size_t body_len;
    char error[128];   /* transport error, when status == 0 */
} cc_http_resp_t;

/* The tenant URL rules for one request (decisions.md 3, targets.h):
 * filled by cc_http_guard_init, then consulted by libcurl's open-socket
 * callback for every connection; refused/opened tell afterwards whether
 * the address rule was what ended it. */
typedef struct {
    int listed;              /* an allow_targets entry */
    cc_target_addrs_t addrs; /* listed: where its host may connect */
    const char *refused;     /* why a socket was refused, if one was */
    int opened;              /* sockets that were opened */
} cc_http_guard_t;

#define CC_HTTP_GUARD_OK 0
#define CC_HTTP_GUARD_REFUSED 1    /* neither https nor listed */
#define CC_HTTP_GUARD_UNRESOLVED 2 /* listed, but its host names nothing */

/* Classifies a tenant url under the rules: fills *u (host, port), *tls
 * and *g, and returns a CC_HTTP_GUARD_ value. */
int cc_http_guard_init(const cc_kycd_cfg_t *cfg, const char *url,
                       cc_http_guard_t *g, cc_url_t *u, int *tls);

/* "scheme://host" of a classified URL: all a log may say of it (the path
 * and query may carry credentials). */
void cc_http_origin(char *buf, size_t len, const cc_url_t *u, int tls);

/* POSTs body with the given extra header lines (NULL-terminated array),
 * TLS verified, connect and total timeouts, no redirects, response body
 * capped at max_body bytes. guard NULL: an operator URL, https only.
 * Otherwise a tenant URL under cc_http_guard_init's *guard (tls from it
 * too): its scheme only, no proxy, every address checked. Returns 0 when
 * an HTTP status was received (then cc_http_resp_free() the response), or
 * -1 with resp->error set and nothing to free. */
int cc_http_post(const cc_kycd_cfg_t *cfg, const char *url,
                 const char *const *headers, const char *body, size_t len,
                 double timeout, size_t max_body, cc_http_resp_t *resp,
                 cc_http_guard_t *guard, int tls);
void cc_http_resp_free(cc_http_resp_t *resp);

/* Receives a fetched body as it arrives: 0, or an errno value to stop. */
typedef int (*cc_http_sink_t)(void *ud, const void *data, size_t len);

typedef struct {
    const char *url;  /* a tenant's URL: never logged beyond its origin */
    size_t max_bytes; /* more is a failure, judged as bytes arrive */
    cc_http_sink_t sink;
    void *ud;
    /* results */
    char why[512];    /* "https://host: reason", for logs and last_error */
    char brief[64];   /* the reason without URL or host, for customers */
    int redirects;
} cc_http_fetch_t;

#define CC_HTTP_FETCH_OK 0     /* a 200's body went to the sink */
#define CC_HTTP_FETCH_RETRY 1  /* may succeed later: resolution, connect,
                                  timeouts, 408, 429, 5xx, our storage */
#define CC_HTTP_FETCH_FAILED 2 /* cannot succeed: URL or address refused,
                                  TLS, other statuses, too large, too many
                                  redirects */

/* GETs f->url under the tenant URL rules (targets.h): https only unless
 * listed, every connected address checked, at most 3 redirects each
 * checked as a URL of its own, fetch_connect_timeout per connection and
 * fetch_timeout for the whole, no proxy. Only a 200's body reaches the
 * sink; a failed fetch may have sent it part of a body. */
int cc_http_fetch(const cc_kycd_cfg_t *cfg, cc_http_fetch_t *f);

/* ---- webhooks and the sweeper ------------------------------------------ */

/* The outbox dispatcher (one thread) and the delivery threads
 * (webhook_workers of them, each with its own connection). */
void *APR_THREAD_FUNC cc_webhooks_thread(apr_thread_t *t, void *data);
void *APR_THREAD_FUNC cc_deliveries_thread(apr_thread_t *t, void *data);
void *APR_THREAD_FUNC cc_sweeper_thread(apr_thread_t *t, void *data);

/* Sleeps up to seconds, returning early when stopping (non-zero) and
 * possibly on a kick meant for the dispatcher, which it leaves pending. */
int cc_kycd_nap(cc_kycd_t *d, double seconds);

/* The dispatcher's sleep: returns at once if a kick is pending, else up
 * to seconds or until a kick or stop; consumes the kick. Only the webhook
 * thread may call it (a second consumer would steal its wake-ups). */
int cc_kycd_webhooks_wait(cc_kycd_t *d, double seconds);

/* The dispatcher's announcement that new deliveries exist: bumps
 * wh_generation and wakes every waiter (broadcast). */
void cc_kycd_deliveries_announce(cc_kycd_t *d);

/* A delivery thread's sleep: returns at once if wh_generation differs
 * from *seen, else up to seconds or until an announcement or stop; stores
 * the generation seen in *seen. Returns d->stopping. */
int cc_kycd_deliveries_wait(cc_kycd_t *d, double seconds, unsigned *seen);

/* Reads a small secret file (API key) without its trailing newline;
 * malloc'd string, or NULL after logging. */
char *cc_kycd_read_secret(const char *path);

#endif
