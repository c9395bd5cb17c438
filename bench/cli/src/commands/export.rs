//! `predbench export`: the flags into the exporter's options, the sink
//! opened (a file, a shard's part, a queue resumed from its checkpoint), the
//! export run with a progress bar, one line of what it cost.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use predbench_common::units::format_bytes;
use predbench_exporter::message::check_schema;
use predbench_exporter::queue::{self, AmqpOptions, AmqpSink, Checkpointing, Resume};
use predbench_exporter::sharded::{self, DatasetFingerprint, ShardedExport};
use predbench_exporter::sink::{NdjsonSink, NullSink, ParquetSink};
use predbench_exporter::{
    Dataset, EncoderChoice, ExportOptions, ExportSummary, Grouping, MessageOptions, decode_only,
    export,
};

use crate::cli::ExportArgs;
use crate::cli::argv::spelling;
use crate::cli::convert::{SinkSpec, export_options, parquet_compression};
use crate::progress::{available_cores, peak_rss_bytes, rows_progress_bar};
use crate::summary::CommandSummary;

/// Runs `predbench export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let sink = SinkSpec::parse(&args.sink)?;
    let threads = args.threads.unwrap_or_else(available_cores);
    let options = export_options(&args, threads);
    options.validate()?;
    let dataset = Dataset::open(&args.input)
        .with_context(|| format!("cannot read dataset {}", args.input.display()))?;
    // A column Spark cannot write is named before any output is made.
    check_schema(&dataset.schema)
        .with_context(|| format!("cannot export {}", args.input.display()))?;
    if args.decode_only {
        if sink != SinkSpec::Null {
            bail!("invalid argument --sink: --decode-only writes nothing; give --sink null");
        }
        let bar = rows_progress_bar(dataset.rows, args.quiet);
        let summary = decode_only(&dataset, &options, &mut |rows| bar.set_position(rows))
            .with_context(|| format!("cannot read {}", args.input.display()))?;
        bar.finish_and_clear();
        return report_export(&args, &options, &summary, "decoded only");
    }
    let sharded_output = prepare_shard(&options, &dataset, &sink)?;

    let bar = rows_progress_bar(dataset.rows, args.quiet);
    let mut progress = |rows| bar.set_position(rows);
    let summary = match &sink {
        SinkSpec::Null => export(&dataset, &options, NullSink::default(), &mut progress),
        SinkSpec::Parquet(path) => {
            let path = match &sharded_output {
                Some((directory, _)) => directory.join(sharded::part_file_name(options.shard)),
                None => path.clone(),
            };
            let sink =
                ParquetSink::create(&path, parquet_compression(args.compression), args.force)?;
            export(&dataset, &options, sink, &mut progress)
        }
        SinkSpec::Ndjson(path) => export(
            &dataset,
            &options,
            NdjsonSink::create(path, args.force)?,
            &mut progress,
        ),
        SinkSpec::Amqp(target) => {
            let resume = queue::plan_resume(
                &options,
                &dataset,
                target,
                args.checkpoint.as_deref(),
                args.resume,
            )?;
            let (options, start) = match resume {
                Resume::Complete => {
                    bar.finish_and_clear();
                    if !args.quiet {
                        println!(
                            "checkpoint {} says the export is complete: nothing to publish",
                            args.checkpoint
                                .as_deref()
                                .unwrap_or(Path::new(""))
                                .display()
                        );
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                Resume::Publish {
                    options,
                    start,
                    from,
                } => {
                    if let (Some(checkpoint), false) = (from, args.quiet) {
                        let row = match options.grouping {
                            Grouping::Packed => format!(" at row {}", options.resume_from_group),
                            Grouping::Modulo | Grouping::Contiguous => String::new(),
                        };
                        eprintln!(
                            "resuming from group {}{row} (every message before it is confirmed)",
                            checkpoint.confirmed_below
                        );
                    }
                    (options, start)
                }
            };
            let sink = AmqpSink::connect(
                target.clone(),
                AmqpOptions {
                    confirm_window: args.confirm_window,
                    first_group: start.first_message,
                    predictions_before: start.predictions_before,
                    retry_for: std::time::Duration::from_secs(args.retry_seconds),
                    checkpoint: args.checkpoint.as_ref().map(|path| Checkpointing {
                        path: path.clone(),
                        identity: queue::identity(&options, &dataset, target),
                    }),
                    ..AmqpOptions::default()
                },
            )?;
            export(&dataset, &options, sink, &mut progress)
        }
    }
    .with_context(|| format!("export of {} failed", args.input.display()))?;
    bar.finish_and_clear();
    if let Some((directory, export)) = sharded_output {
        let record = sharded::shard_record(options.shard, export, &summary);
        sharded::write_record(&directory, &record)?;
    }

    report_export(&args, &options, &summary, "")
}

/// Writes --summary-json and prints the one-line account of an export;
/// `mode` names a run that is not a plain export ("decoded only").
fn report_export(
    args: &ExportArgs,
    options: &ExportOptions,
    summary: &ExportSummary,
    mode: &str,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.summary_json {
        CommandSummary {
            rows: summary.input_rows,
            input_bytes: summary.input_bytes,
            output_bytes: summary.sink.output_bytes,
            message_bytes: Some(summary.sink.message_bytes),
            messages: Some(summary.sink.messages),
            spilled_bytes: Some(summary.spilled_bytes),
            elapsed_seconds: summary.elapsed.as_secs_f64(),
            peak_rss_bytes: peak_rss_bytes(),
            settings: [
                ("threads", serde_json::json!(options.threads)),
                ("chunk_rows", serde_json::json!(options.chunk_rows)),
                ("compression", serde_json::json!(spelling(args.compression))),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect(),
            drained: None,
        }
        .write(path)?;
    }
    if !args.quiet {
        let seconds = summary.elapsed.as_secs_f64();
        let destination = match (&summary.sink.path, SinkSpec::parse(&args.sink)) {
            (Some(path), _) => path.display().to_string(),
            (None, Ok(SinkSpec::Amqp(target))) => target.describe(),
            (None, _) => "the null sink".to_string(),
        };
        let shard = if options.shard.is_whole() {
            String::new()
        } else {
            format!(
                " shard {} (groups {}..{})",
                options.shard, summary.groups.start, summary.groups.end
            )
        };
        println!(
            "{}{shard} {}: {} rows -> {} messages ({} of JSON, {} written) to {} in {:.2} s: \
             {:.0} rows/s, {:.1} MB/s of JSON, peak RSS {}{}",
            if mode.is_empty() {
                options.strategy.name()
            } else {
                mode
            },
            describe_grouping(
                options.grouping,
                options.group_size,
                options.max_message_bytes
            ),
            summary.input_rows,
            summary.sink.messages,
            format_bytes(summary.sink.message_bytes),
            format_bytes(summary.sink.output_bytes),
            destination,
            seconds,
            summary.input_rows as f64 / seconds,
            summary.sink.message_bytes as f64 / seconds / 1e6,
            peak_rss_bytes().map_or_else(|| "unknown".to_string(), format_bytes),
            match (summary.spilled_bytes, summary.sink.reconnects) {
                (0, Some(reconnects)) if reconnects > 0 => format!(
                    ", reconnected {reconnects} times and published {} messages again",
                    summary.sink.republished.unwrap_or(0)
                ),
                (0, _) => String::new(),
                (spilled, _) => format!(", spilled {}", format_bytes(spilled)),
            },
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `modulo grouping, K=10` or `packed grouping, at most 262144 bytes a message`.
pub fn describe_grouping(
    grouping: Grouping,
    group_size: u64,
    max_message_bytes: Option<u64>,
) -> String {
    match (grouping, max_message_bytes) {
        (Grouping::Packed, Some(limit)) => {
            format!("packed grouping, at most {limit} bytes a message")
        }
        (grouping, _) => format!("{} grouping, K={group_size}", grouping.name()),
    }
}

/// For a shard writing files: checks the dataset against its manifest and
/// against the other shards' records, makes the output directory, and returns
/// it with what the shards share. `None` for the whole export or the null sink.
fn prepare_shard(
    options: &ExportOptions,
    dataset: &Dataset,
    sink: &SinkSpec,
) -> anyhow::Result<Option<(PathBuf, ShardedExport)>> {
    if options.shard.is_whole() {
        return Ok(None);
    }
    let directory = match sink {
        SinkSpec::Null | SinkSpec::Amqp(_) => return Ok(None),
        SinkSpec::Parquet(directory) => directory,
        SinkSpec::Ndjson(_) => bail!(
            "invalid argument --sink: a shard writes parquet:DIR (DIR/part-IIIII.parquet) or null"
        ),
    };
    if directory.is_file() {
        bail!(
            "invalid argument --sink: {} is a file; with --shard, parquet:DIR names the directory \
             the shards write their parts into",
            directory.display()
        );
    }
    sharded::check_against_manifest(dataset)?;
    let export = ShardedExport {
        shards: options.shard.count,
        dataset: DatasetFingerprint::of(dataset),
        grouping: options.grouping,
        group_size: options.group_size,
        // Both encoders write the same bytes: the choice is not part of the export.
        message: MessageOptions {
            encoder: EncoderChoice::Auto,
            ..options.message
        },
    };
    sharded::check_other_shards(directory, &export)?;
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    Ok(Some((directory.clone(), export)))
}
