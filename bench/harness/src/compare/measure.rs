//! Runs one planned configuration once as a measured child process and turns
//! what happened into a [`RunRecord`]: the invocation (with `--summary-json`
//! and `/usr/bin/time -v` around it), the outcome (and why it failed), the
//! verification of the first run's output, the record, one printed line.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use predbench_common::units::format_bytes;

use super::child::{ChildExit, ChildMeasurement, log_tail, run_measured, time_v_wall_seconds};
use super::datasets::remove_output;
use super::plan::Plan;
use super::session::{Session, TIME_PROGRAM};
use crate::record::{
    DATASET_PREDBENCH, Failure, FailureCause, RunKind, RunRecord, RunStatus, Verification,
    short_reason,
};
use predbench::summary::{CommandSummary, Counts};

/// Where a run's files go inside the session's log directory.
struct RunFiles {
    log: PathBuf,
    summary: PathBuf,
    time: PathBuf,
    verify_log: PathBuf,
}

impl RunFiles {
    fn new(session: &Session, plan: &Plan, run: u32) -> RunFiles {
        let configuration = &plan.configuration;
        let dataset = if configuration.dataset == DATASET_PREDBENCH {
            ""
        } else {
            configuration.dataset.as_str()
        };
        let slug: String = format!(
            "{}-{}-{dataset}-run{run}",
            configuration.name, configuration.rows
        )
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
        let file = |suffix: &str| session.log_dir.join(format!("{slug}{suffix}"));
        RunFiles {
            log: file(".log"),
            summary: file(".summary.json"),
            time: file(".time"),
            verify_log: file(".verify.log"),
        }
    }
}

/// Runs `plan` once (its `run`-th time) and describes it; the caller cleans
/// up and then adds the record to the session (a disk a failed run filled
/// must be freed before the records are saved). The first run's output is
/// verified when the plan says how.
pub fn measure(session: &Session, plan: &Plan, run: u32) -> anyhow::Result<RunRecord> {
    let configuration = &plan.configuration;
    let files = RunFiles::new(session, plan, run);
    session.bar.set_message(format!(
        "{} rows: {} (run {run})",
        configuration.rows, configuration.name
    ));
    if let Some(scratch) = plan
        .scratch
        .as_ref()
        .filter(|_| plan.scratch_may_be_directory)
    {
        // What an interrupted session left at a peer's output path: the
        // peers refuse to overwrite.
        remove_output(scratch, true);
    }
    let started_at = super::machine::utc_now();
    let measurement = match &plan.unavailable {
        Some(_) => None,
        None => {
            let (program, arguments) = invocation(session, plan, &files);
            Some(run_measured(
                &program,
                &arguments,
                &files.log,
                plan.time_limit,
            )?)
        }
    };
    let (summary, failure) = outcome(plan, measurement.as_ref(), &files);
    let verification = match &plan.verify {
        Some(verify) if run == 1 && failure.is_none() => {
            session.bar.set_message(format!(
                "{} rows: verifying {}",
                configuration.rows, configuration.name
            ));
            Some(run_verification(session, verify, &files.verify_log)?)
        }
        _ => None,
    };
    let record = build_record(
        session,
        plan,
        (run, started_at),
        measurement,
        summary,
        failure,
        verification,
        &files,
    );
    session.say(&result_line(&record));
    session.bar.inc(1);
    Ok(record)
}

/// The program and arguments to spawn: the configuration's command, with
/// `--summary-json` when it writes one, under `/usr/bin/time -v` when there.
fn invocation(session: &Session, plan: &Plan, files: &RunFiles) -> (String, Vec<String>) {
    let mut command = plan.configuration.command.clone();
    if plan.wants_summary {
        command.push("--summary-json".into());
        command.push(files.summary.display().to_string());
    }
    if session.use_time {
        let mut wrapped = vec![
            "-v".to_string(),
            "-o".into(),
            files.time.display().to_string(),
        ];
        wrapped.extend(command);
        (TIME_PROGRAM.to_string(), wrapped)
    } else {
        let program = command.remove(0);
        (program, command)
    }
}

/// The child's summary (empty when it wrote none) and why it failed, if it did.
fn outcome(
    plan: &Plan,
    measurement: Option<&ChildMeasurement>,
    files: &RunFiles,
) -> (CommandSummary, Option<Failure>) {
    let Some(measurement) = measurement else {
        let failure = Failure {
            cause: FailureCause::Unavailable,
            detail: plan.unavailable.clone().unwrap_or_default(),
        };
        return (CommandSummary::default(), Some(failure));
    };
    if measurement.timed_out {
        let limit = plan.time_limit.unwrap_or(Duration::ZERO).as_secs();
        let failure = Failure {
            cause: FailureCause::TimedOut,
            detail: format!(
                "timed out: killed after {limit} s (--peer-timeout): {}",
                log_tail(&files.log, 8)
            ),
        };
        return (CommandSummary::default(), Some(failure));
    }
    if !measurement.exit.success() {
        let detail = format!("{}: {}", measurement.exit, log_tail(&files.log, 8));
        let exit_code = exit_code(measurement.exit);
        // Under /usr/bin/time a SIGKILLed child makes time exit with 137.
        let sigkill =
            measurement.exit == ChildExit::Signal(libc::SIGKILL) || exit_code == Some(137);
        let failure = if sigkill && measurement.oom_kills > 0 {
            Failure {
                cause: FailureCause::OomKilled,
                detail,
            }
        } else {
            // The kernel killed nothing: only the tool's own words can say
            // "out of memory", at the end of its log or higher up.
            let cause = FailureCause::classify(&detail, exit_code, 0, 1);
            let log = std::fs::read_to_string(&files.log).unwrap_or_default();
            Failure { cause, detail }.with_cause_from_log(&log)
        };
        return (CommandSummary::default(), Some(failure));
    }
    if !plan.wants_summary {
        return (CommandSummary::default(), None);
    }
    match CommandSummary::read(&files.summary) {
        Ok(summary) => (summary, None),
        Err(cause) => (
            CommandSummary::default(),
            Some(Failure {
                cause: FailureCause::NoSummary,
                detail: format!("{cause:#}"),
            }),
        ),
    }
}

