#!/bin/sh
# test_ctl.sh: end-to-end test of the cartevoctl binary against a real
# PostgreSQL: exit statuses (0 ok, 1 failure, 2 bad usage), output
# formats, migrations (order, idempotence, atomicity, concurrent runs),
# companies, KYB, credentials, the find-or-create state file, and that a
# client key is stored only as its SHA-256 and never echoed on stderr.
#
# Environment:
#   CARTEVO_TEST_DB  libpq connection string of a database to use; unset
#                    means skip (exit 77). Everything happens in private
#                    schemas (search_path via PGOPTIONS) dropped at the end,
#                    so a shared database is left as it was.
#   CARTEVOCTL       the binary (default: cartevoctl at the top of the tree)
# Needs psql and sha256sum. Prints TAP; exits 0 when all checks pass.
set -u

if [ -z "${CARTEVO_TEST_DB:-}" ]; then
    echo "1..0 # SKIP CARTEVO_TEST_DB not set"
    exit 77
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=${CARTEVOCTL:-$top/cartevoctl}
if [ ! -x "$CTL" ]; then
    echo "Bail out! no executable $CTL (set CARTEVOCTL)"
    exit 99
fi
for tool in psql sha256sum; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "Bail out! $tool not found"
        exit 99
    fi
done

tmp=$(mktemp -d) || exit 99
schema=ctltest_$$
schema2=ctltest_$$_b
schema3=ctltest_$$_c
unset PGOPTIONS

# psql on the test database; "$sp" selects the schema like the CLI's.
sql() {
    PGOPTIONS="-c search_path=${sp:-$schema}" \
        psql -X -q -At -v ON_ERROR_STOP=1 -d "$CARTEVO_TEST_DB" -c "$1"
}

cleanup() {
    PGOPTIONS='' psql -X -q -d "$CARTEVO_TEST_DB" -c \
        "DROP SCHEMA IF EXISTS $schema, $schema2, $schema3 CASCADE" \
        >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' HUP INT TERM

if ! PGOPTIONS='' psql -X -q -d "$CARTEVO_TEST_DB" -v ON_ERROR_STOP=1 \
        -c "CREATE SCHEMA $schema; CREATE SCHEMA $schema2;
            CREATE SCHEMA $schema3" >/dev/null; then
    echo "Bail out! cannot create test schemas in CARTEVO_TEST_DB"
    exit 99
fi
export PGOPTIONS="-c search_path=$schema"
# A DSN with its own "options" would override PGOPTIONS and send the test
# into the real schema; refuse rather than touch it.
if [ "$(sql 'SHOW search_path')" != "$schema" ]; then
    echo "Bail out! CARTEVO_TEST_DB overrides search_path (options=...)"
    exit 99
fi
export CARTEVO_DB="$CARTEVO_TEST_DB"

n=0
failed=0
check() { # DESCRIPTION, then a command that succeeds when the check passes
    desc=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $desc"
    else
        failed=$((failed + 1))
        echo "not ok $n - $desc"
        echo "#   rc=$rc"
        sed 's/^/#   stdout: /' "$tmp/out"
        sed 's/^/#   stderr: /' "$tmp/err"
    fi
}

# Runs a command (cartevoctl, maybe under env); leaves rc, out (stdout) and err (stderr); stderr is also
# kept in all_err to check at the end that no key ever reached it.
rc=0
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
    cat "$tmp/err" >>"$tmp/all_err"
}

# expect RC DESCRIPTION ARGS...: exit status RC; a failure must explain
# itself on stderr and print nothing on stdout.
expect() {
    want=$1
    desc=$2
    shift 2
    run "$@"
    if [ "$want" -eq 0 ]; then
        check "$desc" test "$rc" -eq 0
    else
        check "$desc" eval \
            '[ "$rc" -eq "$want" ] && [ -n "$err" ] && [ -z "$out" ]'
    fi
}

matches() { # STRING ERE: the whole string matches
    printf '%s\n' "$1" | grep -Eqx -- "$2"
}

