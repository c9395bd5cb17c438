"""Plumbing every peer script shares: its command line, the dataset's files in
predbench's order, an output that appears atomically, and the summary JSON that
`predbench-harness compare` reads (the same fields as predbench's own --summary-json)."""

import argparse
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path


def exporter_arguments(description: str, spark: bool = False, extra=None) -> argparse.Namespace:
    """--input DIR --output PATH [--group-size K] [--threads N] [--summary-json PATH]
    [--local-dir DIR] [--compression CODEC], and the script's own arguments
    that `extra(parser)` adds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--input", required=True, type=location,
                        help="a Parquet file or a directory of them (names starting with _ or . are skipped)"
                             + ("; a URL such as hdfs://... is handed to Spark as it is" if spark else ""))
    parser.add_argument("--output", required=True, type=location,
                        help="where the messages go: Parquet, one string column `predicts`"
                             + ("; a URL is written by Spark's own commit protocol" if spark else ""))
    parser.add_argument("--group-size", type=int, default=10, help="predictions per message, K")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="cores to use")
    parser.add_argument("--summary-json", type=Path, help="also write the run's counts here")
    parser.add_argument("--local-dir", type=Path,
                        help="where the job keeps its scratch files (Spark's shuffle and spill, "
                             "DuckDB's, Polars' and chDB's spill) [default: the tool's own]; the "
                             "caller deletes it after a killed run")
    parser.add_argument("--compression", choices=CODECS,
                        help="page compression of the output [default: the tool's own]: what "
                             "`predbench-harness compare --output-codec` gives every exporter")
    if extra is not None:
        extra(parser)
    if spark:
        parser.add_argument("--driver-memory", default="12g",
                            help="spark.driver.memory (local mode: all the JVM's heap); the seed gave 12G")
        parser.add_argument("--master",
                            help="Spark master [default: local[THREADS]]; under spark-submit on a cluster, "
                                 "leave it out and give spark-submit --master")
    arguments = parser.parse_args()
    if arguments.group_size < 1:
        parser.error("--group-size must be at least 1")
    if arguments.threads < 1:
        parser.error("--threads must be at least 1")
    if isinstance(arguments.output, Path) and arguments.output.exists():
        parser.error(f"{arguments.output} exists; remove it first")
    if not spark and not (isinstance(arguments.input, Path) and isinstance(arguments.output, Path)):
        parser.error("only the Spark peers take URLs")
    return arguments


# The codecs every exporter can write, as predbench names them (lz4 is the
# Parquet spec's LZ4_RAW, which every tool here writes under its own name).
CODECS = ["snappy", "zstd", "lz4", "none"]


def location(text: str):
    """A local path, or a URL (scheme://...) kept as text for Spark."""
    return text if "://" in text else Path(text)


def is_url(value) -> bool:
    return isinstance(value, str)


def dataset_files(root) -> list[str]:
    """The dataset's data files in predbench's order: the file itself, or the
    directory's files in name order without names starting with _ or . ; a
    URL as it is (Spark lists it and skips the same names)."""
    if is_url(root):
        return [root]
    if root.is_file():
        return [str(root)]
    if not root.is_dir():
        sys.exit(f"error: input {root} does not exist")
    files = sorted(entry for entry in root.iterdir()
                   if entry.is_file() and not entry.name.startswith(("_", ".")))
    if not files:
        sys.exit(f"error: {root} holds no data files")
    return [str(path) for path in files]


def row_counts(files: list[str]) -> list[int]:
    """Rows of every file, from the Parquet footers alone."""
    import pyarrow.parquet as pq
    return [pq.ParquetFile(path).metadata.num_rows for path in files]


def group_count(rows: int, group_size: int) -> int:
    """G = N / K + 1 (integer division): the seed's modulo grouping."""
    return rows // group_size + 1


@contextmanager
def atomic_output(path):
    """Yields a temporary sibling of `path`; renames it to `path` when the body
    succeeds and deletes it when it fails, so a run that dies leaves nothing at
    `path`. A URL is yielded as it is: Spark's commit protocol writes _SUCCESS last."""
    if is_url(path):
        yield path
        return
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    remove(temporary)
    try:
        yield temporary
        os.rename(temporary, path)
    finally:
        remove(temporary)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def tree_bytes(path: Path) -> int:
    """Bytes of a file, or of every file under a directory."""
    if path.is_file():
        return path.stat().st_size
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def message_count(path: Path) -> int:
    """Messages in a Parquet output (a file or a directory of part files), from the footers."""
    import pyarrow.parquet as pq
    parts = [path] if path.is_file() else sorted(
        entry for entry in path.rglob("*")
        if entry.is_file() and not entry.name.startswith(("_", ".")))
    return sum(pq.ParquetFile(part).metadata.num_rows for part in parts)


def write_summary(arguments: argparse.Namespace, rows: int, started: float, files: list[str],
                  settings: dict | None = None) -> None:
    """Prints one line about the run and writes --summary-json if asked, with
    the `settings` the run used (threads, memory, partitions, compression)."""
    elapsed = time.monotonic() - started
    if is_url(arguments.output):
        print(f"{rows} rows -> {arguments.output} in {elapsed:.2f} s", file=sys.stderr)
        return
    messages = message_count(arguments.output)
    output_bytes = tree_bytes(arguments.output)
    print(f"{rows} rows -> {messages} messages ({output_bytes} bytes) to {arguments.output} in {elapsed:.2f} s",
          file=sys.stderr)
    if arguments.summary_json:
        summary = {
            "rows": rows,
            "input_bytes": sum(os.path.getsize(path) for path in files),
            "output_bytes": output_bytes,
            "message_bytes": None,
            "messages": messages,
            "spilled_bytes": None,
            "elapsed_seconds": elapsed,
            "peak_rss_bytes": None,
            "settings": settings or {},
        }
        arguments.summary_json.write_text(json.dumps(summary, indent=2))


def spark_session(app_name: str, arguments: argparse.Namespace, extra_config: dict | None = None):
    """A Spark session as the seed's jobs make it: local[threads] (or
    --master, or spark-submit's), the given driver memory, Kryo; quiet logs;
    plus `extra_config`."""
    from pyspark.sql import SparkSession
    # Python workers (the seed's job sends every row through them) run this
    # interpreter, the venv's, not whatever python3 is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    # Under spark-submit the JVM exists already (PYSPARK_GATEWAY_PORT is set) and
    # spark-submit's --master and --driver-memory apply.
    if arguments.master or "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.master(arguments.master or f"local[{arguments.threads}]")
    if getattr(arguments, "local_dir", None):
        builder = builder.config("spark.local.dir", str(arguments.local_dir))
    spark = (builder
             .config("spark.driver.memory", arguments.driver_memory)
             .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC"))
    for key, value in (extra_config or {}).items():
        spark = spark.config(key, value)
    spark = spark.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def stop_spark(spark) -> None:
    """Stops Spark and waits for its JVM to exit, so that the JVM is a reaped
    child of this process and its peak memory counts in this process's
    (`wait4` reports the largest reaped descendant)."""
    gateway = spark.sparkContext._gateway
    process = getattr(gateway, "proc", None)
    spark.stop()
    gateway.shutdown()
    if process is not None:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=120)


def spark_codec(codec: str | None) -> str | None:
    """spark.sql.parquet.compression.codec for a predbench codec name."""
    return {"lz4": "lz4_raw", "none": "none"}.get(codec, codec)


def spark_settings(spark) -> dict:
    """The settings that shape a Spark job's speed and memory, as the session has them."""
    conf = spark.conf
    names = {
        "master": "spark.master",
        "driver_memory": "spark.driver.memory",
        "shuffle_partitions": "spark.sql.shuffle.partitions",
        "adaptive_query_execution": "spark.sql.adaptive.enabled",
        "parquet_compression": "spark.sql.parquet.compression.codec",
        "max_partition_bytes": "spark.sql.files.maxPartitionBytes",
    }
    settings = {key: conf.get(name, None) for key, name in names.items()}
    # Unset, the codec is Spark's documented default.
    settings["parquet_compression"] = settings["parquet_compression"] or "snappy"
    return settings


def run_spark_job(description: str, app_name: str, build) -> None:
    """The frame every Spark peer shares: parse the command line, start Spark,
    read the dataset, `build(spark, table, group_size)` -> (messages DataFrame
    with one column `predicts`, rows), write it atomically, stop Spark
    (reaping its JVM, also when the job fails, so that a failed run's CPU
    time and peak memory are the JVM's too), report with the session's
    settings. Spark's defaults are the documented ones for a local job:
    adaptive query execution coalesces the 200 shuffle partitions to what
    the data needs."""
    arguments = exporter_arguments(description, spark=True)
    started = time.monotonic()
    files = dataset_files(arguments.input)
    codec = spark_codec(arguments.compression)
    extra = {"spark.sql.parquet.compression.codec": codec} if codec else None
    spark = spark_session(app_name, arguments, extra)
    try:
        table = spark.read.parquet(*files)
        messages, rows = build(spark, table, arguments.group_size)
        with atomic_output(arguments.output) as temporary:
            messages.write.parquet(str(temporary))
        settings = spark_settings(spark)
    except Exception as error:
        # Said while the JVM still runs: a Py4JJavaError cannot be put in
        # words once it is gone ("<exception str() failed>").
        print(str(error), file=sys.stderr)
        print(f"{app_name} failed: {root_cause(error)}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        stop_spark(spark)
    write_summary(arguments, rows, started, files, settings)


def root_cause(error: Exception) -> str:
    """The innermost Java exception behind a Py4JJavaError
    (`java.io.IOException: No space left on device`), or the error itself."""
    java = getattr(error, "java_exception", None)
    if java is None:
        return f"{type(error).__name__}: {error}"
    while java.getCause() is not None:
        java = java.getCause()
    return java.toString()


def amqp_connection(url: str):
    """A pika connection and channel to the broker of a predbench queue URL
    (amqp://...?queue=NAME[&queue_type=classic|quorum]) and the queue, declared
    durable as predbench declares it: (connection, channel, queue name)."""
    import pika
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    queue = query.pop("queue", None)
    if not queue:
        sys.exit(f"error: {url} names no queue; add ?queue=NAME")
    queue_type = query.pop("queue_type", None)
    broker = urlunsplit(parts._replace(query=urlencode(query)))
    connection = pika.BlockingConnection(pika.URLParameters(broker))
    channel = connection.channel()
    arguments = {"x-queue-type": queue_type} if queue_type else None
    channel.queue_declare(queue=queue, durable=True, arguments=arguments)
    return connection, channel, queue


def message_files(root: Path) -> list[str]:
    """The Parquet files of a message output (a file, or a directory of part
    files in name order, skipping names that start with _ or .)."""
    if root.is_file():
        return [str(root)]
    files = sorted(entry for entry in root.rglob("*")
                   if entry.is_file() and not entry.name.startswith(("_", ".")))
    if not files:
        sys.exit(f"error: {root} holds no message files")
    return [str(path) for path in files]


def write_publish_summary(path, started: float, messages: int, message_bytes: int,
                          settings: dict) -> None:
    """--summary-json of a publisher: messages and bytes of JSON it published."""
    if path is None:
        return
    summary = {
        "rows": 0,
        "input_bytes": 0,
        "output_bytes": 0,
        "message_bytes": message_bytes,
        "messages": messages,
        "spilled_bytes": None,
        "elapsed_seconds": time.monotonic() - started,
        "peak_rss_bytes": None,
        "settings": settings,
    }
    Path(path).write_text(json.dumps(summary, indent=2))
