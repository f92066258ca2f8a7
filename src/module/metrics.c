/*
 * metrics.c: the module's Prometheus metrics (issue 9, item 4), counted
 * in one shared-memory segment per httpd instance and served as text by
 * "SetHandler cartevo-metrics" wherever the admin mounts it.
 *
 * The segment is anonymous shared memory made once in the parent's
 * process pool, which lives as long as the parent: the children of every
 * generation inherit the same mapping when they are forked, and a
 * graceful restart (a new generation beside the old one's finishing
 * children) neither resets nor splits the counts. Every counter is a
 * lock-free 64-bit atomic, added to with relaxed ordering: a scrape may
 * see one request's counter and not yet its histogram entry, never a
 * torn value. Requests are counted in the log_transaction hook, after the
 * answer (the final status of an error redirect, the whole duration),
 * for every request our API handler took; the route template comes from
 * the dispatcher (cc_metrics_route), never from the URI.
 */
#include "cc_mod.h"

#include "http_core.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include <stdint.h>

APLOG_USE_MODULE(cartevo_customers);

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
               "64-bit atomics must be lock-free to live in shared memory");

static const char *const endpoints[CC_EP_COUNT] = {
    "unmatched", "/auth/token", "/customers", "/customers/enroll",
    "/customers/{id}", "/customers/{id}/documents/{side}"
};

/* Methods are labelled by name; any other is "other". */
static const char *const methods[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

static const char *const reasons[CC_REJECT_COUNT] = {
    "too_large", "unsupported_type", "unreadable", "too_small"
};

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const uint64_t bounds_us[] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 30000000
};
#define N_BOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))

#define STATUS_MIN 100
#define N_STATUS 500 /* 100..599 */

typedef _Atomic uint64_t counter_t;

typedef struct {
    counter_t requests[CC_EP_COUNT][N_METHODS][N_STATUS];
    counter_t bucket[CC_EP_COUNT][N_BOUNDS + 1]; /* not cumulative */
    counter_t sum_us[CC_EP_COUNT];
    counter_t upload_bytes;
    counter_t rejected[CC_REJECT_COUNT];
    counter_t db_errors;
} metrics_t;

/* Set in the parent before any child is forked, read-only after. */
static metrics_t *m;

static void add(counter_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(counter_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

int cc_metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_shm_t *shm = NULL;
    apr_status_t rv;

    (void)pconf;
    (void)plog;
    (void)ptemp;
    /* The first pass only checks the configuration (and httpd -t ends
     * there): nothing to count yet. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    apr_pool_userdata_get((void **)&shm, "cartevo:metrics", pp);
    /* A restart after an upgrade may load a module whose counters need
     * more room than the segment the previous one made: start afresh
     * (the old segment stays with the pool; old children may still add
     * to it until they exit). */
    if (shm && apr_shm_size_get(shm) < sizeof(metrics_t)) {
        shm = NULL;
    }
    if (!shm) {
        rv = apr_shm_create(&shm, sizeof(metrics_t), NULL, pp);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CCLOGNO(01101)
                         "cannot create the metrics' shared memory "
                         "(%" APR_SIZE_T_FMT " bytes)", sizeof(metrics_t));
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        memset(apr_shm_baseaddr_get(shm), 0, sizeof(metrics_t));
        apr_pool_userdata_set(shm, "cartevo:metrics", apr_pool_cleanup_null,
                              pp);
    }
    m = apr_shm_baseaddr_get(shm);
    return OK;
}

void cc_metrics_route(request_rec *r, cc_endpoint_t ep)
{
    cc_endpoint_t *slot = apr_palloc(r->pool, sizeof(*slot));

    *slot = ep;
    ap_set_module_config(r->request_config, &cartevo_customers_module, slot);
}

void cc_metrics_upload(apr_off_t bytes)
{
    if (m && bytes > 0) {
        add(&m->upload_bytes, (uint64_t)bytes);
    }
}

void cc_metrics_rejected(cc_reject_t why)
{
    if (m && why < CC_REJECT_COUNT) {
        add(&m->rejected[why], 1);
    }
}

void cc_metrics_db_error(void)
{
    if (m) {
        add(&m->db_errors, 1);
    }
}

static apr_size_t method_index(const char *method)
{
    apr_size_t i;

    for (i = 0; i + 1 < N_METHODS; i++) {
        if (strcmp(method, methods[i]) == 0) {
            return i;
        }
    }
    return N_METHODS - 1;
}

