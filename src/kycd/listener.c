/*
 * listener.c: the wake-up socket. httpd's children connect after commit
 * and send "CCWAKE/1 <job id>\n" (cc_wire.h); each valid line becomes a
 * queue item for the workers. The line is only a hint (the job row is the
 * truth), so a malformed line closes the connection and nothing else.
 *
 * The socket is created like mod_cgid's: under umask 077 so it is never
 * briefly open to everyone, then chown'ed to the shared service group and
 * chmod'ed 0660, so httpd's children can connect and nobody else can.
 */
#include "kycd.h"

#include "cc_wire.h"

#include <apr_time.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define CONN_TIMEOUT_MS 1000

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path)) {
        return -1;
    }
    strcpy(sa->sun_path, path);
    return 0;
}

int cc_listener_open(const cc_kycd_cfg_t *cfg)
{
    struct sockaddr_un sa;
    const char *gname = cfg->socket_group ? cfg->socket_group : cfg->group;
    struct stat st;
    mode_t old;
    int fd, probe, rc;

    if (fill_addr(&sa, cfg->socket_path) != 0) {
        cc_kycd_log(CC_LOG_ERR, "socket path too long: %s", cfg->socket_path);
        return -1;
    }
    /* A live daemon on this path must not be displaced; a stale socket
     * from a crash (kill -9) is removed. Anything else there is a
     * misconfiguration that root must not delete. */
    if (lstat(cfg->socket_path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            cc_kycd_log(CC_LOG_ERR, "%s exists and is not a socket",
                        cfg->socket_path);
            return -1;
        }
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0) {
            rc = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
            close(probe);
            if (rc == 0) {
                cc_kycd_log(CC_LOG_ERR, "another daemon listens on %s",
                            cfg->socket_path);
                return -1;
            }
        }
        unlink(cfg->socket_path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        cc_kycd_log(CC_LOG_ERR, "socket: %s", strerror(errno));
        return -1;
    }
    old = umask(077);
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc != 0 || listen(fd, 128) != 0) {
        cc_kycd_log(CC_LOG_ERR, "cannot listen on %s: %s", cfg->socket_path,
                    strerror(errno));
        close(fd);
        return -1;
    }
    /* By path, as root, in a directory the service user may write: never
     * through a symlink swapped in after bind(), or root would hand some
     * other file to the group with mode 0660. */
    if (gname != NULL) {
        struct group *gr = getgrnam(gname);

        if (gr == NULL
            || fchownat(AT_FDCWD, cfg->socket_path, (uid_t)-1, gr->gr_gid,
                        AT_SYMLINK_NOFOLLOW)
                   != 0) {
            cc_kycd_log(CC_LOG_ERR, "cannot give %s to group %s: %s",
                        cfg->socket_path, gname,
                        gr ? strerror(errno) : "no such group");
            close(fd);
            return -1;
        }
    }
    if (fchmodat(AT_FDCWD, cfg->socket_path, 0660, AT_SYMLINK_NOFOLLOW)
        != 0) {
        cc_kycd_log(CC_LOG_ERR, "chmod %s: %s", cfg->socket_path,
                    strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

typedef struct {
    int fd;
    size_t len;
    apr_time_t deadline;
    char buf[CC_WIRE_MAX_LINE + 2];
} conn_t;

static void conn_close(conn_t *c)
{
    close(c->fd);
    c->fd = -1;
}

/* Reads what is there; each complete line is decoded and queued. Closes
 * on EOF, an error, a bad line or an overlong one. */
static void conn_read(cc_kycd_t *d, conn_t *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
        char *nl;

        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
            conn_close(c);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN) {
                return;
            }
            continue;
        }
        c->len += (size_t)n;
        while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
            size_t line = (size_t)(nl - c->buf) + 1;
            long long id;

            if (cc_wire_wake_decode(c->buf, line, &id) != 0) {
                cc_kycd_log(CC_LOG_WARN, "ignored a malformed wake-up line");
                conn_close(c);
                return;
            }
            cc_kycd_log(CC_LOG_DEBUG, "poke for job %lld", id);
            cc_kycd_enqueue(d, id);
            memmove(c->buf, c->buf + line, c->len - line);
            c->len -= line;
        }
        if (c->len == sizeof(c->buf)) {
            cc_kycd_log(CC_LOG_WARN, "ignored an overlong wake-up line");
            conn_close(c);
            return;
        }
    }
}

void *APR_THREAD_FUNC cc_listener_thread(apr_thread_t *t, void *data)
{
    cc_kycd_t *d = data;
    conn_t conns[MAX_CONNS];
    struct pollfd pfd[MAX_CONNS + 1];
    int i, n;

    for (i = 0; i < MAX_CONNS; i++) {
        conns[i].fd = -1;
    }
    while (!d->stopping) {
        apr_time_t now = cc_kycd_mono_us();
        int idx[MAX_CONNS + 1];

        n = 0;
        pfd[n].fd = d->listen_fd;
        pfd[n].events = POLLIN;
        idx[n++] = -1;
        for (i = 0; i < MAX_CONNS; i++) {
            if (conns[i].fd < 0) {
                continue;
            }
            if (now > conns[i].deadline) {
                conn_close(&conns[i]);
                continue;
            }
            pfd[n].fd = conns[i].fd;
            pfd[n].events = POLLIN;
            idx[n++] = i;
        }
        /* A short timeout so a stop request is seen promptly. */
        if (poll(pfd, (nfds_t)n, 200) <= 0) {
            continue;
        }
        for (i = 1; i < n; i++) {
            if (pfd[i].revents) {
                conn_read(d, &conns[idx[i]]);
            }
        }
        if (pfd[0].revents & POLLIN) {
            int fd;

            while ((fd = accept4(d->listen_fd, NULL, NULL,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                for (i = 0; i < MAX_CONNS && conns[i].fd >= 0; i++) {
                }
                if (i == MAX_CONNS) {
                    close(fd); /* too many at once: the sweep covers it */
                    continue;
                }
                conns[i].fd = fd;
                conns[i].len = 0;
                conns[i].deadline = cc_kycd_mono_us()
                                    + apr_time_from_msec(CONN_TIMEOUT_MS);
                conn_read(d, &conns[i]);
            }
        }
    }
    for (i = 0; i < MAX_CONNS; i++) {
        if (conns[i].fd >= 0) {
            conn_close(&conns[i]);
        }
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}
