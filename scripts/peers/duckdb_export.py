"""The job in DuckDB SQL, the way a DuckDB user would number rows without a
global window: `read_parquet(..., filename, file_row_number)` and each file's
first row from its footer, so the sequential id is offset + row in file. Then
row s in group s mod G, `to_json(list(struct ORDER BY sequential id))` per
group, `COPY ... (FORMAT parquet)`, with `preserve_insertion_order = false`
(DuckDB's advice after the defaults ran out of memory at 60M rows). DuckDB
writes NaN as a bare `NaN` (not JSON) and null fields explicitly. Settings as
DuckDB's performance guide has them: threads = the cores, the default memory
limit (80% of RAM), a spill directory beside the output; `--memory-limit`
(the `duckdb-spill` variant) lowers the limit so that the aggregation spills
to disk sooner instead of running out of memory.

    duckdb_export.py --input DIR --output FILE [--group-size K] [--threads N] [--memory-limit 8GB] [--compression zstd]
"""


import os
import time

import duckdb

from peer_common import (atomic_output, dataset_files, exporter_arguments, group_count, row_counts,
                         write_summary)


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def main() -> None:
    arguments = exporter_arguments(__doc__.split("\n\n")[0], extra=lambda parser: parser.add_argument(
        "--memory-limit", help="DuckDB's memory_limit [default: 80% of RAM]"))
    started = time.monotonic()
    files = dataset_files(arguments.input)
    counts = row_counts(files)
    rows = sum(counts)
    groups = group_count(rows, arguments.group_size)
    offsets, first = [], 0
    for path, count in zip(files, counts):
        offsets.append(f"({quote(path)}, {first})")
        first += count

    connection = duckdb.connect()
    connection.execute(f"SET threads = {arguments.threads}")
    # DuckDB's own advice when this job ran out of memory at 60M rows with the
    # defaults (18.7 of 18.8 GiB used): the output's order is not needed, the
    # sequential id is computed from file offsets.
    connection.execute("SET preserve_insertion_order = false")
    if arguments.memory_limit:
        connection.execute(f"SET memory_limit = {quote(arguments.memory_limit)}")
    spill = arguments.local_dir or arguments.output.parent / ".duckdb-spill"
    connection.execute(f"SET temp_directory = {quote(str(spill))}")
    columns = [row[0] for row in connection.execute(
        f"DESCRIBE SELECT * FROM read_parquet({quote(files[0])})").fetchall()]
    members = ", ".join(f'"{name}" := "{name}"' for name in columns)
    file_list = "[" + ", ".join(quote(path) for path in files) + "]"
    codec = {"lz4": "lz4_raw", "none": "uncompressed"}.get(arguments.compression,
                                                           arguments.compression)
    compression = f", COMPRESSION {codec}" if codec else ""
    with atomic_output(arguments.output) as temporary:
        connection.execute(f"""
            COPY (
                WITH offsets(filename, first_row) AS (VALUES {", ".join(offsets)}),
                numbered AS (
                    SELECT offsets.first_row + data.file_row_number AS sequential_id, data.*
                    FROM read_parquet({file_list}, filename = true, file_row_number = true) AS data
                    JOIN offsets USING (filename)
                )
                SELECT to_json(list(struct_pack({members}) ORDER BY sequential_id))::VARCHAR AS predicts
                FROM numbered
                GROUP BY sequential_id % {groups}
            ) TO {quote(str(temporary))} (FORMAT parquet{compression})
        """)
    settings = {
        name: connection.execute(f"SELECT current_setting('{name}')").fetchone()[0]
        for name in ("threads", "memory_limit", "preserve_insertion_order")
    }
    settings["parquet_compression"] = arguments.compression or "snappy"
    connection.close()
    write_summary(arguments, rows, started, files, settings)


if __name__ == "__main__":
    main()
