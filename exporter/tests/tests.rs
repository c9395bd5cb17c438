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
    Dataset, EncoderChoice, ExportOptions, Grouping, MessageOptions, NonFiniteMode, NullMode,
    Strategy, export,
};
use predbench_generator::{GeneratorConfig, RunOptions, generate};

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
        id_column: "id_client".to_string(),
        non_finite: NonFiniteMode::String,
        max_message_bytes: None,
        max_reported: 10,
        threads: 2,
    }
}

#[test]
fn all_strategies_give_identical_bytes_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 5_003)).unwrap();
    assert_eq!(dataset.rows, 5_003);
    assert_eq!(dataset.files.len(), 3);
    // Packed to 1,200 bytes: about 6 predictions a message, messages across chunks.
    for (grouping, budget) in [
        (Grouping::Modulo, None),
        (Grouping::Contiguous, None),
        (Grouping::Packed, Some(1_200)),
    ] {
        for sink in ["ndjson", "parquet"] {
            let mut outputs = Vec::new();
            // Every strategy, and the streaming ones with the reader decoding ahead too.
            let runs = Strategy::ALL
                .into_iter()
                .map(|strategy| (strategy, false))
                .chain([(Strategy::SingleThread, true), (Strategy::Rayon, true)]);
            for (strategy, decode_ahead) in runs {
                let path = dir
                    .path()
                    .join(format!("{}-{grouping:?}.{sink}", strategy.name()));
                let options = ExportOptions {
                    decode_ahead: Some(decode_ahead),
                    max_message_bytes: budget,
                    ..options(strategy, grouping)
                };
                let bytes = export_to(&dataset, &options, sink, &path);
                let checks = VerifyOptions {
                    max_message_bytes: budget,
                    ..verify_options(grouping, 10)
                };
                let report = verify(&dataset, &path, &checks).unwrap();
                assert!(
                    report.is_ok(),
                    "{strategy:?} {grouping:?} {sink}: {:?}",
                    report.first_problems
                );
                assert_eq!(report.predictions, 5_003);
                outputs.push((strategy, bytes));
            }
            for (strategy, bytes) in &outputs[1..] {
                assert!(
                    bytes == &outputs[0].1,
                    "{strategy:?} differs from single-thread ({grouping:?}, {sink})"
                );
            }
        }
    }
}

#[test]
fn window_sort_spills_past_its_budget_and_still_matches() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 6_000)).unwrap();
    let reference = dir.path().join("rayon.ndjson");
    let expected = export_to(
        &dataset,
        &options(Strategy::Rayon, Grouping::Modulo),
        "ndjson",
        &reference,
    );
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let tight = ExportOptions {
        memory_budget: 64 << 10,
        spill_directory: Some(spill.clone()),
        ..options(Strategy::WindowSort, Grouping::Modulo)
    };
    let path = dir.path().join("window.ndjson");
    let summary = export(
        &dataset,
        &tight,
        NdjsonSink::create(&path, true).unwrap(),
        &mut |_| {},
    )
    .unwrap();
    assert!(summary.spilled_bytes > 0, "a 64 KiB budget must spill");
    assert_eq!(std::fs::read(&path).unwrap(), expected);
    // Spill files are removed when the export ends.
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
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

#[test]
fn messages_follow_spark_to_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.parquet");
    let batch = seed_batch(
        vec![
            Some("a"),
            Some("quote\"back\\slash\ncontrol\u{1}é"),
            None,
            Some("d"),
        ],
        vec![Some(0.1), None, Some(f64::NAN), Some(1e-7)],
    );
    write_parquet(&file, &[batch], 2);
    let dataset = Dataset::open(&file).unwrap();
    let contiguous = ExportOptions {
        group_size: 3,
        ..options(Strategy::SingleThread, Grouping::Contiguous)
    };
    assert_eq!(
        messages_of(&dataset, &contiguous),
        vec![
            r#"[{"id_client":"a","class_0":0.1},{"id_client":"quote\"back\\slash\ncontrol\u0001é"},{"class_0":"NaN"}]"#,
            r#"[{"id_client":"d","class_0":1e-7}]"#,
        ]
    );
    let explicit = ExportOptions {
        message: MessageOptions {
            nulls: NullMode::Explicit,
            non_finite: NonFiniteMode::Null,
            encoder: EncoderChoice::Auto,
        },
        ..contiguous.clone()
    };
    assert_eq!(
        messages_of(&dataset, &explicit)[0],
        r#"[{"id_client":"a","class_0":0.1},{"id_client":"quote\"back\\slash\ncontrol\u0001é","class_0":null},{"id_client":null,"class_0":null}]"#
    );
}

