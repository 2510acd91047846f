#!/usr/bin/env bash
# Streams the same bytes (default 1 GiB) to moto_server with `aws s3 cp -` and with the
# ObjectStore multipart uploader, and reports wall time, throughput and peak RSS of each.
#
#   scripts/bench-upload.sh [SIZE]        SIZE as `head -c` takes it: 1G (default), 200M, ...
#
# Environment: SCRATCH (swift build --scratch-path, default .build), BACKSTREAM_BENCH_CONCURRENCY
# (parts in flight, default 4), BACKSTREAM_BIN (the CLI, for the backstream hook below). moto (Python) is usually the bottleneck here: compare the two
# numbers with each other, not with real S3 or R2.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-1G}"
SCRATCH="${SCRATCH:-.build}"
log() { printf '[bench] %s\n' "$*" >&2; }

# shellcheck source=scripts/moto.sh
source scripts/moto.sh
WORK="$(mktemp -d "${TMPDIR:-/tmp}/backstream-bench.XXXXXX")"
trap 'moto_stop; rm -rf "$WORK"' EXIT

# moto keeps objects in memory and slows down as it fills: every run gets a fresh server.
fresh_moto() {
    moto_stop
    moto_start
    export AWS_ACCESS_KEY_ID="$BACKSTREAM_TEST_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$BACKSTREAM_TEST_S3_SECRET_KEY"
    export AWS_DEFAULT_REGION="$BACKSTREAM_TEST_S3_REGION" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    aws --endpoint-url "$BACKSTREAM_TEST_S3_ENDPOINT" s3api create-bucket --bucket bench >/dev/null
}

log "generating $SIZE of random bytes"
head -c "$SIZE" /dev/urandom >"$WORK/input.bin"
BYTES=$(stat -c %s "$WORK/input.bin")

# Prints "seconds peak_rss_kib" of a command run under /usr/bin/time -v.
measure() {
    local report="$WORK/time.txt"
    /usr/bin/time -v -o "$report" "$@" >"$WORK/out.txt" 2>&1 || { cat "$WORK/out.txt" >&2; return 1; }
    local elapsed rss
    elapsed=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$report" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$report")
    echo "$elapsed $rss"
}

row() { # name seconds rss_kib
    awk -v n="$1" -v s="$2" -v r="$3" -v b="$BYTES" \
        'BEGIN { printf "%-34s %8.2f s %9.1f MiB/s %9.1f MiB peak RSS\n", n, s, b / 1048576 / s, r / 1024 }'
}

fresh_moto
log "aws s3 cp - (awscli $(aws --version 2>&1 | cut -d' ' -f1))"
read -r aws_s aws_rss < <(measure bash -c "aws --endpoint-url '$BACKSTREAM_TEST_S3_ENDPOINT' s3 cp - s3://bench/aws.bin < '$WORK/input.bin'")

log "building the ObjectStore benchmark (swift build --build-tests --scratch-path $SCRATCH)"
swift build --build-tests --scratch-path "$SCRATCH" >"$WORK/build.txt" 2>&1 || { cat "$WORK/build.txt" >&2; exit 1; }
bundle="$(swift build --scratch-path "$SCRATCH" --show-bin-path)/BackstreamPackageTests.xctest"
fresh_moto
log "ObjectStore multipart upload (S3Store.makeUpload, 8 MiB parts, ${BACKSTREAM_BENCH_CONCURRENCY:-4} in flight)"
read -r os_s os_rss < <(BACKSTREAM_BENCH_INPUT="$WORK/input.bin" measure "$bundle" --testing-library swift-testing --filter UploadBenchmark)
grep -h '^BENCH' "$WORK/out.txt" >&2 || true

# The CLI on the same bytes: `backstream upload` with its default upload memory budget.
BACKSTREAM_BIN="${BACKSTREAM_BIN:-.build/release/backstream}"
if [ ! -x "$BACKSTREAM_BIN" ]; then
    log "building the release CLI"
    swift build -c release --product backstream >"$WORK/build-release.txt" 2>&1 || { cat "$WORK/build-release.txt" >&2; exit 1; }
fi
fresh_moto
log "backstream upload ($BACKSTREAM_BIN)"
read -r bs_s bs_rss < <(AWS_ENDPOINT_URL="$BACKSTREAM_TEST_S3_ENDPOINT" AWS_REGION="$BACKSTREAM_TEST_S3_REGION" \
    measure "$BACKSTREAM_BIN" upload backstream.bin "$WORK/input.bin" --store s3://bench/)

echo
echo "upload of $BYTES bytes to moto_server ($(nproc) cores)"
row "aws s3 cp -" "$aws_s" "$aws_rss"
row "ObjectStore (incl. test harness)" "$os_s" "$os_rss"
row "backstream upload (release CLI)" "$bs_s" "$bs_rss"
