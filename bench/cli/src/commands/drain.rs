//! `predbench drain`: a queue (or Kafka topic) predbench filled, consumed into a directory of
//! Parquet parts in message_id order without duplicates, each part committed
//! before its messages are acknowledged.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use predbench_exporter::QueueSpec;
use predbench_exporter::delivery::DrainOptions;
use predbench_generator::parquet_output::parquet_codec;

use super::describe;
use crate::args::DrainArgs;
use crate::progress::peak_rss_bytes;
use crate::summary::{CommandSummary, Counts, DrainedCounts, settings};

/// Runs `predbench drain`.
pub fn run(args: DrainArgs) -> anyhow::Result<ExitCode> {
    let queue = QueueSpec::parse(&args.from)?;
    let options = DrainOptions {
        first_id: args.first_group,
        last_id: args.last_group,
        until_empty: args.until_empty,
        idle: Duration::from_secs(args.idle_seconds),
        window_bytes: args.window_bytes,
        part_bytes: args.part_bytes,
        compression: parquet_codec(args.compression),
        force: args.force,
        any_order: args.any_order,
    };
    let started = Instant::now();
    let summary = queue.drain(&args.messages, &options)?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.output.summary_json {
        CommandSummary {
            counts: Counts {
                rows: summary.predictions,
                input_bytes: 0,
                output_bytes: summary.output_bytes,
                message_bytes: Some(summary.message_bytes),
                messages: Some(summary.messages),
                spilled_bytes: None,
            },
            elapsed_seconds: elapsed,
            peak_rss_bytes: peak_rss_bytes(),
            settings: settings([
                ("prefetch", serde_json::json!(summary.prefetch)),
                ("window_bytes", serde_json::json!(args.window_bytes)),
                ("part_bytes", serde_json::json!(args.part_bytes)),
                ("any_order", serde_json::json!(args.any_order)),
            ]),
            drained: Some(DrainedCounts {
                received: summary.received,
                duplicates: summary.duplicates,
                missing: summary.missing,
            }),
        }
        .write(path)?;
    }
    if !args.output.quiet {
        let line = describe::drained(&queue.describe(), &args.messages, &summary, elapsed);
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
