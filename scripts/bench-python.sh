#!/usr/bin/env bash
# The Python module's speed targets, measured: the release wheel built and
# installed into target/python-bench-venv (`pip install ./python`), then scripts/bench_python.py
# (predbench.generate into a pyarrow.Table, `predbench generate`, the seed's
# numpy/pandas generator; ROWS rows, RUNS runs interleaved), recorded under
# results/python-<UTC time>/.
#   scripts/bench-python.sh [ROWS] [RUNS]      (default 10000000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-peers.sh >/dev/null
venv=target/python-bench-venv
rm -rf "$venv"
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check ./python
PATH="$PWD/$venv/bin:$PATH" "$venv/bin/python" scripts/bench_python.py \
  --rows "${1:-10000000}" --runs "${2:-3}"
