//! Arrow and Parquet plumbing: turns generated rows into record batches, encodes
//! them into column chunks on worker threads, and writes part files in order.

use std::path::{Path, PathBuf};

use predbench_common::direct_file::DirectFile;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, Float64Array, RecordBatch, StringArray};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::{Compression as ParquetCompression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, SchemaDescriptor};

use crate::config::{ClassType, Compression, FloatEncoding, GeneratorConfig};
use crate::error::{GeneratorError, Result};
use crate::rows::{RowBuffers, UUID_TEXT_LEN};

/// Name of the identifier column.
pub const ID_COLUMN: &str = "id_client";

/// Name of class column `index`: `class_0`, `class_1`, ...
pub fn class_column(index: usize) -> String {
    format!("class_{index}")
}

/// The seed's schema: `id_client: Utf8` then `class_0 .. class_{C-1}` of
/// `class_type` (Float64 in the seed), all nullable.
pub fn prediction_schema(classes: usize, class_type: ClassType) -> SchemaRef {
    let class_type = match class_type {
        ClassType::Float64 => DataType::Float64,
        ClassType::Float32 => DataType::Float32,
    };
    let mut fields = Vec::with_capacity(classes + 1);
    fields.push(Field::new(ID_COLUMN, DataType::Utf8, true));
    fields.extend(
        (0..classes).map(|index| Field::new(class_column(index), class_type.clone(), true)),
    );
    Arc::new(Schema::new(fields))
}

/// Moves generated rows into an Arrow batch without copying the values (float
/// class columns get the draws rounded to float).
pub fn record_batch(schema: &SchemaRef, buffers: RowBuffers) -> RecordBatch {
    let rows = buffers.len();
    let offsets = OffsetBuffer::<i32>::from_lengths(std::iter::repeat_n(UUID_TEXT_LEN, rows));
    // SAFETY: every id is 36 ASCII bytes written by the uuid encoder and the
    // offsets advance by exactly 36, so every value is valid UTF-8.
    let ids = unsafe { StringArray::new_unchecked(offsets, buffers.ids.into(), None) };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(buffers.classes.len() + 1);
    columns.push(Arc::new(ids));
    let mut validity = buffers.valid.into_iter();
    let floats = schema
        .fields()
        .get(1)
        .is_some_and(|field| *field.data_type() == DataType::Float32);
    for values in buffers.classes {
        let nulls = validity.next().map(NullBuffer::from);
        if floats {
            let narrowed: Vec<f32> = values.iter().map(|value| *value as f32).collect();
            columns.push(Arc::new(Float32Array::new(narrowed.into(), nulls)));
        } else {
            columns.push(Arc::new(Float64Array::new(values.into(), nulls)));
        }
    }
    RecordBatch::try_new(Arc::clone(schema), columns).expect("columns match the schema")
}

/// The Parquet codec of a [`Compression`] (zstd at level 1).
pub fn parquet_codec(compression: Compression) -> ParquetCompression {
    match compression {
        Compression::Snappy => ParquetCompression::SNAPPY,
        Compression::Zstd => {
            ParquetCompression::ZSTD(ZstdLevel::try_new(1).expect("level 1 is valid"))
        }
        Compression::Lz4 => ParquetCompression::LZ4_RAW,
        Compression::None => ParquetCompression::UNCOMPRESSED,
    }
}

/// Writer properties for the configuration: no dictionaries (random doubles and
/// UUIDs never repeat, so trying one only wastes time), chunk-level statistics,
/// the chosen codec and float encoding.
pub fn writer_properties(config: &GeneratorConfig) -> WriterProperties {
    let compression = parquet_codec(config.compression);
    let mut builder = WriterProperties::builder()
        .set_compression(compression)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_max_row_group_row_count(Some(config.row_group_rows as usize))
        .set_created_by(format!("predbench {}", env!("CARGO_PKG_VERSION")));
    if config.float_encoding == FloatEncoding::ByteStreamSplit {
        for index in 0..config.classes {
            builder = builder.set_column_encoding(
                ColumnPath::from(class_column(index)),
                Encoding::BYTE_STREAM_SPLIT,
            );
        }
    }
    builder.build()
}

