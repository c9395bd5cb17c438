"""The job in ClickHouse, in process (chDB), the way a ClickHouse user would
number rows without a window: the `file()` table function's `_file` and
`_row_number` virtual columns and each file's first row from its footer, so
the sequential id is offset + row in file. Then row s in group s mod G, each
group's members as (sequential id, named tuple) pairs sorted by the id
(`arraySort` over `groupArray`), `toJSONString` of the tuples (named, with
`enable_named_columns_in_function_tuple`), written by ClickHouse's own
Parquet writer. ClickHouse writes null fields explicitly and NaN as `null`.
Settings: max_threads = the cores; `--spill-bytes` (the `chdb-spill`
variant) sets max_bytes_before_external_group_by, so that the aggregation
spills to --local-dir past it instead of holding every group in memory.

    chdb_export.py --input DIR --output FILE [--group-size K] [--threads N] [--spill-bytes 4000000000] [--compression zstd]
"""

import sys
import time
from pathlib import Path

import chdb

from peer_common import (atomic_output, dataset_files, exporter_arguments, group_count, row_counts,
                         write_summary)


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def identifier(name: str) -> str:
    return "`" + name.replace("`", "\\`") + "`"


def source(files: list[str]) -> str:
    """The `file()` call reading every data file (a glob of their names in
    their directory: ClickHouse's globs do not span directories)."""
    directories = {str(Path(path).parent) for path in files}
    if len(files) == 1 or len(directories) > 1:
        return f"file({quote(files[0])}, Parquet)" if len(files) == 1 else (
            "merge(" + ", ".join(f"file({quote(path)}, Parquet)" for path in files) + ")")
    names = ",".join(Path(path).name for path in files)
    return f"file({quote(directories.pop() + '/{' + names + '}')}, Parquet)"


def main() -> None:
    arguments = exporter_arguments(__doc__.split("\n\n")[0], extra=lambda parser: parser.add_argument(
        "--spill-bytes", type=int,
        help="max_bytes_before_external_group_by: spill the aggregation past this many bytes"))
    started = time.monotonic()
    files = dataset_files(arguments.input)
    counts = row_counts(files)
    rows = sum(counts)
    groups = group_count(rows, arguments.group_size)
    offsets, first = [], 0
    for count in counts:
        offsets.append(first)
        first += count
    names = "[" + ", ".join(quote(Path(path).name) for path in files) + "]"
    import pyarrow.parquet as pq
    columns = ", ".join(identifier(field.name) for field in pq.read_schema(files[0]))
    codec = arguments.compression or "zstd"
    settings = {
        "max_threads": arguments.threads,
        "enable_named_columns_in_function_tuple": 1,
        "output_format_parquet_compression_method": codec,
    }
    if arguments.spill_bytes:
        settings["max_bytes_before_external_group_by"] = arguments.spill_bytes
    if arguments.local_dir:
        arguments.local_dir.mkdir(parents=True, exist_ok=True)
    session = chdb.session.Session(str(arguments.local_dir) if arguments.local_dir else None)
    with atomic_output(arguments.output) as temporary:
        session.query(f"""
            INSERT INTO FUNCTION file({quote(str(temporary))}, Parquet, 'predicts String')
            SELECT toJSONString(arrayMap(x -> x.2,
                       arraySort(x -> x.1, groupArray((sequential_id, tuple({columns})))))) AS predicts
            FROM (
                SELECT transform(_file, {names}, {offsets}, toUInt64(0)) + _row_number AS sequential_id,
                       {columns}
                FROM {source(files)}
            )
            GROUP BY sequential_id % {groups}
            SETTINGS {", ".join(f"{name} = {quote(str(value)) if isinstance(value, str) else value}"
                                for name, value in settings.items())}
        """)
    session.close()
    settings["parquet_compression"] = codec
    settings["chdb"] = chdb.__version__
    write_summary(arguments, rows, started, files, settings)


if __name__ == "__main__":
    sys.exit(main())
