//! What a child `generate`, `export`, `publish` or `drain` tells its parent
//! with `--summary-json`: the counts the harness cannot see from outside, and
//! the settings it ran with. The peers' scripts write the same fields.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The counts of one run of a command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandSummary {
    /// What it counted.
    #[serde(flatten)]
    pub counts: Counts,
    /// Wall time the command measured itself, in seconds.
    pub elapsed_seconds: f64,
    /// Peak resident set size the command saw, in bytes.
    pub peak_rss_bytes: Option<u64>,
    /// The settings it ran with, by name (threads, memory, compression...).
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
    /// What a `drain` found in the queue besides the messages it wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drained: Option<DrainedCounts>,
}

/// What a run counted: a child's summary says it, and the harness's record
/// of the run keeps it as it was said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Rows generated or read (a shard's own share).
    pub rows: u64,
    /// Bytes of input files read (0 for `generate`).
    pub input_bytes: u64,
    /// Bytes written to disk (0 for the null sink and a queue).
    pub output_bytes: u64,
    /// Bytes of JSON text in the messages (`export`, `publish`, `drain`).
    pub message_bytes: Option<u64>,
    /// Messages produced, published or drained.
    pub messages: Option<u64>,
    /// Bytes window-sort spilled to disk (`export`).
    pub spilled_bytes: Option<u64>,
}

/// A summary's settings from `(name, value)` pairs.
pub fn settings<const N: usize>(
    pairs: [(&str, serde_json::Value); N],
) -> BTreeMap<String, serde_json::Value> {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

impl CommandSummary {
    /// Writes the summary to `path` (for `--summary-json`).
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("summaries always serialize");
        fs::write(path, text).with_context(|| format!("cannot write summary {}", path.display()))
    }

    /// Reads a summary written by [`CommandSummary::write`].
    pub fn read(path: &Path) -> anyhow::Result<CommandSummary> {
        let text = fs::read_to_string(path)
            .with_context(|| format!("cannot read summary {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("cannot parse summary {}", path.display()))
    }
}

/// What a drain found in a queue besides the messages it wrote: how a
/// publisher's delivery went wrong, if it did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrainedCounts {
    /// Deliveries taken from the queue, duplicates included.
    pub received: u64,
    /// Deliveries dropped because their `message_id` came before.
    pub duplicates: u64,
    /// `message_id`s missing between the first and the last written.
    pub missing: u64,
}
