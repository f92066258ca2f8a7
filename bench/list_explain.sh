#!/usr/bin/env bash
# bench/list_explain.sh: GET /customers at scale. Creates a scratch
# PostgreSQL cluster, applies the schema, inserts N customers (default
# 1,000,000) into one company (plus a few in another), and prints EXPLAIN
# ANALYZE of the module's list statement for page 1 and for the last page,
# and of the total. Run as root or as a user that can run initdb.
#   bench/list_explain.sh [N]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-1000000}
PGBIN=/usr/lib/postgresql/15/bin
DIR=$(mktemp -d /tmp/cartevo-list.XXXXXX)
PORT=${CARTEVO_LIST_PG_PORT:-55490}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
as_pg "$PGBIN/initdb" -D "$DIR/data" -A trust -E UTF8 --locale=C.UTF-8 -U postgres >/dev/null
as_pg "$PGBIN/pg_ctl" -w -D "$DIR/data" -l "$DIR/log" -o "-k $DIR -p $PORT -c listen_addresses=127.0.0.1" start >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null; rm -rf "$DIR"' EXIT
DB="postgresql://postgres@127.0.0.1:$PORT/postgres"
"$ROOT/cartevoctl" --db "$DB" migrate --dir "$ROOT/conf/schema" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 "$DB" <<SQL
INSERT INTO companies (id, name, kyb_status) VALUES
  ('00000000-0000-4000-8000-000000000001', 'Big', 'APPROVED'),
  ('00000000-0000-4000-8000-000000000002', 'Small', 'APPROVED');
INSERT INTO customers (id, company_id, first_name, last_name, email, country,
  street, city, state, postal_code, country_iso_code, phone_country_code,
  phone_number, identification_number, id_document_type, date_of_birth, created_at)
SELECT gen_random_uuid(),
  CASE WHEN g % 100000 = 0 THEN '00000000-0000-4000-8000-000000000002'::uuid
       ELSE '00000000-0000-4000-8000-000000000001'::uuid END,
  'John', 'Doe', 'c' || g || '@example.com', 'Nigeria', '1 Main St', 'Lagos',
  'Lagos', '100001', 'NG', '+234', '8012345678', 'ID' || g, 'VOTERS_CARD',
  '1990-01-15', timestamptz '2026-01-01' + g * interval '1 second'
FROM generate_series(1, $N) g;
VACUUM ANALYZE customers;
VACUUM ANALYZE customer_counts;
SQL
BIG=00000000-0000-4000-8000-000000000001
TOTAL=$(psql -X -At "$DB" -c "SELECT sum(n) FROM customer_counts WHERE company_id = '$BIG'")
LAST=$(( (TOTAL + 9) / 10 ))
# The statement of src/module/db.c (CC_SQL_LIST_CUSTOMERS), parameters inlined.
list_sql() { # $1 = page
  cat <<SQL
WITH t AS (SELECT coalesce(sum(n), 0) AS total FROM customer_counts WHERE company_id = '$BIG'),
p AS (SELECT seq FROM customers WHERE company_id = '$BIG' ORDER BY created_at DESC, seq DESC
      LIMIT 10 OFFSET ($1 - 1) * 10)
SELECT t.total, c.id, c.email, c.created_at,
  c.front_url IS NULL AND EXISTS (SELECT 1 FROM customer_documents d WHERE d.customer_id = c.id AND d.side = 'front')
FROM t LEFT JOIN (p JOIN customers c ON c.seq = p.seq) ON true
ORDER BY c.created_at DESC, c.seq DESC
SQL
}
echo "customers in the big company: $TOTAL (of $N); count(*) says $(psql -X -At "$DB" -c "SELECT count(*) FROM customers WHERE company_id = '$BIG'")"
echo "== page 1, limit 10"
psql -X -At "$DB" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $(list_sql 1)"
echo "== page $LAST (the last), limit 10"
psql -X -At "$DB" -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $(list_sql "$LAST")"
