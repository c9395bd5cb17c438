//! The flags of every command as the user types them, parsed by clap into
//! the libraries' own types: a setting with named values is the library's
//! enum, offered through [`choice`], so each value is spelled once (in its
//! library's table). `argv` turns these structures back into command lines.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use predbench_common::{Choice, Shard};
use predbench_exporter::message::SessionTimeZone;
use predbench_exporter::{
    DecodeAhead, EncoderChoice, Grouping, NonFiniteMode, NullMode, NumberFormat, Strategy,
};
use predbench_generator::{ClassType, Compression, DistributionKind, FloatEncoding};

/// Generate ML prediction tables, export them as JSON messages with competing
/// strategies, and prove the exports complete.
#[derive(Debug, Parser)]
#[command(name = "predbench", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Clone, PartialEq, Subcommand)]
pub enum Command {
    /// Generate a prediction table as a directory of Parquet part files.
    Generate(GenerateArgs),
    /// Turn a prediction table into JSON messages of K predictions.
    Export(ExportArgs),
    /// Prove an export complete and correct against its dataset.
    Verify(VerifyArgs),
    /// Publish messages already serialized (a Parquet file of messages, as
    /// `export --sink parquet:` writes) to a queue with the queue sink's
    /// settings: the baseline an export to the queue is measured against.
    Publish(PublishArgs),
    /// Consume a queue predbench filled into a directory of Parquet parts, in
    /// message_id order, dropping duplicates; messages are acknowledged once
    /// the part that holds them is on disk.
    Drain(DrainArgs),
}

/// The value parser of a setting with named values: its library's names,
/// each with its line of help.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(
        T::CHOICES
            .iter()
            .map(|(_, name, help)| PossibleValue::new(*name).help(*help)),
    )
    .map(|name| T::from_name(&name).expect("clap offers the table's names only"))
}

/// What a command that runs as a child of the harness reports, and how loudly.
#[derive(Debug, Clone, Default, PartialEq, Args)]
pub struct Output {
    /// Also write the run's counts (rows, bytes, messages, time) as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `predbench generate`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct GenerateArgs {
    /// Output directory; it appears only when complete (with --shard: the
    /// directory every shard writes into, shared storage on a cluster).
    #[arg(long, required_unless_present = "merge_manifests")]
    pub out: Option<PathBuf>,
    /// Write only shard I of N (0-based): its share of the part files, each
    /// appearing atomically in --out, and a shard manifest; the shard that
    /// completes the set writes _manifest.json. Every shard needs the same
    /// flags (give --batch-rows: its default depends on the machine).
    #[arg(long, value_name = "I/N", conflicts_with = "merge_manifests")]
    pub shard: Option<Shard>,
    /// Write DIR/_manifest.json from the shard manifests of a sharded run (the
    /// last shard does this itself); fails naming the shards not done.
    #[arg(long, value_name = "DIR")]
    pub merge_manifests: Option<PathBuf>,
    /// Number of rows (predictions).
    #[arg(long, default_value_t = 60_000_000)]
    pub rows: u64,
    /// Number of class_* probability columns.
    #[arg(long, default_value_t = 30)]
    pub classes: usize,
    /// Seed of the random streams: the same seed gives the same data.
    #[arg(long, default_value_t = predbench_generator::config::DEFAULT_SEED)]
    pub seed: u64,
    /// Distribution of the probabilities.
    #[arg(long, value_parser = choice::<DistributionKind>(), default_value_t = DistributionKind::Uniform)]
    pub distribution: DistributionKind,
    /// Dirichlet concentration: small (0.1) gives peaked rows, large gives flat rows.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Fraction of class values that are null.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub null_rate: f64,
    /// Fraction of class values that are NaN.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub nan_rate: f64,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rows generated and encoded per unit of work [default: from --memory-budget].
    #[arg(long)]
    pub batch_rows: Option<u64>,
    /// Maximum rows per Parquet row group [default: --batch-rows].
    #[arg(long)]
    pub row_group_rows: Option<u64>,
    /// Rows per part file (the seed wrote 2,000,000).
    #[arg(long, default_value_t = predbench_generator::config::DEFAULT_FILE_ROWS)]
    pub file_rows: u64,
    /// Peak memory to stay under, e.g. 512MB or 4GB [default: 1.5GB, or half the available memory if less].
    #[arg(long, value_parser = parse_size_arg)]
    pub memory_budget: Option<u64>,
    /// Page compression.
    #[arg(long, value_parser = choice::<Compression>(), default_value_t = Compression::Snappy)]
    pub compression: Compression,
    /// Encoding of the class_* columns.
    #[arg(long, value_parser = choice::<FloatEncoding>(), default_value_t = FloatEncoding::Plain)]
    pub float_encoding: FloatEncoding,
    /// Type of the class_* columns.
    #[arg(long, value_parser = choice::<ClassType>(), default_value_t = ClassType::Float64)]
    pub class_type: ClassType,
    /// Replace the output directory if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: Output,
}

