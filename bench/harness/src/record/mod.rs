//! The evidence `predbench compare` leaves behind and `predbench report`
//! reads: one `records.json` per session (one `compare` invocation) holding
//! what the session ran on ([`SessionInfo`]: machine, software versions,
//! datasets) and one [`RunRecord`] per child process run.
//!
//! A configuration is its typed fields ([`Configuration`]); its name is
//! rendered from them in one place and stored for people reading the JSON,
//! never parsed back. Files of format version 1 are read through
//! [`migrate`], the one place that knows the old layout.

mod configuration;
mod migrate;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub use configuration::{Configuration, DiskFloor, RunKind, SinkKind};
pub use migrate::known_disk_kind;

/// Version of the records file layout. 1: a JSON array of runs, each carrying
/// its session's machine (read through [`migrate`]); 2: [`SessionRecords`].
pub const RECORD_FORMAT_VERSION: u32 = 2;

/// File name of a session's records inside its directory.
pub const RECORDS_FILE: &str = "records.json";

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

/// What one `predbench compare` invocation ran on. Runs of one session share a
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
    /// The `predbench compare` command line, paths relative to the repository.
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
    /// Rows the configuration processed (written by a generator, read by an
    /// export, its own share for a shard); 0 for a disk floor or a publish.
    pub rows: u64,
    /// Bytes read: the dataset's files for an export, 0 otherwise.
    pub input_bytes: u64,
    /// Bytes written to disk: the Parquet or NDJSON file, the dataset, or the
    /// disk-floor file; 0 for the null sink and a queue.
    pub output_bytes: u64,
    /// Bytes of JSON text in the messages (what a queue receives), when known.
    pub message_bytes: Option<u64>,
    /// Messages produced, when known.
    pub messages: Option<u64>,
    /// Bytes window-sort spilled to disk.
    pub spilled_bytes: Option<u64>,
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
    /// The child failed, was killed, timed out, or its outputs could not be read.
    Failed,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// What kind of failure.
    pub cause: FailureCause,
    /// The exit status and the end of the child's standard error.
    pub detail: String,
}

/// What kind of failure a run met; the report says it in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureCause {
    /// The tool stopped itself for lack of memory (DuckDB's "Out of Memory
    /// Error", Java's `OutOfMemoryError`).
    OutOfMemory,
    /// The kernel's out-of-memory killer ended it (SIGKILL while the kernel
    /// counted an OOM kill).
    OomKilled,
    /// It ran past `compare --peer-timeout` and was killed.
    TimedOut,
    /// Killed by a signal for another reason.
    Signal,
    /// It ran out of disk space ("No space left on device").
    NoSpace,
    /// It exited with a non-zero code.
    Exit,
    /// It could not run here (no venv, no Java, no broker).
    Unavailable,
    /// It exited 0 but its summary could not be read.
    NoSummary,
}

impl FailureCause {
    /// What a failed run's `detail` (its exit status and the end of its
    /// standard error), exit code and memory say about it. A SIGKILL (or exit
    /// code 137 from `/usr/bin/time`) counts as the out-of-memory killer when
    /// the run's peak RSS reached 80% of the machine's memory (this machine
    /// has no swap); `compare` knows better for its own runs (it reads the
    /// kernel's OOM-kill counter) and says so itself.
    pub fn classify(
        detail: &str,
        exit_code: Option<i32>,
        peak_rss_bytes: u64,
        machine_memory_bytes: u64,
    ) -> FailureCause {
        let lower = detail.to_lowercase();
        let sigkill = exit_code == Some(137) || detail.starts_with("killed by signal 9");
        if lower.contains("out of memory")
            || lower.contains("outofmemoryerror")
            || lower.contains("memory_limit")
        {
            FailureCause::OutOfMemory
        } else if lower.contains("no space left on device") {
            FailureCause::NoSpace
        } else if sigkill && peak_rss_bytes as f64 >= 0.8 * machine_memory_bytes as f64 {
            FailureCause::OomKilled
        } else if detail.starts_with("timed out") {
            FailureCause::TimedOut
        } else if detail.starts_with("killed by signal") {
            FailureCause::Signal
        } else if detail.contains("cannot read summary") || detail.contains("cannot parse summary")
        {
            FailureCause::NoSummary
        } else if exit_code.is_none() {
            FailureCause::Unavailable
        } else {
            FailureCause::Exit
        }
    }

    /// How the report says it: "out of memory", "killed by the kernel's OOM killer", ...
    pub fn describe(self) -> &'static str {
        match self {
            FailureCause::OutOfMemory => "out of memory",
            FailureCause::OomKilled => "killed by the kernel's out-of-memory killer",
            FailureCause::TimedOut => "timed out",
            FailureCause::Signal => "killed by a signal",
            FailureCause::NoSpace => "out of disk space",
            FailureCause::Exit => "failed",
            FailureCause::Unavailable => "could not run here",
            FailureCause::NoSummary => "wrote no summary",
        }
    }
}

