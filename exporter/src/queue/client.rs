//! The AMQP client's plumbing, shared by the publisher and drain: the
//! runtime it runs on, a bound on every broker operation, errors in one line,
//! and the administrative calls benchmarks make (delete a queue, wait for its
//! depth, ask the broker's version).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

use super::target::AmqpTarget;
use crate::error::{ExportError, Result};

/// How long one broker operation (connecting, publishing, a confirm) may take
/// before the connection is taken for lost: a broker that restarts can leave
/// an operation waiting forever on a connection that is gone.
pub(super) const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// Awaits `operation` for at most [`OPERATION_TIMEOUT`]; an error or a
/// timeout becomes one line.
pub(super) async fn within<T>(
    what: &str,
    operation: impl std::future::Future<Output = lapin::Result<T>>,
) -> std::result::Result<T, String> {
    match tokio::time::timeout(OPERATION_TIMEOUT, operation).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(cause)) => Err(describe_lapin_error(&cause)),
        Err(_) => Err(format!("{what}: no answer within {OPERATION_TIMEOUT:?}")),
    }
}

/// The runtime the AMQP client runs on: one thread, owned by the caller.
pub(super) fn client_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ExportError::io("cannot start", "the AMQP client's runtime", e))
}

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
            .queue_delete(
                queue.as_str().into(),
                lapin::options::QueueDeleteOptions::default(),
            )
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
        let passive = lapin::options::QueueDeclareOptions {
            passive: true,
            ..lapin::options::QueueDeclareOptions::default()
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

/// A lapin error in one line, with what to do for the common ones.
pub(super) fn describe_lapin_error(error: &lapin::Error) -> String {
    let text = error.to_string();
    if text.contains("ACCESS_REFUSED") || text.contains("access refused") {
        format!("{text} (wrong user or password for this vhost?)")
    } else if text.contains("PRECONDITION_FAILED") {
        format!("{text} (the queue exists with other arguments: delete it or use another name)")
    } else if text.contains("onnection refused") {
        format!("{text} (is the broker running and listening there?)")
    } else {
        text
    }
}
