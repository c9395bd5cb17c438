//! The datasets a comparison runs on: which one `--dataset` asks for, where
//! it lives, whether what is there can be reused, what it holds (its
//! fingerprint for the session's record), and cleaning up after the runs.

use std::fs;
use std::path::{Path, PathBuf};

use predbench_exporter::Dataset;
use predbench_exporter::sharded::DatasetFingerprint;
use predbench_generator::dataset::Manifest;
use predbench_generator::{ClassType, Distribution};

use crate::record::{
    DATASET_PREDBENCH, DATASET_PREDBENCH_FLOAT32, DATASET_SEED, DatasetFile, DatasetRecord,
};

/// The seed generator's marker file in the datasets it writes.
pub const SEED_GENERATOR_MARKER: &str = "_seed_generator.json";

/// What `--dataset` asks every exporter to run on.
#[derive(Debug, Clone, PartialEq)]
pub enum DatasetChoice {
    /// Made by `predbench generate`, with class columns of this type.
    Predbench(ClassType),
    /// Made by the seed's generator.
    Seed,
    /// An existing dataset.
    Existing(PathBuf),
}

impl DatasetChoice {
    /// `predbench`, `seed` or the path of an existing dataset; `class_type`
    /// (`--class-type`) applies to predbench's own tables only.
    pub fn parse(text: &str, class_type: ClassType) -> anyhow::Result<DatasetChoice> {
        if text != DATASET_PREDBENCH && class_type != ClassType::Float64 {
            anyhow::bail!(
                "invalid argument --class-type: it applies to predbench's own tables (--dataset predbench)"
            );
        }
        Ok(match text {
            DATASET_PREDBENCH => DatasetChoice::Predbench(class_type),
            DATASET_SEED => DatasetChoice::Seed,
            path => {
                let path = PathBuf::from(path);
                if !path.exists() {
                    anyhow::bail!(
                        "invalid argument --dataset: '{text}' is not predbench, seed or an existing dataset path"
                    );
                }
                DatasetChoice::Existing(path)
            }
        })
    }

    /// How records name it.
    pub fn label(&self) -> String {
        match self {
            DatasetChoice::Predbench(ClassType::Float64) => DATASET_PREDBENCH.to_string(),
            DatasetChoice::Predbench(ClassType::Float32) => DATASET_PREDBENCH_FLOAT32.to_string(),
            DatasetChoice::Seed => DATASET_SEED.to_string(),
            DatasetChoice::Existing(path) => path.display().to_string(),
        }
    }

    /// Where the dataset of `rows` rows lives.
    pub fn path(&self, data_dir: &Path, rows: u64, seed: u64) -> PathBuf {
        match self {
            DatasetChoice::Predbench(ClassType::Float64) => {
                data_dir.join(format!("predictions-{rows}-seed{seed}"))
            }
            DatasetChoice::Predbench(ClassType::Float32) => {
                data_dir.join(format!("predictions-float32-{rows}-seed{seed}"))
            }
            DatasetChoice::Seed => data_dir.join(format!("seed-predictions-{rows}")),
            DatasetChoice::Existing(path) => path.clone(),
        }
    }

    /// Whether what is at `path` is the dataset asked for and can be reused.
    pub fn is_ready(&self, path: &Path, rows: u64, seed: u64) -> bool {
        match self {
            DatasetChoice::Predbench(class_type) => dataset_matches(path, rows, seed, *class_type),
            DatasetChoice::Seed => seed_dataset_matches(path, rows),
            DatasetChoice::Existing(_) => true,
        }
    }

    /// Whether a generator's output becomes this dataset: predbench's own
    /// generator makes `predbench`, the seed's makes `seed`.
    pub fn made_by(&self, peer: Option<&str>) -> bool {
        match self {
            DatasetChoice::Predbench(_) => peer.is_none(),
            DatasetChoice::Seed => peer.is_some(),
            DatasetChoice::Existing(_) => false,
        }
    }
}

/// Whether `dataset` holds the default table of `rows` rows and `seed`, its
/// class columns of `class_type`.
fn dataset_matches(dataset: &Path, rows: u64, seed: u64, class_type: ClassType) -> bool {
    Manifest::read(dataset).is_ok_and(|manifest| {
        let config = &manifest.config;
        manifest.rows == rows
            && config.rows == rows
            && config.seed == seed
            && config.classes == 30
            && config.distribution == Distribution::Uniform
            && config.null_rate == 0.0
            && config.nan_rate == 0.0
            && config.class_type == class_type
            && manifest.predbench_version == env!("CARGO_PKG_VERSION")
    })
}

/// Whether `dataset` holds `rows` rows written by the seed's generator.
fn seed_dataset_matches(dataset: &Path, rows: u64) -> bool {
    fs::read_to_string(dataset.join(SEED_GENERATOR_MARKER))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|marker| marker["rows"] == rows)
}

/// What a session records of a dataset: its files, sizes, rows and columns.
pub fn dataset_record(label: &str, dataset: &Dataset) -> DatasetRecord {
    let fingerprint = DatasetFingerprint::of(dataset);
    DatasetRecord {
        label: label.to_string(),
        rows: dataset.rows,
        bytes: dataset.bytes,
        files: fingerprint
            .files
            .into_iter()
            .map(|(name, bytes, rows)| DatasetFile { name, bytes, rows })
            .collect(),
        columns: dataset
            .schema
            .fields()
            .iter()
            .map(|field| format!("{}: {}", field.name(), field.data_type()))
            .collect(),
    }
}

/// Deletes a dataset directory written by `generate` or the seed's generator
/// (it has their manifest); anything else at that path is left alone.
pub fn remove_dataset(path: &Path) {
    if path
        .join(predbench_generator::dataset::MANIFEST_FILE)
        .is_file()
        || path.join(SEED_GENERATOR_MARKER).is_file()
    {
        let _ = fs::remove_dir_all(path);
    }
}

/// Deletes an output the harness asked for: a file, or with
/// `directory_allowed` a directory of part files as Spark writes them, and
/// then also what a peer killed while writing it left beside it (the peers
/// write `.NAME.tmp-PID` and rename it when done).
pub fn remove_output(path: &Path, directory_allowed: bool) {
    if path.is_dir() {
        if directory_allowed {
            let _ = fs::remove_dir_all(path);
        }
    } else {
        let _ = fs::remove_file(path);
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    if !directory_allowed {
        return;
    }
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}
