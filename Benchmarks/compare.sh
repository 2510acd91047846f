#!/usr/bin/env bash
# Backstream against the tools it replaces, on a generated "client portal" database, in one run:
#
#   bash Benchmarks/compare.sh [--size MB[,MB...]] [--runs N] [--db PATH] [--threads N]
#                              [--sections LIST] [--no-build]
#
#   --size MB       database size in MiB (default 200); a comma list (200,2048) runs every size
#                   and then compares backstream's peak RSS across them
#   --runs N        runs per case (default 3); the table shows medians
#   --db PATH       use this database instead of a generated one (size is then what it is)
#   --threads N     passed to `backstream dump --threads`
#   --sections LIST comma list of sections to run (default: gzip,zstd,plain,verify,backup,restore)
#   --no-build      do not run `swift build -c release` when the binary is missing
#
# Generated databases are cached in Benchmarks/data/ (gitignored); each run's report is also
# written to Benchmarks/results/ (gitignored). The backstream binary is $BACKSTREAM_BIN, else
# .build/release/backstream of the package root. Without a binary that has `dump`, the
# backstream rows are skipped with a loud message and the baseline rows still run.
#
# Sections are functions named section_<name>; to add one, write the function (it calls
# run_case for each command and compare_cases for each ratio) and add its name to
# ALL_SECTIONS. Planned: `backup` (backstream backup to an S3 server vs
# `sqlite3 .dump | gzip -6 | aws s3 cp - s3://…`) and `restore` (backstream restore vs
# `aws s3 cp … - | gunzip | sqlite3 new.db`).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
DATA_DIR="$BENCH_DIR/data"
RESULTS_DIR="$BENCH_DIR/results"
TIME=/usr/bin/time
ALL_SECTIONS="gzip zstd plain verify backup restore"

SIZES=200
RUNS=3
DB_ARG=""
THREADS=""
SECTIONS="gzip,zstd,plain,verify,backup,restore"
BUILD=1

die() { echo "compare.sh: $*" >&2; exit 2; }
while (($#)); do
    case $1 in
        --size) SIZES=${2:?--size needs a value}; shift 2 ;;
        --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
        --db) DB_ARG=${2:?--db needs a path}; shift 2 ;;
        --threads) THREADS=${2:?--threads needs a value}; shift 2 ;;
        --sections) SECTIONS=${2:?--sections needs a list}; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
