//! The evidence `predbench compare` leaves behind and `predbench report`
//! reads: one [`RunRecord`] per child process run, stored as a JSON array in
//! `records.json` inside the session's directory under `results/`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Version of the record layout. `report` uses records of this version only and
/// lists the others as not used; bump it when a field changes meaning.
pub const RECORD_FORMAT_VERSION: u32 = 1;

/// File name of a session's records inside its directory.
pub const RECORDS_FILE: &str = "records.json";

/// One measured run of one configuration, as a child process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Layout version of this record ([`RECORD_FORMAT_VERSION`] when written).
    pub format_version: u32,
    /// Version of predbench that ran the comparison.
    pub predbench_version: String,
    /// The `predbench compare` invocation this run belongs to: its UTC start
    /// time, e.g. `2026-11-24T11:02:03Z`. Runs of one session share a machine
    /// state and a commit, and are compared with each other.
    pub session: String,
    /// When this run started, RFC 3339 in UTC.
    pub started_at: String,
    /// `git rev-parse HEAD` of the working tree, if it is a git checkout.
    pub git_commit: Option<String>,
    /// Whether the working tree had uncommitted changes to tracked files.
    pub git_dirty: Option<bool>,
    /// The machine the run was measured on.
    pub machine: Machine,
    /// What was run.
    pub configuration: Configuration,
    /// 1-based number of this run among the configuration's runs in the session.
    pub run: u32,
    /// Whether the child succeeded.
    pub status: RunStatus,
    /// Why it failed: the end of the child's standard error and its exit status.
    pub error: Option<String>,
    /// Exit code of the child, if it exited rather than being killed by a signal.
    pub exit_code: Option<i32>,
    /// Wall time from spawning the child to reaping it, in seconds.
    pub wall_seconds: f64,
    /// User CPU time of the child and the descendants it waited for, in seconds.
    pub user_seconds: f64,
    /// System CPU time of the child and the descendants it waited for, in seconds.
    pub system_seconds: f64,
    /// Peak resident set size of the largest process in the child's tree
    /// (the kernel's `ru_maxrss`), in bytes.
    pub peak_rss_bytes: u64,
    /// Wall time `/usr/bin/time -v` reported for the same child, in seconds,
    /// when the child ran under it: checks that the harness adds nothing.
    pub time_v_wall_seconds: Option<f64>,
    /// Rows the configuration processed (written by `generate`, read by `export`).
    pub rows: u64,
    /// Bytes read: the dataset's files for `export`, 0 otherwise.
    pub input_bytes: u64,
    /// Bytes written to disk: the Parquet or NDJSON file, the dataset, or the
    /// disk-floor file; 0 for the null sink.
    pub output_bytes: u64,
    /// Bytes of JSON text in the messages (`export` only; what a queue would receive).
    pub message_bytes: Option<u64>,
    /// Messages produced (`export` only).
    pub messages: Option<u64>,
    /// Bytes window-sort spilled to disk (`export` only).
    pub spilled_bytes: Option<u64>,
    /// `rows / wall_seconds`.
    pub rows_per_second: f64,
    /// The child's standard error and output, relative to the session directory.
    pub log: String,
    /// `predbench verify` of the run's output, when it was checked (the first
    /// run of every configuration that writes a file).
    #[serde(default)]
    pub verification: Option<Verification>,
    /// What the harness noticed about the run's data, e.g. that files of the
    /// seed generator's dataset repeat each other's values.
    #[serde(default)]
    pub observations: Vec<String>,
}

/// The outcome of `predbench verify` on a run's output, itself measured as a child process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// Whether verify found the output complete and correct.
    pub ok: bool,
    /// The exact verify command line, program first.
    pub command: Vec<String>,
    /// Its wall time in seconds.
    pub wall_seconds: f64,
    /// Its user CPU seconds.
    pub user_seconds: f64,
    /// Its system CPU seconds.
    pub system_seconds: f64,
    /// Its peak RSS in bytes.
    pub peak_rss_bytes: u64,
    /// The first problems verify printed, and its verdict line.
    pub findings: Vec<String>,
}

impl RunRecord {
    /// Bytes the run produced that a disk would have to take: the output file,
    /// or for the null sink the JSON text it discarded.
    pub fn produced_bytes(&self) -> u64 {
        if self.output_bytes > 0 {
            self.output_bytes
        } else {
            self.message_bytes.unwrap_or(0)
        }
    }
}

/// Outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// The child exited with code 0 and its outputs were read.
    Ok,
    /// The child failed, was killed, or its outputs could not be read.
    Failed,
}

/// What kind of work a configuration measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `dd` writing zeros with `conv=fsync`: the physical floor of writing bytes.
    DiskFloor,
    /// `predbench generate` with default settings.
    Generate,
    /// `predbench export` with one strategy, grouping and sink.
    Export,
    /// `predbench export --decode-only`: reading and decoding alone, the
    /// ceiling of every strategy.
    DecodeOnly,
    /// One shard (`--shard I/N`) of an export, the shards of a count run one
    /// after another on this machine to simulate N machines.
    ExportShard,
    /// `predbench publish`: messages already serialized, published to a queue
    /// with the queue sink's settings (the baseline of an export to a queue).
    Publish,
}

