# Sourced by scripts/test.sh and by Benchmarks/moto.py: `moto_start` runs a real S3 server (moto_server) on a free loopback
# port with signature checking on, creates an IAM user with an s3:* policy and an access key, and
# exports BACKSTREAM_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}. `moto_stop` stops it.

# Requests moto serves without checking signatures: create-user, put-user-policy,
# create-access-key. Every later request must be signed with the key created here.
MOTO_FREE_REQUESTS=3

moto_log() { printf '[moto] %s\n' "$*" >&2; }

moto_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The IAM calls must not pick up a developer's real credentials or config files.
moto_aws() {
    env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        AWS_ACCESS_KEY_ID="${MOTO_AWS_KEY:-bootstrap}" AWS_SECRET_ACCESS_KEY="${MOTO_AWS_SECRET:-bootstrap}" \
        AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
        aws --endpoint-url "$BACKSTREAM_TEST_S3_ENDPOINT" --output text "$@"
}

moto_start() {
    MOTO_DIR="$(mktemp -d "${TMPDIR:-/tmp}/backstream-moto.XXXXXX")"
    local port
    port="$(moto_free_port)"
    export BACKSTREAM_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
    export BACKSTREAM_TEST_S3_REGION=us-east-1
    INITIAL_NO_AUTH_ACTION_COUNT=$MOTO_FREE_REQUESTS \
        moto_server -H 127.0.0.1 -p "$port" >"$MOTO_DIR/moto.log" 2>&1 &
    MOTO_PID=$!
    moto_log "moto_server pid $MOTO_PID on $BACKSTREAM_TEST_S3_ENDPOINT, log $MOTO_DIR/moto.log"

    # Wait on the TCP port, not with an HTTP request: every request spends a free action.
    local tries=0
    until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.5)" 2>/dev/null; do
        tries=$((tries + 1))
        if [ $tries -ge 100 ] || ! kill -0 "$MOTO_PID" 2>/dev/null; then
            moto_log "moto_server did not start; its log:"; cat "$MOTO_DIR/moto.log" >&2
            return 1
        fi
        sleep 0.1
    done

    moto_aws iam create-user --user-name backstream-test >/dev/null
    moto_aws iam put-user-policy --user-name backstream-test --policy-name s3-all --policy-document \
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    local key
    key="$(moto_aws iam create-access-key --user-name backstream-test \
        --query 'AccessKey.[AccessKeyId,SecretAccessKey]')"
    BACKSTREAM_TEST_S3_ACCESS_KEY="$(printf '%s' "$key" | cut -f1)"
    BACKSTREAM_TEST_S3_SECRET_KEY="$(printf '%s' "$key" | cut -f2)"
    export BACKSTREAM_TEST_S3_ACCESS_KEY BACKSTREAM_TEST_S3_SECRET_KEY

    # Prove the server now checks signatures: the right key works, a wrong secret is refused.
    if ! MOTO_AWS_KEY=$BACKSTREAM_TEST_S3_ACCESS_KEY MOTO_AWS_SECRET=$BACKSTREAM_TEST_S3_SECRET_KEY \
        moto_aws s3api list-buckets >/dev/null 2>"$MOTO_DIR/check.err"; then
        moto_log "the new access key is refused:"; cat "$MOTO_DIR/check.err" >&2
        return 1
    fi
    if MOTO_AWS_KEY=$BACKSTREAM_TEST_S3_ACCESS_KEY MOTO_AWS_SECRET="wrong$BACKSTREAM_TEST_S3_SECRET_KEY" \
        moto_aws s3api list-buckets >/dev/null 2>&1; then
        moto_log "moto accepted a wrong secret: signature checking is off"
        return 1
    fi
    moto_log "ready; signatures are checked (access key $BACKSTREAM_TEST_S3_ACCESS_KEY)"
}

moto_stop() {
    if [ -n "${MOTO_PID:-}" ]; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
        MOTO_PID=""
    fi
    if [ -n "${MOTO_DIR:-}" ] && [ -z "${BACKSTREAM_KEEP_MOTO_LOG:-}" ]; then
        rm -rf "$MOTO_DIR"
    fi
}
