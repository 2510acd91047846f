#!/usr/bin/env bash
# The one list of what Backstream needs on Debian, installed only when missing; quiet when
# nothing is. A new C library the package links goes into BUILD_PACKAGES.
#
#   bash scripts/setup.sh          what `swift build` needs (the C libraries the package links)
#   bash scripts/setup.sh --test   also the real tools and peers the tests drive
set -euo pipefail

BUILD_PACKAGES=(libsqlite3-dev zlib1g-dev libdeflate-dev libcurl4-openssl-dev libzstd-dev)
# bsdutils has `script`, which gives the CLI a terminal for the progress-line test; chromium is
# the headless browser of the /admin/backups page test; age is the peer of the encryption tests.
TEST_PACKAGES=(sqlite3 gzip pigz zstd curl bsdutils chromium age)
# PyPI packages of the tests, each with the shell check that shows it is there. playwright drives
# the system chromium above, so it is a library to import, not a command; cloudflare (the official
# SDK) checks that the D1 emulator answers in Cloudflare's published shapes.
TEST_PIP=("moto[server]:command -v moto_server" "awscli:command -v aws" "playwright:python3 -c 'import playwright'"
          "cloudflare:python3 -c 'import cloudflare'")

usage() { echo "usage: $0 [--test]" >&2; exit 2; }
packages=("${BUILD_PACKAGES[@]}")
test=0
case ${1:-} in
    "") ;;
    --test) test=1; packages+=("${TEST_PACKAGES[@]}") ;;
    *) usage ;;
esac
(($# <= 1)) || usage

log() { printf '[setup] %s\n' "$*" >&2; }

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

if ((test)); then
    pip_missing=()
    for pair in "${TEST_PIP[@]}"; do
        eval "${pair#*:}" >/dev/null 2>&1 || pip_missing+=("${pair%%:*}")
    done
    if ((${#pip_missing[@]})); then
        log "installing ${pip_missing[*]} (pip)"
        # No browser of Playwright's own: the tests launch the Debian chromium.
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 python3 -m pip install -q "${pip_missing[@]}"
    fi
fi