impl Failure {
    /// The line of the detail that says what went wrong: the last one that
    /// is not a stack frame (`\tat ...`, `... 51 more`) or a bare exit status,
    /// at most 160 characters.
    pub fn headline(&self) -> String {
        headline(&self.detail, 160)
    }

    /// A run that exited with an error code says in `detail` only the end of
    /// its standard error, and a tool often names the cause higher up: Spark
    /// logs a task's `java.io.IOException: No space left on device`, then its
    /// Python driver ends on a generic `Py4JJavaError`. When the whole `log`
    /// names a cause the tail did not (out of memory, out of disk space), the
    /// failure takes it, and its detail gains the log's first line naming it.
    pub fn with_cause_from_log(self, log: &str) -> Failure {
        if self.cause != FailureCause::Exit {
            return self;
        }
        let named = log.lines().map(str::trim).find_map(|line| {
            let cause = FailureCause::classify(line, Some(1), 0, 1);
            matches!(cause, FailureCause::OutOfMemory | FailureCause::NoSpace)
                .then_some((cause, line))
        });
        match named {
            Some((cause, line)) => Failure {
                cause,
                detail: format!("{}\nin the log: {line}", self.detail),
            },
            None => self,
        }
    }
}

/// The line of a failure's `detail` that says what went wrong (see
/// [`Failure::headline`]), at most `limit` characters.
pub fn headline(detail: &str, limit: usize) -> String {
    let line = detail
        .lines()
        .map(str::trim)
        .rev()
        .find(|line| !is_noise(line))
        .unwrap_or("");
    match line.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line.to_string(),
    }
}

/// A line of a failure's detail that says nothing of the cause: empty, a
/// stack frame, or the exit status `/usr/bin/time` adds.
fn is_noise(line: &str) -> bool {
    let elided_frames = line.starts_with("...") && line.ends_with(" more");
    line.is_empty()
        || line.starts_with("at ")
        || elided_frames
        || line.starts_with("Command exited with")
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

/// Writes `records` to `path` as pretty JSON, atomically (temporary file, then rename).
pub fn save_records(path: &Path, records: &SessionRecords) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(records).expect("records always serialize");
    write_atomically(path, text.as_bytes())
}

/// Writes `bytes` to `path` through a temporary sibling and a rename, so that
/// readers see the old file or the new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.predbench-tmp-{}", std::process::id()));
    let mut file = fs::File::create(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(error) = written {
        let _ = fs::remove_file(&temporary);
        return Err(error).with_context(|| format!("cannot write {}", temporary.display()));
    }
    fs::rename(&temporary, path).with_context(|| {
        let _ = fs::remove_file(&temporary);
        format!(
            "cannot rename {} to {}",
            temporary.display(),
            path.display()
        )
    })
}

/// A session's records as read from its file.
#[derive(Debug, Clone)]
pub struct LoadedSession {
    /// The `records.json` it came from.
    pub path: PathBuf,
    /// Its records (migrated to the current layout).
    pub records: SessionRecords,
}

/// Reads every `records.json` under `results` (at most three levels deep),
/// sessions in id order. Any file that cannot be read as records of a known
/// format version is an error naming the file and what is wrong: a report
/// that silently left a session out could not be trusted.
pub fn load_sessions(results: &Path) -> anyhow::Result<Vec<LoadedSession>> {
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
    let mut sessions = Vec::new();
    for path in files {
        let records = load_session_file(&path)?;
        if !records.runs.is_empty() {
            sessions.push(LoadedSession { path, records });
        }
    }
    if sessions.is_empty() {
        anyhow::bail!(
            "no sessions under {}: no records.json with runs; run `predbench compare` first",
            results.display()
        );
    }
    sessions.sort_by(|a, b| a.records.session.id.cmp(&b.records.session.id));
    Ok(sessions)
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

/// Reads one `records.json` of format version 1 or 2.
pub fn load_session_file(path: &Path) -> anyhow::Result<SessionRecords> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON (truncated or edited by hand?)",
            path.display()
        )
    })?;
    let version = match &value {
        serde_json::Value::Array(runs) => runs.first().and_then(|run| run.get("format_version")),
        other => other.get("format_version"),
    }
    .and_then(serde_json::Value::as_u64);
    let mut records: SessionRecords = match version {
        Some(1) => migrate::from_version_1(value)
            .with_context(|| format!("{} (format version 1) does not parse", path.display()))?,
        Some(2) => serde_json::from_value(value).with_context(|| {
            format!(
                "{} (format version 2) does not parse: a field is missing or has the wrong type",
                path.display()
            )
        })?,
        Some(other) => anyhow::bail!(
            "{} is of records format version {other}; this predbench reads versions 1 and {RECORD_FORMAT_VERSION}",
            path.display()
        ),
        None => anyhow::bail!(
            "{} has no format_version: it is not a records file of `predbench compare`",
            path.display()
        ),
    };
    // Failures recorded before compare read whole logs: their logs sit beside.
    let directory = path.parent().unwrap_or(Path::new("."));
    for run in &mut records.runs {
        if let Some(failure) = run.failure.take() {
            let log = fs::read_to_string(directory.join(&run.log)).unwrap_or_default();
            run.failure = Some(failure.with_cause_from_log(&log));
        }
    }
    Ok(records)
}

