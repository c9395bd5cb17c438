//! `predbench-harness report` on records it did not make: the committed ones (the
//! committed report must re-render byte for byte), hand-made sessions (the
//! tables must use one session, failed peers must show their time, memory
//! and cause) and broken files (named, nothing written).

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use crate::{harness, path_arg, repository, stderr_of};

/// Renders `results` into `out` (REPORT.md, APPENDIX.md, charts/) with
/// `readme` as the README; returns the output.
pub fn report(results: &Path, out: &Path, readme: &Path) -> std::process::Output {
    harness(&[
        "report",
        "--results",
        path_arg(results),
        "--out",
        path_arg(&out.join("REPORT.md")),
        "--readme",
        path_arg(readme),
    ])
}

#[test]
fn the_committed_report_renders_byte_for_byte_from_the_committed_records() {
    let dir = tempfile::tempdir().unwrap();
    let committed = repository().join("results");
    let readme = dir.path().join("README.md");
    fs::copy(repository().join("README.md"), &readme).unwrap();
    let output = report(&committed, dir.path(), &readme);
    assert!(output.status.success(), "{}", stderr_of(&output));
    for file in ["REPORT.md", "APPENDIX.md"] {
        let rendered = fs::read_to_string(dir.path().join(file)).unwrap();
        let expected = fs::read_to_string(committed.join(file)).unwrap();
        assert!(
            rendered == expected,
            "{file} differs from a fresh render: run `predbench-harness report` and commit it"
        );
    }
    let charts = |directory: &Path| {
        let mut names: Vec<String> = fs::read_dir(directory)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        charts(&dir.path().join("charts")),
        charts(&committed.join("charts"))
    );
    for name in charts(&committed.join("charts")) {
        assert_eq!(
            fs::read(dir.path().join("charts").join(&name)).unwrap(),
            fs::read(committed.join("charts").join(&name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        fs::read_to_string(&readme).unwrap(),
        fs::read_to_string(repository().join("README.md")).unwrap(),
        "README.md's results block differs from a fresh render"
    );
}

/// A run record of format 2.
fn run(name_parts: (&str, Option<&str>, Option<&str>), rows: u64, wall: f64, rss: u64) -> Value {
    let (kind, strategy, peer) = name_parts;
    let name = match (strategy, peer) {
        (_, Some(peer)) => format!("peer {peer} modulo parquet"),
        (Some(strategy), None) => format!("export {strategy} modulo parquet"),
        (None, None) => "generate".to_string(),
    };
    json!({
        "configuration": {
            "kind": kind, "name": name, "dataset": "seed", "rows": rows, "seed": 42,
            "strategy": strategy, "grouping": "modulo", "sink": "parquet", "group_size": 10,
            "max_message_bytes": null, "confirm_window": null, "peer": peer, "shard": null,
            "disk_floor": null, "threads": 2, "pinned_threads": false, "memory_budget": null,
            "command": ["predbench"]
        },
        "run": 1, "started_at": "2026-01-01T00:00:00Z", "status": "ok", "failure": null,
        "exit_code": 0, "wall_seconds": wall, "user_seconds": wall * 1.5,
        "system_seconds": 0.5, "peak_rss_bytes": rss, "time_v_wall_seconds": null,
        "rows": rows, "input_bytes": 1, "output_bytes": 1, "message_bytes": 1, "messages": 1,
        "spilled_bytes": null, "log": "logs/x.log",
        "verification": {"ok": true, "command": ["predbench", "verify"], "wall_seconds": 1.0,
            "user_seconds": 1.0, "system_seconds": 0.1, "peak_rss_bytes": 1, "findings": [],
            "reason": null},
        "observations": [], "settings": {}
    })
}

/// Writes a session of format 2 with `runs` under `results`.
fn session(results: &Path, id: &str, runs: Vec<Value>) {
    let directory = results.join(format!("compare-{}", id.replace(':', "-")));
    fs::create_dir_all(&directory).unwrap();
    let file = json!({
        "format_version": 2,
        "session": {
            "id": id, "predbench_version": "0.1.0", "git_commit": "abcdef0123456789",
            "git_dirty": false,
            "machine": {"cpu_model": "Test CPU", "logical_cores": 2, "physical_cores": 2,
                "memory_bytes": 25_000_000_000u64, "os": "Linux", "kernel": "6", "disk": null},
            "software": {"rustc": "1.95.0"}, "datasets": [], "command": ["predbench", "compare"]
        },
        "runs": runs
    });
    fs::write(
        directory.join("records.json"),
        serde_json::to_string_pretty(&file).unwrap(),
    )
    .unwrap();
}

fn rayon(rows: u64, wall: f64) -> Value {
    run(("export", Some("rayon"), None), rows, wall, 500 << 20)
}

fn peer(name: &str, rows: u64, wall: f64, rss: u64) -> Value {
    run(("export", None, Some(name)), rows, wall, rss)
}

/// The decision table of `report` (the lines between its title and the blank line).
fn decision_table<'a>(report: &'a str, title: &str) -> &'a str {
    let start = report
        .find(title)
        .unwrap_or_else(|| panic!("no {title}: {report}"));
    let table = &report[start..];
    let end = table.find("\n\n|").map_or(table.len(), |at| {
        at + 2 + table[at + 2..].find("\n\n").unwrap_or(table.len() - at - 2)
    });
    &table[..end]
}

#[test]
fn a_decision_table_takes_every_row_from_one_session() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    // The older session has a faster rayon and one peer; the newer has rayon and two peers.
    session(
        &results,
        "2026-01-01T00:00:00Z",
        vec![
            rayon(6_000_000, 5.0),
            peer("duckdb", 6_000_000, 20.0, 8 << 30),
        ],
    );
    // rayon ran twice (median 8 s), the peers once (`--peer-runs 1`).
    let mut rayon_again = rayon(6_000_000, 8.0);
    rayon_again["run"] = json!(2);
    session(
        &results,
        "2026-01-02T00:00:00Z",
        vec![
            rayon(6_000_000, 7.0),
            peer("duckdb", 6_000_000, 40.0, 8 << 30),
            peer("polars", 6_000_000, 48.0, 16 << 30),
            rayon_again,
        ],
    );
    let out = dir.path().join("out");
    let output = report(&results, &out, &dir.path().join("no-readme.md"));
    assert!(output.status.success(), "{}", stderr_of(&output));
    let markdown = fs::read_to_string(out.join("REPORT.md")).unwrap();
    let table = decision_table(&markdown, "**6,000,000 rows, the seed generator's files**");
    assert!(table.contains("session 2026-01-02T00:00:00Z"), "{table}");
    assert!(
        table.contains("1 to 2 runs a row as the runs column says"),
        "{table}"
    );
    assert!(table.contains("× rayon (7.50 s)"), "{table}");
    assert!(
        table.contains("| predbench `rayon` (divisor) | 2 | 7.50 | 1.00 |"),
        "{table}"
    );
    // 40 / 7.5, never 40 / 5 (the older session's rayon), nor 20 s (its DuckDB).
    assert!(table.contains("| DuckDB | 1 | 40.00 | 5.33 |"), "{table}");
    assert!(table.contains("| Polars | 1 | 48.00 | 6.40 |"), "{table}");
    assert!(!table.contains("5.00 | 1.00"), "{table}");
    assert!(!table.contains("20.00"), "{table}");
    // The verdict rests the size on one run of the peer, and says the two
    // sessions' machines ran at different speeds (rayon 7.5 s against 5 s).
    assert!(
        markdown.contains("the fastest peer, DuckDB, 40.00 s (one run) (5.33x)"),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "at different speeds: at 6,000,000 rows `rayon` took 7.50 s in session \
             2026-01-02T00:00:00Z and 5.00 s in session 2026-01-01T00:00:00Z (1.50x)"
        ),
        "{markdown}"
    );
    // Every ratio of the table recomputes from the wall times it prints.
    let rows = table
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| exporter"))
        .filter(|line| !line.starts_with("| ---"));
    for line in rows {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (wall, ratio) = (
            cells[3].parse::<f64>().unwrap(),
            cells[4].parse::<f64>().unwrap(),
        );
        assert!((wall / 7.5 - ratio).abs() < 0.006, "{line}");
    }
    // The older session re-measured nothing the newer lacks: it is listed as
    // superseded, and no table of the appendix draws on it.
    let appendix = fs::read_to_string(out.join("APPENDIX.md")).unwrap();
    assert!(
        !appendix.contains("### Session 2026-01-01T00:00:00Z"),
        "{appendix}"
    );
    let listed = appendix
        .lines()
        .find(|line| line.starts_with("| [2026-01-01T00:00:00Z]"))
        .unwrap_or_else(|| panic!("not in the sessions list: {appendix}"));
    assert!(listed.ends_with("| superseded |"), "{listed}");
}

