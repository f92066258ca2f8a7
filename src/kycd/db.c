/*
 * db.c: libpq for cartevo-kycd. Each thread owns its connection (a PGconn
 * is not thread-safe); every value is a parameter; errors are logged by
 * their primary message only, because DETAIL lines can quote row values.
 */
#include "kycd.h"

#include <stdlib.h>
#include <string.h>

static void quiet_notices(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
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
    return conn;
}

int cc_db_ensure(PGconn **conn, const cc_kycd_cfg_t *cfg, const char *app)
{
    if (*conn != NULL && PQstatus(*conn) == CONNECTION_OK) {
        return 0;
    }
    if (*conn != NULL) {
        PQfinish(*conn);
    }
    *conn = cc_db_connect(cfg, app);
    return *conn ? 0 : -1;
}

PGresult *cc_db_exec(PGconn *conn, const char *what, const char *sql, int n,
                     const char *const *vals)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, vals, NULL, NULL, 0);
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
