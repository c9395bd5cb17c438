//! predbench's exporter: turns a prediction table into JSON messages of K
//! predictions, with competing strategies and sinks, and verifies exports.
//!
//! * [`dataset`] finds the Parquet files and numbers rows from the footers;
//! * [`grouping`] says which message each row belongs to;
//! * [`chunk`] reads whole groups in message order in bounded memory;
//! * [`message`] writes Spark-compatible JSON (arrow-json, or a fast path);
//! * [`strategy`] holds `single-thread`, `rayon` and `window-sort`;
//! * [`sink`] holds the destinations: Parquet, NDJSON, null, RabbitMQ, and
//!   the payload budget in front of them (where `packed` messages are made);
//! * [`drain`] reads a queue back into a file, in order, without duplicates;
//! * [`sharded`] records what each `--shard I/N` of an export saw and wrote;
//! * [`verify`] proves an export complete and correct.

pub mod chunk;
pub mod dataset;
pub mod drain;
pub mod error;
pub mod grouping;
pub mod message;
pub mod sharded;
pub mod sink;
pub mod strategy;
pub mod verify;

pub use dataset::Dataset;
pub use error::{ExportError, Result};
pub use grouping::{GroupLayout, Grouping};
pub use message::{EncoderChoice, MessageOptions, NonFiniteMode, NullMode};
pub use strategy::{ExportOptions, ExportSummary, Strategy, decode_only, export};
