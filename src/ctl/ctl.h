/*
 * ctl.h: what the parts of cartevoctl share: exit statuses, the libpq
 * helpers (ctl_db.c) and the command implementations (ctl_company.c,
 * ctl_migrate.c) that main() in cartevoctl.c dispatches to.
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>

#include <libpq-fe.h>

#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* Connects with a libpq connection string or URI; NULL after reporting. */
PGconn *ctl_db_connect(const char *dsn);

/* Reports the primary message of a failed result (or of the connection)
 * on stderr, prefixed with what. Never the DETAIL: it can echo row
 * values. */
void ctl_db_error(PGconn *conn, const PGresult *res, const char *what);

/* Runs one parameterised statement; parameters are text unless fmts
 * marks them binary. Returns the result, or NULL after reporting. */
PGresult *ctl_db_exec(PGconn *conn, const char *what, const char *sql,
                      int n, const char *const *vals, const int *lens,
                      const int *fmts);

/* A parameterless command such as BEGIN. Returns 0 or -1. */
int ctl_db_cmd(PGconn *conn, const char *sql);

/* COMMIT, checking that it really committed. Returns 0 or -1. */
int ctl_db_commit(PGconn *conn);

/* ROLLBACK if a transaction is open; errors ignored. */
void ctl_db_rollback(PGconn *conn);

/* 1 when s is exactly len lowercase hex digits. */
int ctl_is_lower_hex(const char *s, size_t len);

/* 1 when s is a client id as api_clients accepts it. */
int ctl_valid_client_id(const char *s);

/* Commands: arguments already validated; each returns an exit status. */
int ctl_company_create(PGconn *conn, const char *name, const char *kyb);
int ctl_company_find_or_create(PGconn *conn, const char *name,
                               const char *kyb, const char *path);
int ctl_company_kyb(PGconn *conn, const char *id, const char *kyb);
int ctl_company_show(PGconn *conn, const char *id);
int ctl_credentials_issue(PGconn *conn, const char *company_id);
int ctl_credentials_revoke(PGconn *conn, const char *client_id);
int ctl_migrate(PGconn *conn, const char *dir);

/* ctl_webhook.c */
int ctl_valid_webhook_url(const char *url);
int ctl_webhook_set(PGconn *conn, const char *company_id, const char *url);
int ctl_deliveries_list(PGconn *conn, int failed_only);
/* id NULL: every failed delivery. */
int ctl_deliveries_replay(PGconn *conn, const char *id);
int ctl_jobs_list(PGconn *conn, int failed_only);
int ctl_jobs_retry(PGconn *conn, const char *id);

#endif
