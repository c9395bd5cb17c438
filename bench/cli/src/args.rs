//! The flags of every subcommand as the user types them (parsed by clap).
//! `convert` turns them into the library's settings and `argv` turns them
//! back into command lines for child processes.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use predbench_exporter::message::SessionTimeZone;

/// Flags of `predbench publish`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct PublishArgs {
    /// A Parquet file (or directory of parts) whose first column holds the messages.
    #[arg(long)]
    pub messages: PathBuf,
    /// The queue: amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME.
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
    /// Also write the run's counts as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `predbench drain`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct DrainArgs {
    /// The queue: amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME.
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
    /// written (else after --idle-seconds without a message).
    #[arg(long)]
    pub last_group: Option<u64>,
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
    #[arg(long, value_enum, default_value_t = CompressionArg::None)]
    pub compression: CompressionArg,
    /// Replace an output directory that is not a drain's.
    #[arg(long)]
    pub force: bool,
    /// Write messages as they come, not in message_id order, dropping
    /// duplicates by the set of ids seen (one bit per group, kept in
    /// _drain.json): for a queue published out of order by more than the
    /// window, such as Spark's tasks publishing side by side.
    #[arg(long)]
    pub any_order: bool,
    /// Also write the run's counts as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `predbench compare`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct CompareArgs {
    /// Dataset sizes, comma-separated; k, M and G multiply by 1e3, 1e6, 1e9 (e.g. 1M,6M,60M).
    #[arg(long, value_delimiter = ',', value_parser = parse_count_arg, default_value = "1M,3M")]
    pub rows: Vec<u64>,
    /// Runs of every configuration (the report shows their median and spread).
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// Strategies to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "single-thread,rayon,window-sort"
    )]
    pub strategies: Vec<StrategyArg>,
    /// Groupings to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "modulo,contiguous"
    )]
    pub groupings: Vec<GroupingArg>,
    /// Sinks to measure; file outputs go to --data-dir and are deleted after each run.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "null,parquet"
    )]
    pub sinks: Vec<SinkKindArg>,
    /// Predictions per message, K.
    #[arg(long, default_value_t = 10)]
    pub group_size: u64,
    /// Worker threads of every child [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// --memory-budget of the exports (window-sort spills past it), e.g. 1GB.
    #[arg(long, value_parser = parse_size_arg, default_value = "4GB")]
    pub memory_budget: u64,
    /// Seed of the datasets.
    #[arg(long, default_value_t = predbench_generator::config::DEFAULT_SEED)]
    pub seed: u64,
    /// Where datasets, outputs and spills go; a dataset whose manifest matches is reused.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Where the session's records.json and logs go (in a compare-<time> directory).
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Do not measure the generator (the dataset is still generated when missing).
    #[arg(long)]
    pub skip_generate: bool,
    /// Do not measure the disk's write speed.
    #[arg(long)]
    pub skip_disk_floor: bool,
    /// Do not run children under /usr/bin/time -v (it cross-checks the harness's wall time).
    #[arg(long)]
    pub no_time_check: bool,
    /// Delete the datasets when done.
    #[arg(long)]
    pub clean: bool,
    /// Also run the peers (scripts/peers/), comma-separated, or all of them when
    /// given alone: seed-generator, pyspark-seed, pyspark-window, spark-jvm, duckdb, polars,
    /// predbench-on-spark (predbench's shards run by Spark on local-cluster[THREADS,1,1024]).
    #[arg(long, value_delimiter = ',', num_args = 0..=1, default_missing_value = "all")]
    pub peers: Option<Vec<String>>,
    /// What every exporter runs on: predbench (made by `predbench generate`), seed
    /// (made by the seed's generator: pandas files, no extension, dictionary pages),
    /// or the path of an existing dataset (--rows is then ignored).
    #[arg(long, default_value = "predbench")]
    pub dataset: String,
    /// Type of the class columns of predbench's own tables: float64 (the seed's)
    /// or float32 (what PyTorch and ONNX models emit).
    #[arg(long, value_enum, default_value_t = ClassTypeArg::Float64)]
    pub class_type: ClassTypeArg,
    /// The peers' Python venv (made by scripts/setup-peers.sh).
    #[arg(long, env = "PREDBENCH_PEERS_VENV", default_value = ".venv-peers")]
    pub peers_venv: PathBuf,
    /// Where the peers' scripts are.
    #[arg(long, default_value = "scripts/peers")]
    pub peers_dir: PathBuf,
    /// spark.driver.memory of the Spark peers (the seed gave its jobs 12G).
    #[arg(long, default_value = "12g")]
    pub spark_driver_memory: String,
    /// Also measure the way past one machine: the export's shards run one after
    /// another (`--shard I/N`, rayon, modulo, Parquet) for every count of
    /// --scale-out-shards, to simulate N machines; and the reader's ceiling
    /// (`export --decode-only`) against the encoders' rate, on 1 thread and on all.
    #[arg(long)]
    pub scale_out: bool,
    /// The broker of `--sinks amqp` (each configuration gets a queue of its
    /// own, deleted after every run).
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    pub amqp: String,
    /// The payload budget of `--groupings packed`: messages hold as many
    /// predictions as fit under it (SQS 256 KiB, Kafka 1 MiB).
    #[arg(long, value_parser = parse_size_arg, default_value = "256KiB")]
    pub max_message_bytes: u64,
    /// Publisher-confirm windows `--sinks amqp` measures.
    #[arg(long, value_delimiter = ',', default_value = "1024")]
    pub confirm_windows: Vec<usize>,
    /// Queue types `--sinks amqp` measures predbench's exports and baselines
    /// on (classic is the broker's default and is not declared; quorum is
    /// declared with x-queue-type); the delivery peers use classic.
    #[arg(long, value_delimiter = ',', default_value = "classic")]
    pub queue_types: Vec<QueueTypeArg>,
    /// After the measured runs, run every publisher to a classic queue once more
    /// (predbench's exports and the delivery peers) with the broker restarted
    /// half way through its median time by this command, e.g. "bash
    /// scripts/rabbitmq.sh restart"; each queue is drained and verified, and
    /// the report counts the messages lost and duplicated.
    #[arg(long, value_name = "COMMAND")]
    pub restart_broker: Option<String>,
    /// Run each queue's drain beside its publisher (from the queue's first
    /// message, until 10 s pass without one) instead of after it: the queue
    /// stays shallow, as production runs it, and a table larger than the
    /// broker's disk can be delivered (60M rows at K = 10 are about 56 GB).
    /// Fault runs still drain after.
    #[arg(long)]
    pub drain_beside: bool,
    /// Run the peers only this many times (in the first rounds), when they
    /// are too slow for --runs; their medians are then of fewer runs, and the
    /// report says how many [default: --runs].
    #[arg(long)]
    pub peer_runs: Option<u32>,
    /// Do not publish the queue exports' messages pre-serialized beside them
    /// (the baselines need the messages on disk first: 60M rows at K = 10 are
    /// about 56 GB of JSON).
    #[arg(long)]
    pub skip_baselines: bool,
    /// The baselines publish the messages of 1/N of the rows (`export --shard
    /// 0/N`), N times over: as many messages as the export's, with a tenth of
    /// the disk at N = 10 (what lets 60M rows have a baseline). With
    /// --drain-beside, the baselines' queues are drained beside them too.
    /// Packed, whose shard 0 is the only one it can export, publishes the
    /// messages of the first 1/N of the rows N times.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub baseline_passes: u64,
    /// Page compression of the drains' parts (zstd when the disk is short).
    #[arg(long, value_enum, default_value_t = CompressionArg::None)]
    pub drain_compression: CompressionArg,
    /// Shard counts of --scale-out.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    pub scale_out_shards: Vec<u64>,
    /// Do not check the peers' handling of NaN and nulls on a small table.
    #[arg(long)]
    pub skip_edge_cases: bool,
    /// Do not verify outputs (by default the first run of every configuration that
    /// writes a file is checked with `predbench verify`).
    #[arg(long)]
    pub no_verify: bool,
    /// Kill a peer's run after this many seconds and record it as timed out
    /// (e.g. 1800); predbench's own runs are never cut short.
    #[arg(long, value_name = "SECONDS")]
    pub peer_timeout: Option<u64>,
    /// Print every planned configuration and its command line, run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--sinks` of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SinkKindArg {
    /// Discard the messages, count them.
    Null,
    /// A Parquet file of messages.
    Parquet,
    /// An NDJSON file of messages.
    Ndjson,
    /// A RabbitMQ queue (--amqp), beside a baseline that publishes the same
    /// messages already serialized.
    Amqp,
}

