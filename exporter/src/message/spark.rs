//! The reference encoder's Spark spellings: an arrow-json [`EncoderFactory`]
//! that takes over every type whose JSON Spark writes differently from
//! arrow-json (floats, strings, decimals, dates, timestamps, binary) with the
//! functions of [`super::format`]. arrow-json asks it at every level, so
//! lists, structs, maps and dictionaries get the same spellings inside.
//! Integers, booleans and nulls are written by arrow-json as Spark writes them.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type,
    Float32Type, Float64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray};
use arrow_json::writer::{Encoder, EncoderFactory, EncoderOptions, NullableEncoder};
use arrow_schema::{ArrowError, DataType, FieldRef, TimeUnit};

use super::format;
use super::time_zone::SessionTimeZone;
use super::{MessageOptions, NonFiniteMode, NumberFormat, non_finite_name};
use crate::text_column::TextColumn;

/// Spark's spellings for arrow-json.
#[derive(Debug)]
pub struct SparkEncoderFactory {
    non_finite: NonFiniteMode,
    time_zone: SessionTimeZone,
    number_format: NumberFormat,
}

impl SparkEncoderFactory {
    /// The factory for `options`.
    pub fn new(options: &MessageOptions) -> Self {
        SparkEncoderFactory {
            non_finite: options.non_finite,
            time_zone: options.time_zone,
            number_format: options.number_format,
        }
    }
}

/// Writes a non-finite float the way `non_finite` says.
fn write_non_finite(value: f64, non_finite: NonFiniteMode, out: &mut Vec<u8>) {
    if non_finite == NonFiniteMode::String {
        out.push(b'"');
        out.extend_from_slice(non_finite_name(value).as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(b"null");
    }
}

struct Float64Encoder<'a>(&'a PrimitiveArray<Float64Type>, NonFiniteMode, NumberFormat);

impl Encoder for Float64Encoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let value = self.0.value(idx);
        if value.is_finite() {
            match self.2 {
                NumberFormat::Shortest => format::reference_f64(value, out),
                NumberFormat::Java => format::reference_java_f64(value, out),
            }
        } else {
            write_non_finite(value, self.1, out);
        }
    }
}

struct Float32Encoder<'a>(&'a PrimitiveArray<Float32Type>, NonFiniteMode, NumberFormat);

impl Encoder for Float32Encoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let value = self.0.value(idx);
        if value.is_finite() {
            match self.2 {
                NumberFormat::Shortest => format::reference_f32(value, out),
                NumberFormat::Java => format::reference_java_f32(value, out),
            }
        } else {
            write_non_finite(f64::from(value), self.1, out);
        }
    }
}

struct TextEncoder<'a>(TextColumn<'a>);

impl Encoder for TextEncoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        format::write_string(self.0.value(idx).unwrap_or(""), out);
    }
}

/// Decimals of any width: the unscaled value's digits and the scale.
struct DecimalEncoder<'a, T: ArrowPrimitiveType> {
    values: &'a PrimitiveArray<T>,
    scale: i8,
}

impl<T: ArrowPrimitiveType> Encoder for DecimalEncoder<'_, T>
where
    T::Native: std::fmt::Display,
{
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        format::write_decimal(&self.values.value(idx).to_string(), self.scale, out);
    }
}

struct Date32Encoder<'a>(&'a PrimitiveArray<Date32Type>);

impl Encoder for Date32Encoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        format::write_date32(self.0.value(idx), out);
    }
}

struct Date64Encoder<'a>(&'a PrimitiveArray<Date64Type>);

impl Encoder for Date64Encoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        format::write_date64(self.0.value(idx), out);
    }
}

/// Timestamps of any unit: the raw values, the unit, the zone to write in.
struct TimestampEncoder<'a> {
    values: &'a [i64],
    unit: TimeUnit,
    zone: Option<SessionTimeZone>,
}

impl Encoder for TimestampEncoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        format::write_timestamp(self.values[idx], self.unit, self.zone.as_ref(), out);
    }
}

/// Binary of any kind, as base64.
struct BinaryEncoder<'a>(&'a dyn Array);

impl Encoder for BinaryEncoder<'_> {
    fn encode(&mut self, idx: usize, out: &mut Vec<u8>) {
        let array = self.0;
        let bytes: &[u8] = match array.data_type() {
            DataType::Binary => array.as_binary::<i32>().value(idx),
            DataType::LargeBinary => array.as_binary::<i64>().value(idx),
            DataType::BinaryView => array.as_binary_view().value(idx),
            DataType::FixedSizeBinary(_) => array.as_fixed_size_binary().value(idx),
            _ => unreachable!("a binary encoder for a {} column", array.data_type()),
        };
        format::write_base64(bytes, out);
    }
}

/// The raw values of a timestamp array of any unit.
fn timestamp_values(array: &dyn Array, unit: TimeUnit) -> &[i64] {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().values(),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().values(),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().values(),
    }
}

impl EncoderFactory for SparkEncoderFactory {
    fn make_default_encoder<'a>(
        &self,
        _field: &'a FieldRef,
        array: &'a dyn Array,
        _options: &'a EncoderOptions,
    ) -> Result<Option<NullableEncoder<'a>>, ArrowError> {
        let encoder: Box<dyn Encoder + 'a> = match array.data_type() {
            DataType::Float64 => Box::new(Float64Encoder(
                array.as_primitive(),
                self.non_finite,
                self.number_format,
            )),
            DataType::Float32 => Box::new(Float32Encoder(
                array.as_primitive(),
                self.non_finite,
                self.number_format,
            )),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Box::new(TextEncoder(
                TextColumn::new(array).expect("a string column reads as text"),
            )),
            DataType::Decimal32(_, scale) => Box::new(DecimalEncoder::<Decimal32Type> {
                values: array.as_primitive(),
                scale: *scale,
            }),
            DataType::Decimal64(_, scale) => Box::new(DecimalEncoder::<Decimal64Type> {
                values: array.as_primitive(),
                scale: *scale,
            }),
            DataType::Decimal128(_, scale) => Box::new(DecimalEncoder::<Decimal128Type> {
                values: array.as_primitive(),
                scale: *scale,
            }),
            DataType::Decimal256(_, scale) => Box::new(DecimalEncoder::<Decimal256Type> {
                values: array.as_primitive(),
                scale: *scale,
            }),
            DataType::Date32 => Box::new(Date32Encoder(array.as_primitive())),
            DataType::Date64 => Box::new(Date64Encoder(array.as_primitive())),
            DataType::Timestamp(unit, zone) => Box::new(TimestampEncoder {
                values: timestamp_values(array, *unit),
                unit: *unit,
                zone: zone.as_ref().map(|_| self.time_zone),
            }),
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => Box::new(BinaryEncoder(array)),
            _ => return Ok(None),
        };
        Ok(Some(NullableEncoder::new(encoder, array.logical_nulls())))
    }
}
