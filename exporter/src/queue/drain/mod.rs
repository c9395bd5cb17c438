//! `drain`: a consumer of a queue predbench filled, writing its messages in
//! `message_id` (group) order into a directory of Parquet parts, dropping
//! duplicates (a republished message carries the same `message_id`) and
//! counting gaps. It runs as production's consumers do, beside the export if
//! need be: `basic.consume` with a prefetch window sized in bytes (from the
//! first message's size), and messages acknowledged only once the part that
//! holds them is durably committed (synced, renamed, recorded in `_drain.json`).
//! A drain killed half way leaves committed parts and its progress; run again,
//! it goes on from there, and the broker redelivers what was not acknowledged.
//! A queue published out of order by more than the window (Spark's tasks,
//! side by side) is read with `any_order`: messages are written as they come
//! and duplicates dropped by a set of the ids seen ([`seen`]).
//!
//! Rooms: [`consumer`] takes the deliveries (order, duplicates, gaps,
//! acknowledgements) and checks and counts every message ([`count`]);
//! [`parts`] is the thread that compresses and commits the parts meanwhile;
//! [`progress`] is `_drain.json` and the output directory; [`seen`] the ids
//! of a drain in any order.

use std::path::Path;
use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use serde::{Deserialize, Serialize};

use super::client::{client_runtime, within};
use super::target::AmqpTarget;
use crate::error::{ExportError, Result};
use consumer::Drainer;
pub use count::count_predictions;
use parts::PartWriter;
pub use progress::PROGRESS_FILE;
use progress::{Progress, prepare_output};
pub use seen::SeenIds;

mod consumer;
mod count;
mod parts;
mod progress;
mod seen;

/// How a drain reads.
#[derive(Debug, Clone)]
pub struct DrainOptions {
    /// `message_id` of the first message expected.
    pub first_id: u64,
    /// The export's last `message_id`, when known: the drain stops once it is written.
    pub last_id: Option<u64>,
    /// Stop once the queue is empty, every message it held written: for a
    /// queue whose publisher is done.
    pub until_empty: bool,
    /// The drain stops after this long without a delivery.
    pub idle: Duration,
    /// Bytes of messages delivered and not yet acknowledged, about at most:
    /// the prefetch window is this over the first message's size.
    pub window_bytes: u64,
    /// Bytes of messages a part holds before it is committed (and its
    /// messages acknowledged).
    pub part_bytes: u64,
    /// Page compression of the parts.
    pub compression: parquet::basic::Compression,
    /// Replace an output directory that is not a drain's.
    pub force: bool,
    /// Write messages as they come instead of in `message_id` order,
    /// dropping duplicates by a set of the ids seen (one bit per group).
    pub any_order: bool,
}

impl Default for DrainOptions {
    fn default() -> Self {
        DrainOptions {
            first_id: 0,
            last_id: None,
            until_empty: false,
            idle: Duration::from_secs(5),
            window_bytes: 128 << 20,
            part_bytes: 64 << 20,
            compression: parquet::basic::Compression::UNCOMPRESSED,
            force: false,
            any_order: false,
        }
    }
}

/// What a drain did (all runs of it, for a resumed one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainSummary {
    /// Messages taken from the queue, duplicates included.
    pub received: u64,
    /// Messages dropped because their `message_id` came before.
    pub duplicates: u64,
    /// Groups missing between the first and the last `message_id` written.
    pub missing: u64,
    /// Messages written.
    pub messages: u64,
    /// Predictions in them.
    pub predictions: u64,
    /// Bytes of JSON in them.
    pub message_bytes: u64,
    /// Bytes of the parts.
    pub output_bytes: u64,
    /// Parts committed.
    pub parts: u64,
    /// The prefetch window this run used, in messages.
    #[serde(skip)]
    pub prefetch: u16,
}

/// Drains the queue of `target` into the directory `output` (made, or gone
/// on from when an unfinished drain of the same queue left it).
pub fn drain(target: &AmqpTarget, output: &Path, options: &DrainOptions) -> Result<DrainSummary> {
    let queue = target
        .queue
        .clone()
        .ok_or_else(|| ExportError::invalid("from", "drain reads a queue: give ?queue=NAME"))?;
    let existed = output.exists();
    let progress = prepare_output(target, output, options)?;
    if progress.complete {
        return Ok(progress.summary);
    }
    let drained = consume(target, &queue, output, options, progress);
    if drained.is_err() && !existed {
        // A drain that could not start leaves no directory behind; one that
        // committed parts keeps them (and its progress) for the next run.
        let _ = std::fs::remove_dir(output);
    }
    drained
}

/// Connects and consumes the queue into `output`, from `progress` on.
fn consume(
    target: &AmqpTarget,
    queue: &str,
    output: &Path,
    options: &DrainOptions,
    progress: Progress,
) -> Result<DrainSummary> {
    client_runtime()?.block_on(async {
        let connection = within(
            "connecting",
            Connection::connect(&target.uri, ConnectionProperties::default()),
        )
        .await
        .map_err(|reason| failure(target, reason))?;
        let channel = within("opening a channel", connection.create_channel())
            .await
            .map_err(|reason| failure(target, reason))?;
        let declare = channel.queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        );
        within("finding the queue", declare)
            .await
            .map_err(|reason| failure(target, format!("no queue {queue} to drain: {reason}")))?;
        let writer = PartWriter::start(output, progress.summary.parts, options.compression)?;
        let mut consumer = Drainer::new(
            target,
            options,
            &channel,
            progress,
            writer,
            output.to_path_buf(),
        );
        let summary = consumer.run(queue).await?;
        let _ = within("closing", connection.close(200, "drained".into())).await;
        Ok(summary)
    })
}

/// A drain's failure, naming the queue.
fn failure(target: &AmqpTarget, reason: impl std::fmt::Display) -> ExportError {
    ExportError::Amqp {
        target: target.describe(),
        reason: reason.to_string(),
    }
}
