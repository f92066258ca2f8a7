/*
 * auth.c: Bearer token checks and the per-process credential cache.
 *
 * Tokens are verified without the database. Whether the credential is
 * still valid and the company's KYB status come from the database and are
 * cached per process for at most CartevoAuthCacheSeconds (<= 60, so a KYB
 * change or a revocation takes effect within a minute, as the contract
 * allows). The cache is shared by the threads of a child and locked.
 */
#include "cc_mod.h"
#include "cc_db_sql.h"
#include "cc_token.h"

#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

APLOG_USE_MODULE(cartevo_customers);

/* Bounded so that a flood of distinct valid tokens cannot grow memory. */
#define CACHE_MAX 4096

typedef struct {
    char company_id[37];
    int valid;
    int kyb_approved;
    apr_time_t fetched;
} cache_entry_t;

static apr_thread_mutex_t *cache_lock;
static apr_pool_t *cache_pool;
static apr_hash_t *cache;

int cc_auth_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    rv = apr_pool_create(&cache_pool, p);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_mutex_create(&cache_lock, APR_THREAD_MUTEX_DEFAULT,
                                     p);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CCLOGNO(00301)
                     "cannot create the credential cache");
        return rv;
    }
    cache = apr_hash_make(cache_pool);
    return APR_SUCCESS;
}

static int cache_lookup(const char *client_id, apr_time_t now,
                        apr_time_t max_age, cache_entry_t *out)
{
    cache_entry_t *e;
    int hit = 0;

    if (!cache_lock || max_age <= 0
        || apr_thread_mutex_lock(cache_lock) != APR_SUCCESS) {
        return 0;
    }
    e = apr_hash_get(cache, client_id, APR_HASH_KEY_STRING);
    if (e && now - e->fetched < max_age && now >= e->fetched) {
        *out = *e;
        hit = 1;
    }
    apr_thread_mutex_unlock(cache_lock);
    return hit;
}

static void cache_store(const char *client_id, const cache_entry_t *in)
{
    cache_entry_t *e;

    if (!cache_lock || apr_thread_mutex_lock(cache_lock) != APR_SUCCESS) {
        return;
    }
    e = apr_hash_get(cache, client_id, APR_HASH_KEY_STRING);
    if (!e) {
        if (apr_hash_count(cache) >= CACHE_MAX) {
            /* Dropping everything is the simple bound; the cost is one
             * query per active client. */
            apr_pool_clear(cache_pool);
            cache = apr_hash_make(cache_pool);
        }
        e = apr_palloc(cache_pool, sizeof(*e));
        apr_hash_set(cache, apr_pstrdup(cache_pool, client_id),
                     APR_HASH_KEY_STRING, e);
    }
    *e = *in;
    apr_thread_mutex_unlock(cache_lock);
}

/* Extracts the token from "Bearer <token>" (scheme case-insensitive). */
static const char *bearer(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        return NULL;
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    return *h ? h : NULL;
}

int cc_auth_check(request_rec *r, cc_principal_t *who, int *kyb_approved)
{
    const cc_srv_cfg_t *sc = cc_cfg_srv(r);
    const char *token = bearer(r);
    apr_time_t now = apr_time_now();
    cache_entry_t e;
    ap_dbd_t *dbd;
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *company, *valid, *kyb;

    if (!token || !sc->secret
        || cc_token_verify(sc->secret, sc->secret_len, token,
                           (long)apr_time_sec(now), who->client_id,
                           who->company_id) != 0) {
        return HTTP_UNAUTHORIZED;
    }
    /* The signature holds: the token's company, whatever follows. */
    apr_table_set(r->notes, CC_NOTE_COMPANY, who->company_id);
    if (!cache_lookup(who->client_id, now,
                      apr_time_from_sec(sc->auth_cache_seconds), &e)) {
        dbd = cc_db_acquire(r);
        if (!dbd
            || cc_db_select(r, dbd, CC_SQL_CLIENT_STATE, &res, NULL,
                            who->client_id, NULL) != 0) {
            return cc_db_failure(r, dbd, "credential lookup");
        }
        memset(&e, 0, sizeof(e));
        if (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0) {
            company = cc_db_get(r, dbd, row, 0);
            valid = cc_db_get(r, dbd, row, 1);
            kyb = cc_db_get(r, dbd, row, 2);
            if (company && strlen(company) == 36) {
                memcpy(e.company_id, company, 37);
                e.valid = valid && valid[0] == 't';
                e.kyb_approved = kyb && strcmp(kyb, "APPROVED") == 0;
            }
            while (apr_dbd_get_row(dbd->driver, r->pool, res, &row, -1) == 0)
                ;
        }
        e.fetched = now;
        cache_store(who->client_id, &e);
    }
    /* A token whose company no longer matches its credential is as bad
     * as a forged one. */
    if (!e.valid || strcasecmp(e.company_id, who->company_id) != 0) {
        return HTTP_UNAUTHORIZED;
    }
    *kyb_approved = e.kyb_approved;
    return OK;
}

int cc_auth_require(request_rec *r, cc_principal_t *who, int need_kyb)
{
    int kyb = 0, rc = cc_auth_check(r, who, &kyb);

    if (rc == OK && need_kyb && !kyb) {
        return HTTP_FORBIDDEN;
    }
    return rc;
}
