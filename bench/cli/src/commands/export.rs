//! `predbench export`: the flags into the exporter's options, the sink
//! opened (a file, a shard's part, a queue resumed from its checkpoint), the
//! export run with a progress bar, one line of what it cost.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use predbench_common::units::format_bytes;
use predbench_exporter::delivery::{self, Checkpointing, QueueStart, Resume};
use predbench_exporter::message::check_schema;
use predbench_exporter::sharded::{self, DatasetFingerprint, ShardedExport};
use predbench_exporter::{
    Dataset, EncoderChoice, ExportOptions, ExportSummary, Grouping, MessageOptions, SinkSpec,
    decode_only,
};

use super::describe;
use crate::args::ExportArgs;
use crate::convert::{export_options, sink_settings};
use crate::progress::{available_cores, peak_rss_bytes, rows_progress_bar};
use crate::summary::{CommandSummary, Counts, settings};

/// Runs `predbench export`.
pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let sink = SinkSpec::parse(&args.sink)?;
    let options = export_options(&args, args.threads.unwrap_or_else(available_cores));
    options.validate()?;
    let dataset = Dataset::open(&args.input)
        .with_context(|| format!("cannot read dataset {}", args.input.display()))?;
    // A column Spark cannot write is named before any output is made.
    check_schema(&dataset.schema)
        .with_context(|| format!("cannot export {}", args.input.display()))?;
    if args.decode_only {
        return decode(&args, &options, &dataset, &sink);
    }
    let sharded_output = prepare_shard(&options, &dataset, &sink)?;
    let sink = match &sharded_output {
        Some((directory, _)) => {
            SinkSpec::Parquet(directory.join(sharded::part_file_name(options.shard)))
        }
        None => sink,
    };
    let mut settings = sink_settings(&args);
    let options = match &sink {
        SinkSpec::Amqp(target) => match queue_start(&args, options, &dataset, target)? {
            Some((options, start, checkpointing)) => {
                settings.amqp.first_group = start.first_message;
                settings.amqp.predictions_before = start.predictions_before;
                settings.amqp.checkpoint = checkpointing;
                options
            }
            None => return Ok(ExitCode::SUCCESS),
        },
        SinkSpec::Kafka(target) => match queue_start(&args, options, &dataset, target)? {
            Some((options, start, checkpointing)) => {
                settings.kafka.first_group = start.first_message;
                settings.kafka.predictions_before = start.predictions_before;
                settings.kafka.checkpoint = checkpointing;
                options
            }
            None => return Ok(ExitCode::SUCCESS),
        },
        _ => options,
    };
    let bar = rows_progress_bar(dataset.rows, args.output.quiet);
    let summary = sink
        .export(&dataset, &options, &settings, &mut |rows| {
            bar.set_position(rows)
        })
        .with_context(|| format!("export of {} failed", args.input.display()))?;
    bar.finish_and_clear();
    if let Some((directory, export)) = sharded_output {
        let record = sharded::shard_record(options.shard, export, &summary);
        sharded::write_record(&directory, &record)?;
    }
    report_export(&args, &options, &summary, &sink, "")
}

/// `--decode-only`: the reader alone, into nothing.
fn decode(
    args: &ExportArgs,
    options: &ExportOptions,
    dataset: &Dataset,
    sink: &SinkSpec,
) -> anyhow::Result<ExitCode> {
    if *sink != SinkSpec::Null {
        bail!("invalid argument --sink: --decode-only writes nothing; give --sink null");
    }
    let bar = rows_progress_bar(dataset.rows, args.output.quiet);
    let summary = decode_only(dataset, options, &mut |rows| bar.set_position(rows))
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    bar.finish_and_clear();
    report_export(args, options, &summary, sink, "decoded only")
}

