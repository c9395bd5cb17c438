//! The RabbitMQ sink against a real broker on loopback (started by
//! `scripts/rabbitmq.sh start`, which the README's test command and `.ci/run`
//! run first; PREDBENCH_AMQP_URL overrides `amqp://guest:guest@127.0.0.1:5672/%2f`):
//! publish, drain and verify; a broker restart in the middle of a run; a kill -9
//! of the exporter followed by --resume; drains that stop, resume and read
//! any order; bad input.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use predbench_exporter::queue::{self, AmqpTarget, declare_queue};

use crate::{
    broker, confirmed_below, dataset, export_to, finish_within, hold_broker, path_arg, predbench,
    read_drained_ids, repository, stderr_of,
};

/// A queue URL of its own for every test run.
fn queue_url(name: &str) -> String {
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}?queue=predbench-test-{name}-{unique}", broker())
}

/// Verifies the queue `url` against `data` by draining it, with verify's
/// `flags` (the grouping); returns drain's and verify's output.
fn drain_and_verify(data: &str, url: &str, dir: &Path, flags: &[&str]) -> String {
    let drained = dir.join("drained");
    let output = predbench(&["drain", "--from", url, "--messages", path_arg(&drained)]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let mut verify = vec!["verify", "--input", data, "--messages", path_arg(&drained)];
    verify.extend_from_slice(flags);
    let verified = predbench(&verify);
    let verdict = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(verified.status.success(), "{verdict}");
    format!("{stdout}{verdict}")
}

/// Runs `command` to its end, at most `limit`.
fn output_within(command: &mut Command, limit: Duration) -> std::process::Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish_within(child, limit)
}

/// Waits until the running export has confirmed more than `groups` groups.
fn wait_for_progress(child: &mut Child, checkpoint: &Path, groups: u64) {
    let started = Instant::now();
    while confirmed_below(checkpoint) <= groups {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the export ended before it was interrupted"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The queue `name` on the tests' broker.
fn target(name: &str) -> AmqpTarget {
    AmqpTarget::parse(&format!("{}?queue={name}", broker())).unwrap()
}

/// Declares a queue that is not durable, as another program might have.
fn declare_transient_queue(name: &str) {
    declare_queue(&target(name), false).unwrap();
}

/// Declares a durable queue and publishes `messages` (message_id, body) to it.
fn publish_raw(name: &str, messages: &[(&str, &[u8])]) {
    queue::publish_raw(&target(name), messages).unwrap();
}

/// Messages waiting in queue `name`.
fn queue_depth(name: &str) -> u64 {
    queue::queue_depth(&target(name)).unwrap()
}

/// Committed parts and the progress of a drain's directory.
fn drain_progress(directory: &Path) -> (u64, bool) {
    std::fs::read_to_string(directory.join("_drain.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .map_or((0, false), |progress| {
            (
                progress["summary"]["parts"].as_u64().unwrap_or(0),
                progress["complete"] == true,
            )
        })
}

fn rabbitmq(action: &str) {
    let status = Command::new("bash")
        .arg(repository().join("scripts/rabbitmq.sh"))
        .arg(action)
        .status()
        .unwrap();
    assert!(status.success(), "scripts/rabbitmq.sh {action}");
}

#[test]
fn export_to_a_queue_drains_and_verifies_complete() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "120000");
    let url = queue_url("round-trip");
    let checkpoint = dir.path().join("checkpoint.json");
    let output = export_to(
        &data,
        &url,
        &[
            "--confirm-window",
            "256",
            "--checkpoint",
            path_arg(&checkpoint),
        ],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout.contains("120000 rows -> 12001 messages"), "{stdout}");
    assert!(
        !stdout.contains("guest:guest"),
        "the password is never printed: {stdout}"
    );
    assert_eq!(confirmed_below(&checkpoint), 12_001);

    // verify drains the queue itself.
    let output = predbench(&["verify", "--input", &data, "--messages", &url]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("drained 12001 messages"), "{stdout}");
    assert!(
        stdout.contains("ok: 12001 messages, 120000 predictions"),
        "{stdout}"
    );

    // The checkpoint says the export is complete: --resume publishes nothing.
    let output = export_to(
        &data,
        &url,
        &["--checkpoint", path_arg(&checkpoint), "--resume"],
    )
    .output()
    .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("nothing to publish"));
}

