//! `verify`: proves an export complete and correct against its dataset: every
//! id exactly once, every value bit-identical after parsing, and (unless
//! `any_grouping`) every message holding exactly its group, in order. A
//! `packed` export is checked in two passes: the first reads every message's
//! size and predictions (each under the budget, none that could have taken the
//! next prediction), the second compares them with the rows they must hold.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use predbench_generator::pipeline::ordered_parallel_map;
use serde_json::Value;

use crate::chunk::ChunkReader;
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::grouping::{GroupLayout, Grouping};
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
    /// The payload budget: every message must be at most this many bytes;
    /// required for `packed`, whose messages must also be full (the next
    /// prediction would not have fit).
    pub max_message_bytes: Option<u64>,
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
    fn merge(&mut self, later: VerifyReport, max_reported: usize) {
        self.messages += later.messages;
        self.predictions += later.predictions;
        self.problems += later.problems;
        let room = max_reported.saturating_sub(self.first_problems.len());
        self.first_problems
            .extend(later.first_problems.into_iter().take(room));
    }

    fn problem(&mut self, max_reported: usize, description: impl FnOnce() -> String) {
        self.problems += 1;
        if self.first_problems.len() < max_reported {
            self.first_problems.push(description());
        }
    }
}

/// Messages read per unit of parallel work when no chunk decides the count.
const MESSAGES_PER_BATCH: usize = 1024;

/// The messages of an export, in order: a Parquet file or a directory of
/// Parquet part files (Spark's layout: name order, `_SUCCESS` and `.crc`
/// skipped), whose first column holds the messages (Utf8, LargeUtf8 or
/// Utf8View) and whose ranges any worker can read; or an NDJSON file, read
/// line by line in order.
struct MessageSource {
    path: PathBuf,
    parquet: Option<Dataset>,
}

/// A run of consecutive messages: a range of a Parquet export, read by the
/// worker that checks it; messages already read (from a Parquet export whose
/// row groups are too large to read by range); or NDJSON lines.
enum MessageRun {
    Range(Range<u64>),
    Read(RecordBatch),
    Lines(Vec<String>),
}

impl MessageRun {
    fn len(&self) -> usize {
        match self {
            MessageRun::Range(range) => (range.end - range.start) as usize,
            MessageRun::Read(batch) => batch.num_rows(),
            MessageRun::Lines(lines) => lines.len(),
        }
    }
}

/// Exports whose row groups hold up to this many messages (predbench's hold
/// a chunk's, 1,639) are read by range on the workers; larger ones (DuckDB
/// writes 122,880 rows a row group, Spark 128 MB) in order by one cursor,
/// since a range from the middle of a row group is reached by reading every
/// page before it (measured: verifying DuckDB's 6M-row export took 35 s by
/// range, against 11 s for the others).
const MAX_ROW_GROUP_READ_BY_RANGE: u64 = 4 * MESSAGES_PER_BATCH as u64;

/// Hands out [`MessageRun`]s in order.
struct MessageRuns<'a> {
    next: u64,
    /// Messages in a Parquet export; `None` for NDJSON.
    total: Option<u64>,
    /// Reads a Parquet export with large row groups in order.
    cursor: Option<crate::dataset::RowCursor<'a>>,
    lines: Option<std::io::Lines<BufReader<File>>>,
    path: PathBuf,
}

impl MessageRuns<'_> {
    /// Index of the first message and the next run of at most `count`
    /// messages (empty after the last).
    fn take(&mut self, count: usize) -> Result<(u64, MessageRun)> {
        let first = self.next;
        let run = match (self.total, &mut self.cursor, &mut self.lines) {
            (Some(total), Some(cursor), _) => {
                let wanted = (total - first).min(count as u64) as usize;
                MessageRun::Read(cursor.take(wanted)?)
            }
            (Some(total), None, _) => {
                let end = (first + count as u64).min(total);
                MessageRun::Range(first..end)
            }
            (None, _, Some(lines)) => {
                let mut taken = Vec::with_capacity(count);
                for line in lines.by_ref().take(count) {
                    taken.push(line.map_err(|e| ExportError::io("cannot read", &self.path, e))?);
                }
                MessageRun::Lines(taken)
            }
            (None, _, None) => MessageRun::Lines(Vec::new()),
        };
        self.next += run.len() as u64;
        Ok((first, run))
    }
}

