//! `packed` exports, in two passes over the messages: first every message's
//! size and predictions (none over the budget, none empty, none that could
//! have taken the next message's first prediction; runs checked in parallel,
//! their boundaries in order), then the messages against the consecutive rows
//! they must hold, as grouped exports are checked. Holds 4 bytes a message
//! between the passes.

use std::path::Path;

use predbench_common::pipeline::ordered_parallel_map;

use super::grouped::{GroupedMessages, check_messages};
use super::source::MessageSource;
use super::{MESSAGES_PER_BATCH, VerifyOptions, VerifyReport, until_error};
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::message::MessageChunk;

/// What the first pass of [`verify_packed`] learns of a run of messages.
#[derive(Default)]
struct PackedSizes {
    /// Predictions in every message (0 for one that does not parse).
    predictions: Vec<u32>,
    /// Bytes of the first message's first prediction.
    first_object: Option<usize>,
    /// Bytes of the last message.
    last_message: Option<usize>,
    /// Problems only: the second pass counts messages and predictions.
    report: VerifyReport,
}

/// Sizes and predictions of `texts`, messages `first_index..` of a packed
/// export, with the problems they show on their own: a message over `limit`,
/// an empty one, one that could have taken the next message's first prediction.
fn packed_sizes(first_index: u64, texts: &[&str], limit: u64, max: usize) -> PackedSizes {
    let mut sizes = PackedSizes::default();
    let mut previous: Option<(u64, usize)> = None;
    for (position, text) in texts.iter().enumerate() {
        let index = first_index + position as u64;
        let Ok(objects) = serde_json::from_str::<Vec<&serde_json::value::RawValue>>(text) else {
            // The second pass parses it again and reports it.
            sizes.predictions.push(0);
            previous = None;
            continue;
        };
        sizes.predictions.push(objects.len() as u32);
        if text.len() as u64 > limit {
            sizes.report.problem(max, || {
                format!(
                    "message {index} is {} bytes, over the limit of {limit}",
                    text.len()
                )
            });
        }
        let Some(first) = objects.first().map(|object| object.get().len()) else {
            sizes
                .report
                .problem(max, || format!("message {index} is empty"));
            previous = None;
            continue;
        };
        if position == 0 {
            sizes.first_object = Some(first);
        }
        if let Some((previous_index, previous_bytes)) = previous {
            check_full(
                &mut sizes.report,
                previous_index,
                previous_bytes,
                first,
                limit,
                max,
            );
        }
        previous = Some((index, text.len()));
        sizes.last_message = Some(text.len());
    }
    if previous.is_none() {
        sizes.last_message = None;
    }
    sizes
}

/// A packed message of `bytes` bytes followed by a prediction of `next`
/// bytes: the prediction must not have fitted (`,` and the object).
fn check_full(
    report: &mut VerifyReport,
    index: u64,
    bytes: usize,
    next: usize,
    limit: u64,
    max: usize,
) {
    if (bytes + 1 + next) as u64 <= limit {
        report.problem(max, || {
            format!(
                "message {index} ({bytes} bytes) could have taken the next prediction \
                 ({next} bytes) under the limit of {limit}: it is not packed full"
            )
        });
    }
}

/// Verifies a `packed` export in two passes over its messages: sizes and
/// predictions of every message (in parallel, runs of messages checked for
/// the budget and fullness, their boundaries checked in order), then the
/// messages against the consecutive rows they must hold, as
/// [`verify_grouping`] does. Holds 4 bytes a message between the passes.
pub(super) fn verify_packed(
    dataset: &Dataset,
    path: &Path,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let Some(limit) = options.max_message_bytes else {
        return Err(ExportError::invalid(
            "grouping",
            "packed needs `max_message_bytes`, the budget the export was packed to",
        ));
    };
    let source = MessageSource::open(path)?;
    let mut report = VerifyReport {
        dataset_rows: dataset.rows,
        ..VerifyReport::default()
    };
    let predictions = message_sizes(&source, options, limit, &mut report)?;
    let work_items = consecutive_rows(dataset, &source, &predictions)?;
    let messages = predictions.len() as u64;
    check_messages(dataset, &source, work_items, messages, options, report)
}

/// The first pass: every message's size and predictions, checked in runs
/// on the workers for the budget and fullness, the runs' boundaries here in
/// order; the predictions of every message.
fn message_sizes(
    source: &MessageSource,
    options: &VerifyOptions,
    limit: u64,
    report: &mut VerifyReport,
) -> Result<Vec<u32>> {
    let max = options.max_reported;
    let mut predictions: Vec<u32> = Vec::new();
    let mut last_message: Option<(u64, usize)> = None;
    let mut runs = source.runs()?;
    let first_pass = until_error(move || {
        let (first_index, messages) = runs.take(MESSAGES_PER_BATCH)?;
        Ok((messages.len() > 0).then_some((first_index, messages)))
    });
    ordered_parallel_map(
        first_pass,
        options.threads,
        options.threads * 2,
        |(first_index, messages)| {
            let mut batch = None;
            let texts = source.texts(&messages, &mut batch)?;
            Ok((first_index, packed_sizes(first_index, &texts, limit, max)))
        },
        |_, (first_index, sizes)| {
            if let (Some((index, bytes)), Some(next)) = (last_message, sizes.first_object) {
                check_full(report, index, bytes, next, limit, max);
            }
            last_message = sizes
                .last_message
                .map(|bytes| (first_index + sizes.predictions.len() as u64 - 1, bytes));
            predictions.extend_from_slice(&sizes.predictions);
            report.merge(sizes.report, max);
            Ok(())
        },
    )?;
    Ok(predictions)
}

/// The second pass's work: every run of messages with the consecutive rows
/// its messages must hold, by the predictions the first pass counted.
fn consecutive_rows<'a>(
    dataset: &'a Dataset,
    source: &'a MessageSource,
    predictions: &'a [u32],
) -> Result<impl Iterator<Item = Result<GroupedMessages>> + Send + 'a> {
    let mut rows = dataset.cursor(0..dataset.rows, 65_536);
    let mut next_row = 0u64;
    let mut runs = source.runs()?;
    Ok(until_error(move || {
        let (first_index, messages) = runs.take(MESSAGES_PER_BATCH)?;
        if messages.len() == 0 {
            return Ok(None);
        }
        let first = first_index as usize;
        let held = &predictions[first..first + messages.len()];
        let wanted: u64 = held.iter().map(|count| u64::from(*count)).sum();
        let batch = rows.take(wanted as usize)?;
        let available = batch.num_rows() as u32;
        let mut end = 0u32;
        let ends = held
            .iter()
            .map(|count| {
                end = end.saturating_add(*count);
                end.min(available)
            })
            .collect();
        let expected = MessageChunk {
            sequential_ids: (next_row..next_row + u64::from(available)).collect(),
            order: (0..available).collect(),
            ends,
            batch,
        };
        next_row += u64::from(available);
        Ok(Some(GroupedMessages {
            expected: Some(expected),
            first_index,
            messages,
        }))
    }))
}
