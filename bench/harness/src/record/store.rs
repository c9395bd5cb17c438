//! The records on disk: a session's `records.json` written atomically after
//! every run, and every session under `results/` read back, any file that
//! is not a readable records file named with what is wrong.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use predbench_common::atomic_file::write_atomically;

use super::{Failure, RECORD_FORMAT_VERSION, SessionRecords};

/// File name of a session's records inside its directory.
pub const RECORDS_FILE: &str = "records.json";

/// Writes `records` to `path` as pretty JSON, atomically (temporary file, then rename).
pub fn save_records(path: &Path, records: &SessionRecords) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(records).expect("records always serialize");
    write_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A session's records as read from its file.
#[derive(Debug, Clone)]
pub struct LoadedSession {
    /// The `records.json` it came from.
    pub path: PathBuf,
    /// Its records (migrated to the current layout, failures read by today's
    /// classifier: [`Failure::reclassified`]).
    pub records: SessionRecords,
}

/// Reads every `records.json` under `results` (at most three levels deep),
/// sessions in id order. Any file that cannot be read as records of a known
/// format version is an error naming the file and what is wrong: a report
/// that silently left a session out could not be trusted.
pub fn load_sessions(results: &Path) -> anyhow::Result<Vec<LoadedSession>> {
    if !results.is_dir() {
        anyhow::bail!(
            "results directory {} does not exist; run `predbench-harness compare` first",
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
            "no sessions under {}: no records.json with runs; run `predbench-harness compare` first",
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

/// Reads one `records.json`.
pub fn load_session_file(path: &Path) -> anyhow::Result<SessionRecords> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON (truncated or edited by hand?)",
            path.display()
        )
    })?;
    // The first layout was an array of runs, each with its format version.
    let version = match &value {
        serde_json::Value::Array(runs) => runs.first().and_then(|run| run.get("format_version")),
        other => other.get("format_version"),
    };
    match version.and_then(serde_json::Value::as_u64) {
        Some(version) if version == u64::from(RECORD_FORMAT_VERSION) => {
            let mut records: SessionRecords = serde_json::from_value(value).with_context(|| {
                format!(
                    "{} (format version {RECORD_FORMAT_VERSION}) does not parse: a field is missing or has the wrong type",
                    path.display()
                )
            })?;
            for run in &mut records.runs {
                run.failure = run.failure.take().map(Failure::reclassified);
            }
            Ok(records)
        }
        Some(other) => anyhow::bail!(
            "{} is of records format version {other}; this predbench-harness reads version {RECORD_FORMAT_VERSION}",
            path.display()
        ),
        None => anyhow::bail!(
            "{} has no format_version: it is not a records file of `predbench-harness compare`",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::SinkKind;

    #[test]
    fn every_committed_records_file_loads() {
        let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
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
            (r#"[{"format_version": 1}]"#, "format version 1"),
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
}
