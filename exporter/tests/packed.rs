//! Packed messages: as many consecutive rows as fit, resumed at a message start, refusals, and verify of them.

use super::*;

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
fn packed_shard_0_is_the_whole_exports_first_messages_up_to_its_last_row() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::open(&generated(dir.path(), 2_000)).unwrap();
    let packed = |shard: &str, name: &str| {
        let path = dir.path().join(name);
        export_to(
            &dataset,
            &ExportOptions {
                max_message_bytes: Some(2_000),
                shard: shard.parse().unwrap(),
                ..options(Strategy::Rayon, Grouping::Packed)
            },
            "ndjson",
            &path,
        );
        lines_of(&path)
    };
    let whole = packed("0/1", "whole.ndjson");
    let share = packed("0/3", "share.ndjson");
    let (last, full) = share.split_last().unwrap();
    assert_eq!(full, &whole[..full.len()]);
    // The last message stops at row 2000 / 3 = 666: a prefix of the whole
    // export's message it would have grown into.
    let rows: usize = share.iter().map(|m| objects_of(m).len()).sum();
    assert_eq!(rows, 666);
    let straddling = objects_of(&whole[full.len()]);
    let last = objects_of(last);
    assert!(last.len() <= straddling.len(), "{} rows", last.len());
    assert_eq!(last[..], straddling[..last.len()]);
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
    assert!(run(packed.clone()).contains("packed needs `max_message_bytes`"));
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
    assert!(error.contains("invalid shard"), "{error}");
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
