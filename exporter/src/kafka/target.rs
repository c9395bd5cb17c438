//! Where a Kafka export goes: `kafka://HOST:PORT[,HOST:PORT...]/TOPIC` with
//! `?partitions=N` (the topic is created with N, or must have N),
//! `&compression=none|gzip|snappy|lz4|zstd` (the producer's
//! `compression.type`), `&idempotence=false` (the producer without
//! `enable.idempotence`) and `&group=NAME` (the drain's consumer group),
//! parsed once.

use serde::{Deserialize, Serialize};

use crate::error::{ExportError, Result};

/// A topic on a Kafka cluster, and how predbench writes and reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaTarget {
    /// `bootstrap.servers`: `HOST:PORT[,HOST:PORT...]`.
    pub brokers: String,
    /// The topic.
    pub topic: String,
    /// Partitions the topic is created with, or must have.
    pub partitions: i32,
    /// The producer's `compression.type`.
    pub compression: String,
    /// The producer's `enable.idempotence` (on unless `idempotence=false`).
    pub idempotence: bool,
    /// The drain's consumer group (`group.id`).
    pub group: String,
}

/// The codecs librdkafka's `compression.type` takes.
const COMPRESSIONS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

impl KafkaTarget {
    /// Parses `kafka://HOST:PORT/TOPIC?partitions=N&compression=C&group=G`.
    pub fn parse(url: &str) -> Result<KafkaTarget> {
        let invalid = |reason: String| ExportError::invalid("sink", reason);
        let rest = url
            .strip_prefix("kafka://")
            .ok_or_else(|| invalid(format!("'{url}' is not a kafka:// URL")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (brokers, topic) = path.split_once('/').unwrap_or((path, ""));
        if brokers.is_empty() || topic.is_empty() || topic.contains('/') {
            return Err(invalid(format!(
                "'{url}' names no topic: give kafka://HOST:PORT/TOPIC"
            )));
        }
        if !topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(invalid(format!(
                "topic '{topic}' may hold only ASCII letters, digits, '.', '_' and '-'"
            )));
        }
        let mut target = KafkaTarget {
            brokers: brokers.to_string(),
            topic: topic.to_string(),
            partitions: 1,
            compression: "none".to_string(),
            idempotence: true,
            group: format!("predbench-drain-{topic}"),
        };
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "partitions" => {
                    target.partitions =
                        value
                            .parse()
                            .ok()
                            .filter(|&n: &i32| n >= 1)
                            .ok_or_else(|| {
                                invalid(format!("partitions={value} is not a whole number from 1"))
                            })?;
                }
                "compression" if COMPRESSIONS.contains(&value) => {
                    target.compression = value.to_string();
                }
                "compression" => {
                    return Err(invalid(format!(
                        "compression={value} is not one of {}",
                        COMPRESSIONS.join(", ")
                    )));
                }
                "group" if !value.is_empty() => target.group = value.to_string(),
                "idempotence" => {
                    target.idempotence = value.parse().map_err(|_| {
                        invalid(format!("idempotence={value} is not true or false"))
                    })?;
                }
                _ => {
                    return Err(invalid(format!(
                        "'{pair}' in {url}: a kafka:// sink takes partitions=N, \
                         compression=C, idempotence=true|false and group=NAME"
                    )));
                }
            }
        }
        Ok(target)
    }

    /// `kafka://HOST:PORT/TOPIC`, for people.
    pub fn describe(&self) -> String {
        format!("kafka://{}/{}", self.brokers, self.topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_brokers_topic_and_settings() {
        let target = KafkaTarget::parse(
            "kafka://127.0.0.1:9092,h2:9093/predictions?partitions=3&compression=lz4",
        )
        .unwrap();
        assert_eq!(target.brokers, "127.0.0.1:9092,h2:9093");
        assert_eq!(target.topic, "predictions");
        assert_eq!(target.partitions, 3);
        assert_eq!(target.compression, "lz4");
        assert_eq!(target.group, "predbench-drain-predictions");
        assert_eq!(
            target.describe(),
            "kafka://127.0.0.1:9092,h2:9093/predictions"
        );
        let defaults = KafkaTarget::parse("kafka://h:1/t?group=g").unwrap();
        assert_eq!(
            (defaults.partitions, defaults.compression.as_str()),
            (1, "none")
        );
        assert_eq!(defaults.group, "g");
    }

    #[test]
    fn refuses_what_it_cannot_use_and_says_what_it_takes() {
        for (url, expected) in [
            ("kafka://h:1", "names no topic"),
            ("kafka://h:1/", "names no topic"),
            ("kafka:///t", "names no topic"),
            ("kafka://h:1/a/b", "names no topic"),
            ("kafka://h:1/t p", "may hold only"),
            ("kafka://h:1/t?partitions=0", "partitions=0"),
            ("kafka://h:1/t?compression=brotli", "not one of none"),
            ("kafka://h:1/t?queue=q", "takes partitions=N"),
            ("kafka://h:1/t?idempotence=no", "not true or false"),
        ] {
            let error = KafkaTarget::parse(url).unwrap_err().to_string();
            assert!(error.contains(expected), "{url}: {error}");
        }
    }
}
