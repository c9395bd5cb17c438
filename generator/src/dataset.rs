//! Writes a whole dataset directory: plans part files and batches, runs the
//! ordered parallel pipeline, writes the manifest and publishes the directory
//! atomically.

use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::{GeneratorConfig, batches_in_flight};
use crate::error::{GeneratorError, Result};
use crate::parquet_output::{BatchEncoder, PartFile, prediction_schema, record_batch};
use crate::rows::{RowBuffers, RowGenerator};
use predbench_common::atomic_file::{TemporaryPath, remove_stale_temporaries, temporary_path};
use predbench_common::pipeline::ordered_parallel_map;

/// File name of the manifest inside a dataset directory.
pub const MANIFEST_FILE: &str = "_manifest.json";

/// How a run is carried out; none of this changes the data.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Worker threads generating and encoding batches.
    pub threads: usize,
    /// Replace an existing output directory.
    pub force: bool,
}

/// One part file as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartRecord {
    /// File name inside the dataset directory.
    pub file: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// One column of the schema as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnRecord {
    /// Column name.
    pub name: String,
    /// Arrow data type, as Arrow prints it.
    pub data_type: String,
    /// Whether the column is nullable.
    pub nullable: bool,
}

/// `_manifest.json`: what a dataset directory holds and how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of predbench that wrote the dataset.
    pub predbench_version: String,
    /// Total rows over all part files.
    pub rows: u64,
    /// Every parameter that determines the data and its layout.
    pub config: GeneratorConfig,
    /// Schema of every part file.
    pub schema: Vec<ColumnRecord>,
    /// Part files in dataset order.
    pub parts: Vec<PartRecord>,
}

impl Manifest {
    /// Reads the manifest of the dataset directory `dir`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let text =
            fs::read_to_string(&path).map_err(|e| GeneratorError::io("cannot read", &path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            GeneratorError::io(
                "cannot parse",
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })
    }

