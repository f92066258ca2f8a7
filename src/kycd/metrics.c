/*
 * metrics.c: cartevo-kycd's Prometheus metrics on metrics_listen
 * (host:port, default off), served by libmicrohttpd on one internal
 * thread.
 *
 * This daemon's own events (job runs, outcomes, provider errors, webhook
 * deliveries) are process counters: C11 atomics that the worker and
 * delivery threads add to, so nothing waits on a scrape. The job gauges
 * (jobs by state, the oldest due job's age) are read from the database
 * at each scrape, on a connection only the server thread uses, so every
 * daemon on one database reports the same values (aggregate them with
 * max, not sum). When the database cannot be reached those gauges are
 * left out and cartevo_kyc_database_up is 0; the counters are always
 * served.
 */
#include "kycd.h"

#include <microhttpd.h>

#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef _Atomic uint64_t counter_t;

/* Upper bounds in milliseconds; the last bucket is +Inf. */
static const uint64_t bounds_ms[] = {
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000
};
#define N_BOUNDS (sizeof(bounds_ms) / sizeof(bounds_ms[0]))

typedef struct {
    counter_t bucket[N_BOUNDS + 1]; /* not cumulative */
    counter_t sum_ms;
} histogram_t;

static const char *const outcomes[CC_OUTCOME_COUNT] = {
    "approved", "rejected", "enrolled", "enrollment_failed"
};
/* The schema's kyc_reason values; "none" for an approval or enrollment. */
static const char *const reasons[] = {
    "none", "UNREADABLE", "LOW_RESOLUTION", "BLANK_IMAGE", "MISSING_BACK",
    "DOCUMENT_FETCH_FAILED", "PROVIDER_REJECTED", "other"
};
#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))
static const char *const providers[CC_PROVIDER_COUNT] = {
    "verifier", "issuer", "document_fetch"
};
static const char *const deliveries[CC_DELIVERY_COUNT] = {
    "delivered", "retry", "failed"
};
static const char *const states[] = { "queued", "running", "done", "failed" };
#define N_STATES (sizeof(states) / sizeof(states[0]))

static struct {
    histogram_t job;
    histogram_t delivery;
    counter_t outcome[CC_OUTCOME_COUNT][N_REASONS];
    counter_t provider_error[CC_PROVIDER_COUNT];
    counter_t delivery_outcome[CC_DELIVERY_COUNT];
} m;

static struct MHD_Daemon *server;
static const cc_kycd_cfg_t *server_cfg;
static PGconn *server_conn; /* the server thread's only */

