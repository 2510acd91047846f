#!/usr/bin/env bash
# Backstream reading a D1 database over the HTTP API (the emulator, scripts/d1_emulator.py)
# against the path wrangler takes (POST /export with polling, download the SQL, gzip -6):
#
#   bash Benchmarks/d1-compare.sh [SIZE_MB]      (default 200; the portal database of bench.py)
#
# Prints wall time, rows/s, requests per backup and peak RSS of `backstream dump d1://… --gzip`,
# and the time and size of export + download + gzip -6. The binary is $BACKSTREAM_BIN, else
# .build/release/backstream, else .build/debug/backstream.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
SIZE=${1:-200}
BIN=${BACKSTREAM_BIN:-}
[ -n "$BIN" ] || for candidate in "$ROOT/.build/release/backstream" "$ROOT/.build/debug/backstream"; do
    [ -x "$candidate" ] && BIN=$candidate && break
done
[ -x "$BIN" ] || { echo "no backstream binary; build it first" >&2; exit 1; }

mkdir -p "$BENCH_DIR/data"
DB="$BENCH_DIR/data/portal-$SIZE.db"
[ -f "$DB" ] || bash "$BENCH_DIR/generate-portal-db.sh" "$SIZE" "$DB"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/backstream-d1-bench.XXXXXX")
trap 'd1_stop; rm -rf "$WORK"' EXIT
cd "$ROOT"
# shellcheck source=scripts/d1.sh
source scripts/d1.sh
D1_EMULATOR_ARGS=--verbose d1_start
# The portal database has a trigger and a view but no virtual table, so /export accepts it.
cp "$DB" "$BACKSTREAM_TEST_D1_DIR/portal.sqlite3"
export CLOUDFLARE_API_TOKEN=$BACKSTREAM_TEST_D1_TOKEN CLOUDFLARE_API_BASE_URL=$BACKSTREAM_TEST_D1_BASE_URL
export CLOUDFLARE_ACCOUNT_ID=$BACKSTREAM_TEST_D1_ACCOUNT
auth=(-H "Authorization: Bearer $CLOUDFLARE_API_TOKEN")
api="$CLOUDFLARE_API_BASE_URL/accounts/$CLOUDFLARE_ACCOUNT_ID/d1/database"
id=$(curl -s "${auth[@]}" "$api?name=portal" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"][0]["uuid"])')
rows=$(sqlite3 "$DB" "SELECT sum(n) FROM (SELECT count(*) n FROM organizations UNION ALL SELECT count(*) FROM users UNION ALL SELECT count(*) FROM clients UNION ALL SELECT count(*) FROM tags UNION ALL SELECT count(*) FROM knowledge_base_articles UNION ALL SELECT count(*) FROM tickets UNION ALL SELECT count(*) FROM ticket_comments UNION ALL SELECT count(*) FROM attachments UNION ALL SELECT count(*) FROM ticket_tags UNION ALL SELECT count(*) FROM invoices UNION ALL SELECT count(*) FROM invoice_items UNION ALL SELECT count(*) FROM payments UNION ALL SELECT count(*) FROM activity_log)")

start=$(date +%s.%N)
/usr/bin/time -f '%M %U %S' -o "$WORK/time" "$BIN" dump d1:///portal --gzip -o "$WORK/backstream.sql.gz" 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
end=$(date +%s.%N)
read -r rss user sys < "$WORK/time"
wall=$(python3 -c "print(round($end - $start, 2))")
requests=$(grep -c '"[A-Z]* /' "$D1_DIR/d1.log" || true)
echo "backstream dump d1:// --gzip: ${wall}s wall, $(python3 -c "print(int($rows / $wall))") rows/s ($rows rows), $requests requests, peak RSS $((rss / 1024)) MiB, CPU ${user}s user ${sys}s sys, $(stat -c %s "$WORK/backstream.sql.gz") bytes"

start=$(date +%s.%N)
body='{"output_format":"polling"}'
answer=$(curl -s "${auth[@]}" -d "$body" "$api/$id/export")
bookmark=$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["at_bookmark"])')
while :; do
    answer=$(curl -s "${auth[@]}" -d "{\"output_format\":\"polling\",\"current_bookmark\":\"$bookmark\"}" "$api/$id/export")
    status=$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["status"])')
    [ "$status" = complete ] && break
    [ "$status" = error ] && { echo "export failed: $answer" >&2; exit 1; }
    sleep 1
done
url=$(printf '%s' "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["result"]["signed_url"])')
curl -s "$url" | gzip -6 > "$WORK/export.sql.gz"
end=$(date +%s.%N)
echo "POST /export + download + gzip -6: $(python3 -c "print(round($end - $start, 2))")s wall, $(stat -c %s "$WORK/export.sql.gz") bytes"