/// The first column of `batch` (a string column of any kind) as texts; a
/// null message reads as `null`.
fn string_values(batch: &RecordBatch) -> Vec<&str> {
    fn text(value: Option<&str>) -> &str {
        value.unwrap_or("null")
    }
    let column = batch.column(0);
    if let Some(strings) = column.as_string_opt::<i32>() {
        strings.iter().map(text).collect()
    } else if let Some(strings) = column.as_string_opt::<i64>() {
        strings.iter().map(text).collect()
    } else {
        column.as_string_view().iter().map(text).collect()
    }
}

impl MessageSource {
    fn open(path: &Path) -> Result<MessageSource> {
        let is_parquet = path.is_dir() || {
            let mut magic = [0u8; 4];
            let mut file = File::open(path).map_err(|e| ExportError::io("cannot open", path, e))?;
            file.read_exact(&mut magic).is_ok() && &magic == b"PAR1"
        };
        let parquet = if is_parquet {
            let dataset = Dataset::open(path)?;
            let first = dataset.schema.field(0);
            if !matches!(
                first.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) {
                return Err(ExportError::NotParquet {
                    path: path.to_path_buf(),
                    reason: format!(
                        "its first column {} is {}, not a string of messages",
                        first.name(),
                        first.data_type()
                    ),
                });
            }
            Some(dataset)
        } else {
            None
        };
        Ok(MessageSource {
            path: path.to_path_buf(),
            parquet,
        })
    }

    fn runs(&self) -> Result<MessageRuns<'_>> {
        let lines = match &self.parquet {
            Some(_) => None,
            None => {
                let file = File::open(&self.path)
                    .map_err(|e| ExportError::io("cannot open", &self.path, e))?;
                Some(BufReader::with_capacity(1 << 20, file).lines())
            }
        };
        let cursor = self
            .parquet
            .as_ref()
            .filter(|dataset| {
                dataset
                    .row_groups
                    .iter()
                    .any(|group| group.rows > MAX_ROW_GROUP_READ_BY_RANGE)
            })
            .map(|dataset| dataset.cursor(0..dataset.rows, MESSAGES_PER_BATCH));
        Ok(MessageRuns {
            next: 0,
            total: self.parquet.as_ref().map(|dataset| dataset.rows),
            cursor,
            lines,
            path: self.path.clone(),
        })
    }

    /// The texts of `run`; a range is read into `batch`, which they borrow.
    fn texts<'a>(
        &self,
        run: &'a MessageRun,
        batch: &'a mut Option<RecordBatch>,
    ) -> Result<Vec<&'a str>> {
        match (run, &self.parquet) {
            (MessageRun::Lines(lines), _) => Ok(lines.iter().map(String::as_str).collect()),
            (MessageRun::Read(read), _) => Ok(string_values(read)),
            (MessageRun::Range(range), Some(dataset)) => {
                let read = batch.insert(dataset.read_rows(range.clone())?);
                Ok(string_values(read))
            }
            (MessageRun::Range(_), None) => unreachable!("ranges come from Parquet exports"),
        }
    }
}

/// A value reduced to what equality is judged on: doubles by their bits.
#[derive(Debug, Clone, PartialEq, Hash)]
enum Canonical<'a> {
    Null,
    Finite(u64),
    NaN,
    Infinity,
    NegativeInfinity,
    Text(Cow<'a, str>),
    /// Any other type: its JSON, as serde_json prints a parsed value.
    Json(String),
    /// Something that cannot be the column's value (a string in a float column).
    Invalid(String),
}

fn float_canonical(value: f64, non_finite: NonFiniteMode) -> Canonical<'static> {
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
fn expected_canonical(column: &dyn Array, row: usize, non_finite: NonFiniteMode) -> Canonical<'_> {
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
        DataType::Utf8 => Canonical::Text(Cow::Borrowed(column.as_string::<i32>().value(row))),
        _ => Canonical::Json(reference_json(column, row).unwrap_or_default()),
    }
}

