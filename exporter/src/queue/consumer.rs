//! The consumer of one drain run: deliveries taken in `message_id` order (or
//! any order), duplicates dropped, gaps counted, parts handed to the writer
//! and their messages acknowledged once committed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicGetOptions, BasicQosOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Consumer};

use super::drain::failure;
use crate::delivery::{
    DrainOptions, DrainSummary, PartWriter, Progress, SeenIds, count_predictions,
};
use crate::error::{ExportError, Result};
use crate::message::MessageBatch;
use crate::queue::client::within;
use crate::queue::target::AmqpTarget;

/// The state of one drain run.
pub(super) struct Drainer<'a> {
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

impl<'a> Drainer<'a> {
    /// A drain of `channel`'s queue into `output`, from `progress` on.
    pub(super) fn new(
        target: &'a AmqpTarget,
        options: &'a DrainOptions,
        channel: &'a Channel,
        progress: Progress,
        writer: PartWriter,
        output: PathBuf,
    ) -> Drainer<'a> {
        Drainer {
            seen: progress.committed_ids.clone(),
            part_ids: Vec::new(),
            target,
            options,
            channel,
            progress,
            waiting: BTreeMap::new(),
            writer,
            output,
            pending: MessageBatch::default(),
            part_bytes: 0,
            uncommitted: BTreeSet::new(),
            part_tags: Vec::new(),
            in_flight: None,
            highest_tag: 0,
            acknowledged: 0,
        }
    }
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
    /// The writer's answer on the part in flight.
    Committed(Result<Option<crate::sink::SinkSummary>>),
    /// A delivery, or the end of the consumer's stream.
    Delivery(Option<lapin::Result<Delivery>>),
    /// No delivery for a while.
    Quiet,
}

/// The consumer's tag on its channel.
const CONSUMER_TAG: &str = "predbench-drain";

/// How long a drain that stops at an empty queue waits for a delivery
/// before it asks the broker whether any message is left.
const EMPTY_QUEUE_LOOK: Duration = Duration::from_millis(100);

/// Messages handed to the part writer at once (a row group of the part), at
/// most: about this many bytes, or this many messages.
const BATCH_BYTES: usize = 4 << 20;
const BATCH_MESSAGES: usize = 1024;

impl Drainer<'_> {
    /// Reads the queue until the last expected message is written, the
    /// queue is empty (`until_empty`), or it stays quiet for `idle`; then
    /// commits what is left.
    pub(super) async fn run(&mut self, queue: &str) -> Result<DrainSummary> {
        let prefetch = self.start(queue).await?;
        let consume = self.channel.basic_consume(
            queue.into(),
            CONSUMER_TAG.into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        );
        let mut deliveries = within("starting to consume", consume)
            .await
            .map_err(|reason| failure(self.target, reason))?;
        let mut last_delivery = Instant::now();
        while !self.reached_last() {
            match self.next_event(&mut deliveries).await {
                Event::Committed(answer) => self.acknowledge_in_flight(answer).await?,
                Event::Delivery(Some(delivery)) => {
                    last_delivery = Instant::now();
                    self.take(delivery, prefetch).await?;
                }
                Event::Delivery(None) => break,
                Event::Quiet => {
                    if self.options.until_empty && self.queue_is_empty(queue).await? {
                        self.take_the_rest(&mut deliveries, prefetch).await?;
                        break;
                    }
                    if last_delivery.elapsed() >= self.options.idle {
                        if self.stalled(prefetch) {
                            return Err(self.stalled_error(prefetch));
                        }
                        break;
                    }
                }
            }
        }
        self.flush_gaps()?;
        self.commit().await?;
        self.finish_in_flight().await?;
        self.progress.complete = true;
        self.save_progress(self.progress.next_id)?;
        Ok(self.progress.summary.clone())
    }

    /// Takes the first message (it sizes the prefetch window; a queue still
    /// empty gets the smallest one until messages come) and sets the window.
    async fn start(&mut self, queue: &str) -> Result<u16> {
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
        Ok(prefetch)
    }

    /// The next thing to act on: a commit's answer comes first (its messages
    /// are acknowledged as soon as they are on disk), then a delivery; quiet
    /// after a short look when the drain stops at an empty queue, after
    /// `idle` otherwise.
    async fn next_event(&mut self, deliveries: &mut Consumer) -> Event {
        let wait = if self.options.until_empty {
            self.options.idle.min(EMPTY_QUEUE_LOOK)
        } else {
            self.options.idle
        };
        let next_delivery = async {
            match tokio::time::timeout(wait, deliveries.next()).await {
                Ok(delivery) => Event::Delivery(delivery),
                Err(_) => Event::Quiet,
            }
        };
        if self.in_flight.is_some() {
            let writer = &mut self.writer;
            futures_lite::future::or(
                async { Event::Committed(writer.committed().await) },
                next_delivery,
            )
            .await
        } else {
            next_delivery.await
        }
    }

    /// Takes one delivery, committing the open part when it is full.
    async fn take(&mut self, delivery: lapin::Result<Delivery>, prefetch: u16) -> Result<()> {
        let delivery = delivery.map_err(|cause| {
            failure(
                self.target,
                format!(
                    "the broker went away mid-drain ({cause}); what is not committed stays in the queue"
                ),
            )
        })?;
        self.receive(delivery)?;
        if self.part_full(prefetch) {
            self.commit().await?;
        }
        Ok(())
    }

    /// Whether the queue holds no message ready for delivery: every message
    /// it held has been sent to this consumer.
    async fn queue_is_empty(&self, queue: &str) -> Result<bool> {
        let declare = self.channel.queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        );
        let found = within("looking at the queue", declare)
            .await
            .map_err(|reason| failure(self.target, reason))?;
        Ok(found.message_count() == 0)
    }

    /// Stops the consumer and takes the deliveries the broker sent before it
    /// stopped: the broker answers the cancel after its last delivery, so
    /// the stream ends with the last message sent.
    async fn take_the_rest(&mut self, deliveries: &mut Consumer, prefetch: u16) -> Result<()> {
        let cancel = self
            .channel
            .basic_cancel(CONSUMER_TAG.into(), BasicCancelOptions::default());
        within("stopping the consumer", cancel)
            .await
            .map_err(|reason| failure(self.target, reason))?;
        while let Some(delivery) = deliveries.next().await {
            self.take(delivery, prefetch).await?;
        }
        Ok(())
    }

    /// The queue is out of order by more than the prefetch window.
    fn stalled_error(&self, prefetch: u16) -> ExportError {
        failure(
            self.target,
            format!(
                "stalled: the prefetch window ({prefetch} messages) is full of messages after \
                 message_id {}, which has not come; drain writes a queue in message_id order, \
                 and this one is published out of order by more than the window (drain it with \
                 `any_order`, or a larger `window_bytes`); nothing past the last committed part \
                 is acknowledged",
                self.progress.next_id
            ),
        )
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
        self.progress.save(&self.output, next_id)
    }
}
