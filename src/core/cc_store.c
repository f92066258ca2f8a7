/*
 * cc_store.c: document files in one directory (see cc_store.h).
 */
#include "cc_store.h"
#include "cc_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_BUF (64 * 1024)

struct cc_store_spool {
    int dirfd;
    int fd;
    char tmp_name[40];
    char final_name[CC_STORE_NAME_LEN + 1];
    char document_id[37];
    int created;
    int renamed;
    int kept;
    uint64_t size;
    EVP_MD_CTX *md;
    char *buf;
    size_t buffered;
    unsigned char head[CC_STORE_HEAD_BYTES];
    size_t head_len;
};

struct cc_store_reader {
    int fd;
    uint64_t size;
};

static int make_spool_file(cc_store_spool_t *sp)
{
    char rnd[33];

    if (cc_crypto_random_hex(rnd, 16) != 0
        || cc_crypto_uuid4(sp->document_id) != 0) {
        return EIO;
    }
    snprintf(sp->tmp_name, sizeof(sp->tmp_name), ".tmp-%s", rnd);
    sp->fd = openat(sp->dirfd, sp->tmp_name,
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0640);
    if (sp->fd < 0) {
        return errno;
    }
    sp->created = 1;
    return 0;
}

int cc_store_open(const char *dir, cc_store_spool_t **out)
{
    cc_store_spool_t *sp = calloc(1, sizeof(*sp));
    int rc;

    *out = NULL;
    if (!sp) {
        return ENOMEM;
    }
    sp->fd = -1;
    sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->dirfd < 0) {
        rc = errno;
        free(sp);
        return rc;
    }
    sp->buf = malloc(WRITE_BUF);
    sp->md = EVP_MD_CTX_new();
    if (!sp->buf || !sp->md
        || EVP_DigestInit_ex(sp->md, EVP_sha256(), NULL) != 1) {
        cc_store_close(sp);
        return ENOMEM;
    }
    rc = make_spool_file(sp);
    if (rc != 0) {
        cc_store_close(sp);
        return rc;
    }
    *out = sp;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cc_store_flush(cc_store_spool_t *sp)
{
    int rc = 0;

    if (sp->buffered > 0) {
        rc = write_all(sp->fd, sp->buf, sp->buffered);
        sp->buffered = 0;
    }
    return rc;
}

int cc_store_append(cc_store_spool_t *sp, const void *data, size_t len)
{
    const char *p = data;
    size_t take;
    int rc;

    if (sp->head_len < CC_STORE_HEAD_BYTES) {
        take = CC_STORE_HEAD_BYTES - sp->head_len;
        take = take < len ? take : len;
        memcpy(sp->head + sp->head_len, p, take);
        sp->head_len += take;
    }
    EVP_DigestUpdate(sp->md, p, len);
    sp->size += len;
    /* Bucket-sized writes would be many small syscalls; batch them. */
    while (len > 0) {
        take = WRITE_BUF - sp->buffered;
        take = take < len ? take : len;
        memcpy(sp->buf + sp->buffered, p, take);
        sp->buffered += take;
        p += take;
        len -= take;
        if (sp->buffered == WRITE_BUF && (rc = cc_store_flush(sp)) != 0) {
            return rc;
        }
    }
    return 0;
}

const char *cc_store_document_id(const cc_store_spool_t *sp)
{
    return sp->document_id;
}

int cc_store_fd(const cc_store_spool_t *sp)
{
    return sp->fd;
}

uint64_t cc_store_size(const cc_store_spool_t *sp)
{
    return sp->size;
}

const unsigned char *cc_store_head(const cc_store_spool_t *sp, size_t *len)
{
    *len = sp->head_len;
    return sp->head;
}

void cc_store_sha256(cc_store_spool_t *sp, unsigned char out[32])
{
    /* Finalise a copy, so the running digest stays usable. */
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 32;

    if (!c || EVP_MD_CTX_copy_ex(c, sp->md) != 1
        || EVP_DigestFinal_ex(c, out, &n) != 1) {
        memset(out, 0, 32);
    }
    EVP_MD_CTX_free(c);
}

