//! `compare`'s delivery to a queue against a real broker on loopback
//! (started by `scripts/rabbitmq.sh start`, which the README's test command
//! and `.ci/run` run first; PREDBENCH_AMQP_URL overrides
//! `amqp://guest:guest@127.0.0.1:5672/%2f`): predbench's exports beside
//! their baselines, drained and verified; the publishers a team would write;
//! the broker restarted half way; drains beside the publishers.

use std::path::Path;

use crate::commands::{planned_commands, recorded_commands};
use crate::compare::{failure_detail, named, newest_records, render_report};
use crate::{broker, harness, hold_broker, path_arg, peers_venv, repository, stderr_of};

/// `compare` of 5,000 rows, `rayon` modulo and packed to 16 KiB into the
/// queues of `broker` at `windows`.
fn compare_queue(dir: &Path, broker: &str, windows: &str) -> std::process::Output {
    harness(&[
        "compare",
        "--rows",
        "5k",
        "--runs",
        "1",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo,packed",
        "--max-message-bytes",
        "16KiB",
        "--sinks",
        "amqp",
        "--confirm-windows",
        windows,
        "--amqp",
        broker,
        "--skip-disk-floor",
        "--skip-generate",
        "--data-dir",
        path_arg(&dir.join("data")),
        "--results",
        path_arg(&dir.join("results")),
    ])
}

#[test]
fn compare_measures_the_queue_beside_its_baseline() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let results = dir.path().join("results");
    let output = compare_queue(dir.path(), &broker(), "16,256");
    assert!(output.status.success(), "{}", stderr_of(&output));
    let records = newest_records(&results);
    // 2 groupings x 2 windows: exports, their drains and the baselines.
    assert_eq!(records.len(), 12, "{records:?}");
    for window in ["16", "256"] {
        for grouping in ["modulo", "packed"] {
            let export = named(
                &records,
                &format!("export rayon {grouping} amqp window {window}"),
            );
            assert_eq!(export["status"], "ok", "{export}");
            // The queue is read back by a measured drain, whose output is verified.
            let drain = named(&records, &format!("drain {grouping} amqp window {window}"));
            assert_eq!(drain["status"], "ok", "{drain}");
            assert_eq!(drain["verification"]["ok"], true, "{drain}");
            assert_eq!(drain["messages"], export["messages"], "{drain}");
            assert_eq!(drain["rows"], 5_000, "{drain}");
            let baseline = named(
                &records,
                &format!("publish pre-serialized {grouping} amqp window {window}"),
            );
            assert_eq!(baseline["status"], "ok", "{baseline}");
            assert_eq!(baseline["messages"], export["messages"]);
            assert_eq!(baseline["configuration"]["kind"], "publish");
            let messages = export["messages"].as_u64().unwrap();
            if grouping == "modulo" {
                assert_eq!(messages, 501);
            } else {
                // 5,000 predictions of about 700 bytes, packed to 16 KiB.
                assert!((100..501).contains(&messages), "{export}");
            }
        }
    }
    let markdown = render_report(&results);
    let (_, section) = markdown
        .split_once("## Delivery to a queue")
        .unwrap_or_else(|| panic!("no queue section: {markdown}"));
    let cells = |line: &str| -> Vec<String> {
        line.split('|')
            .map(|cell| cell.trim().to_string())
            .collect()
    };
    let header = cells(
        section
            .lines()
            .find(|line| line.starts_with("| messages |"))
            .unwrap_or_else(|| panic!("no table: {section}")),
    );
    let column = |name: &str| {
        header
            .iter()
            .position(|cell| cell == name)
            .unwrap_or_else(|| panic!("no column {name}: {header:?}"))
    };
    for messages in ["K = 10 (modulo)", "packed to 16.0 KiB"] {
        let line = section
            .lines()
            .find(|line| line.starts_with(&format!("| {messages} | 256 |")))
            .unwrap_or_else(|| panic!("no {messages} row: {section}"));
        let row = cells(line);
        let cell = |name: &str| row[column(name)].as_str();
        // Each export beside the baseline of the same messages: a ratio in its row.
        assert!(cell("× baseline").parse::<f64>().is_ok(), "{line}");
        // CPU beside wall time, the export's and its baseline's.
        for name in ["CPU user / sys s", "baseline CPU user / sys s"] {
            let (user, system) = cell(name).split_once(" / ").unwrap();
            assert!(user.parse::<f64>().is_ok(), "{line}");
            assert!(system.parse::<f64>().is_ok(), "{line}");
        }
        // The broker's peak memory, sampled while the export ran.
        let broker = cell("broker peak RSS");
        assert!(broker.ends_with("MiB") || broker.ends_with("GiB"), "{line}");
        // The drain's time beside the export's, and its verdict.
        assert!(cell("drain / export").parse::<f64>().is_ok(), "{line}");
        assert_eq!(cell("verified"), "✓", "{line}");
    }
    assert!(markdown.contains("**Into RabbitMQ**"), "{markdown}");

    // Without a broker the queue configurations are recorded as failed with the fix.
    let output = compare_queue(dir.path(), "amqp://guest:guest@127.0.0.1:1/%2f", "1024");
    assert_eq!(output.status.code(), Some(1));
    let records = newest_records(&results);
    let failed = named(&records, "export rayon modulo amqp window 1024");
    assert_eq!(failed["status"], "failed");
    assert!(
        failure_detail(failed).contains("scripts/rabbitmq.sh start"),
        "{failed}"
    );
}

