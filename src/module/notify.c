/*
 * notify.c: the after-commit poke of the KYC daemon.
 *
 * Best effort with a short timeout: the job row is already committed and
 * the daemon sweeps for due jobs on start and on a timer, so a missing
 * daemon only delays work. That is why failure is a warning, not an error,
 * and one a minute per process at most: with the daemon stopped every
 * create would otherwise add a line (and a write) to the error log; the
 * rest go to debug.
 */
#include "cc_mod.h"
#include "cc_wire.h"

#include "apr_network_io.h"
#include "apr_strings.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

APLOG_USE_MODULE(cartevo_customers);

/* Connects within budget_ms. On a Unix socket EAGAIN means the daemon's
 * backlog is full (it is busy accepting), not "in progress": try again
 * with short naps until the budget is spent. ENOENT and ECONNREFUSED (no
 * daemon) fail at once. */
static apr_status_t connect_within(int fd, const struct sockaddr_un *sa,
                                   int budget_ms)
{
    apr_time_t end = apr_time_now() + apr_time_from_msec(budget_ms);
    apr_interval_time_t nap = apr_time_from_msec(2);
    struct pollfd pfd;

    for (;;) {
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
            return APR_SUCCESS;
        }
        if (errno == EINPROGRESS) {
            pfd.fd = fd;
            pfd.events = POLLOUT;
            return poll(&pfd, 1, budget_ms) == 1 ? APR_SUCCESS : APR_TIMEUP;
        }
        if (errno != EAGAIN) {
            return APR_FROM_OS_ERROR(errno);
        }
        if (apr_time_now() + nap > end) {
            return APR_TIMEUP;
        }
        apr_sleep(nap);
        nap = nap * 2 > apr_time_from_msec(20) ? apr_time_from_msec(20)
                                              : nap * 2;
    }
}

/* When this process last warned; shared by its threads. */
static cc_log_slot_t last_warning;

void cc_notify_daemon(request_rec *r, const char *job_id)
{
    const cc_srv_cfg_t *sc = cc_cfg_srv(r);
    struct sockaddr_un sa;
    char line[CC_WIRE_MAX_LINE + 2];
    int fd, n;
    char *end;
    long long id = strtoll(job_id, &end, 10);
    apr_status_t rv = APR_SUCCESS;
    int level;

    n = (*end == '\0') ? cc_wire_wake_encode(line, sizeof(line), id) : -1;
    if (n < 0 || strlen(sc->daemon_socket) >= sizeof(sa.sun_path)) {
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, sc->daemon_socket);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    rv = fd < 0 ? APR_FROM_OS_ERROR(errno)
                : connect_within(fd, &sa,
                                 (int)apr_time_as_msec(sc->daemon_timeout));
    if (rv == APR_SUCCESS && send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
        rv = errno ? APR_FROM_OS_ERROR(errno) : APR_EGENERAL;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (rv != APR_SUCCESS) {
        level = cc_log_minutely(&last_warning, APLOG_WARNING);
        ap_log_rerror(APLOG_MARK, level, rv, r, CCLOGNO(00701)
                      "KYC daemon not reachable at %s; job %s waits for its "
                      "next sweep", sc->daemon_socket, job_id);
    }
}
