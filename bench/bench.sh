# bench/bench.sh: the scenarios of ./dev bench (issue 8), sourced by ./dev,
# whose functions (start_pg, start_httpd, start_kycd, ctl, ...) it uses.
# Every scenario prints one table row and appends one JSON object to
# bench/results.json (fields in README "Performance").
#
# Environment: CARTEVO_BENCH_SECONDS (10 per wrk run),
# CARTEVO_BENCH_JOBS (5000, scenario d), CARTEVO_BENCH_CUSTOMERS (1000000,
# scenario c), CARTEVO_BENCH_ONLY (a subset of "e d a b c", in that
# order), CARTEVO_BENCH_CONC (the concurrencies of a, default "1 16 64
# 256"). A partial run writes its results to $STATE/results.json, so the
# committed file always comes from one full run.

BENCH_SECS=${CARTEVO_BENCH_SECONDS:-10}
BENCH_JOBS=${CARTEVO_BENCH_JOBS:-5000}
BENCH_CUSTOMERS=${CARTEVO_BENCH_CUSTOMERS:-1000000}
BENCH_ONLY=${CARTEVO_BENCH_ONLY:-e d a b c}
BENCH_CONC=${CARTEVO_BENCH_CONC:-1 16 64 256}
HZ=$(getconf CLK_TCK)
export CARTEVO_BENCH_LUA="$ROOT/bench"

# Durable and sized as the README recommends for production: fsync,
# synchronous_commit and full_page_writes stay on (the defaults).
pg_production_opts() {
  printf '%s' "-c fsync=on -c synchronous_commit=on -c full_page_writes=on \
-c shared_buffers=512MB -c wal_buffers=16MB -c max_wal_size=4GB \
-c checkpoint_timeout=15min -c max_connections=300 ${CARTEVO_BENCH_PG_OPTS:-}"
  [ -n "${CARTEVO_BENCH_PGSS:-}" ] && printf '%s' " -c shared_preload_libraries=pg_stat_statements \
-c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on"
  return 0
}

# CARTEVO_BENCH_PGSS=1: PostgreSQL's statement statistics per scenario in
# $STATE/pgss-<scenario>.txt (time in execution and planning, by
# statement), to find what a scenario's database CPU is spent on.
pgss() { # $1 = reset | dump NAME
  [ -n "${CARTEVO_BENCH_PGSS:-}" ] || return 0
  local su=(psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d cartevo)
  if [ "$1" = reset ]; then
    "${su[@]}" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
      -c "SELECT pg_stat_statements_reset()" >/dev/null
  else
    "${su[@]}" -c "SELECT calls, round(total_exec_time::numeric, 1) AS exec_ms,
      round(total_plan_time::numeric, 1) AS plan_ms, rows,
      left(regexp_replace(query, '\s+', ' ', 'g'), 160) AS query
      FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC
      LIMIT 25" > "$STATE/pgss-$2.txt"
  fi
}

# --- /proc accounting ---------------------------------------------------
# "utime+stime cutime+cstime" of a process, in clock ticks.
proc_ticks() {
  [ -r "/proc/$1/stat" ] || { echo "0 0"; return; }
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13, $14 + $15}'
}

# A process and its live children, plus the CPU of children it has
# reaped (exited httpd children, PostgreSQL backends).
tree_ticks() {
  local pid=$1 kid total own reaped
  read -r own reaped < <(proc_ticks "$pid")
  total=$((own + reaped))
  for kid in $(pgrep -P "$pid"); do
    read -r own reaped < <(proc_ticks "$kid")
    total=$((total + own))
  done
  echo "$total"
}

httpd_pid() { cat "$STATE/httpd/httpd.pid" 2>/dev/null || echo 0; }
pg_pid() { head -1 "$STATE/pg/data/postmaster.pid" 2>/dev/null || echo 0; }
kycd_pid() { cat "$STATE/kycd/kycd.pid" 2>/dev/null || echo 0; }

# "httpd postgres kycd decoders" CPU ticks. The daemon reaps its
# decoders, so theirs is its children's time.
cpu_snapshot() {
  local k own reaped
  read -r own reaped < <(proc_ticks "$(kycd_pid)")
  echo "$(tree_ticks "$(httpd_pid)") $(tree_ticks "$(pg_pid)") $own $reaped"
}