#[test]
fn a_quorum_queue_is_declared_as_one_and_drains_complete() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "5000");
    let url = format!("{}&queue_type=quorum", queue_url("quorum"));
    let output = export_to(&data, &url, &["--quiet"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let verdict = drain_and_verify(&data, &url, dir.path(), &[]);
    assert!(
        verdict.contains("ok: 501 messages, 5000 predictions"),
        "{verdict}"
    );
    // The same queue asked for as classic: the broker refuses, in one line.
    let classic = url.replace("queue_type=quorum", "queue_type=classic");
    let output = export_to(&data, &classic, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("x-queue-type"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// A slow export (one thread, a confirm window of 64) to `url` with a
/// checkpoint, started and waited for until 2,000 groups are confirmed: a
/// publisher to fault half way.
fn export_under_way(
    data: &str,
    url: &str,
    checkpoint: &Path,
    extra: &[&str],
) -> std::process::Child {
    let mut arguments = vec![
        "--strategy",
        "single-thread",
        "--confirm-window",
        "64",
        "--checkpoint",
        path_arg(checkpoint),
    ];
    arguments.extend(extra);
    let mut child = export_to(data, url, &arguments)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_progress(&mut child, checkpoint, 2_000);
    child
}

#[test]
fn a_broker_restart_in_the_middle_loses_nothing() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "400000");
    let url = queue_url("restart");
    let checkpoint = dir.path().join("checkpoint.json");
    let child = export_under_way(&data, &url, &checkpoint, &[]);
    rabbitmq("restart");
    let output = finish_within(child, Duration::from_secs(300));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout.contains("reconnected"), "{stdout}");
    let checked = drain_and_verify(&data, &url, dir.path(), &[]);
    assert!(
        checked.contains("ok: 40001 messages, 400000 predictions"),
        "{checked}"
    );
}

/// Starts the broker again when dropped, so a failing test does not leave
/// it stopped for the others.
struct StartAgain;

impl Drop for StartAgain {
    fn drop(&mut self) {
        rabbitmq("start");
    }
}

#[test]
fn a_broker_gone_longer_than_the_retry_time_fails_in_one_line_and_resume_finishes() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "400000");
    let url = queue_url("gone");
    let checkpoint = dir.path().join("checkpoint.json");
    let child = export_under_way(&data, &url, &checkpoint, &["--retry-seconds", "3"]);
    let output = {
        let _start_again = StartAgain;
        rabbitmq("stop");
        finish_within(child, Duration::from_secs(120))
    };
    // One line naming what happened; the checkpoint kept.
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("could not reconnect"), "{stderr}");
    let confirmed = confirmed_below(&checkpoint);
    assert!(confirmed > 2_000, "{confirmed}");
    // --resume finishes the job, and nothing is lost.
    let output = output_within(
        &mut export_to(
            &data,
            &url,
            &[
                "--strategy",
                "single-thread",
                "--checkpoint",
                path_arg(&checkpoint),
                "--resume",
            ],
        ),
        Duration::from_secs(300),
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let checked = drain_and_verify(&data, &url, dir.path(), &[]);
    assert!(
        checked.contains("ok: 40001 messages, 400000 predictions"),
        "{checked}"
    );
}

#[test]
fn a_killed_export_resumes_from_its_checkpoint() {
    kill_and_resume("resume", &[]);
}

#[test]
fn a_killed_packed_export_resumes_from_its_checkpoint() {
    // About 12 predictions a message.
    kill_and_resume(
        "resume-packed",
        &["--grouping", "packed", "--max-message-bytes", "8KiB"],
    );
}