/// `--queue-types` of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueTypeArg {
    /// RabbitMQ's default: one node holds the messages.
    Classic,
    /// Raft-replicated (one node here), declared with x-queue-type.
    Quorum,
}

/// Flags of `predbench report`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct ReportArgs {
    /// Directory searched for records.json files written by `compare` (and
    /// criterion.json files written by --import-criterion).
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// The Markdown report; its appendix (APPENDIX.md) and charts (charts/)
    /// go beside it.
    #[arg(long, default_value = "results/REPORT.md")]
    pub out: PathBuf,
    /// A Markdown file whose block between `<!-- predbench report: begin -->`
    /// and `<!-- predbench report: end -->` is replaced by the verdict and
    /// the decision tables; left alone when it has no such block.
    #[arg(long, default_value = "README.md")]
    pub readme: PathBuf,
    /// First record the latest `cargo bench` estimates found in this criterion
    /// directory (e.g. target/criterion) under --results, with the commit and
    /// the machine, so the report can show them.
    #[arg(long, value_name = "DIR")]
    pub import_criterion: Option<PathBuf>,
}

/// Flags of `predbench export`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct ExportArgs {
    /// A Parquet file or a directory of them (files named _* or .* are skipped).
    #[arg(long)]
    pub input: PathBuf,
    /// How to do it.
    #[arg(long, value_enum, default_value_t = StrategyArg::Rayon)]
    pub strategy: StrategyArg,
    /// Which rows share a message: modulo (the seed's, members G rows apart),
    /// contiguous (K neighbours), or packed (as many neighbours as fit under
    /// --max-message-bytes).
    #[arg(long, value_enum, default_value_t = GroupingArg::Modulo)]
    pub grouping: GroupingArg,
    /// Predictions per message, K.
    #[arg(long, default_value_t = 10)]
    pub group_size: u64,
    /// Where messages go: null, parquet:PATH, ndjson:PATH, or a RabbitMQ queue
    /// amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME, declared durable (add
    /// &queue_type=quorum for a quorum queue), or ?exchange=X&routing_key=R.
    #[arg(long, default_value = "null")]
    pub sink: String,
    /// Queue sink: messages published and not yet confirmed by the broker, at most.
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
    /// Queue sink: how long to keep reconnecting after losing the broker, in seconds.
    #[arg(long, default_value_t = 60)]
    pub retry_seconds: u64,
    /// Page compression of the Parquet sink. lz4 (LZ4_RAW) by default: on this
    /// JSON it takes 30% less time than snappy (Spark's default) for 11% more
    /// bytes; zstd writes 40% fewer bytes than snappy in about its time.
    #[arg(long, value_enum, default_value_t = CompressionArg::Lz4)]
    pub compression: CompressionArg,
    /// Null fields: omit (Spark's default) or explicit.
    #[arg(long, value_enum, default_value_t = NullsArg::Omit)]
    pub nulls: NullsArg,
    /// NaN and infinities: string ("NaN", as Spark), null (as Polars) or error.
    #[arg(long, value_enum, default_value_t = NonFiniteArg::String)]
    pub non_finite: NonFiniteArg,
    /// The session time zone timestamps with a zone are written in, as Spark's
    /// spark.sql.session.timeZone: UTC, an offset (+05:30), a region
    /// (Europe/Paris), or local (the machine's zone: Spark's default).
    #[arg(long, value_parser = SessionTimeZone::parse, default_value = "local")]
    pub time_zone: SessionTimeZone,
    /// How floats and doubles are spelled: shortest (Rust's shortest round-trip
    /// form, 1e-5) or java (Java 19+'s Double.toString, 1.0E-5: Spark's bytes on
    /// Java 21). The same values either way.
    #[arg(long, value_enum, default_value_t = NumberFormatArg::Shortest)]
    pub number_format: NumberFormatArg,
    /// Row encoder: auto (fast path for Utf8 + Float64) or arrow-json (the reference).
    #[arg(long, value_enum, default_value_t = EncoderArg::Auto)]
    pub encoder: EncoderArg,
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
    /// that reads: on (needed past ~6 cores, where one decoding thread stops
    /// rayon), off, or auto (on above 4 threads).
    #[arg(long, value_enum, default_value_t = DecodeAheadArg::Auto)]
    pub decode_ahead: DecodeAheadArg,
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
    pub shard: Option<predbench_common::Shard>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Also write the run's counts (rows, bytes, messages, time) as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
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
    #[arg(long, value_enum, default_value_t = GroupingArg::Modulo)]
    pub grouping: GroupingArg,
    /// Predictions per message, K.
    #[arg(long, default_value_t = 10)]
    pub group_size: u64,
    /// Every message must be at most this many bytes, e.g. 256KiB; with
    /// --grouping packed, the budget the export was packed to (every message
    /// must also be full: the next prediction would not have fit).
    #[arg(long, value_parser = parse_size_arg)]
    pub max_message_bytes: Option<u64>,
    /// Check completeness and values only (for exports numbered differently: DuckDB, Polars, Spark).
    #[arg(long)]
    pub any_grouping: bool,
    /// Column that identifies a prediction, for --any-grouping.
    #[arg(long, default_value = "id_client")]
    pub id_column: String,
    /// How the export wrote NaN and infinities.
    #[arg(long, value_enum, default_value_t = NonFiniteArg::String)]
    pub non_finite: NonFiniteArg,
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

