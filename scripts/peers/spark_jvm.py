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

from pyspark.sql import functions as F

from peer_common import group_count, run_spark_job


def messages_of(spark, table, group_size: int):
    messages, rows = grouped_messages(spark, table, group_size)
    return messages.select("predicts"), rows


def grouped_messages(spark, table, group_size: int):
    """Every message as (`predict_group`, `predicts`), and the rows read."""
    columns = table.columns
    tagged = (table
              .withColumn("partition", F.spark_partition_id())
              .withColumn("increasing_id", F.monotonically_increasing_id()))
    counts = dict(tagged.groupBy("partition").count().collect())
    offsets, rows = [], 0
    for partition in range(max(counts, default=-1) + 1):
        offsets.append(rows)
        rows += counts.get(partition, 0)
    groups = group_count(rows, group_size)

    offset_of_partition = F.element_at(F.array(*[F.lit(offset) for offset in offsets] or [F.lit(0)]),
                                       F.col("partition") + 1)
    numbered = tagged.withColumn(
        "sequential_id",
        offset_of_partition + F.col("increasing_id") - F.shiftleft(F.col("partition").cast("long"), 33))
    member = F.struct(F.col("sequential_id"), F.struct(*[F.col(name) for name in columns]).alias("predict"))
    messages = (numbered
                .groupBy((F.col("sequential_id") % F.lit(groups)).alias("predict_group"))
                .agg(F.array_sort(F.collect_list(member)).alias("members"))
                .select("predict_group",
                        F.to_json(F.transform("members", lambda m: m["predict"])).alias("predicts")))
    return messages, rows


if __name__ == "__main__":
    run_spark_job(__doc__.split("\n\n")[0], "predbench peer: Spark job in the JVM", messages_of)
