#!/usr/bin/env bash
# The full-scale comparison behind the committed report:
#   1. 6M rows (a tenth of the seed's volume), every strategy x grouping x sink, 3 runs;
#   2. 60M rows (the seed's volume), every strategy x grouping into the null
#      sink, with the generator and both disk floors, 1 run;
#   3. 60M rows, the streaming strategies into the Parquet sink (~38 GB each), 1 run;
# then `predbench report`. About 25 minutes and ~60 GB of free disk on a
# 2-core machine; datasets are deleted at the end, records and logs stay in
# results/.
#   scripts/full-scale.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=${1:-data}
cargo build --release -p predbench
bin=target/release/predbench
status=0
"$bin" compare --rows 6M --runs 3 --clean --data-dir "$data_dir" || status=$?
"$bin" compare --rows 60M --runs 1 --sinks null --data-dir "$data_dir" || status=$?
"$bin" compare --rows 60M --runs 1 --strategies single-thread,rayon --sinks parquet \
  --skip-generate --skip-disk-floor --clean --data-dir "$data_dir" || status=$?
"$bin" report
exit "$status"
