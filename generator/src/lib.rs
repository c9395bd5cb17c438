//! predbench's generator: the seed's prediction table (`id_client` UUID plus
//! `class_0..class_{C-1}` probabilities) at any size, deterministic and fast.
//!
//! * [`rows`] draws rows from seeded RNG blocks, free of Arrow and Parquet;
//! * [`parquet_output`] turns them into record batches and encoded row groups;
//! * [`dataset`] plans part files, runs them through the ordered parallel map
//!   of `predbench-common`, writes the manifest and publishes the directory
//!   atomically;
//! * [`sharded`] writes one `--shard I/N` share of a dataset into a directory
//!   the other shards share.
//!
//! The plumbing it shares with the exporter (the parallel map, `O_DIRECT` and
//! atomic files, shards, byte units) lives in `predbench-common`.
//!
//! The data depends only on the seed and the data parameters (rows, classes,
//! distribution, rates): never on threads or batch sizes.

pub mod config;
pub mod dataset;
pub mod error;
pub mod parquet_output;
pub mod rows;
pub mod sharded;

pub use config::{
    ClassType, Compression, Distribution, DistributionKind, FloatEncoding, GeneratorConfig,
};
pub use dataset::{GenerateSummary, MANIFEST_FILE, Manifest, RunOptions, generate};
pub use error::{GeneratorError, Result};
pub use sharded::{ShardManifest, ShardSummary, generate_shard, merge_shard_manifests};