/// The canonical form of a parsed JSON value for a column of type `data_type`.
fn found_canonical<'a>(data_type: &DataType, value: Option<&'a Found<'a>>) -> Canonical<'a> {
    let Some(value) = value else {
        return Canonical::Null;
    };
    match (data_type, value) {
        (_, Found::Null) => Canonical::Null,
        (DataType::Float64 | DataType::Float32, Found::Number(number)) => {
            Canonical::Finite(number.to_bits())
        }
        (DataType::Float64 | DataType::Float32, Found::Integer(number)) => {
            number.as_f64().map_or_else(
                || Canonical::Invalid(value.to_string()),
                |number| Canonical::Finite(number.to_bits()),
            )
        }
        (DataType::Float64 | DataType::Float32, Found::Text(text)) => match text.as_ref() {
            "NaN" => Canonical::NaN,
            "Infinity" => Canonical::Infinity,
            "-Infinity" => Canonical::NegativeInfinity,
            _ => Canonical::Invalid(value.to_string()),
        },
        (DataType::Utf8, Found::Text(text)) => Canonical::Text(Cow::Borrowed(text.as_ref())),
        (DataType::Float64 | DataType::Float32 | DataType::Utf8, _) => {
            Canonical::Invalid(value.to_string())
        }
        (_, Found::Number(number)) => Canonical::Json(
            serde_json::Number::from_f64(*number)
                .map_or_else(|| number.to_string(), |number| number.to_string()),
        ),
        (_, Found::Integer(number)) => Canonical::Json(number.to_string()),
        (_, Found::Text(text)) => Canonical::Json(Value::String(text.to_string()).to_string()),
        (_, Found::Other(other)) => Canonical::Json(other.to_string()),
    }
}

/// A value of a prediction as the JSON parser saw it; text borrowed from the
/// message where it has no escapes.
#[derive(Debug)]
enum Found<'a> {
    Null,
    /// A number with a fraction or an exponent.
    Number(f64),
    /// A number without: kept exact for integer columns.
    Integer(Value),
    Text(Cow<'a, str>),
    /// An array, an object or a boolean.
    Other(Value),
}

impl std::fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Null => f.write_str("null"),
            Found::Number(number) => write!(f, "{number:?}"),
            Found::Integer(number) => write!(f, "{number}"),
            Found::Text(text) => write!(f, "{}", Value::String(text.to_string())),
            Found::Other(other) => write!(f, "{other}"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Found<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct FoundVisitor;
        impl<'de> serde::de::Visitor<'de> for FoundVisitor {
            type Value = Found<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Null)
            }
            fn visit_none<E>(self) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Null)
            }
            fn visit_f64<E>(self, value: f64) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Number(value))
            }
            fn visit_u64<E>(self, value: u64) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Integer(Value::from(value)))
            }
            fn visit_i64<E>(self, value: i64) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Integer(Value::from(value)))
            }
            fn visit_bool<E>(self, value: bool) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Other(Value::Bool(value)))
            }
            fn visit_borrowed_str<E>(self, value: &'de str) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Text(Cow::Borrowed(value)))
            }
            fn visit_str<E>(self, value: &str) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Text(Cow::Owned(value.to_string())))
            }
            fn visit_string<E>(self, value: String) -> std::result::Result<Found<'de>, E> {
                Ok(Found::Text(Cow::Owned(value)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> std::result::Result<Found<'de>, A::Error> {
                use serde::Deserialize;
                Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Found::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Found<'de>, A::Error> {
                use serde::Deserialize;
                Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Found::Other)
            }
        }
        deserializer.deserialize_any(FoundVisitor)
    }
}

/// A field name, borrowed from the message where it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, value: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(value)))
            }
            fn visit_str<E>(self, value: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(value.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// One prediction of a message: its fields in the order the export wrote them.
#[derive(Default)]
struct Prediction<'a> {
    fields: Vec<(Cow<'a, str>, Found<'a>)>,
}

impl<'a> Prediction<'a> {
    /// The value of field `name`; `position` is where the schema puts it, tried first.
    fn get(&self, position: usize, name: &str) -> Option<&Found<'a>> {
        match self.fields.get(position) {
            Some((key, value)) if key == name => Some(value),
            _ => self
                .fields
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value),
        }
    }

    /// A field the schema does not have.
    fn unexpected_field(&self, schema: &arrow_schema::Schema) -> Option<&str> {
        self.fields
            .iter()
            .enumerate()
            .find(|(position, (key, _))| {
                schema
                    .fields()
                    .get(*position)
                    .is_none_or(|field| field.name() != key)
                    && schema.field_with_name(key).is_err()
            })
            .map(|(_, (key, _))| key.as_ref())
    }
}

