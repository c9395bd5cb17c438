//! The report's verdict on delivery across sessions: which session each
//! figure comes from, its broker named beside it.

use std::fs;

use serde_json::{Value, json};

use crate::report::report;
use crate::{repository, stderr_of};

/// When the newest Kafka session with the publishers ran no fault runs, the
/// verdict quotes the newest session that did, naming it and its broker,
/// rather than dropping what a restart cost.
#[test]
fn a_verdict_quotes_the_restart_runs_of_another_session_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let committed = "compare-2026-12-06T08-43-02Z";
    let records = fs::read_to_string(
        repository()
            .join("results")
            .join(committed)
            .join("records.json"),
    )
    .unwrap();
    fs::create_dir_all(results.join(committed)).unwrap();
    fs::write(results.join(committed).join("records.json"), &records).unwrap();
    // A newer session of the same runs without the broker restarted.
    let mut newer: Value = serde_json::from_str(&records).unwrap();
    newer["session"]["id"] = json!("2026-12-07T00:00:00Z");
    newer["session"]["software"]["kafka-broker"] = json!("tansu 0.6.0, storage memory");
    newer["runs"]
        .as_array_mut()
        .unwrap()
        .retain(|run| run["configuration"]["broker_restart_at"].is_null());
    fs::create_dir_all(results.join("compare-2026-12-07T00-00-00Z")).unwrap();
    fs::write(
        results.join("compare-2026-12-07T00-00-00Z/records.json"),
        serde_json::to_string(&newer).unwrap(),
    )
    .unwrap();
    let readme = dir.path().join("README.md");
    fs::write(&readme, "# readme\n").unwrap();
    let output = report(&results, dir.path(), &readme);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let report = fs::read_to_string(dir.path().join("REPORT.md")).unwrap();
    let bullet = |start: &str| {
        let found = report.lines().find(|line| line.starts_with(start));
        found
            .unwrap_or_else(|| panic!("no line starting {start}"))
            .to_string()
    };
    let publishers = bullet("- **Against the publisher a team would write, into Kafka**");
    for expected in [
        "(1M rows, session 2026-12-07T00:00:00Z)",
        "in another session (1M rows, session 2026-12-06T08:43:02Z, tansu 0.6.0, storage sqlite): \
         predbench (messages of K = 10) lost 0 messages",
    ] {
        assert!(publishers.contains(expected), "{publishers}");
    }
    let rates = bullet("- **Into Kafka**");
    assert!(
        rates.contains("session 2026-12-07T00:00:00Z, tansu 0.6.0, storage memory)"),
        "{rates}"
    );
}
