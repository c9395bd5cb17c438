#!/usr/bin/env bash
# The full-scale comparison behind the committed report, on the seed's own
# files (made by its generator: pandas, extension-less, dictionary pages), one
# session per size so that every decision table comes from one session:
#   1m.  1M rows, 3 runs interleaved: both generators, single-thread and rayon
#        x the null and Parquet sinks (modulo grouping, the seed's), every
#        exporting peer and its variants (the seed's PySpark job, the
#        knowledge-base window, Spark done right, DuckDB, Polars, chDB, Sail,
#        predbench on Spark), and the peers' NaN and null handling on a small
#        table: the README's main job, with the disk floor;
#   6m.  6M rows, predbench's runs 3 times and the peers once (each takes
#        1 to 6 minutes here): the same, plus --scale-out (shards run one after
#        another, the reader's ceiling) and --memory-study (time against peak
#        RSS across threads, chunk sizes and window-sort's budgets); the NaN
#        and null table ran in the 1M session;
#   codec. 6M rows, 1 run: every Parquet exporter at one codec (zstd), so the
#        appendix compares them at equal output;
#   60m. 60M rows (the seed's volume), 1 run: predbench's configurations
#        into Parquet and every exporting peer in the variant made for data
#        past memory (DuckDB and chDB spilling, Sail's fair memory pool;
#        Polars' in-memory engine needed 12.9 GiB at 6M in session
#        2026-12-06T00:38:41Z, so only its streaming engine); a peer still
#        running after --peer-timeout is killed and recorded as timed out,
#        and one that runs out of memory or disk is recorded with its time,
#        peak memory and cause;
#   queue. delivery to a queue, 1M rows: rayon into a RabbitMQ broker started
#        on loopback (scripts/rabbitmq.sh, stopped at the end) at confirm
#        windows 64 and 1024, K = 10 (modulo) against packed to 256 KiB, each
#        beside the baseline publishing the same messages pre-serialized, 3 runs;
#   delivery. delivery against the publishers a team would write, 6M rows, 3
#        runs (the peers 1: the pika publisher with confirms alone takes ~8
#        min): rayon K = 10 and packed into classic and quorum queues beside
#        their baselines, the seed's job followed by a pika publisher with and
#        without confirms, Spark publishing from its executors; every queue
#        drained and verified; then every publisher to a classic queue once
#        more with the broker restarted half way (--restart-broker);
#   delivery60m. delivery at 60M rows, 1 run: K = 10 and packed, each drained
#        beside the export (zstd parts); each baseline publishes the messages
#        of a tenth of the rows 10 times over (--baseline-passes 10: all 56 GB
#        would not fit beside the dataset), drained beside too;
#   kafka. delivery to Kafka, 1M rows, 1 run: rayon K = 10 and one prediction a
#        record (--kafka-per-prediction) into topics of 12 partitions on the
#        broker scripts/kafka.sh starts, records not compressed (that broker
#        takes compressed batches several times slower), each beside its
#        baseline; the seed's job followed by a confluent-kafka producer, first
#        version (acks=1, no delivery reports) and second (acks=all,
#        idempotent); every topic drained and verified; then every publisher
#        once more with the broker restarted half way (--restart-kafka). Not
#        6M: that broker (tansu 0.6) answers each fetch by reading every record
#        from the offset asked to the partition's end (its record_fetch.sql),
#        so reading a topic back takes time quadratic in a partition's size
#        (a 6M drain here did not finish in the hour it had); 12 partitions
#        keep them small;
#   kafka6m. delivery to Kafka at 6M rows, 3 runs (the peers 1): rayon K = 10
#        into topics of 12 partitions beside its baseline, the seed's job
#        followed by both confluent-kafka producers, every topic drained and
#        verified. The broker keeps its topics in memory
#        (PREDBENCH_KAFKA_STORAGE=memory): reading them back from its SQLite
#        storage keeps tansu 0.6 busy for most of each drain, too long at 6M
#        (see kafka). So no restart runs here: a restart empties it;
#   kafka60m. delivery to Kafka at 60M rows, 1 run: K = 10 into zstd topics
#        (uncompressed, the topic alone would be about 56 GB: the test broker
#        keeps every record in SQLite), drained beside the export (zstd
#        parts), no baseline. Not run on the test broker (its reads are
#        quadratic in a partition's size, see kafka); for a Kafka cluster:
#        give compare --kafka kafka://HOST:PORT and drop --restart-kafka;
# then `predbench-harness report`. At 60M the 17.0 GB dataset and a 34.4 GB
# output lie side by side, plus Spark's shuffle files (session 2026-12-02T02:30:25Z,
# a 2-core machine); datasets
# are deleted at the end, records and logs stay in results/. The sessions'
# own records say how long each part took.
#   scripts/full-scale.sh [DATA_DIR] [PARTS]
# DATA_DIR defaults to data, inside the repository; PARTS to
# 1m,6m,codec,60m,queue,delivery,delivery60m,kafka,kafka6m,kafka60m (a part that failed can be run
# again alone, as a session of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir=${1:-data}
parts=",${2:-1m,6m,codec,60m,queue,delivery,delivery60m,kafka,kafka6m,kafka60m},"
wants() { [[ $parts == *",$1,"* ]]; }
cargo build --release -p predbench -p predbench-harness
bash scripts/setup-peers.sh
# Copies, so that rebuilding during the run cannot change what is measured
# (inside the repository: records name them relative to it); the harness
# runs the predbench beside it.
mkdir -p target/full-scale
cp target/release/predbench target/release/predbench-harness target/full-scale/
bin=target/full-scale/predbench-harness
status=0
if wants 1m; then
  "$bin" compare --rows 1M --runs 3 --dataset seed --peers --peer-timeout 1800 \
    --strategies single-thread,rayon --groupings modulo --sinks null,parquet \
    --clean --data-dir "$data_dir" || status=$?
