/*
 * db.c: every SQL statement of the module, prepared once per database
 * session, and a thin wrapper to run them.
 *
 * Creating a customer is ONE statement: a data-modifying CTE writes the
 * customer, its documents, the KYC job and the customer.created outbox
 * event atomically in a single round trip; the unique indexes decide
 * duplicates, also under concurrency.
 *
 * Statements are prepared on the server (PREPARE, so parsed, analysed
 * and planned once per session, not once per request) on first use, and
 * kept per backend: the pgsql driver's connection check PQreset()s the
 * same PGconn under the same ap_dbd_t after a database restart, and the
 * new session knows none of them. The cache is therefore keyed on
 * PQbackendPID() and dropped whenever a statement finds the connection
 * lost. It is also retired (DEALLOCATE of our names, between
 * transactions) once a minute, because a generic plan lasts until an
 * ANALYZE and one made while a table was nearly empty turns slow as it
 * grows, and after a statement failed on a live connection (see
 * stmts_suspect). A PREPARE the server refuses leaves that statement
 * running as unnamed text (PQexecParams) on this backend (inside a
 * transaction it fails that request: the transaction is aborted); one
 * that loses the connection is never retried on a new one, since the
 * lost backend may still hold a create's locks (db_cut.t). Read-only
 * statements (and writes that are safe to repeat) are retried once when
 * the connection turns out usable again after a failure (a stale
 * connection to a restarted server); the insert never is, since it may
 * have been committed.
 */
#include "cc_mod.h"
#include "cc_db_sql.h"
#include "cc_schema.h"

#include "apr_optional.h"
#include "apr_strings.h"

#include <libpq-fe.h>

APLOG_USE_MODULE(cartevo_customers);

#define CC_DB_MAX_ARGS 40

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire_fn;

static PGconn *pg_conn(ap_dbd_t *dbd);
static void forget_backend(ap_dbd_t *dbd);
static int schema_ok(request_rec *r, ap_dbd_t *dbd);


#define BACKEND_START_US \
    "(extract(epoch FROM a.backend_start) * 1000000)::bigint"

#define CUSTOMER_COLUMNS_IN                                                 \
    "INSERT INTO customers (id, company_id, first_name, last_name, email, " \
    "country, street, city, state, postal_code, country_iso_code, "        \
    "phone_country_code, phone_number, identification_number, "            \
    "id_document_type, date_of_birth"
#define CUSTOMER_VALUES_IN                                                  \
    "(%s::uuid, %s::uuid, %s, %s, %s, %s, %s, %s, %s, %s, upper(%s), %s, "  \
    "%s, %s, %s, %s::date"

#define CREATE_HEAD                                                         \
    "WITH c AS (" CUSTOMER_COLUMNS_IN ") VALUES " CUSTOMER_VALUES_IN ") "   \
    "RETURNING id, created_at, updated_at), "                              \
    "j AS (INSERT INTO kyc_jobs (customer_id, enroll) "                     \
    "SELECT id, %s::boolean FROM c RETURNING id), "                         \
    "o AS (INSERT INTO outbox_events (id, company_id, customer_id, event) " \
    "SELECT %s::uuid, %s::uuid, id, 'customer.created' FROM c), "

#define CREATE_DOC(side)                                                    \
    "INSERT INTO customer_documents (customer_id, side, storage_name, "    \
    "mime_type, size_bytes, sha256, width, height, document_id, format) "  \
    "SELECT id, '" side "', %s, %s, %s::bigint, decode(%s, 'hex'), "       \
    "%s::int, %s::int, %s::uuid, 'plain' FROM c"

#define CREATE_TAIL \
    "SELECT " CC_CUSTOMER_TS("c.created_at") ", " \
    CC_CUSTOMER_TS("c.updated_at") ", j.id FROM c, j"

