//! The harness's flags: `compare`'s, grouped by what they are about (the
//! exports, the peers, the delivery to a queue, past one machine), and
//! `report`'s. Settings with named values are the libraries' own types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use predbench::args::{choice, parse_size_arg};
use predbench_exporter::queue::QueueType;
use predbench_exporter::{Grouping, Strategy};
use predbench_generator::{ClassType, Compression};

use crate::record::SinkKind;

/// Measure predbench against what people use today, as child processes on
/// the same files, record every run, and render the report a design review
/// reads.
#[derive(Debug, Parser)]
#[command(name = "predbench-harness", version, about, max_term_width = 100)]
pub struct Harness {
    /// What to do.
    #[command(subcommand)]
    pub command: HarnessCommand,
}

/// The harness's commands.
#[derive(Debug, Subcommand)]
pub enum HarnessCommand {
    /// Measure every strategy, grouping and sink as child processes, next to the
    /// generator, the peers and the disk's write speed; record each run as JSON
    /// under --results.
    Compare(Box<CompareArgs>),
    /// Render results/REPORT.md, its appendix and charts, and the README's
    /// results block from the recorded runs alone.
    Report(ReportArgs),
}

/// Flags of `predbench-harness compare`.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct CompareArgs {
    /// Dataset sizes, comma-separated; k, M and G multiply by 1e3, 1e6, 1e9 (e.g. 1M,6M,60M).
    #[arg(long, value_delimiter = ',', value_parser = parse_count_arg, default_value = "1M,3M")]
    pub rows: Vec<u64>,
    /// Runs of every configuration (the report shows their median and spread).
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// Strategies to measure.
    #[arg(long, value_parser = choice::<Strategy>(), value_delimiter = ',',
        default_values_t = Strategy::ALL)]
    pub strategies: Vec<Strategy>,
    /// Groupings to measure.
    #[arg(long, value_parser = choice::<Grouping>(), value_delimiter = ',',
        default_values_t = [Grouping::Modulo, Grouping::Contiguous])]
    pub groupings: Vec<Grouping>,
    /// Sinks to measure; file outputs go to --data-dir and are deleted after each run.
    #[arg(long, value_parser = choice::<SinkKind>(), value_delimiter = ',',
        default_values_t = [SinkKind::Null, SinkKind::Parquet])]
    pub sinks: Vec<SinkKind>,
    /// Predictions per message, K.
    #[arg(long, default_value_t = 10)]
    pub group_size: u64,
    /// The payload budget of `--groupings packed`: messages hold as many
    /// predictions as fit under it (SQS 256 KiB, Kafka 1 MiB).
    #[arg(long, value_parser = parse_size_arg, default_value = "256KiB")]
    pub max_message_bytes: u64,
    /// Worker threads of every child [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// The page compression every exporter that writes Parquet writes with
    /// (predbench, Spark, DuckDB, Polars, chDB, Sail), to compare them at
    /// equal output [default: each one's own: predbench lz4, Spark and DuckDB
    /// snappy, Polars, chDB and Sail zstd].
    #[arg(long, value_parser = choice::<Compression>())]
    pub output_codec: Option<Compression>,
    /// --memory-budget of the exports (window-sort spills past it), e.g. 1GB.
    #[arg(long, value_parser = parse_size_arg, default_value = "4GB")]
    pub memory_budget: u64,
    /// Seed of the datasets.
    #[arg(long, default_value_t = predbench_generator::config::DEFAULT_SEED)]
    pub seed: u64,
    /// What every exporter runs on: predbench (made by `predbench generate`), seed
    /// (made by the seed's generator: pandas files, no extension, dictionary pages),
    /// or the path of an existing dataset (--rows is then ignored).
    #[arg(long, default_value = "predbench")]
    pub dataset: String,
    /// Type of the class columns of predbench's own tables.
    #[arg(long, value_parser = choice::<ClassType>(), default_value_t = ClassType::Float64)]
    pub class_type: ClassType,
    /// Where datasets, outputs and spills go; a dataset whose manifest matches is reused.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Where the session's records.json and logs go (in a compare-<time> directory).
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// The predbench command the runs use [default: `predbench` beside this
    /// program, as `cargo build` puts it]; a wheel's `predbench` works too.
    #[arg(long, env = "PREDBENCH_BIN", value_name = "PATH")]
    pub predbench: Option<PathBuf>,
    /// Do not measure the generator (the dataset is still generated when missing).
    #[arg(long)]
    pub skip_generate: bool,
    /// Do not measure the disk's write speed.
    #[arg(long)]
    pub skip_disk_floor: bool,
    /// Do not check the peers' handling of NaN and nulls on a small table.
    #[arg(long)]
    pub skip_edge_cases: bool,
    /// Do not verify outputs (by default the first run of every configuration that
    /// writes a file is checked with `predbench verify`).
    #[arg(long)]
    pub no_verify: bool,
    /// Do not run children under /usr/bin/time -v (it cross-checks the harness's wall time).
    #[arg(long)]
    pub no_time_check: bool,
    /// Delete the datasets when done.
    #[arg(long)]
    pub clean: bool,
    /// Print every planned run and its command line, run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub peers: PeerArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    #[command(flatten)]
    pub scale_out: ScaleOutArgs,
    #[command(flatten)]
    pub memory_study: MemoryStudyArgs,
}

