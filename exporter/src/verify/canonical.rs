//! What equality is judged on: floating-point values by their bits in the
//! column's own type (a float column's number is read back as a float, so
//! `0.8220099` and the widened `0.8220099210739136` are the same float), NaN
//! and infinities by name, text of any string type by its text, every other
//! type by its reference JSON (Spark's spelling, in the session time zone) as
//! serde_json prints it; and one difference described in words.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use serde_json::Value;

use super::json::{Found, Prediction};
use crate::message::{
    EncoderChoice, MessageChunk, MessageOptions, NonFiniteMode, NullMode, SessionTimeZone,
    encode_chunk,
};
use crate::text_column::{TextColumn, is_text};

/// A value reduced to what equality is judged on.
#[derive(Debug, Clone, PartialEq, Hash)]
pub(super) enum Canonical<'a> {
    Null,
    /// A finite float or double: the bits of the value widened to a double.
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

pub(super) fn float_canonical(value: f64, non_finite: NonFiniteMode) -> Canonical<'static> {
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

/// A parsed number as a value of a float (`single`) or double column.
fn number_canonical(number: f64, single: bool) -> Canonical<'static> {
    let value = if single {
        f64::from(number as f32)
    } else {
        number
    };
    Canonical::Finite(value.to_bits())
}

/// The canonical form of a parsed JSON value for a column of type `data_type`.
pub(super) fn found_canonical<'a>(
    data_type: &DataType,
    value: Option<&'a Found<'a>>,
) -> Canonical<'a> {
    let Some(value) = value else {
        return Canonical::Null;
    };
    let single = *data_type == DataType::Float32;
    let floating = matches!(data_type, DataType::Float64 | DataType::Float32);
    match (value, floating, is_text(data_type)) {
        (Found::Null, _, _) => Canonical::Null,
        (Found::Number(number), true, _) => number_canonical(*number, single),
        (Found::Integer(number), true, _) => number.as_f64().map_or_else(
            || Canonical::Invalid(value.to_string()),
            |number| number_canonical(number, single),
        ),
        (Found::Text(text), true, _) => match text.as_ref() {
            "NaN" => Canonical::NaN,
            "Infinity" => Canonical::Infinity,
            "-Infinity" => Canonical::NegativeInfinity,
            _ => Canonical::Invalid(value.to_string()),
        },
        (Found::Text(text), _, true) => Canonical::Text(Cow::Borrowed(text.as_ref())),
        (_, true, _) | (_, _, true) => Canonical::Invalid(value.to_string()),
        (Found::Number(number), _, _) => Canonical::Json(
            serde_json::Number::from_f64(*number)
                .map_or_else(|| number.to_string(), |number| number.to_string()),
        ),
        (Found::Integer(number), _, _) => Canonical::Json(number.to_string()),
        (Found::Text(text), _, _) => Canonical::Json(Value::String(text.to_string()).to_string()),
        (Found::Other(other), _, _) => Canonical::Json(without_nulls(other.clone()).to_string()),
    }
}

/// `value` with every object member whose value is null removed, at every
/// depth: a struct's null field is the same whether it is written as null or
/// left out (Spark leaves it out, `--nulls explicit` writes it).
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(_, member)| !member.is_null())
                .map(|(key, member)| (key, without_nulls(member)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// What the reference encoder writes for `column[row]` (in `time_zone`),
/// parsed and printed by serde_json.
pub(super) fn reference_json(
    column: &dyn Array,
    row: usize,
    time_zone: SessionTimeZone,
) -> Option<String> {
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
        time_zone,
        ..MessageOptions::default()
    };
    let encoded = encode_chunk(&chunk, &options).ok()?;
    serde_json::from_slice::<Value>(&encoded.bytes)
        .ok()
        .and_then(|array| {
            array
                .get(0)
                .and_then(|object| object.get("value"))
                .map(|value| without_nulls(value.clone()).to_string())
        })
}

/// A column of a batch, its type resolved once so that values are read
/// without a downcast per cell.
pub(super) enum ColumnView<'a> {
    Float64(&'a arrow_array::Float64Array),
    Float32(&'a arrow_array::Float32Array),
    Text(TextColumn<'a>),
    Other(&'a dyn Array, SessionTimeZone),
}

impl ColumnView<'_> {
    /// The canonical form of the value in `row`.
    pub(super) fn canonical(&self, row: usize, non_finite: NonFiniteMode) -> Canonical<'_> {
        match self {
            ColumnView::Float64(values) if values.is_valid(row) => {
                float_canonical(values.value(row), non_finite)
            }
            ColumnView::Float32(values) if values.is_valid(row) => {
                float_canonical(f64::from(values.value(row)), non_finite)
            }
            ColumnView::Text(values) => values
                .value(row)
                .map_or(Canonical::Null, |text| Canonical::Text(Cow::Borrowed(text))),
            ColumnView::Other(column, _) if column.is_null(row) => Canonical::Null,
            ColumnView::Other(column, time_zone) => {
                Canonical::Json(reference_json(*column, row, *time_zone).unwrap_or_default())
            }
            _ => Canonical::Null,
        }
    }
}

/// The columns of `batch` as [`ColumnView`]s; timestamps with a zone are
/// expected in `time_zone`.
pub(super) fn column_views(batch: &RecordBatch, time_zone: SessionTimeZone) -> Vec<ColumnView<'_>> {
    batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Float64 => ColumnView::Float64(column.as_primitive::<Float64Type>()),
            DataType::Float32 => ColumnView::Float32(column.as_primitive::<Float32Type>()),
            _ => match TextColumn::new(column.as_ref()) {
                Some(text) => ColumnView::Text(text),
                None => ColumnView::Other(column.as_ref(), time_zone),
            },
        })
        .collect()
}

/// Compares one prediction with row `row` of `batch` (whose columns are
/// `views`); describes the first difference.
pub(super) fn row_difference(
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

/// A 64-bit fingerprint of canonical values in schema order.
pub(super) fn fingerprint<'a>(values: impl Iterator<Item = Canonical<'a>>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for value in values {
        value.hash(&mut hasher);
    }
    hasher.finish()
}
