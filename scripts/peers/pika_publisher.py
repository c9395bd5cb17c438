"""The publisher a team writes after the Spark job: read the job's message
file (Parquet, one string column `predicts`: a file, or a directory of part
files) and publish every message with pika to a durable queue, persistent,
each one confirmed by the broker before the next (`confirm_delivery` on a
`BlockingConnection`, as pika's documentation shows it) or, with
--no-confirms, not confirmed at all (what many first versions do).
`message_id` is the message's position in the file, so a consumer sees gaps
and duplicates. A lost connection ends the run with the error, as such a
script does.

    pika_publisher.py --messages PATH --amqp amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME
                      [--no-confirms] [--summary-json PATH]
"""

import argparse
import sys
import time
from pathlib import Path

import pika
import pyarrow.parquet as pq

from peer_common import amqp_connection, message_files, write_publish_summary

BATCH_ROWS = 4096


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", required=True, type=Path,
                        help="the Spark job's output: Parquet with a string column `predicts`")
    parser.add_argument("--amqp", required=True,
                        help="amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME[&queue_type=classic|quorum]")
    parser.add_argument("--no-confirms", action="store_true",
                        help="publish without publisher confirms")
    parser.add_argument("--threads", type=int, default=1, help="ignored: one connection, one thread")
    parser.add_argument("--summary-json", type=Path, help="also write the run's counts here")
    arguments = parser.parse_args()
    files = message_files(arguments.messages)
    started = time.monotonic()
    connection, channel, queue = amqp_connection(arguments.amqp)
    if not arguments.no_confirms:
        channel.confirm_delivery()
    published = message_bytes = 0
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=["predicts"]):
            for body in batch.column(0).to_pylist():
                data = body.encode()
                channel.basic_publish(
                    exchange="", routing_key=queue, body=data,
                    properties=pika.BasicProperties(delivery_mode=2, message_id=str(published),
                                                    content_type="application/json"))
                published += 1
                message_bytes += len(data)
    connection.close()
    write_publish_summary(arguments.summary_json, started, published, message_bytes,
                          {"confirms": not arguments.no_confirms, "client": f"pika {pika.__version__}"})
    print(f"published {published} messages from {arguments.messages} in {time.monotonic() - started:.2f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
