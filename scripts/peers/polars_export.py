"""The job in Polars, lazy and streaming: `scan_parquet` over the files in
name order, `with_row_index` for the sequential id, row s in group s mod G,
each row's struct encoded with `struct.json_encode`, the members of a group
joined in sequential-id order, `sink_parquet`. Polars writes NaN as null and
null fields explicitly.

    polars_export.py --input DIR --output FILE [--group-size K] [--threads N]
"""

import os
import sys
import time

from peer_common import (atomic_output, dataset_files, exporter_arguments, group_count, row_counts,
                         write_summary)


def main() -> None:
    arguments = exporter_arguments(__doc__.split("\n\n")[0])
    # Polars sizes its thread pool when imported.
    os.environ["POLARS_MAX_THREADS"] = str(arguments.threads)
    import polars as pl

    started = time.monotonic()
    files = dataset_files(arguments.input)
    rows = sum(row_counts(files))
    groups = group_count(rows, arguments.group_size)

    table = pl.scan_parquet(files)
    columns = table.collect_schema().names()
    messages = (table
                .with_row_index("sequential_id")
                .select(
                    (pl.col("sequential_id") % groups).alias("predict_group"),
                    pl.col("sequential_id"),
                    pl.struct(columns).struct.json_encode().alias("predict"))
                .group_by("predict_group")
                .agg(pl.col("predict").sort_by("sequential_id").str.join(","))
                .select(pl.concat_str(pl.lit("["), pl.col("predict"), pl.lit("]")).alias("predicts")))
    with atomic_output(arguments.output) as temporary:
        messages.sink_parquet(temporary)
    write_summary(arguments, rows, started, files)


if __name__ == "__main__":
    sys.exit(main())