sha256() {
    printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

field() { # NAME: value of NAME=... in $out
    printf '%s\n' "$out" | sed -n "s/^$1=//p"
}

UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
CID_RE='cli_[0-9a-f]{32}'
KEY_RE='[0-9a-f]{64}'
CREDS_RE="company_id=$UUID_RE
client_id=$CID_RE
client_key=$KEY_RE"
NOCO=00000000-0000-4000-8000-000000000000
NOCLI=cli_00000000000000000000000000000000

# ---- usage: exit 2 before any database work ---------------------------
expect 2 "no arguments" env -u CARTEVO_DB "$CTL"
expect 2 "--help" "$CTL" --help
check "--help prints the usage" matches "$(head -n1 "$tmp/err")" 'usage: .*'
expect 2 "unknown command" "$CTL" frobnicate
expect 2 "unknown subcommand" "$CTL" company explode x
expect 2 "unknown option" "$CTL" migrate --force
expect 2 "option of another command" "$CTL" migrate --kyb APPROVED
expect 2 "option without value" "$CTL" company create X --kyb
expect 2 "missing argument" "$CTL" company show
expect 2 "extra argument" "$CTL" company show $NOCO extra
expect 2 "bad uuid (show)" "$CTL" company show not-a-uuid
expect 2 "bad uuid (kyb)" "$CTL" company kyb 1234 APPROVED
expect 2 "bad uuid (issue)" "$CTL" credentials issue "$NOCO;"
expect 2 "bad status (kyb)" "$CTL" company kyb $NOCO approved
expect 2 "bad status (create)" "$CTL" company create X --kyb MAYBE
expect 2 "empty company name" "$CTL" company create ""
expect 2 "control character in name" "$CTL" company create "$(printf 'a\tb')"
long=$(printf '%0256d' 0)
expect 2 "256-character name" "$CTL" company create "$long"
expect 2 "bad client id" "$CTL" credentials revoke cli_XYZ
expect 2 "find-or-create without --state-file" \
    "$CTL" company find-or-create X
expect 2 "no --db and no CARTEVO_DB" env -u CARTEVO_DB "$CTL" company show $NOCO
expect 2 "empty CARTEVO_DB" env CARTEVO_DB= "$CTL" company show $NOCO

# ---- connection failure: exit 1 ----------------------------------------
expect 1 "unreachable database" \
    "$CTL" --db "host=$tmp/nowhere port=1 connect_timeout=2" company show $NOCO

# ---- migrate ---------------------------------------------------------
nfiles=0
for f in "$top"/conf/schema/[0-9]*_*.sql; do
    [ -e "$f" ] && nfiles=$((nfiles + 1))
done
expect 0 "migrate applies the schema" "$CTL" migrate --dir "$top/conf/schema"
check "first migration is 'migrated 1 init'" \
    matches "$(printf '%s\n' "$out" | head -n1)" 'migrated 1 init'
check "one 'migrated' line per file" eval \
    '[ "$(printf "%s\n" "$out" | grep -Ecx "migrated [0-9]+ [^ ]+")" -eq "$nfiles" ] &&
     [ "$(printf "%s\n" "$out" | wc -l)" -eq "$nfiles" ]'
check "schema_migrations has every file" \
    test "$(sql 'SELECT count(*) FROM schema_migrations')" -eq "$nfiles"
check "tables created in the test schema" test "$(sql \
    "SELECT count(*) FROM pg_tables WHERE schemaname = '$schema'
     AND tablename IN ('companies', 'api_clients', 'customers')")" -eq 3
expect 0 "migrate again" "$CTL" --db "$CARTEVO_TEST_DB" migrate \
    --dir "$top/conf/schema"
check "migrate again prints nothing" test -z "$out"

# Version order is numeric, one transaction per file, failures roll back.
mkdir "$tmp/m"
echo "CREATE TABLE ten (x int REFERENCES nine (x));" >"$tmp/m/10_ten.sql"
echo "CREATE TABLE nine (x int PRIMARY KEY);" >"$tmp/m/9_nine.sql"
echo "not a migration" >"$tmp/m/README"
export PGOPTIONS="-c search_path=$schema2"
expect 0 "migrate orders by number (9 before 10)" \
    "$CTL" migrate --dir "$tmp/m"
check "output lists 9 then 10" test "$out" = "migrated 9 nine
migrated 10 ten"
printf '%s\n' "CREATE TABLE eleven (x int);" "SELECT 1/0;" \
    >"$tmp/m/11_broken.sql"
expect 1 "failing migration exits 1" "$CTL" migrate --dir "$tmp/m"
check "failed migration left nothing behind" eval \
    '[ "$(sp=$schema2 sql "SELECT count(*) FROM pg_tables
        WHERE schemaname = '"'$schema2'"' AND tablename = '"'eleven'"'")" -eq 0 ] &&
     [ "$(sp=$schema2 sql "SELECT count(*) FROM schema_migrations
        WHERE version = 11")" -eq 0 ]'
