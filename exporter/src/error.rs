//! The exporter's error type: every failure names the file, column or row range involved.

use std::path::PathBuf;

/// Everything that can go wrong while reading a dataset, exporting or verifying.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A parameter is outside its allowed range.
    #[error("invalid {argument}: {reason}")]
    InvalidArgument {
        /// The option, e.g. `group_size` (the command line maps it to its flag).
        argument: &'static str,
        /// What is wrong with the given value.
        reason: String,
    },
    /// The input path does not exist.
    #[error("input {0} does not exist")]
    MissingInput(PathBuf),
    /// A directory holds no Parquet file.
    #[error("input directory {0} holds no Parquet file (files starting with _ or . are skipped)")]
    NoParquetFiles(PathBuf),
    /// A file is not Parquet or is damaged.
    #[error("{path} is not a readable Parquet file: {reason}")]
    NotParquet {
        /// The file.
        path: PathBuf,
        /// Why, e.g. "no PAR1 magic at the end (truncated?)".
        reason: String,
    },
    /// Two files of one dataset have different schemas.
    #[error("{file} has a different schema than {first}: {difference}")]
    SchemaMismatch {
        /// The first file of the dataset, whose schema is the reference.
        first: PathBuf,
        /// The first file that differs.
        file: PathBuf,
        /// The first differing column, described.
        difference: String,
    },
    /// The dataset is not the one its manifest, or another shard, describes.
    #[error("{path}: {reason}")]
    DatasetChanged {
        /// The dataset, or the record of the shard that saw it otherwise.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The message queue refused, failed or could not be reached.
    #[error("{target}: {reason}")]
    Amqp {
        /// The broker and queue, without the password.
        target: String,
        /// What went wrong, and what to do where it is known.
        reason: String,
    },
    /// The Kafka broker refused, failed or could not be reached.
    #[error("{target}: {reason}")]
    Kafka {
        /// The brokers and topic.
        target: String,
        /// What went wrong, and what to do where it is known.
        reason: String,
    },
    /// An I/O operation on `path` failed.
    #[error("{action} {path}: {cause}")]
    Io {
        /// What predbench was doing, e.g. "cannot write".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying operating-system error.
        cause: std::io::Error,
    },
    /// The Parquet reader or writer failed.
    #[error("{path} ({location}): {cause}")]
    Parquet {
        /// The file being read or written.
        path: PathBuf,
        /// Where in the file, e.g. "row group 3, rows 3000000..4000000".
        location: String,
        /// The error reported by the `parquet` crate.
        cause: parquet::errors::ParquetError,
    },
    /// An Arrow computation failed.
    #[error("{context}: {cause}")]
    Arrow {
        /// What was being done.
        context: String,
        /// The error reported by Arrow.
        cause: arrow_schema::ArrowError,
    },
    /// A NaN or infinite value met `--non-finite error`.
    #[error("column {column} holds {value} at sequential id {row}, and `non_finite` is error")]
    NonFinite {
        /// The column.
        column: String,
        /// The sequential id of the row.
        row: u64,
        /// `NaN`, `Infinity` or `-Infinity`.
        value: &'static str,
    },
    /// The output file exists and may not be replaced.
    #[error("{0} exists: pass `force` to replace it, or remove it")]
    OutputExists(PathBuf),
    /// A queue checkpoint exists and the export was not asked to resume from it.
    #[error(
        "checkpoint {path} exists: pass `resume` to go on from it, or remove it to start again"
    )]
    CheckpointExists {
        /// The checkpoint file.
        path: PathBuf,
    },
    /// A queue checkpoint belongs to another export.
    #[error(
        "checkpoint {path} was written for another dataset, other options or another queue; it is left as it is"
    )]
    CheckpointMismatch {
        /// The checkpoint file.
        path: PathBuf,
    },
    /// A worker thread of a stage failed without an error of its own.
    #[error("{stage} failed: {reason}")]
    Worker {
        /// What the worker was doing.
        stage: &'static str,
        /// What happened to it.
        reason: String,
    },
    /// A column of a type Spark cannot write to JSON, or predbench does not.
    #[error("column {column} is {data_type}: {reason}")]
    UnsupportedColumn {
        /// The column (`outer.inner` for a struct's field).
        column: String,
        /// Its Arrow type.
        data_type: String,
        /// Why, and what to do.
        reason: &'static str,
    },
}

impl ExportError {
    /// Builds an [`ExportError::InvalidArgument`].
    pub fn invalid(argument: &'static str, reason: impl Into<String>) -> Self {
        ExportError::InvalidArgument {
            argument,
            reason: reason.into(),
        }
    }

    /// Wraps an I/O error with what was being done and where.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        ExportError::Io {
            action,
            path: path.into(),
            cause,
        }
    }

    /// Wraps a Parquet error with the file and the place in it.
    pub fn parquet(
        path: impl Into<PathBuf>,
        location: impl Into<String>,
        cause: parquet::errors::ParquetError,
    ) -> Self {
        ExportError::Parquet {
            path: path.into(),
            location: location.into(),
            cause,
        }
    }
}

/// Result alias for the exporter crate.
pub type Result<T, E = ExportError> = std::result::Result<T, E>;
