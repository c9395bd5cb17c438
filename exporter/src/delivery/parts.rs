//! The drain's part writer, on a thread of its own: it compresses and writes
//! messages into the open Parquet part, and commits the part (synced, renamed
//! into place) when asked, while the consumer goes on taking deliveries from
//! the broker, checking and counting them; the consumer awaits a commit's
//! answer beside the deliveries and acknowledges once it comes. Batches that
//! wait are compressed in parallel on rayon's pool. On two cores this overlap
//! is what lets a drain keep up with the publisher.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use rayon::prelude::*;

use crate::error::{ExportError, Result};
use crate::message::MessageBatch;
use crate::sink::{MessageSink, ParquetSink, SinkSummary};

enum Command {
    /// Write these messages into the open part (opening the next if none is).
    Write(MessageBatch),
    /// Commit the open part and answer with what it holds (`None`: no part open).
    Commit,
}

/// The handle the consumer holds on the writer thread.
pub(crate) struct PartWriter {
    commands: Option<SyncSender<Command>>,
    committed: UnboundedReceiver<Result<Option<SinkSummary>>>,
    thread: Option<JoinHandle<()>>,
}

/// Batches waiting for the writer, at most: the consumer blocks beyond that.
const QUEUED_BATCHES: usize = 4;

/// The batches waiting (at least one command, at most one batch per thread
/// of rayon's pool, not past a commit) and whether a commit follows them;
/// `None` once the consumer is gone.
fn next_commands(inbox: &Receiver<Command>) -> Option<(Vec<MessageBatch>, bool)> {
    let mut batches = Vec::new();
    let mut command = inbox.recv().ok()?;
    loop {
        match command {
            Command::Commit => return Some((batches, true)),
            Command::Write(batch) => batches.push(batch),
        }
        if batches.len() >= rayon::current_num_threads() {
            return Some((batches, false));
        }
        match inbox.try_recv() {
            Ok(next) => command = next,
            Err(_) => return Some((batches, false)),
        }
    }
}

impl PartWriter {
    /// Starts a writer whose first part is `part-{first_part}` in `output`.
    pub fn start(
        output: &Path,
        first_part: u64,
        compression: parquet::basic::Compression,
    ) -> Result<PartWriter> {
        let (commands, inbox) = sync_channel(QUEUED_BATCHES);
        let (answers, committed) = unbounded_channel();
        let mut state = WriterState {
            output: output.to_path_buf(),
            next_part: first_part,
            compression,
            open: None,
            failed: None,
        };
        let thread = std::thread::Builder::new()
            .name("drain-writer".to_string())
            .spawn(move || {
                while let Some((batches, commit)) = next_commands(&inbox) {
                    state.write(batches);
                    if commit && answers.send(state.commit()).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| ExportError::io("cannot start", "the drain's writer thread", e))?;
        Ok(PartWriter {
            commands: Some(commands),
            committed,
            thread: Some(thread),
        })
    }

    /// Hands messages to the writer; an error it met before comes back from
    /// the next [`PartWriter::commit`].
    pub fn write(&mut self, messages: MessageBatch) {
        if !messages.is_empty() {
            self.send(Command::Write(messages));
        }
    }

    /// Asks for the open part to be committed once everything handed over
    /// is written; [`PartWriter::committed`] tells when it is.
    pub fn request_commit(&mut self) {
        self.send(Command::Commit);
    }

    /// Waits for the oldest commit asked for: the part's counts, `None` when
    /// no part was open, or the first error the writer met.
    pub async fn committed(&mut self) -> Result<Option<SinkSummary>> {
        match self.committed.recv().await {
            Some(answer) => answer,
            None => Err(self.stopped()),
        }
    }

    fn send(&mut self, command: Command) {
        // A writer that is gone answers no commit: `commit` reports it.
        if let Some(commands) = &self.commands {
            let _ = commands.send(command);
        }
    }

    /// The error of a writer thread that ended without answering.
    fn stopped(&mut self) -> ExportError {
        self.commands = None;
        let panicked = self
            .thread
            .take()
            .map(JoinHandle::join)
            .is_some_and(|r| r.is_err());
        ExportError::Worker {
            stage: "the drain's part writer",
            reason: if panicked {
                "it panicked"
            } else {
                "it stopped"
            }
            .to_string(),
        }
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        // Closing the channel ends the thread; an open part is dropped
        // uncommitted (its temporary file removed), as a kill would leave it.
        self.commands = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the writer thread owns.
struct WriterState {
    compression: parquet::basic::Compression,
    output: PathBuf,
    next_part: u64,
    open: Option<ParquetSink>,
    /// The first error met: later writes are skipped, the next commit returns it.
    failed: Option<ExportError>,
}

impl WriterState {
    fn write(&mut self, batches: Vec<MessageBatch>) {
        if !batches.is_empty()
            && self.failed.is_none()
            && let Err(error) = self.try_write(batches)
        {
            self.failed = Some(error);
            self.open = None;
        }
    }

    /// Compresses the batches in parallel (each a row group), then writes
    /// them in order.
    fn try_write(&mut self, batches: Vec<MessageBatch>) -> Result<()> {
        if self.open.is_none() {
            let path = self.output.join(part_name(self.next_part));
            self.open = Some(ParquetSink::create(&path, self.compression, true)?);
        }
        let sink = self.open.as_ref().expect("a part is open");
        let prepared: Vec<_> = batches
            .into_par_iter()
            .map(|batch| sink.prepare(batch))
            .collect();
        for row_group in prepared {
            sink.write(row_group?)?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<Option<SinkSummary>> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        let Some(sink) = self.open.take() else {
            return Ok(None);
        };
        let written = sink.finish()?;
        sync_directory(&self.output)?;
        self.next_part += 1;
        Ok(Some(written))
    }
}

/// File name of part `index`.
pub(crate) fn part_name(index: u64) -> String {
    format!("part-{index:05}.parquet")
}

/// Syncs a directory, so that a rename inside it survives a crash.
fn sync_directory(directory: &Path) -> Result<()> {
    std::fs::File::open(directory)
        .and_then(|handle| handle.sync_all())
        .map_err(|e| ExportError::io("cannot sync", directory, e))
}
