#!/usr/bin/env bash
# Cost of age encryption on a backup: the same database backed up to a folder store with and
# without --encrypt-to, alternating, N runs each; prints the medians of wall time, CPU time
# (user+sys) and peak RSS from /usr/bin/time -v, and the encrypted/plain wall ratio.
#
#   bash Benchmarks/encryption.sh [--db PATH] [--size MB] [--runs N]
#
#   --db PATH   database to back up (default: generate a SIZE MB portal database in
#               Benchmarks/data/, cached)
#   --size MB   size of the generated database (default 200)
#   --runs N    runs per case, alternating plain/encrypted (default 3)
#
# The binary is $BACKSTREAM_BIN, else .build/release/backstream (`swift build -c release`).
# The bar (issue 14): encrypted wall ≤ 1.1× plain, peak RSS < 64 MiB.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BIN=${BACKSTREAM_BIN:-$ROOT/.build/release/backstream}
DB="" SIZE=200 RUNS=3
while [[ $# -gt 0 ]]; do
    case $1 in
        --db) DB=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ -x $BIN ]] || { echo "no backstream binary at $BIN (swift build -c release)" >&2; exit 1; }
command -v age-keygen >/dev/null || { echo "age-keygen not found (apt-get install age)" >&2; exit 1; }
if [[ -z $DB ]]; then
    mkdir -p "$BENCH_DIR/data"
    DB="$BENCH_DIR/data/portal-$SIZE.db"
    [[ -f $DB ]] || bash "$BENCH_DIR/generate-portal-db.sh" "$SIZE" "$DB"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
age-keygen -o "$WORK/key.txt" 2>/dev/null
RECIPIENT=$(age-keygen -y "$WORK/key.txt")

# run CASE INDEX: one backup into a fresh store; appends "wall cpu rss_kib" to $WORK/CASE.
run() {
    local store="$WORK/store-$1-$2" extra=()
    [[ $1 == encrypted ]] && extra=(--encrypt-to "$RECIPIENT")
    /usr/bin/time -v -o "$WORK/time" "$BIN" backup "$DB" --store "$store" --no-prune --no-activity-log "${extra[@]}" >/dev/null
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = 0; for (i = 1; i <= n; i++) wall = wall * 60 + p[i] }
        /User time/ { cpu += $2 } /System time/ { cpu += $2 } /Maximum resident/ { rss = $2 }
        END { printf "%.2f %.2f %d\n", wall, cpu, rss }' "$WORK/time" >> "$WORK/$1"
    du -b "$store"/backups/database-* | awk '{ print $1 }' >> "$WORK/$1.size"
    rm -rf "$store"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "database: $DB ($(du -m "$DB" | cut -f1) MiB), $RUNS runs each, alternating; binary: $BIN"
for i in $(seq 1 "$RUNS"); do
    run plain "$i"
    run encrypted "$i"
done
printf '%-10s %9s %9s %12s %12s\n' case wall_s cpu_s peak_rss_MiB object_MB
for c in plain encrypted; do
    printf '%-10s %9s %9s %12s %12s\n' "$c" \
        "$(cut -d' ' -f1 "$WORK/$c" | median)" "$(cut -d' ' -f2 "$WORK/$c" | median)" \
        "$(cut -d' ' -f3 "$WORK/$c" | median | awk '{ printf "%.1f", $1 / 1024 }')" \
        "$(median < "$WORK/$c.size" | awk '{ printf "%.1f", $1 / 1e6 }')"
done
awk -v p="$(cut -d' ' -f1 "$WORK/plain" | median)" -v e="$(cut -d' ' -f1 "$WORK/encrypted" | median)" \
    'BEGIN { printf "encrypted/plain wall: %.3fx (bar: <= 1.1x)\n", e / p }'
echo "runs (wall cpu rss_KiB): plain: $(paste -sd, "$WORK/plain")  encrypted: $(paste -sd, "$WORK/encrypted")"
