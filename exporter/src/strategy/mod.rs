//! The competing ways to turn a dataset into messages, one file each. All
//! give byte-identical output for the same options; they differ in time,
//! threads and memory.

mod rayon_parallel;
mod single_thread;
mod window_sort;

use std::ops::Range;
use std::path::PathBuf;

use predbench_common::Shard;
use std::time::{Duration, Instant};

use crate::chunk::ChunkReader;
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::grouping::{GroupLayout, Grouping};
use crate::message::MessageOptions;
use crate::payload_budget::PayloadBudget;
use crate::sink::{Counts, MessageSink, SinkSummary};

/// An export strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// One thread, streaming. Memory: one chunk of rows and its messages.
    SingleThread,
    /// Reading in order, encoding and compressing on a rayon pool, writing in
    /// order. Memory: `threads + 2` chunks of rows and their messages.
    Rayon,
    /// The knowledge-base approach: tag, bring every row to one place, sort
    /// globally, number, then sort again by group. Memory: `--memory-budget`,
    /// spilling sorted runs to disk beyond it.
    WindowSort,
}

predbench_common::choice! { Strategy:
    SingleThread = "single-thread", "One thread, streaming.";
    Rayon = "rayon", "Parallel encoding on a rayon pool, order preserved.";
    WindowSort = "window-sort", "Global sort as the knowledge-base window does; spills past the memory budget.";
}

impl Strategy {
    /// Every strategy, in the order reports list them.
    pub const ALL: [Strategy; 3] = [
        Strategy::SingleThread,
        Strategy::Rayon,
        Strategy::WindowSort,
    ];
}

/// Whether the reader decodes on a thread per cursor (K for modulo) instead
/// of on the thread that reads: needed past about six cores, where one
/// decoding thread stops rayon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeAhead {
    /// Above [`DECODE_AHEAD_ABOVE_THREADS`] worker threads.
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

predbench_common::choice! { DecodeAhead:
    Auto = "auto", "Above 4 worker threads.";
    On = "on", "Always.";
    Off = "off", "Never.";
}

impl DecodeAhead {
    /// `On` or `Off`.
    pub fn forced(on: bool) -> DecodeAhead {
        if on {
            DecodeAhead::On
        } else {
            DecodeAhead::Off
        }
    }
}

/// Parameters of an export run.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Which strategy.
    pub strategy: Strategy,
    /// Grouping rule.
    pub grouping: Grouping,
    /// Predictions per message, K.
    pub group_size: u64,
    /// Worker threads (rayon and the final stage of window-sort).
    pub threads: usize,
    /// Rows per chunk of work (a chunk always holds whole groups).
    pub chunk_rows: u64,
    /// Memory window-sort may hold before spilling.
    pub memory_budget: u64,
    /// Where window-sort spills; the system temporary directory if `None`.
    pub spill_directory: Option<PathBuf>,
    /// How messages are written.
    pub message: MessageOptions,
    /// Whether every cursor decodes on a thread of its own.
    pub decode_ahead: DecodeAhead,
    /// Groups below this one are skipped (`--resume` from a queue checkpoint:
    /// they are confirmed already).
    pub resume_from_group: u64,
    /// Which share of the groups to export: shard I of N takes groups
    /// `[I * G / N, (I + 1) * G / N)`; [`Shard::WHOLE`] exports them all.
    /// Packed grouping takes shard 0 only (the first 1/N of the rows).
    pub shard: Shard,
    /// The payload budget: a message over it is an error naming its group;
    /// with `packed` grouping, the size messages are packed to (required).
    pub max_message_bytes: Option<u64>,
}

impl ExportOptions {
    /// Default options for a strategy: modulo grouping of 10, [`DEFAULT_CHUNK_ROWS`]-row chunks.
    pub fn new(strategy: Strategy) -> Self {
        ExportOptions {
            strategy,
            grouping: Grouping::Modulo,
            group_size: 10,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            chunk_rows: DEFAULT_CHUNK_ROWS,
            memory_budget: 4 << 30,
            spill_directory: None,
            message: MessageOptions::default(),
            decode_ahead: DecodeAhead::Auto,
            resume_from_group: 0,
            shard: Shard::WHOLE,
            max_message_bytes: None,
        }
    }
}

impl ExportOptions {
    /// Whether the reader decodes ahead on a thread per cursor.
    pub fn decodes_ahead(&self) -> bool {
        match self.decode_ahead {
            DecodeAhead::Auto => self.threads > DECODE_AHEAD_ABOVE_THREADS,
            DecodeAhead::On => true,
            DecodeAhead::Off => false,
        }
    }

    /// The groups this run exports, in message order: the shard's share,
    /// less the groups a resumed run has done already.
    pub fn groups(&self, layout: &GroupLayout) -> Range<u64> {
        let share = self.shard.share(layout.non_empty_groups());
        share.start.max(self.resume_from_group).min(share.end)..share.end
    }

    /// Checks the options and lays out `dataset`'s groups: the layout, and
    /// the groups this run exports.
    pub fn plan(&self, dataset: &Dataset) -> Result<(GroupLayout, Range<u64>)> {
        self.validate()?;
        crate::message::check_schema(&dataset.schema)?;
        let layout = GroupLayout::new(self.grouping, dataset.rows, self.group_size)?;
        let groups = self.groups(&layout);
        Ok((layout, groups))
    }

