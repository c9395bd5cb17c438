//! Dataset discovery and reading: a Parquet file or a directory of them, rows
//! numbered in file order from the footers alone, and cursors that read any
//! range of sequential ids.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};

use crate::error::{ExportError, Result};

/// One Parquet file of a dataset.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// Path of the file.
    pub path: PathBuf,
    /// Its footer, read once.
    pub metadata: ArrowReaderMetadata,
}

/// Where a row group sits in the dataset: known from the footers before any row is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowGroupOffset {
    /// Index of the file in [`Dataset::files`].
    pub file: usize,
    /// Index of the row group inside its file.
    pub row_group: usize,
    /// Sequential id of its first row.
    pub first_row: u64,
    /// Number of rows.
    pub rows: u64,
}

/// A dataset: its files in name order, one schema, and every row group's offset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The path the user gave.
    pub root: PathBuf,
    /// Parquet files in dataset order.
    pub files: Vec<DataFile>,
    /// The schema every file shares.
    pub schema: SchemaRef,
    /// Every row group in dataset order.
    pub row_groups: Vec<RowGroupOffset>,
    /// Total rows, N.
    pub rows: u64,
    /// Total bytes of the files.
    pub bytes: u64,
}

const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// Checks the magic bytes at both ends of `path`.
fn check_parquet_magic(path: &Path) -> Result<u64> {
    let mut file = File::open(path).map_err(|e| ExportError::io("cannot open", path, e))?;
    let length = file
        .metadata()
        .map_err(|e| ExportError::io("cannot stat", path, e))?
        .len();
    let not_parquet = |reason: &str| ExportError::NotParquet {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if length < 12 {
        return Err(not_parquet(&format!("only {length} bytes long")));
    }
    let mut head = [0u8; 4];
    file.read_exact(&mut head)
        .map_err(|e| ExportError::io("cannot read", path, e))?;
    if &head != PARQUET_MAGIC {
        return Err(not_parquet("no PAR1 magic at the start"));
    }
    let mut tail = [0u8; 4];
    file.seek(SeekFrom::End(-4))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| ExportError::io("cannot read", path, e))?;
    if &tail != PARQUET_MAGIC {
        return Err(not_parquet("no PAR1 magic at the end (truncated?)"));
    }
    Ok(length)
}

/// True for names a dataset directory may hold that are not data (`_SUCCESS`, `.crc`, `_manifest.json`).
fn is_hidden(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

/// Lists the data files of `root`: itself if a file, else its non-hidden files in name order.
fn discover(root: &Path) -> Result<Vec<PathBuf>> {
    let metadata = std::fs::metadata(root).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ExportError::MissingInput(root.to_path_buf())
        } else {
            ExportError::io("cannot read", root, e)
        }
    })?;
    if metadata.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut files = Vec::new();
    let entries = std::fs::read_dir(root).map_err(|e| ExportError::io("cannot list", root, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ExportError::io("cannot list", root, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry
            .file_type()
            .map(|kind| kind.is_file())
            .unwrap_or(false);
        if is_file && !is_hidden(&name) {
            files.push(entry.path());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(ExportError::NoParquetFiles(root.to_path_buf()));
    }
    Ok(files)
}

impl Dataset {
    /// Opens the dataset at `root`: checks every file's magic bytes, reads
    /// every footer, checks the schemas agree and numbers the row groups.
    pub fn open(root: &Path) -> Result<Dataset> {
        let mut files = Vec::new();
        let mut row_groups = Vec::new();
        let mut rows = 0u64;
        let mut bytes = 0u64;
        for path in discover(root)? {
            bytes += check_parquet_magic(&path)?;
            let file = File::open(&path).map_err(|e| ExportError::io("cannot open", &path, e))?;
            let metadata =
                ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|cause| {
                    ExportError::NotParquet {
                        path: path.clone(),
                        reason: cause.to_string(),
                    }
                })?;
            if let Some(first) = files.first() {
                check_same_schema(first, &path, &metadata)?;
            }
            let index = files.len();
            for (row_group, group) in metadata.metadata().row_groups().iter().enumerate() {
                let group_rows = group.num_rows() as u64;
                row_groups.push(RowGroupOffset {
                    file: index,
                    row_group,
                    first_row: rows,
                    rows: group_rows,
                });
                rows += group_rows;
            }
            files.push(DataFile { path, metadata });
        }
        let schema = files[0].metadata.schema().clone();
        Ok(Dataset {
            root: root.to_path_buf(),
            files,
            schema,
            row_groups,
            rows,
            bytes,
        })
    }

    /// A cursor over the rows `rows`, reading at most `batch_rows` rows per decode.
    pub fn cursor(&self, rows: Range<u64>, batch_rows: usize) -> RowCursor<'_> {
        let first = self
            .row_groups
            .partition_point(|group| group.first_row + group.rows <= rows.start);
        RowCursor {
            dataset: self,
            next_group: first,
            end: rows.end,
            position: rows.start,
            batch_rows: batch_rows.max(1),
            reader: None,
            pending: Pending::default(),
        }
    }

    /// Reads the rows `rows` into one batch.
    pub fn read_rows(&self, rows: Range<u64>) -> Result<RecordBatch> {
        let count = (rows.end - rows.start) as usize;
        self.cursor(rows, 65_536).take(count)
    }
}

