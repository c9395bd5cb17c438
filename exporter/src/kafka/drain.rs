//! `drain` of a Kafka topic: a consumer in the target's group that reads
//! every partition (from the start into a new directory; from the group's
//! committed offsets into a directory an unfinished drain left) and writes the records into Parquet parts in `message_id` order,
//! as the RabbitMQ drain does: each partition holds its messages in order and
//! the partitions are read side by side, so a record that comes before its
//! turn waits (about a fetch per partition) while duplicates are dropped and
//! gaps counted; with `any_order` records are written as they come and the
//! ids seen drop duplicates. The group's offsets are committed only once the
//! part that holds the records is durable and `_drain.json` says so, and
//! never past a record still waiting. Killed half way, it goes on from the
//! committed offsets; records read again are dropped as duplicates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::admin::{REQUEST_TIMEOUT, client_config, failure};
use super::target::KafkaTarget;
use crate::delivery::{
    DrainOptions, DrainSummary, PartWriter, Progress, SeenIds, count_predictions, prepare_output,
};
use crate::error::Result;
use crate::message::MessageBatch;

/// How long the brokers may take to answer a first fetch for every partition.
const FIRST_ANSWER: Duration = Duration::from_secs(120);

/// Bytes of messages handed to the part writer at once.
const BATCH_BYTES: usize = 4 << 20;

/// Drains `target`'s topic into the directory `output` (made, or gone on
/// from when an unfinished drain of the same topic left it).
pub fn drain(target: &KafkaTarget, output: &Path, options: &DrainOptions) -> Result<DrainSummary> {
    let existed = output.exists();
    let progress = prepare_output(&target.describe(), output, options)?;
    if progress.complete {
        return Ok(progress.summary);
    }
    let drained = consume(target, output, options, progress);
    if drained.is_err() && !existed {
        let _ = std::fs::remove_dir(output);
    }
    drained
}

/// The consumer, assigned every partition from the start (`resume` false)
/// or from the group's committed offsets.
fn assigned_consumer(target: &KafkaTarget, resume: bool) -> Result<(BaseConsumer, usize)> {
    let consumer: BaseConsumer = client_config(target)
        .set("group.id", &target.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        // A broker may hold a fetch for its whole wait even with records to
        // give (tansu 0.6 does): 100 ms instead of librdkafka's 500.
        .set("fetch.wait.max.ms", "100")
        .create()
        .map_err(|e| failure(target, e))?;
    let metadata = consumer
        .fetch_metadata(Some(&target.topic), REQUEST_TIMEOUT)
        .map_err(|e| failure(target, format!("cannot reach the brokers: {e}")))?;
    let partitions = metadata
        .topics()
        .first()
        .map_or(0, |topic| topic.partitions().len());
    if partitions == 0 {
        return Err(failure(
            target,
            format!("no topic {} to drain", target.topic),
        ));
    }
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions as i32 {
        assignment
            .add_partition_offset(
                &target.topic,
                partition,
                if resume {
                    Offset::Stored
                } else {
                    Offset::Beginning
                },
            )
            .map_err(|e| failure(target, e))?;
    }
    consumer
        .assign(&assignment)
        .map_err(|e| failure(target, e))?;
    Ok((consumer, partitions))
}

/// A record read before its turn.
struct Waiting {
    partition: i32,
    offset: i64,
    data: Vec<u8>,
}

/// One drain run: what is read, written and committed.
struct Drainer<'a> {
    target: &'a KafkaTarget,
    options: &'a DrainOptions,
    output: &'a Path,
    progress: Progress,
    /// A drain in any order: the ids written, committed or in the open part.
    seen: Option<SeenIds>,
    /// A drain in any order: the ids in the open part.
    part_ids: Vec<u64>,
    /// A drain in order: records that came before their turn, by `message_id`.
    waiting: BTreeMap<u64, Waiting>,
    part_bytes: u64,
    pending: MessageBatch,
    writer: PartWriter,
    /// The next offset of every partition read, to commit with the next part.
    offsets: BTreeMap<i32, i64>,
}

fn consume(
    target: &KafkaTarget,
    output: &Path,
    options: &DrainOptions,
    progress: Progress,
) -> Result<DrainSummary> {
    // The directory is the drain's state: the offsets go on from it only
    // when it holds committed parts.
    let (consumer, partitions) = assigned_consumer(target, progress.summary.parts > 0)?;
    let writer = PartWriter::start(output, progress.summary.parts, options.compression)?;
    let mut drainer = Drainer {
        target,
        options,
        output,
        seen: progress.committed_ids.clone(),
        progress,
        part_ids: Vec::new(),
        waiting: BTreeMap::new(),
        part_bytes: 0,
        pending: MessageBatch::default(),
        writer,
        offsets: BTreeMap::new(),
    };
    let mut at_end = BTreeSet::new();
    // Partitions the brokers answered for (a record or their end): the
    // idle clock runs only once all have, since a first fetch from a large
    // topic may take longer than --idle-seconds.
    let mut answered = BTreeSet::new();
    let started = Instant::now();
    let mut last_record = Instant::now();
    while !drainer.reached_last() {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(record)) => {
                last_record = Instant::now();
                answered.insert(record.partition());
                at_end.remove(&record.partition());
                drainer
                    .offsets
                    .insert(record.partition(), record.offset() + 1);
                let place = (record.partition(), record.offset());
                drainer.receive(place, record.key(), record.payload().unwrap_or_default())?;
                if drainer.part_bytes >= options.part_bytes {
                    drainer.commit(&consumer)?;
                }
            }
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                answered.insert(partition);
                at_end.insert(partition);
                if options.until_empty && at_end.len() == partitions {
                    break;
                }
            }
            Some(Err(error)) => return Err(failure(target, error)),
            None if answered.len() < partitions
                && started.elapsed() >= options.idle.max(FIRST_ANSWER) =>
            {
                return Err(failure(
                    target,
                    format!(
                        "the brokers answered a fetch for {} of the {partitions} partitions \
                         in {} s; rerun to go on from what is on disk",
                        answered.len(),
                        started.elapsed().as_secs()
                    ),
                ));
            }
            None if answered.len() < partitions => {}
            None if last_record.elapsed() >= options.idle => break,
            None => {}
        }
    }
    drainer.flush_gaps()?;
    drainer.commit(&consumer)?;
    drainer.progress.complete = true;
    drainer.progress.save(output, drainer.progress.next_id)?;
    Ok(drainer.progress.summary.clone())
}

