"""The knowledge-base variant: `monotonically_increasing_id()` then
`row_number()` over a window ordered by it with no partitioning. Spark warns
"No Partition Defined for Window operation! Moving all data to a single
partition": every row goes through one task. Then the seed's grouping and
`to_json(collect_list(struct(*)))`.

    pyspark_window.py --input DIR --output DIR [--group-size K] [--threads N] [--driver-memory 12g]
"""

import time

from pyspark.sql import Window
from pyspark.sql import functions as F

from peer_common import (atomic_output, dataset_files, exporter_arguments, group_count,
                         spark_session, stop_spark, write_summary)


def main() -> None:
    arguments = exporter_arguments(__doc__.split("\n\n")[0], spark=True)
    started = time.monotonic()
    files = dataset_files(arguments.input)
    spark = spark_session("predbench peer: knowledge-base window", arguments)
    table = spark.read.parquet(*files)
    rows = table.count()
    groups = group_count(rows, arguments.group_size)
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
    with atomic_output(arguments.output) as temporary:
        messages.write.parquet(str(temporary))
    stop_spark(spark)
    write_summary(arguments, rows, started, files)


if __name__ == "__main__":
    main()