#[test]
fn fast_path_and_arrow_json_give_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edge.parquet");
    let mut values: Vec<Option<f64>> = vec![
        Some(0.0),
        Some(-0.0),
        Some(1.0),
        Some(0.1),
        Some(1e-5),
        Some(1e-7),
        Some(1e15),
        Some(1e16),
        Some(1e21),
        Some(5e-324),
        Some(f64::MAX),
        Some(f64::MIN_POSITIVE),
        Some(-123.456),
        Some(f64::NAN),
        Some(f64::INFINITY),
        Some(f64::NEG_INFINITY),
        None,
    ];
    // Pseudo-random bit patterns cover every exponent.
    let mut state = 0x1234_5678_9ABC_DEF0u64;
    for _ in 0..5000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        values.push(Some(f64::from_bits(state)));
    }
    let ids: Vec<Option<String>> = (0..values.len())
        .map(|index| match index % 4 {
            0 => None,
            1 => Some(format!("id-{index}-\"\\\t\u{7f}\u{1F600}")),
            _ => Some(format!("{index:08x}-plain")),
        })
        .collect();
    // The same values without any null take the encoder's dense path (every
    // key written, commas baked into the keys).
    let dense_values: Vec<Option<f64>> = values.iter().copied().filter(Option::is_some).collect();
    let dense_ids: Vec<Option<String>> = (0..dense_values.len())
        .map(|index| Some(ids[index * 4 % ids.len()].clone().unwrap_or_default()))
        .collect();
    let dense_file = dir.path().join("dense.parquet");
    write_parquet(
        &dense_file,
        &[seed_batch(
            dense_ids.iter().map(|id| id.as_deref()).collect(),
            dense_values,
        )],
        1000,
    );
    let batch = seed_batch(ids.iter().map(|id| id.as_deref()).collect(), values);
    write_parquet(&file, &[batch], 1000);
    for (file, nulls) in [
        (&file, NullMode::Omit),
        (&file, NullMode::Explicit),
        (&dense_file, NullMode::Omit),
    ] {
        let dataset = Dataset::open(file).unwrap();
        for non_finite in [NonFiniteMode::String, NonFiniteMode::Null] {
            let with = |encoder| ExportOptions {
                message: MessageOptions {
                    nulls,
                    non_finite,
                    encoder,
                },
                ..options(Strategy::Rayon, Grouping::Modulo)
            };
            let fast = messages_of(&dataset, &with(EncoderChoice::Auto));
            let reference = messages_of(&dataset, &with(EncoderChoice::ArrowJson));
            assert_eq!(fast.len(), reference.len());
            for (index, (a, b)) in fast.iter().zip(&reference).enumerate() {
                assert_eq!(
                    a,
                    b,
                    "message {index} of {} differs ({nulls:?}, {non_finite:?})",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn seed_grouping_puts_members_g_rows_apart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hundred.parquet");
    let ids: Vec<String> = (0..100).map(|index| format!("row-{index}")).collect();
    let batch = seed_batch(
        ids.iter().map(|id| Some(id.as_str())).collect(),
        vec![Some(0.5); 100],
    );
    write_parquet(&file, &[batch], 30);
    let dataset = Dataset::open(&file).unwrap();
    let messages = messages_of(&dataset, &options(Strategy::Rayon, Grouping::Modulo));
    // N = 100, K = 10: G = 11 groups; group 3 holds rows 3, 14, ..., 91.
    assert_eq!(messages.len(), 11);
    let group_3: serde_json::Value = serde_json::from_str(&messages[3]).unwrap();
    let members: Vec<&str> = group_3
        .as_array()
        .unwrap()
        .iter()
        .map(|object| object["id_client"].as_str().unwrap())
        .collect();
    assert_eq!(
        members,
        [
            "row-3", "row-14", "row-25", "row-36", "row-47", "row-58", "row-69", "row-80", "row-91"
        ]
    );
}

#[test]
fn any_arrow_type_encodes_through_arrow_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mixed.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id_client", DataType::Utf8, true),
        Field::new("count", DataType::Int32, true),
        Field::new("flag", DataType::Boolean, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["x", "y", "z"])) as ArrayRef,
            Arc::new(Int32Array::from(vec![Some(1), None, Some(-3)])),
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        ],
    )
    .unwrap();
    write_parquet(&file, &[batch], 10);
    let dataset = Dataset::open(&file).unwrap();
    let contiguous = ExportOptions {
        group_size: 2,
        ..options(Strategy::SingleThread, Grouping::Contiguous)
    };
    assert_eq!(
        messages_of(&dataset, &contiguous),
        vec![
            r#"[{"id_client":"x","count":1,"flag":true},{"id_client":"y","flag":false}]"#,
            r#"[{"id_client":"z","count":-3}]"#
        ]
    );
    let path = dir.path().join("mixed.ndjson");
    export_to(&dataset, &contiguous, "ndjson", &path);
    let report = verify(&dataset, &path, &verify_options(Grouping::Contiguous, 2)).unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problems);
}

