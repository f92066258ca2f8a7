/*
 * verify_local.c: the local verification provider, which needs nothing
 * outside this machine.
 *
 * Decoding hostile images and PDFs happens in a child process (this same
 * binary, re-executed as "cartevo-kycd --check-document TYPE") that first
 * limits itself (RLIMIT_AS, RLIMIT_CPU, no file writes, no new privileges)
 * and reads the document on stdin; the parent adds a wall-clock timeout.
 * A decoder bomb or crash thus costs one child, never the daemon. The
 * child reports measurements (one line); the rules are applied here:
 *   - the document-type rules (a back is required for NIN and
 *     DRIVERS_LICENSE; ignored for PASSPORT; optional for VOTERS_CARD);
 *   - every stored document decodes fully (UNREADABLE);
 *   - images are at least min_width x min_height in either orientation,
 *     from pixel dimensions only, whatever density metadata claims
 *     (LOW_RESOLUTION);
 *   - images are not blank: luma standard deviation >= blank_stddev
 *     (BLANK_IMAGE).
 * PDFs have no pixel size; they pass on structure (qpdf, no recovery).
 */
#include "kycd.h"

#include "cc_doc.h"
#include "cc_image.h"

#include <apr_strings.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_DOC_BYTES (10 * 1024 * 1024 + 1)

/* ---- the child --------------------------------------------------------- */

static int child_report(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int child_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    return 0;
}