int cc_store_commit(cc_store_spool_t *sp, int sync_dir)
{
    int rc = cc_store_flush(sp);

    /* The sweeper removes unreferenced files by age. A document whose
     * part ended long ago (the other one trickled in for hours) would look
     * old between the rename and the commit of its row: touch it. */
    if (rc == 0 && futimens(sp->fd, NULL) != 0) {
        rc = errno;
    }
    if (rc == 0 && fsync(sp->fd) != 0) {
        rc = errno;
    }
    if (rc == 0 && cc_crypto_random_hex(sp->final_name, 16) != 0) {
        rc = EIO;
    }
    if (rc != 0) {
        return rc;
    }
    /* renameat2(RENAME_NOREPLACE) would be stricter, but 128 random bits
     * cannot collide in practice and plain rename works on NFS. */
    if (renameat(sp->dirfd, sp->tmp_name, sp->dirfd, sp->final_name) != 0) {
        return errno;
    }
    sp->renamed = 1;
    if (sync_dir && fsync(sp->dirfd) != 0) {
        return errno;
    }
    return 0;
}

const char *cc_store_name(const cc_store_spool_t *sp)
{
    return sp->renamed ? sp->final_name : NULL;
}

void cc_store_keep(cc_store_spool_t *sp)
{
    sp->kept = 1;
}

void cc_store_close(cc_store_spool_t *sp)
{
    if (!sp) {
        return;
    }
    if (sp->fd >= 0) {
        close(sp->fd);
    }
    /* Only a name this spool created is removed: a failed O_EXCL open
     * (EEXIST) leaves someone else's file alone. */
    if (sp->created && !sp->kept && sp->dirfd >= 0) {
        unlinkat(sp->dirfd, sp->renamed ? sp->final_name : sp->tmp_name, 0);
    }
    if (sp->dirfd >= 0) {
        close(sp->dirfd);
    }
    EVP_MD_CTX_free(sp->md);
    free(sp->buf);
    free(sp);
}

int cc_store_name_ok(const char *name)
{
    size_t i;

    for (i = 0; i < CC_STORE_NAME_LEN; i++) {
        if (!((name[i] >= '0' && name[i] <= '9')
              || (name[i] >= 'a' && name[i] <= 'f'))) {
            return 0;
        }
    }
    return name[i] == '\0';
}

int cc_store_reader_open(const char *dir, const char *name,
                         const char *format, cc_store_reader_t **out)
{
    cc_store_reader_t *rd;
    struct stat st;
    int dirfd, rc = 0;

    *out = NULL;
    if (!cc_store_name_ok(name)) {
        return EINVAL;
    }
    if (strcmp(format, CC_STORE_FORMAT_PLAIN) != 0) {
        return ENOTSUP;
    }
    rd = calloc(1, sizeof(*rd));
    if (!rd) {
        return ENOMEM;
    }
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rd->fd = dirfd < 0 ? -1
                       : openat(dirfd, name,
                                O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (rd->fd < 0 || fstat(rd->fd, &st) != 0) {
        rc = errno;
    }
    if (dirfd >= 0) {
        close(dirfd);
    }
    if (rc != 0) {
        cc_store_reader_close(rd);
        return rc;
    }
    rd->size = (uint64_t)st.st_size;
    *out = rd;
    return 0;
}

ssize_t cc_store_read(cc_store_reader_t *rd, void *buf, size_t len)
{
    ssize_t n;

    do {
        n = read(rd->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n;
}

uint64_t cc_store_reader_size(const cc_store_reader_t *rd)
{
    return rd->size;
}

void cc_store_reader_close(cc_store_reader_t *rd)
{
    if (rd) {
        if (rd->fd >= 0) {
            close(rd->fd);
        }
        free(rd);
    }
}