# Summed PSS (MB) of httpd's processes and the daemon.
pss_mb() {
  local pids p
  pids="$(httpd_pid) $(pgrep -P "$(httpd_pid)" | tr '\n' ' ') $(kycd_pid)"
  for p in $pids; do
    [ -r "/proc/$p/smaps_rollup" ] || continue
    awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup"
  done | awk '{s += $1} END {printf "%.1f", s / 1024}'
}

# Runs wrk (the arguments) and prints its wrk_result line and
# "wrk_cpu SECONDS": wrk is the only child of the subshell, whose times
# builtin must run in that shell itself (a pipe would fork it afresh).
run_wrk() {
  (
    if [ -n "${CARTEVO_BENCH_MAX:-}" ]; then
      wrk_limited "$@" > "$STATE/wrk.out" || true
    else
      wrk "$@" > "$STATE/wrk.out" || true
    fi
    times > "$STATE/wrk.times"
  )
  grep '^wrk_result' "$STATE/wrk.out" || true
  sed -n 2p "$STATE/wrk.times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
    printf "wrk_cpu %.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}

# wrk with -t2 and CARTEVO_BENCH_MAX requests (create.lua): wrk sleeps for
# all of -d even once its threads have stopped, but a SIGINT ends the
# sleep and it then reports the time actually taken.
wrk_limited() {
  local done_base="$STATE/wrk-done" pid n
  rm -f "$done_base".*
  CARTEVO_BENCH_DONE=$done_base CARTEVO_BENCH_THREADS=2 wrk "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    n=$(find "$STATE" -maxdepth 1 -name 'wrk-done.*' | wc -l)
    [ "$n" -ge 2 ] && { kill -INT "$pid" 2>/dev/null; break; }
    sleep 0.2
  done
  wait "$pid" || true
  rm -f "$done_base".*
}

# --- results ---------------------------------------------------------------
RESULTS_TMP=
bench_results_begin() {
  RESULTS_TMP="$STATE/results.json.tmp"
  : > "$RESULTS_TMP"
  printf '%-34s %7s %7s %7s %8s %6s %6s %6s %5s %5s %5s %7s\n' scenario 'req/s' \
    'p50' 'p99' 'p99.9' 'conc' errors httpd pg kycd dec 'wrk PSS'
  printf '%-34s %7s %7s %7s %8s %6s %6s %6s %5s %5s %5s %7s\n' '' '' 'ms' 'ms' 'ms' '' '' \
    'CPU ms per request ->' '' '' '' 'MB'
}

bench_results_end() {
  local out="$STATE/results.json"
  if [ -z "${CARTEVO_BENCH_ONLY:-}${CARTEVO_BENCH_CONC:-}" ] \
      && [ "$BENCH_SECS" = 10 ] && [ "$BENCH_JOBS" = 5000 ] \
      && [ "$BENCH_CUSTOMERS" = 1000000 ]; then
    out="$ROOT/bench/results.json"
  fi
  { echo '['; sed '$!s/$/,/' "$RESULTS_TMP"; echo ']'; } > "$out"
  rm -f "$RESULTS_TMP"
  say "bench: results in $out"
}

# measure NAME CONC WRK_ARGS...: one wrk run with CPU and PSS accounting.
# Sets M_RPS, M_P99, M_HTTPD (CPU ms per request) for the targets.
measure() {
  local name=$1 conc=$2 c0 c1 out pss
  shift 2
  c0=$(cpu_snapshot)
  out=$(run_wrk -t"$(( conc < 2 ? conc : 2 ))" -c"$conc" --timeout 10s "$@")
  c1=$(cpu_snapshot)
  pss=$(pss_mb)
  record "$name" "$conc" "$c0" "$c1" "$out" "$pss"
}

# record NAME CONC CPU0 CPU1 WRK_OUTPUT PSS: prints the row, appends JSON.
record() {
  local row
  row=$(awk -v name="$1" -v conc="$2" -v c0="$3" -v c1="$4" -v pss="$6" -v hz="$HZ" \
    -v out="$5" 'BEGIN {
      n = split(out, lines, "\n")
      for (i = 1; i <= n; i++) {
        m = split(lines[i], f, " ")
        if (f[1] == "wrk_cpu") wrk = f[2]
        if (f[1] == "wrk_result") for (j = 2; j <= m; j++) { split(f[j], kv, "="); r[kv[1]] = kv[2] }
      }
      split(c0, a, " "); split(c1, b, " ")
      req = r["requests"] + 0; div = (req > 0 ? req : 1)
      for (k = 1; k <= 4; k++) ms[k] = (b[k] - a[k]) / hz * 1000 / div
      wms = wrk * 1000 / div
      err = r["non2xx"] + r["e_connect"] + r["e_read"] + r["e_write"] + r["e_timeout"]
      printf "%-34s %7.0f %7.1f %7.1f %8.1f %6d %6d %6.2f %5.2f %5.2f %5.2f %5.2f %6.1f\n",
        name, r["rps"], r["p50"], r["p99"], r["p999"], conc, err, ms[1], ms[2], ms[3], ms[4], wms, pss
      printf "JSON {\"scenario\":\"%s\",\"concurrency\":%d,\"requests\":%d,\"seconds\":%.2f,\"rps\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"p999_ms\":%.2f,\"max_ms\":%.2f,\"errors\":{\"non2xx\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"timeout\":%d},\"cpu_ms_per_request\":{\"httpd\":%.3f,\"postgres\":%.3f,\"kycd\":%.3f,\"decoders\":%.3f,\"wrk\":%.3f},\"pss_mb\":%.1f}\n",
        name, conc, req, r["seconds"], r["rps"], r["p50"], r["p99"], r["p999"], r["max"],
        r["non2xx"], r["e_connect"], r["e_read"], r["e_write"], r["e_timeout"],
        ms[1], ms[2], ms[3], ms[4], wms, pss
    }')
  grep -v '^JSON ' <<<"$row"
  sed -n 's/^JSON //p' <<<"$row" >> "$RESULTS_TMP"
  row=$(grep -v '^JSON ' <<<"$row")
  M_RPS=$(awk '{print $(NF-11)}' <<<"$row")
  M_P99=$(awk '{print $(NF-9)}' <<<"$row")
  M_HTTPD=$(awk '{print $(NF-5)}' <<<"$row")
  M_PG=$(awk '{print $(NF-4)}' <<<"$row")
}

# A free-form result (d, b's memory): a JSON object as given.
record_json() { printf '%s\n' "$1" >> "$RESULTS_TMP"; }

# --- fixtures and setup ------------------------------------------------------
bench_token() { # $1 = company name; sets B_CID (company id) and B_TOKEN
  local creds cid key
  creds=$(ctl company create "$1 $(date +%s%N)" --kyb APPROVED)
  B_CID=$(sed -n 's/^company_id=//p' <<<"$creds")
  cid=$(sed -n 's/^client_id=//p' <<<"$creds")
  key=$(sed -n 's/^client_key=//p' <<<"$creds")
  B_TOKEN=$(curl -s -X POST "$BENCH_BASE/auth/token" -H 'Content-Type: application/json' \
    -d "{\"client_id\":\"$cid\",\"client_key\":\"$key\"}" \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  [ -n "$B_TOKEN" ] || die "bench: no token"
}

nonce() { printf '%08x' $(( ($(date +%s%N) / 1000) % 4294967296 )); }

build_bench_module() {
  local dir="$STATE/bench-module"
  mkdir -p "$dir" "$STATE/httpd"
  cp "$ROOT/bench/mod_cartevo_bench.c" "$dir/"
  (cd "$dir" && apxs -c -Wc,-Wall -Wc,-Wextra -Wc,-Werror mod_cartevo_bench.c >"$dir/build.log" 2>&1) \
    || die "bench: mod_cartevo_bench did not build"
  cat > "$STATE/httpd/bench.conf" <<CONF
LoadModule cartevo_bench_module "$dir/.libs/mod_cartevo_bench.so"
<Location /bench/discard>
    SetHandler cartevo-bench-discard
</Location>
<Location /bench/json>
    SetHandler cartevo-bench-json
</Location>
CONF
}

# Sets aside every unfinished job (a bench database only), so that the
# daemon starts from an empty queue.
drop_backlog() {
  psql -X -q -At "$CARTEVO_DB" -c "UPDATE kyc_jobs SET state = 'failed', \
    last_error = 'bench: set aside' WHERE state IN ('queued', 'running')" >/dev/null
}

pending_jobs() {
  psql -X -At "$CARTEVO_DB" -c "SELECT count(*) FROM kyc_jobs WHERE state IN ('queued', 'running')"
}

# A create with the given documents through wrk's script, c=1, once.
warm_up() { # $1 = front, $2 = back
  wrk -t2 -c16 -d2s -s "$ROOT/bench/create.lua" "$BENCH_BASE/customers" -- \
    "$B_TOKEN" "$1" "$2" "$(nonce)" >/dev/null
}

# --- scenarios -----------------------------------------------------------------
FRONT="$ROOT/bench/fixtures/front.jpg"
BACK="$ROOT/bench/fixtures/back.png"

# (e) httpd's own ceilings, from the bench-only module.
scenario_e() {
  echo /bench/json > "$STATE/paths-json"
  measure "(e) discard POST (create body)" 16 -d"${BENCH_SECS}s" -s "$ROOT/bench/create.lua" \
    "http://127.0.0.1:$HTTP_PORT/bench/discard" -- "$B_TOKEN" "$FRONT" "$BACK" "$(nonce)"
  E_POST_HTTPD=$M_HTTPD
  measure "(e) fixed 1 KB JSON GET" 16 -d"${BENCH_SECS}s" -s "$ROOT/bench/get.lua" \
    "http://127.0.0.1:$HTTP_PORT" -- - "$STATE/paths-json"
  E_JSON_RPS=$M_RPS
}

# (d) the daemon from a backlog of demo-document jobs (local provider, no
# enrollment, webhooks to a local receiver), and the decoders alone.
scenario_d() {
  local rport=$((HTTP_PORT + 7)) t0 t1 c0 c1 left n ceiling el
  stop_kycd
  drop_backlog
  perl "$ROOT/bench/receiver.pl" "$rport" "$STATE/receiver.pid" &
  ctl webhook set "$B_CID" "http://127.0.0.1:$rport/hook" >/dev/null
  write_kycd_conf "allow_targets = 127.0.0.1:$rport"
  CARTEVO_BENCH_MAX=$BENCH_JOBS wrk_limited -t2 -c16 -d600s --timeout 10s \
    -s "$ROOT/bench/create.lua" "$BENCH_BASE/customers" -- "$B_TOKEN" \
    "$ROOT/conf/demo/id-front.jpg" "$ROOT/conf/demo/id-back.png" "$(nonce)" >/dev/null
  n=$(pending_jobs)
  c0=$(cpu_snapshot)
  t0=$(date +%s.%N)
  start_kycd
  c0="$(cut -d' ' -f1,2 <<<"$c0") 0 0"
  while left=$(pending_jobs); [ "$left" -gt 0 ]; do
    sleep 0.5
    [ "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {print (b - a > 1800)}')" = 1 ] \
      && die "bench: the daemon left $left of $n jobs after 30 minutes"
  done
  t1=$(date +%s.%N)
  c1=$(cpu_snapshot)
  stop_kycd
  kill "$(cat "$STATE/receiver.pid")" 2>/dev/null || true
  ceiling=$(perl "$ROOT/bench/decode_ceiling.pl" "$CARTEVO_KYCD" "$BENCH_SECS" 2 \
    "jpeg:$ROOT/conf/demo/id-front.jpg" "png:$ROOT/conf/demo/id-back.png")
  awk -v n="$n" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v hz="$HZ" -v ceil="$ceiling" \
    -v out="$STATE/d.json" 'BEGIN {
      el = t1 - t0; split(c0, a, " "); split(c1, b, " ")
      for (k = 1; k <= 4; k++) ms[k] = (b[k] - a[k]) / hz * 1000 / (n > 0 ? n : 1)
      split(ceil, f, " "); for (j = 2; j in f; j++) { split(f[j], kv, "="); r[kv[1]] = kv[2] }
      jobs = n / el; cj = r["docs_per_s"] / 2
      printf "(d) kycd backlog %28d jobs/s over %d jobs in %.1f s; decode-bound ceiling %.0f jobs/s (%.0f documents/s): %.0f %%; CPU ms/job httpd %.2f pg %.2f kycd %.2f dec %.2f\n",
        jobs, n, el, cj, r["docs_per_s"], (cj > 0 ? 100 * jobs / cj : 0), ms[1], ms[2], ms[3], ms[4]
      printf "{\"scenario\":\"(d) kycd backlog\",\"jobs\":%d,\"seconds\":%.2f,\"jobs_per_s\":%.1f,\"ceiling_jobs_per_s\":%.1f,\"ceiling_documents_per_s\":%.1f,\"ceiling_cpu_ms_per_document\":%.2f,\"of_ceiling_pct\":%.1f,\"cpu_ms_per_job\":{\"httpd\":%.3f,\"postgres\":%.3f,\"kycd\":%.3f,\"decoders\":%.3f}}\n",
        n, el, jobs, cj, r["docs_per_s"], r["cpu_ms_per_doc"], (cj > 0 ? 100 * jobs / cj : 0), ms[1], ms[2], ms[3], ms[4] > out
    }'
  record_json "$(cat "$STATE/d.json")"
  D_LINE=$(sed -E 's/.*"jobs_per_s":([0-9.]+).*"ceiling_jobs_per_s":([0-9.]+).*/\1 \2/' "$STATE/d.json")
  write_kycd_conf ""
}

# (a) the two-document create, daemon stopped, then c=16 with it running.
scenario_a() {
  local c
  stop_kycd
  warm_up "$FRONT" "$BACK"
  for c in $BENCH_CONC; do
    measure "(a) create c=$c" "$c" -d"${BENCH_SECS}s" -s "$ROOT/bench/create.lua" \
      "$BENCH_BASE/customers" -- "$B_TOKEN" "$FRONT" "$BACK" "$(nonce)"
    if [ "$c" = 16 ]; then A16_HTTPD=$M_HTTPD; A16_PG=$M_PG; fi
  done
  drop_backlog
  start_kycd
  measure "(a) create c=16, daemon running" 16 -d"${BENCH_SECS}s" -s "$ROOT/bench/create.lua" \
    "$BENCH_BASE/customers" -- "$B_TOKEN" "$FRONT" "$BACK" "$(nonce)"
  stop_kycd
}

# (b) two 9.5 MiB documents per create, c=8, 50 requests; PSS before and
# after.
scenario_b() {
  local big="$STATE/big-9.5MiB.jpg" before after
  [ -s "$big" ] || perl "$ROOT/bench/pad_jpeg.pl" "$ROOT/conf/demo/id-front.jpg" "$big" 9961472
  CARTEVO_BENCH_MAX=16 wrk_limited -t2 -c8 -d120s --timeout 10s -s "$ROOT/bench/create.lua" \
    "$BENCH_BASE/customers" -- "$B_TOKEN" "$big" "$big" "$(nonce)" >/dev/null
  before=$(pss_mb)
  CARTEVO_BENCH_MAX=50 measure "(b) create 2 x 9.5 MiB c=8" 8 -d120s -s "$ROOT/bench/create.lua" \
    "$BENCH_BASE/customers" -- "$B_TOKEN" "$big" "$big" "$(nonce)"
  after=$(pss_mb)
  awk -v b="$before" -v a="$after" 'BEGIN {
    printf "(b) memory PSS %.1f MB before, %.1f after: growth %.1f MB\n", b, a, a - b }'
  record_json "$(printf '{"scenario":"(b) memory","pss_mb_before":%s,"pss_mb_after":%s}' "$before" "$after")"
}

