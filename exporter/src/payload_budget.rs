//! The payload budget (`--max-message-bytes`) in front of any sink. With
//! `modulo` and `contiguous` a message over the budget is an error naming its
//! group. With `packed` this is where messages are made: the strategies
//! encode one-row messages in parallel, and here, in message order, their
//! objects are joined into messages of as many consecutive predictions as fit
//! under the budget (greedy: a message is closed when the next prediction
//! would not fit). Packing copies bytes once, on the writing thread, into
//! parts of about [`PART_BYTES`]; each part is prepared for the sink behind
//! (a Parquet sink compresses there) on rayon's pool while packing goes on,
//! and written in order. Memory: at most `2 * threads` parts being prepared,
//! and the part being packed.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use crate::error::{ExportError, Result};
use crate::message::MessageBatch;
use crate::sink::{MessageSink, SinkSummary};

/// Bytes of packed messages prepared for the sink at once (a Parquet row group).
pub const PART_BYTES: usize = 4 << 20;

/// A sink behind a payload budget; see the module comment.
pub struct PayloadBudget<S: MessageSink> {
    inner: Arc<S>,
    budget: Budget<S::Prepared>,
}

/// What the budget does; `P` is what the sink behind prepares.
enum Budget<P> {
    /// Nothing: every batch goes through.
    Unlimited,
    /// Fails on the first message over `limit` bytes; `next_group` names it.
    Limit { limit: u64, next_group: Mutex<u64> },
    /// Joins one-row messages into messages of at most `limit` bytes; parts
    /// of them are prepared in the background, at most `max_preparing` at once.
    Packing {
        limit: u64,
        max_preparing: usize,
        packer: Mutex<Packer>,
        preparing: Mutex<VecDeque<Receiver<Result<P>>>>,
    },
}

/// A prepared batch: ready for the sink behind (with where the first message
/// over the limit is, if any), or one-row messages still to be packed.
pub enum Budgeted<P> {
    /// Prepared by the sink behind.
    Ready {
        /// What the sink behind prepared.
        prepared: P,
        /// Messages in the batch.
        messages: u64,
        /// Index and size of the first message over the limit.
        over: Option<(u64, usize)>,
    },
    /// One-row messages for the packer.
    Rows(MessageBatch),
}

/// Packed messages under construction. `parts` are full parts; `batch` holds
/// complete messages, then the open one (`[obj,obj` without its `]`) from
/// `open_start`.
struct Packer {
    /// Bytes at which a batch becomes a part ([`PART_BYTES`]).
    part_bytes: usize,
    parts: Vec<MessageBatch>,
    batch: MessageBatch,
    open_start: usize,
    open_rows: u32,
    /// Sequential id of the next row to pack.
    next_row: u64,
}

impl Packer {
    /// Appends one prediction's object, closing the open message first when
    /// the object would take it over `limit`.
    fn add(&mut self, object: &[u8], limit: u64) -> Result<()> {
        if 2 + object.len() as u64 > limit {
            return Err(ExportError::invalid(
                "max_message_bytes",
                format!(
                    "the prediction of row {} is {} bytes of JSON: a message of it alone \
                     is {} bytes, over the limit of {limit}; nothing from it on was written",
                    self.next_row,
                    object.len(),
                    object.len() + 2
                ),
            ));
        }
        let open_bytes = (self.batch.bytes.len() - self.open_start) as u64;
        if self.open_rows > 0 && open_bytes + 1 + object.len() as u64 + 1 > limit {
            self.close();
        }
        if self.open_rows == 0 {
            self.open_start = self.batch.bytes.len();
            self.batch.bytes.push(b'[');
        } else {
            self.batch.bytes.push(b',');
        }
        self.batch.bytes.extend_from_slice(object);
        self.open_rows += 1;
        self.next_row += 1;
        Ok(())
    }

