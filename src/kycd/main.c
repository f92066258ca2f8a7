/*
 * main.c: cartevo-kycd start-up and shutdown.
 *
 * Order matters: secrets (API key files) are read and the socket is bound
 * while still root, then privileges are dropped to the service user, and
 * only then are threads started. Signals are blocked in every thread and
 * taken synchronously here with sigtimedwait, which also paces the sweep
 * for due jobs. SIGTERM stops accepting pokes (the socket goes at once),
 * lets each worker finish the job it holds, and releases any lease still
 * held, so another daemon (or the next start) picks the work up at once.
 */
#include "kycd.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include <curl/curl.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cc_crypto.h"

#define QUEUE_CAPACITY 4096

/* Microseconds on CLOCK_MONOTONIC: intervals measured on the wall clock
 * (apr_time_now) stretch or vanish when the clock is stepped. */
apr_time_t cc_kycd_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int log_to_syslog;
/* Written by a reload while other threads log. */
static _Atomic int log_debug;

void cc_kycd_set_debug(int on)
{
    log_debug = on;
}

void cc_kycd_log(int level, const char *fmt, ...)
{
    static const char *const names[8] = { "emerg", "alert", "crit", "error",
                                          "warn", "notice", "info",
                                          "debug" };
    char msg[1024], ts[40];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (level == CC_LOG_DEBUG && !log_debug) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_to_syslog) {
        syslog(level, "%s", msg);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ cartevo-kycd[%ld] %s: %s\n", ts,
            now.tv_nsec / 1000000, (long)getpid(), names[level & 7], msg);
}

void cc_kycd_enqueue(cc_kycd_t *d, long long job_id)
{
    cc_kycd_item_t *it = malloc(sizeof(*it));

    if (it == NULL) {
        return;
    }
    it->job_id = job_id;
    if (apr_queue_trypush(d->queue, it) != APR_SUCCESS) {
        free(it); /* full or terminated: the sweep finds the job */
    }
}

void cc_kycd_webhooks_kick(cc_kycd_t *d)
{
    pthread_mutex_lock(&d->wh_mutex);
    d->wh_kicked = 1;
    pthread_cond_broadcast(&d->wh_cond);
    pthread_mutex_unlock(&d->wh_mutex);
}

/* Waits on wh_cond (wh_mutex held) for up to seconds of CLOCK_MONOTONIC,
 * the clock the condition was created with. */