documented_customers() {
  psql -X -At "$CARTEVO_DB" -c "SELECT '/api/v1/customers/' || c.id FROM customers c
    JOIN customer_documents d ON d.customer_id = c.id AND d.side = 'front'
      AND d.size_bytes < 1048576
    WHERE c.company_id = '$B_CID' ORDER BY c.created_at DESC LIMIT 1000"
}

# (c) reads at c=16 with BENCH_CUSTOMERS customers in the company.
scenario_c() {
  local have
  have=$(psql -X -At "$CARTEVO_DB" -c "SELECT count(*) FROM customers WHERE company_id = '$B_CID'")
  if [ "$have" -lt "$BENCH_CUSTOMERS" ]; then
    say "bench: inserting $((BENCH_CUSTOMERS - have)) customers (c)"
    psql -X -q -v ON_ERROR_STOP=1 "$CARTEVO_DB" >/dev/null <<SQL
INSERT INTO customers (id, company_id, first_name, last_name, email, country,
  street, city, state, postal_code, country_iso_code, phone_country_code,
  phone_number, identification_number, id_document_type, date_of_birth, created_at)
SELECT gen_random_uuid(), '$B_CID', 'John', 'Doe', 'seed' || g || '@example.com',
  'Nigeria', '1 Main St', 'Lagos', 'Lagos', '100001', 'NG', '+234', '8012345678',
  'SEED' || g, 'VOTERS_CARD', '1990-01-15', now() - g * interval '1 second'
FROM generate_series(1, $((BENCH_CUSTOMERS - have))) g;
VACUUM ANALYZE customers;
VACUUM ANALYZE customer_counts;
SQL
  fi
  # Customers with documents (the creates of this run, or made now).
  [ -n "$(documented_customers)" ] || warm_up "$FRONT" "$BACK"
  documented_customers > "$STATE/paths-get"
  [ -s "$STATE/paths-get" ] || die "bench: no customer with documents for (c)"
  sed 's|$|/documents/front|' "$STATE/paths-get" > "$STATE/paths-doc"
  echo "/api/v1/customers?limit=100" > "$STATE/paths-list"
  measure "(c) GET /customers/{id}" 16 -d"${BENCH_SECS}s" -s "$ROOT/bench/get.lua" \
    "http://127.0.0.1:$HTTP_PORT" -- "$B_TOKEN" "$STATE/paths-get"
  C_GET_RPS=$M_RPS
  measure "(c) GET .../documents/front" 16 -d"${BENCH_SECS}s" -s "$ROOT/bench/get.lua" \
    "http://127.0.0.1:$HTTP_PORT" -- "$B_TOKEN" "$STATE/paths-doc"
  C_DOC_RPS=$M_RPS
  measure "(c) GET /customers?limit=100" 16 -d"${BENCH_SECS}s" -s "$ROOT/bench/get.lua" \
    "http://127.0.0.1:$HTTP_PORT" -- "$B_TOKEN" "$STATE/paths-list"
  C_LIST_RPS=$M_RPS
}

