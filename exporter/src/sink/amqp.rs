//! A RabbitMQ queue (AMQP 0-9-1, through lapin): persistent messages with
//! publisher confirms, `message_id` = the group number, at most a window of
//! unconfirmed messages at once. A dropped connection, a broker restart or a
//! nack is retried with backoff, republishing only the unconfirmed messages
//! (with the same `message_id`), and a checkpoint records the group below which
//! every message is confirmed. The async client lives on a thread of its own
//! with its own runtime: the strategies see a sync sink.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, PublisherConfirm,
};
use serde::{Deserialize, Serialize};

use super::{Counts, MessageSink, SinkSummary};
use crate::error::{ExportError, Result};
use crate::message::MessageBatch;

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
}

impl AmqpTarget {
    /// Parses `amqp://USER:PASS@HOST:PORT/VHOST?queue=NAME` or
    /// `...?exchange=X&routing_key=R`; other query parameters (heartbeat,
    /// frame_max, ...) go to the client.
    pub fn parse(url: &str) -> Result<AmqpTarget> {
        let invalid = |reason: String| ExportError::invalid("--sink", reason);
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
        let mut passed = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some(("queue", value)) if !value.is_empty() => queue = Some(value.to_string()),
                Some(("exchange", value)) => exchange = Some(value.to_string()),
                Some(("routing_key", value)) => routing_key = Some(value.to_string()),
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
        })
    }

    /// Where the messages go, for messages to the user.
    pub fn describe(&self) -> String {
        match &self.queue {
            Some(queue) => format!("queue {queue} on {}", self.display),
            None => format!(
                "exchange {} (routing key {}) on {}",
                self.exchange, self.routing_key, self.display
            ),
        }
    }
}

/// `amqp://user:secret@host` -> `amqp://user@host`.
fn hide_password(url: &str) -> String {
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

/// How the queue sink publishes.
#[derive(Debug, Clone)]
pub struct AmqpOptions {
    /// Unconfirmed messages allowed at once (publisher confirms window).
    pub confirm_window: usize,
    /// The group (`message_id`) of the first message this run publishes.
    pub first_group: u64,
    /// Predictions in the messages before `first_group` (a resumed run's
    /// checkpoint), so that the checkpoint counts from the start.
    pub predictions_before: u64,
    /// How long to keep retrying a lost connection before giving up.
    pub retry_for: Duration,
    /// Where to record the group below which every message is confirmed.
    pub checkpoint: Option<Checkpointing>,
}

impl Default for AmqpOptions {
    fn default() -> Self {
        AmqpOptions {
            confirm_window: 1024,
            first_group: 0,
            predictions_before: 0,
            retry_for: Duration::from_secs(60),
            checkpoint: None,
        }
    }
}

/// A checkpoint file and what it must say besides the progress.
#[derive(Debug, Clone)]
pub struct Checkpointing {
    /// The file, written atomically.
    pub path: PathBuf,
    /// What identifies the export (dataset, options, target), checked on resume.
    pub identity: serde_json::Value,
}

/// `--checkpoint FILE`: every message of a group below `confirmed_below` is
/// confirmed by the broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The dataset, options and target of the export.
    pub identity: serde_json::Value,
    /// Every message of a group below this one is confirmed.
    pub confirmed_below: u64,
    /// Predictions in the confirmed messages; with `packed` grouping, the
    /// sequential id the first unconfirmed message starts at.
    #[serde(default)]
    pub confirmed_predictions: u64,
    /// True once the export has finished.
    pub complete: bool,
}

