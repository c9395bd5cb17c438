//! What every predbench crate shares, so that none borrows plumbing from a
//! sibling (as datafusion-common does for DataFusion):
//!
//! * [`choice`]: settings with a fixed set of names, each spelled once;
//! * [`pipeline`]: an ordered, bounded parallel map on a rayon pool;
//! * [`direct_file`]: sequential writing past the page cache (`O_DIRECT`);
//! * [`atomic_file`]: files that appear whole or not at all, one spelling of
//!   temporary names and one sweep of those a killed run left;
//! * [`shard`]: `--shard I/N` and the shards' JSON records;
//! * [`units`]: byte sizes and counts as people read and write them.

pub mod atomic_file;
pub mod choice;
pub mod direct_file;
pub mod pipeline;
pub mod shard;
pub mod units;

pub use choice::Choice;
pub use shard::Shard;

/// For [`choice!`]'s serde implementations in the crates that use it.
#[doc(hidden)]
pub use serde;