/// Everything that determines what a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    /// What kind of work.
    pub kind: Kind,
    /// Name unique within a session and stable across sessions, e.g.
    /// `export rayon modulo parquet`; the report matches runs by it.
    pub name: String,
    /// Rows of the dataset.
    pub rows: u64,
    /// Seed of the dataset.
    pub seed: u64,
    /// `--strategy` of an export.
    pub strategy: Option<String>,
    /// `--grouping` of an export.
    pub grouping: Option<String>,
    /// Sink of an export: `null` or `parquet`.
    pub sink: Option<String>,
    /// `--group-size` of an export.
    pub group_size: Option<u64>,
    /// Worker threads the child was given.
    pub threads: usize,
    /// `--memory-budget` given to the child, in bytes.
    pub memory_budget: Option<u64>,
    /// The exact command line, program first.
    pub command: Vec<String>,
    /// Which dataset it ran on: `predbench` (made by `predbench generate`),
    /// `seed` (made by the seed's generator), `edge-cases` (a small table with
    /// NaN and nulls), or the path given to `compare --dataset`.
    #[serde(default = "default_dataset")]
    pub dataset: String,
    /// The peer (scripts/peers/) this configuration runs, if it is not predbench.
    #[serde(default)]
    pub peer: Option<String>,
    /// The shard of an export (`--shard I/N`), for [`Kind::ExportShard`].
    #[serde(default)]
    pub shard: Option<predbench_generator::Shard>,
}

/// Dataset label of records written before datasets were labelled.
fn default_dataset() -> String {
    DATASET_PREDBENCH.to_string()
}

/// Label of datasets made by `predbench generate`.
pub const DATASET_PREDBENCH: &str = "predbench";
/// Label of datasets made by the seed's generator.
pub const DATASET_SEED: &str = "seed";
/// Label of the small dataset with NaN and nulls the peers' conventions are checked on.
pub const DATASET_EDGE_CASES: &str = "edge-cases";

impl Configuration {
    /// A configuration without export parameters (the generator, a disk floor).
    pub fn unparameterised(
        kind: Kind,
        name: &str,
        rows: u64,
        seed: u64,
        threads: usize,
        command: Vec<String>,
    ) -> Configuration {
        Configuration {
            kind,
            name: name.to_string(),
            rows,
            seed,
            strategy: None,
            grouping: None,
            sink: None,
            group_size: None,
            threads,
            memory_budget: None,
            command,
            dataset: default_dataset(),
            peer: None,
            shard: None,
        }
    }
}

/// The machine a session ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU brand string.
    pub cpu_model: String,
    /// Logical cores.
    pub logical_cores: usize,
    /// Physical cores, if known.
    pub physical_cores: Option<usize>,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// Operating system and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    /// The disk holding the data directory.
    pub disk: Option<DiskRecord>,
}

/// The disk data was read from and written to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskRecord {
    /// Device name.
    pub device: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// File system type.
    pub file_system: String,
    /// SSD, HDD or unknown, as the kernel reports it.
    pub kind: String,
    /// Capacity in bytes.
    pub total_bytes: u64,
    /// Free bytes when the session started.
    pub available_bytes: u64,
}

/// Writes `records` to `path` as pretty JSON, atomically (temporary file, then rename).
pub fn save_records(path: &Path, records: &[RunRecord]) -> anyhow::Result<()> {
    let temporary = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(records).expect("records always serialize");
    let mut file = fs::File::create(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    fs::rename(&temporary, path).with_context(|| {
        format!(
            "cannot rename {} to {}",
            temporary.display(),
            path.display()
        )
    })
}

/// Records found under a results directory, and what could not be used.
#[derive(Debug, Default)]
pub struct LoadedRecords {
    /// Usable records, in file order.
    pub records: Vec<RunRecord>,
    /// One line per file or record that was skipped, saying why.
    pub not_used: Vec<String>,
}

/// Reads every `records.json` under `results` (at most three levels deep).
pub fn load_records(results: &Path) -> anyhow::Result<LoadedRecords> {
    if !results.is_dir() {
        anyhow::bail!(
            "results directory {} does not exist; run `predbench compare` first",
            results.display()
        );
    }
    let mut files = Vec::new();
    find_record_files(results, 3, &mut files)
        .with_context(|| format!("cannot list {}", results.display()))?;
    files.sort();
    let mut loaded = LoadedRecords::default();
    for file in files {
        load_record_file(&file, &mut loaded);
    }
    Ok(loaded)
}

fn find_record_files(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() && depth > 0 {
            find_record_files(&path, depth - 1, files)?;
        } else if path.file_name().is_some_and(|name| name == RECORDS_FILE) {
            files.push(path);
        }
    }
    Ok(())
}

fn load_record_file(file: &Path, loaded: &mut LoadedRecords) {
    let values: Vec<serde_json::Value> = match fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(values) => values,
        Err(error) => {
            loaded.not_used.push(format!(
                "{}: not a JSON array of run records ({error})",
                file.display()
            ));
            return;
        }
    };
    let mut other_versions = std::collections::BTreeMap::<String, usize>::new();
    for (index, value) in values.into_iter().enumerate() {
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(RECORD_FORMAT_VERSION)) {
            let version = version.map_or("none".to_string(), |v| v.to_string());
            *other_versions.entry(version).or_default() += 1;
            continue;
        }
        match serde_json::from_value::<RunRecord>(value) {
            Ok(record) => loaded.records.push(record),
            Err(error) => loaded.not_used.push(format!(
                "{}: record {index} does not parse ({error})",
                file.display()
            )),
        }
    }
    for (version, count) in other_versions {
        loaded.not_used.push(format!(
            "{}: {count} record(s) of format version {version} (this predbench reads version {RECORD_FORMAT_VERSION}); re-run `predbench compare`",
            file.display()
        ));
    }
}

/// What `generate` and `export` write with `--summary-json`: the counts a
/// parent process cannot see from outside.
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