impl Checkpoint {
    /// Reads a checkpoint file.
    pub fn read(path: &std::path::Path) -> Result<Checkpoint> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ExportError::io("cannot read", path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            ExportError::io(
                "cannot parse",
                path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })
    }

    fn write(&self, path: &std::path::Path) -> Result<()> {
        let temporary = path.with_file_name(format!(
            ".{}.predbench-tmp-{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let text = serde_json::to_string_pretty(self).expect("checkpoints serialize");
        std::fs::write(&temporary, text)
            .map_err(|e| ExportError::io("cannot write", &temporary, e))?;
        std::fs::rename(&temporary, path)
            .map_err(|e| ExportError::io("cannot rename into place", path, e))
    }
}

/// What the publisher did, reported when it finishes.
#[derive(Debug, Clone, Default)]
struct PublishReport {
    /// Messages published again after a nack or a lost connection.
    republished: u64,
    /// Connections made after the first.
    reconnects: u64,
}

/// Publishes messages to RabbitMQ with confirms; see the module comment.
pub struct AmqpSink {
    target: AmqpTarget,
    batches: Mutex<Option<tokio::sync::mpsc::Sender<Arc<MessageBatch>>>>,
    publisher: Mutex<Option<JoinHandle<Result<PublishReport>>>>,
    /// Counts of what was handed to the publisher.
    counts: Mutex<Counts>,
}

impl AmqpSink {
    /// Connects (failing at once when the broker is unreachable, refuses the
    /// credentials or has the queue with other arguments) and starts the
    /// publisher thread.
    pub fn connect(target: AmqpTarget, options: AmqpOptions) -> Result<AmqpSink> {
        let (sender, receiver) = tokio::sync::mpsc::channel(2);
        let (ready_sender, ready) = std::sync::mpsc::channel();
        let publisher_target = target.clone();
        let publisher_options = options.clone();
        let publisher = std::thread::Builder::new()
            .name("predbench-amqp".to_string())
            .spawn(move || -> Result<PublishReport> {
                client_runtime()?.block_on(async move {
                    let mut publisher =
                        match Publisher::connect(publisher_target, publisher_options).await {
                            Ok(publisher) => {
                                let _ = ready_sender.send(Ok(()));
                                publisher
                            }
                            Err(error) => {
                                let _ = ready_sender.send(Err(error));
                                return Ok(PublishReport::default());
                            }
                        };
                    publisher.run(receiver).await
                })
            })
            .expect("cannot start the AMQP publisher thread");
        match ready.recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                let _ = publisher.join();
                return Err(error);
            }
            Err(_) => {
                return Err(join_error(publisher));
            }
        }
        Ok(AmqpSink {
            target,
            batches: Mutex::new(Some(sender)),
            publisher: Mutex::new(Some(publisher)),
            counts: Mutex::new(Counts::default()),
        })
    }

    /// The publisher's error, once it has stopped.
    fn publisher_error(&self) -> ExportError {
        self.batches.lock().expect("sink lock poisoned").take();
        match self.publisher.lock().expect("sink lock poisoned").take() {
            Some(handle) => join_error(handle),
            None => ExportError::Amqp {
                target: self.target.describe(),
                reason: "the publisher stopped".to_string(),
            },
        }
    }
}

fn join_error(handle: JoinHandle<Result<PublishReport>>) -> ExportError {
    match handle.join() {
        Ok(Err(error)) => error,
        Ok(Ok(_)) => ExportError::Amqp {
            target: String::new(),
            reason: "the publisher stopped early".to_string(),
        },
        Err(_) => ExportError::Amqp {
            target: String::new(),
            reason: "the publisher thread panicked".to_string(),
        },
    }
}

impl MessageSink for AmqpSink {
    type Prepared = MessageBatch;

    fn prepare(&self, messages: MessageBatch) -> Result<MessageBatch> {
        Ok(messages)
    }

    fn write(&self, batch: MessageBatch) -> Result<()> {
        self.counts
            .lock()
            .expect("sink lock poisoned")
            .add(Counts::of(&batch));
        let sender = self
            .batches
            .lock()
            .expect("sink lock poisoned")
            .clone()
            .expect("the sink is open");
        if sender.blocking_send(Arc::new(batch)).is_err() {
            return Err(self.publisher_error());
        }
        Ok(())
    }

    fn finish(self) -> Result<SinkSummary> {
        self.batches.lock().expect("sink lock poisoned").take();
        let handle = self
            .publisher
            .lock()
            .expect("sink lock poisoned")
            .take()
            .expect("finished once");
        let report = match handle.join() {
            Ok(result) => result?,
            Err(_) => return Err(join_error_panicked()),
        };
        let counts = self.counts.into_inner().expect("sink lock poisoned");
        let mut summary = counts.summary(0, None);
        summary.republished = Some(report.republished);
        summary.reconnects = Some(report.reconnects);
        Ok(summary)
    }
}

fn join_error_panicked() -> ExportError {
    ExportError::Amqp {
        target: String::new(),
        reason: "the publisher thread panicked".to_string(),
    }
}

/// One message published and not yet confirmed.
struct InFlight {
    group: u64,
    batch: Arc<MessageBatch>,
    index: usize,
    confirm: Option<PublisherConfirm>,
}

