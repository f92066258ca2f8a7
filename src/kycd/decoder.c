/*
 * decoder.c: the process that decodes one hostile document, and the
 * daemon's side of running it (decisions.md 2).
 *
 * The decoder is this same binary, exec'd as "cartevo-kycd
 * --check-document TYPE MEMORY_MB CPU_SECONDS MAX_PIXELS DAEMON_PID"
 * (never a bare fork, so it holds no connection, key or heap of the
 * daemon), with no environment (but a sanitizer's options in a test
 * build), the document on stdin, its verdict line on stdout, stderr to a
 * capped pipe, a session and process group of its own, death with the
 * daemon, and the seccomp allow-list of sandbox.c entered before it reads
 * a byte. The daemon adds a wall-clock limit and kills the whole group
 * when it passes. A decoder bomb, crash or exploit thus costs one
 * child and reaches no file, socket, process or database.
 */
#include "kycd.h"

#include "cc_doc.h"
#include "cc_image.h"
#include "sandbox.h"

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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_DOC_BYTES (10 * 1024 * 1024 + 1)
/* How much of a decoder's stderr the daemon reads (and counts; the bytes
 * are never logged, they may echo the document). The libraries are
 * silenced (cc_image.c), so anything there is a crash message or worse;
 * past the cap the pipe is closed and the next write kills the writer
 * (SIGPIPE), so a decoder cannot keep a worker busy with its noise. */
#define STDERR_CAP 1024
#define EXIT_SANDBOX 4 /* the child could not confine itself */

/* ---- the child --------------------------------------------------------- */

/* One line on stdout by write(2): stdio would first fstat the descriptor,
 * a call the allow-list does not have. */
static int child_report(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int child_report(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line)) {
        return 3;
    }
    return write(1, line, (size_t)n) == n ? 0 : 3;
}

/* Reads stdin to its end or one byte past the 10 MiB limit. */
static int child_read(unsigned char *buf, size_t *len)
{
    *len = 0;
    for (;;) {
        ssize_t n = read(0, buf + *len, MAX_DOC_BYTES - *len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0 || (*len += (size_t)n) == MAX_DOC_BYTES) {
            return 0;
        }
    }
}

