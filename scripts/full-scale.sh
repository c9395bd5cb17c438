#!/usr/bin/env bash
# The full-scale comparison behind the committed report: 60M rows (the seed's
# volume), every strategy and grouping into the null sink, the generator and
# the disk floor, then rayon into the Parquet sink (the seed's output, ~34 GB
# at 60M), then `predbench report`. About 45 minutes and ~60 GB of free disk
# (dataset 15 GB + window-sort's spill runs) on a 2-core machine; the data is
# deleted at the end, records and logs stay in results/.
#   scripts/full-scale.sh [ROWS] [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-60M}
data_dir=${2:-data}
cargo build --release -p predbench
bin=target/release/predbench
status=0
"$bin" compare --rows "$rows" --runs 1 --sinks null --data-dir "$data_dir" || status=$?
"$bin" compare --rows "$rows" --runs 1 --strategies rayon --groupings modulo --sinks parquet \
  --skip-generate --skip-disk-floor --clean --data-dir "$data_dir" || status=$?
"$bin" report
exit "$status"
