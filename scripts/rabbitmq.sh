#!/usr/bin/env bash
# A RabbitMQ broker on loopback for predbench's queue sink and its tests.
#   scripts/rabbitmq.sh start    install (Debian's rabbitmq-server) if missing, start, wait until ready
#   scripts/rabbitmq.sh restart  stop and start the running broker's app (connections drop, durable queues stay)
#   scripts/rabbitmq.sh stop     stop the broker started here
# The broker listens on 127.0.0.1:${PREDBENCH_AMQP_PORT:-5672} with the default guest/guest user
# (allowed from loopback only), its files under ${PREDBENCH_RABBITMQ_DIR:-/tmp/predbench-rabbitmq}.
# Tests and examples use amqp://guest:guest@127.0.0.1:5672/%2f?queue=NAME.
set -euo pipefail
port=${PREDBENCH_AMQP_PORT:-5672}
base=${PREDBENCH_RABBITMQ_DIR:-/tmp/predbench-rabbitmq}
export RABBITMQ_NODENAME=predbench@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$port
export RABBITMQ_MNESIA_BASE=$base/mnesia
export RABBITMQ_LOG_BASE=$base/log
export RABBITMQ_PID_FILE=$base/rabbitmq.pid
export RABBITMQ_CONFIG_FILE=$base/rabbitmq
export RABBITMQ_ENABLED_PLUGINS_FILE=$base/enabled_plugins
# The distribution port and epmd stay on loopback too.
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_DIST_PORT=$((port + 20000))

ctl() { rabbitmqctl -n "$RABBITMQ_NODENAME" "$@"; }

install() {
  if command -v rabbitmq-server >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  echo "rabbitmq: installing Debian's rabbitmq-server" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  # The package starts a system broker where an init system runs; this script runs its own.
  $sudo service rabbitmq-server stop >/dev/null 2>&1 || true
}

wait_ready() {
  for _ in $(seq 1 120); do
    if ctl await_startup >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "rabbitmq: the broker did not start within 120 s; its log is under $base/log" >&2
  exit 1
}

case "${1:-start}" in
  start)
    install
    mkdir -p "$base/mnesia" "$base/log"
    printf 'listeners.tcp.1 = 127.0.0.1:%s\nloopback_users.guest = true\n' "$port" > "$base/rabbitmq.conf"
    printf '[].\n' > "$base/enabled_plugins"
    # Debian's rabbitmq-server, started as root, runs as the rabbitmq user.
    if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
      chown -R rabbitmq:rabbitmq "$base"
    fi
    if ctl status >/dev/null 2>&1; then
      echo "rabbitmq: already running on 127.0.0.1:$port"
      exit 0
    fi
    rabbitmq-server -detached >/dev/null 2>&1 || rabbitmq-server -detached
    wait_ready
    echo "rabbitmq: ready on 127.0.0.1:$port (node $RABBITMQ_NODENAME, files under $base)"
    ;;
  restart)
    ctl stop_app >/dev/null
    ctl start_app >/dev/null
    wait_ready
    ;;
  stop)
    ctl stop >/dev/null 2>&1 || true
    echo "rabbitmq: stopped"
    ;;
  *)
    echo "usage: scripts/rabbitmq.sh start|restart|stop" >&2
    exit 2
    ;;
esac
