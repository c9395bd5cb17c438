//! Shards read in order are the one-machine export, byte for byte.

use super::*;

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
                    let shard = predbench_common::Shard::new(index, count).unwrap();
                    let sharded = ExportOptions {
                        shard,
                        strategy,
                        decode_ahead: DecodeAhead::forced(decode_ahead),
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
        shard: predbench_common::Shard::new(0, 2).unwrap(),
        ..options(Strategy::WindowSort, Grouping::Modulo)
    };
    let error = export(&dataset, &sharded, NullSink::default(), &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("invalid shard"), "{error}");
    assert!(
        error.to_string().contains("use rayon or single-thread"),
        "{error}"
    );
}