#[test]
fn discovery_follows_name_order_magic_bytes_and_skips_hidden_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("spark-output");
    std::fs::create_dir(&data).unwrap();
    // Extension-less names, as the seed's pandas generator writes them.
    write_parquet(
        &data.join("b1c2"),
        &[seed_batch(vec![Some("second")], vec![Some(2.0)])],
        10,
    );
    write_parquet(
        &data.join("a9f0"),
        &[seed_batch(vec![Some("first")], vec![Some(1.0)])],
        10,
    );
    std::fs::write(data.join("_SUCCESS"), "").unwrap();
    std::fs::write(data.join(".a9f0.crc"), "not parquet").unwrap();
    let dataset = Dataset::open(&data).unwrap();
    assert_eq!(dataset.rows, 2);
    let contiguous = options(Strategy::SingleThread, Grouping::Contiguous);
    assert_eq!(
        messages_of(&dataset, &contiguous),
        vec![r#"[{"id_client":"first","class_0":1.0},{"id_client":"second","class_0":2.0}]"#]
    );
}

#[test]
fn bad_datasets_get_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Dataset::open(&dir.path().join("nope"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("nope") && missing.contains("does not exist"),
        "{missing}"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("_SUCCESS"), "").unwrap();
    let error = Dataset::open(&empty).unwrap_err().to_string();
    assert!(error.contains("no Parquet file"), "{error}");

    let text = dir.path().join("text");
    std::fs::create_dir(&text).unwrap();
    std::fs::write(text.join("notes.csv"), "id,class_0\nx,0.5\n").unwrap();
    let error = Dataset::open(&text).unwrap_err().to_string();
    assert!(
        error.contains("notes.csv") && error.contains("PAR1"),
        "{error}"
    );

    let truncated = dir.path().join("truncated");
    std::fs::create_dir(&truncated).unwrap();
    write_parquet(
        &truncated.join("part-0"),
        &[seed_batch(vec![Some("x")], vec![Some(0.5)])],
        10,
    );
    let bytes = std::fs::read(truncated.join("part-0")).unwrap();
    std::fs::write(truncated.join("part-0"), &bytes[..bytes.len() - 10]).unwrap();
    let error = Dataset::open(&truncated).unwrap_err().to_string();
    assert!(
        error.contains("part-0") && error.contains("truncated"),
        "{error}"
    );

    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    write_parquet(
        &mixed.join("part-0"),
        &[seed_batch(vec![Some("x")], vec![Some(0.5)])],
        10,
    );
    let other = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id_client", DataType::Utf8, true),
            Field::new("class_0", DataType::Int32, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["y"])) as ArrayRef,
            Arc::new(Int32Array::from(vec![1])),
        ],
    )
    .unwrap();
    write_parquet(&mixed.join("part-1"), &[other], 10);
    let error = Dataset::open(&mixed).unwrap_err().to_string();
    assert!(
        error.contains("part-1") && error.contains("class_0"),
        "{error}"
    );
}

