//! Generation past one machine: shard I of N writes its share of the
//! one-machine run's part files (byte for byte the same files) into a dataset
//! directory that every shard shares, each file atomically, then a shard
//! manifest; the shard that completes the set, or [`merge_shard_manifests`],
//! writes `_manifest.json`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::GeneratorConfig;
use crate::dataset::{
    MANIFEST_FILE, Manifest, PartRecord, PartTarget, RunOptions, part_file_name, plan_batches,
    write_json_atomically, write_parts,
};
use crate::error::{GeneratorError, Result};
use predbench_common::atomic_file::remove_stale_temporaries;
use predbench_common::shard::{Shard, read_shard_files};

/// What one shard wrote: `_shard-IIIII-of-NNNNN.json` in the dataset directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// Version of predbench that wrote the shard.
    pub predbench_version: String,
    /// Which shard.
    pub shard: Shard,
    /// Every parameter of the whole dataset; all shards must agree.
    pub config: GeneratorConfig,
    /// The part files this shard wrote, in order (none when shards outnumber files).
    pub parts: Vec<PartRecord>,
}

/// What a shard's run reports.
#[derive(Debug, Clone)]
pub struct ShardSummary {
    /// The shard manifest written.
    pub shard_manifest: ShardManifest,
    /// The dataset's manifest, when this shard was the last to complete.
    pub completed: Option<Manifest>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// File name of the manifest of `shard`.
pub fn shard_manifest_name(shard: Shard) -> String {
    format!("_shard-{}.json", shard.tag())
}

/// Writes shard `shard`'s part files of the dataset `config` describes into
/// `out` (created if missing, shared with the other shards), then its shard
/// manifest, then `_manifest.json` if every shard is done.
///
/// Refused before any work: a complete dataset at `out` or this shard's part
/// files already there (unless `options.force`: a retried shard rewrites the
/// same bytes), and shard manifests in `out` from other parameters or another
/// shard count. A shard that dies leaves only hidden temporary files.
pub fn generate_shard(
    config: &GeneratorConfig,
    out: &Path,
    shard: Shard,
    options: &RunOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ShardSummary> {
    config.validate()?;
    let started = Instant::now();
    if out.join(MANIFEST_FILE).exists() && !options.force {
        return Err(GeneratorError::OutputExists(out.to_path_buf()));
    }
    if out.exists() && !out.is_dir() {
        return Err(GeneratorError::io(
            "cannot write shards into",
            out,
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        ));
    }
    fs::create_dir_all(out).map_err(|e| GeneratorError::io("cannot create", out, e))?;
    for (path, other) in read_shard_manifests(out)? {
        check_same_dataset(&path, &other, config, shard)?;
    }

    let (part_ranges, tasks) = plan_batches(config);
    let mine = shard.share(0..part_ranges.len() as u64);
    for part in mine.clone() {
        let path = out.join(part_file_name(part as usize));
        if path.exists() && !options.force {
            return Err(GeneratorError::ShardOutputExists {
                path,
                shard: shard.to_string(),
            });
        }
    }
    remove_stale_temporaries(out, "part-");
    let tasks: Vec<_> = tasks
        .into_iter()
        .filter(|task| mine.contains(&(task.part as u64)))
        .collect();
    let parts = write_parts(
        config,
        &part_ranges,
        &tasks,
        &PartTarget::Shared(out),
        options.threads,
        progress,
    )?;
    let shard_manifest = ShardManifest {
        predbench_version: env!("CARGO_PKG_VERSION").to_string(),
        shard,
        config: config.clone(),
        parts,
    };
    write_json_atomically(&out.join(shard_manifest_name(shard)), &shard_manifest)?;
    let completed = match merge_shard_manifests(out) {
        Ok(manifest) => Some(manifest),
        Err(GeneratorError::ShardsMissing { .. }) => None,
        Err(error) => return Err(error),
    };
    Ok(ShardSummary {
        shard_manifest,
        completed,
        elapsed: started.elapsed(),
    })
}

/// Writes `_manifest.json` of the dataset directory `dir` from its shard
/// manifests, once every shard of the run is there: checks that they agree on
/// the parameters, that together they hold exactly the one-machine run's part
/// files, and that every file has the size its shard recorded. Fails naming
/// the missing shards when the set is incomplete.
pub fn merge_shard_manifests(dir: &Path) -> Result<Manifest> {
    let manifests = read_shard_manifests(dir)?;
    let Some((_, first)) = manifests.first() else {
        return Err(GeneratorError::ShardsMissing {
            directory: dir.to_path_buf(),
            missing: "no shard manifest (_shard-*.json) found".to_string(),
        });
    };
    for (path, other) in &manifests[1..] {
        check_same_dataset(path, other, &first.config, first.shard)?;
    }
    let count = first.shard.count;
    let mut by_index: Vec<Option<&ShardManifest>> = vec![None; count as usize];
    for (_, manifest) in &manifests {
        by_index[manifest.shard.index as usize] = Some(manifest);
    }
    let missing: Vec<String> = by_index
        .iter()
        .enumerate()
        .filter(|(_, manifest)| manifest.is_none())
        .map(|(index, _)| format!("{index}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(GeneratorError::ShardsMissing {
            directory: dir.to_path_buf(),
            missing: format!(
                "shards {} have not written their manifests",
                missing.join(", ")
            ),
        });
    }
    let config = first.config.clone();
    let (part_ranges, _) = plan_batches(&config);
    let parts: Vec<PartRecord> = by_index
        .into_iter()
        .flat_map(|manifest| manifest.expect("none missing").parts.clone())
        .collect();
    let mismatch = |reason: String| GeneratorError::ShardMismatch {
        path: dir.to_path_buf(),
        reason,
    };
    if parts.len() != part_ranges.len() {
        return Err(mismatch(format!(
            "the shards wrote {} part files, the dataset has {}",
            parts.len(),
            part_ranges.len()
        )));
    }
    for (index, (part, range)) in parts.iter().zip(&part_ranges).enumerate() {
        if part.file != part_file_name(index) || part.rows != range.end - range.start {
            return Err(mismatch(format!(
                "part {index} is recorded as {} with {} rows, expected {} with {} rows",
                part.file,
                part.rows,
                part_file_name(index),
                range.end - range.start
            )));
        }
        let path = dir.join(&part.file);
        let size = fs::metadata(&path)
            .map_err(|e| GeneratorError::io("cannot stat", &path, e))?
            .len();
        if size != part.bytes {
            return Err(mismatch(format!(
                "{} is {size} bytes but its shard wrote {} bytes: the dataset changed after it was written",
                part.file, part.bytes
            )));
        }
    }
    let manifest = Manifest::new(&config, parts);
    write_json_atomically(&dir.join(MANIFEST_FILE), &manifest)?;
    Ok(manifest)
}

/// Every shard manifest of `dir`, in shard order.
fn read_shard_manifests(dir: &Path) -> Result<Vec<(PathBuf, ShardManifest)>> {
    read_shard_files(dir).map_err(|(action, path, cause)| GeneratorError::io(action, path, cause))
}

/// Fails unless the shard manifest at `path` belongs to the same run as a
/// shard `shard` of `config`: same parameters, same shard count.
fn check_same_dataset(
    path: &Path,
    other: &ShardManifest,
    config: &GeneratorConfig,
    shard: Shard,
) -> Result<()> {
    let mismatch = |reason: String| GeneratorError::ShardMismatch {
        path: path.to_path_buf(),
        reason,
    };
    if other.shard.count != shard.count {
        return Err(mismatch(format!(
            "written by shard {} of a run in {} shards, this is shard {shard}; \
             remove the directory or use the same shard count",
            other.shard, other.shard.count
        )));
    }
    if other.config != *config {
        let ours = serde_json::to_value(config).expect("configs serialize");
        let theirs = serde_json::to_value(&other.config).expect("configs serialize");
        let difference = ours
            .as_object()
            .into_iter()
            .flatten()
            .find(|(key, value)| theirs.get(key.as_str()) != Some(value))
            .map(|(key, value)| {
                format!(
                    "{key} {} there, {value} here",
                    theirs.get(key.as_str()).unwrap_or(&serde_json::Value::Null)
                )
            })
            .unwrap_or_default();
        return Err(mismatch(format!(
            "shard {} was generated with other parameters ({difference}); every shard needs \
             the same data and layout options, `batch_rows` included",
            other.shard
        )));
    }
    Ok(())
}
