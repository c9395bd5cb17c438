#!/usr/bin/env bash
# The Python tests (python/tests): the wheel built from the checkout the way a
# user builds it (`pip install ./python`, maturin's build backend from PyPI;
# the dev profile by default, which reuses what `cargo test` compiled,
# PROFILE=release for the wheel users get), installed into a fresh venv
# beside pytest, pandas and Polars, then pytest with that venv's bin first on
# PATH, so that the `predbench` the tests run is the wheel's console script.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-test-venv
rm -rf "$venv"
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "pytest==9.2.0" "pandas==2.3.3" "polars==2.1.0" "pyarrow==23.0.1" "numpy==2.3.5"
MATURIN_PEP517_ARGS="--profile ${PROFILE:-dev}" \
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check ./python
cd python/tests
PATH="$PWD/../../$venv/bin:$PATH" "../../$venv/bin/python" -m pytest -q -p no:cacheprovider .