#[test]
fn non_finite_error_names_column_and_row_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nan.parquet");
    let batch = seed_batch(
        vec![Some("a"), Some("b"), Some("c")],
        vec![Some(0.5), Some(0.25), Some(f64::INFINITY)],
    );
    write_parquet(&file, &[batch], 10);
    let dataset = Dataset::open(&file).unwrap();
    let strict = ExportOptions {
        message: MessageOptions {
            non_finite: NonFiniteMode::Error,
            ..MessageOptions::default()
        },
        ..options(Strategy::Rayon, Grouping::Contiguous)
    };
    let out = dir.path().join("out.parquet");
    let sink = ParquetSink::create(&out, parquet::basic::Compression::SNAPPY, false).unwrap();
    let error = export(&dataset, &strict, sink, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("class_0")
            && error.contains("Infinity")
            && error.contains("sequential id 2"),
        "{error}"
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn verify_catches_changed_missing_and_duplicated_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 1_000)).unwrap();
    let path = dir.path().join("good.ndjson");
    let good = String::from_utf8(export_to(
        &dataset,
        &options(Strategy::Rayon, Grouping::Modulo),
        "ndjson",
        &path,
    ))
    .unwrap();
    let lines: Vec<&str> = good.lines().collect();

    let check = |text: String, any_grouping: bool| {
        let bad = dir.path().join("bad.ndjson");
        std::fs::write(&bad, text).unwrap();
        let options = VerifyOptions {
            any_grouping,
            ..verify_options(Grouping::Modulo, 10)
        };
        verify(&dataset, &bad, &options).unwrap()
    };
    for any_grouping in [false, true] {
        assert!(check(good.clone(), any_grouping).is_ok());
        // A value changed in its last digit.
        let first = serde_json::from_str::<serde_json::Value>(lines[0]).unwrap();
        let value = first[0]["class_1"]
            .as_f64()
            .or(first[0]["class_2"].as_f64())
            .unwrap();
        let changed = good.replacen(
            &format!("{value}"),
            &format!("{}", f64::from_bits(value.to_bits() + 1)),
            1,
        );
        let report = check(changed, any_grouping);
        assert!(
            !report.is_ok(),
            "a changed value passed (any_grouping {any_grouping})"
        );
        // A message dropped.
        let dropped = lines[1..].join("\n");
        assert!(!check(dropped, any_grouping).is_ok());
        // A message repeated.
        let repeated = format!("{good}{}\n", lines[5]);
        assert!(!check(repeated, any_grouping).is_ok());
    }
    // Membership: the same predictions regrouped pass only --any-grouping.
    let contiguous = dir.path().join("contiguous.ndjson");
    let regrouped = String::from_utf8(export_to(
        &dataset,
        &options(Strategy::Rayon, Grouping::Contiguous),
        "ndjson",
        &contiguous,
    ))
    .unwrap();
    assert!(!check(regrouped.clone(), false).is_ok());
    assert!(check(regrouped, true).is_ok());
}

#[test]
fn empty_dataset_gives_no_message_and_a_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.parquet");
    write_parquet(&file, &[seed_batch(vec![], vec![])], 10);
    let dataset = Dataset::open(&file).unwrap();
    assert_eq!(dataset.rows, 0);
    for strategy in Strategy::ALL {
        let summary = export(
            &dataset,
            &options(strategy, Grouping::Modulo),
            NullSink::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(summary.sink.messages, 0);
    }
    let out = dir.path().join("out.parquet");
    export_to(
        &dataset,
        &options(Strategy::Rayon, Grouping::Modulo),
        "parquet",
        &out,
    );
    assert!(
        verify(&dataset, &out, &verify_options(Grouping::Modulo, 10))
            .unwrap()
            .is_ok()
    );
}

