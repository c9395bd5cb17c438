//! predbench's generator: the seed's prediction table (`id_client` UUID plus
//! `class_0..class_{C-1}` probabilities) at any size, deterministic and fast.
//!
//! * [`rows`] draws rows from seeded RNG blocks, free of Arrow and Parquet;
//! * [`parquet_output`] turns them into record batches and encoded row groups;
//! * [`dataset`] plans part files, runs the [`pipeline`], writes the manifest
//!   and publishes the directory atomically;
//! * [`shard`] cuts work into `--shard I/N` shares, and [`sharded`] writes
//!   one share of a dataset into a directory the other shards share;
//! * [`direct_file`] writes files past the page cache (`O_DIRECT`), for the
//!   part files here and the exporter's outputs.
//!
//! The data depends only on the seed and the data parameters (rows, classes,
//! distribution, rates): never on threads or batch sizes.

pub mod config;
pub mod dataset;
pub mod direct_file;
pub mod error;
pub mod parquet_output;
pub mod pipeline;
pub mod rows;
pub mod shard;
pub mod sharded;

pub use config::{Compression, Distribution, FloatEncoding, GeneratorConfig};
pub use dataset::{GenerateSummary, MANIFEST_FILE, Manifest, RunOptions, generate};
pub use error::{GeneratorError, Result};
pub use shard::Shard;
pub use sharded::{ShardManifest, ShardSummary, generate_shard, merge_shard_manifests};