static const struct {
    const char *label;
    const char *sql;
} statements[] = {
    { CC_SQL_CLIENT_STATE,
      "SELECT a.company_id, a.revoked_at IS NULL, c.kyb_status "
      "FROM api_clients a JOIN companies c ON c.id = a.company_id "
      "WHERE a.client_id = %s" },
    { CC_SQL_CLIENT_KEY,
      "SELECT a.company_id, encode(a.key_sha256, 'hex') FROM api_clients a "
      "WHERE a.client_id = %s AND a.revoked_at IS NULL" },
    { CC_SQL_CREATE_1,
      CREATE_HEAD "f AS (" CREATE_DOC("front") ") " CREATE_TAIL },
    { CC_SQL_CREATE_2,
      CREATE_HEAD "f AS (" CREATE_DOC("front") "), b AS (" CREATE_DOC("back")
      ") " CREATE_TAIL },
    /* POST /customers/enroll: no document yet; the job starts by fetching
     * them (phase fetch) and always enrolls. */
    { CC_SQL_CREATE_URL,
      "WITH c AS (" CUSTOMER_COLUMNS_IN ", front_url, back_url) VALUES "
      CUSTOMER_VALUES_IN ", %s, NULLIF(%s, '')) "
      "RETURNING id, created_at, updated_at), "
      "j AS (INSERT INTO kyc_jobs (customer_id, enroll, phase) "
      "SELECT id, %s::boolean, 'fetch' FROM c RETURNING id), "
      "o AS (INSERT INTO outbox_events (id, company_id, customer_id, event) "
      "SELECT %s::uuid, %s::uuid, id, 'customer.created' FROM c) "
      CREATE_TAIL },
    /* A backend is named by its pid, its start (microseconds since the
     * epoch: exact, and free of the session's TimeZone) and the server's
     * system identifier. */
    { CC_SQL_BACKEND_SELF,
      "SELECT a.pid::text, " BACKEND_START_US "::text, "
      "s.system_identifier::text "
      "FROM pg_stat_get_activity(pg_backend_pid()) a, pg_control_system() s" },
    /* Terminates it if it is still there on this very server, waiting up
     * to 5 s for the process to exit: NULL (not there), 1 (gone), 0. */
    { CC_SQL_BACKEND_END,
      "SELECT s.system_identifier::text, "
      "(SELECT pg_terminate_backend(a.pid, 5000)::int::text "
      "FROM pg_stat_get_activity(%s::int) a "
      "WHERE " BACKEND_START_US " = %s::bigint "
      "AND s.system_identifier = %s::bigint) "
      "FROM pg_control_system() s" },
    { CC_SQL_BACKEND_SEEN,
      "SELECT 1 FROM pg_stat_get_activity(%s::int) a "
      "WHERE " BACKEND_START_US " = %s::bigint" },
    { CC_SQL_CUSTOMER_EXISTS,
      "SELECT 1 FROM customers WHERE id = %s::uuid" },
    { CC_SQL_EMAIL_TAKEN,
      "SELECT 1 FROM customers WHERE company_id = %s::uuid "
      "AND lower(email) = lower(%s)" },
    { CC_SQL_GET_CUSTOMER,
      CC_CUSTOMER_SELECT
      "FROM customers c WHERE c.id = %s::uuid AND c.company_id = %s::uuid" },
    /* One row when the customer is the company's (so that an unknown
     * customer and a missing document get different answers); the last
     * column says whether the document exists. */
    { CC_SQL_GET_DOCUMENT,
      "SELECT d.storage_name, d.mime_type, d.size_bytes, "
      "d.customer_id IS NOT NULL FROM (SELECT id FROM customers "
      "WHERE id = %s::uuid AND company_id = %s::uuid) c "
      "LEFT JOIN customer_documents d ON d.customer_id = c.id "
      "AND d.side = %s" },
    /* See handler_list.c. Arguments: company, company, limit, page,
     * limit. */
    { CC_SQL_LIST_CUSTOMERS,
      "WITH t AS (SELECT coalesce(sum(n), 0) AS total FROM customer_counts "
      "WHERE company_id = %s::uuid), "
      "p AS (SELECT seq FROM customers WHERE company_id = %s::uuid "
      "ORDER BY created_at DESC, seq DESC LIMIT %s::bigint "
      "OFFSET (%s::bigint - 1) * %s::bigint) "
      "SELECT t.total, " CC_CUSTOMER_COLS
      "FROM t LEFT JOIN (p JOIN customers c ON c.seq = p.seq) ON true "
      "ORDER BY c.created_at DESC, c.seq DESC" },
    /* Idempotency-Key (idem.c). The key's row is the claim: taken when
     * absent, or when an earlier claim expired without an answer. */
    { CC_SQL_IDEM_CLAIM,
      "INSERT INTO idempotency_keys AS k (company_id, method, path, key, "
      "fingerprint, claim_token, claimed_until) VALUES (%s::uuid, %s, %s, "
      "%s, decode(%s, 'hex'), %s, clock_timestamp() + interval '60 s') "
      "ON CONFLICT (company_id, method, path, key) DO UPDATE SET "
      "fingerprint = EXCLUDED.fingerprint, claim_token = EXCLUDED.claim_token, "
      "claimed_until = EXCLUDED.claimed_until, created_at = now() "
      "WHERE k.status IS NULL AND (k.claimed_until < clock_timestamp() "
      "OR k.claim_token = EXCLUDED.claim_token) RETURNING 1" },
    { CC_SQL_IDEM_GET,
      "SELECT encode(fingerprint, 'hex'), status, body FROM idempotency_keys "
      "WHERE company_id = %s::uuid AND method = %s AND path = %s AND key = %s" },
    { CC_SQL_IDEM_DONE,
      "UPDATE idempotency_keys SET status = %s::integer, body = %s, "
      "customer_id = NULLIF(%s, '')::uuid, completed_at = now() "
      "WHERE company_id = %s::uuid AND method = %s AND path = %s AND key = %s "
      "AND claim_token = %s AND status IS NULL RETURNING 1" },
    { CC_SQL_IDEM_RELEASE,
      "DELETE FROM idempotency_keys WHERE company_id = %s::uuid AND "
      "method = %s AND path = %s AND key = %s AND claim_token = %s "
      "AND status IS NULL RETURNING 1" },
};

