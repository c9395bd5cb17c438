//! Predictions matched to rows by id, for exports in their own message order:
//! with `--any-grouping` (numbered another way: Spark, Sail) completeness and
//! values only; with `--any-message-order` (numbered as predbench does:
//! DuckDB, Polars, chDB) every message must also hold exactly one group of
//! the layout, members in ascending sequential id. An index of 128-bit id
//! keys, sequential ids and value fingerprints (about 40 bytes a row) is
//! built from the dataset, then probed by every message.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use arrow_array::RecordBatch;
use predbench_common::pipeline::ordered_parallel_map;

use super::canonical::{column_views, fingerprint, found_canonical, row_difference};
use super::json::{Found, Prediction, parse_message};
use super::source::{MessageRun, MessageSource};
use super::{MESSAGES_PER_BATCH, VerifyOptions, VerifyReport, check_in_parallel};
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::grouping::{GroupLayout, Grouping};
use crate::text_column::{TextColumn, is_text};

/// A 128-bit key for an id, so that the index does not hold the id text.
fn id_key(id: &str) -> u128 {
    let mut low = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut low);
    let mut high = std::collections::hash_map::DefaultHasher::new();
    (0x9E37_79B9u32, id).hash(&mut high);
    (u128::from(high.finish()) << 64) | u128::from(low.finish())
}

/// Rows the index is built from per unit of parallel work.
const INDEX_BATCH_ROWS: usize = 65_536;

/// id key -> (sequential id, fingerprint of the row's values).
type IdIndex = HashMap<u128, (u64, u64)>;

/// Matches predictions to rows by id: completeness and values, and with
/// `any_message_order` the groups. The index holds a 128-bit id key, the
/// row's sequential id and a fingerprint of its values (about 40 bytes a
/// row), plus one byte a row saying whether it was seen (and one a group);
/// it is built and then probed on all workers. The first mismatches are
/// described by reading their rows again.
pub(super) fn verify_by_id(
    dataset: &Dataset,
    path: &Path,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let Ok(id_index) = dataset.schema.index_of(&options.id_column) else {
        return Err(ExportError::invalid(
            "id_column",
            format!(
                "{} has no column {} to match predictions by",
                dataset.root.display(),
                options.id_column
            ),
        ));
    };
    let id_type = dataset.schema.field(id_index).data_type();
    if !is_text(id_type) {
        return Err(ExportError::invalid(
            "id_column",
            format!(
                "column {} is {id_type}, not a string column",
                options.id_column
            ),
        ));
    }
    let index = build_index(dataset, id_index, options)?;
    let seen: Vec<AtomicBool> = (0..dataset.rows).map(|_| AtomicBool::new(false)).collect();
    let groups = GroupCheck::new(dataset, options)?;
    let mut report = VerifyReport {
        dataset_rows: dataset.rows,
        ..VerifyReport::default()
    };
    let source = MessageSource::open(path)?;
    let mut runs = source.runs()?;
    let message_runs = std::iter::from_fn(move || match runs.take(MESSAGES_PER_BATCH) {
        Ok((_, run)) if run.len() == 0 => None,
        Ok(run) => Some(Ok(run)),
        Err(error) => Some(Err(error)),
    });
    let probe = Probe {
        dataset,
        path,
        options,
        id_index,
        index: &index,
        seen: &seen,
        groups: groups.as_ref(),
    };
    check_in_parallel(
        message_runs,
        options,
        |(first_index, run): (u64, MessageRun)| {
            let mut batch = None;
            let texts = source.texts(&run, &mut batch)?;
            probe.check_run(first_index, &texts)
        },
        &mut report,
    )?;
    let missing = seen
        .iter()
        .filter(|seen| !seen.load(AtomicOrdering::Relaxed))
        .count();
    if missing > 0 {
        report.problem(options.max_reported, || {
            format!("{missing} dataset rows appear in no message")
        });
    }
    Ok(report)
}

/// With `any_message_order`: the layout every message must hold one group
/// of, and whether each group was seen.
struct GroupCheck {
    layout: GroupLayout,
    seen: Vec<AtomicBool>,
}

impl GroupCheck {
    /// The check of `options`, when it asks for groups.
    fn new(dataset: &Dataset, options: &VerifyOptions) -> Result<Option<GroupCheck>> {
        if options.any_grouping || !options.any_message_order {
            return Ok(None);
        }
        if options.layout_grouping == Grouping::Packed {
            return Err(ExportError::invalid(
                "any_message_order",
                "packed messages are checked in order; `any_message_order` takes modulo or contiguous",
            ));
        }
        let layout = GroupLayout::new(options.layout_grouping, dataset.rows, options.group_size)?;
        let seen = (0..layout.groups).map(|_| AtomicBool::new(false)).collect();
        Ok(Some(GroupCheck { layout, seen }))
    }

    /// Checks that message `message`, whose members have the sequential ids
    /// `members`, holds exactly one group, in order, seen once.
    fn check(&self, message: u64, members: &[u64], report: &mut VerifyReport, max: usize) {
        let Some(&first) = members.first() else {
            return;
        };
        let group = self.layout.group_of(first);
        if let Some(other) = members
            .iter()
            .find(|member| self.layout.group_of(**member) != group)
        {
            let other_group = self.layout.group_of(*other);
            report.problem(max, || {
                format!("message {message} holds members of groups {group} and {other_group}")
            });
            return;
        }
        if members.windows(2).any(|pair| pair[0] >= pair[1]) {
            report.problem(max, || {
                format!("message {message} (group {group}): its members are not in ascending sequential id")
            });
        }
        let expected = self.layout.members(group).count();
        if members.len() != expected {
            report.problem(max, || {
                format!(
                    "message {message} holds {} of group {group}'s {expected} members",
                    members.len()
                )
            });
        }
        if self.seen[group as usize].swap(true, AtomicOrdering::Relaxed) {
            report.problem(max, || {
                format!("message {message}: group {group} is in another message too")
            });
        }
    }
}