impl<'de> serde::Deserialize<'de> for Prediction<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct PredictionVisitor;
        impl<'de> serde::de::Visitor<'de> for PredictionVisitor {
            type Value = Prediction<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Prediction<'de>, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some((Key(key), value)) = map.next_entry::<Key<'de>, Found<'de>>()? {
                    fields.push((key, value));
                }
                Ok(Prediction { fields })
            }
        }
        deserializer.deserialize_map(PredictionVisitor)
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

/// A column of a batch, its type resolved once so that values are read
/// without a downcast per cell.
enum ColumnView<'a> {
    Float64(&'a arrow_array::Float64Array),
    Float32(&'a arrow_array::Float32Array),
    Utf8(&'a arrow_array::StringArray),
    Other(&'a dyn Array),
}

impl ColumnView<'_> {
    /// The canonical form of the value in `row`.
    fn canonical(&self, row: usize, non_finite: NonFiniteMode) -> Canonical<'_> {
        match self {
            ColumnView::Float64(values) if values.is_valid(row) => {
                float_canonical(values.value(row), non_finite)
            }
            ColumnView::Float32(values) if values.is_valid(row) => {
                float_canonical(f64::from(values.value(row)), non_finite)
            }
            ColumnView::Utf8(values) if values.is_valid(row) => {
                Canonical::Text(Cow::Borrowed(values.value(row)))
            }
            ColumnView::Other(column) => expected_canonical(*column, row, non_finite),
            _ => Canonical::Null,
        }
    }
}

/// The columns of `batch` as [`ColumnView`]s.
fn column_views(batch: &RecordBatch) -> Vec<ColumnView<'_>> {
    batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Float64 => ColumnView::Float64(column.as_primitive::<Float64Type>()),
            DataType::Float32 => ColumnView::Float32(column.as_primitive::<Float32Type>()),
            DataType::Utf8 => ColumnView::Utf8(column.as_string::<i32>()),
            _ => ColumnView::Other(column.as_ref()),
        })
        .collect()
}

/// Compares one prediction with row `row` of `batch` (whose columns are
/// `views`); describes the first difference.
fn row_difference(
    batch: &RecordBatch,
    views: &[ColumnView<'_>],
    row: usize,
    prediction: &Prediction<'_>,
    non_finite: NonFiniteMode,
) -> Option<String> {
    let schema = batch.schema();
    for (position, (field, view)) in schema.fields().iter().zip(views).enumerate() {
        let expected = view.canonical(row, non_finite);
        let value = prediction.get(position, field.name());
        let found = found_canonical(field.data_type(), value);
        if expected != found {
            return Some(format!(
                "column {}: expected {expected:?}, the export has {}",
                field.name(),
                value.map_or("nothing".to_string(), Found::to_string)
            ));
        }
    }
    prediction
        .unexpected_field(&schema)
        .map(|key| format!("unexpected field {key}"))
}

/// `NaN`, `Infinity` or `-Infinity` where serde_json stopped (1-based line
/// and column of the character it could not take): what DuckDB writes for a
/// non-finite double, and JSON has no such token.
fn bare_non_finite_at(text: &str, line: usize, column: usize) -> Option<&'static str> {
    let line_text = text.lines().nth(line.checked_sub(1)?)?;
    let start = line_text.char_indices().nth(column.checked_sub(1)?)?.0;
    let rest = &line_text[start..];
    ["NaN", "-Infinity", "Infinity"].into_iter().find(|token| {
        rest.starts_with(token) || rest.get(1..).is_some_and(|r| r.starts_with(token))
    })
}

/// Parses a message: a JSON array of objects.
fn parse_message<'a>(
    path: &Path,
    index: u64,
    text: &'a str,
) -> std::result::Result<Vec<Prediction<'a>>, String> {
    serde_json::from_str::<Vec<Prediction<'a>>>(text).map_err(|e| {
        if let Some(token) = bare_non_finite_at(text, e.line(), e.column()) {
            format!(
                "message {index} of {} writes a bare {token} (not JSON) at line {} column {}",
                path.display(),
                e.line(),
                e.column()
            )
        } else if text.trim_start().starts_with('[') {
            format!(
                "message {index} of {} is not valid JSON or not an array of objects: {e}",
                path.display()
            )
        } else {
            format!("message {index} is not a JSON array: {e}")
        }
    })
}

