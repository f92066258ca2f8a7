/*
 * ctl_db.c: libpq helpers for cartevoctl: connecting, running
 * parameterised statements, transactions, and reporting errors without
 * leaking row values (see ctl.h).
 */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

/* Server NOTICEs (e.g. "relation already exists, skipping") are noise for
 * an operator; warnings and above are worth showing. */
static void notice_receiver(void *arg, const PGresult *res)
{
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    (void)arg;
    if (sev != NULL && msg != NULL && strcmp(sev, "WARNING") == 0) {
        fprintf(stderr, "cartevoctl: server warning: %s\n", msg);
    }
}

/* Prints the first line of a libpq message; libpq ends messages with
 * newlines and may append hints we do not need. */
static void print_first_line(const char *what, const char *msg)
{
    size_t len = strcspn(msg, "\n");

    fprintf(stderr, "cartevoctl: %s: %.*s\n", what, (int)len, msg);
}

void ctl_db_error(PGconn *conn, const PGresult *res, const char *what)
{
    const char *msg = NULL;

    if (res != NULL) {
        msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    }
    print_first_line(what, msg != NULL ? msg : PQerrorMessage(conn));
}

PGconn *ctl_db_connect(const char *dsn)
{
    /* expand_dbname lets dsn be a full connection string or URI. */
    const char *const keys[] = { "dbname", "fallback_application_name", NULL };
    const char *const vals[] = { dsn, "cartevoctl", NULL };
    PGconn *conn = PQconnectdbParams(keys, vals, 1);

    if (conn == NULL) {
        fputs("cartevoctl: out of memory\n", stderr);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        print_first_line("cannot connect to the database",
                         PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeReceiver(conn, notice_receiver, NULL);
    return conn;
}

/* Runs one parameterised statement; params are text unless fmts says
 * binary. Returns the result, or NULL after reporting the error. */
PGresult *ctl_db_exec(PGconn *conn, const char *what, const char *sql,
                      int n, const char *const *vals, const int *lens,
                      const int *fmts)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, vals, lens, fmts, 0);
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        ctl_db_error(conn, res, what);
        PQclear(res);
        return NULL;
    }
    return res;
}

int ctl_db_cmd(PGconn *conn, const char *sql)
{
    PGresult *res = ctl_db_exec(conn, sql, sql, 0, NULL, NULL, NULL);

    if (res == NULL) {
        return -1;
    }
    PQclear(res);
    return 0;
}

/* COMMIT of an already failed transaction "succeeds" with the tag
 * ROLLBACK, so the tag is what tells whether anything was committed. */
int ctl_db_commit(PGconn *conn)
{
    PGresult *res;
    int ok;

    res = ctl_db_exec(conn, "COMMIT", "COMMIT", 0, NULL, NULL, NULL);
    if (res == NULL) {
        return -1;
    }
    ok = strcmp(PQcmdStatus(res), "COMMIT") == 0;
    PQclear(res);
    if (!ok) {
        fputs("cartevoctl: COMMIT: transaction was rolled back\n", stderr);
        return -1;
    }
    return 0;
}

void ctl_db_rollback(PGconn *conn)
{
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PQclear(PQexecParams(conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
    }
}
