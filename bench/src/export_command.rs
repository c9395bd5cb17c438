//! `predbench export` and `predbench verify`: validate flags into the
//! exporter's settings, run with a progress bar, print what it cost.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use predbench_exporter::drain::{DrainSummary, drain};
use predbench_exporter::sharded::{self, DatasetFingerprint, ShardedExport};
use predbench_exporter::sink::{
    AmqpOptions, AmqpSink, AmqpTarget, Checkpoint, Checkpointing, MessageSink, NdjsonSink,
    NullSink, ParquetSink,
};
use predbench_exporter::verify::{VerifyOptions, verify};
use predbench_exporter::{
    Dataset, EncoderChoice, ExportOptions, ExportSummary, Grouping, MessageOptions, NonFiniteMode,
    NullMode, Strategy, decode_only, export,
};
use predbench_generator::Shard;
use predbench_generator::config::format_bytes;

use crate::cli::{
    DecodeAheadArg, DrainArgs, EncoderArg, ExportArgs, GroupingArg, NonFiniteArg, NullsArg,
    PublishArgs, StrategyArg, VerifyArgs,
};
use crate::process_stats::{available_cores, peak_rss_bytes, rows_progress_bar};
use crate::record::CommandSummary;

/// Where `--sink` sends messages.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkSpec {
    /// Discard, count.
    Null,
    /// A Parquet file with a `predicts` column.
    Parquet(PathBuf),
    /// One message per line.
    Ndjson(PathBuf),
    /// A RabbitMQ queue or exchange.
    Amqp(AmqpTarget),
}

impl SinkSpec {
    /// Parses `null`, `parquet:PATH`, `ndjson:PATH` or `amqp://...`.
    pub fn parse(text: &str) -> anyhow::Result<SinkSpec> {
        if text.starts_with("amqp://") {
            return Ok(SinkSpec::Amqp(AmqpTarget::parse(text)?));
        }
        match text.split_once(':') {
            None if text == "null" => Ok(SinkSpec::Null),
            Some(("parquet", path)) if !path.is_empty() => Ok(SinkSpec::Parquet(path.into())),
            Some(("ndjson", path)) if !path.is_empty() => Ok(SinkSpec::Ndjson(path.into())),
            _ => {
                bail!(
                    "invalid argument --sink: '{text}' is not null, parquet:PATH, ndjson:PATH \
                     or amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME"
                )
            }
        }
    }
}

pub fn grouping(arg: GroupingArg) -> Grouping {
    match arg {
        GroupingArg::Modulo => Grouping::Modulo,
        GroupingArg::Contiguous => Grouping::Contiguous,
        GroupingArg::Packed => Grouping::Packed,
    }
}

fn non_finite(arg: NonFiniteArg) -> NonFiniteMode {
    match arg {
        NonFiniteArg::String => NonFiniteMode::String,
        NonFiniteArg::Null => NonFiniteMode::Null,
        NonFiniteArg::Error => NonFiniteMode::Error,
    }
}

