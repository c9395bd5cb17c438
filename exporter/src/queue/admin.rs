//! The administrative calls benchmarks and tests make on a broker, each on a
//! connection of its own: delete a queue, count or wait for its messages,
//! declare one as another program would, publish raw messages, ask the
//! broker's version.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};

use super::client::{client_runtime, describe_lapin_error};
use super::target::AmqpTarget;
use crate::error::{ExportError, Result};

/// An administrative call's error, in one line naming the broker.
fn admin_error(target: &AmqpTarget, cause: lapin::Error) -> ExportError {
    ExportError::Amqp {
        target: target.describe(),
        reason: describe_lapin_error(&cause),
    }
}

/// A connection to the broker of `target` and a channel on it, for an
/// administrative call.
async fn admin_channel(target: &AmqpTarget) -> Result<(Connection, lapin::Channel)> {
    let connection = Connection::connect(&target.uri, ConnectionProperties::default())
        .await
        .map_err(|cause| admin_error(target, cause))?;
    let channel = connection
        .create_channel()
        .await
        .map_err(|cause| admin_error(target, cause))?;
    Ok((connection, channel))
}

/// Deletes the queue of `target` and its messages (a no-op without one):
/// benchmarks clean up after each run with it.
pub fn delete_queue(target: &AmqpTarget) -> Result<()> {
    let Some(queue) = &target.queue else {
        return Ok(());
    };
    let failure = |cause| admin_error(target, cause);
    client_runtime()?.block_on(async {
        let (connection, channel) = admin_channel(target).await?;
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await
            .map_err(failure)?;
        let _ = connection.close(200, "deleted".into()).await;
        Ok(())
    })
}

/// Waits until the queue of `target` holds at least `at_least` messages,
/// looking every `poll`, and answers how many it held then; `None` when
/// `stop` was set first (the publisher ended) and one last look found fewer. A queue not declared yet is
/// waited for too. Benchmarks use it to fault a publisher half way.
pub fn wait_for_messages(
    target: &AmqpTarget,
    at_least: u64,
    stop: &AtomicBool,
    poll: Duration,
) -> Result<Option<u64>> {
    let Some(queue) = &target.queue else {
        return Ok(None);
    };
    let failure = |cause| admin_error(target, cause);
    client_runtime()?.block_on(async {
        let (connection, mut channel) = admin_channel(target).await?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let held = loop {
            // Read before the queue is looked at: a publisher that ended gets one last look.
            let stopped = stop.load(Ordering::Acquire);
            match channel
                .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                .await
            {
                Ok(found) if u64::from(found.message_count()) >= at_least => {
                    break Some(u64::from(found.message_count()));
                }
                Ok(_) => {}
                // Not declared yet: the broker closed the channel.
                Err(_) => channel = connection.create_channel().await.map_err(failure)?,
            }
            if stopped {
                break None;
            }
            tokio::time::sleep(poll).await;
        };
        let _ = connection.close(200, "watched".into()).await;
        Ok(held)
    })
}

/// Messages ready in the queue of `target` (a passive declare).
pub fn queue_depth(target: &AmqpTarget) -> Result<u64> {
    let queue = named_queue(target)?;
    let failure = |cause| admin_error(target, cause);
    client_runtime()?.block_on(async {
        let (connection, channel) = admin_channel(target).await?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let found = channel
            .queue_declare(queue.into(), passive, FieldTable::default())
            .await
            .map_err(failure)?;
        let _ = connection.close(200, "counted".into()).await;
        Ok(u64::from(found.message_count()))
    })
}

