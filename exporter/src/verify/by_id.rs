//! `--any-grouping`: predictions matched to rows by id, for exports numbered
//! another way (DuckDB, Polars, Spark): completeness and values only. An
//! index of 128-bit id keys, sequential ids and value fingerprints (about 40
//! bytes a row) is built from the dataset, then probed by every message.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use arrow_array::RecordBatch;
use predbench_common::pipeline::ordered_parallel_map;

use super::canonical::{column_views, fingerprint, found_canonical, row_difference};
use super::json::{Found, parse_message};
use super::source::{MessageRun, MessageSource};
use super::{MESSAGES_PER_BATCH, VerifyOptions, VerifyReport, check_in_parallel};
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
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

/// Matches predictions to rows by id: completeness and values only. The
/// index holds a 128-bit id key, the row's sequential id and a fingerprint of
/// its values (about 40 bytes a row), plus one byte a row saying whether it
/// was seen; it is built and then probed on all workers. The first
/// mismatches are described by reading their rows again.
pub(super) fn verify_any_grouping(
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
}

impl Probe<'_> {
    /// Checks a run of messages, `first_index..`, against the index.
    fn check_run(&self, first_index: u64, texts: &[&str]) -> Result<VerifyReport> {
        let max = self.options.max_reported;
        let schema = &self.dataset.schema;
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
            for (member, object) in objects.iter().enumerate() {
                partial.predictions += 1;
                let id = match object.get(self.id_index, &self.options.id_column) {
                    Some(Found::Text(text)) => text.as_ref(),
                    _ => "",
                };
                let Some(&(row_id, expected)) = self.index.get(&id_key(id)) else {
                    partial.problem(max, || {
                        format!(
                            "message {message}, prediction {member}: id {id:?} is not in the dataset"
                        )
                    });
                    continue;
                };
                if self.seen[row_id as usize].swap(true, AtomicOrdering::Relaxed) {
                    partial.problem(max, || {
                        format!("message {message}, prediction {member}: id {id} appears twice")
                    });
                    continue;
                }
                let found =
                    fingerprint(schema.fields().iter().enumerate().map(|(position, field)| {
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
            }
        }
        Ok(partial)
    }
}
