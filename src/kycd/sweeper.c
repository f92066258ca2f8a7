/*
 * sweeper.c: removes document files that no row references, and
 * idempotency keys older than 24 hours (the contract keeps them at least
 * that long).
 *
 * The module makes a file durable under its final name before the
 * transaction that references it commits; a crash in between leaves an
 * orphan, and so can an interrupted spool (".tmp-*"). A file is removed
 * only when it is older than orphan_min_age (longer than any request can
 * take, so a file whose transaction is still in flight is never touched)
 * and no customer_documents row names it. Other names are left alone.
 * Age is judged against the directory's clock, not this node's.
 */
#include "kycd.h"

#include "cc_crypto.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROBE_PREFIX ".clock-probe-"

static int is_ours(const char *name)
{
    size_t i, n = strlen(name);

    /* A probe left by a daemon that died before removing it is swept
     * like a spool. */
    if (strncmp(name, ".tmp-", 5) == 0
        || strncmp(name, PROBE_PREFIX, strlen(PROBE_PREFIX)) == 0) {
        return 1;
    }
    if (n != 32) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!((name[i] >= '0' && name[i] <= '9')
              || (name[i] >= 'a' && name[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* The directory's clock (decisions.md 1): the mtime the file system
 * stamps on a probe written there now. On a share several nodes mount,
 * the server stamps files with its own clock, so a node whose clock runs
 * ahead cannot make a fresh file look old. 0, or -1 (errno). */
static int dir_clock(int dfd, time_t *now)
{
    char name[40];
    struct stat st;
    int fd, rc, saved;

    snprintf(name, sizeof(name), PROBE_PREFIX "%08x",
             cc_crypto_random_u32());
    fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC
                | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return -1;
    }
    rc = fstat(fd, &st);
    saved = errno;
    close(fd);
    unlinkat(dfd, name, 0);
    if (rc != 0) {
        errno = saved;
        return -1;
    }
    *now = st.st_mtime;
    return 0;
}

static void sweep(cc_kycd_t *d, PGconn *conn)
{
    DIR *dir = opendir(d->cfg->document_dir);
    struct dirent *e;
    time_t now;
    int removed = 0;

    if (dir == NULL) {
        cc_kycd_log(CC_LOG_WARN, "sweeper: cannot open %s: %s",
                    d->cfg->document_dir, strerror(errno));
        return;
    }
    /* Without the directory's clock nothing is judged old: this node's
     * own clock may be the one that is wrong. */
    if (dir_clock(dirfd(dir), &now) != 0) {
        cc_kycd_log(CC_LOG_WARN, "sweeper: cannot write a clock probe in "
                    "%s (%s); orphans are not swept",
                    d->cfg->document_dir, strerror(errno));
        closedir(dir);
        return;
    }
    while (!d->stopping && (e = readdir(dir)) != NULL) {
        struct stat st;

        if (!is_ours(e->d_name)
            || fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
            || !S_ISREG(st.st_mode)
            || difftime(now, st.st_mtime) < d->cfg->orphan_min_age) {
            continue;
        }
        if (e->d_name[0] != '.') {
            const char *v[1] = { e->d_name };
            PGresult *r = cc_db_exec(conn, "sweeper lookup",
                                     "SELECT 1 FROM customer_documents"
                                     " WHERE storage_name = $1",
                                     1, v);

            if (r == NULL) {
                break;
            }
            if (PQntuples(r) > 0) {
                PQclear(r);
                continue;
            }
            PQclear(r);
        }
        if (unlinkat(dirfd(dir), e->d_name, 0) == 0) {
            removed++;
        }
    }
    closedir(dir);
    if (removed > 0) {
        cc_kycd_log(CC_LOG_INFO, "sweeper: removed %d orphaned file(s)",
                    removed);
    }
}

/* Deletes expired idempotency keys in batches, so no statement holds many
 * row locks or runs long; rows another transaction holds are skipped
 * (the next pass takes them). */
static void purge_idempotency_keys(cc_kycd_t *d, PGconn *conn)
{
    long n, total = 0;

    do {
        PGresult *r = cc_db_exec(conn, "purge idempotency keys",
                                 "DELETE FROM idempotency_keys"
                                 " WHERE ctid IN (SELECT ctid"
                                 " FROM idempotency_keys"
                                 " WHERE created_at < now()"
                                 "   - interval '24 hours'"
                                 " LIMIT 1000 FOR UPDATE SKIP LOCKED)",
                                 0, NULL);

        if (r == NULL) {
            return;
        }
        n = cc_db_affected(r);
        total += n;
        PQclear(r);
    } while (n == 1000 && !d->stopping);
    if (total > 0) {
        cc_kycd_log(CC_LOG_INFO, "sweeper: removed %ld idempotency key(s) "
                    "older than 24 hours", total);
    }
}

void *APR_THREAD_FUNC cc_sweeper_thread(apr_thread_t *t, void *data)
{
    cc_kycd_t *d = data;
    PGconn *conn = NULL;
    struct timespec next, now;

    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!d->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec >= next.tv_sec) {
            if (cc_db_ensure(&conn, d->cfg, "cartevo-kycd sweeper") == 0) {
                sweep(d, conn);
                purge_idempotency_keys(d, conn);
            }
            next.tv_sec = now.tv_sec + (time_t)d->cfg->orphan_sweep_interval;
            if (d->cfg->orphan_sweep_interval < 1) {
                next.tv_sec = now.tv_sec + 1;
            }
        }
        cc_kycd_nap(d, 1.0);
    }
    if (conn) {
        PQfinish(conn);
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}
