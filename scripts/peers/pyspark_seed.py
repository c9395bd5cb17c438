"""The seed's PySpark job, rewritten to its description (MISSION.md): number
the rows with `RDD.zipWithIndex` (rows travel through Python as `Row`
objects), put row s in group s mod G with G = N / K + 1, `struct(*)`,
`groupBy(group)`, `collect_list`, `to_json`, write Parquet. Spark's defaults
otherwise, as the seed ran it (Kryo, local[cores], 12G driver memory).

    pyspark_seed.py --input DIR --output DIR [--group-size K] [--threads N] [--driver-memory 12g]
"""

from pyspark.sql import Row
from pyspark.sql import functions as F

from peer_common import group_count, run_spark_job


def messages_of(spark, table, group_size: int):
    rows = table.count()
    groups = group_count(rows, group_size)
    columns = table.columns
    numbered = (table.rdd
                .zipWithIndex()
                .map(lambda pair: Row(**(pair[0].asDict() | {"sequential_id": pair[1]})))
                .toDF())
    messages = (numbered
                .withColumn("predict", F.struct(*[F.col(name) for name in columns]))
                .withColumn("predict_group", F.col("sequential_id") % F.lit(groups))
                .groupBy("predict_group")
                .agg(F.collect_list("predict").alias("predicts"))
                .select(F.to_json("predicts").alias("predicts")))
    return messages, rows


if __name__ == "__main__":
    run_spark_job(__doc__.split("\n\n")[0], "predbench peer: the seed's PySpark job", messages_of)
