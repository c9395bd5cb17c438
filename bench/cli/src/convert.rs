//! The one place where flags become the libraries' settings: every `*Arg`
//! enum into its library type, `--sink` into a [`SinkSpec`], `export`'s flags
//! into [`ExportOptions`], `generate`'s into a [`GeneratorConfig`].

use std::path::PathBuf;

use anyhow::bail;
use predbench_common::Shard;
use predbench_exporter::queue::AmqpTarget;
use predbench_exporter::{
    EncoderChoice, ExportOptions, Grouping, MessageOptions, NonFiniteMode, NullMode, NumberFormat,
    Strategy,
};
use predbench_generator::{ClassType, Compression, Distribution, FloatEncoding};

use super::args::{
    ClassTypeArg, CompressionArg, DecodeAheadArg, DistributionArg, EncoderArg, ExportArgs,
    FloatEncodingArg, GroupingArg, NonFiniteArg, NullsArg, NumberFormatArg, SinkKindArg,
    StrategyArg,
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

/// `--compression` of the Parquet sink, as the parquet crate names it (zstd at level 1).
pub fn parquet_compression(arg: CompressionArg) -> parquet::basic::Compression {
    predbench_generator::parquet_output::parquet_codec(compression(arg))
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

/// `--class-type`.
pub fn class_type(arg: ClassTypeArg) -> ClassType {
    match arg {
        ClassTypeArg::Float64 => ClassType::Float64,
        ClassTypeArg::Float32 => ClassType::Float32,
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
            time_zone: args.time_zone,
            number_format: match args.number_format {
                NumberFormatArg::Shortest => NumberFormat::Shortest,
                NumberFormatArg::Java => NumberFormat::Java,
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

/// The flag of a library option: `max_message_bytes` is `--max-message-bytes`.
pub fn flag(option: &str) -> String {
    format!("--{}", option.replace('_', "-"))
}

/// Options named in the libraries' error texts, spelled as flags in ours.
const OPTIONS_IN_TEXT: [&str; 13] = [
    "max_message_bytes",
    "non_finite",
    "group_size",
    "chunk_rows",
    "null_rate",
    "nan_rate",
    "batch_rows",
    "row_group_rows",
    "file_rows",
    "id_column",
    "any_grouping",
    "memory_budget",
    "confirm_window",
];

/// `text` with every option of [`OPTIONS_IN_TEXT`] written as its flag.
fn flags_in(text: &str) -> String {
    OPTIONS_IN_TEXT
        .iter()
        .fold(text.to_string(), |text, option| {
            text.replace(option, &flag(option))
        })
}

/// An error as the command line says it: the libraries name options
/// (`max_message_bytes`), the user typed flags (`--max-message-bytes`); the
/// one place that maps them. Causes are joined by `: ` as anyhow does.
pub fn describe_error(error: &anyhow::Error) -> String {
    use predbench_exporter::ExportError;
    use predbench_generator::GeneratorError;
    error
        .chain()
        .map(|cause| {
            if let Some(error) = cause.downcast_ref::<ExportError>() {
                match error {
                    ExportError::InvalidArgument { argument, reason } => {
                        format!("invalid argument {}: {}", flag(argument), flags_in(reason))
                    }
                    ExportError::CheckpointExists { path } => format!(
                        "checkpoint {} exists: pass --resume to go on from it, or remove it to start again",
                        path.display()
                    ),
                    ExportError::OutputExists(path) => format!(
                        "{} exists: pass --force to replace it, or remove it",
                        path.display()
                    ),
                    other => flags_in(&other.to_string()),
                }
            } else if let Some(error) = cause.downcast_ref::<GeneratorError>() {
                match error {
                    GeneratorError::InvalidArgument { argument, reason } => {
                        format!("invalid argument {}: {}", flag(argument), flags_in(reason))
                    }
                    GeneratorError::OutputExists(path) => format!(
                        "output directory {} already exists: pass --force to replace it, or remove it",
                        path.display()
                    ),
                    GeneratorError::ShardOutputExists { path, shard } => format!(
                        "{} exists: shard {shard} ran already (pass --force to rewrite its files, as a retried shard does)",
                        path.display()
                    ),
                    other => other.to_string(),
                }
            } else {
                cause.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_options_become_flags() {
        let error = anyhow::Error::new(predbench_exporter::ExportError::invalid(
            "max_message_bytes",
            "packed needs max_message_bytes",
        ))
        .context("cannot export data");
        assert_eq!(
            describe_error(&error),
            "cannot export data: invalid argument --max-message-bytes: packed needs --max-message-bytes"
        );
        let error = anyhow::Error::new(predbench_generator::GeneratorError::invalid(
            "null_rate",
            "must be between 0 and 1",
        ));
        assert_eq!(
            describe_error(&error),
            "invalid argument --null-rate: must be between 0 and 1"
        );
    }
}
