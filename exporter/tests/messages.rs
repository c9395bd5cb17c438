//! Messages as Spark's to_json writes them: the fast path against the reference, every type, NaN handling.

use super::*;

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
            ..MessageOptions::default()
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
                    ..MessageOptions::default()
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

/// A table of every type the fast path writes, with nulls in every column:
/// float32 scores (special values and random bit patterns), a large_string
/// id, a dictionary-encoded segment, integers, a boolean, a date and
/// timestamps with and without a zone.
fn fast_path_batch(rows: usize) -> RecordBatch {
    use arrow_array::types::Int16Type;
    use arrow_array::{
        Date32Array, DictionaryArray, Float32Array, Int64Array, LargeStringArray,
        TimestampMicrosecondArray, TimestampMillisecondArray, UInt32Array,
    };
    let mut state = 0x0DDB_1A5E_5BAD_5EEDu64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let special = [
        0.0f32,
        -0.0,
        1e-45,
        0.1,
        1e-5,
        1e7,
        3.4e38,
        f32::NAN,
        f32::INFINITY,
    ];
    let null = |row: usize, every: usize| row % every == every - 1;
    let floats: Vec<Option<f32>> = (0..rows)
        .map(|row| match row {
            _ if null(row, 7) => None,
            _ if row < special.len() => Some(special[row]),
            _ => Some(f32::from_bits(next() as u32)),
        })
        .collect();
    let ids: Vec<Option<String>> = (0..rows)
        .map(|row| (!null(row, 13)).then(|| format!("{row:06x}-\u{1}\"é")))
        .collect();
    let segments: DictionaryArray<Int16Type> = (0..rows)
        .map(|row| (!null(row, 5)).then_some(["gold", "silver\n", "bronze"][row % 3]))
        .collect();
    let micros: Vec<Option<i64>> = (0..rows)
        .map(|row| {
            (!null(row, 6)).then(|| (next() % 6_000_000_000_000_000) as i64 - 3_000_000_000_000_000)
        })
        .collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "id_client",
            Arc::new(LargeStringArray::from(
                ids.iter().map(|id| id.as_deref()).collect::<Vec<_>>(),
            )),
        ),
        ("class_0", Arc::new(Float32Array::from(floats.clone()))),
        (
            "class_1",
            Arc::new(Float32Array::from(
                floats.iter().rev().copied().collect::<Vec<_>>(),
            )),
        ),
        ("segment", Arc::new(segments)),
        (
            "count",
            Arc::new(Int64Array::from(
                (0..rows)
                    .map(|row| (!null(row, 4)).then(|| next() as i64))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "version",
            Arc::new(UInt32Array::from(
                (0..rows)
                    .map(|row| (!null(row, 9)).then(|| next() as u32))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "flag",
            Arc::new(BooleanArray::from(
                (0..rows)
                    .map(|row| (!null(row, 3)).then_some(row % 2 == 0))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "scored_on",
            Arc::new(Date32Array::from(
                (0..rows)
                    .map(|row| (!null(row, 8)).then(|| (next() % 80_000) as i32 - 40_000))
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "scored_at",
            Arc::new(TimestampMicrosecondArray::from(micros.clone()).with_timezone("UTC")),
        ),
        (
            "scored_at_ms",
            Arc::new(
                TimestampMillisecondArray::from(
                    micros
                        .iter()
                        .map(|value| value.map(|value| value / 1000))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("Asia/Kolkata"),
            ),
        ),
        (
            "local_time",
            Arc::new(TimestampMicrosecondArray::from(micros)),
        ),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    RecordBatch::try_new(
        schema,
        columns.into_iter().map(|(_, array)| array).collect(),
    )
    .unwrap()
}

#[test]
fn fast_path_and_arrow_json_agree_on_every_type_the_fast_path_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typed.parquet");
    write_parquet(&file, &[fast_path_batch(4000)], 1000);
    let dataset = Dataset::open(&file).unwrap();
    assert!(predbench_exporter::message::fast_path_applies(
        &dataset.schema
    ));
    for zone in ["UTC", "Europe/Paris", "-03:30"] {
        for nulls in [NullMode::Omit, NullMode::Explicit] {
            let with = |encoder| ExportOptions {
                message: MessageOptions {
                    nulls,
                    encoder,
                    time_zone: zone.parse().unwrap(),
                    ..MessageOptions::default()
                },
                ..options(Strategy::Rayon, Grouping::Contiguous)
            };
            let fast = messages_of(&dataset, &with(EncoderChoice::Auto));
            let reference = messages_of(&dataset, &with(EncoderChoice::ArrowJson));
            assert_eq!(fast, reference, "{zone}, {nulls:?}");
            let java = |encoder| {
                let mut options = with(encoder);
                options.message.number_format = NumberFormat::Java;
                options
            };
            let java_fast = messages_of(&dataset, &java(EncoderChoice::Auto));
            assert_eq!(
                java_fast,
                messages_of(&dataset, &java(EncoderChoice::ArrowJson)),
                "{zone}, {nulls:?}, Java's spelling"
            );
            assert_ne!(
                java_fast, fast,
                "the table has numbers Java spells otherwise"
            );
            // And verify, in the same zone, finds every value again.
            let output = dir
                .path()
                .join(format!("typed-{}.ndjson", zone.replace('/', "_")));
            let _ = std::fs::remove_file(&output);
            export(
                &dataset,
                &with(EncoderChoice::Auto),
                NdjsonSink::create(&output, false).unwrap(),
                &mut |_| {},
            )
            .unwrap();
            let report = verify(
                &dataset,
                &output,
                &VerifyOptions {
                    time_zone: zone.parse().unwrap(),
                    ..verify_options(Grouping::Contiguous, 10)
                },
            )
            .unwrap();
            assert!(report.is_ok(), "{zone}: {:?}", report.first_problems);
        }
    }
    // Scores are written as floats, not widened to doubles.
    let first = &messages_of(&dataset, &options(Strategy::Rayon, Grouping::Contiguous))[0];
    assert!(
        first.contains(r#""class_0":0.0,"class_1":"#) || first.contains(r#""class_0":0.0"#),
        "{first}"
    );
    assert!(!first.contains("0.10000000149011612"), "{first}");
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
