/*
 * sniff.c: content type by libmagic, one cookie per thread.
 *
 * A magic_t holds mutable buffers and is not thread-safe, and opening one
 * costs about 0.4 ms, so each worker thread opens its own on first use and
 * keeps it in thread-local storage; the key's destructor closes it when
 * the thread ends.
 */
#include "cc_mod.h"

#include "apr_strings.h"
#include "apr_thread_proc.h"

#include <magic.h>

APLOG_USE_MODULE(cartevo_customers);

static apr_threadkey_t *magic_key;

/* Only the checks that can name JPEG, PNG or PDF are worth their time. */
#define MAGIC_FLAGS                                                       \
    (MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS               \
     | MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_ELF        \
     | MAGIC_NO_CHECK_ENCODING | MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_CSV)

static void close_cookie(void *data)
{
    if (data) {
        magic_close((magic_t)data);
    }
}

void cc_sniff_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv = apr_threadkey_private_create(&magic_key, close_cookie,
                                                   p);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CCLOGNO(00601)
                     "cannot create the libmagic thread key");
        magic_key = NULL;
    }
}

static magic_t cookie(request_rec *r)
{
    void *data = NULL;
    magic_t m;
    size_t bytes_max = 64 * 1024;

    if (!magic_key) {
        return NULL;
    }
    apr_threadkey_private_get(&data, magic_key);
    if (data) {
        return (magic_t)data;
    }
    m = magic_open(MAGIC_FLAGS);
    if (!m) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(errno), r,
                      CCLOGNO(00602) "magic_open failed");
        return NULL;
    }
    if (magic_load(m, NULL) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00603)
                      "cannot load the magic database: %s", magic_error(m));
        magic_close(m);
        return NULL;
    }
    magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes_max);
    apr_threadkey_private_set(m, magic_key);
    return m;
}

apr_status_t cc_sniff_mime(request_rec *r, const void *buf, apr_size_t len,
                           const char **mime)
{
    magic_t m = cookie(r);
    const char *v;

    *mime = NULL;
    if (!m) {
        return APR_EGENERAL;
    }
    v = magic_buffer(m, buf, len);
    *mime = v ? apr_pstrdup(r->pool, v) : NULL;
    return APR_SUCCESS;
}