/// Reads the dataset once, on all workers, into the id index; an id that
/// appears twice makes matching by id impossible and is an error.
fn build_index(dataset: &Dataset, id_index: usize, options: &VerifyOptions) -> Result<IdIndex> {
    let non_finite = options.non_finite;
    let mut index: IdIndex = HashMap::with_capacity(dataset.rows as usize);
    let mut cursor = dataset.cursor(0..dataset.rows, INDEX_BATCH_ROWS);
    let mut next_row = 0u64;
    let batches = std::iter::from_fn(move || {
        (next_row < dataset.rows).then(|| {
            let first_row = next_row;
            let batch = cursor.take(INDEX_BATCH_ROWS)?;
            next_row += batch.num_rows() as u64;
            if batch.num_rows() == 0 {
                next_row = dataset.rows;
            }
            Ok((first_row, batch))
        })
    });
    ordered_parallel_map(
        batches,
        options.threads,
        options.threads * 2,
        |(first_row, batch): (u64, RecordBatch)| {
            let ids =
                TextColumn::new(batch.column(id_index).as_ref()).expect("the id column is text");
            let views = column_views(&batch, options.time_zone);
            Ok((0..batch.num_rows())
                .map(|row| {
                    let id = ids.value(row).unwrap_or("");
                    let values = views.iter().map(|view| view.canonical(row, non_finite));
                    (id_key(id), first_row + row as u64, fingerprint(values))
                })
                .collect::<Vec<_>>())
        },
        |_, entries| {
            for (key, sequential_id, values) in entries {
                if index.insert(key, (sequential_id, values)).is_some() {
                    let row = dataset.read_rows(sequential_id..sequential_id + 1)?;
                    let id = TextColumn::new(row.column(id_index).as_ref())
                        .and_then(|ids| ids.value(0))
                        .unwrap_or("")
                        .to_string();
                    return Err(ExportError::invalid(
                        "any_grouping",
                        format!(
                            "the dataset holds id {id:?} twice, so predictions cannot be matched by id"
                        ),
                    ));
                }
            }
            Ok(())
        },
    )?;
    Ok(index)
}

/// What every worker probing the index shares.
struct Probe<'a> {
    dataset: &'a Dataset,
    path: &'a Path,
    options: &'a VerifyOptions,
    id_index: usize,
    index: &'a IdIndex,
    seen: &'a [AtomicBool],
    groups: Option<&'a GroupCheck>,
}

impl Probe<'_> {
    /// Checks a run of messages, `first_index..`, against the index.
    fn check_run(&self, first_index: u64, texts: &[&str]) -> Result<VerifyReport> {
        let max = self.options.max_reported;
        let mut partial = VerifyReport::default();
        for (position, text) in texts.iter().enumerate() {
            let message = first_index + position as u64;
            partial.messages += 1;
            let objects = match parse_message(self.path, message, text) {
                Ok(objects) => objects,
                Err(problem) => {
                    partial.problem(max, || problem);
                    continue;
                }
            };
            if objects.is_empty() {
                partial.problem(max, || format!("message {message} is empty"));
            }
            let mut members = Vec::with_capacity(objects.len());
            for (member, object) in objects.iter().enumerate() {
                partial.predictions += 1;
                members.extend(self.check_member(message, member, object, &mut partial)?);
            }
            if let Some(groups) = self.groups {
                groups.check(message, &members, &mut partial, max);
            }
        }
        Ok(partial)
    }

    /// Checks prediction `member` of message `message` against its row:
    /// found once, values equal; answers its sequential id when found.
    fn check_member(
        &self,
        message: u64,
        member: usize,
        object: &Prediction<'_>,
        partial: &mut VerifyReport,
    ) -> Result<Option<u64>> {
        let max = self.options.max_reported;
        let schema = &self.dataset.schema;
        let id = match object.get(self.id_index, &self.options.id_column) {
            Some(Found::Text(text)) => text.as_ref(),
            _ => "",
        };
        let Some(&(row_id, expected)) = self.index.get(&id_key(id)) else {
            partial.problem(max, || {
                format!("message {message}, prediction {member}: id {id:?} is not in the dataset")
            });
            return Ok(None);
        };
        if self.seen[row_id as usize].swap(true, AtomicOrdering::Relaxed) {
            partial.problem(max, || {
                format!("message {message}, prediction {member}: id {id} appears twice")
            });
            return Ok(Some(row_id));
        }
        let found = fingerprint(schema.fields().iter().enumerate().map(|(position, field)| {
            found_canonical(field.data_type(), object.get(position, field.name()))
        }));
        let unexpected = object.unexpected_field(schema).is_some();
        if found != expected || unexpected {
            let description = if partial.first_problems.len() < max {
                let row = self.dataset.read_rows(row_id..row_id + 1)?;
                row_difference(
                    &row,
                    &column_views(&row, self.options.time_zone),
                    0,
                    object,
                    self.options.non_finite,
                )
                .unwrap_or_else(|| "values differ".to_string())
            } else {
                String::new()
            };
            partial.problem(max, || {
                format!("message {message}, prediction {member} (id {id}, sequential id {row_id}): {description}")
            });
        }
        Ok(Some(row_id))
    }
}
