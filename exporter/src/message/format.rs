//! How Spark's `to_json` (Jackson, Spark 4 defaults) spells each value, one
//! function per kind of value, shared by the reference encoder and the fast
//! path so that both write the same bytes:
//!
//! * strings escaped as Jackson does (`\"`, `\\`, `\b \t \n \f \r`, other
//!   control characters as `\u00XX` in upper case, everything else as is);
//! * floats and doubles in their own shortest round-trip form (`0.8220099`
//!   for a float, not the widened `0.8220099210739136`); Spark (Java's
//!   `Double.toString`) may spell the same number otherwise (`1.0E-5`), the
//!   same value once parsed; or, as an option, as Java 19+ spells them
//!   (`1.0E-5`: Spark's bytes on Java 21, [`java_float`]);
//! * decimals as Java's `BigDecimal.toString`, scale kept (`1.2300`, `0E-18`,
//!   `1.23456789012E-7`);
//! * dates as `yyyy-MM-dd`; timestamps as `yyyy-MM-dd'T'HH:mm:ss.SSS`, cut to
//!   milliseconds, with the session time zone's offset (`Z`, `+01:00`) when
//!   the column has a zone;
//! * binary as base64.

use arrow_schema::TimeUnit;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::java_float;
use super::time_zone::SessionTimeZone;

/// Appends `text` as a JSON string, escaped as Jackson escapes it.
#[inline]
pub fn write_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = text.as_bytes();
    if !bytes
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
    {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let short: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\t' => b"\\t",
            b'\r' => b"\\r",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        if short.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Removes the `+` of a positive exponent (`1e+16` -> `1e16`); it can only
/// sit right after the `e` of an exponent of one to three digits, so three
/// byte checks find it without scanning the digits.
#[inline]
fn push_without_plus(text: &[u8], out: &mut Vec<u8>) {
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

/// A finite double in its shortest round-trip form, as ryu writes it
/// (`0.1`, `1e-7`, `1e16`): zmij's output with the exponent's `+` removed.
#[inline]
pub fn write_f64(value: f64, out: &mut Vec<u8>) {
    push_without_plus(zmij::Buffer::new().format_finite(value).as_bytes(), out);
}

/// A finite float in ITS shortest round-trip form (`0.8220099`), as ryu
/// writes an `f32`.
#[inline]
pub fn write_f32(value: f32, out: &mut Vec<u8>) {
    push_without_plus(zmij::Buffer::new().format_finite(value).as_bytes(), out);
}

/// The reference spelling of a finite double (ryu), which [`write_f64`] equals.
pub fn reference_f64(value: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
}

/// The reference spelling of a finite float (ryu), which [`write_f32`] equals.
pub fn reference_f32(value: f32, out: &mut Vec<u8>) {
    out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
}

/// A finite double as Java's `Double.toString` writes it ([`java_float`]),
/// from zmij's shortest digits.
#[inline]
pub fn write_java_f64(value: f64, out: &mut Vec<u8>) {
    java_float::write(
        value,
        zmij::Buffer::new().format_finite(value).as_bytes(),
        out,
    );
}

/// A finite float as Java's `Float.toString` writes it, from zmij's digits.
#[inline]
pub fn write_java_f32(value: f32, out: &mut Vec<u8>) {
    java_float::write(
        value,
        zmij::Buffer::new().format_finite(value).as_bytes(),
        out,
    );
}

/// The reference of [`write_java_f64`]: from ryu's digits.
pub fn reference_java_f64(value: f64, out: &mut Vec<u8>) {
    java_float::write(
        value,
        ryu::Buffer::new().format_finite(value).as_bytes(),
        out,
    );
}

/// The reference of [`write_java_f32`]: from ryu's digits.
pub fn reference_java_f32(value: f32, out: &mut Vec<u8>) {
    java_float::write(
        value,
        ryu::Buffer::new().format_finite(value).as_bytes(),
        out,
    );
}

/// A decimal of `unscaled` (its digits, with a leading `-` when negative) and
/// `scale`, as Java's `BigDecimal.toString` writes it: plain with the scale's
/// digits while the adjusted exponent is at least -6, else scientific.
pub fn write_decimal(unscaled: &str, scale: i8, out: &mut Vec<u8>) {
    let (negative, digits) = match unscaled.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, unscaled),
    };
    if negative {
        out.push(b'-');
    }
    let scale = i64::from(scale);
    let length = digits.len() as i64;
    let adjusted = length - 1 - scale;
    if scale == 0 {
        out.extend_from_slice(digits.as_bytes());
    } else if scale > 0 && adjusted >= -6 {
        if scale >= length {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (scale - length) as usize));
            out.extend_from_slice(digits.as_bytes());
        } else {
            let point = (length - scale) as usize;
            out.extend_from_slice(&digits.as_bytes()[..point]);
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[point..]);
        }
    } else {
        out.extend_from_slice(&digits.as_bytes()[..1]);
        if length > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[1..]);
        }
        out.push(b'E');
        if adjusted > 0 {
            out.push(b'+');
        }
        out.extend_from_slice(adjusted.to_string().as_bytes());
    }
}

