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
//! Two rooms: this one is the consumer (deliveries, order, progress,
//! acknowledgements), which checks and counts every message ([`count`]);
//! [`parts`] is the thread that compresses and commits the parts meanwhile.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_lite::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicQosOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use predbench_common::atomic_file::{is_temporary, write_json_atomically};
use serde::{Deserialize, Serialize};

use super::client::{client_runtime, within};
use super::target::AmqpTarget;
use crate::error::{ExportError, Result};
use crate::message::MessageBatch;
pub use count::count_predictions;
use parts::PartWriter;
pub use seen::SeenIds;

mod count;
mod parts;
mod seen;

/// How a drain reads.
#[derive(Debug, Clone)]
pub struct DrainOptions {
    /// `message_id` of the first message expected.
    pub first_id: u64,
    /// The export's last `message_id`, when known: the drain stops once it is written.
    pub last_id: Option<u64>,
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

/// `_drain.json`: where a drain stands, rewritten after every committed part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Progress {
    /// The queue drained (without password).
    queue: String,
    /// `message_id` of the next message to write.
    next_id: u64,
    /// True once the drain has finished.
    complete: bool,
    /// What it did so far.
    summary: DrainSummary,
    /// A drain in any order: the `message_id`s of the committed parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    committed_ids: Option<SeenIds>,
}

/// The progress file inside the output directory.
pub const PROGRESS_FILE: &str = "_drain.json";

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
        let mut consumer = Drainer {
            seen: progress.committed_ids.clone(),
            part_ids: Vec::new(),
            target,
            options,
            channel: &channel,
            progress,
            waiting: BTreeMap::new(),
            writer,
            output: output.to_path_buf(),
            pending: MessageBatch::default(),
            part_bytes: 0,
            uncommitted: BTreeSet::new(),
            part_tags: Vec::new(),
            in_flight: None,
            highest_tag: 0,
            acknowledged: 0,
        };
        let summary = consumer.run(queue).await?;
        let _ = within("closing", connection.close(200, "drained".into())).await;
        Ok(summary)
    })
}

fn failure(target: &AmqpTarget, reason: impl std::fmt::Display) -> ExportError {
    ExportError::Amqp {
        target: target.describe(),
        reason: reason.to_string(),
    }
}

