//! Messages parsed the way verify reads them: a JSON array of objects whose
//! fields keep their order and borrow their text from the message where it
//! has no escapes, numbers kept apart from integers; no JSON trees built.

use std::borrow::Cow;
use std::path::Path;

use serde_json::Value;

/// A value of a prediction as the JSON parser saw it; text borrowed from the
/// message where it has no escapes.
#[derive(Debug)]
pub(super) enum Found<'a> {
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
pub(super) struct Key<'a>(Cow<'a, str>);

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
pub(super) struct Prediction<'a> {
    fields: Vec<(Cow<'a, str>, Found<'a>)>,
}

impl<'a> Prediction<'a> {
    /// The value of field `name`; `position` is where the schema puts it, tried first.
    pub(super) fn get(&self, position: usize, name: &str) -> Option<&Found<'a>> {
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
    pub(super) fn unexpected_field(&self, schema: &arrow_schema::Schema) -> Option<&str> {
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

/// `NaN`, `Infinity` or `-Infinity` where serde_json stopped (1-based line
/// and column of the character it could not take): what DuckDB writes for a
/// non-finite double, and JSON has no such token.
pub(super) fn bare_non_finite_at(text: &str, line: usize, column: usize) -> Option<&'static str> {
    let line_text = text.lines().nth(line.checked_sub(1)?)?;
    let start = line_text.char_indices().nth(column.checked_sub(1)?)?.0;
    let rest = &line_text[start..];
    ["NaN", "-Infinity", "Infinity"].into_iter().find(|token| {
        rest.starts_with(token) || rest.get(1..).is_some_and(|r| r.starts_with(token))
    })
}

/// Parses a message: a JSON array of objects.
pub(super) fn parse_message<'a>(
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
