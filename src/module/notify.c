/*
 * notify.c: the after-commit poke of the KYC daemon.
 *
 * Best effort with a short timeout: the job row is already committed and
 * the daemon sweeps for due jobs on start and on a timer, so a missing
 * daemon only delays work. That is why failure is a warning, not an error.
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

void cc_notify_daemon(request_rec *r, const char *job_id)
{
    const cc_srv_cfg_t *sc = cc_cfg_srv(r);
    struct sockaddr_un sa;
    char line[CC_WIRE_MAX_LINE + 2];
    struct pollfd pfd;
    int fd, n, timeout_ms;
    char *end;
    long long id = strtoll(job_id, &end, 10);
    apr_status_t rv = APR_SUCCESS;

    n = (*end == '\0') ? cc_wire_wake_encode(line, sizeof(line), id) : -1;
    if (n < 0 || strlen(sc->daemon_socket) >= sizeof(sa.sun_path)) {
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, sc->daemon_socket);
    timeout_ms = (int)apr_time_as_msec(sc->daemon_timeout);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (errno == EINPROGRESS || errno == EAGAIN) {
            pfd.fd = fd;
            pfd.events = POLLOUT;
            if (poll(&pfd, 1, timeout_ms) != 1) {
                rv = APR_TIMEUP;
            }
        }
        else {
            rv = APR_FROM_OS_ERROR(errno);
        }
    }
    if (rv == APR_SUCCESS && send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
        rv = errno ? APR_FROM_OS_ERROR(errno) : APR_EGENERAL;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, CCLOGNO(00701)
                      "KYC daemon not reachable at %s; job %s waits for its "
                      "next sweep", sc->daemon_socket, job_id);
    }
}
