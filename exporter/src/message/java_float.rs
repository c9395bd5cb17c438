//! Floats and doubles as Java's `Float.toString` and `Double.toString` write
//! them since JDK 19 (Raffaello Giulietti's specification, JDK-4511638), which
//! is what Spark's `to_json` writes on Java 21: the shortest decimal that
//! rounds to the value, laid out as Java does —
//!
//! * plain with at least one fractional digit when 10^-3 <= |v| < 10^7
//!   (`0.001`, `123.0`, `9999999.0`);
//! * otherwise one digit, a point, at least one more digit, `E` and the
//!   exponent (`1.0E-4`, `1.0E7`, `4.9E-324`);
//! * when the shortest decimal has one digit, the closest decimal of one or
//!   two digits that rounds to the value (`4.9E-324` where the shortest form
//!   is `5e-324`; it matters only for subnormals).
//!
//! Java 17's `Double.toString` is not always shortest (it writes
//! `7.1474714319185088E17` for `7.147471431918509E17`), so only Spark on
//! Java 19 or newer writes exactly these bytes.

/// A finite number's decimal significand and exponent, read back from a
/// shortest round-trip text (`-1.25e-7`, `0.00125`, `125.0`): its digits
/// without leading or trailing zeros, and the power of ten of the first.
#[derive(Debug, PartialEq)]
struct Decimal {
    negative: bool,
    /// The significant digits, ASCII; none for zero.
    digits: [u8; 24],
    length: usize,
    /// The power of ten of the first digit: 0.00125 has -3.
    exponent: i32,
}

impl Decimal {
    /// Reads a decimal text of the kind Rust's float formatters write.
    fn parse(text: &[u8]) -> Decimal {
        let (negative, text) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        let (mantissa, power) = match text.iter().position(|&byte| byte == b'e' || byte == b'E') {
            Some(at) => {
                let exponent = std::str::from_utf8(&text[at + 1..])
                    .ok()
                    .and_then(|exponent| exponent.parse::<i32>().ok())
                    .expect("a float formatter writes a decimal exponent");
                (&text[..at], exponent)
            }
            None => (text, 0),
        };
        let mut decimal = Decimal {
            negative,
            digits: [0; 24],
            length: 0,
            exponent: 0,
        };
        // Digits before the point, and where the first significant one was.
        let (mut integer_digits, mut seen_point, mut position) = (0i32, false, 0i32);
        let mut first_significant = None;
        for &byte in mantissa {
            if byte == b'.' {
                seen_point = true;
                continue;
            }
            if !seen_point {
                integer_digits += 1;
            }
            if byte != b'0' && first_significant.is_none() {
                first_significant = Some(position);
            }
            if first_significant.is_some() {
                decimal.digits[decimal.length] = byte;
                decimal.length += 1;
            }
            position += 1;
        }
        while decimal.length > 0 && decimal.digits[decimal.length - 1] == b'0' {
            decimal.length -= 1;
        }
        if let Some(first) = first_significant {
            decimal.exponent = integer_digits - first - 1 + power;
        }
        decimal
    }

    /// Appends the decimal laid out as Java's `Double.toString` does.
    fn write_java(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        let digits = &self.digits[..self.length];
        if digits.is_empty() {
            out.extend_from_slice(b"0.0");
            return;
        }
        let exponent = self.exponent;
        if (-3..7).contains(&exponent) {
            if exponent < 0 {
                out.extend_from_slice(b"0.");
                out.resize(out.len() + (-exponent - 1) as usize, b'0');
                out.extend_from_slice(digits);
            } else {
                let integer = exponent as usize + 1;
                if digits.len() <= integer {
                    out.extend_from_slice(digits);
                    out.resize(out.len() + integer - digits.len(), b'0');
                    out.extend_from_slice(b".0");
                } else {
                    out.extend_from_slice(&digits[..integer]);
                    out.push(b'.');
                    out.extend_from_slice(&digits[integer..]);
                }
            }
        } else {
            out.push(digits[0]);
            out.push(b'.');
            if digits.len() == 1 {
                out.push(b'0');
            } else {
                out.extend_from_slice(&digits[1..]);
            }
            out.push(b'E');
            out.extend_from_slice(exponent.to_string().as_bytes());
        }
    }
}

/// Appends `value` (finite) as Java's `Double.toString` (an `f64`) or
/// `Float.toString` (an `f32`) writes it, from its shortest round-trip text
/// in its own type, `shortest` (ryu's or zmij's).
pub fn write<F>(value: F, shortest: &[u8], out: &mut Vec<u8>)
where
    F: Copy + PartialEq + std::fmt::LowerExp + std::str::FromStr,
{
    let mut decimal = Decimal::parse(shortest);
    if decimal.length == 1 {
        // The closest decimal of two digits, when it rounds to the value
        // too. A value of one digit is not zero, so `==` is exact here.
        let two = format!("{value:.1e}");
        if two.parse::<F>().is_ok_and(|back| back == value) {
            decimal = Decimal::parse(two.as_bytes());
        }
    }
    decimal.write_java(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `value` as Java writes it, from ryu's digits.
    fn java<F>(value: F) -> String
    where
        F: ryu::Float + PartialEq + std::fmt::LowerExp + std::str::FromStr,
    {
        let mut out = Vec::new();
        let shortest = ryu::Buffer::new().format_finite(value).as_bytes().to_vec();
        write(value, &shortest, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// What Java 21's `Double.toString` returns (asked through Spark's py4j).
    #[test]
    fn doubles_as_java_21_writes_them() {
        for (value, expected) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (0.001, "0.001"),
            (0.000_999, "9.99E-4"),
            (1e-5, "1.0E-5"),
            (9_999_999.0, "9999999.0"),
            (10_000_000.0, "1.0E7"),
            (123_456_789.0, "1.23456789E8"),
            (1e300, "1.0E300"),
            (1e23, "1.0E23"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (5e-324, "4.9E-324"),
            (1e-323, "9.9E-324"),
            (0.822_009_921_073_913_6, "0.8220099210739136"),
            (7.147_471_431_918_509e17, "7.147471431918509E17"),
        ] {
            assert_eq!(java(value), expected, "{value:e}");
        }
    }

    /// What Java 21's `Float.toString` returns (asked through Spark's py4j).
    #[test]
    fn floats_as_java_21_writes_them() {
        for (value, expected) in [
            (0.822_009_9f32, "0.8220099"),
            (1e-5, "1.0E-5"),
            (1e7, "1.0E7"),
            (3.4e38, "3.4E38"),
            (f32::MAX, "3.4028235E38"),
            (1e-45, "1.4E-45"),
            (-0.0, "-0.0"),
            (123_456.79, "123456.79"),
        ] {
            assert_eq!(java(value), expected, "{value:e}");
        }
    }

    #[test]
    fn every_layout_reads_back_the_same_value() {
        for value in [1.25e-7, 0.00125, 125.0, 1e16, 6.02e23, 3.0, 0.5] {
            let text = java(value);
            let back: f64 = text.parse().unwrap();
            assert_eq!(back.to_bits(), f64::to_bits(value), "{text}");
        }
    }
}
