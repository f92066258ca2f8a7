/*
 * store.c: the module's side of the core document store (cc_store.h):
 * spools opened in CartevoDocumentDir belong to the request's pool, whose
 * cleanup closes them, so every path that does not reach cc_store_keep()
 * (validation errors, database errors, client aborts) removes its files;
 * errors are logged here once.
 */
#include "cc_mod.h"

#include "apr_strings.h"

#include <errno.h>

APLOG_USE_MODULE(cartevo_customers);

static apr_status_t spool_cleanup(void *data)
{
    cc_store_close(data);
    return APR_SUCCESS;
}

int cc_spool_http_status(int err)
{
    return (err == ENOSPC || err == EDQUOT) ? HTTP_INSUFFICIENT_STORAGE
                                           : HTTP_INTERNAL_SERVER_ERROR;
}

int cc_spool_open(request_rec *r, cc_store_spool_t **out)
{
    const cc_srv_cfg_t *sc = cc_cfg_srv(r);
    int err = cc_store_open(sc->doc_dir, out);

    if (err != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(err), r,
                      CCLOGNO(00502) "cannot create a document file in %s",
                      sc->doc_dir);
        return err;
    }
    apr_pool_cleanup_register(r->pool, *out, spool_cleanup,
                              apr_pool_cleanup_null);
    return 0;
}

int cc_spool_commit(request_rec *r, cc_store_spool_t *sp, int sync_dir)
{
    int err = cc_store_commit(sp, sync_dir);

    if (err != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(err), r,
                      CCLOGNO(00503) "cannot make a document durable");
    }
    return err;
}

void cc_spool_discard(request_rec *r, cc_store_spool_t *sp)
{
    apr_pool_cleanup_run(r->pool, sp, spool_cleanup);
}

const char *cc_spool_path(request_rec *r, const char *name)
{
    return apr_pstrcat(r->pool, cc_cfg_srv(r)->doc_dir, "/", name, NULL);
}
