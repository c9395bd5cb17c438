//! predbench's exporter: turns a prediction table into JSON messages of K
//! predictions, with competing strategies and sinks, and verifies exports.
//!
//! * [`dataset`] finds the Parquet files and numbers rows from the footers;
//! * [`grouping`] says which message each row belongs to;
//! * [`chunk`] reads whole groups in message order in bounded memory;
//! * [`message`] writes Spark-compatible JSON (arrow-json, or a fast path);
//! * [`strategy`] holds `single-thread`, `rayon` and `window-sort`;
//! * [`sink`] holds the file destinations: Parquet, NDJSON, null;
//! * [`sink_spec`] is `--sink` (and Python's `sink=`), parsed and opened;
//! * [`payload_budget`] is the stage in front of every sink where `packed`
//!   messages are made and message sizes are checked;
//! * [`queue`] holds everything RabbitMQ: the queue sink, its checkpoint and
//!   resume, and `drain`, which reads a queue back in order;
//! * [`sharded`] records what each `--shard I/N` of an export saw and wrote;
//! * [`verify`] proves an export complete and correct.

pub mod chunk;
pub mod dataset;
pub mod error;
pub mod grouping;
pub mod message;
pub mod payload_budget;
pub mod queue;
pub mod sharded;
pub mod sink;
pub mod sink_spec;
pub mod strategy;
pub mod text_column;
pub mod verify;

pub use dataset::Dataset;
pub use error::{ExportError, Result};
pub use grouping::{GroupLayout, Grouping};
pub use message::{EncoderChoice, MessageOptions, NonFiniteMode, NullMode, NumberFormat};
pub use sink_spec::{SinkSettings, SinkSpec};
pub use strategy::{DecodeAhead, ExportOptions, ExportSummary, Strategy, decode_only, export};
