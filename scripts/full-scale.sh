#!/usr/bin/env bash
# The full-scale comparison behind the committed report, on the seed's own
# files (made by its generator: pandas, extension-less, dictionary pages):
#   1. 6M rows: both generators, single-thread and rayon x null and Parquet sinks
#      (modulo grouping, the seed's), every peer (predbench-on-spark included:
#      predbench's shards run by Spark), and --scale-out (shards run one after
#      another, the reader's ceiling), 3 runs interleaved, plus the peers' NaN
#      and null handling on a small table;
#   2. 60M rows (the seed's volume): both generators, single-thread and rayon x
#      both sinks, the peers worth trying at this size (Spark's JVM job,
#      predbench on Spark; DuckDB and Polars, which ran out of memory on 24 GiB:
#      recorded as failures) and --scale-out, 1 run; the PySpark jobs are left
#      out to keep the run short;
#   3. delivery to a queue, 1M rows: rayon into a RabbitMQ broker started on
#      loopback (scripts/rabbitmq.sh, stopped at the end) at confirm windows 64
#      and 1024, K = 10 (modulo) against packed to 256 KiB, each beside the
#      baseline publishing the same messages pre-serialized, plus the null and
#      Parquet sinks of both groupings, 3 runs (under 6 minutes, measured, the
#      seed generator's 1M rows included);
# then `predbench report`. About 50 minutes before --scale-out and
# predbench-on-spark were added (measured: 21 for 6M, 27 for 60M; they add
# about 5 minutes at 6M and 8 at 60M, estimated, not measured) and ~60 GB of free disk at peak
# (the 17 GB dataset, a 35 GB output, Spark's shuffle files) on a 2-core
# machine; datasets are deleted at the end, records and logs stay in results/.
#   scripts/full-scale.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=${1:-data}
cargo build --release -p predbench
bash scripts/setup-peers.sh
# A copy, so that rebuilding during the run cannot change what is measured.
bin=$(mktemp -d)/predbench
cp target/release/predbench "$bin"
status=0
"$bin" compare --rows 6M --runs 3 --dataset seed --peers --scale-out \
  --strategies single-thread,rayon --groupings modulo --sinks null,parquet \
  --clean --data-dir "$data_dir" || status=$?
"$bin" compare --rows 60M --runs 1 --dataset seed \
  --peers seed-generator,spark-jvm,duckdb,polars,predbench-on-spark --scale-out \
  --strategies single-thread,rayon --groupings modulo --sinks null,parquet \
  --skip-edge-cases --clean --data-dir "$data_dir" || status=$?
bash scripts/rabbitmq.sh start
trap 'bash scripts/rabbitmq.sh stop' EXIT
"$bin" compare --rows 1M --runs 3 --dataset seed --skip-generate --skip-disk-floor \
  --strategies rayon --groupings modulo,packed --sinks null,parquet,amqp --confirm-windows 64,1024 \
  --clean --data-dir "$data_dir" || status=$?
"$bin" report
exit "$status"
