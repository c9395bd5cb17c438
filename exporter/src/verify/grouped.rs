//! `modulo` and `contiguous` exports: the dataset is read in message order
//! (the same chunks the strategies read), each chunk paired with as many
//! messages, and every pair compared on a worker.

use std::path::Path;

use super::canonical::{ColumnView, column_views, row_difference};
use super::json::{Prediction, parse_message};
use super::source::{MessageRun, MessageSource};
use super::{MESSAGES_PER_BATCH, VerifyOptions, VerifyReport, check_in_parallel, until_error};
use crate::chunk::ChunkReader;
use crate::dataset::Dataset;
use crate::error::Result;
use crate::grouping::{GroupLayout, Grouping};
use crate::message::MessageChunk;

/// What one worker checks in [`verify_grouping`]: an expected chunk of groups
/// (none past the last group) and the messages that claim to be them.
pub(super) struct GroupedMessages {
    pub(super) expected: Option<MessageChunk>,
    /// Index of the first message in the export.
    pub(super) first_index: u64,
    pub(super) messages: MessageRun,
}

/// Re-derives every message from the dataset in order and compares: chunks
/// of groups are read in order and paired with as many messages, and each
/// pair is read (the messages) and compared on a worker.
pub(super) fn verify_grouping(
    dataset: &Dataset,
    path: &Path,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let layout = GroupLayout::new(options.layout_grouping, dataset.rows, options.group_size)?;
    let report = VerifyReport {
        dataset_rows: dataset.rows,
        ..VerifyReport::default()
    };
    let source = MessageSource::open(path)?;
    let mut expected = ChunkReader::new(dataset, layout, 65_536);
    let mut runs = source.runs()?;
    let work_items = until_error(move || {
        let chunk = expected.next().transpose()?;
        let wanted = chunk
            .as_ref()
            .map_or(MESSAGES_PER_BATCH, |chunk| chunk.ends.len());
        let (first_index, messages) = runs.take(wanted)?;
        if chunk.is_none() && messages.len() == 0 {
            return Ok(None);
        }
        Ok(Some(GroupedMessages {
            expected: chunk,
            first_index,
            messages,
        }))
    });
    check_messages(
        dataset,
        &source,
        work_items,
        layout.message_count(),
        options,
        report,
    )
}

/// Compares every work item's messages with the rows they must hold on
/// `options.threads` workers, adding to `report` (which may hold problems
/// found already), then checks the totals.
pub(super) fn check_messages(
    dataset: &Dataset,
    source: &MessageSource,
    work_items: impl Iterator<Item = Result<GroupedMessages>> + Send,
    expected_messages: u64,
    options: &VerifyOptions,
    mut report: VerifyReport,
) -> Result<VerifyReport> {
    let max = options.max_reported;
    let path = source.path.as_path();
    check_in_parallel(
        work_items,
        options,
        |item| {
            let mut batch = None;
            let texts = source.texts(&item.messages, &mut batch)?;
            Ok(check_grouped(
                path,
                &item,
                &texts,
                expected_messages,
                options,
            ))
        },
        &mut report,
    )?;
    if report.messages != expected_messages {
        let found = report.messages;
        report.problem(max, || {
            format!("{found} messages where the grouping makes {expected_messages}")
        });
    }
    if report.predictions != dataset.rows {
        let found = report.predictions;
        report.problem(max, || {
            format!(
                "{found} predictions where the dataset has {} rows",
                dataset.rows
            )
        });
    }
    Ok(report)
}

/// Compares the messages of one work item with the groups they should hold.
fn check_grouped(
    path: &Path,
    item: &GroupedMessages,
    texts: &[&str],
    expected_messages: u64,
    options: &VerifyOptions,
) -> VerifyReport {
    let max = options.max_reported;
    let mut report = VerifyReport::default();
    let views = item
        .expected
        .as_ref()
        .map(|chunk| column_views(&chunk.batch, options.time_zone));
    // A packed export's sizes were checked by the first pass.
    let limit = options
        .max_message_bytes
        .filter(|_| options.layout_grouping != Grouping::Packed);
    for (position, text) in texts.iter().enumerate() {
        let index = item.first_index + position as u64;
        report.messages += 1;
        if let Some(limit) = limit.filter(|limit| text.len() as u64 > *limit) {
            report.problem(max, || {
                format!(
                    "message {index} is {} bytes, over the limit of {limit}",
                    text.len()
                )
            });
        }
        let objects = match parse_message(path, index, text) {
            Ok(objects) => objects,
            Err(problem) => {
                report.problem(max, || problem);
                continue;
            }
        };
        report.predictions += objects.len() as u64;
        let group = item.expected.as_ref().zip(views.as_ref());
        match group.filter(|(chunk, _)| position < chunk.ends.len()) {
            Some(group) => check_members(&mut report, group, position, index, &objects, options),
            None => report.problem(max, || {
                format!("message {index} is past the last of {expected_messages} messages")
            }),
        }
    }
    report
}

/// Compares the predictions of message `index` (the `position`-th of its
/// chunk) with the rows of its group, member by member.
fn check_members(
    report: &mut VerifyReport,
    (chunk, views): (&MessageChunk, &Vec<ColumnView<'_>>),
    position: usize,
    index: u64,
    objects: &[Prediction<'_>],
    options: &VerifyOptions,
) {
    let max = options.max_reported;
    let start = match position {
        0 => 0,
        _ => chunk.ends[position - 1] as usize,
    };
    let rows = &chunk.order[start..chunk.ends[position] as usize];
    if rows.len() != objects.len() {
        report.problem(max, || {
            format!(
                "message {index} holds {} predictions, its group has {}",
                objects.len(),
                rows.len()
            )
        });
    }
    for (member, (&row, object)) in rows.iter().zip(objects).enumerate() {
        let difference = row_difference(
            &chunk.batch,
            views,
            row as usize,
            object,
            options.non_finite,
        );
        if let Some(difference) = difference {
            let id = chunk.sequential_ids[row as usize];
            report.problem(max, || {
                format!("message {index}, prediction {member} (sequential id {id}): {difference}")
            });
        }
    }
}
