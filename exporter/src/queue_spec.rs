//! A queue to read back, as `drain --from` and `verify --messages` spell it:
//! a RabbitMQ queue `amqp://...?queue=NAME` or a Kafka topic
//! `kafka://HOST:PORT/TOPIC`, parsed once here and drained through its
//! broker's room.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::delivery::{DrainOptions, DrainSummary};
use crate::error::{ExportError, Result};
use crate::kafka::KafkaTarget;
use crate::queue::AmqpTarget;

/// A queue or topic predbench delivered to.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueSpec {
    /// A RabbitMQ queue.
    Amqp(AmqpTarget),
    /// A Kafka topic.
    Kafka(KafkaTarget),
}

impl QueueSpec {
    /// Whether `text` names a queue rather than a path.
    pub fn is_queue(text: &str) -> bool {
        text.starts_with("amqp://") || text.starts_with("kafka://")
    }

    /// Parses `amqp://...?queue=NAME` or `kafka://HOST:PORT/TOPIC`.
    pub fn parse(text: &str) -> Result<QueueSpec> {
        if text.starts_with("kafka://") {
            return KafkaTarget::parse(text).map(QueueSpec::Kafka);
        }
        if text.starts_with("amqp://") {
            return AmqpTarget::parse(text).map(QueueSpec::Amqp);
        }
        Err(ExportError::invalid(
            "from",
            format!(
                "'{text}' is not amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME or kafka://HOST:PORT/TOPIC"
            ),
        ))
    }

    /// The queue for people (without a password).
    pub fn describe(&self) -> String {
        match self {
            QueueSpec::Amqp(target) => target.describe(),
            QueueSpec::Kafka(target) => target.describe(),
        }
    }

    /// Drains the queue into the directory `output`; a Kafka topic's
    /// partitions are read side by side, so its drain is always in any order.
    pub fn drain(&self, output: &Path, options: &DrainOptions) -> Result<DrainSummary> {
        match self {
            QueueSpec::Amqp(target) => crate::queue::drain(target, output, options),
            QueueSpec::Kafka(target) => crate::kafka::drain(target, output, options),
        }
    }

    /// Deletes the queue or topic and what it holds (a no-op when there is
    /// none): benchmarks clean up before and after each run with it.
    pub fn delete(&self) -> Result<()> {
        match self {
            QueueSpec::Amqp(target) => crate::queue::delete_queue(target),
            QueueSpec::Kafka(target) => crate::kafka::delete_topic(target),
        }
    }

    /// Waits until the queue holds (a topic: has received) at least
    /// `at_least` messages, looking every `poll`; how many it held then, or
    /// `None` when `stop` was set first and one last look found fewer.
    pub fn wait_for_messages(
        &self,
        at_least: u64,
        stop: &AtomicBool,
        poll: Duration,
    ) -> Result<Option<u64>> {
        match self {
            QueueSpec::Amqp(target) => {
                crate::queue::wait_for_messages(target, at_least, stop, poll)
            }
            QueueSpec::Kafka(target) => {
                crate::kafka::wait_for_records(target, at_least, stop, poll)
            }
        }
    }
}