void cc_db_register(server_rec *s)
{
    if (!dbd_acquire_fn) {
        dbd_acquire_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    }
    if (!dbd_acquire_fn) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, CCLOGNO(00201)
                     "mod_dbd is not loaded: every API call will answer 503");
    }
}

static const char *statement_sql(const char *label)
{
    apr_size_t i;

    for (i = 0; i < sizeof(statements) / sizeof(statements[0]); i++) {
        if (strcmp(statements[i].label, label) == 0) {
            return statements[i].sql;
        }
    }
    return NULL;
}

/* Statements that may have taken effect when their answer was lost are
 * never run twice. The idempotency claim and release are safe to repeat:
 * both name this request's own claim token (a repeated claim finds its
 * own row and takes it again). */
static int is_retry_safe(const char *label)
{
    static const char *const writes[] = {
        CC_SQL_CREATE_1, CC_SQL_CREATE_2, CC_SQL_CREATE_URL, CC_SQL_IDEM_DONE
    };
    apr_size_t i;

    for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        if (strcmp(label, writes[i]) == 0) {
            return 0;
        }
    }
    return 1;
}

/* The statements prepared on one backend (see the top of this file). */
#define STMT_MAX_AGE apr_time_from_sec(60)

typedef struct {
    int pid;           /* PQbackendPID() they were prepared on; 0: none */
    apr_time_t since;  /* when the first was prepared */
    apr_pool_t *pool;  /* holds them; cleared with the cache */
    apr_hash_t *stmts; /* label -> apr_dbd_prepared_t */
    apr_hash_t *named; /* the labels prepared on the server */
    int suspect;       /* a named statement failed: retire when idle */
} stmt_cache_t;

/* Retires the backend's statements once they are due (see the top of
 * this file): DEALLOCATE of each that is named on the server, one by one,
 * since the pooled connection may also hold statements mod_dbd prepared
 * for another module. Returns 1 when the cache must be dropped; a name
 * whose DEALLOCATE failed is then refused by the next PREPARE, and that
 * statement runs unnamed on this backend. */
static int stmts_retire(PGconn *conn, const stmt_cache_t *sc)
{
    apr_hash_index_t *hi;
    char sql[64];

    if (!conn || !sc->stmts
        || (!sc->suspect && apr_time_now() - sc->since < STMT_MAX_AGE)
        || PQtransactionStatus(conn) != PQTRANS_IDLE) {
        return 0;
    }
    for (hi = apr_hash_first(NULL, sc->named); hi; hi = apr_hash_next(hi)) {
        /* Our own labels (cc_db_sql.h), never input. */
        snprintf(sql, sizeof(sql), "DEALLOCATE %s",
                 (const char *)apr_hash_this_key(hi));
        PQclear(PQexec(conn, sql));
    }
    return 1;
}

