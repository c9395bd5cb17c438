"""The job on Sail: Spark's DataFrame API on DataFusion, in process. Sail is
a Spark Connect server (pysail), and this script is `spark_jvm.py`'s code
unchanged, run by PySpark's Spark Connect client (pyspark-client) against a
Sail server started here: per-partition counts, prefix offsets, numbering
with `monotonically_increasing_id`, members sorted by sequential id,
`to_json`. Sail numbers rows in its own partitions' order, as Spark does, so
the output is checked by id. It runs from a venv of its own
(scripts/setup-peers.sh makes VENV-sail): pyspark-client and the full
PySpark cannot share one. Sail's defaults: parallelism = the cores
(`--threads`), an unbounded memory pool; `--memory-pool BYTES` (the
`sail-fair` variant) gives it a fair pool of that size, so that operators
spill to --local-dir past it.

    sail_export.py --input DIR --output DIR [--group-size K] [--threads N] [--memory-pool 8000000000] [--compression zstd]
"""

import os
import sys
import time

from peer_common import atomic_output, dataset_files, exporter_arguments, write_summary


def main() -> None:
    arguments = exporter_arguments(__doc__.split("\n\n")[0], extra=lambda parser: parser.add_argument(
        "--memory-pool", type=int, help="a fair memory pool of this many bytes [default: unbounded]"))
    # Sail reads its configuration from the environment when it starts.
    os.environ["SAIL_EXECUTION__DEFAULT_PARALLELISM"] = str(arguments.threads)
    if arguments.memory_pool:
        os.environ["SAIL_RUNTIME__MEMORY_POOL__TYPE"] = "fair"
        os.environ["SAIL_RUNTIME__MEMORY_POOL__FAIR__MAX_SIZE"] = str(arguments.memory_pool)
    if arguments.local_dir:
        arguments.local_dir.mkdir(parents=True, exist_ok=True)
        os.environ["SAIL_RUNTIME__TEMPORARY_FILES__PATHS"] = f'["{arguments.local_dir}"]'
    from pysail.spark import SparkConnectServer
    from pyspark.sql import SparkSession

    from spark_jvm import grouped_messages

    started = time.monotonic()
    files = dataset_files(arguments.input)
    server = SparkConnectServer()
    server.start(background=True)
    _, port = server.listening_address
    spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
    codec = arguments.compression or "zstd"
    try:
        table = spark.read.parquet(*files)
        messages, rows = grouped_messages(spark, table, arguments.group_size)
        with atomic_output(arguments.output) as temporary:
            (messages.select("predicts").write
             .option("compression", {"lz4": "lz4_raw", "none": "uncompressed"}.get(codec, codec))
             .parquet(str(temporary)))
    except Exception as error:
        print(f"sail failed: {type(error).__name__}: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        spark.stop()
        server.stop()
    import pysail
    write_summary(arguments, rows, started, files, {
        "threads": arguments.threads,
        "parquet_compression": codec,
        "memory_pool": f"fair, {arguments.memory_pool} bytes" if arguments.memory_pool else "unbounded",
        "sail": getattr(pysail, "__version__", "unknown"),
    })


if __name__ == "__main__":
    sys.exit(main())
