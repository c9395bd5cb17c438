//! The Kafka topic as a [`MessageSink`]: librdkafka's idempotent producer
//! (`acks=all`, `enable.idempotence` unless the target says
//! `idempotence=false`), one record per message, keyed by its
//! `message_id` so that a message's retries land on one partition in order.
//! librdkafka batches, compresses and retries on its own threads; the sink's
//! writer thread hands it records and serves its delivery reports, which move
//! the checkpoint past every confirmed message ([`Confirmed`]). A record the
//! broker refused with an error librdkafka does not retry (a broker shutting
//! down may answer so) is produced again, same key, until `retry_for` has
//! passed since its first refusal; only then does the export fail, keeping
//! its checkpoint. Memory is bounded by the producer's queue
//! (`queue.buffering.max.messages` and `.kbytes`) and the records to send again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Message};

use super::admin::{client_config, ensure_topic, failure};
use super::target::KafkaTarget;
use crate::delivery::{Checkpointing, Confirmed};
use crate::error::{ExportError, Result};
use crate::message::MessageBatch;
use crate::sink::{Counts, MessageSink, SinkSummary};

/// How the Kafka sink produces.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    /// Records handed to the producer and not yet confirmed, at most.
    pub window: usize,
    /// Bytes of records handed to the producer and not yet confirmed, at most.
    pub window_bytes: u64,
    /// `linger.ms`: how long the producer waits to fill a batch.
    pub linger: Duration,
    /// How long a record may go unconfirmed (retried meanwhile, through a
    /// broker's restart) before the export fails: `delivery.timeout.ms`.
    pub retry_for: Duration,
    /// The group (`message_id`) of the first message this run produces.
    pub first_group: u64,
    /// Predictions in the messages before `first_group` (a resumed run's checkpoint).
    pub predictions_before: u64,
    /// Where to record the group below which every message is confirmed.
    pub checkpoint: Option<Checkpointing>,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions {
            window: 1024,
            window_bytes: 64 << 20,
            linger: Duration::from_millis(5),
            retry_for: Duration::from_secs(60),
            first_group: 0,
            predictions_before: 0,
            checkpoint: None,
        }
    }
}

/// A record handed to the producer: its group, and when the broker first
/// refused it.
struct Attempt {
    group: u64,
    refused_since: Option<Instant>,
}

/// A refused record, to produce again.
struct Refused {
    attempt: Attempt,
    payload: Vec<u8>,
}

/// Delivery reports, as librdkafka calls them on the thread that polls.
struct Deliveries {
    confirmed: Mutex<Confirmed>,
    /// Records refused, to produce again.
    refused: Mutex<Vec<Refused>>,
    /// How long a record may keep being refused.
    retry_for: Duration,
    /// The first failure reported, kept for the writer to return.
    failed: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Attempt>;

    fn delivery(&self, result: &DeliveryResult<'_>, attempt: Box<Attempt>) {
        let group = attempt.group;
        let outcome = match result {
            Ok(_) => self
                .confirmed
                .lock()
                .expect("deliveries lock poisoned")
                .confirm(group)
                .map_err(|e| e.to_string()),
            Err((error, record)) => {
                let since = attempt.refused_since.unwrap_or_else(Instant::now);
                if since.elapsed() < self.retry_for {
                    self.refused.lock().expect("poisoned").push(Refused {
                        attempt: Attempt {
                            group,
                            refused_since: Some(since),
                        },
                        payload: record.payload().unwrap_or_default().to_vec(),
                    });
                    Ok(())
                } else {
                    Err(format!(
                        "message {group} was not delivered within {:?}: {error}; rerun with \
                         --resume to go on from the checkpoint",
                        self.retry_for
                    ))
                }
            }
        };
        if let Err(reason) = outcome {
            self.failed
                .lock()
                .expect("deliveries lock poisoned")
                .get_or_insert(reason);
        }
    }
}

/// Produces messages to a Kafka topic; see the module comment.
pub struct KafkaSink {
    target: KafkaTarget,
    producer: BaseProducer<Deliveries>,
    retry_for: Duration,
    counts: Mutex<Counts>,
    /// Records produced again after the broker refused them.
    republished: Mutex<u64>,
}