static void wh_timedwait(cc_kycd_t *d, double seconds)
{
    struct timespec ts;
    long long ns;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ns = (long long)ts.tv_nsec + (long long)(seconds * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    pthread_cond_timedwait(&d->wh_cond, &d->wh_mutex, &ts);
}

int cc_kycd_webhooks_wait(cc_kycd_t *d, double seconds)
{
    pthread_mutex_lock(&d->wh_mutex);
    if (!d->stopping && !d->wh_kicked) {
        wh_timedwait(d, seconds);
    }
    d->wh_kicked = 0;
    pthread_mutex_unlock(&d->wh_mutex);
    return d->stopping;
}

void cc_kycd_deliveries_announce(cc_kycd_t *d)
{
    pthread_mutex_lock(&d->wh_mutex);
    d->wh_generation++;
    /* Broadcast: every idle delivery thread claims, so a batch of new
     * deliveries is sent in parallel. */
    pthread_cond_broadcast(&d->wh_cond);
    pthread_mutex_unlock(&d->wh_mutex);
}

int cc_kycd_deliveries_wait(cc_kycd_t *d, double seconds, unsigned *seen)
{
    /* One wait, not a loop: an early return (a kick or a nap's wake-up on
     * the same condition) costs one claim query, which finds nothing. */
    pthread_mutex_lock(&d->wh_mutex);
    if (!d->stopping && d->wh_generation == *seen) {
        wh_timedwait(d, seconds);
    }
    *seen = d->wh_generation;
    pthread_mutex_unlock(&d->wh_mutex);
    return d->stopping;
}

int cc_kycd_nap(cc_kycd_t *d, double seconds)
{
    /* The same condition (shutdown broadcasts it), but wh_kicked is left
     * alone: a kick consumed here would be lost to the dispatcher. */
    pthread_mutex_lock(&d->wh_mutex);
    if (!d->stopping) {
        wh_timedwait(d, seconds);
    }
    pthread_mutex_unlock(&d->wh_mutex);
    return d->stopping;
}

char *cc_kycd_read_secret(const char *path)
{
    char buf[4096];
    size_t n;
    FILE *f = fopen(path, "re");

    if (f == NULL) {
        cc_kycd_log(CC_LOG_ERR, "cannot read key file %s: %s", path,
                    strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (buf[0] == '\0') {
        cc_kycd_log(CC_LOG_ERR, "key file %s is empty", path);
        return NULL;
    }
    return strdup(buf);
}

/* Drops root for the configured user (and its groups, so the service
 * group that shares the socket and documents with httpd is kept). */
static int drop_privileges(const cc_kycd_cfg_t *cfg)
{
    struct passwd *pw;
    gid_t gid;

    if (geteuid() != 0) {
        return 0;
    }
    if (cfg->user == NULL) {
        cc_kycd_log(CC_LOG_WARN, "running as root: set user (and group)");
        return 0;
    }
    pw = getpwnam(cfg->user);
    if (pw == NULL) {
        cc_kycd_log(CC_LOG_ERR, "no user %s", cfg->user);
        return -1;
    }
    gid = pw->pw_gid;
    if (cfg->group != NULL) {
        struct group *gr = getgrnam(cfg->group);

        if (gr == NULL) {
            cc_kycd_log(CC_LOG_ERR, "no group %s", cfg->group);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if (initgroups(cfg->user, gid) != 0 || setgid(gid) != 0
        || setuid(pw->pw_uid) != 0) {
        cc_kycd_log(CC_LOG_ERR, "cannot drop privileges to %s: %s",
                    cfg->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        cc_kycd_log(CC_LOG_ERR, "privileges were not dropped");
        return -1;
    }
    return 0;
}

/* A lease is not renewed while a phase runs, so a lease shorter than a
 * phase can take lets another worker re-claim a job still in progress:
 * the outcome stays exactly-once (jobs.c), but the provider is called
 * again and the first worker's work is thrown away. */
void cc_kycd_warn_short_lease(const cc_kycd_cfg_t *cfg)
{
    double verify = strcmp(cfg->verify_provider, "http") == 0
                        ? cfg->verify_timeout
                        : 2.0 * cfg->decode_timeout; /* front and back */
    double enroll = strcmp(cfg->enroll_provider, "http") == 0
                        ? cfg->issuer_timeout
                        : 0;
    double fetch = 2.0 * cfg->fetch_timeout; /* front and back */
    double phase = verify > enroll ? verify : enroll;

    if (fetch > phase) {
        phase = fetch;
    }

    if (cfg->lease_seconds <= phase) {
        cc_kycd_log(CC_LOG_WARN, "lease_seconds %d is not longer than a "
                    "job phase may take (%.0f s): running jobs may be "
                    "re-claimed and their provider calls repeated",
                    cfg->lease_seconds, phase);
    }
}

static int daemonize(void)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0) {
        return -1;
    }
    if (pid > 0) {
        _exit(0);
    }
    setsid();
    if (chdir("/") != 0) {
        return -1;
    }
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2) {
            close(fd);
        }
    }
    openlog("cartevo-kycd", LOG_PID, LOG_DAEMON);
    log_to_syslog = 1;
    return 0;
}

static void sweep_now(cc_kycd_t *d)
{
    int i;

    /* One "any" token per worker: each claims due jobs until none is
     * left, so a backlog is worked in parallel. */
    for (i = 0; i < d->cfg->workers; i++) {
        cc_kycd_enqueue(d, 0);
    }
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    cc_kycd_cfg_t *cfg;
    cc_kycd_t *d;
    apr_thread_t **workers, **deliveries, *listener, *webhooks, *sweeper;
    apr_threadattr_t *attr;
    apr_status_t rv;
    pthread_condattr_t cattr;
    sigset_t set;
    char host[64], rnd[9];
    int i, rc;
    apr_time_t next_sweep;
    PGconn *conn;

    if (argc >= 2 && strcmp(argv[1], "--check-document") == 0) {
        return cc_decoder_child(argc, (const char *const *)argv);
    }
    umask(027);
    /* Signals are for the main loop only, from the start (a reload sent
     * while it starts must not kill it); threads inherit the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        fputs("cartevo-kycd: APR initialisation failed\n", stderr);
        return 1;
    }
    cfg = apr_pcalloc(pool, sizeof(*cfg));
    rc = cc_kycd_config_load(cfg, pool, argc, (const char *const *)argv);
    if (rc != 0) {
        return rc > 0 ? 0 : 2;
    }
    log_debug = cfg->log_debug;
    cc_kycd_warn_short_lease(cfg);
    d = apr_pcalloc(pool, sizeof(*d));
    d->cfg = cfg;
    d->pool = pool;
    if (cfg->verify_api_key_file != NULL
        && (d->verify_api_key = cc_kycd_read_secret(cfg->verify_api_key_file))
               == NULL) {
        return 1;
    }
    if (cfg->issuer_api_key_file != NULL
        && (d->issuer_api_key = cc_kycd_read_secret(cfg->issuer_api_key_file))
               == NULL) {
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        cc_kycd_log(CC_LOG_ERR, "libcurl initialisation failed");
        return 1;
    }
    d->listen_fd = cc_listener_open(cfg);
    if (d->listen_fd < 0) {
        return 1;
    }
    if (!cfg->foreground && daemonize() != 0) {
        cc_kycd_log(CC_LOG_ERR, "cannot daemonize");
        return 1;
    }
    if (drop_privileges(cfg) != 0) {
        return 1;
    }
    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    if (cc_crypto_random_hex(rnd, 4) != 0) {
        return 1;
    }
    snprintf(d->owner, sizeof(d->owner), "%s:%ld:%s", host, (long)getpid(),
             rnd);

    /* Its metrics address is a configuration error at start, before any
     * thread or lease exists. */
    if (cc_metrics_start(cfg) != 0) {
        return 1;
    }
    if ((rv = apr_queue_create(&d->queue, QUEUE_CAPACITY, pool))
            != APR_SUCCESS
        || (rv = apr_threadattr_create(&attr, pool)) != APR_SUCCESS
        || (rv = pthread_condattr_init(&cattr)) != 0
        || (rv = pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC)) != 0
        || (rv = pthread_cond_init(&d->wh_cond, &cattr)) != 0
        || (rv = pthread_mutex_init(&d->wh_mutex, NULL)) != 0) {
        cc_kycd_log(CC_LOG_ERR, "cannot create queue or locks (%d)", rv);
        return 1;
    }
    pthread_condattr_destroy(&cattr);
    workers = apr_pcalloc(pool, sizeof(*workers) * (size_t)cfg->workers);
    for (i = 0; i < cfg->workers; i++) {
        if (apr_thread_create(&workers[i], attr, cc_worker_thread, d, pool)
            != APR_SUCCESS) {
            cc_kycd_log(CC_LOG_ERR, "cannot start worker threads");
            return 1;
        }
    }
    deliveries = apr_pcalloc(pool, sizeof(*deliveries)
                                       * (size_t)cfg->webhook_workers);
    for (i = 0; i < cfg->webhook_workers; i++) {
        if (apr_thread_create(&deliveries[i], attr, cc_deliveries_thread, d,
                              pool)
            != APR_SUCCESS) {
            cc_kycd_log(CC_LOG_ERR, "cannot start webhook delivery threads");
            return 1;
        }
    }
    if (apr_thread_create(&listener, attr, cc_listener_thread, d, pool)
            != APR_SUCCESS
        || apr_thread_create(&webhooks, attr, cc_webhooks_thread, d, pool)
               != APR_SUCCESS
        || apr_thread_create(&sweeper, attr, cc_sweeper_thread, d, pool)
               != APR_SUCCESS) {
        cc_kycd_log(CC_LOG_ERR, "cannot start threads");
        return 1;
    }
    if (cfg->targets->n > 0) {
        cc_kycd_log(CC_LOG_WARN, "allow_targets exempts %d target(s) from "
                    "the https and address rules: for development and "
                    "tests only", cfg->targets->n);
    }
    cc_kycd_log(CC_LOG_INFO, "started: %d workers, %d webhook workers, "
                "socket %s, verify=%s, enroll=%s, owner %s", cfg->workers,
                cfg->webhook_workers, cfg->socket_path,
                cfg->verify_provider, cfg->enroll_provider, d->owner);

    /* The start-up sweep: whatever a previous run left behind. */
    sweep_now(d);
    next_sweep = cc_kycd_mono_us()
                 + (apr_interval_time_t)(cfg->sweep_interval * 1e6);
    while (!d->stopping) {
        apr_interval_time_t left = next_sweep - cc_kycd_mono_us();
        struct timespec ts;
        int sig;

        if (left <= 0) {
            sweep_now(d);
            next_sweep = cc_kycd_mono_us()
                         + (apr_interval_time_t)(cfg->sweep_interval * 1e6);
            continue;
        }
        ts.tv_sec = (time_t)(left / 1000000);
        ts.tv_nsec = (long)(left % 1000000) * 1000;
        sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            cc_kycd_log(CC_LOG_INFO, "signal %d: finishing in-flight jobs",
                        sig);
            d->stopping = 1;
        }
        else if (sig == SIGHUP) {
            cc_kycd_reload(d, argc, (const char *const *)argv);
            cfg = d->cfg;
        }
    }

    /* Shutdown: wake everyone, let workers finish what they hold. */
    apr_queue_term(d->queue);
    pthread_mutex_lock(&d->wh_mutex);
    pthread_cond_broadcast(&d->wh_cond);
    pthread_mutex_unlock(&d->wh_mutex);
    apr_thread_join(&rv, listener);
    /* Stop listening before the drain, not after: pokes fail fast instead
     * of queueing unread, a replacement can start on the path meanwhile,
     * and the unlink cannot remove the replacement's socket (the path is
     * still ours while it is bound and listening). */
    unlink(cfg->socket_path);
    close(d->listen_fd);
    /* Its metrics address too, for the same replacement. */
    cc_metrics_stop();
    for (i = 0; i < cfg->workers; i++) {
        apr_thread_join(&rv, workers[i]);
    }
    /* Each delivery thread finishes the attempt it is sending (at most
     * webhook_timeout) and records it, which releases that lease. */
    for (i = 0; i < cfg->webhook_workers; i++) {
        apr_thread_join(&rv, deliveries[i]);
    }
    apr_thread_join(&rv, webhooks);
    apr_thread_join(&rv, sweeper);
    conn = cc_db_connect(cfg, "cartevo-kycd");
    if (conn != NULL) {
        cc_jobs_release_all(conn, d);
        PQfinish(conn);
    }
    cc_kycd_log(CC_LOG_INFO, "stopped");
    curl_global_cleanup();
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
