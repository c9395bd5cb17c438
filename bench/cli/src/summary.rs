//! What a child `generate`, `export` or `publish` tells its parent with
//! `--summary-json`: the counts `compare` cannot see from outside, and the
//! settings it ran with. The peers' scripts write the same fields.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::record::DrainedCounts;

/// The counts of one run of a command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandSummary {
    /// Rows generated or read.
    pub rows: u64,
    /// Bytes of input files read (0 for `generate`).
    pub input_bytes: u64,
    /// Bytes written to disk (0 for the null sink).
    pub output_bytes: u64,
    /// Bytes of JSON text in the messages (`export`).
    pub message_bytes: Option<u64>,
    /// Messages produced (`export`).
    pub messages: Option<u64>,
    /// Bytes spilled to disk (`export`).
    pub spilled_bytes: Option<u64>,
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
