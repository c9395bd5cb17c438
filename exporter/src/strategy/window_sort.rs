//! `window-sort`: the Databricks knowledge-base approach, reproduced so that
//! its cost can be measured. Every partition (here a row group) tags its rows
//! with `partition << 33 | row_in_partition` (`monotonically_increasing_id`);
//! all rows are brought to one place and sorted by that id (the window with no
//! partitioning), numbered (`row_number`), then sorted again by group (the
//! `groupBy`'s shuffle) and emitted as messages. Rows are held in Arrow's row
//! format; past `--memory-budget` each sort spills sorted runs to disk and
//! merges them, as Spark does. Memory: the budget, whatever the data size.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use arrow_row::{RowConverter, SortField};
use predbench_common::direct_file::DirectFile;

use crate::chunk::groups_per_chunk;
use crate::dataset::Dataset;
use crate::error::{ExportError, Result};
use crate::grouping::GroupLayout;
use crate::message::MessageChunk;
use crate::sink::{MessageSink, SinkSummary};

use super::ExportOptions;
use super::rayon_parallel::encode_in_parallel;

/// Bits of `row_in_partition` in Spark's `monotonically_increasing_id`.
const PARTITION_SHIFT: u32 = 33;

/// Bytes of bookkeeping per buffered row besides its encoded bytes.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<(u128, usize, u32)>();

pub(super) fn run<S: MessageSink>(
    dataset: &Dataset,
    layout: &GroupLayout,
    options: &ExportOptions,
    sink: S,
    progress: &mut dyn FnMut(u64),
) -> Result<(SinkSummary, u64)> {
    let arrow_error = |context: &str| {
        let context = context.to_string();
        move |cause| ExportError::Arrow { context, cause }
    };
    let fields = dataset
        .schema
        .fields()
        .iter()
        .map(|field| SortField::new(field.data_type().clone()))
        .collect();
    let converter = RowConverter::new(fields).map_err(arrow_error(
        "window-sort cannot hold this schema in Arrow's row format",
    ))?;
    let spill_parent = options
        .spill_directory
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let spill_directory = tempfile::Builder::new()
        .prefix("predbench-spill-")
        .tempdir_in(&spill_parent)
        .map_err(|e| ExportError::io("cannot create a spill directory in", &spill_parent, e))?;
    let sorter_budget = (options.memory_budget / 2).max(64 << 10) as usize;

    // 1. monotonically_increasing_id, then the window's global sort by it.
    let mut by_tag = ExternalSorter::new(sorter_budget, spill_directory.path(), "window");
    for (partition, group) in dataset.row_groups.iter().enumerate() {
        // Read each partition in slices so that only the sorter's buffers grow.
        let mut cursor = dataset.cursor(group.first_row..group.first_row + group.rows, 65_536);
        let mut row_in_partition = 0u128;
        while row_in_partition < u128::from(group.rows) {
            let batch = cursor.take(65_536)?;
            let rows = converter
                .convert_columns(batch.columns())
                .map_err(arrow_error("cannot convert rows"))?;
            for row in rows.iter() {
                let tag = ((partition as u128) << PARTITION_SHIFT) | row_in_partition;
                by_tag.push(tag, row.as_ref())?;
                row_in_partition += 1;
            }
        }
    }
    let (sorted_by_tag, mut spilled_bytes) = by_tag.finish()?;

    // 2. row_number() over that order, then the groupBy's sort by (group, id).
    let mut by_group = ExternalSorter::new(sorter_budget, spill_directory.path(), "group");
    for (sequential_id, entry) in sorted_by_tag.enumerate() {
        let (_, row) = entry?;
        let sequential_id = sequential_id as u64;
        let key = (u128::from(layout.group_of(sequential_id)) << 64) | u128::from(sequential_id);
        by_group.push(key, &row)?;
    }
    let (sorted_by_group, group_spilled_bytes) = by_group.finish()?;
    spilled_bytes += group_spilled_bytes;

    // 3. collect_list + to_json: whole groups into chunks, encoded in parallel.
    let chunks = GroupChunks {
        rows: sorted_by_group,
        schema: dataset.schema.clone(),
        converter: &converter,
        groups_per_chunk: groups_per_chunk(layout, options.chunk_rows) as usize,
        held: None,
    };
    encode_in_parallel(chunks, options, &sink, progress)?;
    drop(spill_directory);
    Ok((sink.finish()?, spilled_bytes))
}

