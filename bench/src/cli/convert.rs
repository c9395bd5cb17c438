//! The one place where flags become the libraries' settings: every `*Arg`
//! enum into its library type, `--sink` into a [`SinkSpec`], `export`'s flags
//! into [`ExportOptions`], `generate`'s into a [`GeneratorConfig`].

use std::path::PathBuf;

use anyhow::bail;
use predbench_exporter::sink::AmqpTarget;
use predbench_exporter::{
    EncoderChoice, ExportOptions, Grouping, MessageOptions, NonFiniteMode, NullMode, Strategy,
};
use predbench_generator::{Compression, Distribution, FloatEncoding, Shard};

use super::args::{
    CompressionArg, DecodeAheadArg, DistributionArg, EncoderArg, ExportArgs, FloatEncodingArg,
    GroupingArg, NonFiniteArg, NullsArg, SinkKindArg, StrategyArg,
};
use crate::record::SinkKind;

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

/// `--strategy`.
pub fn strategy(arg: StrategyArg) -> Strategy {
    match arg {
        StrategyArg::SingleThread => Strategy::SingleThread,
        StrategyArg::Rayon => Strategy::Rayon,
        StrategyArg::WindowSort => Strategy::WindowSort,
    }
}

/// `--grouping`.
pub fn grouping(arg: GroupingArg) -> Grouping {
    match arg {
        GroupingArg::Modulo => Grouping::Modulo,
        GroupingArg::Contiguous => Grouping::Contiguous,
        GroupingArg::Packed => Grouping::Packed,
    }
}

/// `--non-finite`.
pub fn non_finite(arg: NonFiniteArg) -> NonFiniteMode {
    match arg {
        NonFiniteArg::String => NonFiniteMode::String,
        NonFiniteArg::Null => NonFiniteMode::Null,
        NonFiniteArg::Error => NonFiniteMode::Error,
    }
}

/// `--compression`.
pub fn compression(arg: CompressionArg) -> Compression {
    match arg {
        CompressionArg::Snappy => Compression::Snappy,
        CompressionArg::Zstd => Compression::Zstd,
        CompressionArg::Lz4 => Compression::Lz4,
        CompressionArg::None => Compression::None,
    }
}

/// `--distribution` with `--alpha`.
pub fn distribution(arg: DistributionArg, alpha: f64) -> Distribution {
    match arg {
        DistributionArg::Uniform => Distribution::Uniform,
        DistributionArg::Dirichlet => Distribution::Dirichlet { alpha },
    }
}

/// `--float-encoding`.
pub fn float_encoding(arg: FloatEncodingArg) -> FloatEncoding {
    match arg {
        FloatEncodingArg::Plain => FloatEncoding::Plain,
        FloatEncodingArg::ByteStreamSplit => FloatEncoding::ByteStreamSplit,
    }
}

/// `compare --sinks` as the record names it.
pub fn sink_kind(arg: SinkKindArg) -> SinkKind {
    match arg {
        SinkKindArg::Null => SinkKind::Null,
        SinkKindArg::Parquet => SinkKind::Parquet,
        SinkKindArg::Ndjson => SinkKind::Ndjson,
        SinkKindArg::Amqp => SinkKind::Amqp,
    }
}

/// `export`'s flags as the exporter's options, on `threads` workers.
pub fn export_options(args: &ExportArgs, threads: usize) -> ExportOptions {
    ExportOptions {
        strategy: strategy(args.strategy),
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
    }
}
