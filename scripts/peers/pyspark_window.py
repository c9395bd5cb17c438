"""The knowledge-base variant: `monotonically_increasing_id()` then
`row_number()` over a window ordered by it with no partitioning. Spark warns
"No Partition Defined for Window operation! Moving all data to a single
partition": every row goes through one task. Then the seed's grouping and
`to_json(collect_list(struct(*)))`.

    pyspark_window.py --input DIR --output DIR [--group-size K] [--threads N] [--driver-memory 12g]
"""

from pyspark.sql import Window
from pyspark.sql import functions as F

from peer_common import group_count, run_spark_job


def messages_of(spark, table, group_size: int):
    rows = table.count()
    groups = group_count(rows, group_size)
    columns = table.columns
    numbered = (table
                .withColumn("increasing_id", F.monotonically_increasing_id())
                .withColumn("sequential_id",
                            F.row_number().over(Window.orderBy("increasing_id")) - 1))
    messages = (numbered
                .withColumn("predict_group", F.col("sequential_id") % F.lit(groups))
                .groupBy("predict_group")
                .agg(F.collect_list(F.struct(*[F.col(name) for name in columns])).alias("predicts"))
                .select(F.to_json("predicts").alias("predicts")))
    return messages, rows


if __name__ == "__main__":
    run_spark_job(__doc__.split("\n\n")[0], "predbench peer: knowledge-base window", messages_of)
