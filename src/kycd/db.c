/*
 * db.c: libpq for cartevo-kycd. Each thread owns its connection (a PGconn
 * is not thread-safe); every value is a parameter; errors are logged by
 * their primary message only, because DETAIL lines can quote row values.
 *
 * Statements are prepared on the server the first time a thread runs
 * them on a backend, so PostgreSQL parses and plans each once per session
 * rather than on every call (planning was half of the daemon's database
 * time: the delivery claim runs several times per job). The cache is the
 * thread's, like its connection, and is dropped when the connection or its
 * backend changes (a reconnect makes a new session that knows none).
 * PostgreSQL keeps a prepared statement's generic plan until an ANALYZE
 * invalidates it, and a plan made while a table was nearly empty (a
 * sequential scan and a sort) turns slow as the table grows: so the
 * cache is also dropped, with DEALLOCATE ALL, once a minute, between
 * transactions.
 */
#include "kycd.h"
#include "cc_schema.h"

#include <stdatomic.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

/* Distinct statements the daemon runs: about 40; more run unprepared. */
#define STMT_SLOTS 96
/* Seconds a session's plans are kept (see above). */
#define STMT_MAX_AGE 60

typedef struct {
    uint64_t hash;
    char *sql;   /* the text, compared in full: callers may build it */
} stmt_slot_t;

typedef struct {
    const PGconn *conn;
    int pid;
    time_t since;
    int used;
    stmt_slot_t slot[STMT_SLOTS];
} stmt_cache_t;

static _Thread_local stmt_cache_t cache;

static void quiet_notices(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

/* When the daemon last said its database has the wrong schema: once a
 * minute, however many threads reconnect (decisions.md 4). */
static _Atomic time_t schema_warned;

/* The database's schema version (CC_SCHEMA_VERSION_SQL; no
 * schema_migrations table, SQLSTATE 42P01, is version 0), checked on
 * every new connection: at start and after each reconnect, which may
 * reach another server or one migrated meanwhile. Outside this build's
 * range the connection is refused, and each thread waits and retries as
 * it does when the server is down. */
static int schema_supported(PGconn *conn)
{
    PGresult *res = PQexec(conn, CC_SCHEMA_VERSION_SQL);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    long v = -1;
    time_t now = time(NULL), seen;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        v = atol(PQgetvalue(res, 0, 0));
    }
    else if (state && strcmp(state, "42P01") == 0) {
        v = 0;
    }
    PQclear(res);
    if (CC_SCHEMA_SUPPORTED(v)) {
        return 1;
    }
    seen = atomic_load(&schema_warned);
    if (now - seen < 60
        || !atomic_compare_exchange_strong(&schema_warned, &seen, now)) {
        return 0;
    }
    if (v < 0) {
        cc_kycd_log(CC_LOG_ERR, "cannot read the schema version (%s)",
                    state ? state : "no SQLSTATE");
    }
    else {
        cc_kycd_log(CC_LOG_ERR, "schema version %ld, this build supports "
                    "%d..%d: run cartevoctl migrate", v, CC_SCHEMA_MIN,
                    CC_SCHEMA_MAX);
    }
    return 0;
}

PGconn *cc_db_connect(const cc_kycd_cfg_t *cfg, const char *app)
{
    const char *const k[] = { "dbname", "fallback_application_name",
                              "connect_timeout", NULL };
    const char *const v[] = { cfg->database, app, "10", NULL };
    PGconn *conn = PQconnectdbParams(k, v, 1);

    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        const char *m = conn ? PQerrorMessage(conn) : "out of memory";

        cc_kycd_log(CC_LOG_ERR, "database connection failed: %.*s",
                    (int)strcspn(m, "\n"), m);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeReceiver(conn, quiet_notices, NULL);
    if (!schema_supported(conn)) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* When this thread's connection last passed the schema check: asked
 * again once a minute, since a migration does not end our sessions. */
static _Thread_local time_t schema_checked;

int cc_db_ensure(PGconn **conn, const cc_kycd_cfg_t *cfg, const char *app)
{
    time_t now = time(NULL);

    if (*conn != NULL && PQstatus(*conn) == CONNECTION_OK
        && now - schema_checked < 60) {
        return 0;
    }
    if (*conn != NULL && PQstatus(*conn) == CONNECTION_OK
        && PQtransactionStatus(*conn) == PQTRANS_IDLE) {
        if (schema_supported(*conn)) {
            schema_checked = now;
            return 0;
        }
        PQfinish(*conn);
        *conn = NULL;
        return -1;
    }
    if (*conn != NULL && PQstatus(*conn) == CONNECTION_OK) {
        return 0;
    }
    if (*conn != NULL) {
        PQfinish(*conn);
    }
    *conn = cc_db_connect(cfg, app);
    schema_checked = now;
    return *conn ? 0 : -1;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    while (*s) {
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    }
    return h;
}

static void cache_reset(const PGconn *conn, int pid)
{
    int i;

    for (i = 0; i < cache.used; i++) {
        free(cache.slot[i].sql);
    }
    memset(&cache, 0, sizeof(cache));
    cache.conn = conn;
    cache.pid = pid;
    cache.since = time(NULL);
}

/* Drops the session's statements once they are STMT_MAX_AGE old; only
 * outside a transaction, where DEALLOCATE cannot fail for it. */
static void cache_age(PGconn *conn)
{
    PGresult *res;

    if (cache.used == 0 || time(NULL) - cache.since < STMT_MAX_AGE
        || PQtransactionStatus(conn) != PQTRANS_IDLE) {
        return;
    }
    res = PQexec(conn, "DEALLOCATE ALL");
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        cache_reset(conn, PQbackendPID(conn));
    }
    PQclear(res);
}