    /// Ends the open message; a batch that reaches [`PART_BYTES`] becomes a part.
    fn close(&mut self) {
        if self.open_rows == 0 {
            return;
        }
        self.batch.bytes.push(b']');
        self.batch.ends.push(self.batch.bytes.len());
        self.batch.message_rows.push(self.open_rows);
        self.batch.rows += u64::from(self.open_rows);
        self.open_rows = 0;
        if self.batch.bytes.len() >= self.part_bytes {
            let capacity = self.batch.bytes.capacity();
            self.parts.push(std::mem::take(&mut self.batch));
            self.batch.bytes.reserve(capacity);
        }
        self.open_start = self.batch.bytes.len();
    }

    /// Takes the full parts, and with `everything` the complete messages of
    /// the batch too (the open message stays).
    fn take_parts(&mut self, everything: bool) -> Vec<MessageBatch> {
        if everything && !self.batch.is_empty() {
            let complete_end = self.batch.ends.last().copied().unwrap_or(0);
            let mut open = Vec::with_capacity(self.batch.bytes.capacity());
            open.extend_from_slice(&self.batch.bytes[complete_end..]);
            self.batch.bytes.truncate(complete_end);
            self.open_start -= complete_end;
            self.parts.push(std::mem::take(&mut self.batch));
            self.batch.bytes = open;
        }
        std::mem::take(&mut self.parts)
    }
}

impl<S: MessageSink + 'static> PayloadBudget<S> {
    /// `inner` behind no budget.
    pub fn unlimited(inner: S) -> Self {
        PayloadBudget {
            inner: Arc::new(inner),
            budget: Budget::Unlimited,
        }
    }

    /// `inner` behind a limit of `limit` bytes a message; the first message
    /// written is group `first_group` (named in the error).
    pub fn limit(inner: S, limit: u64, first_group: u64) -> Self {
        PayloadBudget {
            inner: Arc::new(inner),
            budget: Budget::Limit {
                limit,
                next_group: Mutex::new(first_group),
            },
        }
    }

    /// `inner` behind a packer that joins one-row messages, the first of
    /// sequential id `first_row`, into messages of at most `limit` bytes,
    /// prepared for `inner` on rayon's pool, `2 * threads` parts at most at once.
    pub fn packing(inner: S, limit: u64, first_row: u64, threads: usize) -> Self {
        Self::packing_in_parts(inner, limit, first_row, threads, PART_BYTES)
    }

    /// [`PayloadBudget::packing`] with parts of `part_bytes`.
    fn packing_in_parts(
        inner: S,
        limit: u64,
        first_row: u64,
        threads: usize,
        part_bytes: usize,
    ) -> Self {
        PayloadBudget {
            inner: Arc::new(inner),
            budget: Budget::Packing {
                limit,
                max_preparing: 2 * threads.max(1),
                packer: Mutex::new(Packer {
                    part_bytes,
                    parts: Vec::new(),
                    batch: MessageBatch::default(),
                    open_start: 0,
                    open_rows: 0,
                    next_row: first_row,
                }),
                preparing: Mutex::new(VecDeque::new()),
            },
        }
    }

    /// Starts preparing `parts` in the background, then writes, in order,
    /// every part already prepared, waiting for the oldest while more than
    /// `keep` are in preparation.
    fn prepare_and_write(
        &self,
        parts: Vec<MessageBatch>,
        preparing: &Mutex<VecDeque<Receiver<Result<S::Prepared>>>>,
        keep: usize,
    ) -> Result<()> {
        let mut preparing = preparing.lock().expect("preparing lock poisoned");
        for part in parts {
            let (sender, receiver) = sync_channel(1);
            let inner = Arc::clone(&self.inner);
            rayon::spawn(move || {
                let prepared =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.prepare(part)))
                        .unwrap_or_else(|_| {
                            Err(ExportError::Worker {
                                stage: "preparing packed messages for the sink",
                                reason: "a worker panicked".to_string(),
                            })
                        });
                // Let go of the sink before answering: once every part is
                // answered, `finish` owns the sink alone.
                drop(inner);
                let _ = sender.send(prepared);
            });
            preparing.push_back(receiver);
        }
        while let Some(oldest) = preparing.front() {
            let prepared = if preparing.len() > keep {
                oldest.recv().ok()
            } else {
                match oldest.try_recv() {
                    Ok(prepared) => Some(prepared),
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => None,
                }
            };
            preparing.pop_front();
            let prepared = prepared.unwrap_or_else(|| {
                Err(ExportError::Worker {
                    stage: "preparing packed messages for the sink",
                    reason: "a part was lost: its worker stopped without answering".to_string(),
                })
            });
            self.inner.write(prepared?)?;
        }
        Ok(())
    }
}

