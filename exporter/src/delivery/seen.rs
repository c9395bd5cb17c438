//! The `message_id`s a drain in any order has written: one bit per id from
//! the first expected, so its memory is the number of groups over eight
//! (750 KB for 60M predictions at K = 10), whatever order the queue is in.
//! Kept in `_drain.json` (base64 of the bits) so that a resumed drain drops
//! what an earlier run committed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of `message_id`s at or after `first`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenIds {
    first: u64,
    words: Vec<u64>,
    len: u64,
}

impl SeenIds {
    /// An empty set of ids from `first` on.
    pub fn new(first: u64) -> SeenIds {
        SeenIds {
            first,
            words: Vec::new(),
            len: 0,
        }
    }

    /// Ids in the set.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the set holds no id.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `id` is in the set; an id before `first` counts as seen (it
    /// comes before what the drain expects, as in an in-order drain).
    pub fn contains(&self, id: u64) -> bool {
        let Some(offset) = id.checked_sub(self.first) else {
            return true;
        };
        let word = (offset / 64) as usize;
        self.words
            .get(word)
            .is_some_and(|bits| bits & (1 << (offset % 64)) != 0)
    }

    /// Adds `id` (at or after `first`); true if it was not there.
    pub fn insert(&mut self, id: u64) -> bool {
        if self.contains(id) {
            return false;
        }
        let offset = id - self.first;
        let word = (offset / 64) as usize;
        if word >= self.words.len() {
            // Doubling: a queue read in id order grows the set one word at a time.
            self.words.resize((word + 1).max(self.words.len() * 2), 0);
        }
        self.words[word] |= 1 << (offset % 64);
        self.len += 1;
        true
    }

    /// The id after the highest in the set (`first` when empty).
    pub fn end(&self) -> u64 {
        let highest = self
            .words
            .iter()
            .enumerate()
            .rev()
            .find(|(_, bits)| **bits != 0)
            .map(|(word, bits)| word as u64 * 64 + 63 - u64::from(bits.leading_zeros()));
        highest.map_or(self.first, |offset| self.first + offset + 1)
    }

    /// Ids from `first` up to `end` (excluded) not in the set.
    pub fn missing_before(&self, end: u64) -> u64 {
        let span = end.saturating_sub(self.first);
        let full_words = (span / 64) as usize;
        let mut present: u64 = self
            .words
            .iter()
            .take(full_words)
            .map(|bits| u64::from(bits.count_ones()))
            .sum();
        let rest = span % 64;
        if rest > 0 {
            if let Some(bits) = self.words.get(full_words) {
                present += u64::from((bits & ((1 << rest) - 1)).count_ones());
            }
        }
        span - present
    }
}

/// On disk: the first id and the bits, little-endian words in base64.
#[derive(Serialize, Deserialize)]
struct SeenIdsOnDisk {
    first: u64,
    bits: String,
}

impl Serialize for SeenIds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let used = self.end().saturating_sub(self.first).div_ceil(64) as usize;
        let bytes: Vec<u8> = self.words[..used]
            .iter()
            .flat_map(|word| word.to_le_bytes())
            .collect();
        SeenIdsOnDisk {
            first: self.first,
            bits: STANDARD.encode(bytes),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SeenIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SeenIds, D::Error> {
        let on_disk = SeenIdsOnDisk::deserialize(deserializer)?;
        let bytes = STANDARD
            .decode(on_disk.bits)
            .map_err(serde::de::Error::custom)?;
        if bytes.len() % 8 != 0 {
            return Err(serde::de::Error::custom(
                "the seen message_ids are not whole 64-bit words",
            ));
        }
        let words: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|word| u64::from_le_bytes(word.try_into().expect("8 bytes")))
            .collect();
        let len = words.iter().map(|bits| u64::from(bits.count_ones())).sum();
        Ok(SeenIds {
            first: on_disk.first,
            words,
            len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_inserts_missing_and_end_in_any_order() {
        let mut seen = SeenIds::new(100);
        assert_eq!(seen.end(), 100);
        for id in [230, 100, 101, 163, 164, 230] {
            seen.insert(id);
        }
        assert_eq!(seen.len(), 5);
        assert!(seen.contains(99), "before the first is seen");
        assert!(seen.contains(163) && !seen.contains(162) && !seen.contains(231));
        assert_eq!(seen.end(), 231);
        assert_eq!(seen.missing_before(231), 131 - 5);
        assert_eq!(seen.missing_before(102), 0);
        assert_eq!(seen.missing_before(164), 61);
        assert_eq!(seen.missing_before(1000), 900 - 5);
    }

    #[test]
    fn round_trips_through_json() {
        let mut seen = SeenIds::new(7);
        for id in (7..5000).filter(|id| id % 3 != 0) {
            seen.insert(id);
        }
        let text = serde_json::to_string(&seen).unwrap();
        let back: SeenIds = serde_json::from_str(&text).unwrap();
        assert_eq!(back.len(), seen.len());
        assert_eq!(back.end(), seen.end());
        assert!((7..5000).all(|id| back.contains(id) == seen.contains(id)));
        assert!(serde_json::from_str::<SeenIds>(r#"{"first":0,"bits":"AAA="}"#).is_err());
    }
}
