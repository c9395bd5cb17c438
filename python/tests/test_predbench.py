"""The wheel, as a user meets it: installed into a fresh venv by
scripts/test-python.sh, its `predbench` command and its module side by side.
The command's files are the reference the module is checked against."""

import json
import os
import shutil
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import predbench

ROWS = 20_000


def cli(*args):
    """Runs the wheel's `predbench` command, failing the test with its stderr."""
    command = shutil.which("predbench")
    assert command, "the wheel installs no predbench command on PATH"
    done = subprocess.run([command, *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def read_dataset(directory):
    """Every part file of a dataset directory, in name order, as one table."""
    parts = sorted(p for p in os.listdir(directory) if p.endswith(".parquet"))
    return pa.concat_tables(pq.read_table(os.path.join(directory, p)) for p in parts)


def assert_same_values(left: pa.Table, right: pa.Table):
    """Same columns, types and values; NaN equals NaN, nulls at the same rows."""
    assert left.schema.names == right.schema.names
    assert left.num_rows == right.num_rows
    for name in left.schema.names:
        a, b = left.column(name).combine_chunks(), right.column(name).combine_chunks()
        assert a.type == b.type, name
        assert a.is_null().equals(b.is_null()), name
        np.testing.assert_array_equal(
            a.to_numpy(zero_copy_only=False), b.to_numpy(zero_copy_only=False), err_msg=name
        )


def test_the_command_comes_with_the_wheel():
    done = cli("--version")
    assert done.stdout.startswith("predbench"), done.stdout
    assert predbench.__version__ in done.stdout


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"seed": 7, "classes": 5, "distribution": "dirichlet", "alpha": 0.3},
        {"null_rate": 0.1, "nan_rate": 0.05, "class_type": "float32"},
    ],
)
def test_generate_gives_the_commands_values(tmp_path, arguments):
    flags = []
    for name, value in arguments.items():
        flags += ["--" + name.replace("_", "-"), value]
    cli("generate", "--rows", ROWS, "--out", tmp_path / "cli", "--quiet", *flags)
    table = predbench.generate(ROWS, **arguments)
    assert isinstance(table, pa.Table)
    assert_same_values(table, read_dataset(tmp_path / "cli"))


def test_batches_stream_the_same_table():
    reader = predbench.batches(ROWS, batch_rows=3_000, seed=3)
    assert isinstance(reader, pa.RecordBatchReader)
    sizes = [batch.num_rows for batch in reader]
    assert sizes == [3_000] * 6 + [2_000]
    streamed = pa.Table.from_batches(predbench.batches(ROWS, batch_rows=3_000, seed=3))
    assert_same_values(streamed, predbench.generate(ROWS, seed=3))


def test_the_table_reads_into_pandas_and_polars():
    table = predbench.generate(10_000)
    frame = table.to_pandas()
    assert frame.shape == (10_000, 31)
    assert frame["id_client"].str.len().eq(36).all()
    assert frame["class_0"].between(0, 1).all()
    polars_frame = pl.from_arrow(table)
    assert polars_frame.shape == (10_000, 31)
    assert polars_frame["id_client"].n_unique() == 10_000
    pd.testing.assert_frame_equal(polars_frame.to_pandas(), frame)


def test_generate_to_writes_what_the_command_writes(tmp_path):
    summary = predbench.generate_to(tmp_path / "py", ROWS, seed=11, file_rows=8_000)
    assert summary["rows"] == ROWS and summary["files"] == 3
    assert os.path.exists(tmp_path / "py" / "_manifest.json")
    cli("generate", "--rows", ROWS, "--seed", 11, "--file-rows", 8_000, "--out", tmp_path / "cli", "--quiet")
    assert_same_values(read_dataset(tmp_path / "py"), read_dataset(tmp_path / "cli"))


def test_export_and_verify_from_python(tmp_path):
    data = tmp_path / "data"
    predbench.generate_to(data, ROWS)
    messages = tmp_path / "messages.ndjson"
    exported = predbench.export(data, f"ndjson:{messages}", group_size=10)
    assert exported["rows"] == ROWS and exported["predictions"] == ROWS
    assert exported["messages"] == ROWS // 10 + 1
    verdict = predbench.verify(data, messages)
    assert verdict["ok"], verdict["first_problems"]
    assert verdict["predictions"] == ROWS
    # The command writes the same bytes.
    cli("export", "--input", data, "--sink", f"ndjson:{tmp_path / 'cli.ndjson'}", "--quiet")
    assert messages.read_bytes() == (tmp_path / "cli.ndjson").read_bytes()
    # A changed value is found.
    lines = messages.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace('"class_3":0.', '"class_3":1.', 1)
    messages.write_text("".join(lines))
    verdict = predbench.verify(data, messages)
    assert not verdict["ok"] and verdict["problems"] >= 1, verdict


