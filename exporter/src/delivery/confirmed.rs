//! The group below which every message is confirmed, kept while a broker
//! confirms messages in any order (Kafka confirms each partition in order,
//! the partitions side by side), and written to the checkpoint as it moves.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::checkpoint::{Checkpoint, Checkpointing};
use crate::error::Result;

/// How often the checkpoint is rewritten while messages are confirmed.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Messages sent and not all confirmed, in the order they were sent.
#[derive(Debug)]
pub struct Confirmed {
    /// Every group below this one is confirmed.
    below: u64,
    /// Predictions in the groups below `below`, the run's start included.
    predictions: u64,
    /// From `below` on: each sent group's predictions and whether it is confirmed.
    pending: VecDeque<(u32, bool)>,
    checkpointing: Option<Checkpointing>,
    last_written: Instant,
}

impl Confirmed {
    /// Nothing sent yet; the first message is group `first_group`, after
    /// `predictions_before` predictions confirmed by an earlier run.
    pub fn new(
        first_group: u64,
        predictions_before: u64,
        checkpointing: Option<Checkpointing>,
    ) -> Confirmed {
        Confirmed {
            below: first_group,
            predictions: predictions_before,
            pending: VecDeque::new(),
            checkpointing,
            last_written: Instant::now(),
        }
    }

    /// Records the next message, of `rows` predictions, as sent; returns its group.
    pub fn sent(&mut self, rows: u32) -> u64 {
        self.pending.push_back((rows, false));
        self.below + self.pending.len() as u64 - 1
    }

    /// Records `group` as confirmed, moves the mark past every confirmed
    /// group at its front, and rewrites the checkpoint when it is due.
    /// A group not in flight (confirmed before, or never sent) is ignored.
    pub fn confirm(&mut self, group: u64) -> Result<()> {
        let Some(index) = group.checked_sub(self.below) else {
            return Ok(());
        };
        if let Some(entry) = self.pending.get_mut(index as usize) {
            entry.1 = true;
        }
        while let Some(&(rows, true)) = self.pending.front() {
            self.pending.pop_front();
            self.below += 1;
            self.predictions += u64::from(rows);
        }
        if self.last_written.elapsed() > CHECKPOINT_EVERY {
            self.save(false)?;
        }
        Ok(())
    }

    /// Every group below this one is confirmed.
    pub fn below(&self) -> u64 {
        self.below
    }

    /// Messages sent and not yet confirmed (or waiting behind one that is not).
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Writes the checkpoint (if there is one); `complete` once the export is done.
    pub fn save(&mut self, complete: bool) -> Result<()> {
        self.last_written = Instant::now();
        let Some(checkpointing) = &self.checkpointing else {
            return Ok(());
        };
        Checkpoint {
            identity: checkpointing.identity.clone(),
            confirmed_below: self.below,
            confirmed_predictions: self.predictions,
            complete,
        }
        .write(&checkpointing.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_moves_only_past_a_confirmed_front() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("checkpoint.json");
        let checkpointing = Checkpointing {
            path: path.clone(),
            identity: serde_json::json!({"export": 1}),
        };
        let mut confirmed = Confirmed::new(5, 40, Some(checkpointing));
        assert_eq!(
            [confirmed.sent(10), confirmed.sent(10), confirmed.sent(3)],
            [5, 6, 7]
        );
        confirmed.confirm(6).unwrap();
        assert_eq!((confirmed.below(), confirmed.in_flight()), (5, 3));
        confirmed.confirm(5).unwrap();
        assert_eq!((confirmed.below(), confirmed.in_flight()), (7, 1));
        // A repeat and a group never sent change nothing.
        confirmed.confirm(5).unwrap();
        confirmed.confirm(99).unwrap();
        assert_eq!(confirmed.below(), 7);
        confirmed.save(false).unwrap();
        let written = Checkpoint::read(&path).unwrap();
        assert_eq!(
            (written.confirmed_below, written.confirmed_predictions),
            (7, 60)
        );
        confirmed.confirm(7).unwrap();
        confirmed.save(true).unwrap();
        let written = Checkpoint::read(&path).unwrap();
        assert_eq!(
            (written.confirmed_below, written.confirmed_predictions),
            (8, 63)
        );
        assert!(written.complete);
    }
}