#[test]
fn null_sink_counts_what_the_file_sinks_write() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 2_000)).unwrap();
    let null = export(
        &dataset,
        &options(Strategy::Rayon, Grouping::Modulo),
        NullSink::default(),
        &mut |_| {},
    )
    .unwrap();
    let path = dir.path().join("out.ndjson");
    let ndjson = export_to(
        &dataset,
        &options(Strategy::Rayon, Grouping::Modulo),
        "ndjson",
        &path,
    );
    assert_eq!(null.sink.messages, 201);
    assert_eq!(null.sink.rows, 2_000);
    assert_eq!(
        null.sink.message_bytes + null.sink.messages,
        ndjson.len() as u64
    );
    let _ = NullSink::default().finish().unwrap();
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

#[test]
fn verify_reads_part_directories_of_any_string_type() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 1_000)).unwrap();
    let ndjson = dir.path().join("messages.ndjson");
    let text = String::from_utf8(export_to(
        &dataset,
        &options(Strategy::Rayon, Grouping::Modulo),
        "ndjson",
        &ndjson,
    ))
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Spark's layout: part files in name order, _SUCCESS and .crc files beside them.
    let thirds = lines.len() / 3;
    let pieces = [
        &lines[..thirds],
        &lines[thirds..2 * thirds],
        &lines[2 * thirds..],
    ];
    for data_type in [DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View] {
        let parts = dir.path().join(format!("spark-output-{data_type}.parquet"));
        std::fs::create_dir(&parts).unwrap();
        for (index, piece) in pieces.iter().enumerate() {
            write_messages(
                &parts.join(format!("part-0000{index}-c000.snappy.parquet")),
                piece,
                data_type.clone(),
            );
        }
        std::fs::write(parts.join("_SUCCESS"), "").unwrap();
        std::fs::write(parts.join(".part-00000-c000.snappy.parquet.crc"), "crc").unwrap();
        let report = verify(&dataset, &parts, &verify_options(Grouping::Modulo, 10)).unwrap();
        assert!(report.is_ok(), "{data_type}: {:?}", report.first_problems);
        assert_eq!(report.messages, lines.len() as u64);
        assert_eq!(report.predictions, 1_000);

        // Parts in the wrong order fail the exact grouping, pass --any-grouping.
        std::fs::rename(
            parts.join("part-00000-c000.snappy.parquet"),
            parts.join("part-00009-c000.snappy.parquet"),
        )
        .unwrap();
        assert!(
            !verify(&dataset, &parts, &verify_options(Grouping::Modulo, 10))
                .unwrap()
                .is_ok()
        );
        let any = VerifyOptions {
            any_grouping: true,
            ..verify_options(Grouping::Modulo, 10)
        };
        assert!(verify(&dataset, &parts, &any).unwrap().is_ok());
    }
}

