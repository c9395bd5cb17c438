//! "Delivery to a queue": exports into RabbitMQ beside `predbench publish` of
//! the same messages already serialized with the same client and settings
//! (the broker's ceiling on this machine), one session per table ([`table`]);
//! the publishers a team would write ([`publishers`]); the broker restarted
//! half way ([`faults`]); the verdict's lines ([`verdict`]). This file finds
//! what the parts share: the sessions, a run's drain and baseline.

mod faults;
mod publishers;
mod table;
mod verdict;

use predbench_exporter::Grouping;

use super::markdown::{bytes, size_title};
use super::model::{Model, SessionModel, Stats};
use crate::peers::peer_named;
use crate::record::{Configuration, DATASET_EDGE_CASES, RunKind, SinkKind};
pub use verdict::verdict;

/// What the section says before its tables.
const INTRODUCTION: &str = "## Delivery to a queue\n\nExports into a RabbitMQ queue on this machine \
    (durable queue, persistent messages, publisher confirms, `message_id` = the group) beside \
    `predbench publish`, which sends the same messages already serialized with the same client \
    and settings: its rate is the broker's ceiling here, and \"× baseline\" is what predbench's \
    own work adds. In sessions with a \"drain s\" column every export was read back by \
    `predbench drain` (a consumer with a prefetch window, acknowledging what it has committed to \
    disk, measured after the export; its parts are LZ4-compressed up to session \
    2026-12-02T05:55:30Z and uncompressed after it, `drain --compression`'s default since); \
    \"verified\" is `predbench verify`'s check of what came back.\n\n";

/// What the section says before the Kafka sessions.
const KAFKA_INTRODUCTION: &str = "### Into Kafka\n\nThe same, into a Kafka topic: predbench's \
    producer (librdkafka through rdkafka) with `acks=all` and idempotence, the message key the \
    group (`message_id`, so a group and its retries land on one partition), at most \"confirm \
    window\" records unconfirmed; `predbench publish` sends the same messages pre-serialized \
    with the same producer. \"K = 1\" is one prediction a record, the producer batching and \
    compressing the records itself, against K predictions a message. The drain reads every \
    partition side by side, puts the groups back in `message_id` order and commits offsets only \
    for what is on disk. The broker is the one the tests use, tansu (an Apache Kafka compatible \
    broker written in Rust, storing in SQLite, one node, no transactions), on this machine: its \
    rates say what predbench does against a Kafka-API broker here, not what an Apache Kafka \
    cluster would take.\n\n";

/// The section, for the appendix: RabbitMQ's sessions, then Kafka's.
pub fn render(model: &Model, used: &mut super::Used) -> String {
    let mut out = String::new();
    for sink in [SinkKind::Amqp, SinkKind::Kafka] {
        let sessions = queue_sessions(model, sink);
        if sessions.is_empty() {
            continue;
        }
        if out.is_empty() {
            out.push_str(INTRODUCTION);
        }
        if sink == SinkKind::Kafka {
            out.push_str(KAFKA_INTRODUCTION);
        }
        for (dataset, rows, session) in sessions {
            used.note(session.id(), "delivery to a queue");
            out.push_str(&session_heading(session, &dataset, rows, sink));
            out.push_str(&table::render(session, &dataset, rows, sink));
            out.push_str(&table::baseline_note(session, &dataset, rows, sink));
            out.push_str(&publishers::render(session, &dataset, rows, sink));
            out.push_str(&faults::render(session, &dataset, rows, sink));
        }
    }
    out
}

/// A size's heading, its session and its broker.
fn session_heading(session: &SessionModel, dataset: &str, rows: u64, sink: SinkKind) -> String {
    let software = &session.info.software;
    let (title, broker) = match sink {
        SinkKind::Kafka => {
            let topic = session
                .at(dataset, rows)
                .map(|stats| &stats.configuration)
                .find(|configuration| configuration.sink == Some(sink))
                .map_or_else(String::new, |configuration| {
                    let codec = match configuration.record_compression.as_deref() {
                        None | Some("none") => "records not compressed".to_string(),
                        Some(codec) => format!("records compressed with {codec}"),
                    };
                    format!(
                        ", topics of {} partitions, {codec}",
                        configuration.partitions.unwrap_or(1)
                    )
                });
            (
                format!("{}, into Kafka", size_title(dataset, rows)),
                format!(
                    "{}{topic}",
                    software
                        .get("kafka-broker")
                        .map_or("version not recorded", String::as_str)
                ),
            )
        }
        _ => (
            size_title(dataset, rows),
            software
                .get("rabbitmq")
                .map_or("version not recorded".to_string(), |version| {
                    format!("RabbitMQ {version}")
                }),
        ),
    };
    format!(
        "### {title}\n\nSession {} (commit {}; broker {broker}).\n\n",
        session.id(),
        super::markdown::commit_text(&session.info),
    )
}

/// Sizes with queue runs, each with its sessions, newest first: a session
/// is left out only when a newer one at the same size measured every queue
/// configuration it did (a session of the Spark publisher alone does not
/// hide the one that also ran the pika publishers).
fn queue_sessions(model: &Model, sink: SinkKind) -> Vec<(String, u64, &SessionModel)> {
    let mut found: Vec<(String, u64, &SessionModel)> = Vec::new();
    for session in model.newest_first() {
        for (dataset, rows) in session.sizes() {
            if dataset == DATASET_EDGE_CASES {
                continue;
            }
            let measured = queue_configurations(session, &dataset, rows, sink);
            let covered = found
                .iter()
                .filter(|(known, size, _)| *known == dataset && *size == rows)
                .any(|(_, _, newer)| {
                    let newer = queue_configurations(newer, &dataset, rows, sink);
                    measured.iter().all(|name| newer.contains(name))
                });
            if !measured.is_empty() && !covered {
                found.push((dataset, rows, session));
            }
        }
    }
    // Stable: newest first within a size.
    found.sort_by_key(|(dataset, rows, _)| (dataset.clone(), *rows));
    found
}

