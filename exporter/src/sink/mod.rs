//! Where messages go. Every sink splits its work in two: `prepare` runs on
//! worker threads (formatting, compression), `write` runs in message order on
//! one thread. Both take `&self` so that workers and the writer share the
//! sink; a sink keeps its output behind a mutex that only the writer takes.
//! Adding a file destination is adding a file here; a broker is a folder of
//! its own behind the same trait (RabbitMQ: [`crate::queue`]).

mod atomic_file;
mod ndjson;
mod null;
mod parquet;

use std::path::PathBuf;

pub use ndjson::NdjsonSink;
pub use null::NullSink;
pub use parquet::{PREDICTS_COLUMN, ParquetSink};

use crate::error::Result;
use crate::message::MessageBatch;

/// What a sink did, reported when it finishes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkSummary {
    /// Messages received.
    pub messages: u64,
    /// Predictions in those messages.
    pub rows: u64,
    /// Bytes of JSON text in those messages.
    pub message_bytes: u64,
    /// Bytes the sink wrote (file size), 0 for the null sink.
    pub output_bytes: u64,
    /// The file written, if any.
    pub path: Option<PathBuf>,
    /// Messages a queue sink published again (after a nack or a lost connection).
    pub republished: Option<u64>,
    /// Connections a queue sink made again after losing one.
    pub reconnects: Option<u64>,
}

/// A destination for messages.
pub trait MessageSink: Send + Sync {
    /// What `prepare` makes of a batch of messages for `write`.
    type Prepared: Send;

    /// Prepares a batch for writing; called on worker threads, in any order.
    fn prepare(&self, messages: MessageBatch) -> Result<Self::Prepared>;

    /// Writes a prepared batch; called on one thread, in message order.
    fn write(&self, prepared: Self::Prepared) -> Result<()>;

    /// Flushes everything and makes the output visible.
    fn finish(self) -> Result<SinkSummary>;
}

/// Messages and bytes counted by every sink.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// Messages.
    pub messages: u64,
    /// Predictions.
    pub rows: u64,
    /// JSON bytes.
    pub message_bytes: u64,
}

impl Counts {
    /// The counts of one batch.
    pub fn of(batch: &MessageBatch) -> Counts {
        Counts {
            messages: batch.len() as u64,
            rows: batch.rows,
            message_bytes: batch.bytes.len() as u64,
        }
    }

    /// Adds `other` to these counts.
    pub fn add(&mut self, other: Counts) {
        self.messages += other.messages;
        self.rows += other.rows;
        self.message_bytes += other.message_bytes;
    }

    /// A summary with these counts.
    pub fn summary(self, output_bytes: u64, path: Option<PathBuf>) -> SinkSummary {
        SinkSummary {
            messages: self.messages,
            rows: self.rows,
            message_bytes: self.message_bytes,
            output_bytes,
            path,
            ..SinkSummary::default()
        }
    }
}