impl InFlight {
    /// Predictions in the message.
    fn rows(&self) -> u32 {
        self.batch
            .message_rows
            .get(self.index)
            .copied()
            .unwrap_or(0)
    }

    fn payload(&self) -> &[u8] {
        let start = if self.index == 0 {
            0
        } else {
            self.batch.ends[self.index - 1]
        };
        &self.batch.bytes[start..self.batch.ends[self.index]]
    }
}

/// The publisher: owns the connection, the window of unconfirmed messages and
/// the checkpoint.
struct Publisher {
    target: AmqpTarget,
    options: AmqpOptions,
    connection: Option<Connection>,
    channel: Option<Channel>,
    in_flight: VecDeque<InFlight>,
    next_group: u64,
    confirmed_below: u64,
    confirmed_predictions: u64,
    report: PublishReport,
    last_checkpoint: Instant,
}

impl Publisher {
    async fn connect(target: AmqpTarget, options: AmqpOptions) -> Result<Publisher> {
        let first_group = options.first_group;
        let predictions_before = options.predictions_before;
        let mut publisher = Publisher {
            target,
            options,
            connection: None,
            channel: None,
            in_flight: VecDeque::new(),
            next_group: first_group,
            confirmed_below: first_group,
            confirmed_predictions: predictions_before,
            report: PublishReport::default(),
            last_checkpoint: Instant::now(),
        };
        publisher.open().await?;
        Ok(publisher)
    }

    fn error(&self, reason: impl std::fmt::Display) -> ExportError {
        ExportError::Amqp {
            target: self.target.describe(),
            reason: reason.to_string(),
        }
    }

