//! Generation parameters, their validation, and the memory-based choice of batch size.

use serde::{Deserialize, Serialize};

use predbench_common::units::format_bytes;

use crate::error::{GeneratorError, Result};

/// The number of rows drawn from one RNG stream. Every block is seeded from
/// `(seed, block index)`, never from the thread count or the batch size, so the
/// data is the same however the work is cut. Changing this constant changes
/// every generated value.
pub const RNG_BLOCK_ROWS: u64 = 4096;

/// How class probabilities are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Distribution {
    /// Each probability independently uniform in [0, 1), as the seed's numpy script does.
    Uniform,
    /// Each row drawn from a symmetric Dirichlet(alpha): rows sum to 1 like a
    /// softmax output. A small alpha (0.1) gives confident, peaked rows; alpha = 1
    /// is uniform over the simplex; a large alpha gives flat rows.
    Dirichlet {
        /// The concentration parameter, strictly positive.
        alpha: f64,
    },
}

/// Page compression codec of the part files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Snappy, the default of pandas and Spark.
    Snappy,
    /// Zstandard at level 1.
    Zstd,
    /// LZ4 (the raw LZ4 codec of the Parquet spec).
    Lz4,
    /// No compression.
    None,
}

/// How the `class_*` columns are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatEncoding {
    /// Plain little-endian doubles.
    Plain,
    /// Byte-stream-split: groups the bytes of each double by position, which
    /// helps the compressor on real-world floats.
    ByteStreamSplit,
}

/// The Arrow type of the `class_*` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClassType {
    /// Doubles, as the seed's numpy wrote them.
    #[default]
    Float64,
    /// Floats, as PyTorch and ONNX models emit scores: the same draws, rounded to float.
    Float32,
}

predbench_common::choice! { Compression:
    Snappy = "snappy", "Snappy (pandas' and Spark's default).";
    Zstd = "zstd", "Zstandard level 1.";
    Lz4 = "lz4", "LZ4 raw.";
    None = "none", "Uncompressed.";
}

predbench_common::choice! { FloatEncoding:
    Plain = "plain", "Plain doubles.";
    ByteStreamSplit = "byte-stream-split", "Byte-stream-split.";
}

predbench_common::choice! { ClassType:
    Float64 = "float64", "Doubles (the seed's).";
    Float32 = "float32", "Floats (what PyTorch and ONNX models emit; the same draws rounded to float).";
}

/// How the probabilities are drawn, by name: [`Distribution`] without its parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistributionKind {
    /// See [`Distribution::Uniform`].
    Uniform,
    /// See [`Distribution::Dirichlet`].
    Dirichlet,
}

predbench_common::choice! { DistributionKind:
    Uniform = "uniform", "Independent uniform [0, 1) values, as the seed's numpy script.";
    Dirichlet = "dirichlet", "Symmetric Dirichlet(alpha): rows sum to 1 like a softmax.";
}

impl DistributionKind {
    /// The distribution of this kind; `alpha` is Dirichlet's concentration
    /// (the uniform distribution has none).
    pub fn with_alpha(self, alpha: f64) -> Distribution {
        match self {
            DistributionKind::Uniform => Distribution::Uniform,
            DistributionKind::Dirichlet => Distribution::Dirichlet { alpha },
        }
    }
}

/// Everything that determines the generated data and the layout of the files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorConfig {
    /// Total number of rows.
    pub rows: u64,
    /// Number of `class_*` columns.
    pub classes: usize,
    /// Seed of every RNG block.
    pub seed: u64,
    /// Distribution of the class probabilities.
    pub distribution: Distribution,
    /// Probability that a class value is null.
    pub null_rate: f64,
    /// Probability that a class value is NaN.
    pub nan_rate: f64,
    /// Rows generated and encoded as one unit of parallel work, held in memory.
    pub batch_rows: u64,
    /// Maximum rows in one Parquet row group (a batch is cut into row groups of this size).
    pub row_group_rows: u64,
    /// Rows per part file, as the seed's one-file-per-batch layout of 2,000,000 rows.
    pub file_rows: u64,
    /// Page compression.
    pub compression: Compression,
    /// Encoding of the float columns.
    pub float_encoding: FloatEncoding,
    /// The type of the class columns (manifests written before it existed: doubles).
    #[serde(default)]
    pub class_type: ClassType,
}

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 42;
/// Rows per part file when none is given: the seed's `BATCH_SIZE`.
pub const DEFAULT_FILE_ROWS: u64 = 2_000_000;

impl GeneratorConfig {
    /// A configuration with the seed's shape (30 uniform classes, no nulls) and
    /// the given size; batch and row-group sizes default to 262,144 rows.
    pub fn new(rows: u64) -> Self {
        GeneratorConfig {
            rows,
            classes: 30,
            seed: DEFAULT_SEED,
            distribution: Distribution::Uniform,
            null_rate: 0.0,
            nan_rate: 0.0,
            batch_rows: 262_144,
            row_group_rows: 262_144,
            file_rows: DEFAULT_FILE_ROWS,
            compression: Compression::Snappy,
            float_encoding: FloatEncoding::Plain,
            class_type: ClassType::Float64,
        }
    }

