//! A column of text of any Arrow string type (Utf8, LargeUtf8 as pandas 3
//! writes it, Utf8View, or a dictionary of any of them), read in place. Every
//! reader of ids or messages goes through it, so none of them assumes Utf8.

use arrow_array::cast::AsArray;
use arrow_array::{Array, GenericStringArray, StringViewArray};
use arrow_schema::DataType;

/// Text values of one column, without copying them.
pub enum TextColumn<'a> {
    /// Utf8.
    Utf8(&'a GenericStringArray<i32>),
    /// LargeUtf8.
    LargeUtf8(&'a GenericStringArray<i64>),
    /// Utf8View.
    Utf8View(&'a StringViewArray),
    /// A dictionary of text: `keys[row]` indexes `values`; `valid[row]` says
    /// whether the row has a value.
    Dictionary {
        /// Every row's key, as an index.
        keys: Vec<usize>,
        /// Whether every row has a value (the dictionary's logical nulls).
        valid: Vec<bool>,
        /// The dictionary's values.
        values: Box<TextColumn<'a>>,
    },
}

/// Whether `data_type` is text [`TextColumn`] reads.
pub fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

impl<'a> TextColumn<'a> {
    /// `array` as text, or `None` when it is not of a string type.
    pub fn new(array: &'a dyn Array) -> Option<TextColumn<'a>> {
        Some(match array.data_type() {
            DataType::Utf8 => TextColumn::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => TextColumn::LargeUtf8(array.as_string::<i64>()),
            DataType::Utf8View => TextColumn::Utf8View(array.as_string_view()),
            DataType::Dictionary(_, values) if is_text(values) => {
                let dictionary = array.as_any_dictionary();
                let valid = match array.logical_nulls() {
                    Some(nulls) => nulls.iter().collect(),
                    None => vec![true; array.len()],
                };
                TextColumn::Dictionary {
                    keys: dictionary.normalized_keys(),
                    valid,
                    values: Box::new(TextColumn::new(dictionary.values().as_ref())?),
                }
            }
            _ => return None,
        })
    }

    /// The text of `row`, `None` for a null.
    pub fn value(&self, row: usize) -> Option<&'a str> {
        match self {
            TextColumn::Utf8(values) => values.is_valid(row).then(|| values.value(row)),
            TextColumn::LargeUtf8(values) => values.is_valid(row).then(|| values.value(row)),
            TextColumn::Utf8View(values) => values.is_valid(row).then(|| values.value(row)),
            TextColumn::Dictionary {
                keys,
                valid,
                values,
            } => {
                if valid[row] {
                    values.value(keys[row])
                } else {
                    None
                }
            }
        }
    }

    /// Whether `row` is null.
    pub fn is_null(&self, row: usize) -> bool {
        self.value(row).is_none()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Int8Type;
    use arrow_array::{DictionaryArray, LargeStringArray, StringArray};

    use super::*;

    #[test]
    fn every_string_type_reads_the_same() {
        let texts = [Some("a"), None, Some("bé"), Some("a")];
        let utf8 = StringArray::from(texts.to_vec());
        let large = LargeStringArray::from(texts.to_vec());
        let view = StringViewArray::from(texts.to_vec());
        let dictionary: DictionaryArray<Int8Type> = texts.iter().copied().collect();
        let large_dictionary = DictionaryArray::<Int8Type>::try_new(
            dictionary.keys().clone(),
            Arc::new(LargeStringArray::from(
                dictionary
                    .values()
                    .as_string::<i32>()
                    .iter()
                    .collect::<Vec<_>>(),
            )),
        )
        .unwrap();
        let arrays: [&dyn Array; 5] = [&utf8, &large, &view, &dictionary, &large_dictionary];
        for array in arrays {
            let column = TextColumn::new(array).unwrap();
            let read: Vec<Option<&str>> = (0..texts.len()).map(|row| column.value(row)).collect();
            assert_eq!(read, texts, "{}", array.data_type());
            assert!(is_text(array.data_type()));
        }
        assert!(TextColumn::new(&arrow_array::Int32Array::from(vec![1])).is_none());
        assert!(!is_text(&DataType::Binary));
    }
}
