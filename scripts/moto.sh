# Sourced by scripts/test.sh. Placeholder: the object-store work replaces it with a real
# moto_server start/stop that exports BACKSTREAM_TEST_S3_* for the tests.
moto_start() { :; }
moto_stop() { :; }