#[test]
fn a_failed_peer_is_a_row_with_its_time_memory_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let mut duckdb = peer("duckdb", 60_000_000, 252.86, 19 << 30);
    duckdb["status"] = json!("failed");
    duckdb["exit_code"] = json!(1);
    duckdb["verification"] = Value::Null;
    duckdb["failure"] =
        json!({"cause": "out-of-memory", "detail": "exit code 1: Out of Memory Error"});
    let mut polars = peer("polars", 60_000_000, 129.4, 23 << 30);
    polars["status"] = json!("failed");
    polars["exit_code"] = json!(137);
    polars["verification"] = Value::Null;
    polars["failure"] = json!({"cause": "oom-killed", "detail": "exit code 137: "});
    session(
        &results,
        "2026-01-03T00:00:00Z",
        vec![rayon(60_000_000, 68.0), duckdb, polars],
    );
    let out = dir.path().join("out");
    let output = report(&results, &out, &dir.path().join("no-readme.md"));
    assert!(output.status.success(), "{}", stderr_of(&output));
    let markdown = fs::read_to_string(out.join("REPORT.md")).unwrap();
    let table = decision_table(&markdown, "**60,000,000 rows, the seed generator's files**");
    assert!(
        table.contains("| DuckDB | 1 | 252.86 ✗ | — | 379.3 | 0.5 | 19.0 GiB |  |  | out of memory after 252.9 s at 19.0 GiB |"),
        "{table}"
    );
    assert!(
        table.contains("killed by the kernel's out-of-memory killer after 129.4 s at 23.0 GiB"),
        "{table}"
    );
    // The verdict says who fails and how; the charts draw them where they stopped.
    assert!(
        markdown.contains("DuckDB: out of memory after 252.9 s at 19.0 GiB"),
        "{markdown}"
    );
    let chart = fs::read_to_string(out.join("charts/time-seed-60000000.svg")).unwrap();
    assert!(
        chart.contains("out of memory after 252.9 s at 19.0 GiB"),
        "{chart}"
    );
}

