//! The queue as a [`MessageSink`]: a sync façade over the publisher, which
//! runs with its async client on a thread of its own (the strategies see a
//! sync sink; async stays in this folder).

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::client::client_runtime;
use super::publisher::{AmqpOptions, PublishReport, Publisher};
use super::target::AmqpTarget;
use crate::error::{ExportError, Result};
use crate::message::MessageBatch;
use crate::sink::{Counts, MessageSink, SinkSummary};

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
