//! Everything Kafka (through rdkafka, librdkafka's binding), the only rooms
//! that name rdkafka:
//!
//! * [`target`]: `kafka://HOST:PORT/TOPIC?partitions=N&compression=C`, parsed;
//! * [`admin`]: the topic made or checked, counted, deleted;
//! * [`sink`]: the idempotent producer as a [`crate::sink::MessageSink`],
//!   moving the checkpoint as records are confirmed;
//! * [`drain`]: a consumer that writes a topic back into Parquet parts,
//!   committing offsets only for what is on disk.
//!
//! The checkpoint, its resume and the drain's output are shared with
//! RabbitMQ: [`crate::delivery`].

mod admin;
mod drain;
mod sink;
mod target;

pub use admin::{delete_topic, ensure_topic, topic_records, wait_for_records};
pub use drain::drain;
pub use sink::{KafkaOptions, KafkaSink};
pub use target::KafkaTarget;