/// A run of the edge-case table (NaN and nulls), verified against Spark's
/// output or failing with `reason`.
fn edge_case(name_parts: (&str, Option<&str>, Option<&str>), reason: Option<&str>) -> Value {
    let mut record = run(name_parts, 20, 0.5, 1 << 20);
    record["configuration"]["dataset"] = json!("edge-cases");
    if let Some(reason) = reason {
        record["verification"]["ok"] = json!(false);
        record["verification"]["reason"] = json!(reason);
    }
    record
}

#[test]
fn the_verdict_names_the_leanest_peer_and_who_writes_nan_as_spark_does() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    session(
        &results,
        "2026-01-04T00:00:00Z",
        vec![
            rayon(1_000_000, 2.0),
            peer("duckdb", 1_000_000, 8.0, 3 << 30),
            peer("sail", 1_000_000, 6.0, 2 << 30),
            peer("spark-jvm", 1_000_000, 20.0, 4 << 30),
            edge_case(("export", Some("rayon"), None), None),
            edge_case(
                ("export", None, Some("duckdb")),
                Some("NaN written bare: invalid JSON"),
            ),
            edge_case(("export", None, Some("sail")), None),
            edge_case(("export", None, Some("spark-jvm")), None),
        ],
    );
    let out = dir.path().join("out");
    let output = report(&results, &out, &dir.path().join("no-readme.md"));
    assert!(output.status.success(), "{}", stderr_of(&output));
    let markdown = fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        markdown.contains(
            "the leanest peer that finished, Sail (Spark Connect on DataFusion), 2.0 GiB (4x)"
        ),
        "{markdown}"
    );
    // Spark itself is not listed as agreeing with Spark; Sail, which is not Spark, is.
    assert!(
        markdown.contains(
            "**JSON for NaN**: Spark writes `\"NaN\"`, and so do predbench and Sail (Spark \
             Connect on DataFusion); DuckDB: NaN written bare: invalid JSON (session \
             2026-01-04T00:00:00Z"
        ),
        "{markdown}"
    );
}

