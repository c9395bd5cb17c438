//! The RabbitMQ sink against a real broker on loopback (started by
//! `scripts/rabbitmq.sh start`, which the README's test command and `.ci/run`
//! run first; PREDBENCH_AMQP_URL overrides `amqp://guest:guest@127.0.0.1:5672/%2f`):
//! publish, drain and verify; a broker restart in the middle of a run; a kill -9
//! of the exporter followed by --resume; bad input; `compare`'s queue runs, its
//! delivery peers and its fault runs.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::compare::path_arg;
use crate::peers::repository;
use crate::{predbench, stderr_of};

/// One queue test at a time: one of them restarts the broker, which would
/// drop the others' connections half way.
static BROKER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the broker for the calling test (a failed test does not poison it for the others).
fn hold_broker() -> std::sync::MutexGuard<'static, ()> {
    BROKER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn broker() -> String {
    std::env::var("PREDBENCH_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

/// A queue URL of its own for every test run.
fn queue_url(name: &str) -> String {
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}?queue=predbench-test-{name}-{unique}", broker())
}

fn dataset(dir: &Path, rows: &str) -> String {
    let out = dir.join("data");
    let output = predbench(&[
        "generate",
        "--out",
        path_arg(&out),
        "--rows",
        rows,
        "--file-rows",
        "100000",
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    out.to_str().unwrap().to_string()
}

fn export_to_queue(data: &str, url: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_predbench"));
    command
        .args(["export", "--input", data, "--sink", url])
        .args(extra);
    command
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

/// The checkpoint's `confirmed_below`, 0 while there is none.
fn confirmed_below(checkpoint: &Path) -> u64 {
    std::fs::read_to_string(checkpoint)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value["confirmed_below"].as_u64())
        .unwrap_or(0)
}

/// Waits for `child` at most `limit`; kills it and fails the test past that,
/// so that a hung client fails a test instead of hanging the suite.
fn finish_within(mut child: Child, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the export did not finish within {limit:?}: {}",
                stderr_of(&output)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
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

/// Declares a queue that is not durable, as another program might have.
fn declare_transient_queue(broker: &str, name: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connection = lapin::Connection::connect(broker, lapin::ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .queue_declare(
                name.into(),
                lapin::options::QueueDeclareOptions::default(),
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        connection.close(200, "declared".into()).await.unwrap();
    });
}

/// Declares a durable queue and publishes `messages` (message_id, body) to it.
fn publish_raw(broker: &str, name: &str, messages: &[(&str, &[u8])]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connection = lapin::Connection::connect(broker, lapin::ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        channel
            .queue_declare(
                name.into(),
                lapin::options::QueueDeclareOptions::durable(),
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .confirm_select(lapin::options::ConfirmSelectOptions::default())
            .await
            .unwrap();
        for (id, body) in messages {
            channel
                .basic_publish(
                    "".into(),
                    name.into(),
                    lapin::options::BasicPublishOptions::default(),
                    body,
                    lapin::BasicProperties::default()
                        .with_message_id((*id).into())
                        .with_delivery_mode(2),
                )
                .await
                .unwrap()
                .await
                .unwrap();
        }
        connection.close(200, "published".into()).await.unwrap();
    });
}

/// Messages waiting in queue `name` (a passive declare).
fn queue_depth(broker: &str, name: &str) -> u32 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let connection = lapin::Connection::connect(broker, lapin::ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let queue = channel
            .queue_declare(
                name.into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..lapin::options::QueueDeclareOptions::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .unwrap();
        let _ = connection.close(200, "counted".into()).await;
        queue.message_count()
    })
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
    let output = export_to_queue(
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
    let output = export_to_queue(
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
    let output = export_to_queue(&data, &url, &["--quiet"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let verdict = drain_and_verify(&data, &url, dir.path(), &[]);
    assert!(
        verdict.contains("ok: 501 messages, 5000 predictions"),
        "{verdict}"
    );
    // The same queue asked for as classic: the broker refuses, in one line.
    let classic = url.replace("queue_type=quorum", "queue_type=classic");
    let output = export_to_queue(&data, &classic, &[]).output().unwrap();
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
    let mut child = export_to_queue(data, url, &arguments)
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
        &mut export_to_queue(
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
    let mut child = export_to_queue(&data, &url, &flags)
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
    let output = export_to_queue(&data, &url, &flags).output().unwrap();
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
        &mut export_to_queue(&data, &url, &resumed),
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
    let output = export_to_queue(&data, unreachable, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("guest:guest"), "{stderr}");

    let wrong = queue_url("wrong").replace("guest:guest", "guest:wrong");
    let output = export_to_queue(&data, &wrong, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.to_lowercase().contains("access") || stderr.contains("password"),
        "{stderr}"
    );
    assert!(!stderr.contains("guest:wrong"), "{stderr}");

    let url = queue_url("limit");
    let output = export_to_queue(&data, &url, &["--max-message-bytes", "1000"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("--max-message-bytes"), "{stderr}");
    assert!(stderr.contains("group 0"), "{stderr}");

    // A queue someone declared with other arguments (not durable here).
    let other = queue_url("other-arguments");
    let name = other.rsplit_once("queue=").unwrap().1.to_string();
    declare_transient_queue(&broker(), &name);
    let output = export_to_queue(&data, &other, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("PRECONDITION_FAILED"), "{stderr}");
    assert!(
        stderr.contains("the queue exists with other arguments"),
        "{stderr}"
    );

    // A checkpoint of another export is refused and kept.
    let checkpoint = dir.path().join("checkpoint.json");
    let output = export_to_queue(&data, &url, &["--checkpoint", path_arg(&checkpoint)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let before = std::fs::read(&checkpoint).unwrap();
    let output = export_to_queue(
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

/// `compare` of 5,000 rows, `rayon` modulo and packed to 16 KiB into the
/// queues of `broker` at `windows`.
fn compare_queue(dir: &Path, broker: &str, windows: &str) -> std::process::Output {
    predbench(&[
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
    let records = crate::compare::newest_records(&results);
    // 2 groupings x 2 windows: exports, their drains and the baselines.
    assert_eq!(records.len(), 12, "{records:?}");
    for window in ["16", "256"] {
        for grouping in ["modulo", "packed"] {
            let export = crate::compare::named(
                &records,
                &format!("export rayon {grouping} amqp window {window}"),
            );
            assert_eq!(export["status"], "ok", "{export}");
            // The queue is read back by a measured drain, whose output is verified.
            let drain =
                crate::compare::named(&records, &format!("drain {grouping} amqp window {window}"));
            assert_eq!(drain["status"], "ok", "{drain}");
            assert_eq!(drain["verification"]["ok"], true, "{drain}");
            assert_eq!(drain["messages"], export["messages"], "{drain}");
            assert_eq!(drain["rows"], 5_000, "{drain}");
            let baseline = crate::compare::named(
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
    let markdown = crate::compare::render_report(&results);
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
    let records = crate::compare::newest_records(&results);
    let failed = crate::compare::named(&records, "export rayon modulo amqp window 1024");
    assert_eq!(failed["status"], "failed");
    assert!(
        crate::compare::failure_detail(failed).contains("scripts/rabbitmq.sh start"),
        "{failed}"
    );
}

#[test]
fn a_killed_drain_goes_on_from_its_committed_parts_and_loses_nothing() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dataset(dir.path(), "300000");
    let url = queue_url("killed-drain");
    let output = output_within(
        &mut export_to_queue(&data, &url, &["--quiet"]),
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
    assert!(queue_depth(&broker(), url.rsplit_once("queue=").unwrap().1) > 0);
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
    assert_eq!(
        queue_depth(&broker(), url.rsplit_once("queue=").unwrap().1),
        0
    );
}

#[test]
fn a_drain_beside_a_running_export_reads_it_all() {
    let _broker = hold_broker();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dataset(dir.path(), "120000");
    let url = queue_url("beside");
    let name = url.rsplit_once("queue=").unwrap().1.to_string();
    publish_raw(&broker(), &name, &[]);
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
        &mut export_to_queue(&data, &url, &["--quiet"]),
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
    publish_raw(&broker(), &name, &messages);
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
    assert_eq!(queue_depth(&broker(), &name), 40);
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
        publish_raw(&broker(), &name, &messages);
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
        assert_eq!(queue_depth(&broker(), &name), 2, "{case}");
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
    publish_raw(&broker(), &name, &messages);
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
    assert_eq!(queue_depth(&broker(), &name), 0);
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
    publish_raw(&broker(), &name, &late);
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

/// `compare` of 20,000 rows into the queues: predbench (classic and quorum
/// queues) beside the pika publishers of the seed's job's messages and Spark
/// publishing from its executors, each drained and verified, then every
/// publisher once more with the broker restarted half way.
#[test]
fn compare_delivers_beside_the_publishers_a_team_would_write_and_restarts_the_broker() {
    let _broker = hold_broker();
    let venv = crate::peers::peers_venv();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let results = dir.path().join("results");
    let restart = format!(
        "bash {} restart",
        repository().join("scripts/rabbitmq.sh").display()
    );
    let output = predbench(&[
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
        path_arg(&repository().join("scripts/peers")),
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
        path_arg(&dir.path().join("data")),
        "--results",
        path_arg(&results),
    ]);
    let records = crate::compare::newest_records(&results);
    let named = |name: &str| crate::compare::named(&records, name);
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
    let markdown = crate::compare::render_report(&results);
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
    let output = predbench(&[
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
    let records = crate::compare::newest_records(&results);
    for grouping in ["modulo", "packed"] {
        let export = crate::compare::named(
            &records,
            &format!("export rayon {grouping} amqp window 1024"),
        );
        let drain = crate::compare::named(
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
        let baseline = crate::compare::named(
            &records,
            &format!("publish pre-serialized {grouping} amqp window 1024, shard 0/2 2 times"),
        );
        assert_eq!(baseline["status"], "ok", "{baseline}");
        let published = baseline["messages"].as_u64().unwrap();
        let exported = export["messages"].as_u64().unwrap();
        let slack = if grouping == "packed" { 2 } else { 1 };
        assert!(published.abs_diff(exported) <= slack, "{baseline} {export}");
        let drained = crate::compare::named(
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
    let markdown = crate::compare::render_report(&results);
    assert!(
        markdown.contains("(`compare --baseline-passes 2`)"),
        "{markdown}"
    );
}

/// The `id` of each message a drain wrote (`[{"id":N}]`), part after part.
fn read_drained_ids(drained: &Path) -> Vec<u64> {
    use arrow_array::{Array, StringArray};
    let mut parts: Vec<_> = std::fs::read_dir(drained)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "parquet"))
        .collect();
    parts.sort();
    let mut ids = Vec::new();
    for part in parts {
        let file = std::fs::File::open(&part).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024).unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let column = batch
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            for row in 0..column.len() {
                let message: serde_json::Value = serde_json::from_str(column.value(row)).unwrap();
                ids.push(message[0]["id"].as_u64().unwrap());
            }
        }
    }
    ids
}
