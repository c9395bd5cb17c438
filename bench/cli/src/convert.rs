//! The flags as the libraries' settings, in one place: `export`'s into
//! [`ExportOptions`] and its sink's [`SinkSettings`], `generate`'s into a
//! [`GeneratorConfig`].

use std::time::Duration;

use predbench_common::Shard;
use predbench_exporter::kafka::KafkaOptions;
use predbench_exporter::queue::AmqpOptions;
use predbench_exporter::{ExportOptions, MessageOptions, SinkSettings};
use predbench_generator::GeneratorConfig;

use crate::args::{ExportArgs, GenerateArgs};

/// `export`'s flags as the exporter's options, on `threads` workers.
pub fn export_options(args: &ExportArgs, threads: usize) -> ExportOptions {
    ExportOptions {
        strategy: args.strategy,
        grouping: args.grouping,
        group_size: args.group_size,
        threads,
        chunk_rows: args.chunk_rows,
        memory_budget: args.memory_budget,
        spill_directory: args.spill_dir.clone(),
        message: MessageOptions {
            nulls: args.nulls,
            non_finite: args.non_finite,
            encoder: args.encoder,
            time_zone: args.time_zone,
            number_format: args.number_format,
        },
        shard: args.shard.unwrap_or(Shard::WHOLE),
        max_message_bytes: args.max_message_bytes,
        resume_from_group: 0,
        decode_ahead: args.decode_ahead,
    }
}

/// `export`'s flags for opening its sink (the queue's start and checkpoint
/// are the resume's, set by the caller).
pub fn sink_settings(args: &ExportArgs) -> SinkSettings {
    SinkSettings {
        compression: args.compression,
        force: args.force,
        amqp: AmqpOptions {
            confirm_window: args.confirm_window,
            retry_for: Duration::from_secs(args.retry_seconds),
            ..AmqpOptions::default()
        },
        kafka: KafkaOptions {
            window: args.confirm_window,
            retry_for: Duration::from_secs(args.retry_seconds),
            ..KafkaOptions::default()
        },
    }
}

/// `generate`'s flags as the generator's configuration, with batches of `batch_rows`.
pub fn generator_config(args: &GenerateArgs, batch_rows: u64) -> GeneratorConfig {
    GeneratorConfig {
        rows: args.rows,
        classes: args.classes,
        seed: args.seed,
        distribution: args.distribution.with_alpha(args.alpha),
        null_rate: args.null_rate,
        nan_rate: args.nan_rate,
        batch_rows,
        row_group_rows: args.row_group_rows.unwrap_or(batch_rows),
        file_rows: args.file_rows,
        compression: args.compression,
        float_encoding: args.float_encoding,
        class_type: args.class_type,
    }
}