/// A point of the memory study: a strategy, its threads, and its chunk rows
/// or (window-sort) its memory budget.
fn study_point(strategy: &str, threads: usize, knob: u64, wall: f64, rss: u64) -> Value {
    let mut record = run(("export", Some(strategy), None), 6_000_000, wall, rss);
    let configuration = &mut record["configuration"];
    configuration["memory_study"] = json!(true);
    configuration["threads"] = json!(threads);
    if strategy == "window-sort" {
        configuration["memory_budget"] = json!(knob);
        configuration["name"] = json!(format!("{strategy} {threads} budget {knob}"));
    } else {
        configuration["chunk_rows"] = json!(knob);
        configuration["name"] = json!(format!("{strategy} {threads} chunk {knob}"));
    }
    record
}

#[test]
fn the_memory_study_names_the_fastest_configuration_under_each_cap() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let mut spilling_wrong = study_point("window-sort", 2, 64 << 20, 2.0, 100 << 20);
    spilling_wrong["verification"]["ok"] = json!(false);
    spilling_wrong["verification"]["reason"] = json!("a test's wrong output");
    session(
        &results,
        "2026-01-04T00:00:00Z",
        vec![
            rayon(6_000_000, 10.0),
            peer("duckdb", 6_000_000, 40.0, 3 << 30),
            peer("polars", 6_000_000, 30.0, 9 << 30),
            // predbench run by Spark is predbench, never the study's peer.
            peer("predbench-on-spark", 6_000_000, 20.0, 400 << 20),
            study_point("single-thread", 1, 16_384, 25.0, 200 << 20),
            study_point("rayon", 1, 4_096, 24.0, 300 << 20),
            study_point("rayon", 2, 16_384, 10.0, 500 << 20),
            study_point("rayon", 2, 65_536, 9.5, 900 << 20),
            study_point("window-sort", 2, 4 << 30, 30.0, 3 << 30),
            spilling_wrong,
        ],
    );
    let out = dir.path().join("out");
    let output = report(&results, &out, &dir.path().join("no-readme.md"));
    assert!(output.status.success(), "{}", stderr_of(&output));
    let markdown = fs::read_to_string(out.join("REPORT.md")).unwrap();
    let start = markdown.find("| memory cap |").expect("a caps table");
    let caps: String = markdown[start..]
        .lines()
        .take_while(|line| line.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");
    let rows: Vec<&str> = caps.lines().skip(2).collect();
    // 128 MiB: nothing fits (the wrong output does not count); 256 MiB:
    // single-thread; 512 MiB: rayon on 2 threads; 1 GiB: its larger chunks;
    // 4 GiB: DuckDB fits too; 16 GiB: Polars is the fastest peer.
    assert_eq!(rows.len(), 5, "{caps}");
    assert!(rows[0].starts_with("| 256.0 MiB | `single-thread`, 1 thread, chunk 16,384 rows | 25.00 | 200.0 MiB | none fits |"), "{caps}");
    assert!(
        rows[1].starts_with("| 512.0 MiB | `rayon`, 2 threads, chunk 16,384 rows | 10.00 |")
            && rows[1].contains("| none fits |"),
        "{caps}"
    );
    assert!(
        rows[2].starts_with("| 1.0 GiB | `rayon`, 2 threads, chunk 65,536 rows | 9.50 |"),
        "{caps}"
    );
    assert!(rows[3].contains("| DuckDB | 40.00 | 3.0 GiB |"), "{caps}");
    assert!(
        rows[4].starts_with("| 16.0 GiB |") && rows[4].contains("| Polars | 30.00 |"),
        "{caps}"
    );
    // Every point is listed, the wrong one with its reason; the study's
    // points stay out of the decision table.
    assert!(markdown.contains("a test's wrong output"), "{markdown}");
    let table = decision_table(&markdown, "**6,000,000 rows, the seed generator's files**");
    assert!(!table.contains("chunk"), "{table}");
    assert!(
        markdown.contains(
            "**What memory buys** (6M rows, session 2026-01-04T00:00:00Z): the leanest \
             configuration, `single-thread`, 1 thread, chunk 16,384 rows: 25.00 s in 200.0 MiB; \
             the fastest, `rayon`, 2 threads, chunk 65,536 rows: 9.50 s in 900.0 MiB; the \
             leanest peer, DuckDB, needed 3.0 GiB (40.00 s)."
        ),
        "{markdown}"
    );
    assert!(out.join("charts/memory-study-seed-6000000.svg").is_file());
}

