//! One `compare` invocation's state: its directory under `results/`, the
//! records written so far (saved after every run, so an interrupted session
//! keeps what it measured), and how it talks to the terminal.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::ProgressBar;
use predbench_common::units::format_bytes;

use super::machine::relative_to;
use crate::record::{
    DatasetRecord, RECORD_FORMAT_VERSION, RECORDS_FILE, RunRecord, SessionInfo, SessionRecords,
    save_records,
};

/// Where `/usr/bin/time` lives; children run under it when it exists.
pub const TIME_PROGRAM: &str = "/usr/bin/time";

/// The state of one `compare` invocation.
pub struct Session {
    /// The repository's top: paths under it are recorded relative to it.
    pub root: PathBuf,
    /// `results/compare-<time>/`.
    pub directory: PathBuf,
    /// `logs/` inside it: every child's output.
    pub log_dir: PathBuf,
    /// Everything recorded so far.
    pub records: SessionRecords,
    /// Whether children also run under `/usr/bin/time -v`.
    pub use_time: bool,
    /// Print nothing but errors.
    pub quiet: bool,
    /// Runs done out of planned.
    pub bar: ProgressBar,
}

impl Session {
    /// Makes the session's directory under `results` (named by its start time).
    pub fn open(
        results: &Path,
        info: SessionInfo,
        root: PathBuf,
        use_time: bool,
        quiet: bool,
    ) -> anyhow::Result<Session> {
        let stem = format!("compare-{}", info.id.replace(':', "-"));
        let mut directory = results.join(&stem);
        for attempt in 2.. {
            if !directory.exists() {
                break;
            }
            directory = results.join(format!("{stem}-{attempt}"));
        }
        let log_dir = directory.join("logs");
        fs::create_dir_all(&log_dir)
            .with_context(|| format!("cannot create {}", log_dir.display()))?;
        Ok(Session {
            root,
            directory,
            log_dir,
            records: SessionRecords {
                format_version: RECORD_FORMAT_VERSION,
                session: info,
                runs: Vec::new(),
            },
            use_time,
            quiet,
            bar: ProgressBar::hidden(),
        })
    }

    /// The records file.
    pub fn records_path(&self) -> PathBuf {
        self.directory.join(RECORDS_FILE)
    }

    /// A command line as records keep it: paths inside the repository relative to it.
    pub fn relative(&self, command: &[String]) -> Vec<String> {
        command
            .iter()
            .map(|argument| relative_to(&self.root, argument))
            .collect()
    }

    /// Adds a run and saves the records.
    pub fn push(&mut self, record: RunRecord) -> anyhow::Result<()> {
        self.records.runs.push(record);
        self.save()
    }

    /// Notes a dataset the session read (once per label and size).
    pub fn note_dataset(&mut self, dataset: DatasetRecord) -> anyhow::Result<()> {
        let datasets = &mut self.records.session.datasets;
        if !datasets
            .iter()
            .any(|known| known.label == dataset.label && known.rows == dataset.rows)
        {
            datasets.push(dataset);
        }
        self.save()
    }

    /// Writes the records file.
    pub fn save(&self) -> anyhow::Result<()> {
        save_records(&self.records_path(), &self.records)
    }

    /// Prints a line above the progress bar (nothing when quiet).
    pub fn say(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// The banner: commit, machine, where the records go.
    pub fn banner(&self) -> String {
        let info = &self.records.session;
        format!(
            "predbench-harness compare: {} on {} ({} cores, {}), records in {}",
            info.git_commit.as_deref().unwrap_or("no git commit"),
            info.machine.cpu_model,
            info.machine.logical_cores,
            format_bytes(info.machine.memory_bytes),
            self.records_path().display()
        )
    }
}