/* The ap_dbd_t is used by one request at a time and dbd->pool lives as
 * long as the connection, so the cache needs no lock. */
static stmt_cache_t *stmt_cache(ap_dbd_t *dbd, PGconn *conn)
{
    stmt_cache_t *sc = NULL;
    int pid = conn ? PQbackendPID(conn) : 0;

    apr_pool_userdata_get((void **)&sc, "cartevo:stmts", dbd->pool);
    if (!sc) {
        sc = apr_pcalloc(dbd->pool, sizeof(*sc));
        if (apr_pool_create(&sc->pool, dbd->pool) != APR_SUCCESS) {
            return NULL;
        }
        apr_pool_userdata_setn(sc, "cartevo:stmts", NULL, dbd->pool);
    }
    if (!sc->stmts || sc->pid != pid || stmts_retire(conn, sc)) {
        apr_pool_clear(sc->pool);
        sc->stmts = apr_hash_make(sc->pool);
        sc->named = apr_hash_make(sc->pool);
        sc->suspect = 0;
        sc->pid = pid;
        sc->since = apr_time_now();
    }
    return sc;
}

static apr_dbd_prepared_t *statement(request_rec *r, ap_dbd_t *dbd,
                                     const char *label)
{
    PGconn *conn = pg_conn(dbd);
    stmt_cache_t *sc = stmt_cache(dbd, conn);
    apr_dbd_prepared_t *st = NULL;
    const char *sql = statement_sql(label);

    if (!sc || !sql) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00203)
                      "cannot prepare statement %s", label);
        return NULL;
    }
    st = apr_hash_get(sc->stmts, label, APR_HASH_KEY_STRING);
    if (st) {
        return st;
    }
    /* Named (server-side) only on PostgreSQL, whose backend we can tell;
     * unnamed costs no round trip: the driver keeps the text. */
    if (conn
        && apr_dbd_prepare(dbd->driver, sc->pool, dbd->handle, sql, label,
                           &st) == 0) {
        apr_hash_set(sc->named, label, APR_HASH_KEY_STRING, label);
    }
    else {
        if (conn && cc_db_lost(dbd)) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CCLOGNO(00206)
                          "connection lost preparing %s", label);
            return NULL;
        }
        if (apr_dbd_prepare(dbd->driver, sc->pool, dbd->handle, sql, NULL,
                            &st) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00203)
                          "cannot prepare statement %s", label);
            return NULL;
        }
    }
    apr_hash_set(sc->stmts, label, APR_HASH_KEY_STRING, st);
    return st;
}

/* The schema version a backend was found at (decisions.md 4): checked on
 * a connection's first use and after every reconnect (a new backend pid),
 * since a reconnect may reach another server (a failover) or one that
 * was migrated meanwhile. A version outside the range is checked again
 * after SCHEMA_RECHECK, so that the API comes back by itself once the
 * admin has run cartevoctl migrate. */
#define SCHEMA_RECHECK apr_time_from_sec(5)
/* A supported version is asked again after this long on the same
 * backend: a migration does not end the sessions of running nodes. */
#define SCHEMA_RECHECK_OK apr_time_from_sec(60)

typedef struct {
    int pid;           /* PQbackendPID() it was read on; 0: none */
    int ok;
    apr_time_t at;
} schema_seen_t;

static cc_log_slot_t schema_warned, acquire_warned;

/* The version, or -1 when it could not be read. A database without a
 * schema_migrations table (SQLSTATE 42P01: nobody migrated it) is at
 * version 0. Sent as text on libpq directly, once per backend, because
 * only the SQLSTATE tells a missing table from a failing server. */