impl KafkaSink {
    /// Makes (or checks) the topic and starts the producer; fails at once
    /// when the brokers cannot be reached or the topic has other partitions.
    pub fn connect(target: KafkaTarget, options: KafkaOptions) -> Result<KafkaSink> {
        ensure_topic(&target)?;
        let mut config: ClientConfig = client_config(&target);
        let window_kbytes = (options.window_bytes / 1024).max(1);
        config
            .set("acks", "all")
            .set("enable.idempotence", target.idempotence.to_string())
            .set("compression.type", &target.compression)
            .set("linger.ms", options.linger.as_millis().to_string())
            .set("queue.buffering.max.kbytes", window_kbytes.to_string())
            .set(
                "queue.buffering.max.messages",
                options.window.max(1).to_string(),
            )
            .set(
                "delivery.timeout.ms",
                options.retry_for.as_millis().to_string(),
            );
        let deliveries = Deliveries {
            confirmed: Mutex::new(Confirmed::new(
                options.first_group,
                options.predictions_before,
                options.checkpoint,
            )),
            refused: Mutex::new(Vec::new()),
            retry_for: options.retry_for,
            failed: Mutex::new(None),
        };
        let producer = config
            .create_with_context(deliveries)
            .map_err(|e| failure(&target, e))?;
        Ok(KafkaSink {
            target,
            producer,
            retry_for: options.retry_for,
            counts: Mutex::new(Counts::default()),
            republished: Mutex::new(0),
        })
    }

    /// Serves delivery reports for at most `timeout`, produces the refused
    /// records again, and returns the first failure, if one was reported.
    fn poll(&self, timeout: Duration) -> Result<()> {
        self.producer.poll(timeout);
        if let Some(reason) = self
            .producer
            .context()
            .failed
            .lock()
            .expect("poisoned")
            .as_ref()
        {
            return Err(failure(&self.target, reason));
        }
        if let Some((code, reason)) = self.producer.client().fatal_error() {
            return Err(failure(
                &self.target,
                format!(
                    "the producer stopped ({code:?}: {reason}); rerun with --resume to go on \
                     from the checkpoint"
                ),
            ));
        }
        let refused =
            std::mem::take(&mut *self.producer.context().refused.lock().expect("poisoned"));
        *self.republished.lock().expect("poisoned") += refused.len() as u64;
        for Refused { attempt, payload } in refused {
            self.send(attempt, &payload)?;
        }
        Ok(())
    }

    /// Hands one message to the producer as a new group.
    fn produce(&self, payload: &[u8], rows: u32) -> Result<()> {
        let group = self
            .producer
            .context()
            .confirmed
            .lock()
            .expect("poisoned")
            .sent(rows);
        let attempt = Attempt {
            group,
            refused_since: None,
        };
        self.send(attempt, payload)
    }

    /// Hands a record to the producer, serving delivery reports while its
    /// queue is full.
    fn send(&self, attempt: Attempt, payload: &[u8]) -> Result<()> {
        let group = attempt.group;
        let key = group.to_string();
        let mut record = BaseRecord::with_opaque_to(&self.target.topic, Box::new(attempt))
            .key(key.as_str())
            .payload(payload);
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    self.poll(Duration::from_millis(50))?;
                }
                Err((error, _)) => {
                    return Err(failure(
                        &self.target,
                        format!("cannot produce message {group}: {error}"),
                    ));
                }
            }
        }
    }
}

impl MessageSink for KafkaSink {
    type Prepared = MessageBatch;

    fn prepare(&self, messages: MessageBatch) -> Result<MessageBatch> {
        Ok(messages)
    }

    fn write(&self, batch: MessageBatch) -> Result<()> {
        for (payload, &rows) in batch.messages().zip(&batch.message_rows) {
            self.produce(payload, rows)?;
        }
        self.poll(Duration::ZERO)?;
        self.counts
            .lock()
            .expect("sink lock poisoned")
            .add(Counts::of(&batch));
        Ok(())
    }

    fn finish(self) -> Result<SinkSummary> {
        let unconfirmed = || {
            let confirmed = self.producer.context().confirmed.lock().expect("poisoned");
            confirmed.in_flight() > 0
        };
        let deadline = Instant::now() + self.retry_for * 2 + Duration::from_secs(5);
        while unconfirmed() && Instant::now() < deadline {
            self.poll(Duration::from_millis(100))?;
        }
        let mut confirmed = self.producer.context().confirmed.lock().expect("poisoned");
        if confirmed.in_flight() > 0 {
            return Err(ExportError::Kafka {
                target: self.target.describe(),
                reason: format!(
                    "{} messages unconfirmed after {:?}; rerun with --resume to go on from the \
                     checkpoint",
                    confirmed.in_flight(),
                    self.retry_for
                ),
            });
        }
        confirmed.save(true)?;
        drop(confirmed);
        let counts = self.counts.into_inner().expect("sink lock poisoned");
        let mut summary = counts.summary(0, None);
        summary.republished = Some(self.republished.into_inner().expect("poisoned"));
        Ok(summary)
    }
}
