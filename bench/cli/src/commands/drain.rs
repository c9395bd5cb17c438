//! `predbench drain`: a queue predbench filled, consumed into a directory of
//! Parquet parts in message_id order without duplicates, each part committed
//! before its messages are acknowledged.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use predbench_common::units::format_bytes;
use predbench_exporter::queue::{AmqpTarget, DrainOptions, DrainSummary, drain};

use crate::cli::DrainArgs;
use crate::cli::convert::parquet_compression;
use crate::progress::peak_rss_bytes;
use crate::record::DrainedCounts;
use crate::summary::CommandSummary;

/// Runs `predbench drain`.
pub fn run(args: DrainArgs) -> anyhow::Result<ExitCode> {
    let target = AmqpTarget::parse(&args.from)?;
    let options = DrainOptions {
        first_id: args.first_group,
        last_id: args.last_group,
        idle: Duration::from_secs(args.idle_seconds),
        window_bytes: args.window_bytes,
        part_bytes: args.part_bytes,
        compression: parquet_compression(args.compression),
        force: args.force,
        any_order: args.any_order,
    };
    let started = Instant::now();
    let summary = drain(&target, &args.messages, &options)?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.summary_json {
        CommandSummary {
            rows: summary.predictions,
            input_bytes: 0,
            output_bytes: summary.output_bytes,
            message_bytes: Some(summary.message_bytes),
            messages: Some(summary.messages),
            spilled_bytes: None,
            elapsed_seconds: elapsed,
            peak_rss_bytes: peak_rss_bytes(),
            settings: [
                ("prefetch", serde_json::json!(summary.prefetch)),
                ("window_bytes", serde_json::json!(args.window_bytes)),
                ("part_bytes", serde_json::json!(args.part_bytes)),
                ("any_order", serde_json::json!(args.any_order)),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect(),
            drained: Some(DrainedCounts {
                received: summary.received,
                duplicates: summary.duplicates,
                missing: summary.missing,
            }),
        }
        .write(path)?;
    }
    if !args.quiet {
        println!("{}", describe(&target, &args.messages, &summary, elapsed));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of what a drain did.
pub fn describe(
    target: &AmqpTarget,
    output: &Path,
    summary: &DrainSummary,
    seconds: f64,
) -> String {
    format!(
        "drained {} messages from {} into {} ({} parts): {} written ({} predictions, {} of JSON), \
         {} duplicates dropped{} in {seconds:.2} s, prefetch {} messages, peak RSS {}",
        summary.received,
        target.describe(),
        output.display(),
        summary.parts,
        summary.messages,
        summary.predictions,
        format_bytes(summary.message_bytes),
        summary.duplicates,
        if summary.missing > 0 {
            format!(", {} groups MISSING", summary.missing)
        } else {
            String::new()
        },
        summary.prefetch,
        peak_rss_bytes().map_or_else(|| "unknown".to_string(), format_bytes),
    )
}
