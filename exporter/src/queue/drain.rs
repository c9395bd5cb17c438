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
//! [`super::consumer`] takes the deliveries (order, duplicates, gaps,
//! acknowledgements); what every queue's drain shares (parts, progress, the
//! ids seen, counting) is [`crate::delivery`].

use std::path::Path;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

use super::client::{client_runtime, within};
use super::consumer::Drainer;
use super::target::AmqpTarget;
use crate::delivery::{DrainOptions, DrainSummary, PartWriter, Progress, prepare_output};
use crate::error::{ExportError, Result};

/// Drains the queue of `target` into the directory `output` (made, or gone
/// on from when an unfinished drain of the same queue left it).
pub fn drain(target: &AmqpTarget, output: &Path, options: &DrainOptions) -> Result<DrainSummary> {
    let queue = target
        .queue
        .clone()
        .ok_or_else(|| ExportError::invalid("from", "drain reads a queue: give ?queue=NAME"))?;
    let existed = output.exists();
    let progress = prepare_output(&target.describe(), output, options)?;
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
pub(super) fn failure(target: &AmqpTarget, reason: impl std::fmt::Display) -> ExportError {
    ExportError::Amqp {
        target: target.describe(),
        reason: reason.to_string(),
    }
}
