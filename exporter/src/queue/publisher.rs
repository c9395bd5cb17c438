//! The publisher: one connection and a confirming channel, at most a window
//! of unconfirmed messages (counted and in bytes), republishing the
//! unconfirmed after a nack or a lost connection (same `message_id`), and the
//! checkpoint kept as messages are confirmed. Runs on the sink's own thread.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, PublisherConfirm,
};

use super::client::within;
use super::target::AmqpTarget;
use crate::delivery::{Checkpointing, Confirmed};
use crate::error::{ExportError, Result};
use crate::message::MessageBatch;

/// How the queue sink publishes.
#[derive(Debug, Clone)]
pub struct AmqpOptions {
    /// Unconfirmed messages allowed at once (publisher confirms window).
    pub confirm_window: usize,
    /// Bytes of unconfirmed messages allowed at once: the window in bytes,
    /// for large messages (1,024 packed messages of 256 KiB are 256 MiB).
    pub confirm_window_bytes: u64,
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
            confirm_window_bytes: 64 << 20,
            first_group: 0,
            predictions_before: 0,
            retry_for: Duration::from_secs(60),
            checkpoint: None,
        }
    }
}

/// What the publisher did, reported when it finishes.
#[derive(Debug, Clone, Default)]
pub(super) struct PublishReport {
    /// Messages published again after a nack or a lost connection.
    pub(super) republished: u64,
    /// Connections made after the first.
    pub(super) reconnects: u64,
}

/// Bytes of message `index` of `batch`.
fn message_bytes(batch: &MessageBatch, index: usize) -> u64 {
    let start = if index == 0 { 0 } else { batch.ends[index - 1] };
    (batch.ends[index] - start) as u64
}

/// One message published and not yet confirmed.
struct InFlight {
    group: u64,
    batch: Arc<MessageBatch>,
    index: usize,
    confirm: Option<PublisherConfirm>,
}

impl InFlight {
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
pub(super) struct Publisher {
    target: AmqpTarget,
    options: AmqpOptions,
    connection: Option<Connection>,
    channel: Option<Channel>,
    in_flight: VecDeque<InFlight>,
    /// Bytes of the messages in flight.
    in_flight_bytes: u64,
    /// The groups sent and confirmed, and the checkpoint.
    confirmed: Confirmed,
    report: PublishReport,
}

impl Publisher {
    pub(super) async fn connect(target: AmqpTarget, options: AmqpOptions) -> Result<Publisher> {
        let first_group = options.first_group;
        let predictions_before = options.predictions_before;
        let checkpoint = options.checkpoint.clone();
        let mut publisher = Publisher {
            target,
            options,
            connection: None,
            channel: None,
            in_flight: VecDeque::new(),
            in_flight_bytes: 0,
            confirmed: Confirmed::new(first_group, predictions_before, checkpoint),
            report: PublishReport::default(),
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
            let mut arguments = FieldTable::default();
            if let Some(kind) = self.target.queue_type {
                arguments.insert(
                    "x-queue-type".into(),
                    lapin::types::AMQPValue::LongString(kind.name().into()),
                );
            }
            let declare = channel.queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions::durable(),
                arguments,
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
    pub(super) async fn run(
        &mut self,
        mut batches: tokio::sync::mpsc::Receiver<Arc<MessageBatch>>,
    ) -> Result<PublishReport> {
        while let Some(batch) = batches.recv().await {
            for index in 0..batch.len() {
                let bytes = message_bytes(&batch, index);
                // The window is full by count, or by bytes (one message always fits).
                while self.in_flight.len() >= self.options.confirm_window.max(1)
                    || (!self.in_flight.is_empty()
                        && self.in_flight_bytes + bytes > self.options.confirm_window_bytes)
                {
                    self.settle_oldest().await?;
                }
                self.in_flight_bytes += bytes;
                let rows = batch.message_rows.get(index).copied().unwrap_or(0);
                self.in_flight.push_back(InFlight {
                    group: self.confirmed.sent(rows),
                    batch: Arc::clone(&batch),
                    index,
                    confirm: None,
                });
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
        self.confirmed.save(true)?;
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
                self.in_flight_bytes -= done.payload().len() as u64;
                self.confirmed.confirm(done.group)
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
}