    /// Checks every parameter, naming the offending command-line flag.
    pub fn validate(&self) -> Result<()> {
        if self.rows == 0 {
            return Err(GeneratorError::invalid("rows", "must be at least 1"));
        }
        if self.classes == 0 {
            return Err(GeneratorError::invalid("classes", "must be at least 1"));
        }
        if self.classes > 100_000 {
            return Err(GeneratorError::invalid("classes", "must be at most 100000"));
        }
        check_rate("null_rate", self.null_rate)?;
        check_rate("nan_rate", self.nan_rate)?;
        if self.null_rate + self.nan_rate > 1.0 {
            return Err(GeneratorError::invalid(
                "nan_rate",
                format!(
                    "`null_rate` {} plus `nan_rate` {} exceeds 1",
                    self.null_rate, self.nan_rate
                ),
            ));
        }
        if let Distribution::Dirichlet { alpha } = self.distribution
            && !(alpha > 0.0 && alpha.is_finite())
        {
            return Err(GeneratorError::invalid(
                "alpha",
                format!("must be a finite number greater than 0, got {alpha}"),
            ));
        }
        for (argument, value) in [
            ("batch_rows", self.batch_rows),
            ("row_group_rows", self.row_group_rows),
            ("file_rows", self.file_rows),
        ] {
            if value == 0 {
                return Err(GeneratorError::invalid(argument, "must be at least 1"));
            }
            if value > i32::MAX as u64 / 64 {
                return Err(GeneratorError::invalid(
                    argument,
                    format!("must be at most {}", i32::MAX as u64 / 64),
                ));
            }
        }
        Ok(())
    }

    /// Approximate bytes one row occupies in an Arrow batch (36-byte id, its
    /// offset, the doubles and their validity bits).
    pub fn arrow_bytes_per_row(&self) -> u64 {
        36 + 4 + 8 * self.classes as u64 + self.classes.div_ceil(8) as u64
    }
}

fn check_rate(argument: &'static str, rate: f64) -> Result<()> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(GeneratorError::invalid(
            argument,
            format!("must be between 0 and 1, got {rate}"),
        ))
    }
}

/// How many batches the pipeline keeps in memory at once for `threads` workers:
/// one being generated or encoded per worker, plus the two that wait for, or
/// are being written by, the single writer.
pub fn batches_in_flight(threads: usize) -> u64 {
    threads as u64 + 2
}

/// A batch size that keeps the whole run under `memory_budget` bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSizing {
    /// The chosen rows per batch.
    pub batch_rows: u64,
    /// A sentence explaining the choice, printed by the CLI.
    pub reason: String,
}

/// Memory set aside for the program itself, the writer's buffer and allocator slack.
pub const FIXED_OVERHEAD_BYTES: u64 = 96 << 20;

/// Chooses rows per batch so that `threads` workers stay within `memory_budget`.
///
/// Each batch in flight holds its Arrow arrays and then its encoded pages
/// (random doubles do not compress, so about the same size again); with
/// [`batches_in_flight`] batches alive, the budget left after
/// [`FIXED_OVERHEAD_BYTES`] is divided among them. The result is rounded down
/// to a multiple of [`RNG_BLOCK_ROWS`], kept between 8,192 and 1,048,576 rows
/// (the Parquet default row-group size) and never above `rows`.
pub fn batch_rows_for_budget(
    memory_budget: u64,
    threads: usize,
    classes: usize,
    rows: u64,
) -> BatchSizing {
    let probe = GeneratorConfig {
        classes,
        ..GeneratorConfig::new(rows)
    };
    let bytes_per_row_in_flight = 2 * probe.arrow_bytes_per_row();
    let in_flight = batches_in_flight(threads);
    let usable = memory_budget.saturating_sub(FIXED_OVERHEAD_BYTES);
    let raw = usable / (in_flight * bytes_per_row_in_flight);
    let rounded = (raw / RNG_BLOCK_ROWS * RNG_BLOCK_ROWS).clamp(8_192, 1 << 20);
    let batch_rows = rounded.min(rows.max(1));
    let reason = format!(
        "memory budget {} minus {} overhead, shared by {} batches in flight ({} threads + 2) \
         at ~{} bytes per row (Arrow arrays + encoded pages), rounded to {} rows and kept within [8192, 1048576]",
        format_bytes(memory_budget),
        format_bytes(FIXED_OVERHEAD_BYTES),
        in_flight,
        threads,
        bytes_per_row_in_flight,
        RNG_BLOCK_ROWS,
    );
    BatchSizing { batch_rows, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_size_fits_budget() {
        let sizing = batch_rows_for_budget(2 << 30, 2, 30, 60_000_000);
        let config = GeneratorConfig::new(1);
        let in_flight_bytes =
            sizing.batch_rows * batches_in_flight(2) * 2 * config.arrow_bytes_per_row();
        assert!(in_flight_bytes + FIXED_OVERHEAD_BYTES <= 2 << 30);
        assert_eq!(sizing.batch_rows % RNG_BLOCK_ROWS, 0);
        // A tiny dataset never gets a batch larger than itself.
        assert_eq!(batch_rows_for_budget(2 << 30, 2, 30, 100).batch_rows, 100);
    }

    #[test]
    fn validation_names_the_flag() {
        let mut config = GeneratorConfig::new(0);
        assert!(config.validate().unwrap_err().to_string().contains("rows"));
        config.rows = 10;
        config.distribution = Distribution::Dirichlet { alpha: 0.0 };
        assert!(config.validate().unwrap_err().to_string().contains("alpha"));
        config.distribution = Distribution::Uniform;
        config.null_rate = 1.5;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("null_rate")
        );
    }
}
