/*
 * webhooks.c: the outbox dispatcher and webhook delivery.
 *
 * 1. Outbox -> deliveries: pending outbox_events rows (customer.created
 *    from the module, outcome events from jobs.c) are locked with SKIP
 *    LOCKED and, in the same transaction that marks them dispatched, each
 *    becomes one webhook_deliveries row holding the frozen body
 *    {"id", "event", "created_at", "data"}. A company without a webhook
 *    URL gets no delivery. data is the snapshot committed with the
 *    outcome; for customer.created it is the customer as created, frozen
 *    by the verdict's transaction (jobs.c), or read here when the event
 *    is dispatched before any verdict (the row is then still as created).
 * 2. Deliveries: a due row is leased under a token of its own claim
 *    ("<daemon owner>#<claim number>", as jobs.c does), so neither two
 *    daemons nor two delivery threads of one daemon send it at the same
 *    moment, and an attempt whose lease ran out (and was re-claimed, maybe
 *    by a sibling thread) cannot record over the new holder's. It is
 *    POSTed with X-Cartevo-Event-Id and
 *    X-Cartevo-Signature: t=<now>,v1=HMAC-SHA256(secret, "<t>." + body),
 *    and the result recorded: 2xx delivered; a URL the tenant URL rules
 *    refuse (decisions.md 3: https and a globally reachable address, or
 *    an allow_targets entry) failed at once, its reason in last_error;
 *    otherwise retried with
 *    exponential backoff (webhook_backoff_base doubling, capped at
 *    webhook_backoff_max) until webhook_retry_window has passed since the
 *    first attempt window began, then failed (visible to operators, who
 *    can replay). Delivery is at-least-once: a crash between the POST and
 *    the UPDATE repeats the POST, with the same id and body.
 *
 * Threads: one dispatcher (part 1) and webhook_workers delivery threads
 * (part 2), each with its own connection, so a receiver that hangs until
 * webhook_timeout holds one thread and other companies' deliveries go on.
 * The dispatcher stays single: it does database work only (no network
 * wait a receiver could stretch), so one thread keeps up, and it stays
 * the only consumer of the outcome kick (cc_kycd_webhooks_wait). Its SQL
 * (SKIP LOCKED, ON CONFLICT DO NOTHING) is safe to run concurrently
 * anyway, as it does when several daemons share a database. The delivery
 * claim is SKIP LOCKED with the lease re-checked on the locked row's
 * latest version, so concurrent claimers never take the same row.
 * Deliveries of one company may therefore be sent in parallel and out of
 * order; receivers order by the body's created_at, as with retries.
 */
#include "kycd.h"

#include "cc_crypto.h"
#include "cc_json.h"


#include <apr_atomic.h>
#include <apr_strings.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH "50"

/* ---- 1. outbox -> deliveries ------------------------------------------ */

/* Builds the frozen body (malloc'd) or NULL when the customer is gone. */
static char *build_body(PGconn *conn, const cc_kycd_cfg_t *cfg,
                        PGresult *res, int row)
{
    json_object *o, *data;
    char *snap = NULL, *out;
    const char *s;

    if (!PQgetisnull(res, row, 5)) {
        snap = strdup(PQgetvalue(res, row, 5));
    }
    else if (!PQgetisnull(res, row, 2)) {
        snap = cc_customer_json(conn, cfg, PQgetvalue(res, row, 2));
    }
    if (snap == NULL || (data = json_tokener_parse(snap)) == NULL) {
        free(snap);
        return NULL;
    }
    free(snap);
    o = json_object_new_object();
    json_object_object_add(o, "id",
                           json_object_new_string(PQgetvalue(res, row, 0)));
    json_object_object_add(o, "event",
                           json_object_new_string(PQgetvalue(res, row, 3)));
    json_object_object_add(o, "created_at",
                           json_object_new_string(PQgetvalue(res, row, 4)));
    json_object_object_add(o, "data", data);
    s = cc_json_string(o, NULL);
    out = s ? strdup(s) : NULL;
    json_object_put(o);
    return out;
}

