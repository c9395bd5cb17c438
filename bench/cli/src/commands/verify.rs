//! `predbench verify`: an export (a file, part files, or a queue drained
//! first) proven complete and correct against its dataset; exit code 1 when not.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use predbench_exporter::queue::{AmqpTarget, DrainOptions, drain};
use predbench_exporter::verify::{VerifyOptions, verify};
use predbench_exporter::{Dataset, Grouping};

use crate::cli::VerifyArgs;
use crate::cli::convert::{grouping, non_finite};
use crate::commands::drain::describe;
use crate::commands::export::describe_grouping;
use crate::progress::available_cores;

/// Runs `predbench verify`: exit code 0 when the export is complete and correct, 1 otherwise.
pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let dataset = Dataset::open(&args.input)
        .with_context(|| format!("cannot read dataset {}", args.input.display()))?;
    let text = args.messages.to_string_lossy().into_owned();
    // A queue is drained into a temporary file first, then verified.
    let drained = if text.starts_with("amqp://") {
        let target = AmqpTarget::parse(&text)?;
        let directory = tempfile::tempdir().context("cannot make a temporary directory")?;
        let path = directory.path().join("drained");
        // The export is done: the queue holds every message, so a short
        // silence means the end.
        let options = DrainOptions {
            idle: Duration::from_secs(2),
            ..DrainOptions::default()
        };
        let started = Instant::now();
        let summary = drain(&target, &path, &options)?;
        println!(
            "{}",
            describe(&target, &path, &summary, started.elapsed().as_secs_f64())
        );
        Some((directory, path))
    } else {
        None
    };
    let args = VerifyArgs {
        messages: drained
            .as_ref()
            .map_or_else(|| args.messages.clone(), |(_, path)| path.clone()),
        ..args
    };
    if !args.messages.exists() {
        bail!("messages file {} does not exist", args.messages.display());
    }
    let options = VerifyOptions {
        layout_grouping: grouping(args.grouping),
        group_size: args.group_size,
        any_grouping: args.any_grouping,
        id_column: args.id_column.clone(),
        non_finite: non_finite(args.non_finite),
        max_message_bytes: args.max_message_bytes,
        time_zone: args.time_zone,
        max_reported: args.max_problems,
        threads: args.threads.unwrap_or_else(available_cores),
    };
    let report = verify(&dataset, &args.messages, &options)
        .with_context(|| format!("cannot verify {}", args.messages.display()))?;
    for problem in &report.first_problems {
        println!("problem: {problem}");
    }
    let what = if args.any_grouping {
        "every id once, values equal".to_string()
    } else {
        let full = if options.layout_grouping == Grouping::Packed {
            ", every message full"
        } else {
            ""
        };
        format!(
            "{}, every id once, values equal{full}",
            describe_grouping(
                options.layout_grouping,
                args.group_size,
                args.max_message_bytes
            )
        )
    };
    if report.is_ok() {
        println!(
            "ok: {} messages, {} predictions, {} dataset rows ({what})",
            report.messages, report.predictions, report.dataset_rows
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "FAILED: {} problems in {} messages, {} predictions, {} dataset rows ({what})",
            report.problems, report.messages, report.predictions, report.dataset_rows
        );
        Ok(ExitCode::FAILURE)
    }
}