/// Exports 300k rows with `grouping` flags, kills the exporter (SIGKILL) in
/// the middle, resumes it from its checkpoint, and checks the queue: complete,
/// and duplicates only among the messages after the checkpoint.
fn kill_and_resume(name: &str, grouping: &[&str]) {
    let _broker = hold_broker();
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "300000");
    let url = queue_url(name);
    let checkpoint = dir.path().join("checkpoint.json");
    let window = 128;
    let window_text = window.to_string();
    let mut flags = vec![
        "--strategy",
        "single-thread",
        "--confirm-window",
        &window_text,
        "--checkpoint",
        path_arg(&checkpoint),
    ];
    flags.extend_from_slice(grouping);
    let mut child = export_to(&data, &url, &flags)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_progress(&mut child, &checkpoint, 3_000);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before = confirmed_below(&checkpoint);
    assert!(done_before < 20_001, "killed too late to test anything");

    // Without --resume the checkpoint is refused and left as it is.
    let output = export_to(&data, &url, &flags).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("pass --resume"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(confirmed_below(&checkpoint), done_before);

    let mut resumed = flags.clone();
    resumed.push("--resume");
    let output = output_within(
        &mut export_to(&data, &url, &resumed),
        Duration::from_secs(300),
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains(&format!("resuming from group {done_before}")));

    let checked = drain_and_verify(&data, &url, dir.path(), grouping);
    let messages: u64 = checked
        .split("ok: ")
        .nth(1)
        .and_then(|tail| tail.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("verify is not ok: {checked}"));
    assert!(checked.contains(" 300000 predictions"), "{checked}");
    if grouping.is_empty() {
        assert_eq!(messages, 30_001, "{checked}");
    }
    // Only messages of the unconfirmed window (and the checkpoint's lag) came twice.
    let duplicates: u64 = checked
        .split(" duplicates dropped")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|count| count.parse().ok())
        .expect("drain reports its duplicates");
    assert!(duplicates > 0, "{checked}");
    assert!(duplicates <= messages - done_before, "{checked}");
}

