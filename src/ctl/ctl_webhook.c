/*
 * ctl_webhook.c: cartevoctl's webhook, delivery and job commands.
 *
 * The webhook secret is generated here (256 bits from the CSPRNG), stored
 * as-is because the daemon needs it to sign, and printed exactly once, by
 * "webhook set"; no other command ever shows it.
 */
#include "ctl.h"

#include "cc_crypto.h"
#include "cc_url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

/* 127.0.0.0/8, ::1 or localhost (as cc_url_t spells a host). */
static int is_loopback_host(const cc_url_t *u)
{
    struct in_addr a4;

    if (u->ipv6) {
        return strcmp(u->host, "::1") == 0;
    }
    if (strcmp(u->host, "localhost") == 0) {
        return 1;
    }
    return inet_pton(AF_INET, u->host, &a4) == 1
           && (ntohl(a4.s_addr) >> 24) == 127;
}

/* decisions.md 3: a webhook endpoint is https://, in cc_url_check_https's
 * form. http:// is taken only for a loopback host, for development; the
 * daemon still refuses it unless allow_targets lists it. */
int ctl_valid_webhook_url(const char *u)
{
    char buf[CC_URL_MAX_LEN + 2];
    size_t n = strlen(u);
    cc_url_t url;

    if (cc_url_check_https(u, n, NULL) == CC_URL_OK) {
        return 1;
    }
    if (n < 7 || n > CC_URL_MAX_LEN - 1 || strncasecmp(u, "http://", 7) != 0) {
        return 0;
    }
    snprintf(buf, sizeof(buf), "https://%s", u + 7);
    return cc_url_check_https(buf, n + 1, &url) == CC_URL_OK
           && is_loopback_host(&url);
}

int ctl_webhook_set(PGconn *conn, const char *company_id, const char *url)
{
    char secret[6 + 64 + 1];
    const char *vals[3] = { company_id, url, secret };
    PGresult *res;
    int rc = EXIT_FAIL;

    memcpy(secret, "whsec_", 6);
    if (cc_crypto_random_hex(secret + 6, 32) != 0) {
        fputs("cartevoctl: random number generator failed\n", stderr);
        return EXIT_FAIL;
    }
    res = ctl_db_exec(conn, "cannot set webhook",
                      "UPDATE companies SET webhook_url = $2,"
                      " webhook_secret = $3, updated_at = now()"
                      " WHERE id = $1::uuid RETURNING id",
                      3, vals, NULL, NULL);
    if (res != NULL) {
        if (PQntuples(res) == 1) {
            printf("company_id=%s\nwebhook_url=%s\nwebhook_secret=%s\n",
                   company_id, url, secret);
            rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
        }
        else {
            fprintf(stderr, "cartevoctl: no company %s\n", company_id);
        }
        PQclear(res);
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    return rc;
}

/* Tab-separated rows under a header line; NULLs print as "-". */
static void print_table(PGresult *res)
{
    int i, j, nf = PQnfields(res);

    for (j = 0; j < nf; j++) {
        printf("%s%s", j ? "\t" : "", PQfname(res, j));
    }
    putchar('\n');
    for (i = 0; i < PQntuples(res); i++) {
        for (j = 0; j < nf; j++) {
            const char *v = PQgetisnull(res, i, j) ? "-" : PQgetvalue(res, i, j);

            printf("%s", j ? "\t" : "");
            /* last_error is ours (no PII), but keep one row per line. */
            for (; *v; v++) {
                putchar((*v == '\t' || *v == '\n' || *v == '\r') ? ' ' : *v);
            }
        }
        putchar('\n');
    }
}

/* Prints the rows of a listing query whose $1 says "failed only". */
static int list_rows(PGconn *conn, const char *what, const char *sql,
                     int failed_only)
{
    const char *vals[1] = { failed_only ? "t" : "f" };
    PGresult *res = ctl_db_exec(conn, what, sql, 1, vals, NULL, NULL);

    if (res == NULL) {
        return EXIT_FAIL;
    }
    print_table(res);
    PQclear(res);
    return EXIT_OK;
}

int ctl_deliveries_list(PGconn *conn, int failed_only)
{
    return list_rows(conn, "cannot list deliveries",
                     "SELECT id, state, attempts, event, event_id,"
                     " company_id, last_status, last_error,"
                     " to_char(next_attempt_at AT TIME ZONE 'UTC',"
                     "   'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS next_attempt_at"
                     " FROM webhook_deliveries"
                     " WHERE NOT $1::boolean OR state = 'failed'"
                     " ORDER BY id DESC LIMIT 1000",
                     failed_only);
}

/* Replaying resets the retry window; the id and body stay the same. A
 * delivery a daemon is sending right now keeps its lease: clearing it
 * would drop that attempt's result (its UPDATE is conditional on the
 * lease) and have the delivery sent again at once. */
int ctl_deliveries_replay(PGconn *conn, const char *id)
{
    const char *vals[1] = { id ? id : "0" };
    PGresult *res;
    int i;

    res = ctl_db_exec(conn, "cannot replay",
                      "UPDATE webhook_deliveries SET state = 'pending',"
                      " next_attempt_at = now(), window_start = now(),"
                      " lease_owner = CASE WHEN lease_until > now()"
                      "   THEN lease_owner END,"
                      " lease_until = CASE WHEN lease_until > now()"
                      "   THEN lease_until END,"
                      " updated_at = now()"
                      " WHERE CASE WHEN $1::bigint = 0 THEN state = 'failed'"
                      "   ELSE id = $1::bigint END RETURNING id",
                      1, vals, NULL, NULL);
    if (res == NULL) {
        return EXIT_FAIL;
    }
    if (id != NULL && PQntuples(res) == 0) {
        fprintf(stderr, "cartevoctl: no delivery %s\n", id);
        PQclear(res);
        return EXIT_FAIL;
    }
    for (i = 0; i < PQntuples(res); i++) {
        printf("replayed=%s\n", PQgetvalue(res, i, 0));
    }
    PQclear(res);
    return EXIT_OK;
}

int ctl_jobs_list(PGconn *conn, int failed_only)
{
    return list_rows(conn, "cannot list jobs",
                     "SELECT j.id, j.state, j.phase, j.attempts,"
                     " j.customer_id, c.kyc_status, c.enrollment_status,"
                     " j.last_error FROM kyc_jobs j"
                     " JOIN customers c ON c.id = j.customer_id"
                     " WHERE NOT $1::boolean OR j.state = 'failed'"
                     " ORDER BY j.id DESC LIMIT 1000",
                     failed_only);
}

int ctl_jobs_retry(PGconn *conn, const char *id)
{
    const char *vals[1] = { id };
    PGresult *res;
    int ok;

    res = ctl_db_exec(conn, "cannot retry job",
                      "UPDATE kyc_jobs SET state = 'queued', attempts = 0,"
                      " next_attempt_at = now(), finished_at = NULL,"
                      " updated_at = now()"
                      " WHERE id = $1::bigint AND state = 'failed'"
                      " RETURNING id",
                      1, vals, NULL, NULL);
    if (res == NULL) {
        return EXIT_FAIL;
    }
    ok = PQntuples(res) == 1;
    PQclear(res);
    if (!ok) {
        fprintf(stderr, "cartevoctl: no failed job %s\n", id);
        return EXIT_FAIL;
    }
    printf("requeued=%s\n", id);
    return EXIT_OK;
}