/// `yyyy-MM-dd` of a date, quoted.
fn write_date(date: NaiveDate, out: &mut Vec<u8>) {
    out.push(b'"');
    push_date(date, out);
    out.push(b'"');
}

fn push_date(date: NaiveDate, out: &mut Vec<u8>) {
    let year = date.year();
    if (0..=9999).contains(&year) {
        push_digits(year as u32, 4, out);
    } else {
        out.extend_from_slice(format!("{year:+05}").as_bytes());
    }
    out.push(b'-');
    push_digits(date.month(), 2, out);
    out.push(b'-');
    push_digits(date.day(), 2, out);
}

#[inline]
fn push_digits(mut value: u32, width: usize, out: &mut Vec<u8>) {
    let start = out.len();
    for _ in 0..width {
        out.push(b'0' + (value % 10) as u8);
        value /= 10;
    }
    out[start..].reverse();
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 exists");

/// A `Date32` (days since 1970-01-01), quoted.
pub fn write_date32(days: i32, out: &mut Vec<u8>) {
    match EPOCH.checked_add_signed(chrono::TimeDelta::days(i64::from(days))) {
        Some(date) => write_date(date, out),
        None => out.extend_from_slice(b"null"),
    }
}

/// A `Date64` (milliseconds since the epoch), quoted.
pub fn write_date64(milliseconds: i64, out: &mut Vec<u8>) {
    match DateTime::from_timestamp_millis(milliseconds) {
        Some(time) => write_date(time.date_naive(), out),
        None => out.extend_from_slice(b"null"),
    }
}

/// Milliseconds since the epoch of a timestamp in `unit`, rounded down (a
/// microsecond before the epoch is 1969-12-31T23:59:59.999).
fn milliseconds(value: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => value.saturating_mul(1000),
        TimeUnit::Millisecond => value,
        TimeUnit::Microsecond => value.div_euclid(1000),
        TimeUnit::Nanosecond => value.div_euclid(1_000_000),
    }
}

/// A timestamp, quoted: with a zone (an instant), in the session time zone
/// with its offset; without (a wall-clock time, Spark's TIMESTAMP_NTZ), as it is.
pub fn write_timestamp(
    value: i64,
    unit: TimeUnit,
    zone: Option<&SessionTimeZone>,
    out: &mut Vec<u8>,
) {
    let Some(utc) = DateTime::from_timestamp_millis(milliseconds(value, unit)) else {
        out.extend_from_slice(b"null");
        return;
    };
    out.push(b'"');
    match zone {
        Some(zone) => {
            let offset = zone.offset_seconds(&utc.naive_utc());
            let local = utc.naive_utc() + chrono::TimeDelta::seconds(i64::from(offset));
            push_date_time(&local, out);
            push_offset(offset, out);
        }
        None => push_date_time(&utc.naive_utc(), out),
    }
    out.push(b'"');
}

fn push_date_time(time: &NaiveDateTime, out: &mut Vec<u8>) {
    push_date(time.date(), out);
    out.push(b'T');
    push_digits(time.hour(), 2, out);
    out.push(b':');
    push_digits(time.minute(), 2, out);
    out.push(b':');
    push_digits(time.second(), 2, out);
    out.push(b'.');
    push_digits(time.nanosecond() / 1_000_000, 3, out);
}

/// `Z`, or `+01:00` (`+05:45`, `-03:00`; seconds only when the zone has them).
fn push_offset(seconds: i32, out: &mut Vec<u8>) {
    if seconds == 0 {
        out.push(b'Z');
        return;
    }
    out.push(if seconds < 0 { b'-' } else { b'+' });
    let seconds = seconds.unsigned_abs();
    push_digits(seconds / 3600, 2, out);
    out.push(b':');
    push_digits(seconds / 60 % 60, 2, out);
    if seconds % 60 != 0 {
        out.push(b':');
        push_digits(seconds % 60, 2, out);
    }
}