/// The names of the configurations a session measured on the broker of
/// `sink` at a size.
fn queue_configurations<'a>(
    session: &'a SessionModel,
    dataset: &'a str,
    rows: u64,
    sink: SinkKind,
) -> Vec<&'a str> {
    session
        .at(dataset, rows)
        .filter(|stats| stats.configuration.sink == Some(sink))
        .map(|stats| stats.configuration.name.as_str())
        .collect()
}

/// The drain that read back the queue `export` (predbench's, a peer's or a
/// baseline's, which is drained beside it with `--drain-beside`) filled.
fn drain_of<'a>(session: &'a SessionModel, export: &Stats) -> Option<&'a Stats> {
    let configuration = &export.configuration;
    let baseline = configuration.is_queue_baseline();
    session
        .find(&configuration.dataset, configuration.rows, |other| {
            other.kind == RunKind::Drain
                && other.sink == configuration.sink
                && other.group_size == configuration.group_size
                && other.drains_baseline == baseline
                && other.grouping == configuration.grouping
                && other.confirm_window == configuration.confirm_window
                && other.peer == configuration.peer
                && other.queue_type == configuration.queue_type
                && other.broker_restart_at == configuration.broker_restart_at
        })
        .filter(|drain| drain_could_read(drain, configuration))
}

/// Whether a drain's counts mean anything: a queue published out of
/// `message_id` order (Spark's tasks) read in order stalls, and before the
/// drain said so (sessions up to 2026-12-02T09:23:49Z) it counted the rest
/// as missing; only `--any-order` reads such a queue.
fn drain_could_read(drain: &Stats, publisher: &Configuration) -> bool {
    let in_order = publisher
        .peer
        .as_deref()
        .and_then(peer_named)
        .is_none_or(|peer| peer.publishes_in_order);
    in_order || drain.configuration.any_order
}

/// What the report says instead of a check for a queue no drain read back
/// (Spark's, published out of `message_id` order, before `drain --any-order`).
const NOT_READ: &str = "not read back: published out of `message_id` order, and drained in order (before `drain --any-order`)";

/// The baseline publishing the same messages (grouping) with the same window.
fn baseline_of<'a>(session: &'a SessionModel, export: &Stats) -> Option<&'a Stats> {
    let configuration = &export.configuration;
    session.find(&configuration.dataset, configuration.rows, |other| {
        other.kind == RunKind::Publish
            && other.peer.is_none()
            && other.sink == configuration.sink
            && other.group_size == configuration.group_size
            && other.grouping == configuration.grouping
            && other.confirm_window == configuration.confirm_window
            && other.queue_type == configuration.queue_type
            && other.broker_restart_at.is_none()
    })
}

/// predbench's exports to the broker of `sink` at this size, in table order.
fn queue_exports<'a>(
    session: &'a SessionModel,
    dataset: &'a str,
    rows: u64,
    sink: SinkKind,
) -> Vec<&'a Stats> {
    let mut exports = predbench_queue_exports(session, dataset, rows, sink, false);
    exports.sort_by_key(|stats| stats.display_order());
    exports
}

/// predbench's own exports to the broker of `sink` at this size: its fault
/// runs (the broker restarted half way), or the others.
fn predbench_queue_exports<'a>(
    session: &'a SessionModel,
    dataset: &'a str,
    rows: u64,
    sink: SinkKind,
    faulted: bool,
) -> Vec<&'a Stats> {
    session
        .at(dataset, rows)
        .filter(|stats| {
            let configuration = &stats.configuration;
            configuration.sink == Some(sink)
                && configuration.kind == RunKind::Export
                && configuration.peer.is_none()
                && configuration.broker_restart_at.is_some() == faulted
        })
        .collect()
}

/// Messages a fault run's publisher delivered in its normal runs and its
/// drain did not find; `None` when its drain failed.
fn lost_in_fault(session: &SessionModel, fault: &Stats) -> Option<u64> {
    let expected = expected_messages(session, fault)?;
    let drain = drain_of(session, fault).filter(|drain| !drain.failed())?;
    Some(expected.saturating_sub(drain.messages))
}

/// What a fault run should have delivered: the messages of the same
/// publisher's runs without the restart.
fn expected_messages(session: &SessionModel, fault: &Stats) -> Option<u64> {
    let configuration = &fault.configuration;
    let normal = configuration.unfaulted_identity();
    session
        .find(&configuration.dataset, configuration.rows, |other| {
            other.identity() == normal
        })
        .map(|normal| normal.messages)
}

/// `K = 10 (modulo)` or `packed to 256.0 KiB`.
fn grouping_text(stats: &Stats) -> String {
    let configuration = &stats.configuration;
    let text = match (configuration.grouping, configuration.max_message_bytes) {
        (Some(Grouping::Packed), Some(budget)) => format!("packed to {}", bytes(budget)),
        (Some(grouping), _) => format!(
            "K = {} ({})",
            configuration.group_size.unwrap_or(10),
            grouping.name()
        ),
        (None, _) => String::new(),
    };
    match configuration.queue_type {
        Some(queue_type) => format!("{text}, {} queue", queue_type.name()),
        None => text,
    }
}

/// "16.7 / 14.1": a configuration's median user and system CPU seconds.
fn cpu_cell(stats: &Stats) -> String {
    format!("{:.1} / {:.1}", stats.user, stats.system)
}
