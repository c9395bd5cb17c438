//! `drain`: reads a queue that predbench filled into a file sink, in
//! `message_id` (group) order, dropping duplicates (a republished unconfirmed
//! message carries the same `message_id`). Messages are acknowledged only once
//! the output file is committed: a drain that dies leaves the queue as it was.

use std::collections::BTreeMap;

use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

use crate::error::{ExportError, Result};
use crate::message::MessageBatch;
use crate::sink::{AmqpTarget, MessageSink, SinkSummary};

/// What a drain did.
#[derive(Debug, Clone, Default)]
pub struct DrainSummary {
    /// What the file sink wrote.
    pub sink: SinkSummary,
    /// Messages taken from the queue, duplicates included.
    pub received: u64,
    /// Messages dropped because their `message_id` came before.
    pub duplicates: u64,
    /// Groups missing between the first and the last `message_id` written.
    pub missing: u64,
}

/// Messages written to the sink per batch.
const BATCH_MESSAGES: usize = 1024;

/// Drains the queue of `target` into `sink`, starting at `message_id`
/// `first_group`.
pub fn drain<S: MessageSink>(
    target: &AmqpTarget,
    sink: S,
    first_group: u64,
) -> Result<DrainSummary> {
    let queue = target
        .queue
        .clone()
        .ok_or_else(|| ExportError::invalid("--from", "drain reads a queue: give ?queue=NAME"))?;
    let failure = |reason: String| ExportError::Amqp {
        target: target.describe(),
        reason,
    };
    crate::sink::client_runtime()?.block_on(async {
        let connection = Connection::connect(&target.uri, ConnectionProperties::default())
            .await
            .map_err(|cause| failure(cause.to_string()))?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|cause| failure(cause.to_string()))?;
        channel
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|cause| failure(format!("no queue {queue} to drain: {cause}")))?;

        let mut summary = DrainSummary::default();
        let mut next = first_group;
        let mut waiting: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        let mut batch = MessageBatch::default();
        let mut last_tag = None;
        loop {
            let get = channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false });
            let got = crate::sink::within("reading the queue", get)
                .await
                .map_err(failure)?;
            let Some(message) = got else { break };
            let delivery = message.delivery;
            last_tag = Some(delivery.delivery_tag);
            summary.received += 1;
            let id = delivery
                .properties
                .message_id()
                .as_ref()
                .and_then(|id| id.as_str().parse::<u64>().ok())
                .ok_or_else(|| {
                    failure(format!(
                        "message {} has no numeric message_id: not written by predbench",
                        summary.received
                    ))
                })?;
            if id < next || waiting.contains_key(&id) {
                summary.duplicates += 1;
                continue;
            }
            waiting.insert(id, delivery.data);
            while let Some(data) = waiting.remove(&next) {
                push(&mut batch, &data);
                next += 1;
                if batch.len() >= BATCH_MESSAGES {
                    let full = std::mem::take(&mut batch);
                    sink.write(sink.prepare(full)?)?;
                }
            }
        }
        // Whatever is left came after a gap: written in order, the gap counted.
        for (id, data) in std::mem::take(&mut waiting) {
            summary.missing += id - next;
            push(&mut batch, &data);
            next = id + 1;
        }
        if !batch.is_empty() {
            sink.write(sink.prepare(batch)?)?;
        }
        summary.sink = sink.finish()?;
        if let Some(tag) = last_tag {
            channel
                .basic_ack(tag, BasicAckOptions { multiple: true })
                .await
                .map_err(|cause| failure(format!("drained, but cannot acknowledge: {cause}")))?;
        }
        let _ = connection.close(200, "drained".into()).await;
        Ok(summary)
    })
}

/// Appends the message `data` to `batch`.
pub fn push(batch: &mut MessageBatch, data: &[u8]) {
    let rows = u32::try_from(count_predictions(data)).unwrap_or(u32::MAX);
    batch.push(data, rows);
}

/// Predictions in a message: top-level objects of its JSON array.
pub fn count_predictions(message: &[u8]) -> u64 {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut objects = 0;
    for &byte in message {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => {
                if depth == 1 {
                    objects += 1;
                }
                depth += 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    objects
}

#[cfg(test)]
mod tests {
    #[test]
    fn predictions_are_counted_outside_strings() {
        assert_eq!(
            super::count_predictions(br#"[{"a":"{[}"},{"b":{"c":1}}]"#),
            2
        );
        assert_eq!(super::count_predictions(br#"[{"a":"\"{"}]"#), 1);
        assert_eq!(super::count_predictions(b"[]"), 0);
    }
}
