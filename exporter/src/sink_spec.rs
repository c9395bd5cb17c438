//! Where messages go, as the command's `--sink` and Python's `sink=` spell
//! it: `null`, `parquet:PATH`, `ndjson:PATH` or a RabbitMQ queue
//! `amqp://...?queue=NAME` or a Kafka topic `kafka://HOST:PORT/TOPIC`. Parsed
//! once here and opened once here, for both.

use std::path::PathBuf;

use predbench_generator::Compression;
use predbench_generator::parquet_output::parquet_codec;

use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::kafka::{KafkaOptions, KafkaSink, KafkaTarget};
use crate::queue::{AmqpOptions, AmqpSink, AmqpTarget};
use crate::sink::{NdjsonSink, NullSink, ParquetSink};
use crate::strategy::{ExportOptions, ExportSummary, export};

/// A destination for an export's messages.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkSpec {
    /// Discard the messages, count them.
    Null,
    /// A Parquet file with one string column of messages.
    Parquet(PathBuf),
    /// One message per line.
    Ndjson(PathBuf),
    /// A RabbitMQ queue or exchange.
    Amqp(AmqpTarget),
    /// A Kafka topic.
    Kafka(KafkaTarget),
}

/// How a sink is opened: what the file sinks and the queue take besides where.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    /// Page compression of the Parquet sink.
    pub compression: Compression,
    /// Whether a file sink replaces an existing output.
    pub force: bool,
    /// The RabbitMQ publisher's settings.
    pub amqp: AmqpOptions,
    /// The Kafka producer's settings.
    pub kafka: KafkaOptions,
}

impl Default for SinkSettings {
    fn default() -> Self {
        SinkSettings {
            compression: Compression::Lz4,
            force: false,
            amqp: AmqpOptions::default(),
            kafka: KafkaOptions::default(),
        }
    }
}

impl SinkSpec {
    /// Parses `null`, `parquet:PATH`, `ndjson:PATH`, `amqp://...` or `kafka://...`.
    pub fn parse(text: &str) -> Result<SinkSpec> {
        if text.starts_with("amqp://") {
            return AmqpTarget::parse(text).map(SinkSpec::Amqp);
        }
        if text.starts_with("kafka://") {
            return KafkaTarget::parse(text).map(SinkSpec::Kafka);
        }
        match text.split_once(':') {
            None if text == "null" => Ok(SinkSpec::Null),
            Some(("parquet", path)) if !path.is_empty() => Ok(SinkSpec::Parquet(path.into())),
            Some(("ndjson", path)) if !path.is_empty() => Ok(SinkSpec::Ndjson(path.into())),
            _ => Err(ExportError::invalid(
                "sink",
                format!(
                    "'{text}' is not null, parquet:PATH, ndjson:PATH, \
                     amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME or kafka://HOST:PORT/TOPIC"
                ),
            )),
        }
    }

    /// Where the messages go, for people (a queue without its password).
    pub fn describe(&self) -> String {
        match self {
            SinkSpec::Null => "the null sink".to_string(),
            SinkSpec::Parquet(path) | SinkSpec::Ndjson(path) => path.display().to_string(),
            SinkSpec::Amqp(target) => target.describe(),
            SinkSpec::Kafka(target) => target.describe(),
        }
    }

    /// Opens the sink with `settings` and exports `dataset` into it.
    pub fn export(
        &self,
        dataset: &Dataset,
        options: &ExportOptions,
        settings: &SinkSettings,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ExportSummary> {
        match self {
            SinkSpec::Null => export(dataset, options, NullSink::default(), progress),
            SinkSpec::Parquet(path) => {
                let codec = parquet_codec(settings.compression);
                let sink = ParquetSink::create(path, codec, settings.force)?;
                export(dataset, options, sink, progress)
            }
            SinkSpec::Ndjson(path) => {
                let sink = NdjsonSink::create(path, settings.force)?;
                export(dataset, options, sink, progress)
            }
            SinkSpec::Amqp(target) => {
                let sink = AmqpSink::connect(target.clone(), settings.amqp.clone())?;
                export(dataset, options, sink, progress)
            }
            SinkSpec::Kafka(target) => {
                let sink = KafkaSink::connect(target.clone(), settings.kafka.clone())?;
                export(dataset, options, sink, progress)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_parse_or_say_what_they_take() {
        assert_eq!(SinkSpec::parse("null").unwrap(), SinkSpec::Null);
        assert_eq!(
            SinkSpec::parse("parquet:out dir/m.parquet").unwrap(),
            SinkSpec::Parquet("out dir/m.parquet".into())
        );
        assert_eq!(
            SinkSpec::parse("ndjson:m.ndjson").unwrap(),
            SinkSpec::Ndjson("m.ndjson".into())
        );
        assert!(matches!(
            SinkSpec::parse("amqp://guest:guest@127.0.0.1:5672/%2f?queue=q").unwrap(),
            SinkSpec::Amqp(_)
        ));
        assert!(matches!(
            SinkSpec::parse("kafka://127.0.0.1:9092/predictions?partitions=3").unwrap(),
            SinkSpec::Kafka(_)
        ));
        for bad in ["parquet:", "csv:x", "nul", ""] {
            let error = SinkSpec::parse(bad).unwrap_err();
            match error {
                ExportError::InvalidArgument { argument, reason } => {
                    assert_eq!(argument, "sink");
                    assert!(reason.contains("parquet:PATH"), "{reason}");
                }
                other => panic!("{bad}: {other}"),
            }
        }
    }
}