/// The peers: what people use today, run beside predbench.
#[derive(Debug, Clone, PartialEq, Args)]
#[command(next_help_heading = "Peers")]
pub struct PeerArgs {
    /// Also run the peers (scripts/peers/), comma-separated, or all of them when
    /// given alone: seed-generator, pyspark-seed, pyspark-window, spark-jvm, duckdb, polars,
    /// predbench-on-spark (predbench's shards run by Spark on local-cluster[THREADS,1,1024]).
    #[arg(long = "peers", value_delimiter = ',', num_args = 0..=1, default_missing_value = "all")]
    pub names: Option<Vec<String>>,
    /// The peers' Python venv, made once per machine by scripts/setup-peers.sh
    /// (its `-sail` and `-pandas3` venvs beside it).
    #[arg(long, env = "PREDBENCH_PEERS_VENV", default_value_os_t = crate::machine::default_peers_venv())]
    pub peers_venv: PathBuf,
    /// Where the peers' scripts are.
    #[arg(long, default_value = "scripts/peers")]
    pub peers_dir: PathBuf,
    /// spark.driver.memory of the Spark peers (the seed gave its jobs 12G).
    #[arg(long, default_value = "12g")]
    pub spark_driver_memory: String,
    /// Run the peers only this many times (in the first rounds), when they
    /// are too slow for --runs; their medians are then of fewer runs, and the
    /// report says how many [default: --runs].
    #[arg(long)]
    pub peer_runs: Option<u32>,
    /// Kill a peer's run after this many seconds and record it as timed out
    /// (e.g. 1800); predbench's own runs are never cut short.
    #[arg(long, value_name = "SECONDS")]
    pub peer_timeout: Option<u64>,
}