fn exit_code(exit: ChildExit) -> Option<i32> {
    match exit {
        ChildExit::Code(code) => Some(code),
        ChildExit::Signal(_) => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn build_record(
    session: &Session,
    plan: &Plan,
    (run, started_at): (u32, String),
    measurement: Option<ChildMeasurement>,
    summary: CommandSummary,
    failure: Option<Failure>,
    verification: Option<Verification>,
    files: &RunFiles,
) -> RunRecord {
    let configuration = &plan.configuration;
    let output_bytes = match (configuration.kind, &failure) {
        (RunKind::DiskFloor, None) => plan
            .scratch
            .as_ref()
            .and_then(|path| fs::metadata(path).ok())
            .map_or(0, |metadata| metadata.len()),
        _ => summary.counts.output_bytes,
    };
    // A shard exports its share of the dataset's rows; a floor and a baseline read none.
    let rows = match configuration.kind {
        RunKind::DiskFloor | RunKind::Publish => 0,
        RunKind::ExportShard => summary.counts.rows,
        _ => configuration.rows,
    };
    let time_v_wall_seconds = measurement
        .as_ref()
        .filter(|_| session.use_time)
        .and_then(|_| time_v_wall_seconds(&files.time));
    let mut recorded = configuration.clone();
    recorded.command = session.relative(&configuration.command);
    RunRecord {
        configuration: recorded,
        run,
        started_at,
        status: if failure.is_none() {
            RunStatus::Ok
        } else {
            RunStatus::Failed
        },
        exit_code: measurement.as_ref().and_then(|m| exit_code(m.exit)),
        wall_seconds: measurement.as_ref().map_or(0.0, |m| m.wall.as_secs_f64()),
        user_seconds: measurement.as_ref().map_or(0.0, |m| m.user.as_secs_f64()),
        system_seconds: measurement.as_ref().map_or(0.0, |m| m.system.as_secs_f64()),
        peak_rss_bytes: measurement.as_ref().map_or(0, |m| m.peak_rss_bytes),
        failure,
        time_v_wall_seconds,
        counts: Counts {
            rows,
            output_bytes,
            ..summary.counts
        },
        log: relative_log(session, &files.log),
        verification,
        observations: plan.observations.clone(),
        settings: summary.settings,
        drained: summary.drained,
        broker_restart: None,
        broker_peak_rss_bytes: None,
    }
}

fn relative_log(session: &Session, log: &Path) -> String {
    log.strip_prefix(&session.directory)
        .unwrap_or(log)
        .display()
        .to_string()
}

/// Runs a verify command as a measured child and reads its verdict.
fn run_verification(
    session: &Session,
    command: &[String],
    log: &Path,
) -> anyhow::Result<Verification> {
    let measurement = run_measured(&command[0], &command[1..], log, None)?;
    let text = fs::read_to_string(log).unwrap_or_default();
    let mut findings: Vec<String> = text
        .lines()
        .filter(|line| line.starts_with("problem: "))
        .take(3)
        .map(|line| {
            session.relative(&[line.trim_start_matches("problem: ").to_string()])[0].clone()
        })
        .collect();
    if let Some(verdict) = text.lines().rev().find(|line| !line.trim().is_empty()) {
        findings.push(verdict.to_string());
    }
    let ok = measurement.exit.success();
    Ok(Verification {
        ok,
        command: session.relative(command),
        wall_seconds: measurement.wall.as_secs_f64(),
        user_seconds: measurement.user.as_secs_f64(),
        system_seconds: measurement.system.as_secs_f64(),
        peak_rss_bytes: measurement.peak_rss_bytes,
        reason: if ok { None } else { short_reason(&findings) },
        findings,
    })
}

/// `    6000000 rows  export rayon modulo parquet   run 1:  7.05 s  peak RSS 521.0 MiB  verified`.
fn result_line(record: &RunRecord) -> String {
    let configuration = &record.configuration;
    let verdict = match &record.verification {
        Some(verification) if verification.ok => "  verified".to_string(),
        Some(verification) => format!(
            "  NOT VERIFIED: {}",
            verification.findings.first().map_or("", String::as_str)
        ),
        None => String::new(),
    };
    let result = match &record.failure {
        None => format!(
            "{:8.2} s  peak RSS {:>10}{verdict}",
            record.wall_seconds,
            format_bytes(record.peak_rss_bytes)
        ),
        Some(failure) => format!(
            "FAILED, {} ({})",
            failure.cause.describe(),
            failure.headline()
        ),
    };
    format!(
        "{:>11} rows  {:<40} run {}: {result}",
        configuration.rows, configuration.name, record.run
    )
}
