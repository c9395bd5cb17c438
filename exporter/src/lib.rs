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
//! * [`queue`] holds everything RabbitMQ: the queue sink and `drain`, which
//!   reads a queue back in order; [`kafka`] the same for a Kafka topic;
//!   [`delivery`] what both share (the checkpoint and its resume, the
//!   drain's parts and progress); [`queue_spec`] is `drain --from`, parsed;
//! * [`sharded`] records what each `--shard I/N` of an export saw and wrote;
//! * [`verify`] proves an export complete and correct.

pub mod chunk;
pub mod dataset;
pub mod delivery;
pub mod error;
pub mod grouping;
pub mod kafka;
pub mod message;
pub mod payload_budget;
pub mod queue;
pub mod queue_spec;
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
pub use queue_spec::QueueSpec;
pub use sink_spec::{SinkSettings, SinkSpec};
pub use strategy::{DecodeAhead, ExportOptions, ExportSummary, Strategy, decode_only, export};