/// `--strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// One thread, streaming.
    SingleThread,
    /// Parallel encoding on a rayon pool, order preserved.
    Rayon,
    /// Global sort as the knowledge-base window does; spills past --memory-budget.
    WindowSort,
}

/// `--decode-ahead`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecodeAheadArg {
    /// Above 4 worker threads.
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

/// `--grouping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupingArg {
    /// G = N / K + 1 groups, row s in group s mod G (the seed's).
    Modulo,
    /// Row s in group s / K.
    Contiguous,
    /// Consecutive rows, as many per message as fit under --max-message-bytes.
    Packed,
}

/// `--nulls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NullsArg {
    /// Leave null fields out.
    Omit,
    /// Write "column":null.
    Explicit,
}

/// `--non-finite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NonFiniteArg {
    /// "NaN", "Infinity", "-Infinity".
    String,
    /// null.
    Null,
    /// Fail naming the column and row.
    Error,
}

/// `--number-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NumberFormatArg {
    /// Shortest round-trip form, as Rust writes it (1e-5).
    Shortest,
    /// Java's Double.toString, JDK 19 and newer (1.0E-5).
    Java,
}

/// `--encoder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EncoderArg {
    /// The fast path where it applies.
    Auto,
    /// arrow-json always.
    ArrowJson,
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
    pub shard: Option<predbench_common::Shard>,
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
    /// Distribution of the probabilities: uniform (the seed's) or dirichlet (rows sum to 1).
    #[arg(long, value_enum, default_value_t = DistributionArg::Uniform)]
    pub distribution: DistributionArg,
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
    #[arg(long, value_enum, default_value_t = CompressionArg::Snappy)]
    pub compression: CompressionArg,
    /// Encoding of the class_* columns.
    #[arg(long, value_enum, default_value_t = FloatEncodingArg::Plain)]
    pub float_encoding: FloatEncodingArg,
    /// Type of the class_* columns: float64 (the seed's) or float32 (what
    /// PyTorch and ONNX models emit; the same draws rounded to float).
    #[arg(long, value_enum, default_value_t = ClassTypeArg::Float64)]
    pub class_type: ClassTypeArg,
    /// Replace the output directory if it exists.
    #[arg(long)]
    pub force: bool,
    /// Also write the run's counts (rows, bytes, time) as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--distribution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DistributionArg {
    /// Independent uniform [0, 1) values, as the seed's numpy script.
    Uniform,
    /// Symmetric Dirichlet(alpha): rows sum to 1 like a softmax.
    Dirichlet,
}

