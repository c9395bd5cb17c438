//! Runs one command as a child process and measures it the way
//! `/usr/bin/time` does: wall time around spawn and reap, and the kernel's
//! resource usage of the child's tree from `wait4`.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// What a finished child cost and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildMeasurement {
    /// Whether it ran past its time limit and was killed.
    pub timed_out: bool,
    /// Processes the kernel's out-of-memory killer ended while it ran
    /// (`oom_kill` of `/proc/vmstat`; on a machine running one benchmark at a
    /// time, its own tree).
    pub oom_kills: u64,
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
/// waits for it and measures it. With a `time_limit` the child runs in a
/// process group of its own, and the whole group (a Spark job's JVM too) is
/// killed when the limit passes. Errors only when the child cannot be started.
pub fn run_measured(
    program: &str,
    args: &[String],
    log: &Path,
    time_limit: Option<Duration>,
) -> anyhow::Result<ChildMeasurement> {
    let log_file =
        File::create(log).with_context(|| format!("cannot create log {}", log.display()))?;
    let error_file = log_file
        .try_clone()
        .with_context(|| format!("cannot reopen log {}", log.display()))?;
    let oom_kills_before = oom_kill_count();
    let started = Instant::now();
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(error_file);
    if time_limit.is_some() {
        command.process_group(0);
    }
    let child = command
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let pid = child.id() as libc::pid_t;
    let (reaped_sender, reaped_receiver) = std::sync::mpsc::channel::<()>();
    let watchdog = time_limit.map(|limit| {
        std::thread::spawn(move || {
            let expired = reaped_receiver.recv_timeout(limit)
                == Err(std::sync::mpsc::RecvTimeoutError::Timeout);
            if expired {
                // SAFETY: signalling the child's own process group, made above.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
            expired
        })
    });
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
    drop(reaped_sender);
    let timed_out = watchdog.is_some_and(|watchdog| watchdog.join().unwrap_or(false));
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
        timed_out,
        oom_kills: oom_kill_count().saturating_sub(oom_kills_before),
        wall,
        user: timeval(usage.ru_utime),
        system: timeval(usage.ru_stime),
        // Linux reports kibibytes.
        peak_rss_bytes: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        exit,
    })
}

/// Runs a command that prepares something without being measured; its
/// failure ends the comparison.
pub fn run_unmeasured(command: &[String], log: &Path) -> anyhow::Result<()> {
    let measurement = run_measured(&command[0], &command[1..], log, None)?;
    if !measurement.exit.success() {
        anyhow::bail!("{}: {}", measurement.exit, log_tail(log, 5));
    }
    Ok(())
}

/// The kernel's count of processes its out-of-memory killer ended (0 where unknown).
fn oom_kill_count() -> u64 {
    std::fs::read_to_string("/proc/vmstat")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("oom_kill "))
                .and_then(|count| count.trim().parse().ok())
        })
        .unwrap_or(0)
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
            None,
        )
        .unwrap();
        assert_eq!(measurement.exit, ChildExit::Code(3));
        assert!(!measurement.timed_out);
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
            None,
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
        let error = run_measured("/nonexistent/program", &[], &dir.path().join("log"), None)
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent/program"), "{error}");
    }

    #[test]
    fn a_child_past_its_time_limit_is_killed_with_its_own_children() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let started = Instant::now();
        // The shell and its background `sleep` are killed together.
        let measurement = run_measured(
            "sh",
            &["-c".into(), "sleep 30 & sleep 30; echo never".into()],
            &log,
            Some(Duration::from_millis(300)),
        )
        .unwrap();
        assert!(measurement.timed_out);
        assert_eq!(measurement.exit, ChildExit::Signal(libc::SIGKILL));
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!std::fs::read_to_string(&log).unwrap().contains("never"));
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
