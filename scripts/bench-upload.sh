#!/usr/bin/env bash
# Streams the same bytes (default 1 GiB) through a pipe to moto_server with `aws s3 cp -` and
# with `backstream upload -`, alternating, and prints medians of wall time, throughput and
# peak RSS, and the time ratio.
#
#   scripts/bench-upload.sh [SIZE] [RUNS]    SIZE as `head -c` takes it: 1G (default), 200M, ...
#                                            RUNS per tool (default 3)
#
# Environment: BACKSTREAM_BIN (default .build/release/backstream, built when missing), and the
# CLI's own BACKSTREAM_UPLOAD_PARTS / BACKSTREAM_PART_SIZE_MIB. moto (Python) is the bottleneck
# here and shares the machine's cores with the client: compare the two tools with each other,
# not with real S3 or R2.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-1G}"
RUNS="${2:-3}"
BIN="${BACKSTREAM_BIN:-.build/release/backstream}"
log() { printf '[bench] %s\n' "$*" >&2; }

# shellcheck source=scripts/moto.sh
source scripts/moto.sh
WORK="$(mktemp -d "${TMPDIR:-/tmp}/backstream-bench.XXXXXX")"
trap 'moto_stop; rm -rf "$WORK"' EXIT

if [ ! -x "$BIN" ]; then
    log "building the release CLI"
    swift build -c release --product backstream >"$WORK/build.txt" 2>&1 || { cat "$WORK/build.txt" >&2; exit 1; }
fi

# moto keeps objects in memory and slows down as it fills: every run gets a fresh server.
fresh_moto() {
    moto_stop
    moto_start 2>/dev/null
    export AWS_ACCESS_KEY_ID="$BACKSTREAM_TEST_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$BACKSTREAM_TEST_S3_SECRET_KEY"
    export AWS_DEFAULT_REGION="$BACKSTREAM_TEST_S3_REGION" AWS_REGION="$BACKSTREAM_TEST_S3_REGION"
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ENDPOINT_URL="$BACKSTREAM_TEST_S3_ENDPOINT"
    aws s3api create-bucket --bucket bench >/dev/null
}

log "generating $SIZE of random bytes"
head -c "$SIZE" /dev/urandom >"$WORK/input.bin"
BYTES=$(stat -c %s "$WORK/input.bin")

# Appends "seconds peak_rss_kib" of a shell command (run under /usr/bin/time) to file $1, then
# checks the object's size on the server.
measure() {
    local results=$1 key=$2 command=$3
    fresh_moto
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" bash -c "$command" >"$WORK/out.txt" 2>&1 \
        || { cat "$WORK/out.txt" >&2; exit 1; }
    local stored
    stored=$(aws s3api head-object --bucket bench --key "$key" --query ContentLength --output text)
    [ "$stored" = "$BYTES" ] || { log "$key holds $stored bytes, not $BYTES"; exit 1; }
    cat "$WORK/time.txt" >>"$results"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for run in $(seq 1 "$RUNS"); do
    log "run $run/$RUNS: aws s3 cp -"
    measure "$WORK/aws.txt" aws.bin "cat '$WORK/input.bin' | aws s3 cp - s3://bench/aws.bin"
    log "run $run/$RUNS: backstream upload -"
    measure "$WORK/backstream.txt" backstream.bin "cat '$WORK/input.bin' | '$BIN' upload backstream.bin - --store s3://bench/"
done

row() { # name file
    local seconds rss
    seconds=$(cut -d' ' -f1 "$2" | median)
    rss=$(cut -d' ' -f2 "$2" | median)
    awk -v n="$1" -v s="$seconds" -v r="$rss" -v b="$BYTES" -v all="$(cut -d' ' -f1 "$2" | tr '\n' ' ')" \
        'BEGIN { printf "%-22s %7.2f s %8.1f MiB/s %7.1f MiB peak RSS   (runs: %s)\n", n, s, b / 1048576 / s, r / 1024, all }'
}

echo
echo "upload of $BYTES bytes from a pipe to moto_server, medians of $RUNS ($(nproc) cores;" \
    "parts ${BACKSTREAM_UPLOAD_PARTS:-default} x ${BACKSTREAM_PART_SIZE_MIB:-default} MiB)"
row "aws s3 cp -" "$WORK/aws.txt"
row "backstream upload -" "$WORK/backstream.txt"
awk -v a="$(cut -d' ' -f1 "$WORK/aws.txt" | median)" -v b="$(cut -d' ' -f1 "$WORK/backstream.txt" | median)" \
    'BEGIN { printf "backstream is %.2fx the speed of aws s3 cp (time ratio aws/backstream)\n", a / b }'