/// Flags of `predbench export`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct ExportArgs {
    /// A Parquet file or a directory of them (files named _* or .* are skipped).
    #[arg(long)]
    pub input: PathBuf,
    /// How to do it.
    #[arg(long, value_parser = choice::<Strategy>(), default_value_t = Strategy::Rayon)]
    pub strategy: Strategy,
    /// Which rows share a message: modulo (the seed's, members G rows apart),
    /// contiguous (K neighbours), or packed (as many neighbours as fit under
    /// --max-message-bytes).
    #[arg(long, value_parser = choice::<Grouping>(), default_value_t = Grouping::Modulo)]
    pub grouping: Grouping,
    /// Predictions per message, K.
    #[arg(long, default_value_t = 10)]
    pub group_size: u64,
    /// Where messages go: null, parquet:PATH, ndjson:PATH, a RabbitMQ queue
    /// amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME, declared durable (add
    /// &queue_type=quorum for a quorum queue), or ?exchange=X&routing_key=R;
    /// or a Kafka topic kafka://HOST:PORT/TOPIC, made if need be (add
    /// ?partitions=N, &compression=lz4|zstd|..., &group=NAME for drain).
    #[arg(long, default_value = "null")]
    pub sink: String,
    /// Queue sink: messages published and not yet confirmed by the broker, at
    /// most (for Kafka, the producer's queue.buffering.max.messages).
    #[arg(long, default_value_t = 1024)]
    pub confirm_window: usize,
    /// The queue's payload limit (SQS 256 KiB, Kafka 1 MiB by default), e.g.
    /// 256KiB: a message larger than this is an error naming its group; with
    /// --grouping packed, the size messages are packed to.
    #[arg(long, value_parser = parse_size_arg)]
    pub max_message_bytes: Option<u64>,
    /// Queue sink: record here the group below which every message is confirmed.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Queue sink: go on from --checkpoint after a crash or a kill; only the
    /// unconfirmed messages of the window are published again (same message_id).
    #[arg(long, requires = "checkpoint")]
    pub resume: bool,
    /// Queue sink: how long to keep reconnecting after losing the broker (for
    /// Kafka, how long a record may stay unconfirmed), in seconds.
    #[arg(long, default_value_t = 60)]
    pub retry_seconds: u64,
    /// Page compression of the Parquet sink. lz4 (LZ4_RAW) by default: on this
    /// JSON it is the fastest to write; zstd writes the fewest bytes; snappy
    /// is Spark's default.
    #[arg(long, value_parser = choice::<Compression>(), default_value_t = Compression::Lz4)]
    pub compression: Compression,
    /// Null fields.
    #[arg(long, value_parser = choice::<NullMode>(), default_value_t = NullMode::Omit)]
    pub nulls: NullMode,
    /// NaN and infinities.
    #[arg(long, value_parser = choice::<NonFiniteMode>(), default_value_t = NonFiniteMode::String)]
    pub non_finite: NonFiniteMode,
    /// The session time zone timestamps with a zone are written in, as Spark's
    /// spark.sql.session.timeZone: UTC, an offset (+05:30), a region
    /// (Europe/Paris), or local (the machine's zone: Spark's default).
    #[arg(long, value_parser = SessionTimeZone::parse, default_value = "local")]
    pub time_zone: SessionTimeZone,
    /// How floats and doubles are spelled; the same values either way.
    #[arg(long, value_parser = choice::<NumberFormat>(), default_value_t = NumberFormat::Shortest)]
    pub number_format: NumberFormat,
    /// Row encoder.
    #[arg(long, value_parser = choice::<EncoderChoice>(), default_value_t = EncoderChoice::Auto)]
    pub encoder: EncoderChoice,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rows per unit of work (whole groups); `rayon` holds threads + 2 chunks.
    #[arg(long, default_value_t = predbench_exporter::strategy::DEFAULT_CHUNK_ROWS)]
    pub chunk_rows: u64,
    /// Memory window-sort may use before spilling to disk, e.g. 512MB or 4GB.
    #[arg(long, value_parser = parse_size_arg, default_value = "4GB")]
    pub memory_budget: u64,
    /// Where window-sort spills [default: the system temporary directory].
    #[arg(long)]
    pub spill_dir: Option<PathBuf>,
    /// Decode on a thread per cursor (K for modulo) instead of on the thread
    /// that reads (needed past ~6 cores, where one decoding thread stops rayon).
    #[arg(long, value_parser = choice::<DecodeAhead>(), default_value_t = DecodeAhead::Auto)]
    pub decode_ahead: DecodeAhead,
    /// Read and decode the groups in message order as the strategies do, on
    /// --threads workers, and encode nothing: the reader's rate alone (the
    /// ceiling of every strategy). Takes --sink null only.
    #[arg(long)]
    pub decode_only: bool,
    /// Export only shard I of N (0-based): groups [I*G/N, (I+1)*G/N) in message
    /// order. With parquet:DIR the shard writes DIR/part-IIIII.parquet and a record
    /// DIR/_shard-IIIII-of-NNNNN.json; read in name order, the parts are the
    /// one-machine export message for message. rayon or single-thread only;
    /// packed grouping exports shard 0 only (the first 1/N of the rows, packed:
    /// the whole export's first messages, the last cut at the share's end).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: Output,
}