int cc_metrics_log(request_rec *r)
{
    const cc_endpoint_t *ep;
    const request_rec *last = r;
    apr_time_t took = apr_time_now() - r->request_time;
    uint64_t us = took > 0 ? (uint64_t)took : 0;
    apr_size_t b = 0;
    int st;

    if (!m || !r->handler || strcmp(r->handler, CC_HANDLER_NAME) != 0) {
        return DECLINED;
    }
    while (last->next) {
        last = last->next;
    }
    st = last->status;
    if (st < STATUS_MIN || st >= STATUS_MIN + N_STATUS) {
        st = HTTP_INTERNAL_SERVER_ERROR;
    }
    ep = ap_get_module_config(r->request_config, &cartevo_customers_module);
    while (b < N_BOUNDS && us > bounds_us[b]) {
        b++;
    }
    add(&m->requests[ep ? *ep : CC_EP_UNMATCHED][method_index(r->method)]
                    [st - STATUS_MIN], 1);
    add(&m->bucket[ep ? *ep : CC_EP_UNMATCHED][b], 1);
    add(&m->sum_us[ep ? *ep : CC_EP_UNMATCHED], us);
    return DECLINED;
}

static void emit_requests(request_rec *r)
{
    apr_size_t e, k, s;
    uint64_t n;

    ap_rputs("# HELP cartevo_http_requests_total API requests answered, by "
             "route template, method and status.\n"
             "# TYPE cartevo_http_requests_total counter\n", r);
    for (e = 0; e < CC_EP_COUNT; e++) {
        for (k = 0; k < N_METHODS; k++) {
            for (s = 0; s < N_STATUS; s++) {
                if ((n = get(&m->requests[e][k][s])) == 0) {
                    continue;
                }
                ap_rprintf(r, "cartevo_http_requests_total{endpoint=\"%s\","
                           "method=\"%s\",status=\"%d\"} %" APR_UINT64_T_FMT
                           "\n", endpoints[e], methods[k],
                           (int)s + STATUS_MIN, n);
            }
        }
    }
}

static void emit_durations(request_rec *r)
{
    apr_size_t e, b;
    uint64_t cum;

    ap_rputs("# HELP cartevo_http_request_duration_seconds Time from the "
             "request line to the end of the answer.\n"
             "# TYPE cartevo_http_request_duration_seconds histogram\n", r);
    for (e = 0; e < CC_EP_COUNT; e++) {
        cum = 0;
        for (b = 0; b <= N_BOUNDS; b++) {
            cum += get(&m->bucket[e][b]);
            if (b < N_BOUNDS) {
                ap_rprintf(r, "cartevo_http_request_duration_seconds_bucket"
                           "{endpoint=\"%s\",le=\"%g\"} %" APR_UINT64_T_FMT
                           "\n", endpoints[e], (double)bounds_us[b] / 1e6,
                           cum);
            }
        }
        ap_rprintf(r, "cartevo_http_request_duration_seconds_bucket"
                   "{endpoint=\"%s\",le=\"+Inf\"} %" APR_UINT64_T_FMT "\n"
                   "cartevo_http_request_duration_seconds_sum{endpoint="
                   "\"%s\"} %.6f\n"
                   "cartevo_http_request_duration_seconds_count{endpoint="
                   "\"%s\"} %" APR_UINT64_T_FMT "\n", endpoints[e], cum,
                   endpoints[e], (double)get(&m->sum_us[e]) / 1e6,
                   endpoints[e], cum);
    }
}

static void emit_others(request_rec *r)
{
    apr_size_t i;

    ap_rprintf(r, "# HELP cartevo_upload_bytes_total Bytes of KYC documents "
               "received in POST /customers bodies.\n"
               "# TYPE cartevo_upload_bytes_total counter\n"
               "cartevo_upload_bytes_total %" APR_UINT64_T_FMT "\n",
               get(&m->upload_bytes));
    ap_rputs("# HELP cartevo_documents_rejected_total Uploaded documents "
             "refused, by reason.\n"
             "# TYPE cartevo_documents_rejected_total counter\n", r);
    for (i = 0; i < CC_REJECT_COUNT; i++) {
        ap_rprintf(r, "cartevo_documents_rejected_total{reason=\"%s\"} %"
                   APR_UINT64_T_FMT "\n", reasons[i], get(&m->rejected[i]));
    }
    ap_rprintf(r, "# HELP cartevo_db_errors_total Database steps that "
               "failed (no connection, a lost one, an unsupported schema or "
               "an error other than a duplicate).\n"
               "# TYPE cartevo_db_errors_total counter\n"
               "cartevo_db_errors_total %" APR_UINT64_T_FMT "\n",
               get(&m->db_errors));
}

int cc_metrics_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, CC_METRICS_HANDLER_NAME) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        apr_table_setn(r->err_headers_out, "Allow", "GET, HEAD");
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!m) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }
    emit_requests(r);
    emit_durations(r);
    emit_others(r);
    return OK;
}
