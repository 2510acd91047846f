# Sourced by scripts/test.sh (or by hand, for benchmarks): `d1_start` runs the D1 emulator
# (scripts/d1_emulator.py) on a free loopback port over an empty folder and exports
# BACKSTREAM_TEST_D1_{BASE_URL,DIR,TOKEN,ACCOUNT}; a database is a `<name>.sqlite3` file put in
# that folder. `d1_stop` stops it. The Swift tests start their own emulator per test (each needs
# its own databases and faults) with the same script. $D1_EMULATOR_ARGS adds emulator options
# (--verbose logs one line per request in $D1_DIR/d1.log).

d1_log() { printf '[d1] %s\n' "$*" >&2; }

d1_start() {
    D1_DIR="$(mktemp -d "${TMPDIR:-/tmp}/backstream-d1.XXXXXX")"
    mkdir -p "$D1_DIR/databases"
    export BACKSTREAM_TEST_D1_DIR="$D1_DIR/databases"
    export BACKSTREAM_TEST_D1_TOKEN="test-token-$RANDOM$RANDOM"
    export BACKSTREAM_TEST_D1_ACCOUNT=test-account
    python3 scripts/d1_emulator.py --folder "$BACKSTREAM_TEST_D1_DIR" --token "$BACKSTREAM_TEST_D1_TOKEN" \
        --account "$BACKSTREAM_TEST_D1_ACCOUNT" --port 0 ${D1_EMULATOR_ARGS:-} >"$D1_DIR/port" 2>"$D1_DIR/d1.log" &
    D1_PID=$!
    local tries=0
    until grep -q '^port ' "$D1_DIR/port" 2>/dev/null; do
        tries=$((tries + 1))
        if [ $tries -ge 100 ] || ! kill -0 "$D1_PID" 2>/dev/null; then
            d1_log "the D1 emulator did not start; its log:"; cat "$D1_DIR/d1.log" >&2
            return 1
        fi
        sleep 0.1
    done
    export BACKSTREAM_TEST_D1_BASE_URL="http://127.0.0.1:$(cut -d' ' -f2 "$D1_DIR/port")/client/v4"
    d1_log "emulator pid $D1_PID on $BACKSTREAM_TEST_D1_BASE_URL, databases in $BACKSTREAM_TEST_D1_DIR"
}

d1_stop() {
    if [ -n "${D1_PID:-}" ]; then
        kill "$D1_PID" 2>/dev/null || true
        wait "$D1_PID" 2>/dev/null || true
        D1_PID=""
    fi
    if [ -n "${D1_DIR:-}" ]; then
        rm -rf "$D1_DIR"
    fi
}
