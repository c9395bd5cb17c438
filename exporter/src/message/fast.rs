//! The hand-written row encoder for the common prediction schemas: an id of
//! any string type (dictionary-encoded too), float32 or float64 scores, and
//! metadata columns of integers, booleans, dates and timestamps. Keys are
//! escaped once, floats formatted by zmij, no dynamic dispatch per score; it
//! writes the same bytes as the reference encoder (tested).

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrowPrimitiveType, BooleanArray, Date32Array, Float32Array, Float64Array, RecordBatch,
};
use arrow_schema::{DataType, Schema, TimeUnit};

use super::time_zone::SessionTimeZone;
use super::{
    MessageOptions, NonFiniteMode, NullMode, NumberFormat, RowEncoder, format, non_finite_name,
};
use crate::text_column::{TextColumn, is_text};

/// Whether the fast path writes every column of `schema`.
pub fn fast_path_applies(schema: &Schema) -> bool {
    schema.fields().iter().all(|field| {
        let data_type = field.data_type();
        is_text(data_type)
            || data_type.is_integer()
            || matches!(
                data_type,
                DataType::Float32
                    | DataType::Float64
                    | DataType::Boolean
                    | DataType::Date32
                    | DataType::Timestamp(_, _)
            )
    })
}

/// A column as the fast path sees it.
enum FastColumn<'a> {
    Text(TextColumn<'a>),
    Float64(&'a Float64Array),
    Float32(&'a Float32Array),
    /// Any integer width: the array and the function that writes one of its values.
    Integer(&'a dyn Array, fn(&dyn Array, usize, &mut Vec<u8>)),
    Boolean(&'a BooleanArray),
    Date32(&'a Date32Array),
    Timestamp {
        array: &'a dyn Array,
        values: &'a [i64],
        unit: TimeUnit,
        zone: Option<SessionTimeZone>,
    },
}

fn write_integer<T: ArrowPrimitiveType>(array: &dyn Array, row: usize, out: &mut Vec<u8>)
where
    T::Native: std::fmt::Display,
{
    use std::io::Write as _;
    let _ = write!(out, "{}", array.as_primitive::<T>().value(row));
}

impl<'a> FastColumn<'a> {
    fn new(array: &'a dyn Array, options: &MessageOptions) -> FastColumn<'a> {
        macro_rules! integer {
            ($type:ty) => {
                FastColumn::Integer(array, write_integer::<$type>)
            };
        }
        match array.data_type() {
            DataType::Float64 => FastColumn::Float64(array.as_primitive::<Float64Type>()),
            DataType::Float32 => FastColumn::Float32(array.as_primitive::<Float32Type>()),
            DataType::Int8 => integer!(Int8Type),
            DataType::Int16 => integer!(Int16Type),
            DataType::Int32 => integer!(Int32Type),
            DataType::Int64 => integer!(Int64Type),
            DataType::UInt8 => integer!(UInt8Type),
            DataType::UInt16 => integer!(UInt16Type),
            DataType::UInt32 => integer!(UInt32Type),
            DataType::UInt64 => integer!(UInt64Type),
            DataType::Boolean => FastColumn::Boolean(array.as_boolean()),
            DataType::Date32 => FastColumn::Date32(array.as_primitive()),
            DataType::Timestamp(unit, zone) => {
                use arrow_array::types::{
                    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
                    TimestampSecondType,
                };
                let values = match unit {
                    TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
                    TimeUnit::Millisecond => {
                        array.as_primitive::<TimestampMillisecondType>().values()
                    }
                    TimeUnit::Microsecond => {
                        array.as_primitive::<TimestampMicrosecondType>().values()
                    }
                    TimeUnit::Nanosecond => {
                        array.as_primitive::<TimestampNanosecondType>().values()
                    }
                };
                FastColumn::Timestamp {
                    array,
                    values,
                    unit: *unit,
                    zone: zone.as_ref().map(|_| options.time_zone),
                }
            }
            other => {
                FastColumn::Text(TextColumn::new(array).unwrap_or_else(|| {
                    unreachable!("the fast path was chosen for a {other} column")
                }))
            }
        }
    }

    #[inline]
    fn is_null(&self, row: usize) -> bool {
        match self {
            FastColumn::Text(values) => values.is_null(row),
            FastColumn::Float64(values) => values.is_null(row),
            FastColumn::Float32(values) => values.is_null(row),
            FastColumn::Integer(values, _) => values.is_null(row),
            FastColumn::Boolean(values) => values.is_null(row),
            FastColumn::Date32(values) => values.is_null(row),
            FastColumn::Timestamp { array, .. } => array.is_null(row),
        }
    }

    fn null_count(&self) -> usize {
        match self {
            FastColumn::Text(TextColumn::Dictionary { valid, .. }) => {
                valid.iter().filter(|valid| !**valid).count()
            }
            FastColumn::Text(TextColumn::Utf8(values)) => values.null_count(),
            FastColumn::Text(TextColumn::LargeUtf8(values)) => values.null_count(),
            FastColumn::Text(TextColumn::Utf8View(values)) => values.null_count(),
            FastColumn::Float64(values) => values.null_count(),
            FastColumn::Float32(values) => values.null_count(),
            FastColumn::Integer(values, _) => values.null_count(),
            FastColumn::Boolean(values) => values.null_count(),
            FastColumn::Date32(values) => values.null_count(),
            FastColumn::Timestamp { array, .. } => array.null_count(),
        }
    }
}

/// The hand-written encoder: see the module's documentation.
pub struct FastRowEncoder<'a> {
    /// `"name":` per column, escaped once.
    keys: Vec<Vec<u8>>,
    columns: Vec<FastColumn<'a>>,
    options: MessageOptions,
    /// When no column has a null every field is written, so each key can
    /// carry what precedes it: `{"id_client":`, `,"class_0":`, ...
    dense_keys: Option<Vec<Vec<u8>>>,
}

fn escaped_key(name: &str) -> Vec<u8> {
    let mut key = serde_json::to_vec(name).expect("a string serializes");
    key.push(b':');
    key
}

impl<'a> FastRowEncoder<'a> {
    /// Prepares the encoder; [`fast_path_applies`] must hold for `batch`'s schema.
    pub fn new(batch: &'a RecordBatch, options: &MessageOptions) -> Self {
        let schema = batch.schema();
        let keys: Vec<Vec<u8>> = schema
            .fields()
            .iter()
            .map(|field| escaped_key(field.name()))
            .collect();
        let columns: Vec<FastColumn<'a>> = batch
            .columns()
            .iter()
            .map(|column| FastColumn::new(column.as_ref(), options))
            .collect();
        let dense = columns.iter().all(|column| column.null_count() == 0);
        let dense_keys = dense.then(|| {
            keys.iter()
                .enumerate()
                .map(|(index, key)| {
                    let mut prefixed = vec![if index == 0 { b'{' } else { b',' }];
                    prefixed.extend_from_slice(key);
                    prefixed
                })
                .collect()
        });
        FastRowEncoder {
            keys,
            columns,
            options: *options,
            dense_keys,
        }
    }

    /// Appends a non-finite float as the options say.
    fn write_non_finite(&self, value: f64, out: &mut Vec<u8>) {
        if self.options.non_finite == NonFiniteMode::String {
            out.push(b'"');
            out.extend_from_slice(non_finite_name(value).as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(b"null");
        }
    }

    /// Appends a non-null value of `column`.
    #[inline]
    fn write_value(&self, column: &FastColumn<'_>, row: usize, out: &mut Vec<u8>) {
        match column {
            FastColumn::Float64(values) => {
                let value = values.value(row);
                if value.is_finite() {
                    match self.options.number_format {
                        NumberFormat::Shortest => format::write_f64(value, out),
                        NumberFormat::Java => format::write_java_f64(value, out),
                    }
                } else {
                    self.write_non_finite(value, out);
                }
            }
            FastColumn::Float32(values) => {
                let value = values.value(row);
                if value.is_finite() {
                    match self.options.number_format {
                        NumberFormat::Shortest => format::write_f32(value, out),
                        NumberFormat::Java => format::write_java_f32(value, out),
                    }
                } else {
                    self.write_non_finite(f64::from(value), out);
                }
            }
            FastColumn::Text(values) => format::write_string(values.value(row).unwrap_or(""), out),
            FastColumn::Integer(values, write) => write(*values, row, out),
            FastColumn::Boolean(values) => {
                out.extend_from_slice(if values.value(row) { b"true" } else { b"false" })
            }
            FastColumn::Date32(values) => format::write_date32(values.value(row), out),
            FastColumn::Timestamp {
                values, unit, zone, ..
            } => format::write_timestamp(values[row], *unit, zone.as_ref(), out),
        }
    }
}

impl RowEncoder for FastRowEncoder<'_> {
    fn encode_row(&mut self, row: usize, out: &mut Vec<u8>) {
        if let Some(dense_keys) = &self.dense_keys {
            for (key, column) in dense_keys.iter().zip(&self.columns) {
                out.extend_from_slice(key);
                self.write_value(column, row, out);
            }
            if dense_keys.is_empty() {
                out.push(b'{');
            }
            out.push(b'}');
            return;
        }
        out.push(b'{');
        let mut first = true;
        for (key, column) in self.keys.iter().zip(&self.columns) {
            let is_null = column.is_null(row);
            if is_null && self.options.nulls == NullMode::Omit {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key);
            if is_null {
                out.extend_from_slice(b"null");
            } else {
                self.write_value(column, row, out);
            }
        }
        out.push(b'}');
    }
}