rm "$tmp/m/11_broken.sql"
printf '%s\n' "BEGIN;" "CREATE TABLE twelve (x int);" "COMMIT;" \
    >"$tmp/m/12_own_txn.sql"
expect 1 "migration with its own BEGIN/COMMIT refused" \
    "$CTL" migrate --dir "$tmp/m"
check "refused migration did not run" test "$(sp=$schema2 sql \
    "SELECT count(*) FROM pg_tables WHERE tablename = 'twelve'
     AND schemaname = '$schema2'")" -eq 0
rm "$tmp/m/12_own_txn.sql"
cp "$tmp/m/9_nine.sql" "$tmp/m/009_again.sql"
expect 1 "duplicate version refused" "$CTL" migrate --dir "$tmp/m"
rm "$tmp/m/009_again.sql"
expect 1 "missing directory" "$CTL" migrate --dir "$tmp/none"
# A database a newer release migrated: nothing applied, the version said.
sp=$schema2 sql "INSERT INTO schema_migrations (version, name) VALUES (40, 'future')"
echo "CREATE TABLE thirty (x int);" >"$tmp/m/30_thirty.sql"
expect 1 "a database newer than the migrations refused" \
    "$CTL" migrate --dir "$tmp/m"
check "the refusal names both versions" \
    matches "$err" '.*schema version 40, newer than .*\(up to 30\).*'
check "nothing applied to the newer database" test "$(sp=$schema2 sql \
    "SELECT count(*) FROM pg_tables WHERE tablename = 'thirty'
     AND schemaname = '$schema2'")" -eq 0