    /// Checks the options that do not depend on the dataset, naming the option.
    pub fn validate(&self) -> Result<()> {
        if self.threads == 0 {
            return Err(ExportError::invalid("threads", "must be at least 1"));
        }
        if self.chunk_rows == 0 {
            return Err(ExportError::invalid("chunk_rows", "must be at least 1"));
        }
        if self.group_size == 0 {
            return Err(ExportError::invalid("group_size", "must be at least 1"));
        }
        if self.max_message_bytes == Some(0) {
            return Err(ExportError::invalid(
                "max_message_bytes",
                "must be at least 1",
            ));
        }
        if self.grouping == Grouping::Packed {
            if self.max_message_bytes.is_none() {
                return Err(ExportError::invalid(
                    "grouping",
                    "packed needs `max_message_bytes`, the size messages are packed to \
                     (e.g. 256KiB for SQS, 1MiB for Kafka)",
                ));
            }
            // Shard 0 starts where the whole export does, so its messages are
            // the whole export's first ones, but for its last, which ends
            // with the share's last row (what a baseline of 1/N of the
            // messages publishes).
            if self.shard.index > 0 {
                return Err(ExportError::invalid(
                    "shard",
                    "packed messages end where the encoded rows fill the budget, so where \
                     shard I's first message starts is known only after encoding every row \
                     before it: packed exports shard 0 of N only; shard with modulo or \
                     contiguous grouping",
                ));
            }
        }
        if self.strategy == Strategy::WindowSort && self.resume_from_group > 0 {
            return Err(ExportError::invalid(
                "resume",
                "window-sort cannot start in the middle; use rayon or single-thread",
            ));
        }
        if self.strategy == Strategy::WindowSort && !self.shard.is_whole() {
            return Err(ExportError::invalid(
                "shard",
                "window-sort numbers rows with a global sort, which no shard can do alone; \
                 shards take their rows from the footers' offsets: use rayon or single-thread",
            ));
        }
        Ok(())
    }
}

/// Above this many worker threads the reader decodes ahead, one thread per
/// cursor, by default. Measured (2M rows, modulo, null sink): decoding costs
/// 0.125 µs a row and the whole export 0.82 µs on one core, so a reader that
/// decodes on one thread stops `rayon` at about 6.6 cores; on 2 cores decoding
/// ahead costs 7% more time (and ~85 MB) for nothing, as the reader is not the
/// limit there.
pub const DECODE_AHEAD_ABOVE_THREADS: usize = 4;

/// Rows per unit of work by default. Measured at 6M rows, `rayon` into
/// Parquet on 2 cores: 65,536-row chunks 7.9 s and 560-650 MiB peak RSS,
/// 32,768 7.0 s and 375-460 MiB, 16,384 7.1 s and 250-300 MiB (null sink:
/// 3.0 s / 505-570 MiB, 2.6 s / 295-325 MiB, 2.5 s / 210-245 MiB): smaller
/// chunks cost nothing and halve what the chunks in flight hold.
pub const DEFAULT_CHUNK_ROWS: u64 = 16_384;

/// What an export did.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    /// What the sink reports.
    pub sink: SinkSummary,
    /// Rows exported (the dataset's, or the shard's share of them).
    pub input_rows: u64,
    /// The groups exported, in message order (all of them unless sharded).
    pub groups: Range<u64>,
    /// Bytes of the dataset's files.
    pub input_bytes: u64,
    /// Bytes window-sort spilled to disk (0 for the others).
    pub spilled_bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Reads and decodes the groups `options` selects in message order, as the
/// strategies do, on `options.threads` workers, and encodes nothing: the rate
/// of the reading side alone, the ceiling of any strategy built on it. The
/// summary counts messages and rows; no byte is written.
pub fn decode_only(
    dataset: &Dataset,
    options: &ExportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportSummary> {
    let (layout, groups) = options.plan(dataset)?;
    let started = Instant::now();
    let chunks = ChunkReader::for_groups(
        dataset,
        layout,
        options.chunk_rows,
        groups.clone(),
        options.decodes_ahead(),
    );
    let mut counts = Counts::default();
    predbench_common::pipeline::ordered_parallel_map(
        chunks,
        options.threads,
        options.threads + 1,
        |chunk| {
            Ok(Counts {
                messages: chunk.ends.len() as u64,
                rows: chunk.batch.num_rows() as u64,
                message_bytes: 0,
            })
        },
        |_, chunk_counts| {
            counts.add(chunk_counts);
            progress(counts.rows);
            Ok(())
        },
    )?;
    Ok(ExportSummary {
        sink: counts.summary(0, None),
        input_rows: layout.rows_in(&groups),
        groups,
        input_bytes: dataset.bytes,
        spilled_bytes: 0,
        elapsed: started.elapsed(),
    })
}

/// Exports `dataset` into `sink` with `options`; `progress` receives the rows done so far.
pub fn export<S: MessageSink + 'static>(
    dataset: &Dataset,
    options: &ExportOptions,
    sink: S,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportSummary> {
    let (layout, groups) = options.plan(dataset)?;
    let started = Instant::now();
    let sink = match (options.grouping, options.max_message_bytes) {
        (Grouping::Packed, Some(limit)) => {
            PayloadBudget::packing(sink, limit, groups.start, options.threads)
        }
        (_, Some(limit)) => PayloadBudget::limit(sink, limit, groups.start),
        (_, None) => PayloadBudget::unlimited(sink),
    };
    let (sink, spilled_bytes) = match options.strategy {
        Strategy::SingleThread => (
            single_thread::run(dataset, &layout, groups.clone(), options, sink, progress)?,
            0,
        ),
        Strategy::Rayon => (
            rayon_parallel::run(dataset, &layout, groups.clone(), options, sink, progress)?,
            0,
        ),
        Strategy::WindowSort => window_sort::run(dataset, &layout, options, sink, progress)?,
    };
    Ok(ExportSummary {
        sink,
        input_rows: layout.rows_in(&groups),
        groups,
        input_bytes: dataset.bytes,
        spilled_bytes,
        elapsed: started.elapsed(),
    })
}