/// Flags of `predbench verify`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct VerifyArgs {
    /// The dataset that was exported.
    #[arg(long)]
    pub input: PathBuf,
    /// The export: a Parquet file of messages, a directory of Parquet part files
    /// (Spark's output), an NDJSON file, or a queue amqp://...?queue=NAME, which
    /// is drained (consumed) into a temporary file first.
    #[arg(long)]
    pub messages: PathBuf,
    /// The grouping the export used.
    #[arg(long, value_parser = choice::<Grouping>(), default_value_t = Grouping::Modulo)]
    pub grouping: Grouping,
    /// Predictions per message, K.
    #[arg(long, default_value_t = 10)]
    pub group_size: u64,
    /// Every message must be at most this many bytes, e.g. 256KiB; with
    /// --grouping packed, the budget the export was packed to (every message
    /// must also be full: the next prediction would not have fit).
    #[arg(long, value_parser = parse_size_arg)]
    pub max_message_bytes: Option<u64>,
    /// Check completeness and values only (for exports numbered differently:
    /// Spark, Sail).
    #[arg(long, conflicts_with = "any_message_order")]
    pub any_grouping: bool,
    /// Check the groups of --grouping, members in order, in any message order
    /// (for exports numbered as predbench does that write their messages in
    /// their own order: DuckDB, Polars, chDB).
    #[arg(long)]
    pub any_message_order: bool,
    /// Column that identifies a prediction, for --any-grouping.
    #[arg(long, default_value = "id_client")]
    pub id_column: String,
    /// How the export wrote NaN and infinities.
    #[arg(long, value_parser = choice::<NonFiniteMode>(), default_value_t = NonFiniteMode::String)]
    pub non_finite: NonFiniteMode,
    /// The session time zone the export wrote timestamps with a zone in.
    #[arg(long, value_parser = SessionTimeZone::parse, default_value = "local")]
    pub time_zone: SessionTimeZone,
    /// How many problems to print.
    #[arg(long, default_value_t = 10)]
    pub max_problems: usize,
    /// Worker threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Flags of `predbench publish`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct PublishArgs {
    /// A Parquet file (or directory of parts) whose first column holds the messages.
    #[arg(long)]
    pub messages: PathBuf,
    /// The queue: amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME, or a Kafka topic
    /// kafka://HOST:PORT/TOPIC.
    #[arg(long)]
    pub sink: String,
    /// Messages published and not yet confirmed by the broker, at most.
    #[arg(long, default_value_t = 1024)]
    pub confirm_window: usize,
    /// Publish the messages this many times over, message_id going on from
    /// one pass to the next: the broker's ceiling for N times the messages
    /// without N times the disk (a tenth of 60M rows' messages, 10 times).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub repeat: u64,
    #[command(flatten)]
    pub output: Output,
}

