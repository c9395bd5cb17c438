//! Runs one command as a child process and measures it the way
//! `/usr/bin/time` does: wall time around spawn and reap, and the kernel's
//! resource usage of the child's tree from `wait4`.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// What a finished child cost and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildMeasurement {
    /// Spawn to reap.
    pub wall: Duration,
    /// User CPU time of the child and the descendants it waited for.
    pub user: Duration,
    /// System CPU time of the child and the descendants it waited for.
    pub system: Duration,
    /// Largest resident set size in the tree, in bytes.
    pub peak_rss_bytes: u64,
    /// How it ended.
    pub exit: ChildExit,
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl ChildExit {
    /// Exit code 0.
    pub fn success(self) -> bool {
        self == ChildExit::Code(0)
    }
}

impl std::fmt::Display for ChildExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChildExit::Code(code) => write!(f, "exit code {code}"),
            ChildExit::Signal(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

/// Runs `program args...` with standard output and error appended to `log`,
/// waits for it and measures it. Errors only when the child cannot be started.
pub fn run_measured(
    program: &str,
    args: &[String],
    log: &Path,
) -> anyhow::Result<ChildMeasurement> {
    let log_file =
        File::create(log).with_context(|| format!("cannot create log {}", log.display()))?;
    let error_file = log_file
        .try_clone()
        .with_context(|| format!("cannot reopen log {}", log.display()))?;
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(error_file)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data that the kernel fills in; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = loop {
        // SAFETY: `pid` is our own child, not yet reaped (std's `Child` reaps only
        // in `wait`/`try_wait`, which are never called); the pointers are valid.
        let result = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if result == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        }
        break result;
    };
    let wall = started.elapsed();
    if reaped != pid {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("cannot wait for {program} (pid {pid})"));
    }
    let exit = if libc::WIFEXITED(status) {
        ChildExit::Code(libc::WEXITSTATUS(status))
    } else {
        ChildExit::Signal(libc::WTERMSIG(status))
    };
    Ok(ChildMeasurement {
        wall,
        user: timeval(usage.ru_utime),
        system: timeval(usage.ru_stime),
        // Linux reports kibibytes.
        peak_rss_bytes: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        exit,
    })
}

fn timeval(value: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(value.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(value.tv_usec).unwrap_or(0))
}

/// The last `lines` non-empty lines of a log, for a failure message.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let start = tail.len().saturating_sub(lines);
    let joined = tail[start..].join("\n");
    if joined.len() > 2000 {
        let mut cut = joined.len() - 2000;
        while !joined.is_char_boundary(cut) {
            cut += 1;
        }
        joined[cut..].to_string()
    } else {
        joined
    }
}

/// Wall time `/usr/bin/time -v` wrote to `path` ("Elapsed (wall clock) time
/// (h:mm:ss or m:ss): 0:01.23"), in seconds.
pub fn time_v_wall_seconds(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let value = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Elapsed (wall clock) time"))?
        .rsplit_once(": ")?
        .1
        .trim();
    value.split(':').try_fold(0.0, |total, part| {
        part.parse::<f64>().ok().map(|number| total * 60.0 + number)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_child_and_its_exit() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let measurement = run_measured(
            "sh",
            &["-c".into(), "echo hello; echo oops >&2; exit 3".into()],
            &log,
        )
        .unwrap();
        assert_eq!(measurement.exit, ChildExit::Code(3));
        assert!(!measurement.exit.success());
        assert!(measurement.peak_rss_bytes > 0);
        assert_eq!(log_tail(&log, 1), "oops");
        assert_eq!(log_tail(&log, 5), "hello\noops");
    }

    #[test]
    fn cpu_time_of_a_busy_child_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let measurement = run_measured(
            "sh",
            &[
                "-c".into(),
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done".into(),
            ],
            &log,
        )
        .unwrap();
        assert!(measurement.exit.success());
        let cpu = measurement.user + measurement.system;
        assert!(cpu > Duration::from_millis(20), "cpu {cpu:?}");
        assert!(cpu <= measurement.wall + Duration::from_millis(20));
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = run_measured("/nonexistent/program", &[], &dir.path().join("log"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent/program"), "{error}");
    }

    #[test]
    fn reads_time_v_wall_clock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("time");
        std::fs::write(
            &path,
            "\tCommand being timed: \"x\"\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02.50\n",
        )
        .unwrap();
        assert_eq!(time_v_wall_seconds(&path), Some(62.5));
        std::fs::write(
            &path,
            "\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:00:01\n",
        )
        .unwrap();
        assert_eq!(time_v_wall_seconds(&path), Some(3601.0));
    }
}