#[test]
fn verify_gives_the_same_verdict_on_any_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 3_000)).unwrap();
    let path = dir.path().join("good.ndjson");
    let good = String::from_utf8(export_to(
        &dataset,
        &options(Strategy::Rayon, Grouping::Modulo),
        "ndjson",
        &path,
    ))
    .unwrap();
    // Break every 7th message: drop its last prediction.
    let broken: String = good
        .lines()
        .enumerate()
        .map(|(index, line)| {
            if index % 7 == 3 {
                let cut = line.rfind(",{").unwrap();
                format!("{}]\n", &line[..cut])
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(&bad, broken).unwrap();
    for any_grouping in [false, true] {
        let reports: Vec<_> = [1, 2, 5]
            .map(|threads| {
                let options = VerifyOptions {
                    any_grouping,
                    threads,
                    ..verify_options(Grouping::Modulo, 10)
                };
                verify(&dataset, &bad, &options).unwrap()
            })
            .into_iter()
            .collect();
        assert!(!reports[0].is_ok());
        for report in &reports[1..] {
            assert_eq!(report.problems, reports[0].problems);
            assert_eq!(report.messages, reports[0].messages);
            assert_eq!(report.predictions, reports[0].predictions);
            assert_eq!(report.first_problems, reports[0].first_problems);
        }
    }
}

#[test]
fn verify_reads_exports_with_large_row_groups_in_order() {
    // One row group of 5,001 messages (as DuckDB writes them, 122,880 rows
    // a row group): read in order by one cursor, not by range.
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 50_000)).unwrap();
    let ndjson = dir.path().join("messages.ndjson");
    let text = String::from_utf8(export_to(
        &dataset,
        &options(Strategy::Rayon, Grouping::Modulo),
        "ndjson",
        &ndjson,
    ))
    .unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5_001);
    let whole = dir.path().join("one-row-group.parquet");
    write_messages(&whole, &lines, DataType::Utf8);
    let any = VerifyOptions {
        any_grouping: true,
        ..verify_options(Grouping::Modulo, 10)
    };
    for options in [verify_options(Grouping::Modulo, 10), any.clone()] {
        let report = verify(&dataset, &whole, &options).unwrap();
        assert!(report.is_ok(), "{:?}", report.first_problems);
        assert_eq!(report.messages, 5_001);
    }
    // The last message lost: both modes see it.
    lines.pop();
    let short = dir.path().join("short.parquet");
    write_messages(&short, &lines, DataType::Utf8);
    for options in [verify_options(Grouping::Modulo, 10), any] {
        let report = verify(&dataset, &short, &options).unwrap();
        assert!(!report.is_ok());
    }
}

#[test]
fn shards_read_in_order_are_the_one_machine_export_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 4_321)).unwrap();
    for grouping in [Grouping::Modulo, Grouping::Contiguous] {
        for group_size in [1, 10, 7] {
            let whole = ExportOptions {
                group_size,
                ..options(Strategy::Rayon, grouping)
            };
            let expected = messages_of(&dataset, &whole).join("\n");
            for (strategy, count, decode_ahead) in [
                (Strategy::Rayon, 2, true),
                (Strategy::SingleThread, 3, false),
                (Strategy::Rayon, 7, false),
                // More shards than messages: most shards are empty.
                (Strategy::SingleThread, 600, true),
            ] {
                let mut joined = Vec::new();
                let mut rows = 0;
                let mut next_group = 0;
                for index in 0..count {
                    let shard = predbench_generator::Shard::new(index, count).unwrap();
                    let sharded = ExportOptions {
                        shard,
                        strategy,
                        decode_ahead: Some(decode_ahead),
                        ..whole.clone()
                    };
                    let path = dir.path().join("shard.ndjson");
                    let summary = export(
                        &dataset,
                        &sharded,
                        NdjsonSink::create(&path, true).unwrap(),
                        &mut |_| {},
                    )
                    .unwrap();
                    assert_eq!(summary.groups.start, next_group, "{grouping:?} {shard}");
                    next_group = summary.groups.end;
                    assert_eq!(summary.input_rows, summary.sink.rows);
                    rows += summary.sink.rows;
                    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
                    joined.extend(text.lines().map(str::to_string));
                }
                assert_eq!(rows, 4_321, "{grouping:?} K={group_size} {count} shards");
                assert_eq!(
                    joined.join("\n"),
                    expected,
                    "{grouping:?} K={group_size}, {strategy:?} in {count} shards"
                );
            }
        }
    }
}

#[test]
fn window_sort_refuses_to_be_sharded() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 100)).unwrap();
    let sharded = ExportOptions {
        shard: predbench_generator::Shard::new(0, 2).unwrap(),
        ..options(Strategy::WindowSort, Grouping::Modulo)
    };
    let error = export(&dataset, &sharded, NullSink::default(), &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("--shard"), "{error}");
    assert!(
        error.to_string().contains("use rayon or single-thread"),
        "{error}"
    );
}