    /// Total bytes of the part files.
    pub fn total_bytes(&self) -> u64 {
        self.parts.iter().map(|part| part.bytes).sum()
    }
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct GenerateSummary {
    /// The manifest written into the directory.
    pub manifest: Manifest,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// One unit of work: a batch of rows that lands in one part file.
#[derive(Debug, Clone)]
pub(crate) struct BatchTask {
    pub(crate) part: usize,
    pub(crate) rows: Range<u64>,
    pub(crate) last_of_part: bool,
}

/// Cuts the dataset into part files and batches: the part files' row ranges
/// and every batch, in order.
pub(crate) fn plan_batches(config: &GeneratorConfig) -> (Vec<Range<u64>>, Vec<BatchTask>) {
    let mut parts = Vec::new();
    let mut tasks = Vec::new();
    let mut start = 0;
    while start < config.rows {
        let end = (start + config.file_rows).min(config.rows);
        let part = parts.len();
        parts.push(start..end);
        let mut batch_start = start;
        while batch_start < end {
            let batch_end = (batch_start + config.batch_rows).min(end);
            tasks.push(BatchTask {
                part,
                rows: batch_start..batch_end,
                last_of_part: batch_end == end,
            });
            batch_start = batch_end;
        }
        start = end;
    }
    (parts, tasks)
}

/// File name of part `index`.
pub fn part_file_name(index: usize) -> String {
    format!("part-{index:05}.parquet")
}

/// A directory under construction beside its final path; removed on drop
/// unless published.
struct StagingDirectory {
    path: PathBuf,
    published: bool,
}

impl StagingDirectory {
    fn create(target: &Path) -> Result<Self> {
        let name = target
            .file_name()
            .ok_or_else(|| {
                GeneratorError::invalid(
                    "out",
                    format!("{} has no directory name", target.display()),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        remove_stale_temporaries(&parent, &name);
        let path = temporary_path(&parent.join(&name));
        if path.exists() {
            fs::remove_dir_all(&path).map_err(|e| GeneratorError::io("cannot remove", &path, e))?;
        }
        fs::create_dir_all(&path).map_err(|e| GeneratorError::io("cannot create", &path, e))?;
        Ok(StagingDirectory {
            path,
            published: false,
        })
    }

    /// Renames the staging directory to `target`, replacing it if `force`.
    fn publish(mut self, target: &Path, force: bool) -> Result<()> {
        if target.exists() {
            if !force {
                return Err(GeneratorError::OutputExists(target.to_path_buf()));
            }
            let old = self.path.with_extension("old");
            fs::rename(target, &old)
                .map_err(|e| GeneratorError::io("cannot move aside", target, e))?;
            fs::rename(&self.path, target)
                .map_err(|e| GeneratorError::io("cannot publish", target, e))?;
            let _ = fs::remove_dir_all(&old);
        } else {
            fs::rename(&self.path, target)
                .map_err(|e| GeneratorError::io("cannot publish", target, e))?;
        }
        self.published = true;
        Ok(())
    }
}

impl Drop for StagingDirectory {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Generates the dataset described by `config` into the directory `out`.
///
/// `progress` is called from the writing thread with the rows written so far.
/// The directory appears only when complete; on any error nothing is left at
/// `out` (and an existing `out` is untouched).
pub fn generate(
    config: &GeneratorConfig,
    out: &Path,
    options: &RunOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<GenerateSummary> {
    config.validate()?;
    if out.exists() && !options.force {
        return Err(GeneratorError::OutputExists(out.to_path_buf()));
    }
    let started = Instant::now();
    let staging = StagingDirectory::create(out)?;
    let (part_ranges, tasks) = plan_batches(config);
    let parts = write_parts(
        config,
        &part_ranges,
        &tasks,
        &PartTarget::Staging(&staging.path),
        options.threads,
        progress,
    )?;
    let manifest = Manifest::new(config, parts);
    write_json_atomically(&staging.path.join(MANIFEST_FILE), &manifest)?;
    staging.publish(out, options.force)?;
    Ok(GenerateSummary {
        manifest,
        elapsed: started.elapsed(),
    })
}

/// Where [`write_parts`] puts the part files.
pub(crate) enum PartTarget<'a> {
    /// Straight into a staging directory that is published whole.
    Staging(&'a Path),
    /// Into the shared dataset directory, each part under a temporary name
    /// renamed when complete (a shard).
    Shared(&'a Path),
}

/// Generates the batches `tasks` on `threads` workers and writes them in order
/// into their part files; returns the records of the parts written.
pub(crate) fn write_parts(
    config: &GeneratorConfig,
    part_ranges: &[Range<u64>],
    tasks: &[BatchTask],
    target: &PartTarget<'_>,
    threads: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<PartRecord>> {
    let encoder = BatchEncoder::new(config)?;
    let generator = RowGenerator::new(config);
    let directory = match target {
        PartTarget::Staging(directory) | PartTarget::Shared(directory) => *directory,
    };
    let mut parts: Vec<PartRecord> = Vec::new();
    let mut open_part: Option<(PartFile, TemporaryPath)> = None;
    let mut rows_written = 0u64;
    let window = batches_in_flight(threads) as usize - 1;
    ordered_parallel_map(
        (0..tasks.len()).map(Ok),
        threads,
        window,
        |index| {
            let task = &tasks[index];
            let mut buffers = RowBuffers::default();
            generator.fill(task.rows.clone(), &mut buffers);
            let batch = record_batch(encoder.schema(), buffers);
            encoder
                .encode(&batch)
                .map_err(|cause| GeneratorError::Parquet {
                    path: directory.join(part_file_name(task.part)),
                    cause,
                })
        },
        |index, row_groups| {
            let task = &tasks[index];
            let final_path = directory.join(part_file_name(task.part));
            let (part, _) = match open_part.as_mut() {
                Some(open) => open,
                None => {
                    let path = match target {
                        PartTarget::Staging(_) => TemporaryPath::kept(final_path.clone()),
                        PartTarget::Shared(_) => TemporaryPath::beside(&final_path),
                    };
                    open_part.insert((encoder.create_part(path.path())?, path))
                }
            };
            part.append(row_groups)?;
            rows_written += task.rows.end - task.rows.start;
            if task.last_of_part {
                let (part, path) = open_part.take().expect("part is open");
                let bytes = part.finish()?;
                path.rename_to(&final_path)
                    .map_err(|e| GeneratorError::io("cannot rename into place", &final_path, e))?;
                let range = &part_ranges[task.part];
                parts.push(PartRecord {
                    file: part_file_name(task.part),
                    rows: range.end - range.start,
                    bytes,
                });
            }
            progress(rows_written);
            Ok(())
        },
    )?;
    Ok(parts)
}

/// Writes `value` as pretty JSON to `path` atomically.
pub(crate) fn write_json_atomically(path: &Path, value: &impl Serialize) -> Result<()> {
    predbench_common::atomic_file::write_json_atomically(path, value)
        .map_err(|e| GeneratorError::io("cannot write", path, e))
}

impl Manifest {
    /// The manifest of a dataset made with `config` whose part files are `parts`.
    pub fn new(config: &GeneratorConfig, parts: Vec<PartRecord>) -> Manifest {
        Manifest {
            predbench_version: env!("CARGO_PKG_VERSION").to_string(),
            rows: config.rows,
            config: config.clone(),
            schema: prediction_schema(config.classes, config.class_type)
                .fields()
                .iter()
                .map(|field| ColumnRecord {
                    name: field.name().clone(),
                    data_type: field.data_type().to_string(),
                    nullable: field.is_nullable(),
                })
                .collect(),
            parts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_every_row_once() {
        let mut config = GeneratorConfig::new(10_001);
        config.file_rows = 3000;
        config.batch_rows = 1024;
        let (parts, tasks) = plan_batches(&config);
        assert_eq!(parts.len(), 4);
        let mut next = 0;
        for task in &tasks {
            assert_eq!(task.rows.start, next);
            assert!(parts[task.part].contains(&task.rows.start));
            assert!(task.rows.end <= parts[task.part].end);
            next = task.rows.end;
        }
        assert_eq!(next, 10_001);
        assert_eq!(tasks.iter().filter(|task| task.last_of_part).count(), 4);
    }
}
