//! `predbench verify`: an export (a file, part files, or a queue drained
//! first) proven complete and correct against its dataset; exit code 1 when not.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use predbench_exporter::QueueSpec;
use predbench_exporter::delivery::DrainOptions;
use predbench_exporter::verify::{VerifyOptions, VerifyReport, verify};
use predbench_exporter::{Dataset, Grouping};
use tempfile::TempDir;

use super::describe;
use crate::args::VerifyArgs;
use crate::progress::available_cores;

/// Runs `predbench verify`: exit code 0 when the export is complete and correct, 1 otherwise.
pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let dataset = Dataset::open(&args.input)
        .with_context(|| format!("cannot read dataset {}", args.input.display()))?;
    // A queue is drained into a temporary directory first, then verified.
    let drained = drain_queue(&args)?;
    let messages = drained
        .as_ref()
        .map_or_else(|| args.messages.clone(), |(_, path)| path.clone());
    if !messages.exists() {
        bail!("messages file {} does not exist", messages.display());
    }
    let options = VerifyOptions {
        layout_grouping: args.grouping,
        group_size: args.group_size,
        any_grouping: args.any_grouping,
        any_message_order: args.any_message_order,
        id_column: args.id_column.clone(),
        non_finite: args.non_finite,
        max_message_bytes: args.max_message_bytes,
        time_zone: args.time_zone,
        max_reported: args.max_problems,
        threads: args.threads.unwrap_or_else(available_cores),
    };
    let report = verify(&dataset, &messages, &options)
        .with_context(|| format!("cannot verify {}", messages.display()))?;
    for problem in &report.first_problems {
        println!("problem: {problem}");
    }
    println!("{}", verdict(&args, &report));
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// For `--messages amqp://...` or `kafka://...`: the queue drained into a temporary
/// directory (kept alive by the returned handle), and the directory.
fn drain_queue(args: &VerifyArgs) -> anyhow::Result<Option<(TempDir, PathBuf)>> {
    let text = args.messages.to_string_lossy();
    if !QueueSpec::is_queue(&text) {
        return Ok(None);
    }
    let queue = QueueSpec::parse(&text)?;
    let directory = tempfile::tempdir().context("cannot make a temporary directory")?;
    let path = directory.path().join("drained");
    // The export is done: the queue holds every message.
    let options = DrainOptions {
        until_empty: true,
        idle: Duration::from_secs(2),
        ..DrainOptions::default()
    };
    let started = Instant::now();
    let summary = queue.drain(&path, &options)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        describe::drained(&queue.describe(), &path, &summary, seconds)
    );
    Ok(Some((directory, path)))
}

/// `ok: 101 messages, ...` or `FAILED: 3 problems in ...`, with what was checked.
fn verdict(args: &VerifyArgs, report: &VerifyReport) -> String {
    let what = if args.any_grouping {
        "every id once, values equal".to_string()
    } else if args.any_message_order {
        format!(
            "{}, in any message order, every id once, values equal",
            describe::grouping(args.grouping, args.group_size, args.max_message_bytes)
        )
    } else {
        let full = if args.grouping == Grouping::Packed {
            ", every message full"
        } else {
            ""
        };
        format!(
            "{}, every id once, values equal{full}",
            describe::grouping(args.grouping, args.group_size, args.max_message_bytes)
        )
    };
    if report.is_ok() {
        format!(
            "ok: {} messages, {} predictions, {} dataset rows ({what})",
            report.messages, report.predictions, report.dataset_rows
        )
    } else {
        format!(
            "FAILED: {} problems in {} messages, {} predictions, {} dataset rows ({what})",
            report.problems, report.messages, report.predictions, report.dataset_rows
        )
    }
}