    /// Connects, opens a confirming channel and declares the queue.
    async fn open(&mut self) -> Result<()> {
        let connection = within(
            "connecting",
            Connection::connect(&self.target.uri, ConnectionProperties::default()),
        )
        .await
        .map_err(|cause| self.error(cause))?;
        let channel = within("opening a channel", connection.create_channel())
            .await
            .map_err(|cause| self.error(cause))?;
        if let Some(queue) = &self.target.queue {
            let declare = channel.queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            );
            within("declaring the queue", declare)
                .await
                .map_err(|cause| {
                    self.error(format!("cannot declare the durable queue {queue}: {cause}"))
                })?;
        }
        within(
            "enabling publisher confirms",
            channel.confirm_select(ConfirmSelectOptions::default()),
        )
        .await
        .map_err(|cause| self.error(cause))?;
        self.connection = Some(connection);
        self.channel = Some(channel);
        Ok(())
    }

    /// Reconnects with backoff for up to `retry_for`, then republishes every
    /// unconfirmed message in order.
    async fn recover(&mut self, cause: String) -> Result<()> {
        self.channel = None;
        if let Some(connection) = self.connection.take() {
            // A connection the broker dropped may never answer a close.
            let _ = within(
                "closing",
                connection.close(0, "predbench reconnects".into()),
            )
            .await;
        }
        let started = Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            tokio::time::sleep(delay).await;
            match self.open().await {
                Ok(()) => break,
                Err(error) if started.elapsed() < self.options.retry_for => {
                    let _ = error;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                Err(error) => {
                    return Err(self.error(format!(
                        "lost the connection ({cause}) and could not reconnect within {:?}: {error}",
                        self.options.retry_for
                    )));
                }
            }
        }
        self.report.reconnects += 1;
        for index in 0..self.in_flight.len() {
            self.report.republished += 1;
            let confirm = self.publish_at(index).await?;
            self.in_flight[index].confirm = Some(confirm);
        }
        Ok(())
    }

    /// Publishes the in-flight message at `index` on the current channel.
    async fn publish_at(&self, index: usize) -> Result<PublisherConfirm> {
        let message = &self.in_flight[index];
        let channel = self
            .channel
            .as_ref()
            .ok_or_else(|| self.error("no channel"))?;
        let properties = BasicProperties::default()
            .with_message_id(message.group.to_string().into())
            .with_content_type("application/json".into())
            .with_delivery_mode(2);
        let publish = channel.basic_publish(
            self.target.exchange.as_str().into(),
            self.target.routing_key.as_str().into(),
            BasicPublishOptions::default(),
            message.payload(),
            properties,
        );
        within("publishing", publish)
            .await
            .map_err(|cause| self.error(cause))
    }

    /// Publishes every batch received, then waits for every confirm.
    async fn run(
        &mut self,
        mut batches: tokio::sync::mpsc::Receiver<Arc<MessageBatch>>,
    ) -> Result<PublishReport> {
        while let Some(batch) = batches.recv().await {
            for index in 0..batch.len() {
                while self.in_flight.len() >= self.options.confirm_window.max(1) {
                    self.settle_oldest().await?;
                }
                self.in_flight.push_back(InFlight {
                    group: self.next_group,
                    batch: Arc::clone(&batch),
                    index,
                    confirm: None,
                });
                self.next_group += 1;
                let last = self.in_flight.len() - 1;
                match self.publish_at(last).await {
                    Ok(confirm) => self.in_flight[last].confirm = Some(confirm),
                    Err(error) => self.recover(error.to_string()).await?,
                }
            }
        }
        while !self.in_flight.is_empty() {
            self.settle_oldest().await?;
        }
        self.write_checkpoint(true)?;
        if let Some(connection) = self.connection.take() {
            let _ = within("closing", connection.close(200, "predbench is done".into())).await;
        }
        Ok(self.report.clone())
    }

    /// Waits for the oldest unconfirmed message: an ack retires it, a nack
    /// publishes it again, a lost connection republishes the whole window.
    async fn settle_oldest(&mut self) -> Result<()> {
        let confirm = self.in_flight[0].confirm.take();
        let outcome = match confirm {
            Some(confirm) => within("waiting for a confirm", confirm).await,
            None => Err("not published".to_string()),
        };
        match outcome {
            Ok(Confirmation::Ack(_)) | Ok(Confirmation::NotRequested) => {
                let done = self.in_flight.pop_front().expect("a message in flight");
                self.confirmed_below = done.group + 1;
                self.confirmed_predictions += u64::from(done.rows());
                if self.last_checkpoint.elapsed() > Duration::from_millis(500) {
                    self.write_checkpoint(false)?;
                }
                Ok(())
            }
            Ok(Confirmation::Nack(_)) => {
                self.report.republished += 1;
                match self.publish_at(0).await {
                    Ok(confirm) => {
                        self.in_flight[0].confirm = Some(confirm);
                        Ok(())
                    }
                    Err(error) => self.recover(error.to_string()).await,
                }
            }
            Err(cause) => self.recover(cause).await,
        }
    }

    fn write_checkpoint(&mut self, complete: bool) -> Result<()> {
        self.last_checkpoint = Instant::now();
        let Some(checkpointing) = &self.options.checkpoint else {
            return Ok(());
        };
        Checkpoint {
            identity: checkpointing.identity.clone(),
            confirmed_below: self.confirmed_below,
            confirmed_predictions: self.confirmed_predictions,
            complete,
        }
        .write(&checkpointing.path)
    }
}

/// How long one broker operation (connecting, publishing, a confirm) may take
/// before the connection is taken for lost: a broker that restarts can leave
/// an operation waiting forever on a connection that is gone.
pub(crate) const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// Awaits `operation` for at most [`OPERATION_TIMEOUT`]; an error or a
/// timeout becomes one line.
pub(crate) async fn within<T>(
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
pub(crate) fn client_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ExportError::io("cannot start", "the AMQP client's runtime", e))
}

/// Deletes the queue of `target` and its messages (a no-op without one):
/// benchmarks clean up after each run with it.
pub fn delete_queue(target: &AmqpTarget) -> Result<()> {
    let Some(queue) = &target.queue else {
        return Ok(());
    };
    let failure = |cause: lapin::Error| ExportError::Amqp {
        target: target.describe(),
        reason: describe_lapin_error(&cause),
    };
    client_runtime()?.block_on(async {
        let connection = Connection::connect(&target.uri, ConnectionProperties::default())
            .await
            .map_err(failure)?;
        let channel = connection.create_channel().await.map_err(failure)?;
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
fn describe_lapin_error(error: &lapin::Error) -> String {
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
        for bad in [
            "amqp://u:p@host/vhost",
            "amqp://u:p@host/v?queue=a&exchange=b",
            "http://host?queue=a",
        ] {
            let error = AmqpTarget::parse(bad).unwrap_err().to_string();
            assert!(error.contains("--sink"), "{bad}: {error}");
            assert!(!error.contains(":p@"), "{bad}: {error}");
        }
    }
}
