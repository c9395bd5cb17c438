//! `verify`: proves an export complete and correct against its dataset: every
//! id exactly once, every value bit-identical after parsing, and (unless
//! `any_grouping`) every message holding exactly its group, in order.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use crate::chunk::ChunkReader;
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::grouping::GroupLayout;
use crate::message::{
    EncoderChoice, MessageChunk, MessageOptions, NonFiniteMode, NullMode, encode_chunk,
};
use std::hash::{Hash, Hasher};

/// What to check.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The grouping the export claims; ignored with `any_grouping`.
    pub layout_grouping: crate::grouping::Grouping,
    /// Predictions per message.
    pub group_size: u64,
    /// Only completeness and values: for exports numbered differently (DuckDB, Polars, Spark).
    pub any_grouping: bool,
    /// Name of the column that identifies a row, for `any_grouping`.
    pub id_column: String,
    /// How the export wrote NaN and infinities: with `Null`, a JSON null
    /// stands for a non-finite value too (it cannot be told from a null).
    pub non_finite: NonFiniteMode,
    /// How many problems to describe.
    pub max_reported: usize,
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

    fn problem(&mut self, max_reported: usize, description: impl FnOnce() -> String) {
        self.problems += 1;
        if self.first_problems.len() < max_reported {
            self.first_problems.push(description());
        }
    }
}

/// Reads the messages of an export: a Parquet file (first Utf8 column) or NDJSON lines.
fn read_messages(path: &Path, mut each: impl FnMut(u64, &str) -> Result<()>) -> Result<()> {
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|e| ExportError::io("cannot open", path, e))?;
    let is_parquet = file.read_exact(&mut magic).is_ok() && &magic == b"PAR1";
    let file = File::open(path).map_err(|e| ExportError::io("cannot open", path, e))?;
    if is_parquet {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|builder| builder.with_batch_size(1024).build())
            .map_err(|cause| ExportError::parquet(path, "opening the messages", cause))?;
        let mut index = 0;
        for batch in reader {
            let batch = batch.map_err(|cause| ExportError::Arrow {
                context: format!("cannot read {}", path.display()),
                cause,
            })?;
            let column = batch.column(0);
            let Some(strings) = column.as_string_opt::<i32>() else {
                return Err(ExportError::NotParquet {
                    path: path.to_path_buf(),
                    reason: format!(
                        "its first column is {}, not a string of messages",
                        column.data_type()
                    ),
                });
            };
            for message in strings.iter() {
                each(index, message.unwrap_or("null"))?;
                index += 1;
            }
        }
    } else {
        for (index, line) in BufReader::with_capacity(1 << 20, file).lines().enumerate() {
            let line = line.map_err(|e| ExportError::io("cannot read", path, e))?;
            each(index as u64, &line)?;
        }
    }
    Ok(())
}

/// A value reduced to what equality is judged on: doubles by their bits.
#[derive(Debug, Clone, PartialEq, Hash)]
enum Canonical {
    Null,
    Finite(u64),
    NaN,
    Infinity,
    NegativeInfinity,
    Text(String),
    /// Any other type: its JSON, as serde_json prints a parsed value.
    Json(String),
    /// Something that cannot be the column's value (a string in a float column).
    Invalid(String),
}

fn float_canonical(value: f64, non_finite: NonFiniteMode) -> Canonical {
    if value.is_finite() {
        Canonical::Finite(value.to_bits())
    } else if non_finite == NonFiniteMode::Null {
        Canonical::Null
    } else if value.is_nan() {
        Canonical::NaN
    } else if value > 0.0 {
        Canonical::Infinity
    } else {
        Canonical::NegativeInfinity
    }
}

/// The canonical form of `column[row]` in the dataset.
fn expected_canonical(column: &dyn Array, row: usize, non_finite: NonFiniteMode) -> Canonical {
    if column.is_null(row) {
        return Canonical::Null;
    }
    match column.data_type() {
        DataType::Float64 => {
            float_canonical(column.as_primitive::<Float64Type>().value(row), non_finite)
        }
        DataType::Float32 => float_canonical(
            f64::from(column.as_primitive::<Float32Type>().value(row)),
            non_finite,
        ),
        DataType::Utf8 => Canonical::Text(column.as_string::<i32>().value(row).to_string()),
        _ => Canonical::Json(reference_json(column, row).unwrap_or_default()),
    }
}

/// The canonical form of a parsed JSON value for a column of type `data_type`.
fn found_canonical(data_type: &DataType, value: Option<&Value>) -> Canonical {
    let value = value.unwrap_or(&Value::Null);
    if value.is_null() {
        return Canonical::Null;
    }
    match data_type {
        DataType::Float64 | DataType::Float32 => match value {
            Value::Number(number) => number.as_f64().map_or_else(
                || Canonical::Invalid(value.to_string()),
                |parsed| Canonical::Finite(parsed.to_bits()),
            ),
            Value::String(text) if text == "NaN" => Canonical::NaN,
            Value::String(text) if text == "Infinity" => Canonical::Infinity,
            Value::String(text) if text == "-Infinity" => Canonical::NegativeInfinity,
            other => Canonical::Invalid(other.to_string()),
        },
        DataType::Utf8 => match value {
            Value::String(text) => Canonical::Text(text.clone()),
            other => Canonical::Invalid(other.to_string()),
        },
        _ => Canonical::Json(value.to_string()),
    }
}

