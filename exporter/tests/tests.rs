//! Behaviour of the exporter: the contract of MISSION.md checked end to end
//! on small datasets, with real Parquet files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use predbench_exporter::sink::{MessageSink, NdjsonSink, NullSink, ParquetSink};
use predbench_exporter::verify::{VerifyOptions, verify};
use predbench_exporter::{
    Dataset, DecodeAhead, EncoderChoice, ExportOptions, Grouping, MessageOptions, NonFiniteMode,
    NullMode, NumberFormat, Strategy, export,
};
use predbench_generator::{GeneratorConfig, RunOptions, generate};

mod datasets;
mod messages;
mod packed;
mod shards;
mod strategies;
mod verify;

/// Generates a seed-shaped dataset with nulls and NaN, several files and row groups.
fn generated(dir: &Path, rows: u64) -> PathBuf {
    let out = dir.join("dataset");
    let config = GeneratorConfig {
        classes: 5,
        null_rate: 0.05,
        nan_rate: 0.02,
        batch_rows: 700,
        row_group_rows: 300,
        file_rows: 1_900,
        ..GeneratorConfig::new(rows)
    };
    generate(
        &config,
        &out,
        &RunOptions {
            threads: 2,
            force: false,
        },
        &mut |_| {},
    )
    .unwrap();
    out
}

fn options(strategy: Strategy, grouping: Grouping) -> ExportOptions {
    ExportOptions {
        grouping,
        threads: 3,
        chunk_rows: 250,
        memory_budget: 64 << 20,
        ..ExportOptions::new(strategy)
    }
}

fn export_to(dataset: &Dataset, options: &ExportOptions, sink: &str, path: &Path) -> Vec<u8> {
    match sink {
        "ndjson" => export(
            dataset,
            options,
            NdjsonSink::create(path, true).unwrap(),
            &mut |_| {},
        )
        .unwrap(),
        "parquet" => {
            let sink =
                ParquetSink::create(path, parquet::basic::Compression::SNAPPY, true).unwrap();
            export(dataset, options, sink, &mut |_| {}).unwrap()
        }
        _ => unreachable!(),
    };
    std::fs::read(path).unwrap()
}

fn verify_options(grouping: Grouping, group_size: u64) -> VerifyOptions {
    VerifyOptions {
        layout_grouping: grouping,
        group_size,
        any_grouping: false,
        any_message_order: false,
        id_column: "id_client".to_string(),
        non_finite: NonFiniteMode::String,
        max_message_bytes: None,
        time_zone: Default::default(),
        max_reported: 10,
        threads: 2,
    }
}

/// Writes `batches` as one Parquet file with row groups of `row_group_rows`.
fn write_parquet(path: &Path, batches: &[RecordBatch], row_group_rows: usize) {
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group_rows))
        .build();
    let mut writer = ArrowWriter::try_new(
        File::create(path).unwrap(),
        batches[0].schema(),
        Some(properties),
    )
    .unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
}

fn seed_batch(ids: Vec<Option<&str>>, values: Vec<Option<f64>>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id_client", DataType::Utf8, true),
        Field::new("class_0", DataType::Float64, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(ids)) as ArrayRef,
            Arc::new(Float64Array::from(values)),
        ],
    )
    .unwrap()
}

fn messages_of(dataset: &Dataset, options: &ExportOptions) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.ndjson");
    let bytes = export_to(dataset, options, "ndjson", &path);
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Writes `messages` as a Parquet file whose one column has type `data_type`
/// (Utf8, LargeUtf8 or Utf8View), as Spark, DuckDB and Polars write theirs.
fn write_messages(path: &Path, messages: &[&str], data_type: DataType) {
    let column: ArrayRef = match data_type {
        DataType::Utf8 => Arc::new(StringArray::from(messages.to_vec())),
        DataType::LargeUtf8 => Arc::new(arrow_array::LargeStringArray::from(messages.to_vec())),
        DataType::Utf8View => Arc::new(arrow_array::StringViewArray::from(messages.to_vec())),
        other => unreachable!("{other}"),
    };
    let schema = Arc::new(Schema::new(vec![Field::new("predicts", data_type, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![column]).unwrap();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// The NDJSON lines of an export.
fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The objects of a message, as written.
fn objects_of(message: &str) -> Vec<String> {
    serde_json::from_str::<Vec<&serde_json::value::RawValue>>(message)
        .unwrap()
        .into_iter()
        .map(|object| object.get().to_string())
        .collect()
}
