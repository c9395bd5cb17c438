//! The evidence `predbench-harness compare` leaves behind and `report`
//! reads: one `records.json` per session (one `compare` invocation) holding
//! what the session ran on ([`SessionInfo`]: machine, software versions,
//! datasets) and one [`RunRecord`] per child process run.
//!
//! A configuration is its typed fields ([`Configuration`]); its name is
//! rendered from them in one place and stored for people reading the JSON,
//! never parsed back. Why a run failed is [`failure`]; reading and writing
//! the files is [`store`].

mod configuration;
mod failure;
mod store;

use std::collections::BTreeMap;

pub use predbench::summary::{Counts, DrainedCounts};
use serde::{Deserialize, Serialize};

pub use configuration::{Configuration, DiskFloor, RunKind, SinkKind};
pub use failure::{Failure, FailureCause, headline, short_reason};
pub use store::{LoadedSession, RECORDS_FILE, load_sessions, save_records};

/// Version of the records file layout: 2, [`SessionRecords`] (the 16
/// sessions of the first layout were rewritten in it once).
pub const RECORD_FORMAT_VERSION: u32 = 2;

/// Label of datasets made by `predbench generate`.
pub const DATASET_PREDBENCH: &str = "predbench";
/// Label of datasets made by `predbench generate --class-type float32`.
pub const DATASET_PREDBENCH_FLOAT32: &str = "predbench-float32";
/// Label of datasets made by the seed's generator.
pub const DATASET_SEED: &str = "seed";
/// Label of the small dataset with NaN and nulls the peers' conventions are checked on.
pub const DATASET_EDGE_CASES: &str = "edge-cases";

/// A session's `records.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecords {
    /// [`RECORD_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// What the session ran on.
    pub session: SessionInfo,
    /// Every run, in the order it ran.
    pub runs: Vec<RunRecord>,
}

/// What one `predbench-harness compare` invocation ran on. Runs of one session share a
/// machine state, a commit and the datasets, and only they are compared with
/// each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The session's UTC start time, e.g. `2026-11-24T11:02:03Z`; its identity.
    pub id: String,
    /// Version of predbench that ran the comparison.
    pub predbench_version: String,
    /// `git rev-parse HEAD` of the working tree, if it is a git checkout.
    pub git_commit: Option<String>,
    /// Whether the working tree had uncommitted changes to tracked files.
    pub git_dirty: Option<bool>,
    /// The machine.
    pub machine: Machine,
    /// Versions of the software involved, by name (`rustc`, `python`,
    /// `pyspark`, `duckdb`, `polars`, `pyarrow`, `pandas`, `numpy`, `java`,
    /// `rabbitmq`): what could be asked; a name is missing when it could not.
    #[serde(default)]
    pub software: BTreeMap<String, String>,
    /// The datasets the exports read, as found when they were first read.
    #[serde(default)]
    pub datasets: Vec<DatasetRecord>,
    /// The `predbench-harness compare` command line, paths relative to the repository.
    #[serde(default)]
    pub command: Vec<String>,
}

/// A dataset's fingerprint: enough to tell whether two sessions read the same files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    /// `predbench`, `seed`, `edge-cases` or the path given to `--dataset`.
    pub label: String,
    /// Rows, N.
    pub rows: u64,
    /// Bytes of its data files.
    pub bytes: u64,
    /// Every data file in dataset order.
    pub files: Vec<DatasetFile>,
    /// `name: type` of every column, in schema order.
    pub columns: Vec<String>,
}

/// One data file of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetFile {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Rows, from its footer.
    pub rows: u64,
}

/// One measured run of one configuration, as a child process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// What was run.
    pub configuration: Configuration,
    /// 1-based number of this run among the configuration's runs in the session.
    pub run: u32,
    /// When this run started, RFC 3339 in UTC.
    pub started_at: String,
    /// Whether the child succeeded.
    pub status: RunStatus,
    /// Why it failed, when it did.
    pub failure: Option<Failure>,
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
    /// What the child counted (rows, bytes in and out, messages, spill), as
    /// its summary said; rows are its own share for a shard and 0 for a disk
    /// floor or a publish, output bytes the disk floor's file for a floor.
    #[serde(flatten)]
    pub counts: Counts,
    /// The child's standard error and output, relative to the session directory.
    pub log: String,
    /// `predbench verify` of the run's output, when it was checked (the first
    /// run of every configuration that writes a file or fills a queue).
    pub verification: Option<Verification>,
    /// What the harness noticed about the run's data, e.g. that files of the
    /// seed generator's dataset repeat each other's values.
    #[serde(default)]
    pub observations: Vec<String>,
    /// The settings the child reported it ran with (threads, memory, shuffle
    /// partitions, compression...), by name.
    #[serde(default)]
    pub settings: BTreeMap<String, serde_json::Value>,
    /// What a drain found in the queue besides the messages it wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drained: Option<DrainedCounts>,
    /// Peak resident set of the broker (RabbitMQ's `beam.smp` on this
    /// machine) while the run published, and its drain beside it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_peak_rss_bytes: Option<u64>,
    /// A fault run's broker restart, when it happened (the publisher may end first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_restart: Option<BrokerRestarted>,
}

/// When the harness restarted the broker during a fault run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BrokerRestarted {
    /// Seconds from the start of the run to the start of the restart.
    pub began_seconds: f64,
    /// Messages the queue held then.
    pub messages_in_queue: u64,
    /// Seconds the restart command took (the broker answers again after it).
    pub took_seconds: f64,
}

impl RunRecord {
    /// Bytes the run produced that a disk would have to take: the output file,
    /// or for the null sink the JSON text it discarded.
    pub fn produced_bytes(&self) -> u64 {
        if self.counts.output_bytes > 0 {
            self.counts.output_bytes
        } else {
            self.counts.message_bytes.unwrap_or(0)
        }
    }
}

/// Outcome of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// The child exited with code 0 and its outputs were read.
    Ok,
    /// The child failed, was killed, timed out, or its outputs could not be read.
    Failed,
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
    /// The first problem in a few words, for a table cell ("NaN written bare:
    /// invalid JSON", "NaN → null"); `None` when verify found none.
    #[serde(default)]
    pub reason: Option<String>,
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
    /// SSD or HDD where the kernel knows it; `None` for a virtual disk, whose
    /// "rotational" flag says nothing about the storage behind it.
    pub kind: Option<String>,
    /// Capacity in bytes.
    pub total_bytes: u64,
    /// Free bytes when the session started.
    pub available_bytes: u64,
}

/// A session description for tests.
#[cfg(test)]
pub fn session_info_for_tests(id: &str) -> SessionInfo {
    SessionInfo {
        id: id.to_string(),
        predbench_version: "0.1.0".to_string(),
        git_commit: Some("0123456789abcdef".to_string()),
        git_dirty: Some(false),
        machine: Machine {
            cpu_model: "Test CPU".to_string(),
            logical_cores: 2,
            physical_cores: Some(2),
            memory_bytes: 24 << 30,
            os: "Linux".to_string(),
            kernel: "6".to_string(),
            disk: None,
        },
        software: BTreeMap::new(),
        datasets: Vec::new(),
        command: Vec::new(),
    }
}