#[test]
fn broken_records_files_are_named_and_nothing_is_written() {
    let cases: [(&str, &str); 4] = [
        (
            r#"{"format_version": 7, "session": {}, "runs": []}"#,
            "format version 7",
        ),
        (r#"{"format_version": 2, "session": {"id": "x"#, "not JSON"),
        (
            r#"{"format_version": 2, "session": {"id": "x"}, "runs": []}"#,
            "does not parse",
        ),
        (
            r#"[{"format_version": 1, "session": "x"}]"#,
            "format version 1",
        ),
    ];
    for (text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        session(&results, "2026-01-01T00:00:00Z", vec![rayon(1_000, 1.0)]);
        let broken = results.join("compare-broken");
        fs::create_dir_all(&broken).unwrap();
        fs::write(broken.join("records.json"), text).unwrap();
        let out = dir.path().join("out");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("REPORT.md"), "the old report").unwrap();
        let output = report(&results, &out, &dir.path().join("no-readme.md"));
        assert_eq!(output.status.code(), Some(1), "{text}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains("compare-broken/records.json"), "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert_eq!(
            fs::read_to_string(out.join("REPORT.md")).unwrap(),
            "the old report"
        );
        assert!(!out.join("APPENDIX.md").exists());
    }
}

#[test]
fn the_readme_block_is_replaced_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    session(
        &results,
        "2026-01-01T00:00:00Z",
        vec![
            rayon(1_000_000, 1.2),
            peer("duckdb", 1_000_000, 6.7, 3 << 30),
        ],
    );
    let readme = dir.path().join("README.md");
    fs::write(
        &readme,
        "# Title\n\nbefore\n<!-- predbench report: begin -->\nstale figures\n<!-- predbench report: end -->\nafter\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = report(&results, &out, &readme);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let text = fs::read_to_string(&readme).unwrap();
    assert!(
        text.starts_with("# Title\n\nbefore\n<!-- predbench report: begin -->"),
        "{text}"
    );
    assert!(
        text.ends_with("<!-- predbench report: end -->\nafter\n"),
        "{text}"
    );
    assert!(!text.contains("stale figures"), "{text}");
    assert!(text.contains("| DuckDB | 1 | 6.70 | 5.58 |"), "{text}");
    assert!(text.contains("(results/REPORT.md)"), "{text}");
}