# The issue's targets, from this run's figures.
bench_targets() {
  if [ -n "${A16_HTTPD:-}" ] && [ -n "${E_POST_HTTPD:-}" ]; then
    awk -v a="$A16_HTTPD" -v e="$E_POST_HTTPD" -v pg="$A16_PG" 'BEGIN {
      printf "targets: httpd CPU per create (c=16) %.2f ms = %.1f x the discard POST (goal <= 4); PostgreSQL %.2f ms\n",
        a, (e > 0 ? a / e : 0), pg }'
  fi
  if [ -n "${C_GET_RPS:-}" ] && [ -n "${E_JSON_RPS:-}" ]; then
    awk -v g="$C_GET_RPS" -v d="$C_DOC_RPS" -v l="$C_LIST_RPS" -v j="$E_JSON_RPS" 'BEGIN {
      printf "targets: GET by id %.0f %% and download %.0f %% of fixed JSON (goals 40/30 %%); list %.0f/s (goal 1000)\n",
        100 * g / j, 100 * d / j, l }'
  fi
  if [ -n "${D_LINE:-}" ]; then
    awk -v l="$D_LINE" 'BEGIN { split(l, f, " ");
      printf "targets: daemon %.0f jobs/s = %.0f %% of its decode-bound ceiling (goal >= 80 %%)\n",
        f[1], (f[2] > 0 ? 100 * f[1] / f[2] : 0) }'
  fi
}

