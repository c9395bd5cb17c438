//! The generator's error type: every failure names the argument, file or directory involved.

use std::path::PathBuf;

/// Everything that can go wrong while validating parameters or writing a dataset.
#[derive(Debug, thiserror::Error)]
pub enum GeneratorError {
    /// A parameter is outside its allowed range; the message says which and why.
    #[error("invalid {argument}: {reason}")]
    InvalidArgument {
        /// The option, e.g. `rows` (the command line maps it to its flag).
        argument: &'static str,
        /// What is wrong with the given value.
        reason: String,
    },
    /// The output directory exists and `force` was not given.
    #[error("output directory {0} already exists: pass `force` to replace it, or remove it")]
    OutputExists(PathBuf),
    /// An I/O operation on `path` failed.
    #[error("{action} {path}: {cause}")]
    Io {
        /// What predbench was doing, e.g. "cannot create".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying operating-system error.
        cause: std::io::Error,
    },
    /// A shard's part file exists and `force` was not given.
    #[error(
        "{path} exists: shard {shard} ran already (pass `force` to rewrite its files, as a retried shard does)"
    )]
    ShardOutputExists {
        /// The part file in the way.
        path: PathBuf,
        /// The shard, `I/N`.
        shard: String,
    },
    /// Shards of a dataset directory do not belong to one run.
    #[error("{path}: {reason}")]
    ShardMismatch {
        /// The shard manifest or directory that disagrees.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// Not every shard of a dataset directory has completed.
    #[error("{directory} is not complete: {missing}")]
    ShardsMissing {
        /// The dataset directory.
        directory: PathBuf,
        /// Which shard manifests are missing.
        missing: String,
    },
    /// The Parquet encoder failed while writing `path`.
    #[error("cannot write Parquet file {path}: {cause}")]
    Parquet {
        /// The part file being written.
        path: PathBuf,
        /// The error reported by the `parquet` crate.
        cause: parquet::errors::ParquetError,
    },
}

impl GeneratorError {
    /// Builds an [`GeneratorError::InvalidArgument`].
    pub fn invalid(argument: &'static str, reason: impl Into<String>) -> Self {
        GeneratorError::InvalidArgument {
            argument,
            reason: reason.into(),
        }
    }

    /// Wraps an I/O error with what was being done and where.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        GeneratorError::Io {
            action,
            path: path.into(),
            cause,
        }
    }
}

/// Result alias for the generator crate.
pub type Result<T, E = GeneratorError> = std::result::Result<T, E>;
