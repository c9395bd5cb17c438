//! Dataset discovery and reading: a Parquet file or a directory of them, rows
//! numbered in file order from the footers alone, and cursors that read any
//! range of sequential ids.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

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
            pending: Vec::new(),
            pending_rows: 0,
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
    pending: Vec<RecordBatch>,
    pending_rows: usize,
}

impl RowCursor<'_> {
    /// Sequential id of the next row [`RowCursor::take`] returns.
    pub fn position(&self) -> u64 {
        self.position - self.pending_rows as u64
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
        while self.pending_rows < count {
            match self.next_batch()? {
                Some(batch) => {
                    self.pending_rows += batch.num_rows();
                    self.pending.push(batch);
                }
                None => break,
            }
        }
        let schema = self.dataset.schema.clone();
        let available = self.pending_rows.min(count);
        let whole =
            arrow_select::concat::concat_batches(&schema, &self.pending).map_err(|cause| {
                ExportError::Arrow {
                    context: "cannot join record batches".to_string(),
                    cause,
                }
            })?;
        let taken = whole.slice(0, available);
        let rest = whole.slice(available, whole.num_rows() - available);
        self.pending.clear();
        self.pending_rows = rest.num_rows();
        if rest.num_rows() > 0 {
            self.pending.push(rest);
        }
        Ok(taken)
    }
}
