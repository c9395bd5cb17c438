//! `verify`: proves an export complete and correct against its dataset: every
//! id exactly once, every value bit-identical after parsing, and (unless
//! `any_grouping`) every message holding exactly its group, members in order:
//! the messages in group order, or with `any_message_order` in any order.
//!
//! * [`source`] reads the messages: Parquet files, part directories, NDJSON;
//! * [`json`] parses a message without building JSON trees;
//! * [`canonical`] says what equality is judged on and describes differences;
//! * [`grouped`] checks `modulo` and `contiguous` exports message by message;
//! * [`packed`] checks `packed` exports in two passes (sizes, then rows);
//! * [`by_id`] matches predictions by id, for exports in another message
//!   order (their groups still checked) or numbered another way.

mod by_id;
mod canonical;
mod grouped;
mod json;
mod packed;
mod source;

use std::path::Path;

use predbench_common::pipeline::ordered_parallel_map;

use crate::dataset::Dataset;
use crate::error::Result;
use crate::grouping::Grouping;
use crate::message::{NonFiniteMode, SessionTimeZone};

/// What to check.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The grouping the export claims; ignored with `any_grouping`.
    pub layout_grouping: Grouping,
    /// Predictions per message.
    pub group_size: u64,
    /// Only completeness and values: for exports numbered differently (Spark, Sail).
    pub any_grouping: bool,
    /// The groups of the layout, members in order, in any message order: for
    /// exports numbered as predbench numbers rows that write their messages
    /// in their own order (DuckDB, Polars, chDB). Ignored with `any_grouping`.
    pub any_message_order: bool,
    /// Name of the column that identifies a row, for `any_grouping`.
    pub id_column: String,
    /// How the export wrote NaN and infinities: with `Null`, a JSON null
    /// stands for a non-finite value too (it cannot be told from a null).
    pub non_finite: NonFiniteMode,
    /// The payload budget: every message must be at most this many bytes;
    /// required for `packed`, whose messages must also be full (the next
    /// prediction would not have fit).
    pub max_message_bytes: Option<u64>,
    /// The session time zone the export wrote timestamps with a zone in.
    pub time_zone: SessionTimeZone,
    /// How many problems to describe.
    pub max_reported: usize,
    /// Worker threads.
    pub threads: usize,
}

/// The verdict.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Messages read from the export.
    pub messages: u64,
    /// Predictions read from the export.
    pub predictions: u64,
    /// Rows in the dataset.
    pub dataset_rows: u64,
    /// Problems found (all counted, the first `max_reported` described).
    pub problems: u64,
    /// Descriptions of the first problems.
    pub first_problems: Vec<String>,
}

impl VerifyReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems == 0
    }

    /// Adds the counts and problems of `later`, a report on the messages after these.
    pub(crate) fn merge(&mut self, later: VerifyReport, max_reported: usize) {
        self.messages += later.messages;
        self.predictions += later.predictions;
        self.problems += later.problems;
        let room = max_reported.saturating_sub(self.first_problems.len());
        self.first_problems
            .extend(later.first_problems.into_iter().take(room));
    }

    pub(crate) fn problem(&mut self, max_reported: usize, description: impl FnOnce() -> String) {
        self.problems += 1;
        if self.first_problems.len() < max_reported {
            self.first_problems.push(description());
        }
    }
}

/// Messages read per unit of parallel work when no chunk decides the count.
pub(crate) const MESSAGES_PER_BATCH: usize = 1024;

/// Verifies the export at `messages` (a file or a directory of part files)
/// against `dataset`, on `options.threads` workers.
pub fn verify(dataset: &Dataset, messages: &Path, options: &VerifyOptions) -> Result<VerifyReport> {
    if options.any_grouping || options.any_message_order {
        by_id::verify_by_id(dataset, messages, options)
    } else if options.layout_grouping == Grouping::Packed {
        packed::verify_packed(dataset, messages, options)
    } else {
        grouped::verify_grouping(dataset, messages, options)
    }
}

/// The items `next` makes until it says `None` or fails; the error is the
/// last item.
pub(crate) fn until_error<T>(
    mut next: impl FnMut() -> Result<Option<T>>,
) -> impl Iterator<Item = Result<T>> {
    let mut finished = false;
    std::iter::from_fn(move || {
        if finished {
            return None;
        }
        match next() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => None,
            Err(error) => {
                finished = true;
                Some(Err(error))
            }
        }
    })
}

/// Checks `items` on `options.threads` workers (at most twice as many
/// items in flight) and merges every item's report into `report`, in order.
pub(crate) fn check_in_parallel<Item: Send>(
    items: impl Iterator<Item = Result<Item>> + Send,
    options: &VerifyOptions,
    check: impl Fn(Item) -> Result<VerifyReport> + Sync,
    report: &mut VerifyReport,
) -> Result<()> {
    ordered_parallel_map(
        items,
        options.threads,
        options.threads * 2,
        check,
        |_, partial| {
            report.merge(partial, options.max_reported);
            Ok(())
        },
    )
}