/// Makes `output`, or reads the progress an unfinished drain of the same
/// queue left there; a directory that is not a drain's is refused without `force`.
fn prepare_output(target: &AmqpTarget, output: &Path, options: &DrainOptions) -> Result<Progress> {
    let progress_path = output.join(PROGRESS_FILE);
    if progress_path.is_file() {
        let text = std::fs::read_to_string(&progress_path)
            .map_err(|e| ExportError::io("cannot read", &progress_path, e))?;
        let progress: Progress = serde_json::from_str(&text).map_err(|e| {
            ExportError::io(
                "cannot parse",
                &progress_path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        if progress.queue != target.describe() {
            return Err(ExportError::invalid(
                "messages",
                format!(
                    "{} holds a drain of {}, not of {}",
                    output.display(),
                    progress.queue,
                    target.describe()
                ),
            ));
        }
        if progress.committed_ids.is_some() != options.any_order {
            let (was, now) = match options.any_order {
                true => ("in message_id order", "in any order"),
                false => ("in any order", "in message_id order"),
            };
            return Err(ExportError::invalid(
                "messages",
                format!(
                    "{} holds an unfinished drain {was}; it goes on {was}, not {now}",
                    output.display()
                ),
            ));
        }
        remove_stale_parts(output, progress.summary.parts)?;
        return Ok(progress);
    }
    if output.exists() {
        let empty = std::fs::read_dir(output)
            .map_err(|e| ExportError::io("cannot list", output, e))?
            .next()
            .is_none();
        if !empty && !options.force {
            return Err(ExportError::invalid(
                "messages",
                format!(
                    "{} exists and is not a drain's directory; remove it or pass force",
                    output.display()
                ),
            ));
        }
        if !empty {
            std::fs::remove_dir_all(output)
                .map_err(|e| ExportError::io("cannot remove", output, e))?;
        }
    }
    std::fs::create_dir_all(output).map_err(|e| ExportError::io("cannot create", output, e))?;
    Ok(Progress {
        queue: target.describe(),
        next_id: options.first_id,
        complete: false,
        summary: DrainSummary::default(),
        committed_ids: options.any_order.then(|| SeenIds::new(options.first_id)),
    })
}

/// Removes parts past the committed ones (a part renamed into place after the
/// last progress was written: its messages were not acknowledged, so the
/// broker delivers them again) and temporaries a killed drain left.
fn remove_stale_parts(output: &Path, committed: u64) -> Result<()> {
    let entries =
        std::fs::read_dir(output).map_err(|e| ExportError::io("cannot list", output, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale_part = name
            .strip_prefix("part-")
            .and_then(|rest| rest.strip_suffix(".parquet"))
            .and_then(|index| index.parse::<u64>().ok())
            .is_some_and(|index| index >= committed);
        if stale_part || is_temporary(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// The state of one drain run.
struct Drainer<'a> {
    target: &'a AmqpTarget,
    options: &'a DrainOptions,
    channel: &'a Channel,
    progress: Progress,
    /// Messages that came before their turn: `message_id` -> (delivery tag, body).
    waiting: BTreeMap<u64, (u64, Vec<u8>)>,
    /// A drain in any order: the ids written (committed or not); the
    /// waiting map stays empty.
    seen: Option<SeenIds>,
    /// A drain in any order: the ids of the open part's messages.
    part_ids: Vec<u64>,
    /// The parts' writer thread.
    writer: PartWriter,
    output: PathBuf,
    /// Messages checked and counted, not yet handed to the writer.
    pending: MessageBatch,
    /// Bytes of JSON in the open part (`pending` included).
    part_bytes: u64,
    /// Delivery tags not yet committed (waiting, or in the open part).
    uncommitted: BTreeSet<u64>,
    /// Delivery tags of the open part's messages.
    part_tags: Vec<u64>,
    /// The part handed to the writer to commit, not yet committed.
    in_flight: Option<InFlight>,
    highest_tag: u64,
    acknowledged: u64,
}

/// A part the writer is committing.
struct InFlight {
    /// Delivery tags of its messages.
    tags: Vec<u64>,
    /// `message_id` of the message after its last.
    next_id: u64,
    /// A drain in any order: its messages' ids.
    ids: Vec<u64>,
}

/// What the consumer waits for (a value of one loop turn, never stored).
#[allow(clippy::large_enum_variant)]
enum Event {
    Committed(Result<Option<crate::sink::SinkSummary>>),
    Delivery(Option<lapin::Result<Delivery>>),
}

/// Messages handed to the part writer at once (a row group of the part), at
/// most: about this many bytes, or this many messages.
const BATCH_BYTES: usize = 4 << 20;
const BATCH_MESSAGES: usize = 1024;

impl Drainer<'_> {
    async fn run(&mut self, queue: &str) -> Result<DrainSummary> {
        // The first message sizes the prefetch window; a queue still empty
        // gets the smallest one until messages come.
        let first = within(
            "reading the queue",
            self.channel
                .basic_get(queue.into(), BasicGetOptions { no_ack: false }),
        )
        .await
        .map_err(|reason| failure(self.target, reason))?;
        let size = first
            .as_ref()
            .map_or(1 << 20, |message| message.delivery.data.len().max(1) as u64);
        let prefetch = (self.options.window_bytes / size).clamp(16, u64::from(u16::MAX)) as u16;
        self.progress.summary.prefetch = prefetch;
        within(
            "setting the prefetch window",
            self.channel.basic_qos(prefetch, BasicQosOptions::default()),
        )
        .await
        .map_err(|reason| failure(self.target, reason))?;
        if let Some(message) = first {
            self.receive(message.delivery)?;
        }
        let consume = self.channel.basic_consume(
            queue.into(),
            "predbench-drain".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        );
        let mut deliveries = within("starting to consume", consume)
            .await
            .map_err(|reason| failure(self.target, reason))?;
        while !self.reached_last() {
            let idle = self.options.idle;
            let next_delivery = async {
                match tokio::time::timeout(idle, deliveries.next()).await {
                    Ok(delivery) => Event::Delivery(delivery),
                    Err(_) => Event::Delivery(None),
                }
            };
            // A commit's answer comes first: its messages are acknowledged
            // as soon as they are on disk.
            let event = if self.in_flight.is_some() {
                let writer = &mut self.writer;
                futures_lite::future::or(
                    async { Event::Committed(writer.committed().await) },
                    next_delivery,
                )
                .await
            } else {
                next_delivery.await
            };
            let next = match event {
                Event::Committed(answer) => {
                    self.acknowledge_in_flight(answer).await?;
                    continue;
                }
                Event::Delivery(next) => next,
            };
            let delivery = match next {
                None if self.stalled(prefetch) => {
                    return Err(failure(
                        self.target,
                        format!(
                            "stalled: the prefetch window ({prefetch} messages) is full of messages after \
                             message_id {}, which has not come; drain writes a queue in message_id order, \
                             and this one is published out of order by more than the window (drain it with \
                             --any-order, or a larger --window-bytes); nothing past the last committed part \
                             is acknowledged",
                            self.progress.next_id
                        ),
                    ));
                }
                None => break,
                Some(Err(cause)) => {
                    return Err(failure(
                        self.target,
                        format!(
                            "the broker went away mid-drain ({cause}); what is not committed stays in the queue"
                        ),
                    ));
                }
                Some(Ok(delivery)) => delivery,
            };
            self.receive(delivery)?;
            if self.part_full(prefetch) {
                self.commit().await?;
            }
        }
        self.flush_gaps()?;
        self.commit().await?;
        self.finish_in_flight().await?;
        self.progress.complete = true;
        self.save_progress(self.progress.next_id)?;
        Ok(self.progress.summary.clone())
    }

    /// Whether the broker stopped delivering because every message it may
    /// have outstanding waits for an earlier one: the queue is out of
    /// message_id order by more than the window, and waiting longer cannot help.
    fn stalled(&self, prefetch: u16) -> bool {
        !self.waiting.is_empty() && self.uncommitted.len() >= usize::from(prefetch)
    }

    fn reached_last(&self) -> bool {
        let Some(last) = self.options.last_id else {
            return false;
        };
        match &self.seen {
            // Counting the gaps only once there may be none.
            Some(seen) => {
                seen.len() > last.saturating_sub(self.options.first_id)
                    && seen.missing_before(last + 1) == 0
            }
            None => self.progress.next_id > last,
        }
    }

    /// Takes one delivery: a duplicate is dropped, a message in its turn
    /// written with every waiting one that follows it, an early one kept.
    fn receive(&mut self, delivery: Delivery) -> Result<()> {
        let tag = delivery.delivery_tag;
        let message_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.to_string());
        let data = delivery.data;
        self.highest_tag = self.highest_tag.max(tag);
        let summary = &mut self.progress.summary;
        summary.received += 1;
        let id = message_id
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or_else(|| {
                failure(
                    self.target,
                    format!(
                        "message {} has no numeric message_id: not written by predbench; nothing acknowledged past the last committed part",
                        summary.received
                    ),
                )
            })?;
        if let Some(seen) = &mut self.seen {
            if !seen.insert(id) {
                summary.duplicates += 1;
                return Ok(());
            }
            self.progress.next_id = self.progress.next_id.max(id + 1);
            self.uncommitted.insert(tag);
            self.part_ids.push(id);
            return self.write(tag, id, &data);
        }
        if id < self.progress.next_id || self.waiting.contains_key(&id) {
            summary.duplicates += 1;
            return Ok(());
        }
        self.uncommitted.insert(tag);
        self.waiting.insert(id, (tag, data));
        while let Some((tag, data)) = self.waiting.remove(&self.progress.next_id) {
            self.write(tag, self.progress.next_id, &data)?;
            self.progress.next_id += 1;
        }
        Ok(())
    }

    /// Checks and counts one message and adds it to the open part, handing
    /// a full batch to the writer.
    fn write(&mut self, tag: u64, id: u64, data: &[u8]) -> Result<()> {
        let predictions = count_predictions(data).ok_or_else(|| {
            failure(
                self.target,
                format!(
                    "message {id} is not a JSON array of predictions; nothing acknowledged past the last committed part"
                ),
            )
        })?;
        if self.pending.bytes.capacity() == 0 {
            // One allocation a batch, not a doubling series.
            self.pending.bytes.reserve(BATCH_BYTES + data.len());
        }
        self.pending
            .push(data, u32::try_from(predictions).unwrap_or(u32::MAX));
        self.part_tags.push(tag);
        self.part_bytes += data.len() as u64;
        if self.pending.bytes.len() >= BATCH_BYTES || self.pending.len() >= BATCH_MESSAGES {
            self.writer.write(std::mem::take(&mut self.pending));
        }
        Ok(())
    }

    /// Whether the open part should be committed: it holds `part_bytes`, or
    /// half the prefetch window is waiting outside the part being committed
    /// (which holds at most the other half).
    fn part_full(&self, prefetch: u16) -> bool {
        let committing = self.in_flight.as_ref().map_or(0, |part| part.tags.len());
        let unacknowledged = (self.uncommitted.len() - committing) as u64;
        !self.part_tags.is_empty()
            && (self.part_bytes >= self.options.part_bytes
                || unacknowledged >= u64::from(prefetch / 2))
    }

    /// Messages still waiting after the last delivery came after a gap:
    /// written in order, the gap counted. A drain in any order counts the
    /// ids it has not seen up to the last expected (or the highest seen).
    fn flush_gaps(&mut self) -> Result<()> {
        if let Some(seen) = &self.seen {
            let end = self.options.last_id.map_or(seen.end(), |last| last + 1);
            self.progress.summary.missing = seen.missing_before(end);
            return Ok(());
        }
        for (id, (tag, data)) in std::mem::take(&mut self.waiting) {
            self.progress.summary.missing += id - self.progress.next_id;
            self.progress.next_id = id;
            self.write(tag, id, &data)?;
            self.progress.next_id = id + 1;
        }
        Ok(())
    }

    /// Hands the open part to the writer to commit (it syncs the part and
    /// renames it into place once every message handed to it is written),
    /// after the part before it, if any, is committed and acknowledged: one
    /// commit in flight at most, so that what is unacknowledged stays within
    /// the prefetch window.
    async fn commit(&mut self) -> Result<()> {
        self.finish_in_flight().await?;
        self.writer.write(std::mem::take(&mut self.pending));
        self.part_bytes = 0;
        self.writer.request_commit();
        self.in_flight = Some(InFlight {
            tags: std::mem::take(&mut self.part_tags),
            next_id: self.progress.next_id,
            ids: std::mem::take(&mut self.part_ids),
        });
        Ok(())
    }

    /// Waits for the commit in flight, if any, and acknowledges it.
    async fn finish_in_flight(&mut self) -> Result<()> {
        if self.in_flight.is_some() {
            let answer = self.writer.committed().await;
            self.acknowledge_in_flight(answer).await?;
        }
        Ok(())
    }

    /// Takes the writer's answer on the part in flight: counts it, records
    /// the progress, then acknowledges every delivery up to the first one
    /// still uncommitted.
    async fn acknowledge_in_flight(
        &mut self,
        answer: Result<Option<crate::sink::SinkSummary>>,
    ) -> Result<()> {
        let in_flight = self.in_flight.take().expect("a commit is in flight");
        if let Some(written) = answer? {
            let summary = &mut self.progress.summary;
            summary.parts += 1;
            summary.messages += written.messages;
            summary.predictions += written.rows;
            summary.message_bytes += written.message_bytes;
            summary.output_bytes += written.output_bytes;
        }
        for tag in &in_flight.tags {
            self.uncommitted.remove(tag);
        }
        if let Some(committed) = &mut self.progress.committed_ids {
            for id in &in_flight.ids {
                committed.insert(*id);
            }
        }
        self.save_progress(in_flight.next_id)?;
        let through = match self.uncommitted.first() {
            Some(first) => first - 1,
            None => self.highest_tag,
        };
        if through > self.acknowledged {
            within(
                "acknowledging",
                self.channel
                    .basic_ack(through, BasicAckOptions { multiple: true }),
            )
            .await
            .map_err(|reason| {
                failure(
                    self.target,
                    format!("committed, but cannot acknowledge ({reason}): those messages will be delivered again and dropped as duplicates"),
                )
            })?;
            self.acknowledged = through;
        }
        Ok(())
    }

    /// Writes `_drain.json` with the committed parts' counts and `next_id`,
    /// the message after the last committed one.
    fn save_progress(&self, next_id: u64) -> Result<()> {
        let path = self.output.join(PROGRESS_FILE);
        let progress = Progress {
            next_id,
            ..self.progress.clone()
        };
        write_json_atomically(&path, &progress)
            .map_err(|e| ExportError::io("cannot write", &path, e))
    }
}
