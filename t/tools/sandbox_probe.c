/*
 * sandbox_probe.c: test-only. Enters the decoder's sandbox (the same
 * cc_sandbox_enter() the decoder child of src/kycd/decoder.c calls) and
 * then attempts what a compromised decoder would, chosen by argv[1]:
 *   none    read stdin, write it to stdout: must exit 0
 *   open    open a file (openat of /etc/passwd, read-only)
 *   socket  create a socket
 *   fork    fork (glibc's fork is clone)
 *   unlink  unlink a file that does not exist
 *   kill    signal init (a probe, signal 0)
 *   read1   read a descriptor other than stdin
 *   write3  write a descriptor other than stdout and stderr
 *   mprotx  make a mapped page executable
 *   futexpi a priority-inheritance futex operation
 *   exec    execve a path that does not exist
 *   mmapx   map an executable page (new code)
 *   overflow  write one byte past a heap block: in a sanitizer build the
 *           runtime must still be able to write its report from inside
 *           the sandbox (what its extra rules are for)
 * Each attempt must kill the process with SIGSYS (t/unit/test_sandbox.sh,
 * run by make check). If
 * the call returns, the probe exits 10 + whether it succeeded, so a test
 * can tell a weakened filter from a working one.
 */
#include "sandbox.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <unistd.h>

static int echo(void)
{
    char buf[512];
    ssize_t n;

    while ((n = read(0, buf, sizeof(buf))) > 0) {
        if (write(1, buf, (size_t)n) != n) {
            return 1;
        }
    }
    return n == 0 ? 0 : 1;
}

static int attempt(const char *what)
{
    if (!strcmp(what, "open")) {
        return open("/etc/passwd", O_RDONLY) >= 0;
    }
    if (!strcmp(what, "socket")) {
        return socket(AF_INET, SOCK_STREAM, 0) >= 0;
    }
    if (!strcmp(what, "fork")) {
        pid_t pid = fork();

        if (pid == 0) {
            _exit(0);
        }
        return pid > 0;
    }
    if (!strcmp(what, "unlink")) {
        return unlink("/nonexistent-cartevo-probe") == 0;
    }
    if (!strcmp(what, "kill")) {
        return kill(1, 0) == 0;
    }
    if (!strcmp(what, "exec")) {
        char *const av[] = { (char *)"true", NULL };

        execve("/nonexistent-cartevo-probe", av, av + 1);
        return 0;
    }
    if (!strcmp(what, "read1")) {
        char c;

        return read(1, &c, 1) >= 0;
    }
    if (!strcmp(what, "write3")) {
        return write(3, "x", 1) == 1;
    }
    if (!strcmp(what, "mprotx")) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        return p != MAP_FAILED && mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0;
    }
    if (!strcmp(what, "futexpi")) {
        static uint32_t word;

        return syscall(SYS_futex, &word, FUTEX_LOCK_PI, 0, NULL, NULL, 0) == 0;
    }
    if (!strcmp(what, "overflow")) {
        /* Sizes from the argument, so that neither the compiler nor
         * UBSan's object-size check sees it: ASan's report is wanted. */
        size_t n = strlen(what);
        volatile char *p = malloc(n);

        if (p != NULL) {
            p[n] = 1;
        }
        return 0;
    }
    if (!strcmp(what, "mmapx")) {
        return mmap(NULL, 4096, PROT_READ | PROT_EXEC,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED;
    }
    return -1;
}

int main(int argc, char **argv)
{
    cc_sandbox_limits_t lim = { 256, 5 };
    int r;

    if (argc == 2 && !strcmp(argv[1], "build")) {
        puts(cc_sandbox_sanitizer_build() ? "sanitizer" : "plain");
        return 0;
    }
    if (argc != 2) {
        fputs("usage: sandbox_probe none|open|socket|fork|unlink|kill|exec|mmapx|read1|write3|mprotx|futexpi|overflow\n",
              stderr);
        return 2;
    }
    /* "nosandbox-X" runs X unconfined: the control showing each attempt
     * succeeds (or at least returns) without the filter. */
    if (strncmp(argv[1], "nosandbox-", 10) != 0) {
        if (cc_sandbox_enter(&lim) != 0) {
            perror("cc_sandbox_enter");
            return 3;
        }
    }
    else {
        argv[1] += 10;
    }
    if (!strcmp(argv[1], "none")) {
        return echo();
    }
    r = attempt(argv[1]);
    return r < 0 ? 2 : 10 + r;
}