/// Declares the queue of `target` without arguments, durable or not, as
/// another program might have.
pub fn declare_queue(target: &AmqpTarget, durable: bool) -> Result<()> {
    let queue = named_queue(target)?;
    let failure = |cause| admin_error(target, cause);
    client_runtime()?.block_on(async {
        let (connection, channel) = admin_channel(target).await?;
        let options = QueueDeclareOptions {
            durable,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(queue.into(), options, FieldTable::default())
            .await
            .map_err(failure)?;
        let _ = connection.close(200, "declared".into()).await;
        Ok(())
    })
}

/// Declares the queue of `target` durable and publishes `messages` to it as
/// they are, each `(message_id, body)` persistent and confirmed: a queue
/// another publisher filled (out of order, with duplicates or gaps).
pub fn publish_raw(target: &AmqpTarget, messages: &[(&str, &[u8])]) -> Result<()> {
    let queue = named_queue(target)?;
    let failure = |cause| admin_error(target, cause);
    client_runtime()?.block_on(async {
        let (connection, channel) = admin_channel(target).await?;
        channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await
            .map_err(failure)?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(failure)?;
        for (id, body) in messages {
            let properties = BasicProperties::default()
                .with_message_id((*id).into())
                .with_delivery_mode(2);
            channel
                .basic_publish(
                    "".into(),
                    queue.into(),
                    BasicPublishOptions::default(),
                    body,
                    properties,
                )
                .await
                .map_err(failure)?
                .await
                .map_err(failure)?;
        }
        let _ = connection.close(200, "published".into()).await;
        Ok(())
    })
}

/// The queue `target` names, for a call that needs one.
fn named_queue(target: &AmqpTarget) -> Result<&str> {
    target
        .queue
        .as_deref()
        .ok_or_else(|| ExportError::invalid("sink", "name the queue: ?queue=NAME"))
}

/// The broker's version, as it announces itself in `Connection.Start`
/// (server property `version`, e.g. `3.10.8`): the greeting every AMQP 0-9-1
/// broker sends before any login, read over a plain TCP connection that is
/// closed right after (lapin keeps the server's properties to itself).
pub fn broker_version(target: &AmqpTarget) -> Result<String> {
    use std::io::{Read, Write};
    let failure = |reason: String| ExportError::Amqp {
        target: target.describe(),
        reason,
    };
    let uri: lapin::uri::AMQPUri = target.uri.parse().map_err(failure)?;
    let address = (uri.authority.host.as_str(), uri.authority.port);
    let mut stream = std::net::TcpStream::connect(address)
        .map_err(|e| failure(format!("cannot connect: {e}")))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| failure(e.to_string()))?;
    stream
        .write_all(b"AMQP\x00\x00\x09\x01")
        .map_err(|e| failure(format!("cannot greet the broker: {e}")))?;
    let mut header = [0u8; 7];
    stream
        .read_exact(&mut header)
        .map_err(|e| failure(format!("no Connection.Start: {e}")))?;
    let size = u32::from_be_bytes([header[3], header[4], header[5], header[6]]) as usize;
    if header[0] != 1 || size > 1 << 20 {
        return Err(failure("the greeting is not a method frame".to_string()));
    }
    let mut payload = vec![0u8; size];
    stream
        .read_exact(&mut payload)
        .map_err(|e| failure(format!("truncated Connection.Start: {e}")))?;
    // class 10, method 10, version major and minor, then the server properties.
    let properties = payload
        .get(6..)
        .filter(|_| payload[..4] == [0, 10, 0, 10])
        .ok_or_else(|| failure("the greeting is not Connection.Start".to_string()))?;
    field_table_string(properties, "version")
        .ok_or_else(|| failure("the broker announces no version".to_string()))
}

/// The long-string entry `key` of an AMQP field table (`table` starts at its
/// 4-byte length); other entries are skipped by their type's size.
fn field_table_string(table: &[u8], key: &str) -> Option<String> {
    let length = u32::from_be_bytes(table.get(..4)?.try_into().ok()?) as usize;
    let mut entries = table.get(4..4 + length)?;
    let long = |bytes: &[u8]| -> Option<usize> {
        Some(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize)
    };
    while !entries.is_empty() {
        let name_length = usize::from(entries[0]);
        let name = entries.get(1..1 + name_length)?;
        let kind = *entries.get(1 + name_length)?;
        let value = &entries[2 + name_length..];
        let value_size = match kind {
            b'S' | b'F' | b'A' | b'x' => 4 + long(value)?,
            b't' | b'b' | b'B' => 1,
            b's' | b'u' => 2,
            b'I' | b'i' | b'f' => 4,
            b'l' | b'L' | b'd' | b'T' => 8,
            b'D' => 5,
            b'V' => 0,
            _ => return None,
        };
        if name == key.as_bytes() && kind == b'S' {
            let text = value.get(4..value_size)?;
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        entries = value.get(value_size..)?;
    }
    None
}
