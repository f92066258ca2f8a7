#!/bin/sh
# test_packages.sh installed|purged: what the Debian packages leave on the
# machine (issue 9, item 2), run by ./dev test --installed after it
# installed them and after it purged them. Installed: the accounts and
# group membership, the document directory and /etc/cartevo with the
# design's owners and modes, a generated token secret, the module's .load
# and .conf (a2enmod enables dbd with it, a2dismod leaves dbd), the daemon
# with its unit (enabled, not started) and conffile, the CLI and its
# migrations. Purged: the packages' files are gone, the accounts stay.
# Prints TAP.
set -u
n=0
failed=0
check() {
    n=$((n + 1))
    if (shift; "$@") >/dev/null 2>&1; then echo "ok $n - $1"; else
        failed=$((failed + 1)); echo "not ok $n - $1"; fi
}
mode() { stat -c '%a %U:%G' "$1"; }
case "${1:-}" in
installed)
    check "group cartevo" getent group cartevo
    check "system user cartevo-kycd in cartevo" sh -c '[ "$(id -gn cartevo-kycd)" = cartevo ]'
    check "www-data in cartevo" sh -c 'id -nG www-data | tr " " "\n" | grep -qx cartevo'
    check "documents 2770 root:cartevo" test "$(mode /var/lib/cartevo/documents)" = "2770 root:cartevo"
    check "token secret 600 root:root" test "$(mode /etc/cartevo/token.secret)" = "600 root:root"
    check "token secret 64 hex digits" grep -Eqx '[0-9a-f]{64}' /etc/cartevo/token.secret
    check "daemon conffile 640 root:cartevo-kycd" \
        test "$(mode /etc/cartevo/cartevo-kycd.conf)" = "640 root:cartevo-kycd"
    check "module .load names the installed module" grep -q \
        '^LoadModule cartevo_customers_module /usr/lib/apache2/modules/mod_cartevo_customers.so$' \
        /etc/apache2/mods-available/cartevo_customers.load
    check "module .conf sets the package's paths" grep -q \
        '^ *CartevoTokenSecretFile /etc/cartevo/token.secret$' \
        /etc/apache2/mods-available/cartevo_customers.conf
    check "the .conf mounts nothing" sh -c \
        '! grep -Eq "^[[:space:]]*SetHandler" /etc/apache2/mods-available/cartevo_customers.conf'
    check "the log format in conf-available" grep -q 'LogFormat .* cartevo$' \
        /etc/apache2/conf-available/cartevo-log.conf
    check "not enabled by the install" test ! -e /etc/apache2/mods-enabled/cartevo_customers.load
    had_dbd=0
    [ -e /etc/apache2/mods-enabled/dbd.load ] && had_dbd=1
    check "a2enmod cartevo_customers" a2enmod -q cartevo_customers
    check "which enables dbd" test -e /etc/apache2/mods-enabled/dbd.load
    check "apache2ctl configtest passes with it" apache2ctl configtest
    check "a2dismod cartevo_customers" a2dismod -q cartevo_customers
    [ "$had_dbd" = 1 ] || a2dismod -q dbd >/dev/null 2>&1
    check "daemon in /usr/sbin" test -x /usr/sbin/cartevo-kycd
    check "daemon unit installed" test -f /lib/systemd/system/cartevo-kycd.service
    check "unit starts the installed daemon" grep -q '^ExecStart=/usr/sbin/cartevo-kycd ' \
        /lib/systemd/system/cartevo-kycd.service
    check "CLI in /usr/bin" test -x /usr/bin/cartevoctl
    check "migrations in /usr/share/cartevo/schema" test -f /usr/share/cartevo/schema/001_init.sql
    check "man pages" test -f /usr/share/man/man8/cartevo-kycd.8.gz -a -f /usr/share/man/man8/cartevoctl.8.gz
    ;;
purged)
    check "module gone" test ! -e /usr/lib/apache2/modules/mod_cartevo_customers.so
    check "module .load and .conf gone" test ! -e /etc/apache2/mods-available/cartevo_customers.load \
        -a ! -e /etc/apache2/mods-available/cartevo_customers.conf
    check "daemon gone" test ! -e /usr/sbin/cartevo-kycd
    check "CLI gone" test ! -e /usr/bin/cartevoctl
    check "token secret gone" test ! -e /etc/cartevo/token.secret
    check "daemon conffile gone" test ! -e /etc/cartevo/cartevo-kycd.conf
    check "log format gone" test ! -e /etc/apache2/conf-available/cartevo-log.conf
    check "the accounts stay" sh -c 'getent group cartevo && id cartevo-kycd'
    ;;
*) echo "usage: $0 installed|purged" >&2; exit 2 ;;
esac
echo "1..$n"
[ "$failed" -eq 0 ]