/* The statement's name on this backend ("kycd_N"), preparing it on first
 * use; 0 when it runs unprepared (the cache is full, or PREPARE failed:
 * the plain call then reports whatever is wrong). */
static int prepared(PGconn *conn, const char *sql, int n, char name[24])
{
    uint64_t h = fnv1a(sql);
    PGresult *res;
    int i, ok;

    if (cache.conn != conn || cache.pid != PQbackendPID(conn)) {
        cache_reset(conn, PQbackendPID(conn));
    }
    cache_age(conn);
    for (i = 0; i < cache.used; i++) {
        if (cache.slot[i].hash == h && strcmp(cache.slot[i].sql, sql) == 0) {
            snprintf(name, 24, "kycd_%d", i);
            return 1;
        }
    }
    if (cache.used == STMT_SLOTS
        || (cache.slot[i].sql = strdup(sql)) == NULL) {
        return 0;
    }
    snprintf(name, 24, "kycd_%d", i);
    res = PQprepare(conn, name, sql, n, NULL);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        free(cache.slot[i].sql);
        cache.slot[i].sql = NULL;
        return 0;
    }
    cache.slot[i].hash = h;
    cache.used++;
    return 1;
}

/* BEGIN and COMMIT have nothing to plan. */
static PGresult *run(PGconn *conn, const char *sql, int n,
                     const char *const *vals)
{
    char name[24];

    PGresult *res;
    const char *state;

    /* Before BEGIN the connection is idle: the one moment a thread that
     * works only in transactions (the dispatcher) can retire its plans. */
    if (strcmp(sql, "BEGIN") == 0 && cache.conn == conn) {
        cache_age(conn);
    }
    if (strcmp(sql, "BEGIN") != 0 && strcmp(sql, "COMMIT") != 0
        && PQstatus(conn) == CONNECTION_OK && prepared(conn, sql, n, name)) {
        res = PQexecPrepared(conn, name, n, vals, NULL, NULL, 0);
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        /* A new session the cache did not notice (a reconnect that reused
         * both the PGconn's address and the backend's pid): forget it and
         * run the text (inside a transaction that fails too, the error
         * having aborted it; the caller's next one prepares afresh). */
        if (state == NULL || strcmp(state, "26000") != 0) {
            return res;
        }
        PQclear(res);
        cache_reset(NULL, 0);
    }
    return PQexecParams(conn, sql, n, NULL, vals, NULL, NULL, 0);
}

PGresult *cc_db_exec(PGconn *conn, const char *what, const char *sql, int n,
                     const char *const *vals)
{
    PGresult *res = run(conn, sql, n, vals);
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                            : NULL;

        if (m == NULL) {
            m = PQerrorMessage(conn);
        }
        cc_kycd_log(CC_LOG_ERR, "%s: %.*s", what, (int)strcspn(m, "\n"), m);
        PQclear(res);
        return NULL;
    }
    return res;
}

static int simple(PGconn *conn, const char *sql)
{
    PGresult *res = cc_db_exec(conn, sql, sql, 0, NULL);

    if (res == NULL) {
        return -1;
    }
    PQclear(res);
    return 0;
}

int cc_db_begin(PGconn *conn)
{
    return simple(conn, "BEGIN");
}

int cc_db_commit(PGconn *conn)
{
    PGresult *res = cc_db_exec(conn, "COMMIT", "COMMIT", 0, NULL);
    int ok;

    if (res == NULL) {
        return -1;
    }
    ok = strcmp(PQcmdStatus(res), "COMMIT") == 0;
    PQclear(res);
    return ok ? 0 : -1;
}

void cc_db_rollback(PGconn *conn)
{
    if (conn != NULL && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PQclear(PQexec(conn, "ROLLBACK"));
    }
}

long cc_db_affected(PGresult *res)
{
    const char *t = PQcmdTuples(res);

    return (t && *t) ? strtol(t, NULL, 10) : 0;
}