impl Drainer<'_> {
    /// Whether every id up to the export's last is written.
    fn reached_last(&self) -> bool {
        let Some(last) = self.options.last_id else {
            return false;
        };
        match &self.seen {
            Some(seen) => {
                seen.len() > last.saturating_sub(self.options.first_id)
                    && seen.missing_before(last + 1) == 0
            }
            None => self.progress.next_id > last,
        }
    }

    /// Takes one record: a duplicate is dropped, a message in its turn
    /// written with every waiting one that follows it, an early one kept.
    fn receive(&mut self, place: (i32, i64), key: Option<&[u8]>, data: &[u8]) -> Result<()> {
        let summary = &mut self.progress.summary;
        summary.received += 1;
        let id = key
            .and_then(|key| std::str::from_utf8(key).ok())
            .and_then(|key| key.parse::<u64>().ok())
            .ok_or_else(|| {
                failure(
                    self.target,
                    format!(
                        "record {} has no numeric key: not written by predbench; no offset \
                         committed past the last committed part",
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
            self.part_ids.push(id);
            return self.write(id, data);
        }
        if id < self.progress.next_id || self.waiting.contains_key(&id) {
            summary.duplicates += 1;
            return Ok(());
        }
        if id > self.progress.next_id {
            let (partition, offset) = place;
            let data = data.to_vec();
            self.waiting.insert(
                id,
                Waiting {
                    partition,
                    offset,
                    data,
                },
            );
            return Ok(());
        }
        self.write(id, data)?;
        self.progress.next_id += 1;
        self.write_the_waiting_in_turn()
    }

    /// Writes the waiting records that are in their turn.
    fn write_the_waiting_in_turn(&mut self) -> Result<()> {
        while let Some(waiting) = self.waiting.remove(&self.progress.next_id) {
            self.write(self.progress.next_id, &waiting.data)?;
            self.progress.next_id += 1;
        }
        Ok(())
    }

    /// Records still waiting after the last came after a gap: written in
    /// order, the gap counted. A drain in any order counts the ids it has
    /// not seen up to the last expected (or the highest seen).
    fn flush_gaps(&mut self) -> Result<()> {
        if let Some(seen) = &self.seen {
            let end = self.options.last_id.map_or(seen.end(), |last| last + 1);
            self.progress.summary.missing = seen.missing_before(end);
            return Ok(());
        }
        while let Some((&id, _)) = self.waiting.first_key_value() {
            self.progress.summary.missing += id - self.progress.next_id;
            self.progress.next_id = id;
            self.write_the_waiting_in_turn()?;
        }
        Ok(())
    }

    /// Checks and counts one message and adds it to the open part.
    fn write(&mut self, id: u64, data: &[u8]) -> Result<()> {
        let predictions = count_predictions(data).ok_or_else(|| {
            failure(
                self.target,
                format!(
                    "message {id} is not a JSON array of predictions; no offset committed past \
                     the last committed part"
                ),
            )
        })?;
        self.pending
            .push(data, u32::try_from(predictions).unwrap_or(u32::MAX));
        self.part_bytes += data.len() as u64;
        if self.pending.bytes.len() >= BATCH_BYTES {
            self.writer.write(std::mem::take(&mut self.pending));
        }
        Ok(())
    }

    /// The offset to commit for every partition read: past every record
    /// read, or at the first one still waiting for its turn.
    fn offsets_to_commit(&self) -> BTreeMap<i32, i64> {
        let mut offsets = self.offsets.clone();
        for waiting in self.waiting.values() {
            let offset = offsets.entry(waiting.partition).or_insert(waiting.offset);
            *offset = (*offset).min(waiting.offset);
        }
        offsets
    }

    /// Commits the open part (durable, then `_drain.json`), then the
    /// group's offsets past every record read so far.
    fn commit(&mut self, consumer: &BaseConsumer) -> Result<()> {
        self.writer.write(std::mem::take(&mut self.pending));
        self.writer.request_commit();
        let written = futures_lite::future::block_on(self.writer.committed())?;
        if let Some(written) = written {
            let summary = &mut self.progress.summary;
            summary.parts += 1;
            summary.messages += written.messages;
            summary.predictions += written.rows;
            summary.message_bytes += written.message_bytes;
            summary.output_bytes += written.output_bytes;
        }
        if let Some(committed) = &mut self.progress.committed_ids {
            for id in self.part_ids.drain(..) {
                committed.insert(id);
            }
        }
        self.part_bytes = 0;
        self.progress.save(self.output, self.progress.next_id)?;
        if self.offsets.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        for (partition, next) in self.offsets_to_commit() {
            offsets
                .add_partition_offset(&self.target.topic, partition, Offset::Offset(next))
                .map_err(|e| failure(self.target, e))?;
        }
        consumer.commit(&offsets, CommitMode::Sync).map_err(|e| {
            failure(
                self.target,
                format!("parts committed, but not the offsets ({e}): those records will be read again and dropped as duplicates"),
            )
        })
    }
}
