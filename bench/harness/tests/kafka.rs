//! `compare`'s delivery to Kafka against a real Kafka-API broker on loopback
//! (started by `scripts/kafka.sh start`, which the README's test command and
//! `.ci/run` run first; PREDBENCH_KAFKA_BROKERS overrides `127.0.0.1:9092`):
//! predbench's exports (K = 10 and one prediction a record) beside their
//! baselines, the confluent-kafka producers a team would write after the
//! seed's job, every topic drained and verified, the broker restarted half way.

use std::process::{Command, Stdio};

use crate::commands::{planned_commands, recorded_commands};
use crate::compare::{named, newest_records, render_report};
use crate::{harness, hold_lock, path_arg, peers_venv, repository, stderr_of};

/// Restarts the broker when dropped: the last fault run (an idempotent
/// producer across a restart) can leave the test broker refusing records
/// until it is restarted, and the other Kafka tests share it.
struct RestartAfter;

impl Drop for RestartAfter {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repository().join("scripts/kafka.sh"))
            .arg("restart")
            .stdout(Stdio::null())
            .status();
    }
}

#[test]
fn compare_delivers_to_kafka_beside_the_producers_a_team_would_write() {
    let _broker = hold_lock("kafka");
    let _restart = RestartAfter;
    let venv = peers_venv();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let results = dir.path().join("results");
    let brokers =
        std::env::var("PREDBENCH_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_string());
    let kafka = format!("kafka://{brokers}");
    let restart = format!(
        "bash {} restart",
        repository().join("scripts/kafka.sh").display()
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
        "kafka",
        "--kafka",
        &kafka,
        "--kafka-per-prediction",
        "--peers",
        "pyspark-seed,kafka-producer-first-version,kafka-producer",
        "--peers-venv",
        path_arg(&venv),
        "--peers-dir",
        path_arg(&scripts),
        "--spark-driver-memory",
        "1g",
        "--restart-kafka",
        &restart,
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
    assert_eq!(
        recorded_commands(&records),
        planned_commands(&String::from_utf8_lossy(&dry_run.stdout))
    );
    let named = |name: &str| named(&records, name);
    // Every topic was drained and verified complete: 2,001 messages of 10
    // (the seed's job numbers its own), or 20,000 of one prediction.
    for (publisher, drain, messages) in [
        (
            "export rayon modulo kafka window 1024",
            "drain modulo kafka window 1024",
            2_001,
        ),
        (
            "export rayon modulo kafka window 1024, one prediction a record",
            "drain modulo kafka window 1024, one prediction a record",
            20_000,
        ),
        ("publish pre-serialized modulo kafka window 1024", "", 2_001),
        (
            "peer kafka-producer-first-version modulo kafka",
            "drain peer kafka-producer-first-version modulo kafka",
            2_001,
        ),
        (
            "peer kafka-producer modulo kafka",
            "drain peer kafka-producer modulo kafka",
            2_001,
        ),
    ] {
        let published = named(publisher);
        assert_eq!(published["status"], "ok", "{published}");
        assert_eq!(published["messages"], messages, "{published}");
        assert!(published["broker_peak_rss_bytes"].as_u64().unwrap() > 1 << 20);
        assert_eq!(published["configuration"]["partitions"], 3, "{published}");
        if drain.is_empty() {
            continue;
        }
        let drained = named(drain);
        assert_eq!(drained["verification"]["ok"], true, "{drained}");
        assert_eq!(drained["messages"], messages, "{drained}");
        assert_eq!(drained["drained"]["duplicates"], 0, "{drained}");
    }
    // predbench loses nothing when the broker restarts half way.
    for (export, drain, messages) in [
        (
            "export rayon modulo kafka window 1024, without idempotence, broker restarted at 1000 messages",
            "drain modulo kafka window 1024, without idempotence, broker restarted at 1000 messages",
            2_001,
        ),
        (
            "export rayon modulo kafka window 1024, one prediction a record, without idempotence, broker restarted at 10000 messages",
            "drain modulo kafka window 1024, one prediction a record, without idempotence, broker restarted at 10000 messages",
            20_000,
        ),
    ] {
        let fault = named(export);
        assert_eq!(fault["status"], "ok", "{fault}");
        assert!(
            fault["broker_restart"]["messages_in_queue"]
                .as_u64()
                .unwrap()
                > 0
        );
        let drained = named(drain);
        assert_eq!(drained["verification"]["ok"], true, "{drained}");
        assert_eq!(drained["messages"], messages, "{drained}");
    }
    // The producers' fault runs ran, and their topics were read back.
    for peer in ["kafka-producer-first-version", "kafka-producer"] {
        let drained = named(&format!(
            "drain peer {peer} modulo kafka, broker restarted at 1000 messages"
        ));
        assert_eq!(drained["status"], "ok", "{drained}");
    }
    // The report has a Kafka part: the table, the producers, the faults.
    let markdown = render_report(&results);
    let (_, kafka_part) = markdown
        .split_once("### 20,000 rows of predbench's files, into Kafka")
        .unwrap_or_else(|| panic!("no Kafka part: {markdown}"));
    assert!(
        kafka_part.contains("| K = 1 (modulo) | 1024 |"),
        "{kafka_part}"
    );
    let (_, against) = kafka_part
        .split_once("#### Against the publisher a team would write, 20k rows")
        .unwrap_or_else(|| panic!("no producers: {kafka_part}"));
    assert!(
        against
            .contains("| the seed's job, then a confluent-kafka producer (acks=all, idempotent) |"),
        "{against}"
    );
    let (_, faults) = against
        .split_once("#### The broker restarted half way, 20k rows")
        .unwrap_or_else(|| panic!("no fault runs: {against}"));
    let row = faults
        .lines()
        .find(|line| {
            line.starts_with(
                "| predbench export, K = 10 (modulo), window 1024, without idempotence |",
            )
        })
        .unwrap_or_else(|| panic!("no predbench fault row: {faults}"));
    assert!(row.contains("| 2,001 | 2,001 | 0 |"), "{row}");
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