impl<S: MessageSink + 'static> MessageSink for PayloadBudget<S> {
    type Prepared = Budgeted<S::Prepared>;

    fn prepare(&self, messages: MessageBatch) -> Result<Self::Prepared> {
        let limit = match &self.budget {
            Budget::Packing { .. } => return Ok(Budgeted::Rows(messages)),
            Budget::Limit { limit, .. } => Some(*limit),
            Budget::Unlimited => None,
        };
        let over = limit.and_then(|limit| {
            messages
                .messages()
                .enumerate()
                .find(|(_, message)| message.len() as u64 > limit)
                .map(|(index, message)| (index as u64, message.len()))
        });
        let count = messages.len() as u64;
        Ok(Budgeted::Ready {
            prepared: self.inner.prepare(messages)?,
            messages: count,
            over,
        })
    }

    fn write(&self, prepared: Self::Prepared) -> Result<()> {
        match (prepared, &self.budget) {
            (
                Budgeted::Ready {
                    prepared,
                    messages,
                    over,
                },
                budget,
            ) => {
                if let Budget::Limit { limit, next_group } = budget {
                    let mut next_group = next_group.lock().expect("budget lock poisoned");
                    if let Some((index, size)) = over {
                        return Err(ExportError::invalid(
                            "max_message_bytes",
                            format!(
                                "the message of group {} is {size} bytes, over the limit of \
                                 {limit}; nothing from it on was written",
                                *next_group + index
                            ),
                        ));
                    }
                    *next_group += messages;
                }
                self.inner.write(prepared)
            }
            (
                Budgeted::Rows(rows),
                Budget::Packing {
                    limit,
                    max_preparing,
                    packer,
                    preparing,
                },
            ) => {
                let parts = {
                    let mut packer = packer.lock().expect("packer lock poisoned");
                    for message in rows.messages() {
                        // A one-row message is `[object]`.
                        packer.add(&message[1..message.len() - 1], *limit)?;
                    }
                    packer.take_parts(false)
                };
                self.prepare_and_write(parts, preparing, *max_preparing)
            }
            (Budgeted::Rows(_), _) => unreachable!("rows are prepared for packing only"),
        }
    }

    fn finish(self) -> Result<SinkSummary> {
        if let Budget::Packing {
            packer, preparing, ..
        } = &self.budget
        {
            let last = {
                let mut packer = packer.lock().expect("packer lock poisoned");
                packer.close();
                packer.take_parts(true)
            };
            self.prepare_and_write(last, preparing, 0)?;
        }
        let inner = Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| unreachable!("every part was prepared and let go of the sink"));
        inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Counts;

    /// Keeps every batch it is given.
    #[derive(Default)]
    struct Collect {
        batches: Mutex<Vec<MessageBatch>>,
    }

    impl MessageSink for Arc<Collect> {
        type Prepared = MessageBatch;
        fn prepare(&self, messages: MessageBatch) -> Result<MessageBatch> {
            Ok(messages)
        }
        fn write(&self, prepared: MessageBatch) -> Result<()> {
            self.batches.lock().unwrap().push(prepared);
            Ok(())
        }
        fn finish(self) -> Result<SinkSummary> {
            let mut counts = Counts::default();
            for batch in self.batches.lock().unwrap().iter() {
                counts.add(Counts::of(batch));
            }
            Ok(counts.summary(0, None))
        }
    }

    fn one_row_messages(objects: &[&str]) -> MessageBatch {
        let mut batch = MessageBatch::default();
        for object in objects {
            batch.push(format!("[{object}]").as_bytes(), 1);
        }
        batch
    }

    fn packed(limit: u64, chunks: &[&[&str]]) -> Result<Vec<String>> {
        packed_in_parts(limit, chunks, PART_BYTES)
    }

    fn packed_in_parts(limit: u64, chunks: &[&[&str]], part_bytes: usize) -> Result<Vec<String>> {
        let collect = Arc::new(Collect::default());
        let sink = PayloadBudget::packing_in_parts(Arc::clone(&collect), limit, 0, 3, part_bytes);
        for chunk in chunks {
            sink.write(sink.prepare(one_row_messages(chunk))?)?;
        }
        let summary = sink.finish()?;
        let batches = collect.batches.lock().unwrap();
        let messages: Vec<String> = batches
            .iter()
            .flat_map(|batch| {
                batch
                    .messages()
                    .map(|m| String::from_utf8(m.to_vec()).unwrap())
            })
            .collect();
        let rows: u64 = batches.iter().map(|batch| batch.rows).sum();
        let listed: u64 = batches
            .iter()
            .flat_map(|batch| batch.message_rows.iter().map(|rows| u64::from(*rows)))
            .sum();
        assert_eq!(rows, listed);
        assert_eq!(summary.messages, messages.len() as u64);
        Ok(messages)
    }

    #[test]
    fn packs_as_many_consecutive_objects_as_fit_across_batches() {
        // Objects of 7 bytes: [a] is 9 bytes, [a,b] 17, [a,b,c] 25.
        let objects = [
            "{\"a\":1}",
            "{\"a\":2}",
            "{\"a\":3}",
            "{\"a\":4}",
            "{\"a\":5}",
        ];
        let messages = packed(27, &[&objects[..2], &objects[2..]]).unwrap();
        assert_eq!(
            messages,
            vec!["[{\"a\":1},{\"a\":2},{\"a\":3}]", "[{\"a\":4},{\"a\":5}]"]
        );
        // Exactly at the limit fits; one byte less does not.
        let exact = packed(25, &[&objects]).unwrap();
        assert_eq!(exact[0], "[{\"a\":1},{\"a\":2},{\"a\":3}]");
        assert_eq!(exact.len(), 2);
        let tighter = packed(24, &[&objects]).unwrap();
        assert_eq!(tighter[0], "[{\"a\":1},{\"a\":2}]");
        assert_eq!(tighter.len(), 3);
        // Every object alone.
        assert_eq!(packed(9, &[&objects]).unwrap().len(), 5);
    }

    #[test]
    fn parts_prepared_in_the_background_are_written_in_order() {
        // 200 objects of 7 to 9 bytes, 8 a message, parts of about 3 messages,
        // handed over in chunks of 7: many parts in preparation at once.
        let objects: Vec<String> = (0..200).map(|i| format!("{{\"a\":{i}}}")).collect();
        let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
        let chunks: Vec<&[&str]> = objects.chunks(7).collect();
        let in_parts = packed_in_parts(2 + 8 * 10, &chunks, 200).unwrap();
        let whole = packed(2 + 8 * 10, &[&objects]).unwrap();
        assert_eq!(in_parts, whole);
        let joined: Vec<String> = in_parts
            .iter()
            .flat_map(|message| {
                message[1..message.len() - 1]
                    .split(',')
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(joined, objects);
    }

    #[test]
    fn a_prediction_larger_than_the_limit_is_named() {
        let error = packed(9, &[&["{\"a\":1}", "{\"a\":22}"]]).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("max_message_bytes"), "{text}");
        assert!(text.contains("row 1 is 8 bytes"), "{text}");
        assert!(text.contains("10 bytes, over the limit of 9"), "{text}");
    }

    #[test]
    fn the_limit_names_the_group_over_it() {
        let collect = Arc::new(Collect::default());
        let sink = PayloadBudget::limit(Arc::clone(&collect), 9, 40);
        sink.write(sink.prepare(one_row_messages(&["{\"a\":1}"])).unwrap())
            .unwrap();
        let error = sink
            .prepare(one_row_messages(&["{\"a\":1}", "{\"a\":22}"]))
            .and_then(|prepared| sink.write(prepared))
            .unwrap_err();
        assert!(
            error.to_string().contains("group 42 is 10 bytes"),
            "{error}"
        );
        assert_eq!(collect.batches.lock().unwrap().len(), 1);
    }
}
