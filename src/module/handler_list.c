/*
 * handler_list.c: GET /customers: the caller's company's customers, newest
 * first (created_at DESC, seq DESC: the customers_company_list_idx order),
 * a page at a time, with an exact total.
 *
 * One statement, so the page and the total come from one snapshot. The
 * total is the sum of the company's 16 customer_counts rows (O(1), see
 * 003_api.sql). The page is found on the index alone (an index-only scan
 * of seq, skipping OFFSET entries without visiting the table), then only
 * its rows are read.
 */
#include "cc_mod.h"
#include "cc_db_sql.h"

#include "apr_strings.h"

APLOG_USE_MODULE(cartevo_customers);

#define LIMIT_DEFAULT 10
#define LIMIT_MAX 100

typedef struct {
    long page;
    long limit;
    int page_bad;
    int limit_bad;
} paging_t;

/* Exactly [1-9][0-9]{0,8}: no sign, no leading zero, no percent escape;
 * the value or -1. */
static long parse_count(const char *v, apr_size_t n)
{
    long x = 0;
    apr_size_t i;

    if (n < 1 || n > 9 || v[0] < '1' || v[0] > '9') {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return -1;
        }
        x = x * 10 + (v[i] - '0');
    }
    return x;
}

static void take_param(paging_t *p, const char *name, apr_size_t nlen,
                       const char *val, apr_size_t vlen, int *seen_page,
                       int *seen_limit)
{
    long x;

    if (nlen == 4 && memcmp(name, "page", 4) == 0) {
        x = val ? parse_count(val, vlen) : -1;
        p->page_bad |= (*seen_page)++ > 0 || x < 0;
        p->page = x;
    }
    else if (nlen == 5 && memcmp(name, "limit", 5) == 0) {
        x = val ? parse_count(val, vlen) : -1;
        p->limit_bad |= (*seen_limit)++ > 0 || x < 1 || x > LIMIT_MAX;
        p->limit = x;
    }
    /* Other parameters are ignored. */
}

static void parse_paging(request_rec *r, paging_t *p)
{
    const char *args = r->args, *amp, *eq;
    apr_size_t n, nlen;
    int seen_page = 0, seen_limit = 0;

    p->page = 1;
    p->limit = LIMIT_DEFAULT;
    p->page_bad = p->limit_bad = 0;
    while (args && *args) {
        amp = strchr(args, '&');
        n = amp ? (apr_size_t)(amp - args) : strlen(args);
        eq = memchr(args, '=', n);
        nlen = eq ? (apr_size_t)(eq - args) : n;
        take_param(p, args, nlen, eq ? eq + 1 : NULL,
                   eq ? n - nlen - 1 : 0, &seen_page, &seen_limit);
        args = amp ? amp + 1 : NULL;
    }
}

static int paging_error(request_rec *r, const paging_t *p)
{
    static const char page_msg[] = "page must be a positive integer";
    static const char limit_msg[] = "limit must be between 1 and 100";
    json_object *env = cc_json_error_new(HTTP_BAD_REQUEST,
                                         p->page_bad ? page_msg : limit_msg);

    if (p->page_bad) {
        cc_json_error_add(env, "page", 4, page_msg);
    }
    if (p->limit_bad) {
        cc_json_error_add(env, "limit", 5, limit_msg);
    }
    return cc_http_json(r, HTTP_BAD_REQUEST, env);
}

static json_object *meta_object(const paging_t *p, apr_int64_t total)
{
    json_object *m = json_object_new_object();

    json_object_object_add(m, "page", json_object_new_int64(p->page));
    json_object_object_add(m, "limit", json_object_new_int64(p->limit));
    json_object_object_add(m, "total", json_object_new_int64(total));
    json_object_object_add(m, "totalPages",
                           json_object_new_int64((total + p->limit - 1)
                                                 / p->limit));
    return m;
}

/* Reads the rows into data; *total from the first column. 0 or -1. */
static int read_page(request_rec *r, ap_dbd_t *dbd, apr_dbd_results_t *res,
                     json_object *data, apr_int64_t *total)
{
    apr_dbd_row_t *row = NULL;
    const char *v[CC_CUSTOMER_COLUMNS], *t;
    int i;

    *total = -1;
    while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
        t = cc_db_get(r, dbd, row, 0);
        *total = t ? apr_atoi64(t) : -1;
        for (i = 0; i < CC_CUSTOMER_COLUMNS; i++) {
            v[i] = cc_db_get(r, dbd, row, i + 1);
        }
        /* The LEFT JOIN gives one row of NULLs for an empty page. */
        if (v[0]) {
            json_object_array_add(data, cc_customer_object(r, v));
        }
    }
    return *total >= 0 ? 0 : -1;
}

int cc_handle_list(request_rec *r)
{
    cc_principal_t who;
    paging_t p;
    ap_dbd_t *dbd;
    apr_dbd_results_t *res;
    json_object *data, *env;
    apr_int64_t total;
    const char *limit;
    int rc = cc_auth_require(r, &who, 0);

    if (rc != OK) {
        return cc_http_fail(r, rc);
    }
    parse_paging(r, &p);
    if (p.page_bad || p.limit_bad) {
        return paging_error(r, &p);
    }
    limit = apr_ltoa(r->pool, p.limit);
    dbd = cc_db_acquire(r);
    if (!dbd
        || cc_db_select(r, dbd, CC_SQL_LIST_CUSTOMERS, &res, NULL,
                        who.company_id, who.company_id, limit,
                        apr_ltoa(r->pool, p.page), limit, NULL) != 0) {
        return cc_http_fail(r, cc_db_failure(r, dbd, "customer list"));
    }
    data = json_object_new_array();
    if (read_page(r, dbd, res, data, &total) != 0) {
        json_object_put(data);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(01101)
                      "customer list returned no total");
        return cc_http_fail(r, HTTP_INTERNAL_SERVER_ERROR);
    }
    env = cc_json_success_new(HTTP_OK, "Customers retrieved successfully",
                              data);
    json_object_object_add(env, "meta", meta_object(&p, total));
    return cc_http_json(r, HTTP_OK, env);
}
