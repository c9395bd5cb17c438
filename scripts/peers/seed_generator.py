"""The seed's generator, rewritten to its description (MISSION.md): pandas +
numpy + a process pool, uniform values, one extension-less Parquet file (named
by a UUID) per batch of 2,000,000 rows, written with pandas/pyarrow defaults.

Its quiet bug is kept on purpose: the pool's forked workers inherit numpy's
global random state unseeded, so the k-th batch of every worker draws the same
numbers; files repeat each other's class columns (only the UUIDs differ). The
seed dropped the remainder of rows / batch; here the last batch is smaller so
any row count works.

    seed_generator.py --output DIR --rows N [--batch-rows 2000000] [--workers CORES]
"""

import argparse
import json
import os
import sys
import time
import uuid
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from peer_common import atomic_output, tree_bytes


class RandomData:
    def __init__(self, classes: int, directory: Path) -> None:
        self.classes = classes
        self.directory = directory

    def generate_file(self, task: tuple[str, int]) -> None:
        name, rows = task
        frame = pd.DataFrame({
            "id_client": [str(uuid.uuid4()) for _ in range(rows)],
            **{f"class_{c}": np.random.uniform(size=rows) for c in range(self.classes)},
        })
        frame.to_parquet(self.directory / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--rows", required=True, type=int)
    parser.add_argument("--batch-rows", type=int, default=2_000_000)
    parser.add_argument("--classes", type=int, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--summary-json", type=Path)
    arguments = parser.parse_args()
    if arguments.rows < 1 or arguments.batch_rows < 1 or arguments.workers < 1:
        parser.error("--rows, --batch-rows and --workers must be positive")
    if arguments.output.exists():
        parser.error(f"{arguments.output} exists; remove it first")

    started = time.monotonic()
    batches = [arguments.batch_rows] * (arguments.rows // arguments.batch_rows)
    if arguments.rows % arguments.batch_rows:
        batches.append(arguments.rows % arguments.batch_rows)
    with atomic_output(arguments.output) as directory:
        directory.mkdir()
        generator = RandomData(arguments.classes, directory)
        # fork, as on the seed's Linux machine: workers inherit numpy's global state.
        with get_context("fork").Pool(arguments.workers) as pool:
            pool.map(generator.generate_file, [(str(uuid.uuid4()), rows) for rows in batches])
        (directory / "_seed_generator.json").write_text(json.dumps({
            "rows": arguments.rows,
            "batch_rows": arguments.batch_rows,
            "classes": arguments.classes,
            "workers": arguments.workers,
        }))
    elapsed = time.monotonic() - started
    written = tree_bytes(arguments.output)
    print(f"wrote {arguments.rows} rows in {len(batches)} files ({written} bytes) to {arguments.output} "
          f"in {elapsed:.2f} s", file=sys.stderr)
    if arguments.summary_json:
        arguments.summary_json.write_text(json.dumps({
            "rows": arguments.rows, "input_bytes": 0, "output_bytes": written,
            "message_bytes": None, "messages": None, "spilled_bytes": None,
            "elapsed_seconds": elapsed, "peak_rss_bytes": None,
        }, indent=2))


if __name__ == "__main__":
    main()