/// The first problem of a verification in a few words, for a table cell:
/// what the problem means for a consumer rather than where verify found it.
pub fn short_reason(findings: &[String]) -> Option<String> {
    let first = findings.first()?;
    Some(
        if first.contains("writes a bare NaN") || first.contains("bare non-finite") {
            "NaN written bare: invalid JSON".to_string()
        } else if first.contains("expected NaN, the export has null")
            || first.contains("expected inf, the export has null")
            || first.contains("expected -inf, the export has null")
        {
            "NaN → null".to_string()
        } else if first.contains("is not valid JSON") {
            "invalid JSON".to_string()
        } else if first.contains("is missing") || first.contains("missing") {
            "predictions missing".to_string()
        } else if first.contains("more than once") || first.contains("duplicate") {
            "predictions repeated".to_string()
        } else if first.contains("column") && first.contains("expected") {
            "values differ".to_string()
        } else {
            let mut short = first.clone();
            if short.len() > 80 {
                let mut cut = 80;
                while !short.is_char_boundary(cut) {
                    cut -= 1;
                }
                short.truncate(cut);
                short.push('…');
            }
            short
        },
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every committed records file loads (through the migration for format 1).
    #[test]
    fn every_committed_records_file_loads() {
        let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results");
        let sessions = load_sessions(&results).unwrap();
        assert!(sessions.len() >= 16, "{}", sessions.len());
        for session in &sessions {
            for run in &session.records.runs {
                let configuration = &run.configuration;
                assert_eq!(
                    configuration.name,
                    configuration.rendered_name(),
                    "{}",
                    session.path.display()
                );
                // predbench's queue runs name their confirm window; the peers
                // publish their own way.
                if configuration.sink == Some(SinkKind::Amqp) && configuration.peer.is_none() {
                    assert!(configuration.confirm_window.is_some());
                }
            }
        }
    }

    #[test]
    fn bad_files_are_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let session = dir.path().join("compare-x");
        fs::create_dir_all(&session).unwrap();
        let file = session.join(RECORDS_FILE);
        for (text, expected) in [
            (r#"[{"format_version": 0}]"#, "format version 0"),
            (r#"{"format_version": 3, "runs": []}"#, "format version 3"),
            (r#"{"format_version": 2, "runs": [{"#, "not JSON"),
            (r#"{"format_version": 2, "runs": []}"#, "does not parse"),
            (r#"{"runs": []}"#, "no format_version"),
        ] {
            fs::write(&file, text).unwrap();
            let error = format!("{:#}", load_sessions(dir.path()).unwrap_err());
            assert!(error.contains(expected), "{text}: {error}");
            assert!(error.contains("compare-x"), "{error}");
        }
        let empty = tempfile::tempdir().unwrap();
        let error = load_sessions(empty.path()).unwrap_err().to_string();
        assert!(error.contains("no sessions"), "{error}");
    }

    #[test]
    fn a_failure_headline_skips_stack_frames() {
        let detail = "exit status 1: Caused by: java.io.IOException: No space left on device\n\
                      \tat java.base/java.io.FileOutputStream.writeBytes(Native Method)\n\
                      \t... 51 more\n\nCommand exited with non-zero status 1";
        assert_eq!(
            headline(detail, 160),
            "exit status 1: Caused by: java.io.IOException: No space left on device"
        );
        assert_eq!(headline(detail, 14), "exit status 1:…");
        assert_eq!(
            FailureCause::classify(detail, Some(1), 0, 1),
            FailureCause::NoSpace
        );
    }

    #[test]
    fn a_cause_named_higher_up_in_the_log_is_found() {
        let failure = Failure {
            cause: FailureCause::Exit,
            detail: "exit code 1: py4j.protocol.Py4JJavaError: <exception str() failed>".into(),
        };
        let log =
            "INFO starting\nCaused by: java.io.IOException: No space left on device\n\tat x\n";
        let found = failure.clone().with_cause_from_log(log);
        assert_eq!(found.cause, FailureCause::NoSpace);
        assert_eq!(
            found.headline(),
            "in the log: Caused by: java.io.IOException: No space left on device"
        );
        // A log that names nothing, or a failure already known, stays as it was.
        assert_eq!(
            failure.clone().with_cause_from_log("INFO all fine"),
            failure
        );
        let killed = Failure {
            cause: FailureCause::TimedOut,
            detail: "timed out".into(),
        };
        assert_eq!(killed.clone().with_cause_from_log(log), killed);
    }

    #[test]
    fn short_reasons() {
        let reason = |text: &str| short_reason(&[text.to_string()]).unwrap();
        assert_eq!(
            reason("message 0 writes a bare NaN (not JSON) at line 1 column 1136"),
            "NaN written bare: invalid JSON"
        );
        assert_eq!(
            reason(
                "message 0, prediction 4 (id x, sequential id 4624): column class_13: expected NaN, the export has null"
            ),
            "NaN → null"
        );
        assert_eq!(short_reason(&[]), None);
    }
}
