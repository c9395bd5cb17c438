//! Everything RabbitMQ (AMQP 0-9-1, through lapin), the only rooms that name
//! lapin or tokio; the rest of the exporter is sync:
//!
//! * [`target`]: `amqp://...?queue=NAME`, parsed, the password never printed;
//! * [`client`]: the client's runtime, bounded broker operations, errors;
//! * [`admin`]: what benchmarks and tests ask of a broker (delete, count,
//!   declare, publish raw, wait for a depth, the broker's version);
//! * [`publisher`]: persistent messages with publisher confirms in a window
//!   (counted and in bytes), republishing after a nack or a lost connection;
//! * [`sink`]: the queue as a sync [`crate::sink::MessageSink`];
//! * [`drain`] and [`consumer`]: a consumer that writes a queue back in
//!   `message_id` order, acknowledging only what is on disk.
//!
//! The checkpoint and the drain's output are shared with Kafka: [`crate::delivery`].

mod admin;
mod client;
mod consumer;
mod drain;
mod publisher;
mod sink;
mod target;

pub use admin::{
    broker_version, declare_queue, delete_queue, publish_raw, queue_depth, wait_for_messages,
};
pub use drain::drain;
pub use publisher::AmqpOptions;
pub use sink::AmqpSink;
pub use target::{AmqpTarget, QueueType};
