//! JSON messages the way Spark's `to_json(collect_list(struct(*)))` writes
//! them: one object per prediction, columns in schema order, nulls omitted,
//! non-finite doubles as strings. Two row encoders give identical bytes:
//! arrow-json (the reference, any column type) and a hand-written fast path
//! for the seed's Utf8 + Float64 schema.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, StructArray};
use arrow_buffer::NullBuffer;
use arrow_json::writer::{Encoder, EncoderFactory, EncoderOptions, NullableEncoder, make_encoder};
use arrow_schema::{ArrowError, DataType, Field, FieldRef};
use serde::{Deserialize, Serialize};

use crate::error::{ExportError, Result};

/// How null fields are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NullMode {
    /// Left out of the object, as Spark does.
    Omit,
    /// Written as `"column":null`.
    Explicit,
}

/// How NaN and infinite doubles are written; JSON has no literal for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NonFiniteMode {
    /// The strings `"NaN"`, `"Infinity"`, `"-Infinity"`, as Spark does.
    String,
    /// `null`, as Polars does.
    Null,
    /// Fail, naming the column and the row.
    Error,
}

/// Which row encoder to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncoderChoice {
    /// The fast path when every column is Utf8 or Float64, else arrow-json.
    Auto,
    /// Always arrow-json (the reference).
    ArrowJson,
}

/// Everything that decides the bytes of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageOptions {
    /// Null fields.
    pub nulls: NullMode,
    /// NaN and infinities.
    pub non_finite: NonFiniteMode,
    /// Row encoder.
    pub encoder: EncoderChoice,
}

impl Default for MessageOptions {
    fn default() -> Self {
        MessageOptions {
            nulls: NullMode::Omit,
            non_finite: NonFiniteMode::String,
            encoder: EncoderChoice::Auto,
        }
    }
}

/// Encoded messages back to back: message `i` is `bytes[ends[i-1]..ends[i]]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MessageBatch {
    /// The JSON text of every message, concatenated.
    pub bytes: Vec<u8>,
    /// End offset of every message in `bytes`.
    pub ends: Vec<usize>,
    /// Predictions in every message.
    pub message_rows: Vec<u32>,
    /// Predictions (rows) in these messages.
    pub rows: u64,
}

impl MessageBatch {
    /// Number of messages.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there is no message.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a message of `rows` predictions.
    pub fn push(&mut self, message: &[u8], rows: u32) {
        self.bytes.extend_from_slice(message);
        self.ends.push(self.bytes.len());
        self.message_rows.push(rows);
        self.rows += u64::from(rows);
    }

    /// The messages as byte slices.
    pub fn messages(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let message = &self.bytes[start..end];
            start = end;
            message
        })
    }
}

/// The text of a non-finite double.
fn non_finite_name(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// Writes a finite double in its shortest round-trip form, as ryu does
/// (`0.1`, `1e-7`, `1e16`): zmij's output with the exponent's `+` removed.
/// The `+` can only sit right after the `e` of an exponent of one to three
/// digits, so three byte checks find it without scanning the digits.
#[inline]
fn write_finite_fast(value: f64, out: &mut Vec<u8>) {
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(value).as_bytes();
    let length = text.len();
    let plus = (2..=4)
        .map(|from_end| length.wrapping_sub(from_end))
        .find(|&index| index < length && text[index] == b'+');
    match plus {
        None => out.extend_from_slice(text),
        Some(plus) => {
            out.extend_from_slice(&text[..plus]);
            out.extend_from_slice(&text[plus + 1..]);
        }
    }
}

/// Fails on the first non-finite value of any float column of `batch`,
/// naming it by its sequential id.
pub fn check_finite(batch: &RecordBatch, sequential_ids: &[u64]) -> Result<()> {
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let position = match column.data_type() {
            DataType::Float64 => {
                let values = column.as_primitive::<Float64Type>();
                (0..values.len())
                    .find(|&row| values.is_valid(row) && !values.value(row).is_finite())
                    .map(|row| (row, values.value(row)))
            }
            DataType::Float32 => {
                let values = column.as_primitive::<Float32Type>();
                (0..values.len())
                    .find(|&row| values.is_valid(row) && !values.value(row).is_finite())
                    .map(|row| (row, f64::from(values.value(row))))
            }
            _ => None,
        };
        if let Some((row, value)) = position {
            return Err(ExportError::NonFinite {
                column: field.name().clone(),
                row: sequential_ids[row],
                value: non_finite_name(value),
            });
        }
    }
    Ok(())
}

