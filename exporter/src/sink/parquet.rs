//! The seed's output: a Parquet file with one Utf8 column `predicts`, one
//! message per row. Row groups are compressed on worker threads and written
//! in order.

use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;

use super::atomic_file::{self, AtomicFile};
use super::{Counts, MessageSink, SinkSummary};
use crate::error::{ExportError, Result};
use crate::message::MessageBatch;

/// Name of the single column of the output.
pub const PREDICTS_COLUMN: &str = "predicts";

/// Writes messages as rows of a one-column Parquet file.
pub struct ParquetSink {
    schema: SchemaRef,
    factory: ArrowRowGroupWriterFactory,
    output: Mutex<(SerializedFileWriter<AtomicFile>, Counts)>,
    path: std::path::PathBuf,
}

impl ParquetSink {
    /// Starts writing to `path` with the given page compression.
    pub fn create(path: &Path, compression: Compression, overwrite: bool) -> Result<Self> {
        let schema = Arc::new(Schema::new(vec![Field::new(
            PREDICTS_COLUMN,
            DataType::Utf8,
            true,
        )]));
        let properties = Arc::new(
            WriterProperties::builder()
                .set_compression(compression)
                .set_dictionary_enabled(false)
                .set_statistics_enabled(EnabledStatistics::None)
                .set_created_by(format!("predbench {}", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        let parquet_schema = ArrowSchemaConverter::new()
            .convert(&schema)
            .expect("a one-column Utf8 schema converts");
        let file = atomic_file::create(path, overwrite)?;
        let writer = SerializedFileWriter::new(file, parquet_schema.root_schema_ptr(), properties)
            .map_err(|cause| ExportError::parquet(path, "file header", cause))?;
        let factory = ArrowRowGroupWriterFactory::new(&writer, Arc::clone(&schema));
        Ok(ParquetSink {
            schema,
            factory,
            output: Mutex::new((writer, Counts::default())),
            path: path.to_path_buf(),
        })
    }
}

impl MessageSink for ParquetSink {
    type Prepared = (Vec<ArrowColumnChunk>, Counts);

    fn prepare(&self, messages: MessageBatch) -> Result<Self::Prepared> {
        let counts = Counts::of(&messages);
        let location = || "encoding a row group".to_string();
        if messages.bytes.len() > i32::MAX as usize {
            return Err(ExportError::invalid(
                "chunk_rows",
                "a chunk's messages exceed 2 GiB; use a smaller `chunk_rows`",
            ));
        }
        let lengths = {
            let mut start = 0usize;
            messages.ends.iter().map(move |&end| {
                let length = end - start;
                start = end;
                length
            })
        };
        let offsets = OffsetBuffer::<i32>::from_lengths(lengths);
        let values =
            StringArray::try_new(offsets, messages.bytes.into(), None).map_err(|cause| {
                ExportError::Arrow {
                    context: "messages are not valid UTF-8".to_string(),
                    cause,
                }
            })?;
        let column: ArrayRef = Arc::new(values);
        let batch =
            RecordBatch::try_new(Arc::clone(&self.schema), vec![column]).expect("one Utf8 column");
        let mut writers = self
            .factory
            .create_column_writers(0)
            .map_err(|cause| ExportError::parquet(&self.path, location(), cause))?;
        for leaf in compute_leaves(self.schema.field(0), batch.column(0))
            .map_err(|cause| ExportError::parquet(&self.path, location(), cause))?
        {
            writers[0]
                .write(&leaf)
                .map_err(|cause| ExportError::parquet(&self.path, location(), cause))?;
        }
        let chunks = writers
            .into_iter()
            .map(|writer| writer.close())
            .collect::<parquet::errors::Result<Vec<_>>>()
            .map_err(|cause| ExportError::parquet(&self.path, location(), cause))?;
        Ok((chunks, counts))
    }

    fn write(&self, (chunks, counts): Self::Prepared) -> Result<()> {
        let mut output = self.output.lock().expect("sink lock poisoned");
        let (writer, total) = &mut *output;
        let location = format!("row group {}", writer.flushed_row_groups().len());
        let result = (|| {
            let mut row_group = writer.next_row_group()?;
            for chunk in chunks {
                chunk.append_to_row_group(&mut row_group)?;
            }
            row_group.close().map(|_| ())
        })();
        result.map_err(|cause| ExportError::parquet(&self.path, location, cause))?;
        total.add(counts);
        Ok(())
    }

    fn finish(self) -> Result<SinkSummary> {
        let (writer, counts) = self.output.into_inner().expect("sink lock poisoned");
        let file = writer
            .into_inner()
            .map_err(|cause| ExportError::parquet(&self.path, "footer", cause))?;
        let bytes = atomic_file::commit(file)?;
        Ok(counts.summary(bytes, Some(self.path)))
    }
}