/// Bytes as a base64 string (the standard alphabet, padded), as Jackson writes binary.
pub fn write_base64(bytes: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.push(b'"');
    for chunk in bytes.chunks(3) {
        let word = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for position in 0..4 {
            if position <= chunk.len() {
                out.push(ALPHABET[(word >> (18 - 6 * position) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_as_jackson() {
        assert_eq!(
            text(|out| write_string("a\u{1}b\"c\\d\n\t\u{1f}/é\u{2028}", out)),
            "\"a\\u0001b\\\"c\\\\d\\n\\t\\u001F/é\u{2028}\""
        );
        assert_eq!(text(|out| write_string("plain", out)), "\"plain\"");
        assert_eq!(
            text(|out| write_string("\u{8}\u{c}\r", out)),
            "\"\\b\\f\\r\""
        );
    }

    #[test]
    fn floats_are_their_own_shortest_form() {
        assert_eq!(text(|out| write_f32(0.822_009_9, out)), "0.8220099");
        assert_eq!(
            text(|out| write_f64(f64::from(0.822_009_9f32), out)),
            "0.8220099210739136"
        );
        for value in [1e-5f32, 1e7, 3.4e38, 1e-45, -0.0, 0.1, 123456.79] {
            let (mut fast, mut reference) = (Vec::new(), Vec::new());
            write_f32(value, &mut fast);
            reference_f32(value, &mut reference);
            assert_eq!(fast, reference, "{value}");
            let parsed: f32 = String::from_utf8(fast).unwrap().parse().unwrap();
            assert_eq!(parsed.to_bits(), value.to_bits());
        }
    }

    #[test]
    fn java_spellings_are_the_same_from_either_digit_source() {
        let doubles = [
            0.0,
            -0.0,
            5e-324,
            1e-5,
            0.001,
            0.822_009_921_073_913_6,
            1e7,
            1e300,
        ];
        for value in doubles {
            assert_eq!(
                text(|out| write_java_f64(value, out)),
                text(|out| reference_java_f64(value, out)),
                "{value:e}"
            );
        }
        for value in [1e-45f32, 1e-5, 0.822_009_9, 1e7, 3.4e38] {
            assert_eq!(
                text(|out| write_java_f32(value, out)),
                text(|out| reference_java_f32(value, out)),
                "{value:e}"
            );
        }
    }

    #[test]
    fn decimals_as_big_decimal_to_string() {
        let decimal = |unscaled: &str, scale: i8| text(|out| write_decimal(unscaled, scale, out));
        assert_eq!(decimal("12300", 4), "1.2300");
        assert_eq!(decimal("-1", 4), "-0.0001");
        assert_eq!(decimal("0", 18), "0E-18");
        assert_eq!(decimal("123456789012", 18), "1.23456789012E-7");
        assert_eq!(decimal("1", 6), "0.000001");
        assert_eq!(decimal("1", 7), "1E-7");
        assert_eq!(decimal("42", 0), "42");
        assert_eq!(decimal("-123450", 2), "-1234.50");
    }

    #[test]
    fn dates_and_timestamps_as_spark() {
        assert_eq!(text(|out| write_date32(-165, out)), "\"1969-07-20\"");
        assert_eq!(text(|out| write_date32(-354_293, out)), "\"0999-12-24\"");
        let utc = SessionTimeZone::parse("UTC").unwrap();
        let paris = SessionTimeZone::parse("Europe/Paris").unwrap();
        let micros = 1_795_518_123_123_456; // 2026-11-24T11:02:03.123456Z
        assert_eq!(
            text(|out| write_timestamp(micros, TimeUnit::Microsecond, Some(&utc), out)),
            "\"2026-11-24T11:02:03.123Z\""
        );
        assert_eq!(
            text(|out| write_timestamp(micros, TimeUnit::Microsecond, Some(&paris), out)),
            "\"2026-11-24T12:02:03.123+01:00\""
        );
        assert_eq!(
            text(|out| write_timestamp(micros, TimeUnit::Microsecond, None, out)),
            "\"2026-11-24T11:02:03.123\""
        );
        assert_eq!(
            text(|out| write_timestamp(-1, TimeUnit::Microsecond, Some(&utc), out)),
            "\"1969-12-31T23:59:59.999Z\""
        );
    }

    #[test]
    fn binary_as_base64() {
        assert_eq!(
            text(|out| write_base64(b"\x00\x01hello", out)),
            "\"AAFoZWxsbw==\""
        );
        assert_eq!(text(|out| write_base64(b"", out)), "\"\"");
        assert_eq!(text(|out| write_base64(b"ab", out)), "\"YWI=\"");
    }
}
