//! The null sink: discards messages and counts them, to time everything but the output.

use std::sync::Mutex;

use super::{Counts, MessageSink, SinkSummary};
use crate::error::Result;
use crate::message::MessageBatch;

/// Counts messages and bytes, writes nothing.
#[derive(Debug, Default)]
pub struct NullSink {
    counts: Mutex<Counts>,
}

impl MessageSink for NullSink {
    type Prepared = Counts;

    fn prepare(&self, messages: MessageBatch) -> Result<Counts> {
        Ok(Counts::of(&messages))
    }

    fn write(&self, prepared: Counts) -> Result<()> {
        self.counts
            .lock()
            .expect("sink lock poisoned")
            .add(prepared);
        Ok(())
    }

    fn finish(self) -> Result<SinkSummary> {
        let counts = self.counts.into_inner().expect("sink lock poisoned");
        Ok(counts.summary(0, None))
    }
}