#[test]
fn a_damaged_page_stops_every_strategy_with_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = generated(dir.path(), 5_000);
    // The footer stays intact, so the dataset opens; the first page header of
    // the third file (right after its PAR1 magic) is garbage.
    let damaged = root.join("part-00002.parquet");
    let mut bytes = std::fs::read(&damaged).unwrap();
    bytes[4..64].fill(0xff);
    std::fs::write(&damaged, bytes).unwrap();
    let dataset = Dataset::open(&root).unwrap();
    for (strategy, decode_ahead) in Strategy::ALL
        .into_iter()
        .flat_map(|strategy| [(strategy, false), (strategy, true)])
    {
        for grouping in [Grouping::Modulo, Grouping::Contiguous] {
            let options = ExportOptions {
                decode_ahead: Some(decode_ahead),
                ..options(strategy, grouping)
            };
            let out = dir.path().join("out.parquet");
            let sink = ParquetSink::create(&out, parquet::basic::Compression::LZ4_RAW, true);
            let error = export(&dataset, &options, sink.unwrap(), &mut |_| {})
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("part-00002.parquet"),
                "{strategy:?} {grouping:?} decode ahead {decode_ahead}: {error}"
            );
            assert!(!out.exists());
        }
    }
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

#[test]
fn packed_messages_are_consecutive_rows_as_many_as_fit() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 3_001)).unwrap();
    // One row a message: every prediction's object, in sequential-id order.
    let one_each = dir.path().join("one-each.ndjson");
    export_to(
        &dataset,
        &ExportOptions {
            group_size: 1,
            ..options(Strategy::SingleThread, Grouping::Contiguous)
        },
        "ndjson",
        &one_each,
    );
    let objects: Vec<String> = lines_of(&one_each)
        .iter()
        .flat_map(|message| objects_of(message))
        .collect();
    let largest = objects.iter().map(String::len).max().unwrap();
    for budget in [largest as u64 + 2, 1_000, 4_096, 1 << 20] {
        let path = dir.path().join(format!("packed-{budget}.ndjson"));
        export_to(
            &dataset,
            &ExportOptions {
                max_message_bytes: Some(budget),
                ..options(Strategy::Rayon, Grouping::Packed)
            },
            "ndjson",
            &path,
        );
        let messages = lines_of(&path);
        let packed: Vec<Vec<String>> = messages.iter().map(|m| objects_of(m)).collect();
        assert_eq!(packed.concat(), objects, "budget {budget}");
        for (index, message) in messages.iter().enumerate() {
            assert!(
                message.len() as u64 <= budget,
                "message {index} over {budget}"
            );
            if let Some(next) = packed.get(index + 1) {
                let with_next = message.len() + 1 + next[0].len();
                assert!(
                    with_next as u64 > budget,
                    "message {index} not full at {budget}"
                );
            }
        }
        if budget == 1 << 20 {
            assert_eq!(messages.len(), 1);
        }
        let checks = VerifyOptions {
            max_message_bytes: Some(budget),
            ..verify_options(Grouping::Packed, 10)
        };
        let report = verify(&dataset, &path, &checks).unwrap();
        assert!(report.is_ok(), "{budget}: {:?}", report.first_problems);
        assert_eq!(report.messages, messages.len() as u64);
        assert_eq!(report.predictions, 3_001);
    }
}

#[test]
fn a_packed_export_resumed_at_a_message_start_makes_the_same_messages() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 2_000)).unwrap();
    let packed = |resume_from_group, name: &str| {
        let path = dir.path().join(name);
        export_to(
            &dataset,
            &ExportOptions {
                max_message_bytes: Some(2_000),
                resume_from_group,
                ..options(Strategy::Rayon, Grouping::Packed)
            },
            "ndjson",
            &path,
        );
        lines_of(&path)
    };
    let whole = packed(0, "whole.ndjson");
    let message = whole.len() / 2;
    let first_row: usize = whole[..message].iter().map(|m| objects_of(m).len()).sum();
    let tail = packed(first_row as u64, "tail.ndjson");
    assert_eq!(tail, whole[message..]);
}

