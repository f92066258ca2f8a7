/*
 * store.c: document files on local disk.
 *
 * A document is spooled while it arrives into ".tmp-<random>" inside the
 * document directory (O_EXCL|O_NOFOLLOW, 0640), hashed as it goes, then
 * made durable (fsync, rename to a random 128-bit name, fsync of the
 * directory) before the database row that names it is written. A pool
 * cleanup removes the file on every path that does not reach
 * cc_store_keep(): validation errors, database errors, client aborts.
 * A crash between rename and commit leaves an orphan that the daemon's
 * sweeper removes. Names never derive from the client's filename.
 */
#include "cc_mod.h"
#include "cc_crypto.h"

#include "apr_strings.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

APLOG_USE_MODULE(cartevo_customers);

#define WRITE_BUF (64 * 1024)
#define HEAD_BYTES 4096

struct cc_spool {
    request_rec *r;
    int dirfd;
    int fd;
    char tmp_name[40];
    char final_name[33];
    int created;
    int renamed;
    int kept;
    apr_off_t size;
    EVP_MD_CTX *md;
    char *buf;
    apr_size_t buffered;
    unsigned char head[HEAD_BYTES];
    apr_size_t head_len;
};

static apr_status_t spool_cleanup(void *data)
{
    cc_spool_t *sp = data;

    if (sp->fd >= 0) {
        close(sp->fd);
        sp->fd = -1;
    }
    /* Only a name this spool created is removed: a failed O_EXCL open
     * (EEXIST) leaves someone else's file alone. */
    if (sp->created && !sp->kept && sp->dirfd >= 0) {
        unlinkat(sp->dirfd, sp->renamed ? sp->final_name : sp->tmp_name, 0);
    }
    if (sp->dirfd >= 0) {
        close(sp->dirfd);
        sp->dirfd = -1;
    }
    if (sp->md) {
        EVP_MD_CTX_free(sp->md);
        sp->md = NULL;
    }
    return APR_SUCCESS;
}

int cc_store_http_status(apr_status_t rv)
{
    return (APR_TO_OS_ERROR(rv) == ENOSPC || APR_TO_OS_ERROR(rv) == EDQUOT)
               ? HTTP_INSUFFICIENT_STORAGE
               : HTTP_INTERNAL_SERVER_ERROR;
}

apr_status_t cc_store_open(request_rec *r, cc_spool_t **out)
{
    const cc_srv_cfg_t *sc = cc_cfg_srv(r);
    cc_spool_t *sp = apr_pcalloc(r->pool, sizeof(*sp));
    char rnd[33];
    apr_status_t rv;

    sp->r = r;
    sp->fd = -1;
    sp->dirfd = open(sc->doc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dirfd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, CCLOGNO(00501)
                      "cannot open CartevoDocumentDir %s", sc->doc_dir);
        return rv;
    }
    apr_pool_cleanup_register(r->pool, sp, spool_cleanup,
                              apr_pool_cleanup_null);
    if (cc_crypto_random_hex(rnd, 16) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00504)
                      "cannot make a random document name");
        return APR_EGENERAL;
    }
    apr_snprintf(sp->tmp_name, sizeof(sp->tmp_name), ".tmp-%s", rnd);
    sp->fd = openat(sp->dirfd, sp->tmp_name,
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0640);
    if (sp->fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, CCLOGNO(00502)
                      "cannot create a document file in %s", sc->doc_dir);
        return rv;
    }
    sp->created = 1;
    sp->md = EVP_MD_CTX_new();
    if (!sp->md || EVP_DigestInit_ex(sp->md, EVP_sha256(), NULL) != 1) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00505)
                      "cannot start a SHA-256 digest");
        return APR_ENOMEM;
    }
    sp->buf = apr_palloc(r->pool, WRITE_BUF);
    *out = sp;
    return APR_SUCCESS;
}

