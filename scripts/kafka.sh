#!/usr/bin/env bash
# A Kafka-API broker on loopback for predbench's Kafka sink and its tests: tansu
# (an Apache Kafka compatible broker written in Rust, from crates.io), storing
# its topics in SQLite so that they outlive a restart, or with
# PREDBENCH_KAFKA_STORAGE=memory in memory: lost when it stops (no restart
# runs on it), but read back without SQLite, where tansu 0.6 spends most of
# a drain's time (sessions past 1M rows).
#   scripts/kafka.sh start    install tansu if missing (once per machine), start, wait until ready
#   scripts/kafka.sh restart  stop the broker and start it again on the same storage
#   scripts/kafka.sh stop     stop the broker started here
# The broker listens on 127.0.0.1:${PREDBENCH_KAFKA_PORT:-9092}, its files under
# ${PREDBENCH_KAFKA_DIR:-/tmp/predbench-kafka}. Tests and examples use
# kafka://127.0.0.1:9092/TOPIC. tansu implements produce, fetch, consumer groups,
# idempotent producers and read_committed, not transactions (EndTxn).
set -euo pipefail
version=0.6.0
port=${PREDBENCH_KAFKA_PORT:-9092}
base=${PREDBENCH_KAFKA_DIR:-/tmp/predbench-kafka}
storage=${PREDBENCH_KAFKA_STORAGE:-sqlite}
case "$storage" in
  sqlite) storage_url="sqlite://tansu.db" ;;
  memory) storage_url="memory://tansu/" ;;
  *)
    echo "kafka: PREDBENCH_KAFKA_STORAGE is sqlite or memory, not $storage" >&2
    exit 2
    ;;
esac
# Built once per machine: a cold build takes many minutes. libsql is its
# SQLite storage, dynostore its memory storage.
features=libsql,dynostore
root=${PREDBENCH_TANSU_ROOT:-$HOME/.local/share/predbench/tansu-$version-sqlite-memory}

tansu_binary() {
  if [ -x "$root/bin/tansu" ]; then
    echo "$root/bin/tansu"
  fi
}

install() {
  if [ -n "$(tansu_binary)" ]; then return; fi
  echo "kafka: building tansu $version from crates.io into $root (once per machine)" >&2
  # The broker serves tests, not benchmarks of itself: a lighter
  # optimisation builds it faster.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_TARGET_DIR="$root/build" \
    cargo install tansu --version "$version" --locked --features "$features" --root "$root" --quiet
  rm -rf "$root/build"
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

start() {
  install
  if listening; then
    echo "kafka: already running on 127.0.0.1:$port"
    return
  fi
  mkdir -p "$base"
  (
    cd "$base"
    nohup "$(tansu_binary)" broker \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "$storage_url" >>"$base/broker.log" 2>&1 &
    echo $! >"$base/broker.pid"
  )
  for _ in $(seq 1 60); do
    if listening; then
      echo "kafka: tansu $version ready on 127.0.0.1:$port (storage $storage_url in $base)"
      return
    fi
    sleep 0.5
  done
  echo "kafka: the broker did not start within 30 s; its log is $base/broker.log" >&2
  exit 1
}

stop() {
  if [ -f "$base/broker.pid" ]; then
    pid=$(cat "$base/broker.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$base/broker.pid"
  fi
  echo "kafka: stopped"
}

case "${1:-start}" in
  start) start ;;
  restart) stop >/dev/null; start ;;
  stop) stop ;;
  *)
    echo "usage: scripts/kafka.sh start|restart|stop" >&2
    exit 2
    ;;
esac