fi
if wants 6m; then
  "$bin" compare --rows 6M --runs 3 --peer-runs 1 --dataset seed --peers --scale-out --memory-study \
    --peer-timeout 1800 --strategies single-thread,rayon --groupings modulo --sinks null,parquet \
    --skip-edge-cases --clean --data-dir "$data_dir" || status=$?
fi
if wants codec; then
  "$bin" compare --rows 6M --runs 1 --dataset seed --skip-generate --skip-disk-floor \
    --peers pyspark-seed,pyspark-window,spark-jvm,duckdb,duckdb-spill,polars,polars-in-memory,chdb,chdb-spill,sail,sail-fair,predbench-on-spark \
    --output-codec zstd --peer-timeout 1800 --strategies rayon --groupings modulo --sinks parquet \
    --skip-edge-cases --clean --data-dir "$data_dir" || status=$?
fi
if wants 60m; then
  "$bin" compare --rows 60M --runs 1 --dataset seed --peer-timeout 1800 \
    --peers pyspark-seed,pyspark-window,spark-jvm,duckdb-spill,polars,chdb-spill,sail-fair,predbench-on-spark \
    --strategies single-thread,rayon --groupings modulo --sinks parquet \
    --skip-edge-cases --clean --data-dir "$data_dir" || status=$?
fi
if wants queue || wants delivery || wants delivery60m; then
  bash scripts/rabbitmq.sh start
  trap 'bash scripts/rabbitmq.sh stop' EXIT
fi
if wants queue; then
  "$bin" compare --rows 1M --runs 3 --dataset seed --skip-generate --skip-disk-floor \
    --strategies rayon --groupings modulo,packed --sinks null,parquet,amqp --confirm-windows 64,1024 \
    --clean --data-dir "$data_dir" || status=$?
fi
if wants delivery; then
  "$bin" compare --rows 6M --runs 3 --dataset seed --skip-generate --skip-disk-floor \
    --strategies rayon --groupings modulo,packed --sinks amqp --confirm-windows 1024 \
    --queue-types classic,quorum --peer-runs 1 --peer-timeout 3600 \
    --peers pyspark-seed,pika-publisher,pika-publisher-no-confirms,spark-publish \
    --restart-broker "bash scripts/rabbitmq.sh restart" \
    --skip-edge-cases --clean --data-dir "$data_dir" || status=$?
fi
if wants delivery60m; then
  "$bin" compare --rows 60M --runs 1 --dataset seed --skip-generate --skip-disk-floor \
    --strategies rayon --groupings modulo,packed --sinks amqp --confirm-windows 1024 \
    --baseline-passes 10 --drain-beside --drain-compression zstd \
    --clean --data-dir "$data_dir" || status=$?
fi
if wants kafka || wants kafka60m; then
  bash scripts/kafka.sh start
  trap 'bash scripts/rabbitmq.sh stop 2>/dev/null; bash scripts/kafka.sh stop' EXIT
fi
if wants kafka; then
  "$bin" compare --rows 1M --runs 1 --dataset seed --skip-generate --skip-disk-floor \
    --strategies rayon --groupings modulo --sinks kafka --kafka-per-prediction --kafka-partitions 12 \
    --peers pyspark-seed,kafka-producer-first-version,kafka-producer --peer-timeout 3600 \
    --restart-kafka "bash scripts/kafka.sh restart" \
    --skip-edge-cases --clean --data-dir "$data_dir" || status=$?
fi
if wants kafka6m; then
  PREDBENCH_KAFKA_STORAGE=memory bash scripts/kafka.sh restart
  "$bin" compare --rows 6M --runs 3 --peer-runs 1 --dataset seed --skip-generate --skip-disk-floor \
    --strategies rayon --groupings modulo --sinks kafka --kafka-partitions 12 \
    --peers pyspark-seed,kafka-producer-first-version,kafka-producer --peer-timeout 3600 \
    --skip-edge-cases --clean --data-dir "$data_dir" || status=$?
  bash scripts/kafka.sh restart
fi
if wants kafka60m; then
  "$bin" compare --rows 60M --runs 1 --dataset seed --skip-generate --skip-disk-floor \
    --strategies rayon --groupings modulo --sinks kafka --kafka-compression zstd \
    --skip-baselines --drain-beside --drain-compression zstd \
    --clean --data-dir "$data_dir" || status=$?
fi
"$bin" report
exit "$status"