static apr_status_t write_all(int fd, const char *p, apr_size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return APR_FROM_OS_ERROR(errno);
        }
        p += w;
        n -= (apr_size_t)w;
    }
    return APR_SUCCESS;
}

apr_status_t cc_store_flush(cc_spool_t *sp)
{
    apr_status_t rv = APR_SUCCESS;

    if (sp->buffered > 0) {
        rv = write_all(sp->fd, sp->buf, sp->buffered);
        sp->buffered = 0;
    }
    return rv;
}

apr_status_t cc_store_write(cc_spool_t *sp, const char *data, apr_size_t len)
{
    apr_size_t take;
    apr_status_t rv;

    if (sp->head_len < HEAD_BYTES) {
        take = HEAD_BYTES - sp->head_len;
        take = take < len ? take : len;
        memcpy(sp->head + sp->head_len, data, take);
        sp->head_len += take;
    }
    EVP_DigestUpdate(sp->md, data, len);
    sp->size += (apr_off_t)len;
    /* Bucket-sized writes would be many small syscalls; batch them. */
    while (len > 0) {
        take = WRITE_BUF - sp->buffered;
        take = take < len ? take : len;
        memcpy(sp->buf + sp->buffered, data, take);
        sp->buffered += take;
        data += take;
        len -= take;
        if (sp->buffered == WRITE_BUF) {
            rv = cc_store_flush(sp);
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
    }
    return APR_SUCCESS;
}

int cc_store_fd(const cc_spool_t *sp)
{
    return sp->fd;
}

apr_off_t cc_store_size(const cc_spool_t *sp)
{
    return sp->size;
}

const unsigned char *cc_store_head(const cc_spool_t *sp, apr_size_t *len)
{
    *len = sp->head_len;
    return sp->head;
}

void cc_store_sha256(cc_spool_t *sp, unsigned char out[32])
{
    unsigned int n = 32;

    EVP_DigestFinal_ex(sp->md, out, &n);
}

apr_status_t cc_store_commit(cc_spool_t *sp, const char **final_name,
                             int sync_dir)
{
    apr_status_t rv = cc_store_flush(sp);

    /* The daemon's sweeper removes unreferenced files older than
     * orphan_min_age (1 h) by mtime. A document whose part ended long ago
     * (the other one trickled in at RequestReadTimeout's MinRate, which
     * allows hours) would look old between the rename and the commit of
     * its row: touch it so that window is always young. */
    if (rv == APR_SUCCESS && futimens(sp->fd, NULL) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (rv == APR_SUCCESS && fsync(sp->fd) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    if (rv == APR_SUCCESS && cc_crypto_random_hex(sp->final_name, 16) != 0) {
        rv = APR_EGENERAL;
    }
    if (rv == APR_SUCCESS) {
        /* renameat2(RENAME_NOREPLACE) would be stricter, but 128 random
         * bits cannot collide in practice and plain rename is portable. */
        if (renameat(sp->dirfd, sp->tmp_name, sp->dirfd, sp->final_name)
            != 0) {
            rv = APR_FROM_OS_ERROR(errno);
        }
        else {
            sp->renamed = 1;
            /* One directory fsync covers every rename before it, so a
             * request with two documents asks for it on the last only. */
            if (sync_dir && fsync(sp->dirfd) != 0) {
                rv = APR_FROM_OS_ERROR(errno);
            }
        }
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, sp->r, CCLOGNO(00503)
                      "cannot make a document durable");
        return rv;
    }
    *final_name = sp->final_name;
    return APR_SUCCESS;
}

void cc_store_keep(cc_spool_t *sp)
{
    sp->kept = 1;
}

void cc_store_discard(cc_spool_t *sp)
{
    apr_pool_cleanup_run(sp->r->pool, sp, spool_cleanup);
}

const char *cc_store_path(request_rec *r, const char *name)
{
    return apr_pstrcat(r->pool, cc_cfg_srv(r)->doc_dir, "/", name, NULL);
}
