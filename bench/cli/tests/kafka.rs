//! The Kafka sink against a real Kafka-API broker on loopback (tansu, started
//! by `scripts/kafka.sh start`, which the README's test command and `.ci/run`
//! run first; PREDBENCH_KAFKA_BROKERS overrides `127.0.0.1:9092`): produce,
//! drain and verify; a kill -9 of the exporter followed by --resume; the broker
//! restarted in the middle of an export; bad input.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use predbench_exporter::kafka::{KafkaTarget, ensure_topic, topic_records};

use crate::{
    confirmed_below, dataset, export_to, finish_within, hold_lock, path_arg, predbench, repository,
    stderr_of,
};

/// The tests' brokers.
fn brokers() -> String {
    std::env::var("PREDBENCH_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".to_string())
}

/// A topic of its own for every test run, with `query` (`partitions=3&...`).
fn topic_url(name: &str, query: &str) -> String {
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "kafka://{}/predbench-test-{name}-{unique}?{query}",
        brokers()
    )
}

/// Drains the topic `url` into `dir/drained` and verifies it against `data`;
/// returns drain's and verify's output.
fn drain_and_verify(data: &str, url: &str, dir: &Path) -> String {
    let drained = dir.join("drained");
    let output = predbench(&[
        "drain",
        "--from",
        url,
        "--messages",
        path_arg(&drained),
        "--until-empty",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let verified = predbench(&["verify", "--input", data, "--messages", path_arg(&drained)]);
    let verdict = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(verified.status.success(), "{stdout}{verdict}");
    format!("{stdout}{verdict}")
}

/// A slow export (one thread, 256 records in flight) with a checkpoint,
/// waited for until `groups` groups are confirmed.
fn export_under_way(data: &str, url: &str, checkpoint: &Path, groups: u64) -> Child {
    let mut child = export_to(
        data,
        url,
        &[
            "--strategy",
            "single-thread",
            "--confirm-window",
            "256",
            "--checkpoint",
            path_arg(checkpoint),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let started = Instant::now();
    while confirmed_below(checkpoint) <= groups {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the export ended before it was interrupted"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn kafka(action: &str) {
    let status = Command::new("bash")
        .arg(repository().join("scripts/kafka.sh"))
        .arg(action)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "scripts/kafka.sh {action}");
}

/// A number in `text` just before `suffix`.
fn count_before(text: &str, suffix: &str) -> u64 {
    text.split(suffix)
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no count before '{suffix}' in {text}"))
}

#[test]
fn export_to_a_topic_drains_and_verifies_complete() {
    let _broker = hold_lock("kafka");
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "120000");
    let url = topic_url("round-trip", "partitions=3&compression=lz4");
    let checkpoint = dir.path().join("checkpoint.json");
    let output = export_to(&data, &url, &["--checkpoint", path_arg(&checkpoint)])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout.contains("120000 rows -> 12001 messages"), "{stdout}");
    assert_eq!(confirmed_below(&checkpoint), 12_001);
    let target = KafkaTarget::parse(&url).unwrap();
    assert_eq!(topic_records(&target).unwrap(), 12_001);

    // verify drains the topic itself; its partitions come side by side.
    let output = predbench(&["verify", "--input", &data, "--messages", &url]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("drained 12001 messages"), "{stdout}");
    assert!(
        stdout.contains("ok: 12001 messages, 120000 predictions"),
        "{stdout}"
    );

    // The checkpoint says the export is complete: --resume produces nothing.
    let output = export_to(
        &data,
        &url,
        &["--checkpoint", path_arg(&checkpoint), "--resume"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("nothing to publish"));
    assert_eq!(topic_records(&target).unwrap(), 12_001);
}

#[test]
fn a_killed_export_resumes_from_its_checkpoint_and_a_killed_drain_from_its_parts() {
    let _broker = hold_lock("kafka");
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "300000");
    let url = topic_url("resume", "partitions=2");
    let checkpoint = dir.path().join("checkpoint.json");
    let mut child = export_under_way(&data, &url, &checkpoint, 3_000);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before = confirmed_below(&checkpoint);
    assert!(done_before < 30_001, "killed too late to test anything");

    // Without --resume the checkpoint is refused and left as it is.
    let output = export_to(&data, &url, &["--checkpoint", path_arg(&checkpoint)])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("pass --resume"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(confirmed_below(&checkpoint), done_before);
    let output = export_to(
        &data,
        &url,
        &[
            "--strategy",
            "single-thread",
            "--checkpoint",
            path_arg(&checkpoint),
            "--resume",
        ],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains(&format!("resuming from group {done_before}")));
    let target = KafkaTarget::parse(&url).unwrap();
    let records = topic_records(&target).unwrap();
    assert!(records >= 30_001, "{records}");

    // A drain killed after committing parts goes on from them (and from the
    // group's offsets) when run again on its directory.
    let drained = dir.path().join("drained");
    let mut first = Command::new(env!("CARGO_BIN_EXE_predbench"))
        .args(["drain", "--from", &url, "--messages", path_arg(&drained)])
        .args(["--part-bytes", "1MiB", "--until-empty"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while committed_parts(&drained) < 3 {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the drain ended before it was killed"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let parts_before = committed_parts(&drained);
    let checked = drain_and_verify(&data, &url, dir.path());
    assert!(
        checked.contains("ok: 30001 messages, 300000 predictions"),
        "{checked}"
    );
    assert!(committed_parts(&drained) > parts_before, "{checked}");
    // Duplicates are the messages the resumed export produced again, plus,
    // when the drain died after recording a part and before committing its
    // offsets, what it reads again from the part before's offsets: that
    // part's messages (1 MiB of messages of about 9.5 KB at most) and the
    // duplicates it had already dropped there.
    let duplicates = count_before(&checked, " duplicates dropped");
    let produced_again = records - 30_001;
    let one_part = (1 << 20) / 9_000 + 1;
    assert!(
        duplicates <= 2 * produced_again + one_part,
        "{records} records: {checked}"
    );
}

/// Parts a drain's directory says are committed.
fn committed_parts(directory: &Path) -> u64 {
    std::fs::read_to_string(directory.join("_drain.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|progress| progress["summary"]["parts"].as_u64())
        .unwrap_or(0)
}

/// Starts the broker again when dropped, so a failing test does not leave
/// it stopped for the others.
struct StartAgain;

impl Drop for StartAgain {
    fn drop(&mut self) {
        kafka("start");
    }
}

#[test]
fn a_broker_restart_in_the_middle_loses_nothing() {
    let _broker = hold_lock("kafka");
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "300000");
    // Without idempotence: tansu 0.6.0's storage task panics on an
    // idempotent producer's first record after the broker's restart
    // ("more or less than one row", tansu-storage lite.rs:503), and then
    // refuses every record until it restarts again.
    let url = topic_url("restart", "partitions=2&idempotence=false");
    let checkpoint = dir.path().join("checkpoint.json");
    let child = export_under_way(&data, &url, &checkpoint, 3_000);
    {
        let _start_again = StartAgain;
        kafka("restart");
    }
    let output = finish_within(child, Duration::from_secs(300));
    assert!(output.status.success(), "{}", stderr_of(&output));
    // tansu refuses the records in flight as it stops: produced again.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("messages again"), "{stdout}");
    let checked = drain_and_verify(&data, &url, dir.path());
    assert!(
        checked.contains("ok: 30001 messages, 300000 predictions"),
        "{checked}"
    );
}

#[test]
fn publish_sends_pre_serialized_messages_to_a_topic() {
    let _broker = hold_lock("kafka");
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "20000");
    let messages = dir.path().join("messages.parquet");
    let sink = format!("parquet:{}", messages.display());
    let output = export_to(&data, &sink, &["--quiet"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let url = topic_url("publish", "partitions=2&compression=zstd");
    let output = predbench(&["publish", "--messages", path_arg(&messages), "--sink", &url]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout.contains("published 2001 messages"), "{stdout}");
    let checked = drain_and_verify(&data, &url, dir.path());
    assert!(
        checked.contains("ok: 2001 messages, 20000 predictions"),
        "{checked}"
    );
}

#[test]
fn kafka_errors_are_one_clear_line() {
    let _broker = hold_lock("kafka");
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "20000");
    let one_line = |output: &std::process::Output, expected: &str| {
        assert_eq!(output.status.code(), Some(1), "{}", stderr_of(output));
        let stderr = stderr_of(output);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    };
    // No broker: the sink named, within the metadata timeout.
    let output = export_to(&data, "kafka://127.0.0.1:1/nowhere", &[])
        .output()
        .unwrap();
    one_line(
        &output,
        "kafka://127.0.0.1:1/nowhere: cannot reach the brokers",
    );
    // A topic that has other partitions than asked for.
    let url = topic_url("partitions", "partitions=2");
    ensure_topic(&KafkaTarget::parse(&url).unwrap()).unwrap();
    let three = url.replace("partitions=2", "partitions=3");
    let output = export_to(&data, &three, &[]).output().unwrap();
    one_line(&output, "has 2 partitions, not the 3 asked for");
    // A message over the producer's message.max.bytes (1,000,000).
    let output = export_to(
        &data,
        &topic_url("too-large", ""),
        &["--grouping", "packed", "--max-message-bytes", "4MiB"],
    )
    .output()
    .unwrap();
    one_line(&output, "message 0");
    // A URL it cannot use.
    let output = export_to(&data, "kafka://127.0.0.1:9092", &[])
        .output()
        .unwrap();
    one_line(&output, "names no topic");
    // Nothing to drain.
    let drained = dir.path().join("drained");
    let output = predbench(&[
        "drain",
        "--from",
        &topic_url("missing", ""),
        "--messages",
        path_arg(&drained),
    ]);
    one_line(&output, "no topic");
    assert!(
        !drained.exists(),
        "a drain that could not start leaves no directory"
    );
}