/// `--compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    /// Snappy (pandas' and Spark's default).
    Snappy,
    /// Zstandard level 1.
    Zstd,
    /// LZ4 raw.
    Lz4,
    /// Uncompressed.
    None,
}

/// `--class-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassTypeArg {
    /// Doubles.
    Float64,
    /// Floats.
    Float32,
}

/// `--float-encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FloatEncodingArg {
    /// Plain doubles.
    Plain,
    /// Byte-stream-split.
    ByteStreamSplit,
}

/// Parses counts such as `6000000`, `6M` or `500k` for clap.
pub fn parse_count_arg(text: &str) -> Result<u64, String> {
    let trimmed = text.trim().replace('_', "");
    let (digits, multiplier) = match trimmed.char_indices().last() {
        Some((index, 'k' | 'K')) => (&trimmed[..index], 1_000),
        Some((index, 'm' | 'M')) => (&trimmed[..index], 1_000_000),
        Some((index, 'g' | 'G')) => (&trimmed[..index], 1_000_000_000),
        _ => (trimmed.as_str(), 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(multiplier))
        .ok_or_else(|| format!("'{text}' is not a count such as 6000000, 6M or 500k"))
}

/// Parses sizes such as `512MB` for clap.
pub fn parse_size_arg(text: &str) -> Result<u64, String> {
    predbench_common::units::parse_size(text)
}