/// Turns rows sorted by `(group, sequential id)` into chunks of whole groups.
struct GroupChunks<'a> {
    rows: SortedRows,
    schema: arrow_schema::SchemaRef,
    converter: &'a RowConverter,
    /// Groups per chunk, as the other strategies cut them, so that sinks
    /// that record chunk boundaries (Parquet row groups) write the same bytes.
    groups_per_chunk: usize,
    /// A row read past the end of the previous chunk.
    held: Option<(u128, Vec<u8>)>,
}

impl Iterator for GroupChunks<'_> {
    type Item = Result<MessageChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut keys: Vec<u128> = Vec::new();
        let mut rows: Vec<Vec<u8>> = Vec::new();
        let mut ends: Vec<u32> = Vec::new();
        loop {
            let next = match self.held.take() {
                Some(entry) => Some(Ok(entry)),
                None => self.rows.next(),
            };
            let (key, row) = match next {
                None => break,
                Some(Err(error)) => return Some(Err(error)),
                Some(Ok(entry)) => entry,
            };
            let group = key >> 64;
            if let Some(&last) = keys.last()
                && last >> 64 != group
            {
                ends.push(keys.len() as u32);
                if ends.len() == self.groups_per_chunk {
                    self.held = Some((key, row));
                    break;
                }
            }
            keys.push(key);
            rows.push(row);
        }
        if keys.is_empty() {
            return None;
        }
        if ends.last() != Some(&(keys.len() as u32)) {
            ends.push(keys.len() as u32);
        }
        let parser = self.converter.parser();
        let columns = self
            .converter
            .convert_rows(rows.iter().map(|row| parser.parse(row)));
        let columns = match columns {
            Ok(columns) => columns,
            Err(cause) => {
                return Some(Err(ExportError::Arrow {
                    context: "cannot convert sorted rows back to columns".to_string(),
                    cause,
                }));
            }
        };
        let schema = self.schema.clone();
        Some(
            arrow_array::RecordBatch::try_new(schema, columns)
                .map_err(|cause| ExportError::Arrow {
                    context: "cannot rebuild a batch from sorted rows".to_string(),
                    cause,
                })
                .map(|batch| MessageChunk {
                    batch,
                    sequential_ids: keys.iter().map(|key| *key as u64).collect(),
                    order: (0..keys.len() as u32).collect(),
                    ends,
                }),
        )
    }
}

/// Sorts `(key, bytes)` records in memory up to a budget, spilling sorted runs beyond it.
struct ExternalSorter {
    directory: PathBuf,
    name: &'static str,
    arena: Vec<u8>,
    entries: Vec<(u128, usize, u32)>,
    runs: Vec<PathBuf>,
    spilled_bytes: u64,
}

impl ExternalSorter {
    fn new(budget: usize, directory: &Path, name: &'static str) -> Self {
        ExternalSorter {
            directory: directory.to_path_buf(),
            name,
            arena: Vec::with_capacity(budget / 8 * 7),
            entries: Vec::with_capacity(budget / 8 / ENTRY_OVERHEAD),
            runs: Vec::new(),
            spilled_bytes: 0,
        }
    }