int cc_decoder_child(int argc, const char *const *argv)
{
    /* argv: prog --check-document TYPE MEMORY_MB CPU_SECONDS MAX_PIXELS
     *       DAEMON_PID */
    cc_sandbox_limits_t box;
    cc_image_limits_t lim;
    cc_image_stats_t st;
    cc_doc_type_t type;
    unsigned char *buf;
    size_t len;
    const char *why = NULL;
    int rc;

    if (argc != 7) {
        return 2;
    }
    /* The wall-clock limit lives in the daemon: if it dies, so does this
     * (a decoder asleep in a futex uses no CPU time). Checked after the
     * request, in case the daemon died before it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0
        || getppid() != (pid_t)strtol(argv[6], NULL, 10)) {
        return EXIT_SANDBOX;
    }
    type = !strcmp(argv[2], "jpeg")  ? CC_DOC_JPEG
           : !strcmp(argv[2], "png") ? CC_DOC_PNG
           : !strcmp(argv[2], "pdf") ? CC_DOC_PDF
                                     : CC_DOC_UNKNOWN;
    box.memory_mb = strtoul(argv[3], NULL, 10);
    box.cpu_seconds = strtoul(argv[4], NULL, 10);
    cc_image_limits_default(&lim);
    lim.max_pixels = strtoull(argv[5], NULL, 10);
    buf = malloc(MAX_DOC_BYTES);
    if (buf == NULL) {
        return 3;
    }
    if (cc_sandbox_enter(&box) != 0) {
        return EXIT_SANDBOX;
    }
    if (child_read(buf, &len) != 0) {
        return 3;
    }
    if (len == MAX_DOC_BYTES) {
        return child_report("TOOLARGE file over 10 MiB\n");
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

/* ---- the daemon's side ------------------------------------------------- */

/* One running decoder: its pid, the read ends of its stdout and stderr,
 * what came back, and the wall-clock deadline. */
typedef struct {
    pid_t pid;
    int out, err;
    char line[256];
    size_t olen;
    size_t elen; /* every stderr byte, kept or drained */
    double deadline;
    int timed_out;
    int status;
} run_t;

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

/* Signals as a fresh process has them, a session of its own (so its own
 * process group, which a timeout kills whatever it became, and no
 * controlling terminal), and exactly three descriptors. The daemon's
 * threads block SIGTERM, SIGINT and SIGHUP (main.c takes them with
 * sigtimedwait) and ignore SIGPIPE; a decoder inheriting that would shrug
 * off a service stop's SIGTERM. */
static int spawn(char *const *argv, int in, int out, int err, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t sa;
    sigset_t none, dfl;
    int rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in, 0);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    posix_spawn_file_actions_adddup2(&fa, err, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigemptyset(&none);
    sigfillset(&dfl);
    posix_spawnattr_init(&sa);
    posix_spawnattr_setsigmask(&sa, &none);
    posix_spawnattr_setsigdefault(&sa, &dfl);
    posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK
                                      | POSIX_SPAWN_SETSIGDEF
                                      | POSIX_SPAWN_SETSID);
    /* /proc/self/exe: exactly this binary, wherever it was started from. */
    rc = posix_spawn(pid, "/proc/self/exe", &fa, &sa, argv, decoder_env());
    posix_spawnattr_destroy(&sa);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Starts the decoder on an open document; fills run's pid and pipes. */
static int start(const cc_kycd_cfg_t *cfg, const char *type, int fd,
                 run_t *run, char *why, size_t whylen)
{
    char mem[24], cpu[24], pix[32], parent[24];
    char *argv[] = { (char *)"cartevo-kycd", (char *)"--check-document",
                     (char *)type, mem, cpu, pix, parent, NULL };
    int po[2], pe[2], rc;

    if (pipe2(po, O_CLOEXEC) != 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(pe, O_CLOEXEC) != 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        close(po[0]);
        close(po[1]);
        return -1;
    }
    snprintf(mem, sizeof(mem), "%ld", cfg->decode_memory_mb);
    snprintf(cpu, sizeof(cpu), "%d", cfg->decode_cpu_seconds);
    snprintf(pix, sizeof(pix), "%llu", cfg->decode_max_pixels);
    snprintf(parent, sizeof(parent), "%ld", (long)getpid());
    rc = spawn(argv, fd, po[1], pe[1], &run->pid);
    close(po[1]);
    close(pe[1]);
    run->out = po[0];
    run->err = pe[0];
    if (rc != 0) {
        close(run->out);
        close(run->err);
        snprintf(why, whylen, "cannot start the decoder: %s", strerror(rc));
        return -1;
    }
    run->deadline = mono_now() + cfg->decode_timeout;
    return 0;
}

/* Reads what one pipe has: the verdict line into run->line (up to its
 * size), stderr counted and dropped up to its cap. Returns 0 when the
 * pipe is done with (its end, or a cap reached), 1 for more. */
static int drain(run_t *run, int fd)
{
    char junk[512];
    char *dst = fd == run->out ? run->line + run->olen : junk;
    size_t room = fd == run->out ? sizeof(run->line) - 1 - run->olen
                                 : sizeof(junk);
    ssize_t n;

    /* Longer than any verdict we print, or stderr's cap: each pipe
     * closes on its own limit, and the verdict still arrives. */
    if (fd == run->err ? run->elen >= STDERR_CAP : room == 0) {
        return 0;
    }
    n = read(fd, dst, room);
    if (n < 0 && errno == EINTR) {
        return 1;
    }
    if (n <= 0) {
        return 0;
    }
    if (fd == run->out) {
        run->olen += (size_t)n;
    }
    else {
        run->elen += (size_t)n;
    }
    return 1;
}

/* Collects both pipes until they end or the deadline passes. */
static void collect(run_t *run)
{
    struct pollfd pfd[2] = { { run->out, POLLIN, 0 }, { run->err, POLLIN, 0 } };

    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        double left = run->deadline - mono_now();
        int i;

        if (left <= 0) {
            run->timed_out = 1;
            break;
        }
        if (poll(pfd, 2, (int)(left * 1000) + 1) <= 0) {
            continue;
        }
        for (i = 0; i < 2; i++) {
            if (pfd[i].fd >= 0 && pfd[i].revents != 0
                && drain(run, pfd[i].fd) == 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (pfd[i].fd >= 0) {
            close(pfd[i].fd);
        }
    }
    run->line[run->olen] = '\0';
}

/* Waits for the decoder's exit within the same deadline: the end of its
 * output is not its exit, and one that closed its pipes and kept running
 * must not hold this worker either. On timeout the whole process group
 * is killed. Always reaps. */
static void reap(run_t *run)
{
    struct timespec tick = { 0, 5000000 };

    while (!run->timed_out) {
        pid_t r = waitpid(run->pid, &run->status, WNOHANG);

        if (r == run->pid || (r < 0 && errno != EINTR)) {
            return;
        }
        if (mono_now() >= run->deadline) {
            run->timed_out = 1;
            break;
        }
        nanosleep(&tick, NULL);
    }
    kill(-run->pid, SIGKILL);
    while (waitpid(run->pid, &run->status, 0) < 0 && errno == EINTR) {
    }
}

/* Turns the decoder's end into a result. */
static void judge(const run_t *run, cc_decoded_t *c)
{
    if (run->elen > 0) {
        cc_kycd_log(CC_LOG_WARN, "decoder wrote %zu%s bytes on stderr "
                    "(not logged)", run->elen,
                    run->elen >= STDERR_CAP ? "+" : "");
    }
    if (run->timed_out) {
        snprintf(c->why, sizeof(c->why), "decoder timed out");
        return; /* not readable within our limits */
    }
    if (WIFSIGNALED(run->status)) {
        /* Killed by a limit (SIGXCPU), its filter (SIGSYS) or a crash. */
        if (WTERMSIG(run->status) == SIGSYS) {
            cc_kycd_log(CC_LOG_ERR, "decoder killed by its seccomp filter: "
                        "a system call outside the allow-list");
        }
        snprintf(c->why, sizeof(c->why), "decoder died (signal %d)",
                 WTERMSIG(run->status));
        return;
    }
    if (sscanf(run->line, "OK %u %u %lf", &c->w, &c->h, &c->stddev) == 3) {
        c->ok = 1;
        return;
    }
    if (strncmp(run->line, "UNREADABLE ", 11) == 0
        || strncmp(run->line, "TOOLARGE ", 9) == 0) {
        snprintf(c->why, sizeof(c->why), "%.*s",
                 (int)strcspn(run->line, "\n"), run->line);
        return;
    }
    c->transient = 1;
    if (WIFEXITED(run->status) && WEXITSTATUS(run->status) == EXIT_SANDBOX) {
        snprintf(c->why, sizeof(c->why), "decoder could not enter its "
                 "sandbox (seccomp or limits refused)");
        return;
    }
    snprintf(c->why, sizeof(c->why), "decoder failed (exit %d)",
             WIFEXITED(run->status) ? WEXITSTATUS(run->status) : -1);
}

void cc_decoder_run(const cc_kycd_cfg_t *cfg, const cc_doc_row_t *doc,
                    cc_decoded_t *c)
{
    const char *type = type_arg(doc->mime_type);
    char path[4096];
    run_t run;
    int fd;

    memset(c, 0, sizeof(*c));
    memset(&run, 0, sizeof(run));
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
    if (start(cfg, type, fd, &run, c->why, sizeof(c->why)) != 0) {
        close(fd);
        c->transient = 1;
        return;
    }
    close(fd);
    collect(&run);
    reap(&run);
    judge(&run, c);
}
