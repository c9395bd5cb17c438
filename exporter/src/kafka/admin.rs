//! What the Kafka sink, the drain, benchmarks and tests ask of a cluster:
//! the client's common settings, the topic made (or checked) with its
//! partitions, the records a topic holds, a topic deleted. Every call is
//! bounded in time and names the target when it fails.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication, TopicResult};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;

use super::target::KafkaTarget;
use crate::error::{ExportError, Result};

/// How long a metadata request or an admin call may take.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The error of `target` for `reason`.
pub(super) fn failure(target: &KafkaTarget, reason: impl std::fmt::Display) -> ExportError {
    ExportError::Kafka {
        target: target.describe(),
        reason: reason.to_string(),
    }
}

/// The settings every client of `target` starts from.
pub(super) fn client_config(target: &KafkaTarget) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &target.brokers)
        .set("client.id", "predbench")
        // librdkafka logs what it retries to stderr; the errors that matter
        // come back through the calls.
        .set("log_level", "3");
    config
}

/// The number of partitions `target`'s topic has, `None` when it does not
/// exist; fails when the cluster cannot be reached within the timeout.
fn partitions(target: &KafkaTarget) -> Result<Option<i32>> {
    let consumer: BaseConsumer = client_config(target)
        .create()
        .map_err(|e| failure(target, e))?;
    let metadata = consumer
        .fetch_metadata(Some(&target.topic), REQUEST_TIMEOUT)
        .map_err(|e| failure(target, format!("cannot reach the brokers: {e}")))?;
    let Some(topic) = metadata.topics().first() else {
        return Ok(None);
    };
    match topic.error() {
        None => Ok(Some(topic.partitions().len() as i32)),
        Some(_) if topic.partitions().is_empty() => Ok(None),
        Some(code) => Err(failure(
            target,
            format!("topic {}: {:?}", target.topic, RDKafkaErrorCode::from(code)),
        )),
    }
}

/// Makes `target`'s topic with its partitions (replication 1), or checks
/// that the one there has them.
pub fn ensure_topic(target: &KafkaTarget) -> Result<()> {
    match partitions(target)? {
        Some(found) if found == target.partitions => return Ok(()),
        Some(found) => {
            return Err(failure(
                target,
                format!(
                    "topic {} has {found} partitions, not the {} asked for: give \
                     ?partitions={found} or another topic",
                    target.topic, target.partitions
                ),
            ));
        }
        None => {}
    }
    let admin: AdminClient<DefaultClientContext> = client_config(target)
        .create()
        .map_err(|e| failure(target, e))?;
    let topic = NewTopic::new(&target.topic, target.partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
    let results = futures_lite::future::block_on(admin.create_topics([&topic], &options))
        .map_err(|e| failure(target, format!("cannot create topic {}: {e}", target.topic)))?;
    check_results(
        target,
        "create",
        results,
        RDKafkaErrorCode::TopicAlreadyExists,
    )
}

/// Deletes `target`'s topic if it exists.
pub fn delete_topic(target: &KafkaTarget) -> Result<()> {
    if partitions(target)?.is_none() {
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> = client_config(target)
        .create()
        .map_err(|e| failure(target, e))?;
    let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
    let results =
        futures_lite::future::block_on(admin.delete_topics(&[target.topic.as_str()], &options))
            .map_err(|e| failure(target, format!("cannot delete topic {}: {e}", target.topic)))?;
    check_results(
        target,
        "delete",
        results,
        RDKafkaErrorCode::UnknownTopicOrPartition,
    )
}

/// The first failure among an admin call's per-topic results, where
/// `already` (the topic being there, or gone) counts as done.
fn check_results(
    target: &KafkaTarget,
    verb: &str,
    results: Vec<TopicResult>,
    already: RDKafkaErrorCode,
) -> Result<()> {
    for result in results {
        if let Err((name, code)) = result {
            if code != already {
                return Err(failure(
                    target,
                    format!("cannot {verb} topic {name}: {code}"),
                ));
            }
        }
    }
    Ok(())
}

/// Records the topic holds (the sum over its partitions of high watermark
/// minus low); 0 when there is no topic.
pub fn topic_records(target: &KafkaTarget) -> Result<u64> {
    let Some(count) = partitions(target)? else {
        return Ok(0);
    };
    let consumer: BaseConsumer = client_config(target)
        .create()
        .map_err(|e| failure(target, e))?;
    let mut records = 0;
    for partition in 0..count {
        let (low, high) = consumer
            .fetch_watermarks(&target.topic, partition, REQUEST_TIMEOUT)
            .map_err(|e| failure(target, format!("partition {partition}: {e}")))?;
        records += (high - low).max(0) as u64;
    }
    Ok(records)
}

/// Waits until `target`'s topic holds at least `at_least` records, looking
/// every `poll`, and answers how many it held then; `None` when `stop` was
/// set first (the producer ended) and one last look found fewer. A topic not
/// made yet is waited for too. Benchmarks use it to fault a producer half way.
pub fn wait_for_records(
    target: &KafkaTarget,
    at_least: u64,
    stop: &AtomicBool,
    poll: Duration,
) -> Result<Option<u64>> {
    loop {
        // Read before the topic is looked at: a producer that ended gets one last look.
        let stopped = stop.load(Ordering::Acquire);
        let held = topic_records(target)?;
        if held >= at_least {
            return Ok(Some(held));
        }
        if stopped {
            return Ok(None);
        }
        std::thread::sleep(poll);
    }
}