int cc_verify_local_child(int argc, const char *const *argv)
{
    /* argv: prog --check-document TYPE MEMORY_MB CPU_SECONDS MAX_PIXELS */
    cc_image_limits_t lim;
    cc_image_stats_t st;
    cc_doc_type_t type;
    struct rlimit rl;
    unsigned char *buf;
    size_t len = 0;
    const char *why = NULL;
    int rc;

    if (argc != 6) {
        return 2;
    }
    type = !strcmp(argv[2], "jpeg")  ? CC_DOC_JPEG
           : !strcmp(argv[2], "png") ? CC_DOC_PNG
           : !strcmp(argv[2], "pdf") ? CC_DOC_PDF
                                     : CC_DOC_UNKNOWN;
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    rl.rlim_cur = rl.rlim_max = (rlim_t)strtoul(argv[3], NULL, 10) << 20;
    /* ASan reserves terabytes of address space up front: under it the
     * heap is what is limited (./dev test --sanitize). */
#ifdef __SANITIZE_ADDRESS__
    setrlimit(RLIMIT_DATA, &rl);
#else
    setrlimit(RLIMIT_AS, &rl);
#endif
    /* No process of its own: a decoder exploit cannot fork helpers that
     * outlive it. */
    rl.rlim_cur = rl.rlim_max = 0;
    setrlimit(RLIMIT_NPROC, &rl);
    rl.rlim_cur = (rlim_t)strtoul(argv[4], NULL, 10);
    rl.rlim_max = rl.rlim_cur + 1;
    setrlimit(RLIMIT_CPU, &rl);
    rl.rlim_cur = rl.rlim_max = 0;
    setrlimit(RLIMIT_FSIZE, &rl);
    setrlimit(RLIMIT_CORE, &rl);
    cc_image_limits_default(&lim);
    lim.max_pixels = strtoull(argv[5], NULL, 10);

    buf = malloc(MAX_DOC_BYTES);
    if (buf == NULL) {
        return 3;
    }
    for (;;) {
        ssize_t n = read(0, buf + len, MAX_DOC_BYTES - len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return 3;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
        if (len == MAX_DOC_BYTES) {
            return child_report("TOOLARGE file over 10 MiB\n");
        }
    }
    /* The stored type must also be what the bytes say. */
    if (cc_doc_sniff(buf, len) != type) {
        return child_report("UNREADABLE content does not match its type\n");
    }
    rc = cc_image_check(buf, len, type, &lim, &st, &why);
    if (rc == CC_IMAGE_OK) {
        return child_report("OK %u %u %.3f %u\n", st.width, st.height,
                            st.luma_stddev, st.pages);
    }
    return child_report("%s %s\n",
                        rc == CC_IMAGE_TOO_LARGE ? "TOOLARGE" : "UNREADABLE",
                        why ? why : "decoding failed");
}

/* ---- the parent -------------------------------------------------------- */

typedef struct {
    int ok;           /* decoded */
    int transient;    /* our side failed: retry, do not judge */
    unsigned w, h;
    double stddev;
    char why[96];
} check_t;

static const char *type_arg(const char *mime)
{
    if (!strcmp(mime, "image/jpeg")) {
        return "jpeg";
    }
    if (!strcmp(mime, "image/png")) {
        return "png";
    }
    if (!strcmp(mime, "application/pdf")) {
        return "pdf";
    }
    return NULL;
}

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The decoder's environment: empty, except the sanitizer runtime's
 * options, which it reads at start (./dev test --sanitize). Taken once
 * from the daemon's environment, which never changes after start. */
static char *decoder_envv[3];
static pthread_once_t decoder_env_once = PTHREAD_ONCE_INIT;

static void decoder_env_fill(void)
{
    static const char *const keep[] = { "ASAN_OPTIONS=", "UBSAN_OPTIONS=" };
    size_t i, k, n = 0;

    for (i = 0; environ[i] != NULL; i++) {
        for (k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
            if (strncmp(environ[i], keep[k], strlen(keep[k])) == 0 && n < 2) {
                decoder_envv[n++] = environ[i];
            }
        }
    }
    decoder_envv[n] = NULL;
}

static char **decoder_env(void)
{
    pthread_once(&decoder_env_once, decoder_env_fill);
    return decoder_envv;
}

/* Runs the child on one stored document; fills *c. */
static void check_document(cc_kycd_t *d, const cc_doc_row_t *doc,
                           check_t *c)
{
    const cc_kycd_cfg_t *cfg = d->cfg;
    char path[4096], mem[24], cpu[24], pix[32], out[256];
    const char *type = type_arg(doc->mime_type);
    char *argv[7];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t sa;
    sigset_t none, dfl;
    int pipefd[2] = { -1, -1 }, fd, status = 0, reaped = 0;
    size_t olen = 0;
    pid_t pid;
    double deadline;

    memset(c, 0, sizeof(*c));
    if (type == NULL) {
        snprintf(c->why, sizeof(c->why), "unsupported type");
        return;
    }
    snprintf(path, sizeof(path), "%s/%s", cfg->document_dir,
             doc->storage_name);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        c->transient = 1;
        snprintf(c->why, sizeof(c->why), "document file %s: %s",
                 doc->storage_name, strerror(errno));
        return;
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        close(fd);
        c->transient = 1;
        snprintf(c->why, sizeof(c->why), "pipe: %s", strerror(errno));
        return;
    }
    snprintf(mem, sizeof(mem), "%ld", cfg->decode_memory_mb);
    snprintf(cpu, sizeof(cpu), "%d", cfg->decode_cpu_seconds);
    snprintf(pix, sizeof(pix), "%llu", cfg->decode_max_pixels);
    argv[0] = (char *)"cartevo-kycd";
    argv[1] = (char *)"--check-document";
    argv[2] = (char *)type;
    argv[3] = mem;
    argv[4] = cpu;
    argv[5] = pix;
    argv[6] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    /* The daemon's threads block SIGTERM, SIGINT and SIGHUP (main.c takes
     * them with sigtimedwait) and ignore SIGPIPE; a decoder inheriting
     * that would shrug off a service stop's SIGTERM. */
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_init(&sa);
    posix_spawnattr_setsigmask(&sa, &none);
    posix_spawnattr_setsigdefault(&sa, &dfl);
    /* Its own process group, so a timeout kills whatever it became. */
    posix_spawnattr_setpgroup(&sa, 0);
    posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK
                                      | POSIX_SPAWN_SETSIGDEF
                                      | POSIX_SPAWN_SETPGROUP);
    /* /proc/self/exe: exactly this binary, wherever it was started from;
     * no environment but the sanitizer's settings. */
    if (posix_spawn(&pid, "/proc/self/exe", &fa, &sa, argv,
                    decoder_env()) != 0) {
        pid = -1;
    }
    posix_spawnattr_destroy(&sa);
    posix_spawn_file_actions_destroy(&fa);
    close(fd);
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        c->transient = 1;
        snprintf(c->why, sizeof(c->why), "cannot start the decoder");
        return;
    }
    deadline = mono_now() + cfg->decode_timeout;
    for (;;) {
        struct pollfd pfd = { pipefd[0], POLLIN, 0 };
        double left = deadline - mono_now();
        ssize_t n;

        if (left <= 0) {
            kill(-pid, SIGKILL);
            snprintf(c->why, sizeof(c->why), "decoder timed out");
            break;
        }
        if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0) {
            continue;
        }
        n = read(pipefd[0], out + olen, sizeof(out) - 1 - olen);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        olen += (size_t)n;
        if (olen == sizeof(out) - 1) {
            break;
        }
    }
    close(pipefd[0]);
    out[olen] = '\0';
    /* The end of its output is not the child's exit: a decoder that
     * closed stdout (or filled our buffer) and kept running must not hold
     * this worker past the wall-clock limit either. */
    while (c->why[0] == '\0') {
        pid_t r = waitpid(pid, &status, WNOHANG);
        struct timespec tick = { 0, 5000000 };

        if (r == pid || (r < 0 && errno != EINTR)) {
            reaped = r == pid;
            break;
        }
        if (mono_now() >= deadline) {
            kill(-pid, SIGKILL);
            snprintf(c->why, sizeof(c->why), "decoder timed out");
            break;
        }
        nanosleep(&tick, NULL);
    }
    while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (c->why[0] != '\0') {
        return; /* timed out: not readable within our limits */
    }
    if (WIFSIGNALED(status)) {
        /* Killed by a limit (SIGXCPU, SIGKILL) or crashed on the input. */
        snprintf(c->why, sizeof(c->why), "decoder died (signal %d)",
                 WTERMSIG(status));
        return;
    }
    if (sscanf(out, "OK %u %u %lf", &c->w, &c->h, &c->stddev) == 3) {
        c->ok = 1;
        return;
    }
    if (strncmp(out, "UNREADABLE ", 11) == 0
        || strncmp(out, "TOOLARGE ", 9) == 0) {
        snprintf(c->why, sizeof(c->why), "%.*s", (int)strcspn(out, "\n"),
                 out);
        return;
    }
    c->transient = 1;
    snprintf(c->why, sizeof(c->why), "decoder failed (exit %d)",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void reject(cc_verdict_t *v, const char *reason, const char *msg)
{
    v->kyc_status = "REJECTED";
    v->reason = reason;
    v->message = msg;
}

void cc_verdict_unreadable(cc_verdict_t *v, apr_pool_t *p, const char *side)
{
    reject(v, "UNREADABLE",
           apr_psprintf(p, "The %s of the identity document could not be "
                        "decoded", side));
}

void cc_verdict_low_resolution(cc_verdict_t *v, apr_pool_t *p,
                               const char *side, unsigned w, unsigned h,
                               unsigned min_w, unsigned min_h)
{
    reject(v, "LOW_RESOLUTION",
           apr_psprintf(p, "The %s image is %ux%u pixels; at least %ux%u "
                        "are required", side, w, h, min_w, min_h));
}

int cc_verify_local(cc_kycd_t *d, const cc_docs_t *docs, cc_verdict_t *v,
                    apr_pool_t *p, const char **why)
{
    const cc_kycd_cfg_t *cfg = d->cfg;
    const char *type = docs->id_document_type;
    int back_required = !strcmp(type, "NIN")
                        || !strcmp(type, "DRIVERS_LICENSE");
    int back_ignored = !strcmp(type, "PASSPORT");
    const cc_doc_row_t *front = NULL, *back = NULL;
    const cc_doc_row_t *check[2];
    int i, n = 0;

    for (i = 0; i < docs->ndocs; i++) {
        if (!strcmp(docs->docs[i].side, "front")) {
            front = &docs->docs[i];
        }
        else if (!strcmp(docs->docs[i].side, "back")) {
            back = &docs->docs[i];
        }
    }
    if (front == NULL) {
        reject(v, "DOCUMENT_FETCH_FAILED",
               "The front of the identity document is not available");
        return CC_VERIFY_DONE;
    }
    if (back_required && back == NULL) {
        reject(v, "MISSING_BACK",
               apr_psprintf(p, "The back of the %s is required but missing",
                            type));
        return CC_VERIFY_DONE;
    }
    check[n++] = front;
    if (back != NULL && !back_ignored) {
        check[n++] = back;
    }
    for (i = 0; i < n; i++) {
        const char *side = check[i] == front ? "front" : "back";
        int is_image = strcmp(check[i]->mime_type, "application/pdf") != 0;
        check_t c;

        check_document(d, check[i], &c);
        if (c.transient) {
            *why = apr_pstrdup(p, c.why);
            return CC_VERIFY_RETRY;
        }
        if (!c.ok) {
            cc_kycd_log(CC_LOG_INFO, "%s document unreadable: %s", side,
                        c.why);
            cc_verdict_unreadable(v, p, side);
            return CC_VERIFY_DONE;
        }
        if (is_image
            && !cc_doc_big_enough(c.w, c.h, cfg->min_width,
                                  cfg->min_height)) {
            cc_verdict_low_resolution(v, p, side, c.w, c.h, cfg->min_width,
                                      cfg->min_height);
            return CC_VERIFY_DONE;
        }
        if (is_image && c.stddev < cfg->blank_stddev) {
            reject(v, "BLANK_IMAGE",
                   apr_psprintf(p, "The %s image is blank or uniform",
                                side));
            return CC_VERIFY_DONE;
        }
    }
    v->kyc_status = "APPROVED";
    v->reason = NULL;
    v->message = NULL;
    return CC_VERIFY_DONE;
}
