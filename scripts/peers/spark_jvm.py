"""The seed's job done right, all in the JVM: no Python rows and no global
window. Rows are numbered the way zipWithIndex does it, with DataFrame
expressions: one cheap job counts the rows of every input partition
(`spark_partition_id`), the driver turns the counts into prefix offsets, and
each row's sequential id is its partition's offset plus its position inside the
partition (`monotonically_increasing_id` minus partition << 33). Then
row s in group s mod G, members sorted by sequential id, `to_json`.
This is the Spark job to run on a real cluster (scripts/peers/README.md).

    spark_jvm.py --input DIR --output DIR [--group-size K] [--threads N] [--driver-memory 12g]
"""

import time

from pyspark.sql import functions as F

from peer_common import (atomic_output, dataset_files, exporter_arguments, group_count,
                         spark_session, stop_spark, write_summary)


def main() -> None:
    arguments = exporter_arguments(__doc__.split("\n\n")[0], spark=True)
    started = time.monotonic()
    files = dataset_files(arguments.input)
    spark = spark_session("predbench peer: Spark job in the JVM", arguments)
    table = spark.read.parquet(*files)
    columns = table.columns

    tagged = (table
              .withColumn("partition", F.spark_partition_id())
              .withColumn("increasing_id", F.monotonically_increasing_id()))
    counts = dict(tagged.groupBy("partition").count().collect())
    offsets, rows = [], 0
    for partition in range(max(counts, default=-1) + 1):
        offsets.append(rows)
        rows += counts.get(partition, 0)
    groups = group_count(rows, arguments.group_size)

    offset_of_partition = F.element_at(F.array(*[F.lit(offset) for offset in offsets] or [F.lit(0)]),
                                       F.col("partition") + 1)
    numbered = tagged.withColumn(
        "sequential_id",
        offset_of_partition + F.col("increasing_id") - F.shiftleft(F.col("partition").cast("long"), 33))
    member = F.struct(F.col("sequential_id"), F.struct(*[F.col(name) for name in columns]).alias("predict"))
    messages = (numbered
                .groupBy((F.col("sequential_id") % F.lit(groups)).alias("predict_group"))
                .agg(F.array_sort(F.collect_list(member)).alias("members"))
                .select(F.to_json(F.transform("members", lambda m: m["predict"])).alias("predicts")))
    with atomic_output(arguments.output) as temporary:
        messages.write.parquet(str(temporary))
    stop_spark(spark)
    write_summary(arguments, rows, started, files)


if __name__ == "__main__":
    main()
