/*
 * sandbox.h: the confinement a document decoder enters before it reads a
 * single byte of its input (decisions.md 2).
 *
 * Shared by the decoder child (cartevo-kycd --check-document, in
 * verify_local.c) and the test-only probe (t/tools/sandbox_probe.c), so
 * the test proves the filter the decoder runs under, not a copy of it.
 * Needs nothing of the daemon, APR or the database.
 */
#ifndef CC_SANDBOX_H
#define CC_SANDBOX_H

typedef struct {
    unsigned long memory_mb;   /* RLIMIT_AS (RLIMIT_DATA under ASan) */
    unsigned long cpu_seconds; /* RLIMIT_CPU (SIGXCPU, then SIGKILL) */
} cc_sandbox_limits_t;

/*
 * Confines the calling process for good: resource limits (memory, CPU,
 * no file writes, no processes, no descriptor beyond 0-2, no core), no
 * new privileges, every descriptor above 2 closed, then a seccomp
 * allow-list whose default kills the whole process with SIGSYS. Allowed:
 * reading fd 0, writing fds 1 and 2, memory management without new
 * executable pages, the clock, futexes and exit. No open, socket, fork,
 * exec, kill, unlink or rename. In a sanitizer build (a test build only,
 * chosen at compile time) the runtime's reporting calls are admitted too.
 * Returns 0, or -1 with errno set when any step failed: the caller must
 * then exit without touching its input.
 */
int cc_sandbox_enter(const cc_sandbox_limits_t *lim);

/* 1 in a sanitizer build (whose filter admits the runtime's reporting
 * calls), else 0: the probe's test skips what that build allows. */
int cc_sandbox_sanitizer_build(void);

#endif