/* Moves one batch; returns rows handled, or -1. */
static int dispatch_batch(PGconn *conn, cc_kycd_t *d)
{
    PGresult *res;
    int i, n;

    if (cc_db_begin(conn) != 0) {
        return -1;
    }
    res = cc_db_exec(conn, "read outbox",
                     "SELECT o.id, o.company_id, o.customer_id, o.event,"
                     " to_char(o.created_at AT TIME ZONE 'UTC',"
                     "   'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                     " o.data, c.webhook_url"
                     " FROM outbox_events o JOIN companies c"
                     "   ON c.id = o.company_id"
                     " WHERE o.dispatched_at IS NULL"
                     " ORDER BY o.created_at LIMIT " BATCH
                     " FOR UPDATE OF o SKIP LOCKED",
                     0, NULL);
    if (res == NULL) {
        goto fail;
    }
    n = PQntuples(res);
    for (i = 0; i < n; i++) {
        const char *id = PQgetvalue(res, i, 0);
        const char *url = PQgetisnull(res, i, 6) ? NULL
                                                  : PQgetvalue(res, i, 6);
        PGresult *r;

        if (url != NULL && url[0] != '\0') {
            char *body = build_body(conn, d->cfg, res, i);

            if (body != NULL) {
                const char *v[5] = { id, PQgetvalue(res, i, 1),
                                     PQgetvalue(res, i, 3), url, body };

                r = cc_db_exec(conn, "create delivery",
                               "INSERT INTO webhook_deliveries"
                               " (event_id, company_id, event, url, body)"
                               " VALUES ($1::uuid, $2::uuid, $3, $4, $5)"
                               " ON CONFLICT (event_id) DO NOTHING",
                               5, v);
                free(body);
                if (r == NULL) {
                    PQclear(res);
                    goto fail;
                }
                PQclear(r);
            }
            else {
                /* Marked dispatched below all the same (a row that can
                 * never be built must not block the outbox), so say so. */
                cc_kycd_log(CC_LOG_WARN, "event %s: no body (customer "
                            "gone?), no delivery created", id);
            }
        }
        {
            const char *v[1] = { id };

            r = cc_db_exec(conn, "mark dispatched",
                           "UPDATE outbox_events SET dispatched_at ="
                           " clock_timestamp() WHERE id = $1::uuid",
                           1, v);
            if (r == NULL) {
                PQclear(res);
                goto fail;
            }
            PQclear(r);
        }
    }
    PQclear(res);
    if (cc_db_commit(conn) != 0) {
        goto fail;
    }
    return n;
fail:
    cc_db_rollback(conn);
    return -1;
}

/* ---- 2. deliveries ------------------------------------------------------ */

/* t=<secs>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>. 0, or -1 when
 * no signature could be made: the attempt then fails without a request
 * (a header without v1 would be an unsigned delivery). */
static int sign(const char *secret, long t, const char *body, size_t len,
                char *out, size_t outlen)
{
    unsigned char mac[32];
    char hex[65], ts[24];
    int tl = snprintf(ts, sizeof(ts), "%ld.", t);

    if (cc_crypto_hmac_sha256_2(secret, strlen(secret), ts, (size_t)tl,
                                body, len, mac) != 0) {
        return -1;
    }
    cc_crypto_hex(mac, sizeof(mac), hex);
    snprintf(out, outlen, "X-Cartevo-Signature: t=%ld,v1=%s", t, hex);
    return 0;
}

/* A claimed delivery: what its attempt needs, in the thread's pool. */
typedef struct {
    char token[sizeof(((cc_kycd_t *)0)->owner) + 16];
    const char *id, *event_id, *body, *url, *secret;
    int attempts; /* this one included */
} claim_t;

