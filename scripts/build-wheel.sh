#!/usr/bin/env bash
# Builds the predbench wheel into target/wheels: the Python module
# (python/, pyo3, built by maturin) with the `predbench` command (built by
# cargo) carried as a script of the wheel, so that `pip install` puts both
# in the environment. One wheel per platform, for every CPython >= 3.9 (abi3);
# its tag (manylinux_2_X_x86_64) is the oldest glibc it runs on.
#   scripts/build-wheel.sh            release build (the wheel users install)
#   PROFILE=dev scripts/build-wheel.sh   the debug build, as the tests use it
# maturin comes from PyPI into target/wheel-tools (made once).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
case "$profile" in
  release) binary_dir=target/release ;;
  dev) binary_dir=target/debug ;;
  *) echo "build-wheel: PROFILE is release or dev, not $profile" >&2; exit 1 ;;
esac
tools=target/wheel-tools
if [ ! -x "$tools/bin/maturin" ]; then
  "${PYTHON:-python3}" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==1.16.0"
fi
cargo build --profile "$profile" -p predbench
scripts_dir=python/wheel-data/scripts
rm -rf python/wheel-data
mkdir -p "$scripts_dir"
cp "$binary_dir/predbench" "$scripts_dir/predbench"
if [ "$profile" = release ]; then
  strip "$scripts_dir/predbench"
fi
rm -f target/wheels/predbench-*.whl
strip_flag=()
if [ "$profile" = release ]; then strip_flag=(--strip); fi
"$tools/bin/maturin" build --quiet --profile "$profile" "${strip_flag[@]}" \
  --manifest-path python/Cargo.toml --out target/wheels
ls target/wheels/predbench-*.whl
