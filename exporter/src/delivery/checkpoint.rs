//! `--checkpoint FILE`: the group below which every message is confirmed,
//! written atomically while a queue export runs (to any broker); and the decision a resumed
//! export makes from it (start over, go on from it, or nothing to do).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::grouping::Grouping;
use crate::sharded::DatasetFingerprint;
use crate::strategy::ExportOptions;

/// A checkpoint file and what it must say besides the progress.
#[derive(Debug, Clone)]
pub struct Checkpointing {
    /// The file, written atomically.
    pub path: PathBuf,
    /// What identifies the export (dataset, options, target), checked on resume.
    pub identity: serde_json::Value,
}

/// `--checkpoint FILE`: every message of a group below `confirmed_below` is
/// confirmed by the broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The dataset, options and target of the export.
    pub identity: serde_json::Value,
    /// Every message of a group below this one is confirmed.
    pub confirmed_below: u64,
    /// Predictions in the confirmed messages; with `packed` grouping, the
    /// sequential id the first unconfirmed message starts at.
    #[serde(default)]
    pub confirmed_predictions: u64,
    /// True once the export has finished.
    pub complete: bool,
}

impl Checkpoint {
    /// Reads a checkpoint file.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ExportError::io("cannot read", path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            ExportError::io(
                "cannot parse",
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })
    }

    pub(super) fn write(&self, path: &Path) -> Result<()> {
        predbench_common::atomic_file::write_json_atomically(path, self)
            .map_err(|e| ExportError::io("cannot write", path, e))
    }
}

/// What a queue checkpoint must match to be resumed: the dataset, the
/// options that decide the messages, the shard and the target.
pub fn identity(
    options: &ExportOptions,
    dataset: &Dataset,
    target: &impl Serialize,
) -> serde_json::Value {
    serde_json::json!({
        "dataset": DatasetFingerprint::of(dataset),
        "grouping": options.grouping,
        "group_size": options.group_size,
        "max_message_bytes": options.max_message_bytes,
        "nulls": options.message.nulls,
        "non_finite": options.message.non_finite,
        "time_zone": options.message.time_zone,
        "shard": options.shard,
        "target": target,
    })
}

/// Where a queue export starts: the `message_id` of its first message and the
/// predictions confirmed before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStart {
    /// `message_id` of the first message published.
    pub first_message: u64,
    /// Predictions in the messages confirmed before it.
    pub predictions_before: u64,
}

/// What a queue export does about its checkpoint.
#[derive(Debug, Clone)]
pub enum Resume {
    /// Publish with these options (from the start, or from the checkpoint's
    /// first unconfirmed message), the first message being `start`.
    Publish {
        /// The export's options (`resume_from_group` set when resuming).
        options: ExportOptions,
        /// Where the messages start.
        start: QueueStart,
        /// The checkpoint it goes on from, if any.
        from: Option<Checkpoint>,
    },
    /// The checkpoint says the export is complete: nothing to publish.
    Complete,
}

/// Decides how a queue export with `checkpoint` (a file that may exist)
/// starts: from the start when there is none; a checkpoint that exists
/// without `resume`, or that another export wrote, is refused and kept; with
/// `resume`, after the confirmed messages (for `packed`, at the row the first
/// unconfirmed message starts at: packing from there makes the same messages).
pub fn plan_resume(
    options: &ExportOptions,
    dataset: &Dataset,
    target: &impl Serialize,
    checkpoint: Option<&Path>,
    resume: bool,
) -> Result<Resume> {
    let (_, groups) = options.plan(dataset)?;
    let from_the_start = Resume::Publish {
        options: options.clone(),
        start: QueueStart {
            first_message: match options.grouping {
                Grouping::Packed => 0,
                Grouping::Modulo | Grouping::Contiguous => groups.start,
            },
            predictions_before: 0,
        },
        from: None,
    };
    let Some(path) = checkpoint.filter(|path| path.exists()) else {
        return Ok(from_the_start);
    };
    if !resume {
        return Err(ExportError::CheckpointExists {
            path: path.to_path_buf(),
        });
    }
    let checkpoint = Checkpoint::read(path)?;
    if checkpoint.identity != identity(options, dataset, target) {
        return Err(ExportError::CheckpointMismatch {
            path: path.to_path_buf(),
        });
    }
    if checkpoint.complete {
        return Ok(Resume::Complete);
    }
    let resume_from_group = match options.grouping {
        // The packed layout's groups are rows.
        Grouping::Packed => checkpoint.confirmed_predictions,
        Grouping::Modulo | Grouping::Contiguous => checkpoint.confirmed_below,
    };
    Ok(Resume::Publish {
        options: ExportOptions {
            resume_from_group,
            ..options.clone()
        },
        start: QueueStart {
            first_message: checkpoint.confirmed_below,
            predictions_before: checkpoint.confirmed_predictions,
        },
        from: Some(checkpoint),
    })
}