/// Verifies the export at `messages` (a file or a directory of part files)
/// against `dataset`, on `options.threads` workers.
pub fn verify(dataset: &Dataset, messages: &Path, options: &VerifyOptions) -> Result<VerifyReport> {
    if options.any_grouping {
        verify_any_grouping(dataset, messages, options)
    } else if options.layout_grouping == Grouping::Packed {
        verify_packed(dataset, messages, options)
    } else {
        verify_grouping(dataset, messages, options)
    }
}

/// What one worker checks in [`verify_grouping`]: an expected chunk of groups
/// (none past the last group) and the messages that claim to be them.
struct GroupedMessages {
    expected: Option<MessageChunk>,
    /// Index of the first message in the export.
    first_index: u64,
    messages: MessageRun,
}

/// Re-derives every message from the dataset in order and compares: chunks
/// of groups are read in order and paired with as many messages, and each
/// pair is read (the messages) and compared on a worker.
fn verify_grouping(
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

/// The items `next` makes until it says `None` or fails; the error is the
/// last item.
fn until_error<T>(mut next: impl FnMut() -> Result<Option<T>>) -> impl Iterator<Item = Result<T>> {
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
fn verify_packed(dataset: &Dataset, path: &Path, options: &VerifyOptions) -> Result<VerifyReport> {
    let Some(limit) = options.max_message_bytes else {
        return Err(ExportError::invalid(
            "--grouping",
            "packed needs --max-message-bytes, the budget the export was packed to",
        ));
    };
    let max = options.max_reported;
    let source = MessageSource::open(path)?;
    let mut report = VerifyReport {
        dataset_rows: dataset.rows,
        ..VerifyReport::default()
    };
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
                check_full(&mut report, index, bytes, next, limit, max);
            }
            last_message = sizes
                .last_message
                .map(|bytes| (first_index + sizes.predictions.len() as u64 - 1, bytes));
            predictions.extend_from_slice(&sizes.predictions);
            report.merge(sizes.report, max);
            Ok(())
        },
    )?;

    let mut rows = dataset.cursor(0..dataset.rows, 65_536);
    let mut next_row = 0u64;
    let mut runs = source.runs()?;
    let counts = &predictions;
    let work_items = until_error(move || {
        let (first_index, messages) = runs.take(MESSAGES_PER_BATCH)?;
        if messages.len() == 0 {
            return Ok(None);
        }
        let first = first_index as usize;
        let held = &counts[first..first + messages.len()];
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
    });
    let messages = predictions.len() as u64;
    check_messages(dataset, &source, work_items, messages, options, report)
}

/// Compares every work item's messages with the rows they must hold on
/// `options.threads` workers, adding to `report` (which may hold problems
/// found already), then checks the totals.
fn check_messages(
    dataset: &Dataset,
    source: &MessageSource,
    work_items: impl Iterator<Item = Result<GroupedMessages>> + Send,
    expected_messages: u64,
    options: &VerifyOptions,
    mut report: VerifyReport,
) -> Result<VerifyReport> {
    let max = options.max_reported;
    let path = source.path.as_path();
    ordered_parallel_map(
        work_items,
        options.threads,
        options.threads * 2,
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
        |_, partial| {
            report.merge(partial, max);
            Ok(())
        },
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
        .map(|chunk| column_views(&chunk.batch));
    for (position, text) in texts.iter().enumerate() {
        let index = item.first_index + position as u64;
        report.messages += 1;
        // A packed export's sizes were checked by the first pass.
        let limit = options
            .max_message_bytes
            .filter(|_| options.layout_grouping != Grouping::Packed);
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
        let (Some(chunk), Some(views)) = (item.expected.as_ref(), views.as_ref()) else {
            report.problem(max, || {
                format!("message {index} is past the last of {expected_messages} messages")
            });
            continue;
        };
        let Some(&end) = chunk.ends.get(position) else {
            report.problem(max, || {
                format!("message {index} is past the last of {expected_messages} messages")
            });
            continue;
        };
        let start = if position == 0 {
            0
        } else {
            chunk.ends[position - 1] as usize
        };
        let rows = &chunk.order[start..end as usize];
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
            if let Some(difference) = row_difference(
                &chunk.batch,
                views,
                row as usize,
                object,
                options.non_finite,
            ) {
                let id = chunk.sequential_ids[row as usize];
                report.problem(max, || {
                    format!(
                        "message {index}, prediction {member} (sequential id {id}): {difference}"
                    )
                });
            }
        }
    }
    report
}

