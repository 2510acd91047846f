#!/usr/bin/env bash
# Generates a deterministic "tech support client portal" SQLite database of roughly SIZE_MB
# megabytes (MiB, ±10%) for benchmarking dumps.
#
#   bash Benchmarks/generate-portal-db.sh SIZE_MB OUT.db [SEED]
#
# Every row is produced inside SQLite by recursive CTEs, driven through the sqlite3 CLI; the
# CLI's `.testctrl prng_seed` makes random()/randomblob() repeatable, so the same SIZE_MB and
# SEED give the same rows. The data exercises what a dumper must get right: UTF-8 text with
# accents, CJK, RTL scripts and emoji, embedded newlines and quotes, JSON, blobs (random and
# text-like), REALs with full-precision fractions, NULLs, 64-bit integers including the
# extremes, timestamps as text and as integers, a table without INTEGER PRIMARY KEY, indexes,
# a view, a trigger, and a non-zero user_version/application_id.
set -euo pipefail

usage() { echo "usage: $0 SIZE_MB OUT.db [SEED]" >&2; exit 2; }
[[ $# -ge 2 && $# -le 3 ]] || usage
SIZE_MB=$1
OUT=$2
SEED=${3:-20261125}
[[ $SIZE_MB =~ ^[0-9]+$ && $SIZE_MB -ge 1 ]] || { echo "SIZE_MB must be a positive integer" >&2; exit 2; }
[[ $SEED =~ ^[0-9]+$ ]] || { echo "SEED must be a non-negative integer" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 not found (Debian: apt-get install sqlite3)" >&2; exit 1; }

# Rows per MiB of database. Calibrated on sqlite3 3.40.1 (4 KiB pages): the file lands within a
# few per cent of SIZE_MB from 5 MiB up. Blobs are about a quarter of the bytes, text most of the
# rest, as in a real portal.
count() { # count PER_MIB MINIMUM
    awk -v s="$SIZE_MB" -v r="$1" -v m="$2" 'BEGIN { n = int(s * r * 1.05 + 0.5); if (n < m) n = m; print n }'
}
N_ORGS=$(count 1 2)
N_USERS=$(count 24 10)
N_CLIENTS=$(count 12 5)
N_TAGS=$(count 4 30)
N_KB=$(count 6 3)
N_TICKETS=$(count 80 20)
N_COMMENTS=$(count 320 80)
N_ATTACH=$(count 12 5)
N_TICKET_TAGS=$(count 160 40)
N_INVOICES=$(count 50 10)
N_ITEMS=$(count 200 40)
N_PAYMENTS=$(count 40 8)
N_ACTIVITY=$(count 900 200)

rm -f "$OUT" "$OUT-journal" "$OUT-wal" "$OUT-shm"

# R: a non-negative 31-bit random integer (masking avoids abs()'s overflow on INT64_MIN).
R="(random() & 2147483647)"
# Timestamps span 2020-01-01 .. 2024-12-31; rows are roughly in time order of their ids.
T0=1577836800
SPAN=157766400
# PARA(ref): one pseudo-random paragraph; `ref` must name a column of the outer row so the
# subquery is correlated (evaluated per row) instead of computed once.
para() { echo "(SELECT t FROM temp.para WHERE id = ($R + $1 * 0) % 4096)"; }

start=$(date +%s)
# The SQL lives beside this script: the schema and the indexes as they are, the rows as a
# here-document template expanded with the counts, seed and helpers above.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA_SQL=$(<"$BENCH_DIR/portal-data.sql")
{
    cat "$BENCH_DIR/portal-schema.sql"
    eval "cat <<SQL
$DATA_SQL
SQL"
    cat "$BENCH_DIR/portal-indexes.sql"
} | sqlite3 -batch "$OUT" >/dev/null
end=$(date +%s)

bytes=$(stat -c %s "$OUT")
awk -v o="$OUT" -v b="$bytes" -v t="$SIZE_MB" -v s=$((end - start)) \
    'BEGIN { printf "generated %s: %d bytes (%.1f MiB, target %d MiB, %+.1f%%) in %d s\n", o, b, b / 1048576, t, (b / 1048576 / t - 1) * 100, s }' >&2