static long schema_version(PGconn *conn, ap_dbd_t *dbd)
{
    PGresult *res = PQexecParams(conn, CC_SCHEMA_VERSION_SQL, 0, NULL, NULL,
                                 NULL, NULL, 0);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    long v = -1;

    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        v = atol(PQgetvalue(res, 0, 0));
    }
    else if (state && strcmp(state, "42P01") == 0) {
        v = 0;
    }
    PQclear(res);
    if (cc_db_lost(dbd)) {
        forget_backend(dbd);
    }
    return v;
}

static int schema_ok(request_rec *r, ap_dbd_t *dbd)
{
    PGconn *conn = pg_conn(dbd);
    schema_seen_t *seen = NULL;
    long v;
    int level;

    if (!conn) {
        return 1;   /* not PostgreSQL: nothing to ask */
    }
    apr_pool_userdata_get((void **)&seen, "cartevo:schema", dbd->pool);
    if (!seen) {
        seen = apr_pcalloc(dbd->pool, sizeof(*seen));
        apr_pool_userdata_setn(seen, "cartevo:schema", NULL, dbd->pool);
    }
    /* Never inside a transaction (cc_db_failure and a retry may ask
     * mid-create): an aborted one would fail the query, and a 503 would
     * follow for a database that is fine. */
    if (seen->pid == PQbackendPID(conn)
        && (PQtransactionStatus(conn) != PQTRANS_IDLE
            || apr_time_now() - seen->at
                   < (seen->ok ? SCHEMA_RECHECK_OK : SCHEMA_RECHECK))) {
        return seen->ok;
    }
    v = schema_version(conn, dbd);
    /* A pooled connection whose server session ended since its last use
     * fails its first statement: reconnected and asked again, once, as a
     * read-only statement would be (cc_db_select). */
    if (v < 0 && cc_db_alive(r, dbd)) {
        v = schema_version(conn, dbd);
    }
    /* A re-check that could not read the version proves nothing against
     * a backend already found good: only a version read outside the range
     * turns it away. */
    if (v < 0 && seen->ok && seen->pid == PQbackendPID(conn)) {
        seen->at = apr_time_now();
        return 1;
    }
    seen->pid = v < 0 ? 0 : PQbackendPID(conn);
    seen->ok = CC_SCHEMA_SUPPORTED(v);
    seen->at = apr_time_now();
    if (!seen->ok && v >= 0) {
        level = cc_log_minutely(&schema_warned, APLOG_ERR);
        ap_log_rerror(APLOG_MARK, level, 0, r, CCLOGNO(00207)
                      "schema version %ld, this build supports %d..%d: run "
                      "cartevoctl migrate", v, CC_SCHEMA_MIN, CC_SCHEMA_MAX);
    }
    else if (!seen->ok && !cc_db_lost(dbd)) {
        /* Reachable, yet the version cannot be read (a role without
         * access to schema_migrations, say). */
        level = cc_log_minutely(&schema_warned, APLOG_ERR);
        ap_log_rerror(APLOG_MARK, level, 0, r, CCLOGNO(00208)
                      "cannot read the schema version (schema_migrations)");
    }
    return seen->ok;
}

/* NULL (the caller answers 503) when there is no usable connection or
 * its database has a schema this build does not support. */
ap_dbd_t *cc_db_acquire(request_rec *r)
{
    ap_dbd_t *dbd = dbd_acquire_fn ? dbd_acquire_fn(r) : NULL;
    int level;

    if (!dbd) {
        cc_metrics_db_error();
        level = cc_log_minutely(&acquire_warned, APLOG_ERR);
        ap_log_rerror(APLOG_MARK, level, 0, r, CCLOGNO(00202)
                      "no database connection");
        return NULL;
    }
    if (!schema_ok(r, dbd)) {
        cc_metrics_db_error();
        return NULL;
    }
    return dbd;
}

/* A statement failed on a live connection: most often what it did was
 * refused (a unique violation), but it may also be a session that no
 * longer knows our names (a reset we did not see that reused the
 * backend's pid). Which one, the driver does not say; so the statements
 * are retired and prepared again before the next one runs outside a
 * transaction, which costs a few round trips after a 409. */
static void stmts_suspect(ap_dbd_t *dbd)
{
    stmt_cache_t *sc = NULL;

    apr_pool_userdata_get((void **)&sc, "cartevo:stmts", dbd->pool);
    if (sc) {
        sc->suspect = 1;
    }
}

