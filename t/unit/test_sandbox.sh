#!/bin/sh
# test_sandbox.sh: every forbidden call of a sandboxed process is fatal
# (SIGSYS, 128 + 31 from the shell), the control mode works, and the same
# calls return when the probe runs unconfined (so the kill is the filter's
# doing, not the call's). Run by make check.
probe=${PROBE:-./t/tools/sandbox_probe}
fail=0
got=$(printf 'hello' | "$probe" none)
rc=$?
if [ "$rc" -ne 0 ] || [ "$got" != hello ]; then
    echo "FAIL none: exit $rc, output '$got'"; fail=1
else
    echo "ok none: reads stdin, writes stdout, exits 0"
fi
build=$("$probe" build)
for what in open socket fork unlink kill exec mmapx read1 write3 mprotx futexpi; do
    if [ "$build" = sanitizer ]; then
        case $what in open|read1|write3)
            echo "skip $what: a sanitizer build admits it for the runtime's reports"
            continue;;
        esac
    fi
    "$probe" "$what" </dev/null >/dev/null 2>&1
    rc=$?
    if [ "$rc" -ne 159 ]; then
        echo "FAIL $what: exit $rc, expected death by SIGSYS (159)"; fail=1
    else
        echo "ok $what: killed by SIGSYS"
    fi
    "$probe" "nosandbox-$what" </dev/null >/dev/null 2>&1
    rc=$?
    if [ "$rc" -lt 10 ] || [ "$rc" -gt 11 ]; then
        echo "FAIL nosandbox-$what: exit $rc, expected the call to return"
        fail=1
    fi
done
# In a sanitizer build, a report from inside the sandbox must reach its
# log file: a heap overflow after cc_sandbox_enter.
if [ "$build" = sanitizer ]; then
    dir=$(mktemp -d)
    ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:use_sigaltstack=0:log_path=$dir/asan" \
    UBSAN_OPTIONS="halt_on_error=1:log_path=$dir/ubsan" \
        "$probe" overflow </dev/null >/dev/null 2>&1
    if grep -q 'heap-buffer-overflow' "$dir"/asan.* 2>/dev/null; then
        echo "ok overflow: the sanitizer's report was written inside the sandbox"
    else
        echo "FAIL overflow: no sanitizer report in $dir"; fail=1
    fi
    rm -rf "$dir"
fi
exit $fail
