//! Where a queue export goes: `amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME`
//! (with `&queue_type=classic|quorum` to declare it so), or
//! `?exchange=X&routing_key=R`, parsed once; the password is never printed.

use serde::{Deserialize, Serialize};

use crate::error::{ExportError, Result};

/// Where messages go: a broker, and a queue or an exchange with a routing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmqpTarget {
    /// The broker's URI without predbench's own query parameters (and with
    /// its password, so never printed: see [`AmqpTarget::display`]).
    #[serde(skip)]
    pub uri: String,
    /// `amqp://USER@HOST:PORT/VHOST`: the URI without password or query.
    pub display: String,
    /// The queue to declare (durable) and publish to through the default exchange.
    pub queue: Option<String>,
    /// The exchange to publish to (empty: the default exchange).
    pub exchange: String,
    /// The routing key (the queue's name for the default exchange).
    pub routing_key: String,
    /// The queue's type as it is declared (`x-queue-type`); `None` declares
    /// it without the argument: the broker's default, classic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_type: Option<QueueType>,
}

/// RabbitMQ's queue types a queue export declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueType {
    /// One node holds the messages (RabbitMQ's default).
    Classic,
    /// Raft-replicated across the cluster's nodes (one node here).
    Quorum,
}

// The names are the values of `x-queue-type`.
predbench_common::choice! { QueueType:
    Classic = "classic", "RabbitMQ's default: one node holds the messages.";
    Quorum = "quorum", "Raft-replicated (one node here), declared with x-queue-type.";
}

impl AmqpTarget {
    /// Parses `amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME` or
    /// `...?exchange=X&routing_key=R`; other query parameters (heartbeat,
    /// frame_max, ...) go to the client.
    pub fn parse(url: &str) -> Result<AmqpTarget> {
        let invalid = |reason: String| ExportError::invalid("sink", reason);
        if !url.starts_with("amqp://") {
            return Err(invalid(format!(
                "'{}' is not an amqp:// URL",
                hide_password(url)
            )));
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut queue = None;
        let mut exchange = None;
        let mut routing_key = None;
        let mut queue_type = None;
        let mut passed = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some(("queue", value)) if !value.is_empty() => queue = Some(value.to_string()),
                Some(("exchange", value)) => exchange = Some(value.to_string()),
                Some(("routing_key", value)) => routing_key = Some(value.to_string()),
                Some(("queue_type", "classic")) => queue_type = Some(QueueType::Classic),
                Some(("queue_type", "quorum")) => queue_type = Some(QueueType::Quorum),
                Some(("queue_type", other)) => {
                    return Err(invalid(format!("queue_type={other}: classic or quorum")));
                }
                _ => passed.push(pair),
            }
        }
        let (exchange, routing_key) = match (&queue, exchange, routing_key) {
            (Some(queue), None, None) => (String::new(), queue.clone()),
            (None, Some(exchange), routing_key) => (exchange, routing_key.unwrap_or_default()),
            _ => {
                return Err(invalid(format!(
                    "{} names neither ?queue=NAME nor ?exchange=X&routing_key=R (one of the two)",
                    hide_password(base)
                )));
            }
        };
        if queue_type.is_some() && queue.is_none() {
            return Err(invalid(
                "queue_type applies to ?queue=NAME, which predbench declares".to_string(),
            ));
        }
        let uri = if passed.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", passed.join("&"))
        };
        uri.parse::<lapin::uri::AMQPUri>()
            .map_err(|reason| invalid(format!("{}: {reason}", hide_password(base))))?;
        Ok(AmqpTarget {
            uri,
            display: hide_password(base),
            queue,
            exchange,
            routing_key,
            queue_type,
        })
    }

    /// Where the messages go, for messages to the user.
    pub fn describe(&self) -> String {
        match &self.queue {
            Some(queue) => match self.queue_type {
                Some(kind) => format!("{} queue {queue} on {}", kind.name(), self.display),
                None => format!("queue {queue} on {}", self.display),
            },
            None => format!(
                "exchange {} (routing key {}) on {}",
                self.exchange, self.routing_key, self.display
            ),
        }
    }
}

/// `amqp://user:secret@host` -> `amqp://user@host`.
pub(super) fn hide_password(url: &str) -> String {
    let Some(rest) = url.strip_prefix("amqp://") else {
        return url.to_string();
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, None), |(a, p)| (a, Some(p)));
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    match path {
        Some(path) => format!(
            "amqp://{authority}/{}",
            path.split('?').next().unwrap_or("")
        ),
        None => format!("amqp://{authority}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_queue_or_an_exchange_and_hide_the_password() {
        let target =
            AmqpTarget::parse("amqp://guest:secret@127.0.0.1:5672/%2f?queue=predictions").unwrap();
        assert_eq!(target.queue.as_deref(), Some("predictions"));
        assert_eq!(target.routing_key, "predictions");
        assert_eq!(target.exchange, "");
        assert_eq!(target.display, "amqp://guest@127.0.0.1:5672/%2f");
        assert!(!target.describe().contains("secret"));
        let target =
            AmqpTarget::parse("amqp://u:p@host/vhost?exchange=ex&routing_key=rk&heartbeat=10")
                .unwrap();
        assert_eq!(
            (target.exchange.as_str(), target.routing_key.as_str()),
            ("ex", "rk")
        );
        assert_eq!(target.uri, "amqp://u:p@host/vhost?heartbeat=10");
        let target = AmqpTarget::parse("amqp://u:p@host/%2f?queue=q&queue_type=quorum").unwrap();
        assert_eq!(target.queue_type, Some(QueueType::Quorum));
        assert_eq!(target.uri, "amqp://u:p@host/%2f");
        assert!(target.describe().starts_with("quorum queue q"));
        for bad in [
            "amqp://u:p@host/v?queue=a&queue_type=stream",
            "amqp://u:p@host/v?exchange=e&queue_type=quorum",
            "amqp://u:p@host/vhost",
            "amqp://u:p@host/v?queue=a&exchange=b",
            "http://host?queue=a",
        ] {
            let error = AmqpTarget::parse(bad).unwrap_err().to_string();
            assert!(error.contains("invalid sink"), "{bad}: {error}");
            assert!(!error.contains(":p@"), "{bad}: {error}");
        }
    }
}
