//! Newline-delimited JSON: one message per line, written atomically.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use super::atomic_file::{self, AtomicFile};
use super::{Counts, MessageSink, SinkSummary};
use crate::error::{ExportError, Result};
use crate::message::MessageBatch;

/// Writes one message per line to a file that appears when complete.
pub struct NdjsonSink {
    output: Mutex<(AtomicFile, Counts)>,
}

impl NdjsonSink {
    /// Starts writing to `path`.
    pub fn create(path: &Path, overwrite: bool) -> Result<Self> {
        Ok(NdjsonSink {
            output: Mutex::new((atomic_file::create(path, overwrite)?, Counts::default())),
        })
    }
}

impl MessageSink for NdjsonSink {
    type Prepared = (Vec<u8>, Counts);

    fn prepare(&self, messages: MessageBatch) -> Result<Self::Prepared> {
        let counts = Counts::of(&messages);
        let mut lines = Vec::with_capacity(messages.bytes.len() + messages.len());
        for message in messages.messages() {
            lines.extend_from_slice(message);
            lines.push(b'\n');
        }
        Ok((lines, counts))
    }

    fn write(&self, (lines, counts): Self::Prepared) -> Result<()> {
        let mut output = self.output.lock().expect("sink lock poisoned");
        let (file, total) = &mut *output;
        file.write_all(&lines)
            .map_err(|e| ExportError::io("cannot write", file.target().to_path_buf(), e))?;
        total.add(counts);
        Ok(())
    }

    fn finish(self) -> Result<SinkSummary> {
        let (file, counts) = self.output.into_inner().expect("sink lock poisoned");
        let path = file.target().to_path_buf();
        let bytes = atomic_file::commit(file)?;
        Ok(counts.summary(bytes, Some(path)))
    }
}
