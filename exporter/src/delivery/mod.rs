//! What every queue's delivery shares, whichever broker it goes to
//! (RabbitMQ: [`crate::queue`]; Kafka: [`crate::kafka`]):
//!
//! * [`checkpoint`]: `--checkpoint FILE`, the group below which every message
//!   is confirmed, and how a resumed export starts from it;
//! * [`Confirmed`]: that group, kept as confirmations come in any order;
//! * the drain's output: its options and summary (here), `_drain.json`
//!   ([`progress`]), the thread that writes and commits Parquet parts
//!   ([`parts`]), the ids of a drain in any order ([`seen`]), and the count of
//!   a message's predictions ([`count`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

mod checkpoint;
mod confirmed;
mod count;
mod parts;
mod progress;
mod seen;

pub use checkpoint::{Checkpoint, Checkpointing, QueueStart, Resume, identity, plan_resume};
pub use confirmed::Confirmed;
pub use count::count_predictions;
pub(crate) use parts::PartWriter;
pub use progress::PROGRESS_FILE;
pub(crate) use progress::{Progress, prepare_output};
pub use seen::SeenIds;

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
