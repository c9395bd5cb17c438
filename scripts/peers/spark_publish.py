"""The Spark job done right, publishing from its executors: `spark_jvm.py`'s
messages (numbered in the JVM, grouped by id mod G, members in order) sent
straight to a durable queue from `foreachPartition`, each task with its own
pika connection, persistent messages, every one confirmed by the broker
before the next; `message_id` is the group. No intermediate file. A lost
connection fails the task, and Spark retries a failed task from the start of
its partition (local mode: not at all), so what a failed task had published
stays in the queue.

    spark_publish.py --input DIR --amqp amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME
                     [--group-size K] [--threads N] [--driver-memory 12g] [--summary-json PATH]
"""

import argparse
import os
import sys
import time
from pathlib import Path

from peer_common import (amqp_connection, dataset_files, location, root_cause, spark_session,
                         spark_settings, stop_spark, write_publish_summary)
from spark_jvm import grouped_messages


def publish_partition(url: str, published, published_bytes):
    """The function every task runs on its partition of messages; it adds
    what it published to the two accumulators."""
    def publish(rows):
        import pika
        connection, channel, queue = amqp_connection(url)
        channel.confirm_delivery()
        for row in rows:
            body = row.predicts.encode()
            channel.basic_publish(
                exchange="", routing_key=queue, body=body,
                properties=pika.BasicProperties(delivery_mode=2, message_id=str(row.predict_group),
                                                content_type="application/json"))
            published.add(1)
            published_bytes.add(len(body))
        connection.close()
    return publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, type=location, help="the prediction table")
    parser.add_argument("--amqp", required=True,
                        help="amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME[&queue_type=classic|quorum]")
    parser.add_argument("--group-size", type=int, default=10, help="predictions per message, K")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="cores to use")
    parser.add_argument("--driver-memory", default="12g", help="spark.driver.memory")
    parser.add_argument("--master", help="Spark master [default: local[THREADS]]")
    parser.add_argument("--local-dir", type=Path, help="Spark's scratch files")
    parser.add_argument("--summary-json", type=Path, help="also write the run's counts here")
    arguments = parser.parse_args()
    started = time.monotonic()
    files = dataset_files(arguments.input)
    # The queue exists before any task publishes to it.
    connection, _, _ = amqp_connection(arguments.amqp)
    connection.close()
    spark = spark_session("predbench peer: Spark publishing from its executors", arguments)
    try:
        # The tasks' Python workers open their connections with peer_common.
        spark.sparkContext.addPyFile(str(Path(__file__).with_name("peer_common.py")))
        table = spark.read.parquet(*files)
        messages, rows = grouped_messages(spark, table, arguments.group_size)
        published = spark.sparkContext.accumulator(0)
        published_bytes = spark.sparkContext.accumulator(0)
        messages.rdd.foreachPartition(publish_partition(arguments.amqp, published, published_bytes))
        count, sizes = published.value, published_bytes.value
        settings = spark_settings(spark) | {"confirms": True}
    except Exception as error:
        print(str(error), file=sys.stderr)
        print(f"spark-publish failed: {root_cause(error)}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        stop_spark(spark)
    write_publish_summary(arguments.summary_json, started, count, sizes, settings)
    print(f"{rows} rows -> {count} messages to the queue in {time.monotonic() - started:.2f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