static void collect_args(va_list ap, const char **args, int *n)
{
    const char *a;

    *n = 0;
    while ((a = va_arg(ap, const char *)) != NULL && *n < CC_DB_MAX_ARGS) {
        args[(*n)++] = a;
    }
}

/* One attempt: prepare (or find) and run; -1 when it could not be
 * prepared. random = 1: the result is fetched whole, so errors (a unique
 * violation above all) surface here, not half-way through rows. */
static int run_select(request_rec *r, ap_dbd_t *dbd, const char *label,
                      apr_dbd_results_t **res, int n, const char **args)
{
    apr_dbd_prepared_t *st = statement(r, dbd, label);

    *res = NULL;
    if (!st) {
        return -1;
    }
    return apr_dbd_pselect(dbd->driver, r->pool, dbd->handle, res, st, 1, n,
                           args);
}

int cc_db_select(request_rec *r, ap_dbd_t *dbd, const char *label,
                 apr_dbd_results_t **res, const char **err, ...)
{
    const char *args[CC_DB_MAX_ARGS];
    va_list ap;
    int rc, n;

    va_start(ap, err);
    collect_args(ap, args, &n);
    va_end(ap);
    rc = run_select(r, dbd, label, res, n, args);
    if (rc != 0 && cc_db_lost(dbd)) {
        forget_backend(dbd);
    }
    else if (rc != 0) {
        stmts_suspect(dbd);
    }
    /* After a reconnect the statement is prepared again on the new
     * backend (its pid differs, and forget_backend dropped the cache),
     * once that backend's schema is one this build supports. */
    if (rc != 0 && is_retry_safe(label) && cc_db_alive(r, dbd)
        && schema_ok(r, dbd)) {
        rc = run_select(r, dbd, label, res, n, args);
    }
    if (rc != 0 && err) {
        *err = rc == -1 ? NULL : apr_dbd_error(dbd->driver, dbd->handle, rc);
        if (!*err) {
            *err = "";
        }
    }
    return rc;
}

/* A lost connection is reconnected to a new backend (cc_db_alive, or
 * mod_dbd's check when it is next acquired). */
static void forget_backend(ap_dbd_t *dbd)
{
    cc_db_backend_t *cached = NULL;

    stmt_cache_t *sc = NULL;

    apr_pool_userdata_get((void **)&cached, "cartevo:backend", dbd->pool);
    if (cached) {
        cached->known = 0;
    }
    apr_pool_userdata_get((void **)&sc, "cartevo:stmts", dbd->pool);
    if (sc) {
        sc->pid = 0;
        sc->stmts = NULL;
    }
}

int cc_db_lost(ap_dbd_t *dbd)
{
    /* The SQL is PostgreSQL's anyway; another driver's handle is not a
     * PGconn. */
    PGconn *conn = pg_conn(dbd);

    return conn && PQstatus(conn) == CONNECTION_BAD;
}

int cc_db_alive(request_rec *r, ap_dbd_t *dbd)
{
    return apr_dbd_check_conn(dbd->driver, r->pool, dbd->handle)
           == APR_SUCCESS;
}

const char *cc_db_get(request_rec *r, ap_dbd_t *dbd, apr_dbd_row_t *row,
                      int col)
{
    /* apr_dbd_get_entry() gives "" for SQL NULL with the pgsql driver;
     * the datum call tells them apart (APR_ENOENT). The driver frees the
     * result after the last row, so every value is copied. */
    char *v = NULL;

    if (apr_dbd_datum_get(dbd->driver, row, col, APR_DBD_TYPE_STRING, &v)
        != APR_SUCCESS || !v) {
        return NULL;
    }
    return apr_pstrdup(r->pool, v);
}

/* Counted here when there is a connection: without one, cc_db_acquire
 * has counted the failure already. */
int cc_db_failure(request_rec *r, ap_dbd_t *dbd, const char *what)
{
    if (dbd) {
        cc_metrics_db_error();
    }
    if (!dbd || cc_db_lost(dbd) || !cc_db_alive(r, dbd)
        || !schema_ok(r, dbd)) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00204)
                  "%s failed", what);
    return HTTP_INTERNAL_SERVER_ERROR;
}

