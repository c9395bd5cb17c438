"""Spark's own JSON of every row of a Parquet file, in file order:
`to_json(struct(*))` per row, one line each, in every session time zone asked
for (`spark.sql.session.timeZone`, Spark 4 defaults otherwise). The reference
the conformance test compares predbench's messages with.

    spark_rows.py --input FILE --output-prefix PREFIX [--input FILE2 --output-prefix PREFIX2 ...]
                  --time-zone UTC [--time-zone Europe/Paris ...]
writes PREFIX-<zone with / as _>.ndjson for every input and zone, in one Spark
session (starting Spark is most of the time this takes).
"""

import argparse
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", action="append", required=True)
    parser.add_argument("--output-prefix", action="append", required=True)
    parser.add_argument("--time-zone", action="append", required=True)
    arguments = parser.parse_args()
    if len(arguments.input) != len(arguments.output_prefix):
        parser.error("give one --output-prefix for each --input")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[1]")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for source, prefix in zip(arguments.input, arguments.output_prefix):
        write_rows(spark, source, prefix, arguments.time_zone)
    spark.stop()


def write_rows(spark, source, prefix, zones) -> None:
    table = spark.read.parquet(source)
    # One file, one row group: one partition whose rows keep the file's order.
    numbered = table.withColumn("__row", F.monotonically_increasing_id())
    for zone in zones:
        spark.conf.set("spark.sql.session.timeZone", zone)
        rows = (numbered.orderBy("__row")
                .select(F.to_json(F.struct(*[F.col(f"`{name}`") for name in table.columns])).alias("json"))
                .collect())
        path = f"{prefix}-{zone.replace('/', '_')}.ndjson"
        with open(path, "w", encoding="utf-8") as out:
            for row in rows:
                out.write(row.json + "\n")


if __name__ == "__main__":
    main()
