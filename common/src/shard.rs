//! `--shard I/N`: one of N independent shares of a run, for running a job on
//! many machines. Generation shares part files, export shares groups; both cut
//! a range of work units the same way, so shard I of N always takes
//! `[floor(I * U / N), floor((I + 1) * U / N))` of `U` units.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Shard `index` of `count` (0-based). `0/1` is the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// Which share, from 0 to `count - 1`.
    pub index: u64,
    /// How many shares the work is cut into.
    pub count: u64,
}

impl Shard {
    /// The whole run: shard 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; fails unless `count >= 1` and `index < count`.
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 {
            return Err(format!(
                "{index}/{count}: the shard count must be at least 1"
            ));
        }
        if index >= count {
            return Err(format!(
                "{index}/{count}: shards are numbered from 0 to {} (the index comes first)",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// True for `0/1`.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// This shard's share of `units`: contiguous, in order, and the shares of
    /// `0/N .. N-1/N` cover `units` exactly once. Sizes differ by at most one.
    pub fn share(&self, units: Range<u64>) -> Range<u64> {
        let total = units.end.saturating_sub(units.start) as u128;
        let cut = |index: u64| units.start + (index as u128 * total / self.count as u128) as u64;
        cut(self.index)..cut(self.index + 1)
    }

    /// File-name tag of the shard, `00001-of-00004`: name order is shard order.
    pub fn tag(&self) -> String {
        format!("{:05}-of-{:05}", self.index, self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `I/N`, e.g. `0/4`.
    fn from_str(text: &str) -> Result<Shard, String> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("'{text}' is not I/N, e.g. 0/4 for the first of 4 shards"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("'{text}' is not I/N with whole numbers, e.g. 0/4"))
        };
        Shard::new(number(index)?, number(count)?)
    }
}

/// A file that could not be listed, read or parsed: what was being done, where, why.
pub type FileFailure = (&'static str, PathBuf, std::io::Error);

/// Every `_shard-*.json` of `dir` (the shard manifests of a generated dataset,
/// the records of an exported one), parsed, in name order, which is shard
/// order. A missing directory holds none.
pub fn read_shard_files<T: DeserializeOwned>(dir: &Path) -> Result<Vec<(PathBuf, T)>, FileFailure> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(("cannot list", dir.to_path_buf(), error)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| ("cannot list", dir.to_path_buf(), error))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("_shard-") && name.ends_with(".json") {
            paths.push(entry.path());
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(error) => return Err(("cannot read", path, error)),
            };
            match serde_json::from_str(&text) {
                Ok(value) => Ok((path, value)),
                Err(error) => {
                    let error = std::io::Error::new(std::io::ErrorKind::InvalidData, error);
                    Err(("cannot parse", path, error))
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_unit_once_in_order() {
        for units in [0u64, 1, 5, 30, 100_001] {
            for count in [1u64, 2, 3, 7, 64] {
                let mut next = 3;
                for index in 0..count {
                    let share = Shard::new(index, count).unwrap().share(3..3 + units);
                    assert_eq!(share.start, next, "{index}/{count} of {units}");
                    assert!(share.end - share.start <= units / count + 1);
                    assert!(share.end - share.start >= units / count);
                    next = share.end;
                }
                assert_eq!(next, 3 + units);
            }
        }
    }

    #[test]
    fn parsing_refuses_what_is_not_a_shard() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for (text, expected) in [
            ("3/2", "numbered from 0 to 1"),
            ("2/2", "numbered from 0 to 1"),
            ("0/0", "at least 1"),
            ("1", "is not I/N"),
            ("a/2", "whole numbers"),
            ("-1/2", "whole numbers"),
        ] {
            let error = text.parse::<Shard>().unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
        assert_eq!(Shard::new(1, 4).unwrap().tag(), "00001-of-00004");
    }
}