int cc_db_tx(request_rec *r, ap_dbd_t *dbd, const char *verb)
{
    int nrows = 0;

    /* No parameters: the verb is one of three constants. */
    if (apr_dbd_query(dbd->driver, dbd->handle, &nrows, verb) != 0) {
        if (cc_db_lost(dbd)) {
            forget_backend(dbd);
        }
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CCLOGNO(00205)
                      "%s failed", verb);
        return -1;
    }
    return 0;
}

/* libpq prints a server's notices on stderr, i.e. into httpd's error log,
 * unformatted; they may quote values. */
static void quiet_notices(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

static PGconn *pg_conn(ap_dbd_t *dbd)
{
    if (strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0) {
        return NULL;
    }
    return apr_dbd_native_handle(dbd->driver, dbd->handle);
}

/* Copies the row's three columns into out; 0 or -1. */
static int backend_row(request_rec *r, ap_dbd_t *dbd, apr_dbd_results_t *res,
                       cc_db_backend_t *out)
{
    apr_dbd_row_t *row = NULL;
    const char *v[3] = { NULL, NULL, NULL };
    int i;

    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        for (i = 0; i < 3; i++) {
            v[i] = cc_db_get(r, dbd, row, i);
        }
    }
    if (!v[0] || !v[1] || !v[2] || strlen(v[0]) >= sizeof(out->pid)
        || strlen(v[1]) >= sizeof(out->start_us)
        || strlen(v[2]) >= sizeof(out->sysid)) {
        return -1;
    }
    strcpy(out->pid, v[0]);
    strcpy(out->start_us, v[1]);
    strcpy(out->sysid, v[2]);
    return 0;
}

/* Cached in the connection's pool until a statement finds the connection
 * lost (forget_backend: every statement goes through cc_db_select or
 * cc_db_tx, so no reconnect can happen unseen), and only while libpq's
 * pid of the backend is the recorded one. */
int cc_db_backend(request_rec *r, ap_dbd_t *dbd, cc_db_backend_t *out)
{
    PGconn *conn = pg_conn(dbd);
    cc_db_backend_t *cached = NULL;
    apr_dbd_results_t *res;

    memset(out, 0, sizeof(*out));
    if (!conn) {
        return -1;
    }
    PQsetNoticeReceiver(conn, quiet_notices, NULL);
    apr_pool_userdata_get((void **)&cached, "cartevo:backend", dbd->pool);
    if (cached && cached->known && cached->libpq_pid == PQbackendPID(conn)) {
        *out = *cached;
        return 0;
    }
    if (cc_db_select(r, dbd, CC_SQL_BACKEND_SELF, &res, NULL, NULL) != 0
        || backend_row(r, dbd, res, out) != 0
        || atoi(out->pid) != PQbackendPID(conn)) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->known = 1;
    out->libpq_pid = PQbackendPID(conn);
    if (!cached) {
        cached = apr_palloc(dbd->pool, sizeof(*cached));
        apr_pool_userdata_setn(cached, "cartevo:backend", NULL, dbd->pool);
    }
    *cached = *out;
    return 0;
}

int cc_db_backend_end(request_rec *r, ap_dbd_t *dbd, const cc_db_backend_t *b)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *sysid = NULL, *ended = NULL;
    int seen = 0;

    if (!b->known
        || cc_db_select(r, dbd, CC_SQL_BACKEND_END, &res, NULL, b->pid,
                        b->start_us, b->sysid, NULL) != 0) {
        return 0;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        sysid = cc_db_get(r, dbd, row, 0);
        ended = cc_db_get(r, dbd, row, 1);
    }
    /* Another server (a failover to another cluster) cannot tell; a
     * backend that outlived the wait is still running. */
    if (!sysid || strcmp(sysid, b->sysid) != 0
        || (ended && strcmp(ended, "1") != 0)) {
        return 0;
    }
    /* Seen gone in a statement of its own: the activity snapshot is
     * taken once per transaction. */
    if (cc_db_select(r, dbd, CC_SQL_BACKEND_SEEN, &res, NULL, b->pid,
                     b->start_us, NULL) != 0) {
        return 0;
    }
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        seen = 1;
    }
    return !seen;
}