#[test]
fn queue_errors_are_one_clear_line() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir().unwrap();
    let data = dataset(dir.path(), "2000");
    let unreachable = "amqp://guest:guest@127.0.0.1:1/%2f?queue=nowhere";
    let output = export_to(&data, unreachable, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("guest:guest"), "{stderr}");

    let wrong = queue_url("wrong").replace("guest:guest", "guest:wrong");
    let output = export_to(&data, &wrong, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.to_lowercase().contains("access") || stderr.contains("password"),
        "{stderr}"
    );
    assert!(!stderr.contains("guest:wrong"), "{stderr}");

    let url = queue_url("limit");
    let output = export_to(&data, &url, &["--max-message-bytes", "1000"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("--max-message-bytes"), "{stderr}");
    assert!(stderr.contains("group 0"), "{stderr}");

    // A queue someone declared with other arguments (not durable here).
    let other = queue_url("other-arguments");
    let name = other.rsplit_once("queue=").unwrap().1.to_string();
    declare_transient_queue(&name);
    let output = export_to(&data, &other, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("PRECONDITION_FAILED"), "{stderr}");
    assert!(
        stderr.contains("the queue exists with other arguments"),
        "{stderr}"
    );

    // A checkpoint of another export is refused and kept.
    let checkpoint = dir.path().join("checkpoint.json");
    let output = export_to(&data, &url, &["--checkpoint", path_arg(&checkpoint)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let before = std::fs::read(&checkpoint).unwrap();
    let output = export_to(
        &data,
        &url,
        &[
            "--checkpoint",
            path_arg(&checkpoint),
            "--resume",
            "--group-size",
            "5",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("another dataset, other options"));
    assert_eq!(std::fs::read(&checkpoint).unwrap(), before);
}

#[test]
fn a_killed_drain_goes_on_from_its_committed_parts_and_loses_nothing() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dataset(dir.path(), "300000");
    let url = queue_url("killed-drain");
    let output = output_within(
        &mut export_to(&data, &url, &["--quiet"]),
        Duration::from_secs(300),
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let drained = dir.path().join("drained");
    let mut child = Command::new(env!("CARGO_BIN_EXE_predbench"))
        .args(["drain", "--from", &url, "--messages", path_arg(&drained)])
        .args(["--part-bytes", "4MiB", "--window-bytes", "16MiB", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while drain_progress(&drained).0 < 3 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the drain ended before it was killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no part committed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (parts, complete) = drain_progress(&drained);
    assert!(!complete);
    // Nothing at a final path but committed parts (and at most the one renamed
    // before its progress was written): no partial file.
    for entry in std::fs::read_dir(&drained).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let part = name
            .strip_prefix("part-")
            .and_then(|rest| rest.strip_suffix(".parquet"))
            .and_then(|index| index.parse::<u64>().ok());
        assert!(
            name == "_drain.json"
                || name.starts_with('.')
                || part.is_some_and(|index| index <= parts),
            "{name} after {parts} committed parts"
        );
    }
    // The queue still holds everything not acknowledged; the next drain goes on.
    assert!(queue_depth(url.rsplit_once("queue=").unwrap().1) > 0);
    let output = output_within(
        Command::new(env!("CARGO_BIN_EXE_predbench")).args([
            "drain",
            "--from",
            &url,
            "--messages",
            path_arg(&drained),
            "--idle-seconds",
            "2",
        ]),
        Duration::from_secs(300),
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(drain_progress(&drained).1);
    let verified = predbench(&["verify", "--input", &data, "--messages", path_arg(&drained)]);
    let verdict = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{verdict}");
    assert!(
        verdict.contains("ok: 30001 messages, 300000 predictions"),
        "{verdict}"
    );
    assert_eq!(queue_depth(url.rsplit_once("queue=").unwrap().1), 0);
}

#[test]
fn a_drain_beside_a_running_export_reads_it_all() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dataset(dir.path(), "120000");
    let url = queue_url("beside");
    let name = url.rsplit_once("queue=").unwrap().1.to_string();
    publish_raw(&name, &[]);
    let drained = dir.path().join("drained");
    // The drain starts first, on an empty queue, and stops at the export's last message.
    let drain = Command::new(env!("CARGO_BIN_EXE_predbench"))
        .args(["drain", "--from", &url, "--messages", path_arg(&drained)])
        .args(["--last-group", "12000", "--idle-seconds", "60", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = output_within(
        &mut export_to(&data, &url, &["--quiet"]),
        Duration::from_secs(300),
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let output = finish_within(drain, Duration::from_secs(120));
    assert!(output.status.success(), "{}", stderr_of(&output));
    let verified = predbench(&["verify", "--input", &data, "--messages", path_arg(&drained)]);
    let verdict = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{verdict}");
    assert!(
        verdict.contains("ok: 12001 messages, 120000 predictions"),
        "{verdict}"
    );
}

#[test]
fn drain_errors_are_one_line_and_acknowledge_nothing_not_on_disk() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir().unwrap();
    let drained = dir.path().join("drained");
    // A queue that does not exist.
    let url = queue_url("missing");
    let output = predbench(&["drain", "--from", &url, "--messages", path_arg(&drained)]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("no queue"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // A drain that could not start leaves no directory behind.
    assert!(!drained.exists());
    // Nor does one whose broker is not there.
    let nowhere = "amqp://guest:guest@127.0.0.1:1/%2f?queue=nowhere";
    let output = predbench(&["drain", "--from", nowhere, "--messages", path_arg(&drained)]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr_of(&output).lines().count(),
        1,
        "{}",
        stderr_of(&output)
    );
    assert!(!drained.exists());
    // A queue out of message_id order by more than the prefetch window: the
    // drain says it stalled instead of counting the rest as lost.
    let url = queue_url("out-of-order");
    let name = url.rsplit_once("queue=").unwrap().1.to_string();
    let ids: Vec<String> = (1..=40).map(|id| id.to_string()).collect();
    let messages: Vec<(&str, &[u8])> = ids
        .iter()
        .map(|id| (id.as_str(), &br#"[{"a":1}]"#[..]))
        .collect();
    publish_raw(&name, &messages);
    let stalled = dir.path().join("stalled");
    let output = predbench(&[
        "drain",
        "--from",
        &url,
        "--messages",
        path_arg(&stalled),
        "--window-bytes",
        "1",
        "--idle-seconds",
        "2",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("stalled"), "{stderr}");
    assert!(stderr.contains("after message_id 0"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(queue_depth(&name), 40);
    // A message that is not JSON, and one whose message_id is not a number.
    for (case, messages, expected) in [
        (
            "not-json",
            vec![("0", &br#"[{"a":1}]"#[..]), ("1", &b"hello"[..])],
            "not a JSON array",
        ),
        (
            "bad-id",
            vec![("0", &br#"[{"a":1}]"#[..]), ("x", &b"[]"[..])],
            "no numeric message_id",
        ),
    ] {
        let url = queue_url(case);
        let name = url.rsplit_once("queue=").unwrap().1.to_string();
        publish_raw(&name, &messages);
        let drained = dir.path().join(case);
        let output = predbench(&[
            "drain",
            "--from",
            &url,
            "--messages",
            path_arg(&drained),
            "--idle-seconds",
            "2",
        ]);
        assert_eq!(output.status.code(), Some(1), "{case}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(expected), "{case}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{case}: {stderr}");
        // No part was committed, so nothing was acknowledged: both messages wait.
        let parts = std::fs::read_dir(&drained)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|entry| entry.file_name().to_string_lossy().starts_with("part-"))
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(parts, 0, "{case}");
        assert_eq!(queue_depth(&name), 2, "{case}");
    }
}

/// `drain --any-order` reads a queue in no order at all (as Spark's tasks
/// publish it), drops duplicates by `message_id`, counts the gap, commits in
/// parts, and a second run goes on from the first without rewriting what it
/// committed; a drain in the other order is refused on that directory.
#[test]
fn a_drain_in_any_order_reads_a_shuffled_queue_and_goes_on_from_its_parts() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir().unwrap();
    let url = queue_url("any-order");
    let name = url.rsplit_once("queue=").unwrap().1.to_string();
    // 0..300 but 150, shuffled by a stride, with 7 and 299 twice.
    let mut ids: Vec<u64> = (0..300)
        .map(|i| (i * 97) % 300)
        .filter(|id| *id != 150)
        .collect();
    ids.extend([7, 299]);
    let bodies: Vec<(String, Vec<u8>)> = ids
        .iter()
        .map(|id| (id.to_string(), format!(r#"[{{"id":{id}}}]"#).into_bytes()))
        .collect();
    let messages: Vec<(&str, &[u8])> = bodies
        .iter()
        .map(|(id, body)| (id.as_str(), body.as_slice()))
        .collect();
    publish_raw(&name, &messages);
    let drained = dir.path().join("drained");
    let summary = dir.path().join("summary.json");
    let drain = |extra: &[&str]| {
        let mut argv = vec![
            "drain",
            "--from",
            &url,
            "--messages",
            path_arg(&drained),
            "--window-bytes",
            "1",
            "--part-bytes",
            "200",
            "--idle-seconds",
            "2",
            "--summary-json",
            path_arg(&summary),
        ];
        argv.extend(extra);
        predbench(&argv)
    };
    let output = drain(&["--any-order"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let counts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(counts["messages"], 299, "{counts}");
    assert_eq!(counts["drained"]["received"], 301, "{counts}");
    assert_eq!(counts["drained"]["duplicates"], 2, "{counts}");
    assert_eq!(counts["drained"]["missing"], 1, "{counts}");
    assert_eq!(queue_depth(&name), 0);
    // Each id once in the parts, in the order the queue gave them.
    let written = read_drained_ids(&drained);
    let mut sorted = written.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..300).filter(|id| *id != 150).collect::<Vec<_>>());
    assert_ne!(written, sorted, "written as they came, not sorted");
    // The missing message comes late, with a few already drained: the drain
    // goes on from its progress (an unfinished drain's directory).
    let progress_path = drained.join("_drain.json");
    let mut progress: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&progress_path).unwrap()).unwrap();
    progress["complete"] = serde_json::Value::Bool(false);
    std::fs::write(&progress_path, progress.to_string()).unwrap();
    let late: Vec<(&str, &[u8])> = vec![
        ("150", br#"[{"id":150}]"#),
        ("3", br#"[{"id":3}]"#),
        ("298", br#"[{"id":298}]"#),
    ];
    publish_raw(&name, &late);
    let output = drain(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("goes on in any order"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let output = drain(&["--any-order"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let written = read_drained_ids(&drained);
    let mut sorted = written.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..300).collect::<Vec<_>>());
    let counts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(counts["drained"]["duplicates"], 4, "{counts}");
    assert_eq!(counts["drained"]["missing"], 0, "{counts}");
}