def test_verify_any_message_order_takes_the_groups_in_any_order(tmp_path):
    data = tmp_path / "data"
    predbench.generate_to(data, ROWS)
    messages = tmp_path / "messages.ndjson"
    predbench.export(data, f"ndjson:{messages}")
    lines = messages.read_text().splitlines(keepends=True)
    shuffled = tmp_path / "shuffled.ndjson"
    shuffled.write_text("".join(reversed(lines)))
    assert not predbench.verify(data, shuffled)["ok"]
    assert predbench.verify(data, shuffled, any_message_order=True)["ok"]
    # A message whose members come from two groups is still found.
    first, second = json.loads(lines[0]), json.loads(lines[1])
    first[0], second[0] = second[0], first[0]
    mixed = tmp_path / "mixed.ndjson"
    rest = [json.loads(line) for line in lines[2:]]
    mixed.write_text("".join(json.dumps(m, separators=(",", ":")) + "\n" for m in [first, second, *rest]))
    assert not predbench.verify(data, mixed, any_message_order=True)["ok"]


def test_export_packed_to_parquet_verifies(tmp_path):
    data = tmp_path / "data"
    predbench.generate_to(data, ROWS)
    messages = tmp_path / "messages.parquet"
    exported = predbench.export(
        data, f"parquet:{messages}", grouping="packed", max_message_bytes=64 * 1024
    )
    assert exported["predictions"] == ROWS
    verdict = predbench.verify(data, messages, grouping="packed", max_message_bytes=64 * 1024)
    assert verdict["ok"], verdict["first_problems"]


def test_export_to_a_kafka_topic_drains_and_verifies(tmp_path):
    """The module's sink= takes a Kafka topic (the broker scripts/kafka.sh
    starts, or PREDBENCH_KAFKA_BROKERS); the wheel's command reads it back."""
    brokers = os.environ.get("PREDBENCH_KAFKA_BROKERS", "127.0.0.1:9092")
    topic = f"predbench-python-{time.time_ns()}"
    data = tmp_path / "data"
    predbench.generate_to(data, ROWS)
    exported = predbench.export(data, f"kafka://{brokers}/{topic}?partitions=2", group_size=10)
    assert exported["messages"] == ROWS // 10 + 1 and exported["predictions"] == ROWS
    done = cli("verify", "--input", data, "--messages", f"kafka://{brokers}/{topic}")
    assert f"ok: {ROWS // 10 + 1} messages, {ROWS} predictions" in done.stdout, done.stdout


def test_rust_runs_without_the_gil():
    """Another Python thread keeps running while generate works."""
    ticks = 0
    done = threading.Event()

    def tick():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    started = time.perf_counter()
    predbench.generate(2_000_000, classes=5)
    elapsed = time.perf_counter() - started
    done.set()
    thread.join()
    # With the GIL held for the whole call the thread could not tick at all.
    assert elapsed < 0.05 or ticks >= 5, (elapsed, ticks)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: predbench.generate(0), ValueError, "rows"),
        (lambda: predbench.generate(-5), ValueError, "rows"),
        (lambda: predbench.generate(10, distribution="normal"), ValueError, "distribution"),
        (lambda: predbench.generate(10, null_rate=2.0), ValueError, "null_rate"),
        (lambda: predbench.generate(10, alpha=0.5), ValueError, "alpha"),
        (lambda: predbench.batches(10, batch_rows=0), ValueError, "batch_rows"),
        (lambda: predbench.export(".", "kafka://x"), ValueError, "sink"),
        (lambda: predbench.export(".", "null", grouping="random"), ValueError, "grouping"),
        (lambda: predbench.verify(".", ".", group_size=10, threads=0), ValueError, "threads"),
    ],
)
def test_bad_arguments_are_value_errors_naming_them(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_bad_paths_are_os_errors_naming_the_file(tmp_path):
    data = tmp_path / "data"
    predbench.generate_to(data, 1_000)
    with pytest.raises(FileExistsError, match="data"):
        predbench.generate_to(data, 1_000)
    predbench.generate_to(data, 1_000, seed=5, force=True)
    not_parquet = tmp_path / "notes.parquet"
    not_parquet.write_text("hello")
    with pytest.raises(OSError, match="notes.parquet"):
        predbench.export(not_parquet, "null")
    with pytest.raises(FileNotFoundError, match="missing"):
        predbench.export(tmp_path / "missing", "null")
    with pytest.raises(OSError, match="notes.parquet"):
        predbench.verify(data, not_parquet)
    out = tmp_path / "out.parquet"
    predbench.export(data, f"parquet:{out}")
    with pytest.raises(FileExistsError, match="out.parquet"):
        predbench.export(data, f"parquet:{out}")
