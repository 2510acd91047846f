#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what it needs, starts the real peers
# (moto_server as the S3 server) on free loopback ports, runs `swift test`, stops them.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test] %s\n' "$*" >&2; }

# System packages: C libraries the package links, and the real tools the tests drive.
# bsdutils has `script`, which gives the CLI a terminal for the progress-line test; chromium is
# the headless browser of the /admin/backups page test.
packages=(libsqlite3-dev zlib1g-dev libdeflate-dev libcurl4-openssl-dev sqlite3 gzip pigz curl bsdutils chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v moto_server >/dev/null 2>&1 || ! command -v aws >/dev/null 2>&1; then
    log "installing moto[server] and awscli"
    python3 -m pip install -q 'moto[server]' awscli
fi

# shellcheck source=scripts/moto.sh
source scripts/moto.sh
moto_start
trap moto_stop EXIT

log "building"
swift build --build-tests
export BACKSTREAM_BIN="$PWD/.build/debug/backstream"
if (($#)); then
    log "running swift test $*"
    swift test --skip-build "$@"
else
    # The server suites run on their own: their in-process server answers on Swift's cooperative
    # threads, which the other suites' synchronous tests (waiting on subprocesses) can hold for
    # long enough to time out the headless browser on a 2-core machine.
    status=0
    log "running swift test (all suites but BackupServerTests)"
    swift test --skip-build --skip BackupServerTests || status=$?
    log "running swift test (BackupServerTests)"
    swift test --skip-build --filter BackupServerTests || status=$?
    exit $status
fi