fn check_same_schema(first: &DataFile, path: &Path, metadata: &ArrowReaderMetadata) -> Result<()> {
    let expected = first.metadata.schema();
    let found = metadata.schema();
    let mismatch = |difference: String| ExportError::SchemaMismatch {
        first: first.path.clone(),
        file: path.to_path_buf(),
        difference,
    };
    if expected.fields().len() != found.fields().len() {
        return Err(mismatch(format!(
            "{} columns instead of {}",
            found.fields().len(),
            expected.fields().len()
        )));
    }
    for (want, got) in expected.fields().iter().zip(found.fields()) {
        if want.name() != got.name() || want.data_type() != got.data_type() {
            return Err(mismatch(format!(
                "column {}: {} where {} has {}: {}",
                got.name(),
                got.data_type(),
                first.path.display(),
                want.name(),
                want.data_type()
            )));
        }
    }
    Ok(())
}

/// Reads a range of sequential ids in order, across row groups and files.
pub struct RowCursor<'a> {
    dataset: &'a Dataset,
    next_group: usize,
    end: u64,
    /// Sequential id of the next row the reader yields.
    position: u64,
    batch_rows: usize,
    reader: Option<(ParquetRecordBatchReader, usize)>,
    pending: Pending,
}

impl RowCursor<'_> {
    /// Sequential id of the next row [`RowCursor::take`] returns.
    pub fn position(&self) -> u64 {
        self.position - self.pending.rows as u64
    }

    fn open_next_group(&mut self) -> Result<bool> {
        let Some(group) = self.dataset.row_groups.get(self.next_group).copied() else {
            return Ok(false);
        };
        if group.first_row >= self.end {
            return Ok(false);
        }
        self.next_group += 1;
        let file = &self.dataset.files[group.file];
        let skip = self.position.saturating_sub(group.first_row) as usize;
        let select =
            ((group.first_row + group.rows).min(self.end) - group.first_row) as usize - skip;
        let location = format!(
            "row group {}, rows {}..{}",
            group.row_group,
            group.first_row,
            group.first_row + group.rows
        );
        let handle =
            File::open(&file.path).map_err(|e| ExportError::io("cannot open", &file.path, e))?;
        let mut selectors = Vec::with_capacity(2);
        if skip > 0 {
            selectors.push(RowSelector::skip(skip));
        }
        selectors.push(RowSelector::select(select));
        let reader =
            ParquetRecordBatchReaderBuilder::new_with_metadata(handle, file.metadata.clone())
                .with_row_groups(vec![group.row_group])
                .with_row_selection(RowSelection::from(selectors))
                .with_batch_size(self.batch_rows)
                .build()
                .map_err(|cause| ExportError::parquet(&file.path, location, cause))?;
        self.reader = Some((reader, self.next_group - 1));
        Ok(true)
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if self.position >= self.end {
                return Ok(None);
            }
            if self.reader.is_none() && !self.open_next_group()? {
                return Ok(None);
            }
            let (reader, group_index) = self.reader.as_mut().expect("a reader is open");
            match reader.next() {
                Some(Ok(batch)) => {
                    self.position += batch.num_rows() as u64;
                    return Ok(Some(batch));
                }
                Some(Err(cause)) => {
                    let group = self.dataset.row_groups[*group_index];
                    let file = &self.dataset.files[group.file];
                    return Err(ExportError::Arrow {
                        context: format!(
                            "cannot read {} (row group {}, rows {}..{})",
                            file.path.display(),
                            group.row_group,
                            group.first_row,
                            group.first_row + group.rows
                        ),
                        cause,
                    });
                }
                None => self.reader = None,
            }
        }
    }

    /// Returns the next `count` rows (fewer only at the end of the range).
    pub fn take(&mut self, count: usize) -> Result<RecordBatch> {
        let mut pending = std::mem::take(&mut self.pending);
        let taken = pending.take(count, &self.dataset.schema, || self.next_batch());
        self.pending = pending;
        taken
    }
}