/// Flags of `predbench drain`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct DrainArgs {
    /// The queue: amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME, or a Kafka topic
    /// kafka://HOST:PORT/TOPIC (read by its consumer group, &group=NAME).
    #[arg(long)]
    pub from: String,
    /// The directory the messages go to, as Parquet parts (part-00000.parquet,
    /// ...) committed one by one, with the drain's progress in _drain.json; an
    /// unfinished drain's directory is gone on from.
    #[arg(long)]
    pub messages: PathBuf,
    /// message_id (group) of the first message expected.
    #[arg(long, default_value_t = 0)]
    pub first_group: u64,
    /// The export's last message_id, when known: the drain stops once it is
    /// written (else when the queue is empty with --until-empty, or after
    /// --idle-seconds without a message).
    #[arg(long)]
    pub last_group: Option<u64>,
    /// Stop once the queue is empty: for a queue whose publisher is done (the
    /// broker stops delivering, and every message it had sent is written).
    #[arg(long)]
    pub until_empty: bool,
    /// Stop after this many seconds without a message.
    #[arg(long, default_value_t = 5)]
    pub idle_seconds: u64,
    /// Messages delivered and not yet acknowledged, in bytes, about at most
    /// (the prefetch window is this over the first message's size), e.g. 128MiB.
    #[arg(long, value_parser = parse_size_arg, default_value = "128MiB")]
    pub window_bytes: u64,
    /// Bytes of messages a part holds before it is committed and its messages
    /// acknowledged, e.g. 64MiB.
    #[arg(long, value_parser = parse_size_arg, default_value = "64MiB")]
    pub part_bytes: u64,
    /// Page compression of the parts. none by default: the parts are a copy
    /// to check, and on two cores compressing them takes as much CPU as the
    /// rest of the drain, so a drain that compresses falls behind the
    /// publisher; lz4 or zstd where disk is short (a 60M-row drain).
    #[arg(long, value_parser = choice::<Compression>(), default_value_t = Compression::None)]
    pub compression: Compression,
    /// Replace an output directory that is not a drain's.
    #[arg(long)]
    pub force: bool,
    /// Write messages as they come, not in message_id order, dropping
    /// duplicates by the set of ids seen (one bit per group, kept in
    /// _drain.json): for a queue published out of order by more than the
    /// window, such as Spark's tasks publishing side by side.
    #[arg(long)]
    pub any_order: bool,
    #[command(flatten)]
    pub output: Output,
}

/// Parses sizes such as `512MB` for clap.
pub fn parse_size_arg(text: &str) -> Result<u64, String> {
    predbench_common::units::parse_size(text)
}