/// `compare` of 20,000 rows into the queues: predbench (classic and quorum
/// queues) beside the pika publishers of the seed's job's messages and Spark
/// publishing from its executors, each drained and verified, then every
/// publisher once more with the broker restarted half way.
#[test]
fn compare_delivers_beside_the_publishers_a_team_would_write_and_restarts_the_broker() {
    let _broker = hold_broker();
    let venv = peers_venv();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let results = dir.path().join("results");
    let restart = format!(
        "bash {} restart",
        repository().join("scripts/rabbitmq.sh").display()
    );
    let scripts = repository().join("scripts/peers");
    let data = dir.path().join("data");
    let arguments = [
        "compare",
        "--rows",
        "20k",
        "--runs",
        "1",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo",
        "--sinks",
        "amqp",
        "--queue-types",
        "classic,quorum",
        "--peers",
        "pyspark-seed,pika-publisher,pika-publisher-no-confirms,spark-publish",
        "--peers-venv",
        path_arg(&venv),
        "--peers-dir",
        path_arg(&scripts),
        "--spark-driver-memory",
        "1g",
        "--restart-broker",
        &restart,
        "--amqp",
        &broker(),
        "--skip-disk-floor",
        "--skip-generate",
        "--skip-edge-cases",
        "--data-dir",
        path_arg(&data),
        "--results",
        path_arg(&results),
    ];
    let dry_run = harness(&[&arguments[..], &["--dry-run"]].concat());
    assert!(dry_run.status.success(), "{}", stderr_of(&dry_run));
    let output = harness(&arguments);
    let records = newest_records(&results);
    // The session ran what its dry run said, and nothing else: every
    // publisher, drain, verification and fault run was planned beforehand.
    assert_eq!(
        recorded_commands(&records),
        planned_commands(&String::from_utf8_lossy(&dry_run.stdout))
    );
    let named = |name: &str| named(&records, name);
    // Every publisher's queue was drained and verified complete.
    for (publisher, drain) in [
        (
            "export rayon modulo amqp window 1024",
            "drain modulo amqp window 1024",
        ),
        (
            "export rayon modulo amqp window 1024, quorum queue",
            "drain modulo amqp window 1024, quorum queue",
        ),
        (
            "peer pika-publisher modulo amqp",
            "drain peer pika-publisher modulo amqp",
        ),
        (
            "peer pika-publisher-no-confirms modulo amqp",
            "drain peer pika-publisher-no-confirms modulo amqp",
        ),
        // Spark's tasks publish side by side: drained in any order.
        (
            "peer spark-publish modulo amqp",
            "drain peer spark-publish modulo amqp",
        ),
    ] {
        let published = named(publisher);
        assert_eq!(published["status"], "ok", "{published}");
        assert_eq!(published["messages"], 2_001, "{published}");
        assert!(published["broker_peak_rss_bytes"].as_u64().unwrap() > 1 << 20);
        let drained = named(drain);
        assert_eq!(drained["verification"]["ok"], true, "{drained}");
        assert_eq!(drained["messages"], 2_001, "{drained}");
        assert_eq!(drained["drained"]["duplicates"], 0, "{drained}");
    }
    // predbench loses nothing when the broker restarts half way: the
    // restart happened, the export reconnected, the drain found every message.
    // (Fault runs are of classic queues.)
    assert!(records.iter().all(|record| {
        !record["configuration"]["name"]
            .as_str()
            .unwrap()
            .contains("quorum queue, broker")
    }));
    let fault = named("export rayon modulo amqp window 1024, broker restarted at 1000 messages");
    assert_eq!(fault["status"], "ok", "{fault}");
    let restart = &fault["broker_restart"];
    assert!(
        restart["messages_in_queue"].as_u64().unwrap() >= 1_000,
        "{fault}"
    );
    let drained = named("drain modulo amqp window 1024, broker restarted at 1000 messages");
    assert_eq!(drained["verification"]["ok"], true, "{drained}");
    assert_eq!(drained["messages"], 2_001, "{drained}");
    // The other publishers ran their fault runs too, and their queues were drained.
    for peer in [
        "pika-publisher",
        "pika-publisher-no-confirms",
        "spark-publish",
    ] {
        let drained = named(&format!(
            "drain peer {peer} modulo amqp, broker restarted at 1000 messages"
        ));
        assert_eq!(drained["status"], "ok", "{drained}");
        assert!(drained["verification"].is_object(), "{drained}");
    }
    // The report shows the publishers beside predbench, and what each lost.
    let markdown = render_report(&results);
    let (_, against) = markdown
        .split_once("#### Against the publisher a team would write, 20k rows")
        .unwrap_or_else(|| panic!("no delivery comparison: {markdown}"));
    let row = against
        .lines()
        .find(|line| line.starts_with("| the seed's job, then a pika publisher with confirms |"))
        .unwrap_or_else(|| panic!("no pika row: {against}"));
    // End to end: the seed's job plus the publisher, × predbench's time.
    assert!(row.contains("pyspark-seed "), "{row}");
    let times = row.split('|').nth(6).unwrap().trim();
    assert!(times.parse::<f64>().unwrap() > 1.0, "{row}");
    let (_, faults) = against
        .split_once("#### The broker restarted half way, 20k rows")
        .unwrap_or_else(|| panic!("no fault runs: {against}"));
    let row = faults
        .lines()
        .find(|line| line.starts_with("| predbench export, K = 10 (modulo), window 1024 |"))
        .unwrap_or_else(|| panic!("no predbench fault row: {faults}"));
    // Expected, delivered, lost 0, verified.
    assert!(row.contains("| 2,001 | 2,001 | 0 |"), "{row}");
    assert!(row.trim_end().ends_with("| ✓ |"), "{row}");
    // A fault run that loses messages fails the comparison (its publisher failed).
    let failed = records
        .iter()
        .filter(|record| record["status"] == "failed")
        .count();
    assert_eq!(
        output.status.success(),
        failed == 0,
        "{}",
        stderr_of(&output)
    );
}