/// What the reference encoder writes for `column[row]`, parsed and printed by serde_json.
fn reference_json(column: &dyn Array, row: usize) -> Option<String> {
    let indices = arrow_array::UInt32Array::from(vec![row as u32]);
    let single = arrow_select::take::take(column, &indices, None).ok()?;
    let field = arrow_schema::Field::new("value", single.data_type().clone(), true);
    let schema = std::sync::Arc::new(arrow_schema::Schema::new(vec![field]));
    let batch = RecordBatch::try_new(schema, vec![single]).ok()?;
    let chunk = MessageChunk {
        batch,
        sequential_ids: vec![0],
        order: vec![0],
        ends: vec![1],
    };
    let options = MessageOptions {
        nulls: NullMode::Explicit,
        encoder: EncoderChoice::ArrowJson,
        ..MessageOptions::default()
    };
    let encoded = encode_chunk(&chunk, &options).ok()?;
    serde_json::from_slice::<Value>(&encoded.bytes)
        .ok()
        .and_then(|array| {
            array
                .get(0)
                .and_then(|object| object.get("value"))
                .map(Value::to_string)
        })
}

/// Compares one JSON object with row `row` of `batch`; describes the first difference.
fn row_difference(
    batch: &RecordBatch,
    row: usize,
    object: &serde_json::Map<String, Value>,
    non_finite: NonFiniteMode,
) -> Option<String> {
    let schema = batch.schema();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let expected = expected_canonical(column.as_ref(), row, non_finite);
        let found = found_canonical(field.data_type(), object.get(field.name()));
        if expected != found {
            return Some(format!(
                "column {}: expected {expected:?}, the export has {}",
                field.name(),
                object
                    .get(field.name())
                    .map_or("nothing".to_string(), Value::to_string)
            ));
        }
    }
    object
        .keys()
        .find(|key| schema.field_with_name(key).is_err())
        .map(|key| format!("unexpected field {key}"))
}

fn parse_message(
    path: &Path,
    index: u64,
    text: &str,
) -> std::result::Result<Vec<serde_json::Map<String, Value>>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "message {index} of {} is not valid JSON: {e}",
            path.display()
        )
    })?;
    let Value::Array(items) = value else {
        return Err(format!("message {index} is not a JSON array"));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(object) => Ok(object),
            other => Err(format!("message {index} holds {other}, not an object")),
        })
        .collect()
}

/// Verifies the export at `messages` against `dataset`.
pub fn verify(dataset: &Dataset, messages: &Path, options: &VerifyOptions) -> Result<VerifyReport> {
    if options.any_grouping {
        verify_any_grouping(dataset, messages, options)
    } else {
        verify_grouping(dataset, messages, options)
    }
}

/// Re-derives every message from the dataset in order and compares.
fn verify_grouping(
    dataset: &Dataset,
    path: &Path,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let layout = GroupLayout::new(options.layout_grouping, dataset.rows, options.group_size)?;
    let mut report = VerifyReport {
        dataset_rows: dataset.rows,
        ..VerifyReport::default()
    };
    let max = options.max_reported;
    let mut expected = ChunkReader::new(dataset, layout, 65_536);
    let mut current: Option<MessageChunk> = None;
    let mut message_in_chunk = 0usize;
    let expected_messages = layout.message_count();
    read_messages(path, |index, text| {
        report.messages += 1;
        // Advance to the chunk holding this message.
        while current
            .as_ref()
            .is_none_or(|chunk| message_in_chunk >= chunk.ends.len())
        {
            match expected.next() {
                Some(chunk) => {
                    current = Some(chunk?);
                    message_in_chunk = 0;
                }
                None => {
                    current = None;
                    break;
                }
            }
        }
        let objects = match parse_message(path, index, text) {
            Ok(objects) => objects,
            Err(problem) => {
                report.problem(max, || problem);
                message_in_chunk += 1;
                return Ok(());
            }
        };
        report.predictions += objects.len() as u64;
        let Some(chunk) = current.as_ref() else {
            report.problem(max, || {
                format!("message {index} is past the last of {expected_messages} messages")
            });
            return Ok(());
        };
        let start = if message_in_chunk == 0 {
            0
        } else {
            chunk.ends[message_in_chunk - 1] as usize
        };
        let rows = &chunk.order[start..chunk.ends[message_in_chunk] as usize];
        message_in_chunk += 1;
        if rows.len() != objects.len() {
            report.problem(max, || {
                format!(
                    "message {index} holds {} predictions, its group has {}",
                    objects.len(),
                    rows.len()
                )
            });
        }
        for (member, (&row, object)) in rows.iter().zip(&objects).enumerate() {
            if let Some(difference) =
                row_difference(&chunk.batch, row as usize, object, options.non_finite)
            {
                let id = chunk.sequential_ids[row as usize];
                report.problem(max, || {
                    format!(
                        "message {index}, prediction {member} (sequential id {id}): {difference}"
                    )
                });
            }
        }
        Ok(())
    })?;
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

/// A 64-bit fingerprint of canonical values in schema order.
fn fingerprint(values: impl Iterator<Item = Canonical>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for value in values {
        value.hash(&mut hasher);
    }
    hasher.finish()
}

/// A 128-bit key for an id, so that the index does not hold the id text.
fn id_key(id: &str) -> u128 {
    let mut low = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut low);
    let mut high = std::collections::hash_map::DefaultHasher::new();
    (0x9E37_79B9u32, id).hash(&mut high);
    (u128::from(high.finish()) << 64) | u128::from(low.finish())
}

