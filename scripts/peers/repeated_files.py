"""Finds the files of a dataset whose class columns repeat another file's (the
seed generator's unseeded-workers bug): prints JSON {"files": F, "repeating":
R, "groups": [[name, ...], ...]} where R files repeat an earlier one.

    repeated_files.py --input DIR
"""

import argparse
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

from peer_common import dataset_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, type=Path)
    arguments = parser.parse_args()
    by_digest: dict[str, list[str]] = {}
    files = dataset_files(arguments.input)
    for path in files:
        table = pq.read_table(path)
        digest = hashlib.blake2b(digest_size=16)
        for name in table.column_names:
            if name.startswith("class_"):
                for chunk in table.column(name).chunks:
                    digest.update(chunk.to_numpy(zero_copy_only=False).tobytes())
        by_digest.setdefault(digest.hexdigest(), []).append(Path(path).name)
    groups = [names for names in by_digest.values() if len(names) > 1]
    print(json.dumps({
        "files": len(files),
        "repeating": sum(len(names) - 1 for names in groups),
        "groups": groups,
    }))


if __name__ == "__main__":
    main()
