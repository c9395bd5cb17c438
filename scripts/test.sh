#!/usr/bin/env bash
# Every test, as the README runs them: the peers' venvs (scripts/setup-peers.sh),
# a RabbitMQ broker and a Kafka-API broker on loopback (scripts/rabbitmq.sh start
# and scripts/kafka.sh start, left running; `stop` ends them; the Kafka broker is
# built once per machine) are set up while the Rust tests compile, then `cargo test --workspace`, then the Python tests
# (scripts/test-python.sh: the wheel from the checkout, reusing what the Rust
# tests compiled). The set-up's output is in target/test-setup.log and shown
# once it is done.
#   scripts/test.sh [ARGS]    ARGS go to `cargo test --workspace` (a test name, -- --nocapture)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
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
cargo test --workspace "$@"
bash scripts/test-python.sh