/// Matches predictions to rows by id: completeness and values only. The
/// index holds a 128-bit id key, the row's sequential id and a fingerprint of
/// its values (about 50 bytes a row); the first mismatches are described by
/// reading their rows again.
fn verify_any_grouping(
    dataset: &Dataset,
    path: &Path,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let max = options.max_reported;
    let Ok(id_index) = dataset.schema.index_of(&options.id_column) else {
        return Err(ExportError::invalid(
            "--id-column",
            format!(
                "{} has no column {} to match predictions by",
                dataset.root.display(),
                options.id_column
            ),
        ));
    };
    let mut report = VerifyReport {
        dataset_rows: dataset.rows,
        ..VerifyReport::default()
    };
    let non_finite = options.non_finite;
    // id key -> (sequential id, fingerprint of the values, seen).
    let mut index: HashMap<u128, (u64, u64, bool)> = HashMap::with_capacity(dataset.rows as usize);
    let mut cursor = dataset.cursor(0..dataset.rows, 65_536);
    let mut sequential_id = 0u64;
    while sequential_id < dataset.rows {
        let batch = cursor.take(65_536)?;
        let ids = batch
            .column(id_index)
            .as_string_opt::<i32>()
            .ok_or_else(|| {
                ExportError::invalid(
                    "--id-column",
                    format!("column {} is not a string column", options.id_column),
                )
            })?;
        for row in 0..batch.num_rows() {
            let id = if ids.is_null(row) { "" } else { ids.value(row) };
            let values = batch
                .columns()
                .iter()
                .map(|column| expected_canonical(column.as_ref(), row, non_finite));
            let entry = (sequential_id + row as u64, fingerprint(values), false);
            if index.insert(id_key(id), entry).is_some() {
                return Err(ExportError::invalid(
                    "--any-grouping",
                    format!(
                        "the dataset holds id {id:?} twice, so predictions cannot be matched by id"
                    ),
                ));
            }
        }
        sequential_id += batch.num_rows() as u64;
    }
    let schema = dataset.schema.clone();
    read_messages(path, |message, text| {
        report.messages += 1;
        let objects = match parse_message(path, message, text) {
            Ok(objects) => objects,
            Err(problem) => {
                report.problem(max, || problem);
                return Ok(());
            }
        };
        if objects.is_empty() {
            report.problem(max, || format!("message {message} is empty"));
        }
        for (member, object) in objects.iter().enumerate() {
            report.predictions += 1;
            let id = object
                .get(&options.id_column)
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(entry) = index.get_mut(&id_key(id)) else {
                report.problem(max, || {
                    format!(
                        "message {message}, prediction {member}: id {id:?} is not in the dataset"
                    )
                });
                continue;
            };
            if entry.2 {
                report.problem(max, || {
                    format!("message {message}, prediction {member}: id {id} appears twice")
                });
                continue;
            }
            entry.2 = true;
            let found = fingerprint(
                schema
                    .fields()
                    .iter()
                    .map(|field| found_canonical(field.data_type(), object.get(field.name()))),
            );
            let unexpected = object
                .keys()
                .any(|key| schema.field_with_name(key).is_err());
            if found != entry.1 || unexpected {
                let row_id = entry.0;
                let description = if report.first_problems.len() < max {
                    let row = dataset.read_rows(row_id..row_id + 1)?;
                    row_difference(&row, 0, object, non_finite)
                        .unwrap_or_else(|| "values differ".to_string())
                } else {
                    String::new()
                };
                report.problem(max, || {
                    format!("message {message}, prediction {member} (id {id}, sequential id {row_id}): {description}")
                });
            }
        }
        Ok(())
    })?;
    let missing = index.values().filter(|entry| !entry.2).count();
    if missing > 0 {
        report.problem(max, || {
            format!("{missing} dataset rows appear in no message")
        });
    }
    Ok(report)
}