[[ $SIZES =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--size must be a positive integer or a comma list of them"
[[ -z $THREADS || $THREADS =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer"
[[ -z $DB_ARG || -f $DB_ARG ]] || die "--db $DB_ARG: no such file"
for s in ${SECTIONS//,/ }; do
    [[ " $ALL_SECTIONS " == *" $s "* ]] || die "unknown section '$s' (known: $ALL_SECTIONS)"
done

loud() { # a message nobody can miss, on stderr and in the report
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! %s\n' "$@" >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
}

# --- Tools ---------------------------------------------------------------------------------------
need_packages() { # need_packages COMMAND:DEBIAN_PACKAGE ...
    local missing=() pair
    for pair in "$@"; do
        [[ -x ${pair%%:*} ]] || command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    ((${#missing[@]})) || return 0
    echo "installing ${missing[*]}" >&2
    local sudo=""; [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
need_packages "$TIME:time" sqlite3:sqlite3 gzip:gzip pigz:pigz zstd:zstd

BIN=${BACKSTREAM_BIN:-$ROOT/.build/release/backstream}
BACKSTREAM_OK=0
find_backstream() {
    if [[ ! -x $BIN && -z ${BACKSTREAM_BIN:-} && $BUILD == 1 ]]; then
        echo "building backstream (swift build -c release) ..." >&2
        (cd "$ROOT" && swift build -c release --product backstream >&2) ||
            loud "swift build -c release failed: see above."
    fi
    if [[ ! -x $BIN ]]; then
        loud "NO BACKSTREAM BINARY at $BIN — every backstream row is SKIPPED." \
             "Build it (swift build -c release) or set BACKSTREAM_BIN."
    elif ! "$BIN" dump --help >/dev/null 2>&1; then
        loud "$BIN has no 'dump' subcommand yet — every backstream row is SKIPPED."
    else
        BACKSTREAM_OK=1
    fi
}

# --- Measurement -----------------------------------------------------------------------------------
# Results of the current database, keyed by case label.
declare -A TIMES CPU OUTSIZE RSS_SUM RSS_MAX LOAD SKIPPED OUTFILE
LABELS=()
WORK=""

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# run_case LABEL KIND OUT COMMAND
#   KIND is "backstream" (skipped without a binary) or "baseline". COMMAND is a bash string run
#   RUNS times with $T expanding to `/usr/bin/time` set up to record each process's peak RSS
#   and CPU time, and $OUT to the output path; wrap every process of a pipeline in $T. The
#   pipeline's RSS is the sum of its processes' peaks (they run at the same time), its "max" the
#   largest one; its CPU time is the sum of user and system time. The 1-minute load average
#   before each run is kept: on a shared machine it tells whether others were busy.
run_case() {
    local label=$1 kind=$2 out=$3 command=$4
    LABELS+=("$label")
    OUTFILE[$label]=$out
    if [[ $kind == backstream && $BACKSTREAM_OK != 1 ]]; then
        SKIPPED[$label]=1
        echo "  SKIPPED (no usable backstream binary): $label" >&2
        return
    fi
    local times=() cpus=() sizes=() sums=() maxes=() loads=() run rssfile start end
    for ((run = 1; run <= RUNS; run++)); do
        rssfile="$WORK/rss.$run"
        : >"$rssfile"
        rm -f "$out"
        loads+=("$(cut -d' ' -f1 /proc/loadavg)")
        start=$(date +%s.%N)
        if ! T="$TIME -f %M,%U,%S -a -o $rssfile" OUT="$out" bash -c "set -euo pipefail; $command"; then
            loud "FAILED: $label (run $run): $command"
            exit 1
        fi
        end=$(date +%s.%N)
        times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')")
        sizes+=("$(stat -c %s "$out")")
        cpus+=("$(awk -F, '{ s += $2 + $3 } END { printf "%.2f", s }' "$rssfile")")
        sums+=("$(awk -F, '{ s += $1 } END { print s + 0 }' "$rssfile")")
        maxes+=("$(awk -F, '$1 > m { m = $1 } END { print m + 0 }' "$rssfile")")
        printf '  %-44s run %d/%d: %8.2f s wall %8.2f s CPU  (load before: %s)\n' \
            "$label" "$run" "$RUNS" "${times[-1]}" "${cpus[-1]}" "${loads[-1]}" >&2
    done
    TIMES[$label]=$(median "${times[@]}")
    CPU[$label]=$(median "${cpus[@]}")
    LOAD[$label]=$(median "${loads[@]}")
    OUTSIZE[$label]=$(median "${sizes[@]}")
    RSS_SUM[$label]=$(median "${sums[@]}")
    RSS_MAX[$label]=$(median "${maxes[@]}")
}

# print_cases LABEL... : the table of medians.
print_cases() {
    printf '%-44s %9s %9s %11s %9s %13s %6s\n' "case (median of $RUNS)" "wall s" "CPU s" "output MiB" "RSS MiB" "max proc MiB" "load"
    local label
    for label in "$@"; do
        if [[ -n ${SKIPPED[$label]:-} ]]; then
            printf '%-44s %10s\n' "$label" "SKIPPED"
            continue
        fi
        awk -v l="$label" -v t="${TIMES[$label]}" -v c="${CPU[$label]}" -v o="${OUTSIZE[$label]}" -v s="${RSS_SUM[$label]}" \
            -v m="${RSS_MAX[$label]}" -v a="${LOAD[$label]}" \
            'BEGIN { printf "%-44s %9.2f %9.2f %11.1f %9.1f %13.1f %6.2f\n", l, t, c, o / 1048576, s / 1024, m / 1024, a }'
    done
}

# compare_cases WHAT SUBJECT BASELINE TARGET : one line of ratios against a target.
#   WHAT is "speed" (BASELINE time / SUBJECT time, target: at least TARGET) or "size"
#   (SUBJECT output / BASELINE output, target: at most TARGET).
compare_cases() {
    local what=$1 subject=$2 baseline=$3 target=$4
    if [[ -n ${SKIPPED[$subject]:-} || -n ${SKIPPED[$baseline]:-} ]]; then
        printf '  %-66s %s\n' "$subject vs $baseline ($what)" "n/a (skipped)"
        return
    fi
    case $what in
        speed) awk -v a="${TIMES[$baseline]}" -v b="${TIMES[$subject]}" -v ca="${CPU[$baseline]}" -v cb="${CPU[$subject]}" \
                   -v t="$target" -v n="$subject vs $baseline" \
                   'BEGIN { r = a / b; printf "  %-66s %6.2fx faster  target >= %sx  %s   (CPU time %.2fx less)\n",
                            n, r, t, (r >= t ? "PASS" : "FAIL"), (cb > 0 ? ca / cb : 0) }' ;;
        size) awk -v a="${OUTSIZE[$baseline]}" -v b="${OUTSIZE[$subject]}" -v t="$target" -v n="$subject vs $baseline" \
                  'BEGIN { r = b / a; printf "  %-66s %6.3fx size    target <= %s    %s\n", n, r, t, (r <= t ? "PASS" : "FAIL") }' ;;
    esac
}

# rss_target LABEL LIMIT_MIB : backstream's own peak RSS against an absolute limit.
rss_target() {
    local label=$1 limit=$2
    [[ -z ${SKIPPED[$label]:-} ]] || { printf '  %-66s %s\n' "$label peak RSS" "n/a (skipped)"; return; }
    awk -v k="${RSS_MAX[$label]}" -v t="$limit" -v n="$label peak RSS (backstream alone)" \
        'BEGIN { m = k / 1024; printf "  %-66s %6.1f MiB       target < %s MiB   %s\n", n, m, t, (m < t ? "PASS" : "FAIL") }'
}

bs_args() { # the common backstream dump arguments
    local a="dump \"\$DB\""
    [[ -z $THREADS ]] || a+=" --threads $THREADS"
    echo "$a"
}

# --- Sections ----------------------------------------------------------------------------------------
section_gzip() {
    echo "== gzip'd dump =="
    run_case "backstream dump --gzip --level 6" backstream "$WORK/bs.sql.gz" \
        "\$T \"\$BIN\" $(bs_args) --gzip --level 6 -o \"\$OUT\""
    # -o writes a temporary file, fsyncs it and renames it into place; `> file` does neither,
    # like the baselines: the stdout row shows what the durability costs.
    run_case "backstream dump --gzip --level 6 > stdout" backstream "$WORK/bs-stdout.sql.gz" \
        "\$T \"\$BIN\" $(bs_args) --gzip --level 6 > \"\$OUT\""
    run_case "sqlite3 .dump | gzip -6" baseline "$WORK/sqlite-gzip.sql.gz" \
        "\$T sqlite3 \"\$DB\" .dump | \$T gzip -6 > \"\$OUT\""
    run_case "sqlite3 .dump | pigz -6" baseline "$WORK/sqlite-pigz.sql.gz" \
        "\$T sqlite3 \"\$DB\" .dump | \$T pigz -6 > \"\$OUT\""
    echo
    print_cases "backstream dump --gzip --level 6" "backstream dump --gzip --level 6 > stdout" \
        "sqlite3 .dump | gzip -6" "sqlite3 .dump | pigz -6"
    echo
    echo "ratios:"
    compare_cases speed "backstream dump --gzip --level 6" "sqlite3 .dump | gzip -6" 3
    compare_cases speed "backstream dump --gzip --level 6" "sqlite3 .dump | pigz -6" 1.5
    compare_cases size "backstream dump --gzip --level 6" "sqlite3 .dump | gzip -6" 1.0
    compare_cases speed "backstream dump --gzip --level 6 > stdout" "sqlite3 .dump | gzip -6" 3
    compare_cases speed "backstream dump --gzip --level 6 > stdout" "sqlite3 .dump | pigz -6" 1.5
    rss_target "backstream dump --gzip --level 6" 64
    echo
}

section_zstd() {
    echo "== zstd'd dump =="
    run_case "backstream dump --compression zstd" backstream "$WORK/bs.sql.zst" \
        "\$T \"\$BIN\" $(bs_args) --compression zstd --level 3 -o \"\$OUT\""
    run_case "backstream dump --compression zstd > stdout" backstream "$WORK/bs-stdout.sql.zst" \
        "\$T \"\$BIN\" $(bs_args) --compression zstd --level 3 > \"\$OUT\""
    run_case "sqlite3 .dump | zstd -3 -T2" baseline "$WORK/sqlite.sql.zst" \
        "\$T sqlite3 \"\$DB\" .dump | \$T zstd -q -3 -T2 > \"\$OUT\""
    echo
    print_cases "backstream dump --compression zstd" "backstream dump --compression zstd > stdout" "sqlite3 .dump | zstd -3 -T2"
    echo
    echo "ratios:"
    compare_cases speed "backstream dump --compression zstd" "sqlite3 .dump | zstd -3 -T2" 2
    compare_cases speed "backstream dump --compression zstd > stdout" "sqlite3 .dump | zstd -3 -T2" 2
    compare_cases size "backstream dump --compression zstd" "sqlite3 .dump | zstd -3 -T2" 1.0
    rss_target "backstream dump --compression zstd" 64
    echo
}

section_plain() {
    echo "== plain dump =="
    run_case "backstream dump" backstream "$WORK/bs.sql" "\$T \"\$BIN\" $(bs_args) -o \"\$OUT\""
    run_case "backstream dump > stdout" backstream "$WORK/bs-stdout.sql" "\$T \"\$BIN\" $(bs_args) > \"\$OUT\""
    run_case "sqlite3 .dump" baseline "$WORK/sqlite.sql" "\$T sqlite3 \"\$DB\" .dump > \"\$OUT\""
    echo
    print_cases "backstream dump" "backstream dump > stdout" "sqlite3 .dump"
    echo
    echo "ratios:"
    compare_cases speed "backstream dump" "sqlite3 .dump" 1.3
    compare_cases speed "backstream dump > stdout" "sqlite3 .dump" 1.3
    rss_target "backstream dump" 64
    rm -f "$WORK/bs.sql" "$WORK/bs-stdout.sql" "$WORK/sqlite.sql"
    echo
}

# verify_restore NAME GZFILE : gunzip | sqlite3 new.db, then the same row count per table.
verify_restore() {
    local name=$1 gz=$2 restored="$WORK/restored.db" table a b bad=0
    rm -f "$restored"
    if ! gzip -dc "$gz" | sqlite3 -bail "$restored"; then
        echo "  FAIL: $name does not restore with sqlite3"
        return 1
    fi
    local tables
    tables=$(sqlite3 "$DB" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    for table in $tables; do
        a=$(sqlite3 "$DB" "SELECT count(*) FROM \"$table\"")
        b=$(sqlite3 "$restored" "SELECT count(*) FROM \"$table\"" 2>/dev/null || echo missing)
        if [[ $a != "$b" ]]; then
            printf '  %-28s source %10s  restored %10s  MISMATCH\n' "$table" "$a" "$b"
            bad=1
        fi
    done
    local n
    n=$(wc -w <<<"$tables")
    if ((bad)); then
        echo "  FAIL: $name: row counts differ (see above)"
    else
        echo "  PASS: $name gunzips, restores with sqlite3, and has the same row count in all $n tables"
    fi
    for pragma in user_version application_id; do
        echo "  info: PRAGMA $pragma source $(sqlite3 "$DB" "PRAGMA $pragma") restored $(sqlite3 "$restored" "PRAGMA $pragma")"
    done
    rm -f "$restored"
    return $bad
}

section_verify() {
    echo "== correctness spot check =="
    local label="backstream dump --gzip --level 6"
    if [[ $BACKSTREAM_OK == 1 ]]; then
        [[ -f ${OUTFILE[$label]:-} ]] ||
            run_case "$label" backstream "$WORK/bs.sql.gz" "\$T \"\$BIN\" $(bs_args) --gzip --level 6 -o \"\$OUT\""
        verify_restore "backstream gz output" "${OUTFILE[$label]}" || VERIFY_FAILED=1
    else
        loud "backstream output NOT VERIFIED (no usable binary); checking the check on the gzip baseline instead."
        local base="sqlite3 .dump | gzip -6"
        [[ -f ${OUTFILE[$base]:-} ]] ||
            run_case "$base" baseline "$WORK/sqlite-gzip.sql.gz" "\$T sqlite3 \"\$DB\" .dump | \$T gzip -6 > \"\$OUT\""
        verify_restore "baseline (sqlite3 .dump | gzip -6) output, self-test of the check" "${OUTFILE[$base]}" || VERIFY_FAILED=1
    fi
    echo
}

# S3 sections talk to a moto_server started once (signature checking on, as in the tests).
S3_READY=0
s3_start() {
    ((S3_READY)) && return 0
    command -v moto_server >/dev/null || python3 -m pip install -q 'moto[server]' awscli
    # shellcheck source=../scripts/moto.sh
    source "$ROOT/scripts/moto.sh"
    moto_start
    trap moto_stop EXIT
    export AWS_ACCESS_KEY_ID=$BACKSTREAM_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$BACKSTREAM_TEST_S3_SECRET_KEY
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=$BACKSTREAM_TEST_S3_ENDPOINT
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
    export S3_BUCKET="bench-$(date +%s)"
    aws --endpoint-url "$AWS_ENDPOINT_URL" s3api create-bucket --bucket "$S3_BUCKET" >/dev/null
    S3_READY=1
}

section_backup() {
    echo "== backup to S3 (moto_server on loopback) =="
    s3_start
    run_case "backstream backup" backstream "$WORK/backup.json" \
        "\$T \"\$BIN\" backup \"\$DB\" --store s3://$S3_BUCKET/bs/ --no-prune --no-activity-log --json > \"\$OUT\""
    run_case "sqlite3 .dump | gzip -6 | aws s3 cp -" baseline "$WORK/baseline-upload.txt" \
        "\$T sqlite3 \"\$DB\" .dump | \$T gzip -6 | \$T aws --endpoint-url \"\$AWS_ENDPOINT_URL\" s3 cp - s3://$S3_BUCKET/base/dump.sql.gz > \"\$OUT\""
    echo
    print_cases "backstream backup" "sqlite3 .dump | gzip -6 | aws s3 cp -"
    echo
    echo "ratios:"
    compare_cases speed "backstream backup" "sqlite3 .dump | gzip -6 | aws s3 cp -" 3
    rss_target "backstream backup" 64
    echo
}

section_restore() {
    echo "== restore from S3 (moto_server on loopback) =="
    s3_start
    # Objects to restore: the newest backstream backup, and the baseline's gzip'd .dump.
    "$BIN" list --store "s3://$S3_BUCKET/bs/" --json | grep -q '"total":0' &&
        "$BIN" backup "$DB" --store "s3://$S3_BUCKET/bs/" --no-prune --no-activity-log >/dev/null
    aws --endpoint-url "$AWS_ENDPOINT_URL" s3api head-object --bucket "$S3_BUCKET" --key base/dump.sql.gz >/dev/null 2>&1 ||
        { sqlite3 "$DB" .dump | gzip -6 | aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp - "s3://$S3_BUCKET/base/dump.sql.gz"; }
    run_case "backstream restore" backstream "$WORK/bs-restored.db" \
        "\$T \"\$BIN\" restore latest --store s3://$S3_BUCKET/bs/ --into \"\$OUT\" > /dev/null"
    run_case "aws s3 cp - | gunzip | sqlite3" baseline "$WORK/base-restored.db" \
        "\$T aws --endpoint-url \"\$AWS_ENDPOINT_URL\" s3 cp s3://$S3_BUCKET/base/dump.sql.gz - | \$T gunzip | \$T sqlite3 -bail \"\$OUT\""
    echo
    print_cases "backstream restore" "aws s3 cp - | gunzip | sqlite3"
    echo
    echo "ratios:"
    compare_cases speed "backstream restore" "aws s3 cp - | gunzip | sqlite3" 2
    rss_target "backstream restore" 64
    rm -f "$WORK/bs-restored.db" "$WORK/base-restored.db"
    echo
}

# --- Main --------------------------------------------------------------------------------------------
mkdir -p "$DATA_DIR" "$RESULTS_DIR"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS="$RESULTS_DIR/compare-$STAMP.txt"
exec > >(tee "$RESULTS") 2>&1

find_backstream
export BIN
VERIFY_FAILED=0
declare -A RSS_BY_SIZE

echo "backstream compare — $STAMP"
echo "host: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); sqlite3 $(sqlite3 --version | cut -d' ' -f1); $(gzip --version | head -1); $(pigz --version 2>&1)"
echo "backstream: $BIN ($([[ $BACKSTREAM_OK == 1 ]] && echo usable || echo SKIPPED)); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)${THREADS:+; --threads $THREADS}"
echo "runs per case: $RUNS; sections: $SECTIONS"
echo

if [[ -n $DB_ARG ]]; then DB_LIST=("$DB_ARG"); else DB_LIST=(); for s in ${SIZES//,/ }; do DB_LIST+=("size:$s"); done; fi
for entry in "${DB_LIST[@]}"; do
    if [[ $entry == size:* ]]; then
        size=${entry#size:}
        DB="$DATA_DIR/portal-${size}mb.db"
        if [[ ! -f $DB ]]; then
            echo "generating $DB ..."
            bash "$BENCH_DIR/generate-portal-db.sh" "$size" "$DB.tmp"
            mv "$DB.tmp" "$DB"
        fi
    else
        DB=$entry
    fi
    export DB
    WORK=$(mktemp -d "$DATA_DIR/work.XXXXXX")
    TIMES=() CPU=() OUTSIZE=() RSS_SUM=() RSS_MAX=() LOAD=() SKIPPED=() OUTFILE=() LABELS=()
    cat "$DB" >/dev/null # the page cache holds the database for every case alike
    echo "################ database: $DB ($(awk -v b="$(stat -c %s "$DB")" 'BEGIN { printf "%.1f MiB", b / 1048576 }'))"
    echo
    for section in ${SECTIONS//,/ }; do
        "section_$section"
    done
    for label in "backstream dump --gzip --level 6" "backstream dump" "backstream backup" "backstream restore"; do
        [[ -n ${RSS_MAX[$label]:-} ]] && RSS_BY_SIZE["$label|$DB"]=${RSS_MAX[$label]}
    done
    rm -rf "$WORK"
done

if ((${#DB_LIST[@]} > 1)); then
    echo "== backstream peak RSS across database sizes (target: within ±10% of each other) =="
    for label in "backstream dump --gzip --level 6" "backstream dump" "backstream backup" "backstream restore"; do
        values=()
        for entry in "${DB_LIST[@]}"; do
            db="$DATA_DIR/portal-${entry#size:}mb.db"
            v=${RSS_BY_SIZE["$label|$db"]:-}
            [[ -z $v ]] || { values+=("$v"); printf '  %-40s %-36s %8.1f MiB\n' "$label" "$(basename "$db")" "$(awk -v k="$v" 'BEGIN { print k / 1024 }')"; }
        done
        ((${#values[@]} > 1)) || { echo "  $label: n/a (skipped)"; continue; }
        printf '%s\n' "${values[@]}" | awk -v n="$label" '
            NR == 1 { lo = hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
            END { d = (hi - lo) / lo * 100; printf "  %-40s spread %.1f%%   target <= 10%%   %s\n", n, d, (d <= 10 ? "PASS" : "FAIL") }'
    done
    echo
fi

echo "report written to $RESULTS"
exit $VERIFY_FAILED