/// Runs `predbench export`.
pub fn run_export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let sink = SinkSpec::parse(&args.sink)?;
    let threads = args.threads.unwrap_or_else(available_cores);
    let options = ExportOptions {
        strategy: match args.strategy {
            StrategyArg::SingleThread => Strategy::SingleThread,
            StrategyArg::Rayon => Strategy::Rayon,
            StrategyArg::WindowSort => Strategy::WindowSort,
        },
        grouping: grouping(args.grouping),
        group_size: args.group_size,
        threads,
        chunk_rows: args.chunk_rows,
        memory_budget: args.memory_budget,
        spill_directory: args.spill_dir.clone(),
        message: MessageOptions {
            nulls: match args.nulls {
                NullsArg::Omit => NullMode::Omit,
                NullsArg::Explicit => NullMode::Explicit,
            },
            non_finite: non_finite(args.non_finite),
            encoder: match args.encoder {
                EncoderArg::Auto => EncoderChoice::Auto,
                EncoderArg::ArrowJson => EncoderChoice::ArrowJson,
            },
        },
        shard: args.shard.unwrap_or(Shard::WHOLE),
        max_message_bytes: args.max_message_bytes,
        resume_from_group: 0,
        decode_ahead: match args.decode_ahead {
            DecodeAheadArg::Auto => None,
            DecodeAheadArg::On => Some(true),
            DecodeAheadArg::Off => Some(false),
        },
    };
    options.validate()?;
    let dataset = Dataset::open(&args.input)
        .with_context(|| format!("cannot read dataset {}", args.input.display()))?;
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
            let sink = ParquetSink::create(
                &path,
                predbench_generator::parquet_output::parquet_codec(args.compression.into()),
                args.force,
            )?;
            export(&dataset, &options, sink, &mut progress)
        }
        SinkSpec::Ndjson(path) => export(
            &dataset,
            &options,
            NdjsonSink::create(path, args.force)?,
            &mut progress,
        ),
        SinkSpec::Amqp(target) => {
            let Some((options, start)) = resume_options(&args, &options, &dataset, target)? else {
                bar.finish_and_clear();
                return Ok(ExitCode::SUCCESS);
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
                        identity: checkpoint_identity(&options, &dataset, target),
                    }),
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
fn describe_grouping(
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

/// What a queue checkpoint must match to be resumed: the dataset, the
/// options that decide the messages, the shard and the target.
fn checkpoint_identity(
    options: &ExportOptions,
    dataset: &Dataset,
    target: &AmqpTarget,
) -> serde_json::Value {
    serde_json::json!({
        "dataset": DatasetFingerprint::of(dataset),
        "grouping": options.grouping,
        "group_size": options.group_size,
        "max_message_bytes": options.max_message_bytes,
        "nulls": options.message.nulls,
        "non_finite": options.message.non_finite,
        "shard": options.shard,
        "target": target,
    })
}

/// Where a queue export starts: the `message_id` of its first message and the
/// predictions confirmed before it.
struct QueueStart {
    first_message: u64,
    predictions_before: u64,
}

/// For the queue sink with --checkpoint: refuses a checkpoint that exists
/// without --resume, or that belongs to another export; with --resume,
/// starts after the confirmed messages (for `packed`, at the row the first
/// unconfirmed message starts at: packing from there makes the same
/// messages). `None` when the checkpoint says the export is complete.
fn resume_options(
    args: &ExportArgs,
    options: &ExportOptions,
    dataset: &Dataset,
    target: &AmqpTarget,
) -> anyhow::Result<Option<(ExportOptions, QueueStart)>> {
    let (_, groups) = options.plan(dataset)?;
    let from_the_start = QueueStart {
        first_message: match options.grouping {
            Grouping::Packed => 0,
            Grouping::Modulo | Grouping::Contiguous => groups.start,
        },
        predictions_before: 0,
    };
    let Some(path) = &args.checkpoint else {
        return Ok(Some((options.clone(), from_the_start)));
    };
    if !path.exists() {
        return Ok(Some((options.clone(), from_the_start)));
    }
    if !args.resume {
        bail!(
            "checkpoint {} exists: pass --resume to go on from it, or remove it to start again",
            path.display()
        );
    }
    let checkpoint = Checkpoint::read(path)?;
    if checkpoint.identity != checkpoint_identity(options, dataset, target) {
        bail!(
            "checkpoint {} was written for another dataset, other options or another queue; \
             it is left as it is",
            path.display()
        );
    }
    if checkpoint.complete {
        if !args.quiet {
            println!(
                "checkpoint {} says the export is complete: nothing to publish",
                path.display()
            );
        }
        return Ok(None);
    }
    let resume_from_group = match options.grouping {
        // The packed layout's groups are rows.
        Grouping::Packed => checkpoint.confirmed_predictions,
        Grouping::Modulo | Grouping::Contiguous => checkpoint.confirmed_below,
    };
    if !args.quiet {
        let row = match options.grouping {
            Grouping::Packed => format!(" at row {resume_from_group}"),
            Grouping::Modulo | Grouping::Contiguous => String::new(),
        };
        eprintln!(
            "resuming from group {}{row} ({}: every message before it is confirmed)",
            checkpoint.confirmed_below,
            path.display()
        );
    }
    Ok(Some((
        ExportOptions {
            resume_from_group,
            ..options.clone()
        },
        QueueStart {
            first_message: checkpoint.confirmed_below,
            predictions_before: checkpoint.confirmed_predictions,
        },
    )))
}

/// Runs `predbench drain`.
pub fn run_drain(args: DrainArgs) -> anyhow::Result<ExitCode> {
    let target = AmqpTarget::parse(&args.from)?;
    let output = match SinkSpec::parse(&args.messages) {
        Ok(SinkSpec::Parquet(path)) => SinkSpec::Parquet(path),
        Ok(SinkSpec::Ndjson(path)) => SinkSpec::Ndjson(path),
        _ => SinkSpec::Parquet(PathBuf::from(&args.messages)),
    };
    let summary = drain_into(&target, &output, args.first_group, args.force)?;
    if !args.quiet {
        println!(
            "drained {} messages from {} into {}: {} written ({} predictions), {} duplicates dropped{}",
            summary.received,
            target.describe(),
            summary
                .sink
                .path
                .as_ref()
                .map_or_else(String::new, |path| path.display().to_string()),
            summary.sink.messages,
            summary.sink.rows,
            summary.duplicates,
            if summary.missing > 0 {
                format!(", {} groups MISSING", summary.missing)
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Bytes of messages `predbench publish` reads and hands the sink at once.
const PUBLISH_BATCH_BYTES: u64 = 8 << 20;

/// Runs `predbench publish`: the messages of a file, read in batches and
/// handed to the same queue sink an export uses.
pub fn run_publish(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let target = AmqpTarget::parse(&args.sink)?;
    let messages = Dataset::open(&args.messages)
        .with_context(|| format!("cannot read messages {}", args.messages.display()))?;
    let started = std::time::Instant::now();
    let sink = AmqpSink::connect(
        target.clone(),
        AmqpOptions {
            confirm_window: args.confirm_window,
            ..AmqpOptions::default()
        },
    )?;
    // About 8 MiB of messages a batch, as an export hands the sink (1,024
    // messages of K = 10, a few dozen packed to 256 KiB), judged by the file's size.
    let average_bytes = (messages.bytes / messages.rows.max(1)).max(1);
    let batch_messages = (PUBLISH_BATCH_BYTES / average_bytes).clamp(1, 1024) as usize;
    let mut cursor = messages.cursor(0..messages.rows, batch_messages);
    let mut done = 0;
    while done < messages.rows {
        let read = cursor.take(batch_messages)?;
        if read.num_rows() == 0 {
            break;
        }
        done += read.num_rows() as u64;
        let column = read.column(0);
        let strings = column
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .with_context(|| {
                format!(
                    "{}: the first column is not Utf8 messages",
                    args.messages.display()
                )
            })?;
        // The baseline does nothing an export would not: messages are not
        // parsed, so their predictions are not counted (nothing needs them).
        let mut batch = predbench_exporter::message::MessageBatch::default();
        for message in strings.iter().flatten() {
            batch.push(message.as_bytes(), 0);
        }
        sink.write(sink.prepare(batch)?)?;
    }
    let summary = sink.finish()?;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.summary_json {
        CommandSummary {
            // Messages are not parsed, so predictions are not counted.
            rows: 0,
            input_bytes: messages.bytes,
            output_bytes: 0,
            message_bytes: Some(summary.message_bytes),
            messages: Some(summary.messages),
            spilled_bytes: None,
            elapsed_seconds: elapsed,
            peak_rss_bytes: peak_rss_bytes(),
        }
        .write(path)?;
    }
    if !args.quiet {
        println!(
            "published {} messages ({}) to {} in {elapsed:.2} s: {:.0} messages/s, {:.1} MB/s",
            summary.messages,
            format_bytes(summary.message_bytes),
            target.describe(),
            summary.messages as f64 / elapsed,
            summary.message_bytes as f64 / elapsed / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn drain_into(
    target: &AmqpTarget,
    output: &SinkSpec,
    first_group: u64,
    force: bool,
) -> anyhow::Result<DrainSummary> {
    let summary = match output {
        SinkSpec::Parquet(path) => drain(
            target,
            ParquetSink::create(
                path,
                predbench_generator::parquet_output::parquet_codec(
                    predbench_generator::Compression::Lz4,
                ),
                force,
            )?,
            first_group,
        ),
        SinkSpec::Ndjson(path) => drain(target, NdjsonSink::create(path, force)?, first_group),
        _ => bail!("drain writes parquet:PATH or ndjson:PATH"),
    };
    Ok(summary?)
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

/// Runs `predbench verify`: exit code 0 when the export is complete and correct, 1 otherwise.
pub fn run_verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let dataset = Dataset::open(&args.input)
        .with_context(|| format!("cannot read dataset {}", args.input.display()))?;
    let text = args.messages.to_string_lossy().into_owned();
    // A queue is drained into a temporary file first, then verified.
    let drained = if text.starts_with("amqp://") {
        let target = AmqpTarget::parse(&text)?;
        let directory = tempfile::tempdir().context("cannot make a temporary directory")?;
        let path = directory.path().join("drained.parquet");
        let summary = drain_into(&target, &SinkSpec::Parquet(path.clone()), 0, false)?;
        println!(
            "drained {} messages from {} ({} duplicates dropped)",
            summary.received,
            target.describe(),
            summary.duplicates
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