/// A 64-bit fingerprint of canonical values in schema order.
fn fingerprint<'a>(values: impl Iterator<Item = Canonical<'a>>) -> u64 {
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

/// Rows the index is built from per unit of parallel work.
const INDEX_BATCH_ROWS: usize = 65_536;

/// Matches predictions to rows by id: completeness and values only. The
/// index holds a 128-bit id key, the row's sequential id and a fingerprint of
/// its values (about 40 bytes a row), plus one byte a row saying whether it
/// was seen; it is built and then probed on all workers. The first
/// mismatches are described by reading their rows again.
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
    if !matches!(dataset.schema.field(id_index).data_type(), DataType::Utf8) {
        return Err(ExportError::invalid(
            "--id-column",
            format!("column {} is not a string column", options.id_column),
        ));
    }
    let non_finite = options.non_finite;

    // id key -> (sequential id, fingerprint of the values).
    let mut index: HashMap<u128, (u64, u64)> = HashMap::with_capacity(dataset.rows as usize);
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
            let ids = batch.column(id_index).as_string::<i32>();
            let views = column_views(&batch);
            Ok((0..batch.num_rows())
                .map(|row| {
                    let id = if ids.is_null(row) { "" } else { ids.value(row) };
                    let values = views.iter().map(|view| view.canonical(row, non_finite));
                    (id_key(id), first_row + row as u64, fingerprint(values))
                })
                .collect::<Vec<_>>())
        },
        |_, entries| {
            for (key, sequential_id, values) in entries {
                if index.insert(key, (sequential_id, values)).is_some() {
                    let row = dataset.read_rows(sequential_id..sequential_id + 1)?;
                    let id = row.column(id_index).as_string::<i32>().value(0).to_string();
                    return Err(ExportError::invalid(
                        "--any-grouping",
                        format!(
                            "the dataset holds id {id:?} twice, so predictions cannot be matched by id"
                        ),
                    ));
                }
            }
            Ok(())
        },
    )?;

    let seen: Vec<AtomicBool> = (0..dataset.rows).map(|_| AtomicBool::new(false)).collect();
    let mut report = VerifyReport {
        dataset_rows: dataset.rows,
        ..VerifyReport::default()
    };
    let source = MessageSource::open(path)?;
    let mut runs = source.runs()?;
    let message_batches = std::iter::from_fn(move || match runs.take(MESSAGES_PER_BATCH) {
        Ok((_, run)) if run.len() == 0 => None,
        Ok(batch) => Some(Ok(batch)),
        Err(error) => Some(Err(error)),
    });
    let schema = dataset.schema.clone();
    ordered_parallel_map(
        message_batches,
        options.threads,
        options.threads * 2,
        |(first_index, run): (u64, MessageRun)| {
            let mut partial = VerifyReport::default();
            let mut batch = None;
            let texts = source.texts(&run, &mut batch)?;
            for (position, text) in texts.iter().enumerate() {
                let message = first_index + position as u64;
                partial.messages += 1;
                let objects = match parse_message(path, message, text) {
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
                    let id = match object.get(id_index, &options.id_column) {
                        Some(Found::Text(text)) => text.as_ref(),
                        _ => "",
                    };
                    let Some(&(row_id, expected)) = index.get(&id_key(id)) else {
                        partial.problem(max, || {
                            format!(
                                "message {message}, prediction {member}: id {id:?} is not in the dataset"
                            )
                        });
                        continue;
                    };
                    if seen[row_id as usize].swap(true, AtomicOrdering::Relaxed) {
                        partial.problem(max, || {
                            format!("message {message}, prediction {member}: id {id} appears twice")
                        });
                        continue;
                    }
                    let found =
                        fingerprint(schema.fields().iter().enumerate().map(|(position, field)| {
                            found_canonical(field.data_type(), object.get(position, field.name()))
                        }));
                    let unexpected = object.unexpected_field(&schema).is_some();
                    if found != expected || unexpected {
                        let description = if partial.first_problems.len() < max {
                            let row = dataset.read_rows(row_id..row_id + 1)?;
                            row_difference(&row, &column_views(&row), 0, object, non_finite)
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
        },
        |_, partial| {
            report.merge(partial, max);
            Ok(())
        },
    )?;
    let missing = seen
        .iter()
        .filter(|seen| !seen.load(AtomicOrdering::Relaxed))
        .count();
    if missing > 0 {
        report.problem(max, || {
            format!("{missing} dataset rows appear in no message")
        });
    }
    Ok(report)
}
