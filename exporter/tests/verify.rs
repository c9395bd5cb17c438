//! verify against changed, missing and repeated predictions, part directories, threads, large row groups.

use super::*;

#[test]
fn any_message_order_takes_the_groups_in_any_order_and_nothing_else() {
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
    let check = |lines: Vec<String>, grouping: Grouping| {
        let text = dir.path().join("shuffled.ndjson");
        std::fs::write(&text, lines.join("\n")).unwrap();
        let options = VerifyOptions {
            any_message_order: true,
            ..verify_options(grouping, 10)
        };
        verify(&dataset, &text, &options).unwrap()
    };
    let messages: Vec<String> = good.lines().map(str::to_string).collect();
    // The same messages, last first: every group once, in order inside.
    let reversed: Vec<String> = messages.iter().rev().cloned().collect();
    let report = check(reversed.clone(), Grouping::Modulo);
    assert!(report.is_ok(), "{:?}", report.first_problems);
    // Not the groups of another grouping.
    assert!(!check(reversed, Grouping::Contiguous).is_ok());
    let members = |line: &str| -> Vec<serde_json::Value> {
        serde_json::from_str::<Vec<serde_json::Value>>(line).unwrap()
    };
    let joined = |members: &[serde_json::Value]| serde_json::to_string(members).unwrap();
    // A message's members out of order.
    let mut swapped = messages.clone();
    let mut first = members(&swapped[0]);
    first.swap(0, 1);
    swapped[0] = joined(&first);
    let report = check(swapped, Grouping::Modulo);
    assert!(
        report.first_problems[0].contains("not in ascending sequential id"),
        "{:?}",
        report.first_problems
    );
    // A member moved into the next message: two messages are wrong.
    let mut moved = messages.clone();
    let (mut from, mut to) = (members(&moved[0]), members(&moved[1]));
    to.push(from.pop().unwrap());
    moved[0] = joined(&from);
    moved[1] = joined(&to);
    let report = check(moved, Grouping::Modulo);
    assert!(report.problems >= 2, "{:?}", report.first_problems);
    assert!(
        report
            .first_problems
            .iter()
            .any(|problem| problem.contains("holds members of groups 1 and 0")),
        "{:?}",
        report.first_problems
    );
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
