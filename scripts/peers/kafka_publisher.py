"""The producer a team writes after the Spark job when its queue is Kafka: read
the job's message file (Parquet, one string column `predicts`: a file, or a
directory of part files) and produce every message with confluent-kafka
(librdkafka) to the topic, keyed by its position in the file. Two versions,
as teams write them:

- the first (--first-version): `acks=1`, no idempotence, no delivery report
  looked at: `flush()` at the end and done, so a record the broker refused is
  lost without a word;
- the second (default): `acks=all`, `enable.idempotence=true`, every delivery
  report checked, the run failing with the first error after `flush()`.

The topic is made first with the partitions the URL asks for (the team's
platform would have made it), as `predbench export` makes its own.

    kafka_publisher.py --messages PATH --kafka kafka://HOST:PORT/TOPIC[?partitions=N&compression=C]
                       [--first-version] [--summary-json PATH]
"""

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import confluent_kafka
import pyarrow.parquet as pq
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from peer_common import message_files, write_publish_summary

BATCH_ROWS = 4096


def parse_kafka_url(url: str) -> tuple[str, str, int, str]:
    """(bootstrap servers, topic, partitions, compression) of a predbench
    kafka:// URL."""
    parts = urlsplit(url)
    topic = parts.path.strip("/")
    if parts.scheme != "kafka" or not parts.netloc or not topic:
        raise ValueError(f"{url} is not kafka://HOST:PORT/TOPIC")
    query = dict(parse_qsl(parts.query))
    return parts.netloc, topic, int(query.get("partitions", "1")), query.get("compression", "none")


def make_topic(servers: str, topic: str, partitions: int) -> None:
    """Creates the topic with `partitions`, or leaves the one there."""
    admin = AdminClient({"bootstrap.servers": servers})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                                  operation_timeout=15, request_timeout=15)
    try:
        futures[topic].result(timeout=30)
    except KafkaException as error:
        if error.args[0].code() != confluent_kafka.KafkaError.TOPIC_ALREADY_EXISTS:
            raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", required=True, type=Path,
                        help="the Spark job's output: Parquet with a string column `predicts`")
    parser.add_argument("--kafka", required=True,
                        help="kafka://HOST:PORT/TOPIC[?partitions=N&compression=C]")
    parser.add_argument("--first-version", action="store_true",
                        help="acks=1, no idempotence, delivery reports not looked at")
    parser.add_argument("--threads", type=int, default=1, help="ignored: one producer, one thread")
    parser.add_argument("--summary-json", type=Path, help="also write the run's counts here")
    arguments = parser.parse_args()
    servers, topic, partitions, compression = parse_kafka_url(arguments.kafka)
    files = message_files(arguments.messages)
    started = time.monotonic()
    make_topic(servers, topic, partitions)
    settings = {"bootstrap.servers": servers, "compression.type": compression}
    if arguments.first_version:
        settings.update({"acks": "1", "enable.idempotence": False})
    else:
        settings.update({"acks": "all", "enable.idempotence": True})
    producer = Producer(settings)
    errors = []

    def on_delivery(error, _message):
        if error is not None and not errors:
            errors.append(error)

    callback = None if arguments.first_version else on_delivery
    published = message_bytes = 0
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=["predicts"]):
            for body in batch.column(0).to_pylist():
                data = body.encode()
                while True:
                    try:
                        producer.produce(topic, value=data, key=str(published), on_delivery=callback)
                        break
                    except BufferError:
                        producer.poll(0.1)  # the local queue is full: let deliveries drain it
                producer.poll(0)
                published += 1
                message_bytes += len(data)
            if errors:
                raise KafkaException(errors[0])
    unsent = producer.flush(300)
    if errors:
        raise KafkaException(errors[0])
    if unsent and not arguments.first_version:
        raise RuntimeError(f"{unsent} messages still unsent after flush(300)")
    write_publish_summary(arguments.summary_json, started, published, message_bytes,
                          {"acks": settings["acks"], "idempotence": settings["enable.idempotence"],
                           "compression": compression, "partitions": partitions,
                           "client": f"confluent-kafka {confluent_kafka.version()[0]}, "
                                     f"librdkafka {confluent_kafka.libversion()[0]}"})
    print(f"produced {published} messages from {arguments.messages} in {time.monotonic() - started:.2f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
