//! JSON messages the way Spark's `to_json(collect_list(struct(*)))` writes
//! them: one object per prediction, columns in schema order, nulls omitted,
//! non-finite floats as strings, every value as Spark spells it ([`format`]).
//! Two row encoders give identical bytes: arrow-json with Spark's spellings
//! plugged in ([`spark`], the reference, every supported type) and a
//! hand-written fast path for the common prediction schemas ([`fast`]).

mod fast;
pub mod format;
pub mod java_float;
mod spark;
pub mod time_zone;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};
use arrow_json::writer::{EncoderOptions, NullableEncoder, make_encoder};
use arrow_schema::{DataType, Field, FieldRef, Schema};
use serde::{Deserialize, Serialize};

use crate::error::{ExportError, Result};
pub use fast::{FastRowEncoder, fast_path_applies};
pub use spark::SparkEncoderFactory;
pub use time_zone::SessionTimeZone;

/// How null fields are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullMode {
    /// Left out of the object, as Spark does.
    Omit,
    /// Written as `"column":null`.
    Explicit,
}

/// How NaN and infinite doubles are written; JSON has no literal for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFiniteMode {
    /// The strings `"NaN"`, `"Infinity"`, `"-Infinity"`, as Spark does.
    String,
    /// `null`, as Polars does.
    Null,
    /// Fail, naming the column and the row.
    Error,
}

/// How finite floats and doubles are spelled; every spelling parses back to
/// the same value, bit for bit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NumberFormat {
    /// The shortest round-trip form as Rust (ryu) writes it: `1e-5`, `0.001`, `1e16`.
    #[default]
    Shortest,
    /// Java's `Double.toString` / `Float.toString` (JDK 19 and newer): `1.0E-5`,
    /// `0.001`, `1.0E16` — Spark's bytes when it runs on Java 21.
    Java,
}

/// Which row encoder to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderChoice {
    /// The fast path when every column is of a type it writes, else arrow-json.
    Auto,
    /// Always arrow-json (the reference).
    ArrowJson,
}

predbench_common::choice! { NullMode:
    Omit = "omit", "Leave null fields out (Spark's default).";
    Explicit = "explicit", "Write \"column\":null.";
}

predbench_common::choice! { NonFiniteMode:
    String = "string", "\"NaN\", \"Infinity\", \"-Infinity\" (as Spark).";
    Null = "null", "null (as Polars).";
    Error = "error", "Fail naming the column and row.";
}

predbench_common::choice! { NumberFormat:
    Shortest = "shortest", "Shortest round-trip form, as Rust writes it (1e-5).";
    Java = "java", "Java's Double.toString, JDK 19 and newer (1.0E-5): Spark's bytes on Java 21.";
}

predbench_common::choice! { EncoderChoice:
    Auto = "auto", "The fast path where it applies (Utf8 + Float64 tables), else arrow-json.";
    ArrowJson = "arrow-json", "arrow-json always (the reference).";
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
    /// The session time zone timestamps with a zone are written in (Spark's
    /// `spark.sql.session.timeZone`); records written before it existed were UTC.
    #[serde(default)]
    pub time_zone: SessionTimeZone,
    /// How finite floats are spelled; records written before it existed were `Shortest`.
    #[serde(default)]
    pub number_format: NumberFormat,
}

impl Default for MessageOptions {
    fn default() -> Self {
        MessageOptions {
            nulls: NullMode::Omit,
            non_finite: NonFiniteMode::String,
            encoder: EncoderChoice::Auto,
            time_zone: SessionTimeZone::default(),
            number_format: NumberFormat::Shortest,
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
pub(crate) fn non_finite_name(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
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
            .with_encoder_factory(Arc::new(SparkEncoderFactory::new(options)));
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
/// columns, with Spark's spellings from [`SparkEncoderFactory`].
struct ArrowJsonRowEncoder<'a> {
    encoder: NullableEncoder<'a>,
}

impl RowEncoder for ArrowJsonRowEncoder<'_> {
    fn encode_row(&mut self, row: usize, out: &mut Vec<u8>) {
        self.encoder.encode(row, out);
    }
}

/// Checks that every column (and every nested field) is of a type Spark
/// writes to JSON and predbench writes as Spark does; the first that is not
/// is named with its type and what to do. Called before any output is made.
pub fn check_schema(schema: &Schema) -> Result<()> {
    for field in schema.fields() {
        check_type(field.name(), field.data_type())?;
    }
    Ok(())
}

fn check_type(column: &str, data_type: &DataType) -> Result<()> {
    let unsupported = |reason: &'static str| {
        Err(ExportError::UnsupportedColumn {
            column: column.to_string(),
            data_type: data_type.to_string(),
            reason,
        })
    };
    match data_type {
        DataType::Float16 => unsupported(
            "Spark has no half-precision float and cannot read it; cast the column to float32",
        ),
        DataType::Time32(_) | DataType::Time64(_) => unsupported(
            "predbench does not write times of day as Spark would; cast the column to a string",
        ),
        DataType::Duration(_) | DataType::Interval(_) => unsupported(
            "Spark cannot read durations or intervals from Parquet; cast the column to an integer",
        ),
        DataType::Union(_, _) | DataType::RunEndEncoded(_, _) => {
            unsupported("Spark has no such type; flatten the column")
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => {
                if !crate::text_column::is_text(fields[0].data_type()) {
                    return unsupported(
                        "predbench writes maps with string keys only; cast the keys to strings",
                    );
                }
                check_type(&format!("{column}.value"), fields[1].data_type())
            }
            _ => unsupported("a map without a key and a value"),
        },
        DataType::List(item)
        | DataType::LargeList(item)
        | DataType::ListView(item)
        | DataType::LargeListView(item)
        | DataType::FixedSizeList(item, _) => check_type(&format!("{column}[]"), item.data_type()),
        DataType::Struct(fields) => fields.iter().try_for_each(|field| {
            check_type(&format!("{column}.{}", field.name()), field.data_type())
        }),
        DataType::Dictionary(_, values) => check_type(column, values),
        _ => Ok(()),
    }
}
