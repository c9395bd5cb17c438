//! Export past one machine: shard I of N writes `part-IIIII.parquet` and a
//! record `_shard-IIIII-of-NNNNN.json` into an output directory the shards
//! share. The record says which dataset and options the shard saw, so a shard
//! refuses to join an export of another dataset, and a dataset that changed
//! between shards is caught instead of silently mixing two exports.

use std::fs;
use std::path::{Path, PathBuf};

use predbench_common::Shard;
use predbench_common::shard::read_shard_files;
use predbench_generator::{MANIFEST_FILE, Manifest};
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::grouping::Grouping;
use crate::message::MessageOptions;
use crate::strategy::ExportSummary;

/// What identifies a dataset for the shards reading it: every data file's
/// name, size and row count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFingerprint {
    /// Total rows, N.
    pub rows: u64,
    /// Every data file in dataset order: name, bytes, rows.
    pub files: Vec<(String, u64, u64)>,
}

impl DatasetFingerprint {
    /// The fingerprint of `dataset`.
    pub fn of(dataset: &Dataset) -> DatasetFingerprint {
        let files = dataset
            .files
            .iter()
            .map(|file| {
                let name = file
                    .path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let bytes = fs::metadata(&file.path).map(|m| m.len()).unwrap_or(0);
                (
                    name,
                    bytes,
                    file.metadata.metadata().file_metadata().num_rows() as u64,
                )
            })
            .collect();
        DatasetFingerprint {
            rows: dataset.rows,
            files,
        }
    }
}

/// Everything the shards of one export must agree on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardedExport {
    /// How many shards the export is cut into.
    pub shards: u64,
    /// The dataset they read.
    pub dataset: DatasetFingerprint,
    /// The grouping.
    pub grouping: Grouping,
    /// Predictions per message, K.
    pub group_size: u64,
    /// How messages are written.
    pub message: MessageOptions,
}

/// `_shard-IIIII-of-NNNNN.json`: what one shard of an export did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportShardRecord {
    /// Version of predbench.
    pub predbench_version: String,
    /// Which shard.
    pub shard: Shard,
    /// What the export's shards share.
    pub export: ShardedExport,
    /// First group (message order) of the shard.
    pub first_group: u64,
    /// One past its last group.
    pub end_group: u64,
    /// Messages written.
    pub messages: u64,
    /// Predictions in them.
    pub rows: u64,
    /// Bytes of JSON.
    pub message_bytes: u64,
    /// Bytes of the part file.
    pub output_bytes: u64,
    /// The part file's name inside the output directory.
    pub file: String,
}

/// File name of the part that `shard` writes.
pub fn part_file_name(shard: Shard) -> String {
    format!("part-{:05}.parquet", shard.index)
}

/// File name of the record that `shard` writes.
pub fn record_file_name(shard: Shard) -> String {
    format!("_shard-{}.json", shard.tag())
}

/// Fails when `dataset` is a predbench dataset whose files no longer match
/// its `_manifest.json` (a part replaced or rewritten since it was generated).
pub fn check_against_manifest(dataset: &Dataset) -> Result<()> {
    if !dataset.root.join(MANIFEST_FILE).is_file() {
        return Ok(());
    }
    let manifest = Manifest::read(&dataset.root).map_err(|cause| ExportError::NotParquet {
        path: dataset.root.join(MANIFEST_FILE),
        reason: cause.to_string(),
    })?;
    let fingerprint = DatasetFingerprint::of(dataset);
    let recorded: Vec<(String, u64, u64)> = manifest
        .parts
        .iter()
        .map(|part| (part.file.clone(), part.bytes, part.rows))
        .collect();
    if recorded != fingerprint.files {
        let difference = recorded
            .iter()
            .zip(&fingerprint.files)
            .find(|(want, got)| want != got)
            .map(|(want, got)| {
                format!(
                    "{} is {} bytes / {} rows, the manifest says {} bytes / {} rows",
                    got.0, got.1, got.2, want.1, want.2
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "{} data files, the manifest lists {}",
                    fingerprint.files.len(),
                    recorded.len()
                )
            });
        return Err(ExportError::DatasetChanged {
            path: dataset.root.clone(),
            reason: format!("the files differ from its _manifest.json: {difference}"),
        });
    }
    Ok(())
}

/// Fails when a record in `directory` belongs to another export: another
/// dataset (the files changed between shards), other options or another
/// shard count.
pub fn check_other_shards(directory: &Path, export: &ShardedExport) -> Result<()> {
    for (path, record) in read_records(directory)? {
        let changed = |reason: String| ExportError::DatasetChanged {
            path: path.clone(),
            reason,
        };
        let theirs = &record.export;
        if theirs.shards != export.shards {
            return Err(changed(format!(
                "shard {} belongs to an export in {} shards, this one is in {}",
                record.shard, theirs.shards, export.shards
            )));
        }
        if theirs.dataset != export.dataset {
            return Err(changed(format!(
                "shard {} read a dataset of {} rows in {} files, this shard sees {} rows in {} files \
                 (or files of other sizes): the dataset changed between shards",
                record.shard,
                theirs.dataset.rows,
                theirs.dataset.files.len(),
                export.dataset.rows,
                export.dataset.files.len()
            )));
        }
        if theirs != export {
            return Err(changed(format!(
                "shard {} was exported with other options ({} grouping, K={}, nulls {}, \
                 non-finite {}); every shard needs the same `grouping`, `group_size`, `nulls` \
                 and `non_finite`",
                record.shard,
                theirs.grouping,
                theirs.group_size,
                theirs.message.nulls,
                theirs.message.non_finite
            )));
        }
    }
    Ok(())
}

/// The record of `shard` after its export `summary` into `directory`.
pub fn shard_record(
    shard: Shard,
    export: ShardedExport,
    summary: &ExportSummary,
) -> ExportShardRecord {
    ExportShardRecord {
        predbench_version: env!("CARGO_PKG_VERSION").to_string(),
        shard,
        export,
        first_group: summary.groups.start,
        end_group: summary.groups.end,
        messages: summary.sink.messages,
        rows: summary.sink.rows,
        message_bytes: summary.sink.message_bytes,
        output_bytes: summary.sink.output_bytes,
        file: part_file_name(shard),
    }
}

/// Writes `record` into `directory` atomically.
pub fn write_record(directory: &Path, record: &ExportShardRecord) -> Result<PathBuf> {
    let path = directory.join(record_file_name(record.shard));
    predbench_common::atomic_file::write_json_atomically(&path, record)
        .map_err(|e| ExportError::io("cannot write", &path, e))?;
    Ok(path)
}

/// Every shard record of `directory`, in shard order.
pub fn read_records(directory: &Path) -> Result<Vec<(PathBuf, ExportShardRecord)>> {
    read_shard_files(directory)
        .map_err(|(action, path, cause)| ExportError::io(action, path, cause))
}
