//! `predbench publish`: messages already serialized, sent with the queue
//! sink's settings; the broker's ceiling an export to a queue is judged by.

use std::process::ExitCode;

use anyhow::Context;
use predbench_common::units::format_bytes;
use predbench_exporter::kafka::{KafkaOptions, KafkaSink};
use predbench_exporter::message::MessageBatch;
use predbench_exporter::queue::{AmqpOptions, AmqpSink};
use predbench_exporter::sink::{MessageSink, SinkSummary};
use predbench_exporter::text_column::TextColumn;
use predbench_exporter::{Dataset, QueueSpec};

use crate::args::PublishArgs;
use crate::progress::peak_rss_bytes;
use crate::summary::{CommandSummary, Counts, settings};

/// Bytes of messages `predbench publish` reads and hands the sink at once.
const PUBLISH_BATCH_BYTES: u64 = 8 << 20;

/// Runs `predbench publish`: the messages of a file, read in batches and
/// handed to the same queue sink (RabbitMQ's or Kafka's) an export uses.
pub fn run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let queue = QueueSpec::parse(&args.sink)?;
    let messages = Dataset::open(&args.messages)
        .with_context(|| format!("cannot read messages {}", args.messages.display()))?;
    let started = std::time::Instant::now();
    let summary = match &queue {
        QueueSpec::Amqp(target) => {
            let options = AmqpOptions {
                confirm_window: args.confirm_window,
                ..AmqpOptions::default()
            };
            publish(
                &args,
                &messages,
                AmqpSink::connect(target.clone(), options)?,
            )?
        }
        QueueSpec::Kafka(target) => {
            let options = KafkaOptions {
                window: args.confirm_window,
                ..KafkaOptions::default()
            };
            publish(
                &args,
                &messages,
                KafkaSink::connect(target.clone(), options)?,
            )?
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.output.summary_json {
        CommandSummary {
            counts: Counts {
                // Messages are not parsed, so predictions are not counted.
                rows: 0,
                input_bytes: messages.bytes,
                output_bytes: 0,
                message_bytes: Some(summary.message_bytes),
                messages: Some(summary.messages),
                spilled_bytes: None,
            },
            elapsed_seconds: elapsed,
            peak_rss_bytes: peak_rss_bytes(),
            settings: settings([
                ("confirm_window", serde_json::json!(args.confirm_window)),
                ("repeat", serde_json::json!(args.repeat)),
            ]),
            drained: None,
        }
        .write(path)?;
    }
    if !args.output.quiet {
        println!(
            "published {} messages ({}) to {} in {elapsed:.2} s: {:.0} messages/s, {:.1} MB/s",
            summary.messages,
            format_bytes(summary.message_bytes),
            queue.describe(),
            summary.messages as f64 / elapsed,
            summary.message_bytes as f64 / elapsed / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Every pass over the messages into `sink`, finished.
fn publish<S: MessageSink<Prepared = MessageBatch>>(
    args: &PublishArgs,
    messages: &Dataset,
    sink: S,
) -> anyhow::Result<SinkSummary> {
    // About 8 MiB of messages a batch, as an export hands the sink (1,024
    // messages of K = 10, a few dozen packed to 256 KiB), judged by the file's size.
    let average_bytes = (messages.bytes / messages.rows.max(1)).max(1);
    let batch_messages = (PUBLISH_BATCH_BYTES / average_bytes).clamp(1, 1024) as usize;
    for _ in 0..args.repeat {
        publish_pass(args, messages, &sink, batch_messages)?;
    }
    Ok(sink.finish()?)
}

/// One pass over the messages of the file, handed to the sink in batches
/// (the sink numbers them, so a second pass goes on from the first's ids).
fn publish_pass<S: MessageSink<Prepared = MessageBatch>>(
    args: &PublishArgs,
    messages: &Dataset,
    sink: &S,
    batch_messages: usize,
) -> anyhow::Result<()> {
    let mut cursor = messages.cursor(0..messages.rows, batch_messages);
    let mut done = 0;
    while done < messages.rows {
        let read = cursor.take(batch_messages)?;
        if read.num_rows() == 0 {
            break;
        }
        done += read.num_rows() as u64;
        let column = read.column(0);
        let strings = TextColumn::new(column.as_ref()).with_context(|| {
            format!(
                "{}: the first column is {}, not messages of a string type",
                args.messages.display(),
                column.data_type()
            )
        })?;
        // The baseline does nothing an export would not: messages are not
        // parsed, so their predictions are not counted (nothing needs them).
        let mut batch = MessageBatch::default();
        for message in (0..read.num_rows()).filter_map(|row| strings.value(row)) {
            batch.push(message.as_bytes(), 0);
        }
        sink.write(sink.prepare(batch)?)?;
    }
    Ok(())
}