/// Delivery to a queue (`--sinks amqp`, `--sinks kafka`).
#[derive(Debug, Clone, PartialEq, Args)]
#[command(next_help_heading = "Delivery to a queue")]
pub struct DeliveryArgs {
    /// The broker of `--sinks amqp` (each configuration gets a queue of its
    /// own, deleted after every run).
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    pub amqp: String,
    /// Publisher-confirm windows `--sinks amqp` measures.
    #[arg(long, value_delimiter = ',', default_value = "1024")]
    pub confirm_windows: Vec<usize>,
    /// Queue types `--sinks amqp` measures predbench's exports and baselines
    /// on (classic is the broker's default and is not declared; quorum is
    /// declared with x-queue-type); the delivery peers use classic.
    #[arg(long, value_parser = choice::<QueueType>(), value_delimiter = ',',
        default_values_t = [QueueType::Classic])]
    pub queue_types: Vec<QueueType>,
    /// After the measured runs, run every publisher to a classic queue once more
    /// (predbench's exports and the delivery peers) with the broker restarted
    /// once the queue holds half the messages its runs delivered, by this
    /// command, e.g. "bash scripts/rabbitmq.sh restart"; each queue is drained
    /// and verified, and the report counts the messages lost and duplicated.
    #[arg(long, value_name = "COMMAND")]
    pub restart_broker: Option<String>,
    /// Run each queue's drain beside its publisher (from the queue's first
    /// message, until 10 s pass without one) instead of after it: the queue
    /// stays shallow, as production runs it, and a table larger than the
    /// broker's disk can be delivered (60M rows at K = 10 are about 56 GB).
    /// Fault runs still drain after.
    #[arg(long)]
    pub drain_beside: bool,
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
    #[arg(long, value_parser = choice::<Compression>(), default_value_t = Compression::None)]
    pub drain_compression: Compression,
    /// The Kafka cluster of `--sinks kafka`: `kafka://HOST:PORT[,HOST:PORT]`
    /// (each configuration gets a topic of its own, deleted after every run).
    #[arg(long, default_value = "kafka://127.0.0.1:9092")]
    pub kafka: String,
    /// Partitions of every topic `--sinks kafka` makes (the message key is
    /// the group, so its drain reads them side by side and puts the groups
    /// back in order).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..))]
    pub kafka_partitions: i32,
    /// The producers' `compression.type` on every topic (none, gzip, snappy,
    /// lz4, zstd), predbench's and the peers' alike. None by default: the
    /// tests' broker (tansu 0.6) takes compressed batches several times
    /// slower than plain ones.
    #[arg(long, default_value = "none")]
    pub kafka_compression: String,
    /// Also export to Kafka with one prediction a record (K = 1, the
    /// producer batching and compressing records itself) beside the packed
    /// messages of K predictions, and publish its baseline.
    #[arg(long)]
    pub kafka_per_prediction: bool,
    /// `--restart-broker` for the Kafka runs: the command that restarts the
    /// Kafka broker half way through each Kafka publisher's fault run, e.g.
    /// "bash scripts/kafka.sh restart".
    #[arg(long, value_name = "COMMAND")]
    pub restart_kafka: Option<String>,
}

/// The way past one machine, measured on this one.
#[derive(Debug, Clone, PartialEq, Args)]
#[command(next_help_heading = "Past one machine")]
pub struct ScaleOutArgs {
    /// Also measure the way past one machine: the export's shards run one after
    /// another (`--shard I/N`, rayon, modulo, Parquet) for every count of
    /// --scale-out-shards, to simulate N machines; and the reader's ceiling
    /// (`export --decode-only`) against the encoders' rate, on 1 thread and on all.
    #[arg(long = "scale-out")]
    pub enabled: bool,
    /// Shard counts of --scale-out.
    #[arg(
        long = "scale-out-shards",
        value_delimiter = ',',
        default_value = "1,2,4,8"
    )]
    pub shards: Vec<u64>,
}

/// What memory buys: predbench's strategies across the knobs that trade
/// memory for time, so a reader finds the fastest configuration under a cap.
#[derive(Debug, Clone, PartialEq, Args)]
#[command(next_help_heading = "Memory study")]
pub struct MemoryStudyArgs {
    /// Also measure time against peak memory (modulo, Parquet): `rayon` on
    /// 1 to all threads at every --study-chunk-rows, `single-thread` at
    /// every --study-chunk-rows, `window-sort` at every --study-memory-budgets
    /// (the smaller ones force it to spill).
    #[arg(long = "memory-study", id = "memory_study")]
    pub enabled: bool,
    /// --chunk-rows of the memory study's `rayon` and `single-thread` runs.
    #[arg(
        long = "study-chunk-rows",
        value_delimiter = ',',
        value_parser = parse_count_arg,
        default_value = "4096,16384,65536"
    )]
    pub chunk_rows: Vec<u64>,
    /// --memory-budget of the memory study's `window-sort` runs.
    #[arg(
        long = "study-memory-budgets",
        value_delimiter = ',',
        value_parser = parse_size_arg,
        default_value = "4GB,1GB,256MB,64MB"
    )]
    pub memory_budgets: Vec<u64>,
}

/// Flags of `predbench-harness report`.
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
