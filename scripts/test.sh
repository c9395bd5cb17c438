#!/usr/bin/env bash
# Every test, as the README runs them: the peers' venvs (scripts/setup-peers.sh),
# a RabbitMQ broker and a Kafka-API broker on loopback (scripts/rabbitmq.sh start
# and scripts/kafka.sh start, left running; `stop` ends them; the Kafka broker is
# built once per machine) are set up while the Rust tests compile; then
# `cargo test --workspace`, four test threads a binary (most tests wait on Spark,
# a broker or its restart; tests that share a broker take a lock on it), and
# beside it the Python tests (scripts/test-python.sh: the wheel from the
# checkout, reusing what the Rust tests compiled). The set-up's output is in
# target/test-setup.log and the Python tests' in target/test-python.log, each
# shown once it is done.
#   scripts/test.sh [ARGS]    ARGS go to `cargo test --workspace` (a test name, -- --nocapture)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
# Four test threads a binary on two cores: most tests wait on a child process or a broker.
export RUST_TEST_THREADS=${RUST_TEST_THREADS:-4}
log=target/test-setup.log
(bash scripts/setup-peers.sh && bash scripts/rabbitmq.sh start && bash scripts/kafka.sh start) >"$log" 2>&1 &
setup=$!
compiled=0
cargo test --workspace --no-run || compiled=$?
setup_status=0
wait "$setup" || setup_status=$?
cat "$log"
if [ "$setup_status" != 0 ]; then
  echo "test.sh: setting up the peers' venvs or the brokers failed (exit $setup_status): see above" >&2
  exit "$setup_status"
fi
if [ "$compiled" != 0 ]; then exit "$compiled"; fi

# The Python tests (their wheel is built from what was just compiled) beside the Rust tests.
python_log=target/test-python.log
bash scripts/test-python.sh >"$python_log" 2>&1 &
python=$!
status=0
cargo test --workspace "$@" || status=$?
python_status=0
wait "$python" || python_status=$?
echo "== the Python tests (target/test-python.log)"
cat "$python_log"
if [ "$python_status" != 0 ]; then status=$python_status; fi
exit "$status"
