"""predbench past one machine, scheduled by Spark: the driver ships the
`predbench` binary to the executors (SparkFiles), runs one Spark task per
shard (`predbench export --shard I/N` or `predbench generate --shard I/N`),
lets Spark retry a failed task (a shard's outputs appear atomically, so a
retried shard just writes them again), collects every shard's summary and
prints the totals. Nothing is shuffled: every shard reads its own groups from
the shared files, numbered from the Parquet footers.

    predbench_on_spark.py --input DIR --output DIR --shards N --predbench PATH [--master URL] [EXPORT FLAGS]
    predbench_on_spark.py --job generate --output DIR --shards N --predbench PATH --rows N [GENERATE FLAGS]

Flags it does not know (--grouping, --group-size, --strategy, --rows, ...)
go to every shard's predbench as they are. Input and output must be on
storage every executor sees at the same path (an NFS or HDFS-fuse mount; see
scripts/spark/README.md). `predbench-harness compare --peers predbench-on-spark` runs
it beside the one-process export, taking the peers' --threads N: N shards
on local-cluster[N,1,1024].
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "peers"))
from peer_common import spark_session, stop_spark  # noqa: E402

# Shards of a generated dataset must cut it into the same batches to write the
# same bytes; --batch-rows' own default depends on each machine's memory.
DEFAULT_BATCH_ROWS = 262_144


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--job", choices=["export", "generate"], default="export")
    parser.add_argument("--input", type=Path, help="the dataset (export)")
    parser.add_argument("--output", required=True, type=Path,
                        help="the directory every shard writes its part files into")
    parser.add_argument("--shards", type=int, help="shards (Spark tasks) [default: --threads]")
    parser.add_argument("--predbench", type=Path, required=True, help="the predbench binary to ship")
    parser.add_argument("--master", help="Spark master [default: local-cluster[THREADS,1,1024], "
                                         "separate executor JVMs]; under spark-submit leave it out")
    parser.add_argument("--threads", type=int, default=2,
                        help="executors of the default local cluster, and shards when --shards is not given")
    parser.add_argument("--threads-per-shard", type=int, default=1,
                        help="--threads of every shard's predbench (the cores of one executor)")
    parser.add_argument("--driver-memory", default="1g", help="spark.driver.memory")
    parser.add_argument("--local-dir", type=Path, help="spark.local.dir [default: Spark's own]")
    parser.add_argument("--max-attempts", type=int, default=4, help="spark.task.maxFailures")
    parser.add_argument("--force", action="store_true", help="write into a --output that holds files")
    parser.add_argument("--summary-json", type=Path, help="also write the totals and every shard here")
    parser.add_argument("--kill-first-attempt-of", type=int, metavar="SHARD",
                        help="fault injection for tests: SIGKILL shard SHARD's predbench during its "
                             "first attempt and fail the task, so that Spark retries it")
    parsed, passthrough = parser.parse_known_args()
    if parsed.shards is None:
        parsed.shards = parsed.threads
    if parsed.shards < 1:
        parser.error("--shards must be at least 1")
    if not parsed.predbench.is_file() or not os.access(parsed.predbench, os.X_OK):
        parser.error(f"--predbench {parsed.predbench} is not an executable file "
                     "(build it with `cargo build --release`: target/release/predbench)")
    if parsed.job == "export":
        if parsed.input is None:
            parser.error("--input is required for --job export")
        if not parsed.input.exists():
            parser.error(f"--input {parsed.input} does not exist")
    if parsed.output.exists() and not parsed.output.is_dir():
        parser.error(f"--output {parsed.output} is a file; give the directory the shards write into")
    if parsed.output.is_dir() and any(parsed.output.iterdir()) and not parsed.force:
        parser.error(f"--output {parsed.output} is not empty; remove it or pass --force")
    # Tasks run in the executors' own working directories: hand them absolute paths.
    parsed.output = parsed.output.resolve()
    parsed.predbench = parsed.predbench.resolve()
    if parsed.input is not None:
        parsed.input = parsed.input.resolve()
    if parsed.job == "generate" and "--batch-rows" not in passthrough:
        passthrough += ["--batch-rows", str(DEFAULT_BATCH_ROWS)]
    return parsed, passthrough


def codec_of(passthrough) -> str:
    """The page compression the shards write: `--compression` passed through, or predbench's default."""
    if "--compression" in passthrough[:-1]:
        return passthrough[passthrough.index("--compression") + 1]
    return "lz4"


def shard_command(binary: str, job: str, parsed, passthrough, index: int, summary: str):
    command = [binary, job]
    if job == "export":
        command += ["--input", str(parsed.input), "--sink", f"parquet:{parsed.output}"]
    else:
        command += ["--out", str(parsed.output)]
    # Every attempt may replace what an earlier attempt of the same shard wrote:
    # the driver refused a non-empty --output before any task started.
    command += ["--shard", f"{index}/{parsed.shards}", "--threads", str(parsed.threads_per_shard),
                "--summary-json", summary, "--force", "--quiet", *passthrough]
    return command