static void add(counter_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(counter_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void observe(histogram_t *h, double seconds)
{
    uint64_t ms = seconds > 0 ? (uint64_t)(seconds * 1000.0 + 0.5) : 0;
    size_t b = 0;

    while (b < N_BOUNDS && ms > bounds_ms[b]) {
        b++;
    }
    add(&h->bucket[b], 1);
    add(&h->sum_ms, ms);
}

void cc_metrics_job(double seconds)
{
    observe(&m.job, seconds);
}

void cc_metrics_outcome(cc_outcome_t o, const char *reason)
{
    size_t i = N_REASONS - 1;

    if (o >= CC_OUTCOME_COUNT) {
        return;
    }
    if (reason == NULL) {
        i = 0;
    }
    else {
        for (i = 1; i + 1 < N_REASONS && strcmp(reason, reasons[i]) != 0;
             i++) {
        }
    }
    add(&m.outcome[o][i], 1);
}

void cc_metrics_provider_error(cc_provider_t p)
{
    if (p < CC_PROVIDER_COUNT) {
        add(&m.provider_error[p], 1);
    }
}

void cc_metrics_delivery(cc_delivery_t o, double seconds)
{
    if (o < CC_DELIVERY_COUNT) {
        add(&m.delivery_outcome[o], 1);
        observe(&m.delivery, seconds);
    }
}

/* ---- the exposition -------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} text_t;

static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = t->failed ? -1
                      : vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        char *nb = realloc(t->buf, t->cap * 2 + (size_t)n);
        if (nb == NULL) {
            t->failed = 1;
            return;
        }
        t->buf = nb;
        t->cap = t->cap * 2 + (size_t)n;
    }
}

static void put_histogram(text_t *t, const char *name, const char *help,
                          histogram_t *h)
{
    uint64_t cum = 0;
    size_t b;

    put(t, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (b = 0; b <= N_BOUNDS; b++) {
        cum += get(&h->bucket[b]);
        if (b < N_BOUNDS) {
            put(t, "%s_bucket{le=\"%g\"} %llu\n", name,
                (double)bounds_ms[b] / 1000.0, (unsigned long long)cum);
        }
    }
    put(t, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n%s_count %llu\n", name,
        (unsigned long long)cum, name, (double)get(&h->sum_ms) / 1000.0,
        name, (unsigned long long)cum);
}

static void put_counters(text_t *t)
{
    size_t i, j;

    put(t, "# HELP cartevo_kyc_outcomes_total KYC decisions and enrollments "
        "this daemon committed, by outcome and reason.\n"
        "# TYPE cartevo_kyc_outcomes_total counter\n");
    for (i = 0; i < CC_OUTCOME_COUNT; i++) {
        for (j = 0; j < N_REASONS; j++) {
            if (get(&m.outcome[i][j]) || j == 0) {
                put(t, "cartevo_kyc_outcomes_total{outcome=\"%s\","
                    "reason=\"%s\"} %llu\n", outcomes[i], reasons[j],
                    (unsigned long long)get(&m.outcome[i][j]));
            }
        }
    }
    put(t, "# HELP cartevo_provider_errors_total Failed calls to a "
        "provider (each is retried with backoff).\n"
        "# TYPE cartevo_provider_errors_total counter\n");
    for (i = 0; i < CC_PROVIDER_COUNT; i++) {
        put(t, "cartevo_provider_errors_total{provider=\"%s\"} %llu\n",
            providers[i], (unsigned long long)get(&m.provider_error[i]));
    }
    put(t, "# HELP cartevo_webhook_deliveries_total Webhook delivery "
        "attempts, by what became of the delivery.\n"
        "# TYPE cartevo_webhook_deliveries_total counter\n");
    for (i = 0; i < CC_DELIVERY_COUNT; i++) {
        put(t, "cartevo_webhook_deliveries_total{outcome=\"%s\"} %llu\n",
            deliveries[i], (unsigned long long)get(&m.delivery_outcome[i]));
    }
    put_histogram(t, "cartevo_kyc_job_duration_seconds",
                  "One run of a claimed job, from its claim to its last "
                  "commit or give-back.", &m.job);
    put_histogram(t, "cartevo_webhook_delivery_duration_seconds",
                  "One webhook delivery attempt (the POST).", &m.delivery);
}

/* Jobs by state and the oldest due job's age; 0, or -1 when the
 * database did not answer. */
static int put_gauges(text_t *t)
{
    /* One scan of the table, whatever its size: scrape every 15 s or
     * more, not every second, on a large one. */
    static const char sql[] =
        "SELECT count(*) FILTER (WHERE state = 'queued'),"
        " count(*) FILTER (WHERE state = 'running'),"
        " count(*) FILTER (WHERE state = 'done'),"
        " count(*) FILTER (WHERE state = 'failed'),"
        " coalesce(extract(epoch FROM clock_timestamp() - min(next_attempt_at)"
        " FILTER (WHERE state = 'queued'"
        " AND next_attempt_at <= clock_timestamp())), 0) FROM kyc_jobs";
    PGresult *r;
    size_t i;

    if (cc_db_ensure(&server_conn, server_cfg, "cartevo-kycd metrics") != 0) {
        return -1;
    }
    /* A slow or stalled database must not hold the only server thread
     * (nor the shutdown, which joins it). */
    PQclear(cc_db_exec(server_conn, "metrics timeout",
                       "SET statement_timeout = 5000", 0, NULL));
    r = cc_db_exec(server_conn, "metrics", sql, 0, NULL);
    if (r == NULL || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    put(t, "# HELP cartevo_kyc_jobs KYC jobs in the database, by state "
        "(the same from every daemon: aggregate with max).\n"
        "# TYPE cartevo_kyc_jobs gauge\n");
    for (i = 0; i < N_STATES; i++) {
        put(t, "cartevo_kyc_jobs{state=\"%s\"} %s\n", states[i],
            PQgetvalue(r, 0, (int)i));
    }
    put(t, "# HELP cartevo_kyc_oldest_due_job_age_seconds How long the "
        "oldest queued job has been due (0: none).\n"
        "# TYPE cartevo_kyc_oldest_due_job_age_seconds gauge\n"
        "cartevo_kyc_oldest_due_job_age_seconds %.3f\n",
        atof(PQgetvalue(r, 0, 4)));
    PQclear(r);
    return 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_len, void **req)
{
    text_t t = { malloc(16384), 0, 16384, 0 };
    struct MHD_Response *resp;
    enum MHD_Result rc;
    int up;

    (void)cls, (void)version, (void)upload, (void)upload_len, (void)req;
    if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
        free(t.buf);
        resp = MHD_create_response_from_buffer(0, NULL,
                                               MHD_RESPMEM_PERSISTENT);
        if (resp == NULL) {
            return MHD_NO;
        }
        rc = MHD_queue_response(c, strcmp(url, "/metrics") != 0
                                       ? MHD_HTTP_NOT_FOUND
                                       : MHD_HTTP_METHOD_NOT_ALLOWED, resp);
        MHD_destroy_response(resp);
        return rc;
    }
    t.failed = t.buf == NULL;
    put_counters(&t);
    up = put_gauges(&t) == 0;
    put(&t, "# HELP cartevo_kyc_database_up 1 when this scrape could read "
        "the job gauges.\n# TYPE cartevo_kyc_database_up gauge\n"
        "cartevo_kyc_database_up %d\n", up);
    if (t.failed) {
        free(t.buf);
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(t.len, t.buf,
                                           MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(t.buf);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type",
                            "text/plain; version=0.0.4; charset=utf-8");
    rc = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* ---- start and stop ------------------------------------------------------ */

int cc_metrics_start(const cc_kycd_cfg_t *cfg)
{
    struct addrinfo hints, *ai = NULL;
    char host[256];
    const char *colon;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    if (cfg->metrics_listen == NULL || cfg->metrics_listen[0] == '\0') {
        return 0;
    }
    colon = strrchr(cfg->metrics_listen, ':');
    if (colon == NULL || colon == cfg->metrics_listen
        || (size_t)(colon - cfg->metrics_listen) >= sizeof(host)) {
        cc_kycd_log(CC_LOG_ERR, "metrics_listen must be HOST:PORT (e.g. "
                    "127.0.0.1:9464)");
        return -1;
    }
    memcpy(host, cfg->metrics_listen, (size_t)(colon - cfg->metrics_listen));
    host[colon - cfg->metrics_listen] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
        cc_kycd_log(CC_LOG_ERR, "metrics_listen %s: not a numeric address "
                    "and port", cfg->metrics_listen);
        return -1;
    }
    if (ai->ai_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    server_cfg = cfg;
    server = MHD_start_daemon(flags, 0, NULL, NULL, answer, NULL,
                              MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                              MHD_OPTION_CONNECTION_LIMIT, 16U,
                              MHD_OPTION_CONNECTION_TIMEOUT, 10U,
                              MHD_OPTION_END);
    freeaddrinfo(ai);
    if (server == NULL) {
        cc_kycd_log(CC_LOG_ERR, "metrics_listen %s: cannot listen there",
                    cfg->metrics_listen);
        return -1;
    }
    cc_kycd_log(CC_LOG_INFO, "metrics on http://%s/metrics",
                cfg->metrics_listen);
    return 0;
}

void cc_metrics_stop(void)
{
    if (server != NULL) {
        MHD_stop_daemon(server);
        server = NULL;
    }
    if (server_conn != NULL) {
        PQfinish(server_conn);
        server_conn = NULL;
    }
}