    /// Adds a record, spilling first if it does not fit. The buffers are
    /// allocated once at 7/8 (bytes) and 1/8 (keys) of the budget and never
    /// grow, so a reallocation cannot briefly double the memory.
    fn push(&mut self, key: u128, bytes: &[u8]) -> Result<()> {
        let arena_full = self.arena.len() + bytes.len() > self.arena.capacity();
        let entries_full = self.entries.len() == self.entries.capacity();
        if !self.entries.is_empty() && (arena_full || entries_full) {
            self.spill()?;
        }
        self.entries
            .push((key, self.arena.len(), bytes.len() as u32));
        self.arena.extend_from_slice(bytes);
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        self.entries.sort_unstable_by_key(|entry| entry.0);
        let path = self
            .directory
            .join(format!("{}-run-{:05}.bin", self.name, self.runs.len()));
        // Past the page cache: a run is read back once, much later.
        let mut writer = DirectFile::create(&path)
            .map_err(|e| ExportError::io("cannot create spill file", &path, e))?;
        let write_error = |e| ExportError::io("cannot write spill file", &path, e);
        for &(key, offset, length) in &self.entries {
            writer.write_all(&key.to_le_bytes()).map_err(write_error)?;
            writer
                .write_all(&length.to_le_bytes())
                .map_err(write_error)?;
            writer
                .write_all(&self.arena[offset..offset + length as usize])
                .map_err(write_error)?;
        }
        writer.finish().map_err(write_error)?;
        self.spilled_bytes += (self.arena.len() + self.entries.len() * 20) as u64;
        self.runs.push(path);
        self.arena.clear();
        self.entries.clear();
        Ok(())
    }

    /// Every record in key order (from memory if nothing spilled, else a
    /// merge of the runs) and the bytes spilled.
    fn finish(mut self) -> Result<(SortedRows, u64)> {
        if self.runs.is_empty() {
            self.entries.sort_unstable_by_key(|entry| entry.0);
            let rows = SortedRows {
                source: SortedSource::Memory {
                    arena: std::mem::take(&mut self.arena),
                    entries: std::mem::take(&mut self.entries).into_iter(),
                },
            };
            return Ok((rows, 0));
        }
        if !self.entries.is_empty() {
            self.spill()?;
        }
        let mut readers = Vec::with_capacity(self.runs.len());
        let mut heap = BinaryHeap::new();
        for (index, path) in self.runs.iter().enumerate() {
            let file =
                File::open(path).map_err(|e| ExportError::io("cannot open spill file", path, e))?;
            let mut reader = RunReader {
                reader: BufReader::with_capacity(1 << 20, file),
                path: path.clone(),
            };
            if let Some((key, bytes)) = reader.next_record()? {
                heap.push(Reverse((key, index, bytes)));
            }
            readers.push(reader);
        }
        let rows = SortedRows {
            source: SortedSource::Merge { readers, heap },
        };
        Ok((rows, self.spilled_bytes))
    }
}

struct RunReader {
    reader: BufReader<File>,
    path: PathBuf,
}

impl RunReader {
    fn next_record(&mut self) -> Result<Option<(u128, Vec<u8>)>> {
        let mut key = [0u8; 16];
        match self.reader.read_exact(&mut key) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(ExportError::io("cannot read spill file", &self.path, e)),
        }
        let mut length = [0u8; 4];
        self.reader
            .read_exact(&mut length)
            .map_err(|e| ExportError::io("cannot read spill file", &self.path, e))?;
        let mut bytes = vec![0u8; u32::from_le_bytes(length) as usize];
        self.reader
            .read_exact(&mut bytes)
            .map_err(|e| ExportError::io("cannot read spill file", &self.path, e))?;
        Ok(Some((u128::from_le_bytes(key), bytes)))
    }
}

enum SortedSource {
    Memory {
        arena: Vec<u8>,
        entries: std::vec::IntoIter<(u128, usize, u32)>,
    },
    Merge {
        readers: Vec<RunReader>,
        heap: BinaryHeap<Reverse<(u128, usize, Vec<u8>)>>,
    },
}

/// Records in ascending key order.
struct SortedRows {
    source: SortedSource,
}

impl Iterator for SortedRows {
    type Item = Result<(u128, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            SortedSource::Memory { arena, entries } => {
                entries.next().map(|(key, offset, length)| {
                    Ok((key, arena[offset..offset + length as usize].to_vec()))
                })
            }
            SortedSource::Merge { readers, heap } => {
                let Reverse((key, index, bytes)) = heap.pop()?;
                match readers[index].next_record() {
                    Ok(Some((next_key, next_bytes))) => {
                        heap.push(Reverse((next_key, index, next_bytes)))
                    }
                    Ok(None) => {}
                    Err(error) => return Some(Err(error)),
                }
                Some(Ok((key, bytes)))
            }
        }
    }
}
