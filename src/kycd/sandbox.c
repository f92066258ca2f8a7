/*
 * sandbox.c: resource limits, no new privileges, closed descriptors and a
 * seccomp allow-list for a process about to parse hostile bytes (see
 * sandbox.h). A memory bug in libjpeg, libpng or qpdf then reaches no
 * file, socket, process or signal: every system call outside the list
 * below kills the whole process with SIGSYS.
 */
#include "sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* gcc and clang say so when building with -fsanitize=address. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifndef SANITIZER_BUILD
#define SANITIZER_BUILD 0
#endif

static int limit(int what, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = { soft, hard };

    return setrlimit(what, &rl);
}

/* Under ASan, VmData is already terabytes at start (its shadow and
 * allocator regions are private writable mappings, reserved with
 * MAP_NORESERVE), so neither RLIMIT_AS nor a plain RLIMIT_DATA can bound
 * the decoder: the limit is what is mapped now plus the budget, plus the
 * 256 MiB the runtime may hold in quarantine (freed, not yet reused).
 * Read from /proc before the filter exists; a sanitizer build only. */
static rlim_t sanitizer_data_base(void)
{
    unsigned long long pages[6] = { 0 };
    FILE *f = fopen("/proc/self/statm", "re");
    int n = 0;

    if (f != NULL) {
        n = fscanf(f, "%llu %llu %llu %llu %llu %llu", &pages[0], &pages[1],
                   &pages[2], &pages[3], &pages[4], &pages[5]);
        fclose(f);
    }
    if (n != 6) {
        return RLIM_INFINITY;
    }
    /* field 6: data + stack */
    return (rlim_t)pages[5] * (rlim_t)sysconf(_SC_PAGESIZE) + (256UL << 20);
}

/* Limits first, so they also bound what the filter allows. RLIMIT_FSIZE
 * 0 and RLIMIT_NPROC 0 stay a second line under the filter; RLIMIT_NOFILE
 * 3 means no descriptor beyond stdin, stdout and stderr can ever exist.
 * A sanitizer's report needs a log file: a descriptor of its own and
 * file writes. */
static int set_limits(const cc_sandbox_limits_t *lim)
{
    rlim_t mem = (rlim_t)lim->memory_mb << 20;
    rlim_t base = SANITIZER_BUILD ? sanitizer_data_base() : 0;

    if (base == RLIM_INFINITY) {
        mem = RLIM_INFINITY;
    }
    else {
        mem += base;
    }
    int mem_kind = SANITIZER_BUILD ? RLIMIT_DATA : RLIMIT_AS;
    rlim_t nofile = SANITIZER_BUILD ? 8 : 3;
    rlim_t fsize = SANITIZER_BUILD ? RLIM_INFINITY : 0;

    if (limit(mem_kind, mem, mem) != 0
        || limit(RLIMIT_CPU, lim->cpu_seconds, lim->cpu_seconds + 1) != 0
        || limit(RLIMIT_FSIZE, fsize, fsize) != 0
        || limit(RLIMIT_NPROC, 0, 0) != 0
        || limit(RLIMIT_NOFILE, nofile, nofile) != 0
        || limit(RLIMIT_CORE, 0, 0) != 0) {
        return -1;
    }
    return 0;
}

static int allow(scmp_filter_ctx ctx, int nr)
{
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

/* A rule on one argument: the descriptor, or the protection bits. */
static int allow_if(scmp_filter_ctx ctx, int nr, struct scmp_arg_cmp cmp)
{
    return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, cmp);
}

static int allow_all(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        rc = allow(ctx, nrs[i]);
    }
    return rc;
}

/*
 * What a decoder may call once the filter is in place. strace of the
 * decoder child over t/fuzz/corpus/decode_* (jpeg, png, pdf), the
 * compare fixtures and 24-megapixel images shows only read, write, brk,
 * futex (qpdf's C++ runtime) and exit_group; the rest are what glibc may
 * need on other inputs:
 *   read            fd 0 only: the document arrives on stdin
 *   write           fds 1 and 2 only: the verdict, and a crash message
 *                   to the daemon's capped stderr pipe
 *   brk, mmap, munmap, mremap, madvise, mprotect: malloc (large blocks
 *                   are mmap'd, grown with mremap, trimmed with madvise);
 *                   mmap and mprotect never with PROT_EXEC, so an
 *                   overflow cannot make new code; madvise only to give
 *                   pages back
 *   futex           wait and wake: locks and static guards of the C++
 *                   runtime
 *   clock_gettime, gettimeofday: the vDSO's fallback
 *   exit, exit_group, rt_sigreturn: the end, and SIGXCPU's delivery
 * Everything else (open, openat, socket, connect, clone, fork, vfork,
 * execve, kill, tgkill, unlink, rename, ptrace, ...) kills the process.
 */
/* futex: wait and wake only (also by bitset, private or not, on either
 * clock), never the priority-inheritance or requeue operations, the
 * kernel's old trouble spots. The mask keeps the command bits of the
 * 32-bit operation, so any other flag fails the comparison. */
