//! Why a run failed, in kinds the report says in words: the tool's own
//! words (out of memory, out of disk space), the kernel's out-of-memory
//! killer, a timeout, a signal; and a failure's headline and a
//! verification's first problem in a few words, for a table cell.

use serde::{Deserialize, Serialize};

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
    /// Error", Java's `OutOfMemoryError`, DataFusion's memory pool "Failed to
    /// allocate additional ..." in Sail).
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
            || lower.contains("failed to allocate additional")
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

    /// The failure as today's [`FailureCause::classify`] reads it: a record
    /// written before the classifier knew a tool's words for running out of
    /// memory or disk says only "failed", though its `detail` (the end of
    /// the log) names the cause. Only such a generic failure changes, as
    /// [`Failure::with_cause_from_log`] changes it, with `detail` as the log.
    pub fn reclassified(self) -> Failure {
        let detail = self.detail.clone();
        self.with_cause_from_log(&detail)
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_memory_pool_exhausted_in_sail_is_out_of_memory() {
        // Sail's log, session 2026-12-06T16:47:37Z: the error, then the
        // server's shutdown lines, which end the log.
        let detail = "exit code 1: sail failed: AnalysisException: Failed to allocate additional 3.3 MB \
                      for ParquetSink(ArrowColumnWriter) with 1826.2 MB already allocated for this \
                      reservation - 1347.6 KB remain available for the total memory pool: \
                      fair(pool_size: 7.5 GB)\n\
                      [2026-12-06T18:05:42Z INFO sail_python::spark::server] The Spark Connect server has stopped.";
        let recorded = Failure {
            cause: FailureCause::Exit,
            detail: detail.into(),
        };
        let read = recorded.reclassified();
        assert_eq!(read.cause, FailureCause::OutOfMemory);
        assert!(
            read.headline().starts_with(
                "in the log: exit code 1: sail failed: AnalysisException: Failed to allocate"
            ),
            "{}",
            read.headline()
        );
        // A generic failure that names no cause stays as recorded.
        let generic = Failure {
            cause: FailureCause::Exit,
            detail: "exit code 2: usage: sail_export.py".into(),
        };
        assert_eq!(generic.clone().reclassified(), generic);
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