# ./dev bench --compare: the peer's compare.sh on the same token.
bench_compare() {
  local cmp="$ROOT/../shared/peers/compare.sh" nv
  if [ ! -x "$cmp" ] && [ ! -f "$cmp" ]; then
    say "bench: --compare needs ../shared/peers/compare.sh beside the clone: skipped"; return 0
  fi
  command -v node >/dev/null || { is_root && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
  nv=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$nv" -lt 20 ]; then
    say "bench: --compare needs Node.js >= 20 (found $(node --version 2>/dev/null || echo none)): skipped"
    return 0
  fi
  stop_kycd
  drop_backlog
  bash "$cmp" "$BENCH_BASE" "$B_TOKEN" 15 3 16 | tee "$STATE/compare.log" | grep -E '^(ratio|round|project|fastify)' || true
  record_json "$(awk '/^ratio project\/fastify:/ { gsub(/"/, ""); printf "{\"scenario\":\"compare.sh 15 3 16\",\"line\":\"%s\"}", $0 }' "$STATE/compare.log")"
}

bench_main() { # $1 = --compare or empty
  BENCH_BASE="http://127.0.0.1:$HTTP_PORT/api/v1"
  build_bench_module
  start_httpd
  write_kycd_conf ""
  bench_token "Bench"
  bench_results_begin
  local s
  for s in e d a b c; do
    [[ " $BENCH_ONLY " == *" $s "* ]] || continue
    pgss reset
    "scenario_$s"
    pgss dump "$s"
  done
  bench_targets
  [ "${1:-}" = --compare ] && bench_compare
  bench_results_end
}