static int add_futex(scmp_filter_ctx ctx)
{
    static const unsigned ops[] = { FUTEX_WAIT, FUTEX_WAKE,
                                    FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET };
    const scmp_datum_t cmd_mask =
        0xffffffffU & ~(unsigned)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    size_t i;
    int rc = 0;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]) && rc == 0; i++) {
        rc = allow_if(ctx, SCMP_SYS(futex),
                      SCMP_A1(SCMP_CMP_MASKED_EQ, cmd_mask, ops[i]));
    }
    return rc;
}

/* madvise: what malloc uses to give pages back, nothing else (no
 * poisoning, no page merging or pinning). */
static int add_madvise(scmp_filter_ctx ctx)
{
    static const int advice[] = { MADV_DONTNEED, MADV_FREE, MADV_NORMAL };
    size_t i;
    int rc = 0;

    for (i = 0; i < sizeof(advice) / sizeof(advice[0]) && rc == 0; i++) {
        rc = allow_if(ctx, SCMP_SYS(madvise),
                      SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)advice[i]));
    }
    return rc;
}

static int add_rules(scmp_filter_ctx ctx)
{
    static const int plain[] = {
        SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
        SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
        SCMP_SYS(rt_sigreturn), SCMP_SYS(exit), SCMP_SYS(exit_group),
    };
    unsigned fd;
    int rc = allow_all(ctx, plain, sizeof(plain) / sizeof(plain[0]));

    if (rc == 0) {
        rc = allow_if(ctx, SCMP_SYS(read), SCMP_A0(SCMP_CMP_EQ, 0));
    }
    for (fd = 1; fd <= 2 && rc == 0; fd++) {
        rc = allow_if(ctx, SCMP_SYS(write), SCMP_A0(SCMP_CMP_EQ, fd));
    }
    if (rc == 0) {
        rc = allow_if(ctx, SCMP_SYS(mmap),
                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    }
    if (rc == 0) {
        rc = allow_if(ctx, SCMP_SYS(mprotect),
                      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    }
    if (rc == 0) {
        rc = add_futex(ctx);
    }
    return rc == 0 ? add_madvise(ctx) : rc;
}

/*
 * ASan and UBSan's runtime, when it reports: it opens its log_path file,
 * reads /proc/self/{cmdline,environ,maps}, asks whether stderr is a
 * terminal (ioctl), probes memory through a pipe (pipe2, fcntl), queries
 * its pid and thread, handles signals and ends with abort (tgkill).
 * Found by running the probe's "overflow" under the filter until the
 * report is written (t/unit/test_sandbox.sh checks it is). A sanitizer
 * build is a test build: these never reach a production filter.
 */
static int add_sanitizer_rules(scmp_filter_ctx ctx)
{
    static const int extra[] = {
        SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(close), SCMP_SYS(write),
        SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(lseek),
        SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(readlink),
        SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(sched_yield),
        SCMP_SYS(sigaltstack), SCMP_SYS(rt_sigaction),
        SCMP_SYS(rt_sigprocmask), SCMP_SYS(prctl), SCMP_SYS(getrlimit),
        SCMP_SYS(uname), SCMP_SYS(nanosleep), SCMP_SYS(getrandom),
        SCMP_SYS(pipe2), SCMP_SYS(fcntl), SCMP_SYS(madvise),
    };
    int rc = allow_all(ctx, extra, sizeof(extra) / sizeof(extra[0]));

    /* Even here, nothing that reaches another process or a terminal:
     * limits of this process only, signals to this process only (abort),
     * and the one ioctl that asks whether stderr is a terminal. */
    if (rc == 0) {
        rc = allow_if(ctx, SCMP_SYS(prlimit64), SCMP_A0(SCMP_CMP_EQ, 0));
    }
    if (rc == 0) {
        rc = allow_if(ctx, SCMP_SYS(tgkill),
                      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
    }
    if (rc == 0) {
        rc = allow_if(ctx, SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_EQ, TCGETS));
    }
    return rc;
}

int cc_sandbox_sanitizer_build(void)
{
    return SANITIZER_BUILD;
}

int cc_sandbox_enter(const cc_sandbox_limits_t *lim)
{
    scmp_filter_ctx ctx;
    int rc;

    if (set_limits(lim) != 0
        || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        || syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
        return -1;
    }
    /* KILL_PROCESS, not KILL (the thread): nothing of the process may go
     * on once one call was refused. */
    ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (ctx == NULL) {
        errno = ENOMEM;
        return -1;
    }
    /* A call through another ABI (i386 int 0x80, x32) too. */
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0) {
        rc = add_rules(ctx);
    }
    if (rc == 0 && SANITIZER_BUILD) {
        rc = add_sanitizer_rules(ctx);
    }
    if (rc == 0) {
        rc = seccomp_load(ctx);
    }
    seccomp_release(ctx);
    if (rc != 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}