def run_shards(parsed, passthrough):
    """A Spark function: runs the shard of its partition, returns its summary."""
    job = parsed.job
    output = parsed.output
    binary_name = parsed.predbench.name

    def run(index, _rows):
        from pyspark import SparkFiles, TaskContext
        attempt = TaskContext.get().attemptNumber()
        # SparkFiles keeps the file's own name, whatever it is.
        binary = SparkFiles.get(binary_name)
        if not os.access(binary, os.X_OK):
            os.chmod(binary, 0o755)
        with tempfile.TemporaryDirectory(prefix="predbench-shard-") as scratch:
            summary_path = os.path.join(scratch, "summary.json")
            command = shard_command(binary, job, parsed, passthrough, index, summary_path)
            started = time.monotonic()
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if parsed.kill_first_attempt_of == index and attempt == 0:
                kill_when_writing(process, output)
                raise RuntimeError(f"shard {index}/{parsed.shards}: predbench SIGKILLed in its first "
                                   "attempt (--kill-first-attempt-of); Spark retries the task")
            stdout, stderr = process.communicate()
            seconds = time.monotonic() - started
            if process.returncode != 0:
                raise RuntimeError(f"shard {index}/{parsed.shards} on {socket.gethostname()}: "
                                   f"predbench exited with {process.returncode}: {stderr.strip()[-2000:]}")
            with open(summary_path) as file:
                summary = json.load(file)
        summary.update(shard=index, attempt=attempt, host=socket.gethostname(), seconds=seconds)
        yield summary

    return run


def kill_when_writing(process, output: Path) -> None:
    """SIGKILLs `process` once a temporary output file of it shows up (or it ends)."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if any(".predbench-tmp-" in entry.name for entry in output.iterdir()):
            break
        time.sleep(0.005)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


def check_export_records(output: Path, shards: int) -> None:
    """The shards' records must describe one export: same dataset and options,
    groups adjacent from the first shard to the last."""
    records = [json.loads(path.read_text()) for path in sorted(output.glob("_shard-*.json"))]
    if len(records) != shards:
        sys.exit(f"error: {output} holds {len(records)} shard records, expected {shards}")
    for record in records[1:]:
        if record["export"] != records[0]["export"]:
            sys.exit(f"error: shard {record['shard']['index']} saw another dataset or other options "
                     f"than shard 0: {output} mixes two exports")
    for before, after in zip(records, records[1:]):
        if before["end_group"] != after["first_group"]:
            sys.exit(f"error: shard {after['shard']['index']} starts at group {after['first_group']}, "
                     f"shard {before['shard']['index']} ended at {before['end_group']}")


def remove_worker_files(application: str) -> None:
    """local-cluster's workers copy the files a job ships (the predbench binary,
    hundreds of MB) into SPARK_HOME/work/APPLICATION and never delete them."""
    from pyspark.find_spark_home import _find_spark_home
    shutil.rmtree(Path(_find_spark_home()) / "work" / application, ignore_errors=True)


def main():
    parsed, passthrough = arguments()
    started = time.monotonic()
    parsed.output.mkdir(parents=True, exist_ok=True)
    parsed.master = parsed.master or (None if "PYSPARK_GATEWAY_PORT" in os.environ
                                      else f"local-cluster[{parsed.threads},1,1024]")
    spark = spark_session("predbench on Spark", parsed,
                          {"spark.task.maxFailures": str(parsed.max_attempts),
                           "spark.executor.memory": "768m"})
    application = spark.sparkContext.applicationId
    try:
        context = spark.sparkContext
        context.addFile(str(parsed.predbench))
        tasks = context.parallelize(range(parsed.shards), parsed.shards)
        summaries = sorted(tasks.mapPartitionsWithIndex(run_shards(parsed, passthrough)).collect(),
                           key=lambda summary: summary["shard"])
    finally:
        stop_spark(spark)
        if (parsed.master or "").startswith("local-cluster"):
            remove_worker_files(application)

    if parsed.job == "generate":
        if not (parsed.output / "_manifest.json").exists():
            subprocess.run([str(parsed.predbench), "generate", "--merge-manifests", str(parsed.output),
                            "--quiet"], check=True)
    else:
        check_export_records(parsed.output, parsed.shards)
    elapsed = time.monotonic() - started
    seconds = [summary["seconds"] for summary in summaries]
    median = statistics.median(seconds)
    totals = {
        "rows": sum(summary["rows"] for summary in summaries),
        "input_bytes": max((summary.get("input_bytes") or 0) for summary in summaries),
        "output_bytes": sum(summary["output_bytes"] for summary in summaries),
        "message_bytes": sum((summary.get("message_bytes") or 0) for summary in summaries),
        "messages": sum((summary.get("messages") or 0) for summary in summaries),
        "spilled_bytes": None,
        "elapsed_seconds": elapsed,
        "peak_rss_bytes": None,
        "shards": summaries,
        "slowest_shard_seconds": max(seconds),
        "median_shard_seconds": median,
        "retried_shards": [summary["shard"] for summary in summaries if summary["attempt"] > 0],
        "settings": {
            "master": parsed.master or "spark-submit's",
            "application": application,
            "shards": parsed.shards,
            "threads_per_shard": parsed.threads_per_shard,
            "driver_memory": parsed.driver_memory,
            "parquet_compression": codec_of(passthrough),
        },
    }
    retried = totals["retried_shards"]
    print(f"{parsed.job}: {parsed.shards} shards on {parsed.master or 'spark-submit master'}: "
          f"{totals['rows']} rows, {totals['messages']} messages, {totals['output_bytes']} bytes "
          f"to {parsed.output} in {elapsed:.2f} s; shards {min(seconds):.2f}-{max(seconds):.2f} s "
          f"(slowest {max(seconds) / median:.2f}x the median)"
          + (f"; retried by Spark: shards {', '.join(map(str, retried))}" if retried else ""),
          file=sys.stderr)
    if parsed.summary_json:
        parsed.summary_json.write_text(json.dumps(totals, indent=2))


if __name__ == "__main__":
    main()