/// `compare --drain-beside`: the drain runs while the export publishes and
/// still reads every message; the baselines, publishing half the messages
/// twice over (`--baseline-passes 2`), are drained beside too.
#[test]
fn compare_drains_beside_the_export() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let results = dir.path().join("results");
    let output = harness(&[
        "compare",
        "--rows",
        "50k",
        "--runs",
        "1",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo,packed",
        "--max-message-bytes",
        "16KiB",
        "--sinks",
        "amqp",
        "--drain-beside",
        "--drain-compression",
        "zstd",
        "--baseline-passes",
        "2",
        "--amqp",
        &broker(),
        "--skip-disk-floor",
        "--skip-generate",
        "--data-dir",
        path_arg(&dir.path().join("data")),
        "--results",
        path_arg(&results),
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let records = newest_records(&results);
    for grouping in ["modulo", "packed"] {
        let export = named(
            &records,
            &format!("export rayon {grouping} amqp window 1024"),
        );
        let drain = named(
            &records,
            &format!("drain {grouping} amqp window 1024, beside the publisher"),
        );
        assert_eq!(drain["verification"]["ok"], true, "{drain}");
        assert_eq!(drain["messages"], export["messages"], "{drain}");
        assert!(
            drain["configuration"]["command"]
                .as_array()
                .unwrap()
                .iter()
                .any(|word| word == "zstd")
        );
        // It ran beside the export: it started before the export ended (to
        // the second the records keep), not told the last group, and ended
        // after 10 s without a message.
        let second = |record: &serde_json::Value| {
            let time = record["started_at"].as_str().unwrap();
            let clock: Vec<f64> = time[11..19]
                .split(':')
                .map(|part| part.parse().unwrap())
                .collect();
            clock[0] * 3600.0 + clock[1] * 60.0 + clock[2]
        };
        let export_end = second(export) + export["wall_seconds"].as_f64().unwrap() + 1.0;
        assert!(second(drain) <= export_end, "{export} {drain}");
        let command = drain["configuration"]["command"].as_array().unwrap();
        assert!(
            !command.iter().any(|word| word == "--last-group"),
            "{drain}"
        );
        assert!(drain["wall_seconds"].as_f64().unwrap() >= 10.0, "{drain}");
        assert!(
            export["broker_peak_rss_bytes"].as_u64().unwrap() > 1 << 20,
            "{drain}"
        );
        // The baseline: shard 0/2's messages twice, numbered on from one
        // pass to the next, all read back by its own drain. (Packed: the
        // messages of the first half of the rows, whose last is cut short,
        // so twice that may be a message more than the export's.)
        let baseline = named(
            &records,
            &format!("publish pre-serialized {grouping} amqp window 1024, shard 0/2 2 times"),
        );
        assert_eq!(baseline["status"], "ok", "{baseline}");
        let published = baseline["messages"].as_u64().unwrap();
        let exported = export["messages"].as_u64().unwrap();
        let slack = if grouping == "packed" { 2 } else { 1 };
        assert!(published.abs_diff(exported) <= slack, "{baseline} {export}");
        let drained = named(
            &records,
            &format!(
                "drain pre-serialized {grouping} amqp window 1024, shard 0/2 2 times, beside the publisher"
            ),
        );
        assert_eq!(drained["messages"].as_u64(), Some(published), "{drained}");
        assert_eq!(drained["drained"]["duplicates"], 0, "{drained}");
        assert_eq!(drained["drained"]["missing"], 0, "{drained}");
    }
    // The report says how the baselines ran.
    let markdown = render_report(&results);
    assert!(
        markdown.contains("(`compare --baseline-passes 2`)"),
        "{markdown}"
    );
}
