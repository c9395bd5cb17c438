//! Every strategy gives the same bytes and verifies; spilling, empty datasets, the null sink, a damaged page.

use super::*;

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
                    decode_ahead: DecodeAhead::forced(decode_ahead),
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
                decode_ahead: DecodeAhead::forced(decode_ahead),
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