/// Encodes batches into Parquet column chunks on any thread.
///
/// The column writers depend only on the schema and the writer properties, so
/// one factory serves every part file; it is built from a file writer over
/// `io::sink` because that is the constructor arrow-rs offers.
pub struct BatchEncoder {
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    parquet_schema: Arc<SchemaDescriptor>,
    properties: WriterPropertiesPtr,
    row_group_rows: usize,
}

/// The encoded row groups of one batch, ready to be appended to a file.
pub type EncodedRowGroups = Vec<Vec<ArrowColumnChunk>>;

impl BatchEncoder {
    /// Prepares an encoder for the configuration's schema and properties.
    pub fn new(config: &GeneratorConfig) -> Result<Self> {
        let schema = prediction_schema(config.classes, config.class_type);
        let properties = Arc::new(writer_properties(config));
        let parquet_schema = ArrowSchemaConverter::new()
            .convert(&schema)
            .expect("the prediction schema converts to Parquet");
        let template = SerializedFileWriter::new(
            std::io::sink(),
            parquet_schema.root_schema_ptr(),
            Arc::clone(&properties),
        )
        .expect("a writer over io::sink cannot fail to start");
        let factory = ArrowRowGroupWriterFactory::new(&template, Arc::clone(&schema));
        Ok(BatchEncoder {
            factory,
            schema,
            parquet_schema: Arc::new(parquet_schema),
            properties,
            row_group_rows: config.row_group_rows as usize,
        })
    }

    /// The Arrow schema of the batches.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Cuts `batch` into row groups and encodes every column of each.
    pub fn encode(&self, batch: &RecordBatch) -> parquet::errors::Result<EncodedRowGroups> {
        let mut row_groups = Vec::new();
        let mut offset = 0;
        while offset < batch.num_rows() {
            let length = self.row_group_rows.min(batch.num_rows() - offset);
            let slice = batch.slice(offset, length);
            let mut writers = self.factory.create_column_writers(0)?;
            let mut writer_slots = writers.iter_mut();
            for (field, column) in self.schema.fields().iter().zip(slice.columns()) {
                for leaf in compute_leaves(field, column)? {
                    writer_slots
                        .next()
                        .expect("one writer per leaf column")
                        .write(&leaf)?;
                }
            }
            let chunks = writers
                .into_iter()
                .map(|writer| writer.close())
                .collect::<parquet::errors::Result<Vec<_>>>()?;
            row_groups.push(chunks);
            offset += length;
        }
        Ok(row_groups)
    }

    /// Opens a part file at `path` that accepts encoded row groups.
    pub fn create_part(&self, path: &Path) -> Result<PartFile> {
        let file =
            DirectFile::create(path).map_err(|e| GeneratorError::io("cannot create", path, e))?;
        let writer = SerializedFileWriter::new(
            file,
            self.parquet_schema.root_schema_ptr(),
            Arc::clone(&self.properties),
        )
        .map_err(|cause| GeneratorError::Parquet {
            path: path.to_path_buf(),
            cause,
        })?;
        Ok(PartFile {
            path: path.to_path_buf(),
            writer,
        })
    }
}

/// A part file being written, one encoded batch after another.
pub struct PartFile {
    path: PathBuf,
    writer: SerializedFileWriter<DirectFile>,
}

impl PartFile {
    /// Appends the row groups of one batch.
    pub fn append(&mut self, row_groups: EncodedRowGroups) -> Result<()> {
        let result = (|| {
            for chunks in row_groups {
                let mut row_group = self.writer.next_row_group()?;
                for chunk in chunks {
                    chunk.append_to_row_group(&mut row_group)?;
                }
                row_group.close()?;
            }
            Ok(())
        })();
        result.map_err(|cause| GeneratorError::Parquet {
            path: self.path.clone(),
            cause,
        })
    }

    /// Writes the footer, flushes and syncs the file; returns its size in bytes.
    pub fn finish(self) -> Result<u64> {
        let PartFile { path, writer } = self;
        let buffered = writer
            .into_inner()
            .map_err(|cause| GeneratorError::Parquet {
                path: path.clone(),
                cause,
            })?;
        let file = buffered
            .finish()
            .map_err(|e| GeneratorError::io("cannot write", &path, e))?;
        file.sync_all()
            .map_err(|e| GeneratorError::io("cannot sync", &path, e))?;
        let bytes = file
            .metadata()
            .map_err(|e| GeneratorError::io("cannot stat", &path, e))?
            .len();
        Ok(bytes)
    }
}