rm "$tmp/m/30_thirty.sql"
# The module and the daemon support up to the newest shipped migration.
newest=$(ls "$top/conf/schema" | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$/\1/p' | sort -n | tail -n1)
check "CC_SCHEMA_MAX is the newest migration ($newest)" \
    grep -Eq "^#define CC_SCHEMA_MAX $newest\$" "$top/src/core/cc_schema.h"

# Two concurrent runs: the advisory lock makes one wait; each file is
# applied exactly once and both succeed.
mkdir "$tmp/c"
echo "CREATE TABLE slow (x int); SELECT pg_sleep(1);" >"$tmp/c/001_slow.sql"
echo "CREATE TABLE after_slow (x int);" >"$tmp/c/002_after.sql"
export PGOPTIONS="-c search_path=$schema3"
"$CTL" migrate --dir "$tmp/c" >"$tmp/c1.out" 2>"$tmp/c1.err" &
p1=$!
"$CTL" migrate --dir "$tmp/c" >"$tmp/c2.out" 2>"$tmp/c2.err" &
p2=$!
wait $p1
rc1=$?
wait $p2
rc2=$?
rc="$rc1/$rc2"
cat "$tmp/c1.out" "$tmp/c2.out" >"$tmp/out"
cat "$tmp/c1.err" "$tmp/c2.err" >"$tmp/err"
check "concurrent migrate: both exit 0" test "$rc" = "0/0"
check "concurrent migrate: each file applied once" \
    test "$(grep -c '^migrated ' "$tmp/out")" -eq 2
check "concurrent migrate: two rows recorded" \
    test "$(sp=$schema3 sql 'SELECT count(*) FROM schema_migrations')" -eq 2
export PGOPTIONS="-c search_path=$schema"

# ---- company create / show / kyb -----------------------------------
expect 0 "company create (default KYB)" "$CTL" company create "Acme Ltd"
check "create prints exactly the three lines" matches "$out" "$CREDS_RE"
co1=$(field company_id)
cl1=$(field client_id)
key1=$(field client_key)
expect 0 "company show" "$CTL" company show "$co1"
check "show prints id, name, PENDING" test "$out" = "company_id=$co1
name=Acme Ltd
kyb_status=PENDING"
check "credential belongs to the company" test "$(sql \
    "SELECT company_id FROM api_clients WHERE client_id = '$cl1'")" = "$co1"

# ---- webhook set: https://, or http:// only to a loopback host ----------
# (decisions.md 3; the daemon still needs allow_targets for the http one)
whurl() { sql "SELECT coalesce(webhook_url, '') FROM companies WHERE id = '$co1'"; }
for u in http://example.com/hook http://10.0.0.1/hook http://127.0.0.1.example.com/h \
         http://localhost.example.com/h "http://user:pw@127.0.0.1:9/h" ftp://127.0.0.1/h \
         https://exa\ mple.com/h; do
    expect 2 "webhook set refuses $u" "$CTL" webhook set "$co1" "$u"
done
check "a refused URL is not stored" test -z "$(whurl)"
check "the refusal says https" eval 'printf "%s" "$err" | grep -q "https://"'
for u in http://127.0.0.1:9711/hook http://localhost:9711/hook "http://[::1]:9711/hook" \
         https://example.com/hook https://10.0.0.1:8443/hook; do
    expect 0 "webhook set accepts $u" "$CTL" webhook set "$co1" "$u"
    check "webhook set stores $u" test "$(whurl)" = "$u"
done
sql "UPDATE companies SET webhook_url = NULL, webhook_secret = NULL WHERE id = '$co1'"

name2="Bäckerei Ünal & Söhne -- \"quoted\" 'x'; DROP TABLE companies"
expect 0 "company create --kyb=APPROVED, odd name" \
    "$CTL" company create --kyb=APPROVED -- "$name2"
check "create prints exactly the three lines (2)" matches "$out" "$CREDS_RE"
co2=$(field company_id)
key2=$(field client_key)
expect 0 "show odd name" "$CTL" company show "$co2"
check "odd name round-trips, APPROVED" test "$out" = "company_id=$co2
name=$name2
kyb_status=APPROVED"
expect 0 "255-character name accepted" \
    "$CTL" company create "$(printf '%0255d' 0)"
key3=$(field client_key)
expect 0 "option before the command" "$CTL" --kyb REJECTED company create -- --dash
check "name starting with -- and --kyb before command" test \
    "$(sql "SELECT kyb_status FROM companies WHERE name = '--dash'")" = REJECTED
key4=$(field client_key)

expect 0 "company kyb APPROVED" "$CTL" company kyb "$co1" APPROVED
run "$CTL" company show "$co1"
check "show reflects new KYB" matches "$out" ".*kyb_status=APPROVED"
check "kyb bumps updated_at" test "$(sql \
    "SELECT updated_at > created_at FROM companies WHERE id = '$co1'")" = t
expect 0 "uppercase uuid accepted" "$CTL" company kyb \
    "$(printf '%s' "$co1" | tr a-f A-F)" REJECTED
check "kyb REJECTED stored" test \
    "$(sql "SELECT kyb_status FROM companies WHERE id = '$co1'")" = REJECTED
expect 1 "kyb of unknown company" "$CTL" company kyb $NOCO APPROVED
expect 1 "show of unknown company" "$CTL" company show $NOCO

# ---- credentials -----------------------------------------------------
expect 0 "credentials issue" "$CTL" credentials issue "$co1"
check "issue prints client_id and client_key" matches "$out" \
    "client_id=$CID_RE
client_key=$KEY_RE"
cl5=$(field client_id)
key5=$(field client_key)
check "issued credential belongs to the company" test "$(sql \
    "SELECT company_id FROM api_clients WHERE client_id = '$cl5'")" = "$co1"
check "company now has two credentials" test "$(sql \
    "SELECT count(*) FROM api_clients WHERE company_id = '$co1'")" -eq 2
expect 1 "issue for unknown company" "$CTL" credentials issue $NOCO
check "no credential for unknown company" test "$(sql \
    "SELECT count(*) FROM api_clients WHERE company_id = '$NOCO'")" -eq 0

expect 0 "revoke" "$CTL" credentials revoke "$cl1"
check "revoked_at set" test "$(sql \
    "SELECT revoked_at IS NOT NULL FROM api_clients
     WHERE client_id = '$cl1'")" = t
check "other credential untouched" test "$(sql \
    "SELECT revoked_at IS NULL FROM api_clients
     WHERE client_id = '$cl5'")" = t
expect 1 "revoke again" "$CTL" credentials revoke "$cl1"
expect 1 "revoke unknown client" "$CTL" credentials revoke $NOCLI

# ---- find-or-create ----------------------------------------------------
st=$tmp/state/demo.env
mkdir "$tmp/state"
expect 0 "find-or-create creates" "$CTL" company find-or-create "Demo" \
    --kyb APPROVED --state-file "$st"
first=$out
check "find-or-create prints the three lines" matches "$out" "$CREDS_RE"
check "state file holds the same lines" test "$(cat "$st")" = "$first"
check "state file is mode 600" test "$(stat -c %a "$st")" = 600
check "no temporary file left" test ! -e "$st.tmp"
check "demo company is APPROVED" test "$(sql "SELECT kyb_status
    FROM companies WHERE id = '$(field company_id)'")" = APPROVED
keyd1=$(field client_key)
cld1=$(field client_id)
ncomp=$(sql "SELECT count(*) FROM companies")
expect 0 "find-or-create again" "$CTL" company find-or-create "Demo" \
    --kyb APPROVED --state-file "$st"
check "second run prints the saved lines" test "$out" = "$first"
check "second run created nothing" \
    test "$(sql "SELECT count(*) FROM companies")" -eq "$ncomp"

expect 0 "revoke demo credential" "$CTL" credentials revoke "$cld1"
expect 0 "find-or-create after revoke" "$CTL" company find-or-create \
    "Demo" --kyb APPROVED --state-file "$st"
second=$out
check "revoked credential replaced" eval \
    '[ "$out" != "$first" ] && matches "$out" "$CREDS_RE"'
check "state file updated" test "$(cat "$st")" = "$second"
keyd2=$(field client_key)
sql "DELETE FROM api_clients WHERE company_id = '$(field company_id)';
     DELETE FROM companies WHERE id = '$(field company_id)'"
expect 0 "find-or-create after the company vanished" "$CTL" company \
    find-or-create "Demo" --state-file "$st"
check "new company created and saved" eval \
    '[ "$out" != "$second" ] && [ "$(cat "$st")" = "$out" ]'
check "default KYB is PENDING" test "$(sql "SELECT kyb_status
    FROM companies WHERE id = '$(field company_id)'")" = PENDING
keyd3=$(field client_key)
echo "something else" >"$tmp/state/other"
expect 1 "foreign state file left alone" "$CTL" company find-or-create \
    "Demo" --state-file "$tmp/state/other"
check "foreign file unchanged" test "$(cat "$tmp/state/other")" = \
    "something else"
expect 1 "unwritable state directory" "$CTL" company find-or-create \
    "Demo" --state-file "$tmp/nodir/x"

# ---- keys are stored only as SHA-256 -----------------------------------
check_hash() { # CLIENT_ID KEY
    check "key_sha256 of $1 is sha256(key)" test "$(sql \
        "SELECT encode(key_sha256, 'hex') FROM api_clients
         WHERE client_id = '$1'")" = "$(sha256 "$2")"
}
check_hash "$cl1" "$key1"
check_hash "$cl5" "$key5"
check_hash "$cld1" "$keyd1"
check "every stored hash is 32 bytes" test "$(sql \
    "SELECT count(*) FROM api_clients WHERE length(key_sha256) <> 32")" -eq 0

# No plain key anywhere in the test schema: every row of every table,
# as text (bytea renders as hex, so a hex key stored raw would show too).
key_found() { # KEY: prints the tables holding it
    for t in $(sql "SELECT tablename FROM pg_tables
                    WHERE schemaname = '$schema'"); do
        c=$(sql "SELECT count(*) FROM \"$t\" r
                 WHERE position('$1' IN r::text) > 0")
        [ "$c" -eq 0 ] || echo "$t"
    done
}
for k in "$key1" "$key2" "$key3" "$key4" "$key5" "$keyd1" "$keyd2" \
         "$keyd3"; do
    check "plain key ${k%"${k#????????}"}... in no table" \
        test -z "$(key_found "$k")"
done
check "no key ever written to stderr" eval '! grep -Eq "[0-9a-f]{64}" \
    "$tmp/all_err"'

echo "1..$n"
if [ "$failed" -ne 0 ]; then
    echo "# $failed of $n checks failed"
    exit 1
fi
exit 0
