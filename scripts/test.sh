#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what it needs, starts the real peers
# (moto_server as the S3 server, the D1 emulator) on free loopback ports, runs `swift test`, stops them.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test] %s\n' "$*" >&2; }

# Debian and PyPI packages of the build and the tests: one list, in scripts/setup.sh.
bash scripts/setup.sh --test

# shellcheck source=scripts/moto.sh
source scripts/moto.sh
# shellcheck source=scripts/d1.sh
source scripts/d1.sh
moto_start
trap 'moto_stop; d1_stop' EXIT
d1_start

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