/// Appends JSON objects for rows of one record batch.
pub trait RowEncoder {
    /// Appends the object of row `row` to `out`.
    fn encode_row(&mut self, row: usize, out: &mut Vec<u8>);
}

/// Rows to be turned into messages: a batch, the sequential id of each of
/// its rows, and which rows form each message in which order.
#[derive(Debug, Clone)]
pub struct MessageChunk {
    /// The rows.
    pub batch: RecordBatch,
    /// Sequential id of every row of `batch`.
    pub sequential_ids: Vec<u64>,
    /// Rows of `batch` in message order.
    pub order: Vec<u32>,
    /// Message `i` is `order[ends[i-1]..ends[i]]`.
    pub ends: Vec<u32>,
}

/// Whether the fast path can encode this schema.
pub fn fast_path_applies(schema: &arrow_schema::Schema) -> bool {
    schema
        .fields()
        .iter()
        .all(|field| matches!(field.data_type(), DataType::Utf8 | DataType::Float64))
}

/// Encodes every message of `chunk`: `[obj,obj,...]` per message.
pub fn encode_chunk(chunk: &MessageChunk, options: &MessageOptions) -> Result<MessageBatch> {
    if options.non_finite == NonFiniteMode::Error {
        check_finite(&chunk.batch, &chunk.sequential_ids)?;
    }
    let batch = &chunk.batch;
    if options.encoder == EncoderChoice::Auto && fast_path_applies(&batch.schema()) {
        let mut encoder = FastRowEncoder::new(batch, options);
        Ok(encode_with(chunk, &mut encoder))
    } else {
        let struct_array = StructArray::from(batch.clone());
        let field: FieldRef = Arc::new(Field::new("row", struct_array.data_type().clone(), false));
        let encoder_options = EncoderOptions::default()
            .with_explicit_nulls(options.nulls == NullMode::Explicit)
            .with_encoder_factory(Arc::new(SparkFloatEncoderFactory {
                non_finite: options.non_finite,
            }));
        let array: ArrayRef = Arc::new(struct_array);
        let encoder = make_encoder(&field, array.as_ref(), &encoder_options).map_err(|cause| {
            ExportError::Arrow {
                context: "arrow-json cannot encode this schema".to_string(),
                cause,
            }
        })?;
        let mut encoder = ArrowJsonRowEncoder { encoder };
        Ok(encode_with(chunk, &mut encoder))
    }
}

fn encode_with(chunk: &MessageChunk, encoder: &mut dyn RowEncoder) -> MessageBatch {
    let mut bytes = Vec::with_capacity(chunk.order.len() * 64 * (chunk.batch.num_columns() + 1));
    let mut ends = Vec::with_capacity(chunk.ends.len());
    let mut message_rows = Vec::with_capacity(chunk.ends.len());
    let mut start = 0usize;
    for &end in &chunk.ends {
        message_rows.push(end - start as u32);
        bytes.push(b'[');
        for (position, &row) in chunk.order[start..end as usize].iter().enumerate() {
            if position > 0 {
                bytes.push(b',');
            }
            encoder.encode_row(row as usize, &mut bytes);
        }
        bytes.push(b']');
        ends.push(bytes.len());
        start = end as usize;
    }
    MessageBatch {
        bytes,
        ends,
        message_rows,
        rows: chunk.order.len() as u64,
    }
}

/// The reference row encoder: arrow-json's struct encoder over the batch's
/// columns, with floats handed to [`SparkFloatEncoderFactory`].
struct ArrowJsonRowEncoder<'a> {
    encoder: NullableEncoder<'a>,
}

