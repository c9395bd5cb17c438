//! Command-line flags as the user types them (parsed by clap); each command
//! validates them into the library's settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Generate ML prediction tables, export them as JSON messages with competing
/// strategies, and measure the trade-offs.
#[derive(Debug, Parser)]
#[command(name = "predbench", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a prediction table as a directory of Parquet part files.
    Generate(GenerateArgs),
}

/// Flags of `predbench generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output directory; it appears only when complete.
    #[arg(long)]
    pub out: PathBuf,
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
    /// Replace the output directory if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--distribution`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DistributionArg {
    /// Independent uniform [0, 1) values, as the seed's numpy script.
    Uniform,
    /// Symmetric Dirichlet(alpha): rows sum to 1 like a softmax.
    Dirichlet,
}

/// `--compression`.
#[derive(Debug, Clone, Copy, ValueEnum)]
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

/// `--float-encoding`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FloatEncodingArg {
    /// Plain doubles.
    Plain,
    /// Byte-stream-split.
    ByteStreamSplit,
}

/// Parses sizes such as `512MB` for clap.
pub fn parse_size_arg(text: &str) -> Result<u64, String> {
    predbench_generator::config::parse_size(text)
}