#[test]
fn packing_refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 500)).unwrap();
    let run = |options: ExportOptions| {
        export(&dataset, &options, NullSink::default(), &mut |_| {})
            .unwrap_err()
            .to_string()
    };
    let packed = options(Strategy::Rayon, Grouping::Packed);
    assert!(run(packed.clone()).contains("packed needs --max-message-bytes"));
    let error = run(ExportOptions {
        max_message_bytes: Some(20),
        ..packed.clone()
    });
    assert!(
        error.contains("the prediction of row 0 is") && error.contains("over the limit of 20"),
        "{error}"
    );
    let error = run(ExportOptions {
        max_message_bytes: Some(4_096),
        shard: "1/2".parse().unwrap(),
        ..packed.clone()
    });
    assert!(error.contains("--shard"), "{error}");
    // With K-row groupings the budget is a limit: the first message over it is named.
    let error = run(ExportOptions {
        max_message_bytes: Some(300),
        ..options(Strategy::Rayon, Grouping::Contiguous)
    });
    assert!(error.contains("the message of group 0 is"), "{error}");
}

#[test]
fn verify_catches_packed_messages_that_are_too_big_not_full_or_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 1_000)).unwrap();
    let path = dir.path().join("packed.ndjson");
    export_to(
        &dataset,
        &ExportOptions {
            max_message_bytes: Some(3_000),
            ..options(Strategy::SingleThread, Grouping::Packed)
        },
        "ndjson",
        &path,
    );
    let check = |path: &Path, budget: u64| {
        let checks = VerifyOptions {
            max_message_bytes: Some(budget),
            ..verify_options(Grouping::Packed, 10)
        };
        verify(&dataset, path, &checks).unwrap()
    };
    assert!(check(&path, 3_000).is_ok());
    let report = check(&path, 2_000);
    assert!(!report.is_ok());
    assert!(
        report.first_problems[0].contains("over the limit of 2000"),
        "{:?}",
        report.first_problems
    );
    let report = check(&path, 6_000);
    assert!(!report.is_ok());
    assert!(
        report.first_problems[0].contains("not packed full"),
        "{:?}",
        report.first_problems
    );

    // Two messages swapped: sizes still fine, rows out of order.
    let mut messages = lines_of(&path);
    let last = messages.len() - 1;
    messages.swap(1, last);
    let swapped = dir.path().join("swapped.ndjson");
    std::fs::write(&swapped, messages.join("\n") + "\n").unwrap();
    let report = check(&swapped, 3_000);
    assert!(!report.is_ok());
    assert!(
        report
            .first_problems
            .iter()
            .any(|problem| problem.contains("sequential id")),
        "{:?}",
        report.first_problems
    );
    // A message that is not JSON is reported once, by the pass that reads rows.
    let mut messages = lines_of(&path);
    messages[2] = "[{\"id_client\":".to_string();
    let broken = dir.path().join("broken.ndjson");
    std::fs::write(&broken, messages.join("\n") + "\n").unwrap();
    let report = check(&broken, 3_000);
    let not_json = report
        .first_problems
        .iter()
        .filter(|problem| problem.contains("message 2") && problem.contains("not valid JSON"))
        .count();
    assert_eq!(not_json, 1, "{:?}", report.first_problems);
    // A prediction moved from one message to the next: counts and rows still add up.
    let mut messages = lines_of(&path);
    let mut first = objects_of(&messages[0]);
    let mut second = objects_of(&messages[1]);
    second.insert(0, first.pop().unwrap());
    messages[0] = format!("[{}]", first.join(","));
    messages[1] = format!("[{}]", second.join(","));
    let moved = dir.path().join("moved.ndjson");
    std::fs::write(&moved, messages.join("\n") + "\n").unwrap();
    let report = check(&moved, 3_000);
    assert!(
        report
            .first_problems
            .iter()
            .any(|problem| problem.contains("message 0") && problem.contains("not packed full")),
        "{:?}",
        report.first_problems
    );
}
