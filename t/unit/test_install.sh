#!/bin/sh
# test_install.sh: "make install DESTDIR=..." puts what an admin needs
# where an admin looks (issue 9, item 1): the module through apxs into
# httpd's modules directory (the .so alone, exporting only the module
# record), the daemon in sbin, the CLI in bin with the installed
# migrations as its default, man pages that render without warnings, the
# migrations, the example configurations and a systemd unit naming the
# installed daemon; "make uninstall" removes every file again. Runs on a
# built tree (./dev test); prints TAP.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0
check() { # DESCRIPTION, then a command that succeeds when the check passes
    n=$((n + 1))
    if (shift; "$@") >/dev/null 2>&1; then
        echo "ok $n - $1"
    else
        failed=$((failed + 1))
        echo "not ok $n - $1"
    fi
}
q() { make -s -C "$top" "$@" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log" >&2; return 1; }; }

check "make install DESTDIR" q install DESTDIR="$tmp/root"
r=$tmp/root
prefix=$(sed -n 's/^prefix = //p' "$top/Makefile")
modules=$(apxs -q LIBEXECDIR)
check "module in httpd's modules directory" test -f "$r$modules/mod_cartevo_customers.so"
check "no .la in the modules directory" test -z "$(find "$r$modules" -name '*.la')"
check "the module exports only its record" test "$(nm -D --defined-only \
    "$r$modules/mod_cartevo_customers.so" | awk '$2 ~ /[TDBR]/ { print $3 }' \
    | grep -v '^_' | tr '\n' ' ')" = "cartevo_customers_module "
check "daemon in sbin" test -x "$r$prefix/sbin/cartevo-kycd"
check "CLI in bin" test -x "$r$prefix/bin/cartevoctl"
check "no daemon in bin" test ! -e "$r$prefix/bin/cartevo-kycd"
check "migrations installed" test "$(ls "$r$prefix/share/cartevo/schema")" = \
    "$(ls "$top/conf/schema")"
check "the CLI's default migrations are the installed ones" \
    sh -c "'$r$prefix/bin/cartevoctl' --help 2>&1 | grep -qF '(default $prefix/share/cartevo/schema)'"
ex=$r$prefix/share/doc/mod_cartevo_customers/examples
for f in cartevo.conf cartevo-log.conf cartevo-kycd.conf cartevo-kycd.service; do
    check "example $f" test -s "$ex/$f"
done
check "the unit starts the installed daemon" \
    grep -q "^ExecStart=$prefix/sbin/cartevo-kycd " "$ex/cartevo-kycd.service"
for m in cartevo-kycd cartevoctl; do
    page=$r$prefix/share/man/man8/$m.8
    check "man page $m(8)" test -s "$page"
    check "$m(8) renders without warnings" sh -c \
        "test -z \"\$(groff -man -ww -z '$page' 2>&1)\""
done
check "make uninstall DESTDIR" q uninstall DESTDIR="$tmp/root"
check "uninstall leaves no file" test -z "$(find "$r" -type f)"
echo "1..$n"
[ "$failed" -eq 0 ]