/// Batches decoded but not yet taken, and the join and split that `take` does.
#[derive(Default)]
struct Pending {
    batches: Vec<RecordBatch>,
    rows: usize,
}

impl Pending {
    /// The next `count` rows, pulling batches from `next` until there are
    /// enough (fewer only when `next` runs out).
    fn take(
        &mut self,
        count: usize,
        schema: &SchemaRef,
        mut next: impl FnMut() -> Result<Option<RecordBatch>>,
    ) -> Result<RecordBatch> {
        while self.rows < count {
            match next()? {
                Some(batch) => {
                    self.rows += batch.num_rows();
                    self.batches.push(batch);
                }
                None => break,
            }
        }
        let available = self.rows.min(count);
        let whole =
            arrow_select::concat::concat_batches(schema, &self.batches).map_err(|cause| {
                ExportError::Arrow {
                    context: "cannot join record batches".to_string(),
                    cause,
                }
            })?;
        let taken = whole.slice(0, available);
        let rest = whole.slice(available, whole.num_rows() - available);
        self.batches.clear();
        self.rows = rest.num_rows();
        if rest.num_rows() > 0 {
            self.batches.push(rest);
        }
        Ok(taken)
    }
}

/// A cursor whose decoding runs ahead on a thread of its own: the thread
/// reads and decodes its range in order into a channel of at most `depth`
/// batches, so several cursors (the K member cursors of a modulo export)
/// decode in parallel while their reader only joins batches. Memory: `depth`
/// decoded batches plus the thread's page buffers.
pub struct DecodeAheadCursor {
    batches: Option<crossbeam_channel::Receiver<Result<RecordBatch>>>,
    decoder: Option<std::thread::JoinHandle<()>>,
    schema: SchemaRef,
    pending: Pending,
}

impl DecodeAheadCursor {
    /// Starts decoding `rows` of `dataset` (no thread for an empty range).
    pub fn start(
        dataset: &Arc<Dataset>,
        rows: Range<u64>,
        batch_rows: usize,
        depth: usize,
    ) -> DecodeAheadCursor {
        let schema = dataset.schema.clone();
        if rows.start >= rows.end {
            return DecodeAheadCursor {
                batches: None,
                decoder: None,
                schema,
                pending: Pending::default(),
            };
        }
        let (sender, receiver) = crossbeam_channel::bounded(depth.max(1));
        let dataset = Arc::clone(dataset);
        let decoder = std::thread::Builder::new()
            .name("predbench-decoder".to_string())
            .spawn(move || {
                let mut cursor = dataset.cursor(rows, batch_rows);
                loop {
                    // A failed send means the reader is gone (an error
                    // elsewhere stopped the run): stop too.
                    match cursor.next_batch() {
                        Ok(None) => return,
                        Ok(Some(batch)) => {
                            if sender.send(Ok(batch)).is_err() {
                                return;
                            }
                        }
                        Err(error) => {
                            let _ = sender.send(Err(error));
                            return;
                        }
                    }
                }
            })
            .expect("cannot start a decoder thread");
        DecodeAheadCursor {
            batches: Some(receiver),
            decoder: Some(decoder),
            schema,
            pending: Pending::default(),
        }
    }

    /// Returns the next `count` rows (fewer only at the end of the range).
    pub fn take(&mut self, count: usize) -> Result<RecordBatch> {
        let batches = &self.batches;
        self.pending.take(count, &self.schema, || match batches {
            // A closed channel is the end of the range: the decoder sends errors.
            Some(receiver) => receiver.recv().map_or(Ok(None), |batch| batch.map(Some)),
            None => Ok(None),
        })
    }
}

impl Drop for DecodeAheadCursor {
    fn drop(&mut self) {
        // Closing the channel makes a decoder blocked on a full channel return.
        self.batches = None;
        if let Some(decoder) = self.decoder.take() {
            let _ = decoder.join();
        }
    }
}
