//! Where verify reads an export's messages: a Parquet file or a directory of
//! Parquet part files (Spark's layout), whose first column holds the messages
//! as any Arrow string type, or an NDJSON file; handed out as runs of
//! consecutive messages that the workers read and check.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_schema::DataType;

use super::MESSAGES_PER_BATCH;
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};

/// The messages of an export, in order: a Parquet file or a directory of
/// Parquet part files (Spark's layout: name order, `_SUCCESS` and `.crc`
/// skipped), whose first column holds the messages (Utf8, LargeUtf8 or
/// Utf8View) and whose ranges any worker can read; or an NDJSON file, read
/// line by line in order.
pub(super) struct MessageSource {
    pub(super) path: PathBuf,
    parquet: Option<Dataset>,
}

/// A run of consecutive messages: a range of a Parquet export, read by the
/// worker that checks it; messages already read (from a Parquet export whose
/// row groups are too large to read by range); or NDJSON lines.
pub(super) enum MessageRun {
    Range(Range<u64>),
    Read(RecordBatch),
    Lines(Vec<String>),
}

impl MessageRun {
    pub(super) fn len(&self) -> usize {
        match self {
            MessageRun::Range(range) => (range.end - range.start) as usize,
            MessageRun::Read(batch) => batch.num_rows(),
            MessageRun::Lines(lines) => lines.len(),
        }
    }
}

/// Exports whose row groups hold up to this many messages (predbench's hold
/// a chunk's, 1,639) are read by range on the workers; larger ones (DuckDB
/// writes 122,880 rows a row group, Spark 128 MB) in order by one cursor,
/// since a range from the middle of a row group is reached by reading every
/// page before it (measured: verifying DuckDB's 6M-row export took 35 s by
/// range, against 11 s for the others).
const MAX_ROW_GROUP_READ_BY_RANGE: u64 = 4 * MESSAGES_PER_BATCH as u64;

/// Hands out [`MessageRun`]s in order.
pub(super) struct MessageRuns<'a> {
    next: u64,
    /// Messages in a Parquet export; `None` for NDJSON.
    total: Option<u64>,
    /// Reads a Parquet export with large row groups in order.
    cursor: Option<crate::dataset::RowCursor<'a>>,
    lines: Option<std::io::Lines<BufReader<File>>>,
    path: PathBuf,
}

impl MessageRuns<'_> {
    /// Index of the first message and the next run of at most `count`
    /// messages (empty after the last).
    pub(super) fn take(&mut self, count: usize) -> Result<(u64, MessageRun)> {
        let first = self.next;
        let run = match (self.total, &mut self.cursor, &mut self.lines) {
            (Some(total), Some(cursor), _) => {
                let wanted = (total - first).min(count as u64) as usize;
                MessageRun::Read(cursor.take(wanted)?)
            }
            (Some(total), None, _) => {
                let end = (first + count as u64).min(total);
                MessageRun::Range(first..end)
            }
            (None, _, Some(lines)) => {
                let mut taken = Vec::with_capacity(count);
                for line in lines.by_ref().take(count) {
                    taken.push(line.map_err(|e| ExportError::io("cannot read", &self.path, e))?);
                }
                MessageRun::Lines(taken)
            }
            (None, _, None) => MessageRun::Lines(Vec::new()),
        };
        self.next += run.len() as u64;
        Ok((first, run))
    }
}

/// The first column of `batch` (a string column of any kind) as texts; a
/// null message reads as `null`.
fn string_values(batch: &RecordBatch) -> Vec<&str> {
    fn text(value: Option<&str>) -> &str {
        value.unwrap_or("null")
    }
    let column = batch.column(0);
    if let Some(strings) = column.as_string_opt::<i32>() {
        strings.iter().map(text).collect()
    } else if let Some(strings) = column.as_string_opt::<i64>() {
        strings.iter().map(text).collect()
    } else {
        column.as_string_view().iter().map(text).collect()
    }
}

impl MessageSource {
    pub(super) fn open(path: &Path) -> Result<MessageSource> {
        // A directory holds parts; a file is Parquet by its magic, or by its
        // name: a `.parquet` file without the magic is a damaged one, not NDJSON.
        let named_parquet = path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("parquet"));
        let is_parquet = path.is_dir() || named_parquet || {
            let mut magic = [0u8; 4];
            let mut file = File::open(path).map_err(|e| ExportError::io("cannot open", path, e))?;
            file.read_exact(&mut magic).is_ok() && &magic == b"PAR1"
        };
        let parquet = if is_parquet {
            let dataset = Dataset::open(path)?;
            let first = dataset.schema.field(0);
            if !matches!(
                first.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) {
                return Err(ExportError::NotParquet {
                    path: path.to_path_buf(),
                    reason: format!(
                        "its first column {} is {}, not a string of messages",
                        first.name(),
                        first.data_type()
                    ),
                });
            }
            Some(dataset)
        } else {
            None
        };
        Ok(MessageSource {
            path: path.to_path_buf(),
            parquet,
        })
    }

    pub(super) fn runs(&self) -> Result<MessageRuns<'_>> {
        let lines = match &self.parquet {
            Some(_) => None,
            None => {
                let file = File::open(&self.path)
                    .map_err(|e| ExportError::io("cannot open", &self.path, e))?;
                Some(BufReader::with_capacity(1 << 20, file).lines())
            }
        };
        let cursor = self
            .parquet
            .as_ref()
            .filter(|dataset| {
                dataset
                    .row_groups
                    .iter()
                    .any(|group| group.rows > MAX_ROW_GROUP_READ_BY_RANGE)
            })
            .map(|dataset| dataset.cursor(0..dataset.rows, MESSAGES_PER_BATCH));
        Ok(MessageRuns {
            next: 0,
            total: self.parquet.as_ref().map(|dataset| dataset.rows),
            cursor,
            lines,
            path: self.path.clone(),
        })
    }

    /// The texts of `run`; a range is read into `batch`, which they borrow.
    pub(super) fn texts<'a>(
        &self,
        run: &'a MessageRun,
        batch: &'a mut Option<RecordBatch>,
    ) -> Result<Vec<&'a str>> {
        match (run, &self.parquet) {
            (MessageRun::Lines(lines), _) => Ok(lines.iter().map(String::as_str).collect()),
            (MessageRun::Read(read), _) => Ok(string_values(read)),
            (MessageRun::Range(range), Some(dataset)) => {
                let read = batch.insert(dataset.read_rows(range.clone())?);
                Ok(string_values(read))
            }
            (MessageRun::Range(_), None) => unreachable!("ranges come from Parquet exports"),
        }
    }
}