impl RowEncoder for ArrowJsonRowEncoder<'_> {
    fn encode_row(&mut self, row: usize, out: &mut Vec<u8>) {
        self.encoder.encode(row, out);
    }
}

/// Replaces arrow-json's float encoder (which writes non-finite values as
/// `null` and uses lexical's `1.0e16`) with Spark's non-finite strings and
/// ryu's shortest form.
#[derive(Debug)]
pub struct SparkFloatEncoderFactory {
    non_finite: NonFiniteMode,
}

struct FloatEncoder {
    values: Vec<f64>,
    non_finite: NonFiniteMode,
}

impl Encoder for FloatEncoder {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let value = self.values[idx];
        if value.is_finite() {
            out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
        } else if self.non_finite == NonFiniteMode::String {
            out.push(b'"');
            out.extend_from_slice(non_finite_name(value).as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(b"null");
        }
    }
}

impl EncoderFactory for SparkFloatEncoderFactory {
    fn make_default_encoder<'a>(
        &self,
        _field: &'a FieldRef,
        array: &'a dyn Array,
        _options: &'a EncoderOptions,
    ) -> std::result::Result<Option<NullableEncoder<'a>>, ArrowError> {
        let values: Vec<f64> = match array.data_type() {
            DataType::Float64 => array.as_primitive::<Float64Type>().values().to_vec(),
            DataType::Float32 => array
                .as_primitive::<Float32Type>()
                .values()
                .iter()
                .map(|value| f64::from(*value))
                .collect(),
            _ => return Ok(None),
        };
        let nulls: Option<NullBuffer> = array.logical_nulls();
        Ok(Some(NullableEncoder::new(
            Box::new(FloatEncoder {
                values,
                non_finite: self.non_finite,
            }),
            nulls,
        )))
    }
}

/// A column as the fast path sees it.
enum FastColumn<'a> {
    Text(&'a StringArray),
    Number(&'a Float64Array),
}

/// The hand-written encoder for Utf8 and Float64 columns: keys escaped once,
/// doubles formatted by zmij, no dynamic dispatch per value.
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

/// Appends `text` as a JSON string, escaped as arrow-json escapes it.
#[inline]
fn write_string(text: &str, out: &mut Vec<u8>) {
    let needs_escape = text
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\');
    if needs_escape {
        serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

impl<'a> FastRowEncoder<'a> {
    /// Prepares the encoder; every column of `batch` must be Utf8 or Float64.
    pub fn new(batch: &'a RecordBatch, options: &MessageOptions) -> Self {
        let schema = batch.schema();
        let keys: Vec<Vec<u8>> = schema
            .fields()
            .iter()
            .map(|field| escaped_key(field.name()))
            .collect();
        let columns = batch
            .columns()
            .iter()
            .map(|column| match column.data_type() {
                DataType::Utf8 => FastColumn::Text(column.as_string::<i32>()),
                DataType::Float64 => FastColumn::Number(column.as_primitive::<Float64Type>()),
                other => unreachable!("the fast path was chosen for a {other} column"),
            })
            .collect();
        let dense = batch
            .columns()
            .iter()
            .all(|column| column.null_count() == 0);
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

    /// Appends a non-null value of `column`.
    #[inline]
    fn write_value(&self, column: &FastColumn<'_>, row: usize, out: &mut Vec<u8>) {
        match column {
            FastColumn::Text(values) => write_string(values.value(row), out),
            FastColumn::Number(values) => {
                let value = values.value(row);
                if value.is_finite() {
                    write_finite_fast(value, out);
                } else if self.options.non_finite == NonFiniteMode::String {
                    out.push(b'"');
                    out.extend_from_slice(non_finite_name(value).as_bytes());
                    out.push(b'"');
                } else {
                    out.extend_from_slice(b"null");
                }
            }
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
            let is_null = match column {
                FastColumn::Text(values) => values.is_null(row),
                FastColumn::Number(values) => values.is_null(row),
            };
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