/* Leases one due delivery into *c: 1, 0 when none is due, -1. */
static int claim(PGconn *conn, cc_kycd_t *d, const cc_kycd_cfg_t *cfg,
                 apr_pool_t *p, claim_t *c)
{
    char lease[24];
    const char *cv[2] = { c->token, lease };
    PGresult *res;

    snprintf(c->token, sizeof(c->token), "%s#%u", d->owner,
             apr_atomic_inc32(&d->claims) + 1);
    snprintf(lease, sizeof(lease), "%.3f", cfg->webhook_timeout + 30);
    res = cc_db_exec(conn, "claim delivery",
                     "WITH c AS (SELECT id FROM webhook_deliveries"
                     " WHERE state = 'pending' AND next_attempt_at <= now()"
                     " AND (lease_until IS NULL OR lease_until < now())"
                     " ORDER BY next_attempt_at, id LIMIT 1"
                     " FOR UPDATE SKIP LOCKED)"
                     " UPDATE webhook_deliveries w SET lease_owner = $1,"
                     " lease_until = clock_timestamp()"
                     "   + make_interval(secs => $2::double precision)"
                     " FROM c, companies co"
                     " WHERE w.id = c.id AND co.id = w.company_id"
                     " RETURNING w.id, w.event_id, w.body, w.attempts,"
                     " coalesce(nullif(co.webhook_url, ''), w.url),"
                     " co.webhook_secret",
                     2, cv);
    if (res == NULL) {
        return -1;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    c->id = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    c->event_id = apr_pstrdup(p, PQgetvalue(res, 0, 1));
    c->body = apr_pstrdup(p, PQgetvalue(res, 0, 2));
    c->attempts = atoi(PQgetvalue(res, 0, 3)) + 1;
    c->url = apr_pstrdup(p, PQgetvalue(res, 0, 4));
    c->secret = PQgetisnull(res, 0, 5)
                    ? NULL
                    : apr_pstrdup(p, PQgetvalue(res, 0, 5));
    PQclear(res);
    return 1;
}

/* The outcome of one attempt. */
typedef struct {
    long status;     /* HTTP status, 0 when none */
    const char *err; /* NULL when delivered */
    int permanent;   /* the URL is refused: no retry can succeed */
} outcome_t;

/* Signs and POSTs c's body to its URL under the tenant URL rules
 * (decisions.md 3, the same guard the enroll fetch uses). A URL the rules
 * refuse, or one whose every address was refused at connect time, is a
 * permanent failure: retrying the same URL cannot succeed. */
static void attempt(const cc_kycd_cfg_t *cfg, const claim_t *c,
                    apr_pool_t *p, outcome_t *o)
{
    char sighdr[200], where[CC_URL_HOST_MAX + 16];
    const char *hdrs[4];
    cc_http_guard_t g;
    cc_http_resp_t resp;
    cc_url_t u;
    int tls, kind;

    memset(o, 0, sizeof(*o));
    if (c->secret == NULL || c->secret[0] == '\0') {
        o->err = "no webhook secret configured";
        return;
    }
    kind = cc_http_guard_init(cfg, c->url, &g, &u, &tls);
    if (kind == CC_HTTP_GUARD_REFUSED) {
        o->err = "webhook URL refused: not https (and not in allow_targets)";
        o->permanent = 1;
        return;
    }
    cc_http_origin(where, sizeof(where), &u, tls);
    if (kind == CC_HTTP_GUARD_UNRESOLVED) {
        o->err = apr_psprintf(p, "%s: listed host does not resolve", where);
        return;
    }
    /* t is this attempt's time: a receiver can reject stale replays. */
    if (sign(c->secret, (long)time(NULL), c->body, strlen(c->body), sighdr,
             sizeof(sighdr)) != 0) {
        o->err = "cannot sign the delivery";
        return;
    }
    hdrs[0] = "Content-Type: application/json";
    hdrs[1] = apr_pstrcat(p, "X-Cartevo-Event-Id: ", c->event_id, NULL);
    hdrs[2] = sighdr;
    hdrs[3] = NULL;
    if (cc_http_post(cfg, c->url, hdrs, c->body, strlen(c->body),
                     cfg->webhook_timeout, 4096, &resp, &g, tls) != 0) {
        /* Refused only when nothing was connected to (as the fetch). */
        o->permanent = g.refused != NULL && g.opened == 0;
        o->err = o->permanent
                     ? apr_psprintf(p, "webhook URL refused: %s: address "
                                    "not allowed (%s)",
                                    where, g.refused)
                     : apr_pstrdup(p, resp.error);
        return;
    }
    o->status = resp.status;
    cc_http_resp_free(&resp);
    if (resp.status < 200 || resp.status >= 300) {
        o->err = apr_psprintf(p, "HTTP %ld", resp.status);
    }
}

/* Records c's attempt (only while c's lease is still ours) and logs it:
 * delivered; failed when refused or past the retry window; else pending
 * again after the backoff. 0, or -1 on a database error. */
static int record(PGconn *conn, const cc_kycd_cfg_t *cfg, const claim_t *c,
                  const outcome_t *o, double took)
{
    char delay[32], window[32], status[16];
    double secs = cfg->webhook_backoff_base * pow(2.0, c->attempts - 1);
    int ok = o->err == NULL;
    const char *v[8] = { c->id, c->token, ok ? "t" : "f",
                         o->status ? status : NULL, o->err, delay, window,
                         o->permanent ? "t" : "f" };
    PGresult *r;

    snprintf(delay, sizeof(delay), "%.3f",
             secs > cfg->webhook_backoff_max ? cfg->webhook_backoff_max
                                             : secs);
    snprintf(window, sizeof(window), "%.3f", cfg->webhook_retry_window);
    snprintf(status, sizeof(status), "%ld", o->status);
    r = cc_db_exec(conn, "record delivery attempt",
                   "UPDATE webhook_deliveries SET"
                   " attempts = attempts + 1,"
                   " last_attempt_at = clock_timestamp(),"
                   " last_status = $4::int, last_error = $5,"
                   " state = CASE WHEN $3::boolean THEN 'delivered'"
                   "   WHEN $8::boolean THEN 'failed'"
                   "   WHEN clock_timestamp() - window_start"
                   "     >= make_interval(secs => $7::double precision)"
                   "   THEN 'failed' ELSE 'pending' END,"
                   " delivered_at = CASE WHEN $3::boolean"
                   "   THEN clock_timestamp() END,"
                   " next_attempt_at = clock_timestamp()"
                   "   + make_interval(secs => $6::double precision),"
                   " lease_owner = NULL, lease_until = NULL,"
                   " updated_at = clock_timestamp()"
                   " WHERE id = $1::bigint AND lease_owner = $2"
                   " RETURNING state",
                   8, v);
    if (r == NULL) {
        return -1;
    }
    if (PQntuples(r) == 1) {
        const char *st = PQgetvalue(r, 0, 0);

        cc_metrics_delivery(strcmp(st, "delivered") == 0
                                ? CC_DELIVERY_DELIVERED
                                : strcmp(st, "failed") == 0
                                      ? CC_DELIVERY_FAILED
                                      : CC_DELIVERY_RETRY,
                            took);
        cc_kycd_log(ok ? CC_LOG_INFO : CC_LOG_WARN,
                    "delivery %s (event %s) attempt %d: %s -> %s", c->id,
                    c->event_id, c->attempts, ok ? "ok" : o->err,
                    PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    return 0;
}

/* Claims, sends and records one due delivery. 1 when one was handled,
 * 0 when none was due, -1 on a database error. */
static int deliver_one(PGconn *conn, cc_kycd_t *d, apr_pool_t *p)
{
    /* One configuration for the whole delivery: a reload between the
     * claim and the POST must not let a longer timeout outlive the lease
     * (a second daemon could then send it too). */
    const cc_kycd_cfg_t *cfg = d->cfg;
    claim_t c;
    outcome_t o;
    int rc = claim(conn, d, cfg, p, &c);
    apr_time_t t0;

    if (rc != 1) {
        return rc;
    }
    t0 = cc_kycd_mono_us();
    attempt(cfg, &c, p, &o);
    return record(conn, cfg, &c, &o,
                  (double)(cc_kycd_mono_us() - t0) / 1e6) == 0 ? 1 : -1;
}

/* The dispatcher: outbox -> deliveries, then an announcement that wakes
 * the delivery threads. */
void *APR_THREAD_FUNC cc_webhooks_thread(apr_thread_t *t, void *data)
{
    cc_kycd_t *d = data;
    PGconn *conn = NULL;

    while (!d->stopping) {
        if (cc_db_ensure(&conn, d->cfg, "cartevo-kycd webhooks") == 0) {
            int n, total = 0;

            while (!d->stopping && (n = dispatch_batch(conn, d)) > 0) {
                total += n;
            }
            if (total > 0) {
                cc_kycd_deliveries_announce(d);
            }
        }
        cc_kycd_webhooks_wait(d, d->cfg->webhook_poll_interval);
    }
    if (conn) {
        PQfinish(conn);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* A delivery thread: sends due deliveries until none is left, then waits
 * for an announcement or the poll interval (retries come due by time).
 * On stop it ends after the attempt in flight, which its UPDATE records
 * and releases. */
void *APR_THREAD_FUNC cc_deliveries_thread(apr_thread_t *t, void *data)
{
    cc_kycd_t *d = data;
    PGconn *conn = NULL;
    apr_pool_t *p;
    unsigned seen = 0;

    apr_pool_create(&p, NULL);
    while (!d->stopping) {
        if (cc_db_ensure(&conn, d->cfg, "cartevo-kycd deliveries") == 0) {
            while (!d->stopping && deliver_one(conn, d, p) == 1) {
                apr_pool_clear(p);
            }
            apr_pool_clear(p);
        }
        cc_kycd_deliveries_wait(d, d->cfg->webhook_poll_interval, &seen);
    }
    if (conn) {
        PQfinish(conn);
    }
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}