/// Where an export to a queue (any broker's) starts: at the beginning, or
/// with `--resume` where `--checkpoint` says; with the checkpoint to keep.
/// `None` when the checkpoint says the export is complete.
fn queue_start(
    args: &ExportArgs,
    options: ExportOptions,
    dataset: &Dataset,
    target: &impl serde::Serialize,
) -> anyhow::Result<Option<(ExportOptions, QueueStart, Option<Checkpointing>)>> {
    let checkpoint = args.checkpoint.as_deref();
    let (options, start, from) =
        match delivery::plan_resume(&options, dataset, target, checkpoint, args.resume)? {
            Resume::Complete => {
                if !args.output.quiet {
                    println!(
                        "checkpoint {} says the export is complete: nothing to publish",
                        checkpoint.map_or_else(String::new, |path| path.display().to_string())
                    );
                }
                return Ok(None);
            }
            Resume::Publish {
                options,
                start,
                from,
            } => (options, start, from),
        };
    if let (Some(from), false) = (from, args.output.quiet) {
        let row = match options.grouping {
            Grouping::Packed => format!(" at row {}", options.resume_from_group),
            Grouping::Modulo | Grouping::Contiguous => String::new(),
        };
        eprintln!(
            "resuming from group {}{row} (every message before it is confirmed)",
            from.confirmed_below
        );
    }
    let checkpointing = args.checkpoint.as_ref().map(|path| Checkpointing {
        path: path.clone(),
        identity: delivery::identity(&options, dataset, target),
    });
    Ok(Some((options, start, checkpointing)))
}

/// Writes --summary-json and prints the one-line account of an export;
/// `mode` names a run that is not a plain export ("decoded only").
fn report_export(
    args: &ExportArgs,
    options: &ExportOptions,
    summary: &ExportSummary,
    sink: &SinkSpec,
    mode: &str,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.output.summary_json {
        CommandSummary {
            counts: Counts {
                rows: summary.input_rows,
                input_bytes: summary.input_bytes,
                output_bytes: summary.sink.output_bytes,
                message_bytes: Some(summary.sink.message_bytes),
                messages: Some(summary.sink.messages),
                spilled_bytes: Some(summary.spilled_bytes),
            },
            elapsed_seconds: summary.elapsed.as_secs_f64(),
            peak_rss_bytes: peak_rss_bytes(),
            settings: settings([
                ("threads", serde_json::json!(options.threads)),
                ("chunk_rows", serde_json::json!(options.chunk_rows)),
                ("compression", serde_json::json!(args.compression.name())),
            ]),
            drained: None,
        }
        .write(path)?;
    }
    if !args.output.quiet {
        println!("{}", export_line(options, summary, sink, mode));
    }
    Ok(ExitCode::SUCCESS)
}

/// `rayon modulo grouping, K=10: 1000 rows -> 101 messages (...) to out.parquet in 0.05 s: ...`.
fn export_line(
    options: &ExportOptions,
    summary: &ExportSummary,
    sink: &SinkSpec,
    mode: &str,
) -> String {
    let seconds = summary.elapsed.as_secs_f64();
    let destination = summary
        .sink
        .path
        .as_ref()
        .map_or_else(|| sink.describe(), |path| path.display().to_string());
    let shard = if options.shard.is_whole() {
        String::new()
    } else {
        format!(
            " shard {} (groups {}..{})",
            options.shard, summary.groups.start, summary.groups.end
        )
    };
    let republished = summary.sink.republished.unwrap_or(0);
    let aftermath = match (summary.spilled_bytes, summary.sink.reconnects) {
        (0, Some(reconnects)) if reconnects > 0 => {
            format!(", reconnected {reconnects} times and published {republished} messages again")
        }
        (0, _) if republished > 0 => format!(", published {republished} messages again"),
        (0, _) => String::new(),
        (spilled, _) => format!(", spilled {}", format_bytes(spilled)),
    };
    format!(
        "{}{shard} {}: {} rows -> {} messages ({} of JSON, {} written) to {} in {:.2} s: \
         {:.0} rows/s, {:.1} MB/s of JSON, peak RSS {}{aftermath}",
        if mode.is_empty() {
            options.strategy.name()
        } else {
            mode
        },
        describe::grouping(
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
        describe::peak_rss(),
    )
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
        SinkSpec::Null | SinkSpec::Amqp(_) | SinkSpec::Kafka(_) => return Ok(None),
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
