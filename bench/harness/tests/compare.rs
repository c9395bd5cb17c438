//! `predbench-harness compare` and `report` end to end at a tiny scale:
//! what is recorded, that a failing configuration is recorded as failed while
//! the others run, that datasets are reused, and what the report shows.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{entries, harness, path_arg, stderr_of};

/// The records of the only (or newest) session under `results`.
pub fn newest_records(results: &Path) -> Vec<Value> {
    let mut sessions = entries(results);
    sessions.retain(|name| name.starts_with("compare-"));
    let newest = sessions.last().expect("a session directory");
    let text = fs::read_to_string(results.join(newest).join("records.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["format_version"], 2);
    file["runs"].as_array().unwrap().clone()
}

/// The session part of the newest records file under `results`.
pub fn newest_session(results: &Path) -> Value {
    let mut sessions = entries(results);
    sessions.retain(|name| name.starts_with("compare-"));
    let text =
        fs::read_to_string(results.join(sessions.last().unwrap()).join("records.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    file["session"].clone()
}

/// Why a recorded run failed.
pub fn failure_detail(record: &Value) -> &str {
    record["failure"]["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no failure in {record}"))
}

pub fn named<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|record| record["configuration"]["name"] == name)
        .unwrap_or_else(|| panic!("no record named {name}"))
}

#[test]
fn compare_records_every_run_and_report_renders_them() {
    // Under target/: a disk file system, where `dd oflag=direct` works (tmpfs refuses it).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data: PathBuf = dir.path().join("data");
    let results = dir.path().join("results");
    fs::create_dir_all(&data).unwrap();
    // Something in the way of one configuration's output file: that run must
    // fail and be recorded, the others must still run.
    let blocked = data.join("out-single-thread-contiguous.parquet");
    fs::create_dir_all(blocked.join("in-the-way")).unwrap();

    let output = harness(&[
        "compare",
        "--rows",
        "20k",
        "--runs",
        "1",
        "--strategies",
        "single-thread,rayon",
        "--groupings",
        "contiguous",
        "--sinks",
        "null,parquet",
        "--data-dir",
        path_arg(&data),
        "--results",
        path_arg(&results),
    ]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("7 runs recorded"), "{stdout}");
    assert!(stdout.contains("1 FAILED"), "{stdout}");

    let records = newest_records(&results);
    assert_eq!(records.len(), 7, "2 disk floors, generate and 4 exports");
    let session = newest_session(&results);
    assert!(session["machine"]["logical_cores"].as_u64().unwrap() >= 1);
    assert!(session["software"]["rustc"].is_string(), "{session}");
    // The dataset's fingerprint.
    assert_eq!(session["datasets"][0]["rows"], 20_000, "{session}");
    assert!(
        session["datasets"][0]["files"][0]["bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    for record in &records {
        assert_eq!(record["configuration"]["rows"], 20_000);
        assert!(record["wall_seconds"].as_f64().unwrap() > 0.0);
        assert!(record["peak_rss_bytes"].as_u64().unwrap() > 0);
        let log = results
            .join(entries(&results).last().unwrap())
            .join(record["log"].as_str().unwrap());
        assert!(log.is_file(), "{}", log.display());
    }
    // Under /usr/bin/time -v (installed by .ci/run) the harness's wall time
    // and time's agree: the harness adds only time's own fork and exec.
    if Path::new("/usr/bin/time").exists() {
        for record in records.iter().filter(|record| record["status"] == "ok") {
            let wall = record["wall_seconds"].as_f64().unwrap();
            let time_v = record["time_v_wall_seconds"]
                .as_f64()
                .unwrap_or_else(|| panic!("no time -v wall time in {record}"));
            assert!(
                (wall - time_v).abs() <= 0.05 + 0.02 * time_v,
                "{wall} vs {time_v}"
            );
        }
    }
    let failed = named(&records, "export single-thread contiguous parquet");
    assert_eq!(failed["status"], "failed");
    assert_ne!(failed["exit_code"], 0);
    assert!(
        failure_detail(failed).contains("out-single-thread-contiguous.parquet"),
        "{failed}"
    );
    assert_eq!(failed["failure"]["cause"], "exit");

    let null = named(&records, "export rayon contiguous null");
    let parquet = named(&records, "export rayon contiguous parquet");
    let single = named(&records, "export single-thread contiguous null");
    for record in [null, parquet, single] {
        assert_eq!(record["status"], "ok", "{record}");
        assert_eq!(record["messages"], 2_000);
        assert!(record["input_bytes"].as_u64().unwrap() > 0);
        assert_eq!(record["rows"], 20_000);
    }
    assert_eq!(null["output_bytes"], 0);
    assert!(parquet["output_bytes"].as_u64().unwrap() > 0);
    assert_eq!(null["message_bytes"], parquet["message_bytes"]);
    assert_eq!(null["message_bytes"], single["message_bytes"]);
    // File outputs are verified (the first run), the null sink's cannot be.
    assert_eq!(parquet["verification"]["ok"], true, "{parquet}");
    assert!(parquet["verification"]["command"][1] == "verify");
    assert!(null["verification"].is_null());
    // The blocked configuration never ran far enough to be verified, and the
    // directory in its way is left as it was.
    assert!(failed["verification"].is_null());
    assert!(blocked.join("in-the-way").is_dir());

    let generate = named(&records, "generate");
    assert_eq!(generate["status"], "ok");
    let dataset = data.join("predictions-20000-seed42");
    assert!(
        dataset.join("_manifest.json").is_file(),
        "{:?}",
        entries(&data)
    );
    let dataset_bytes: u64 = fs::read_dir(&dataset)
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum();
    assert!(generate["output_bytes"].as_u64().unwrap() <= dataset_bytes);
    assert_eq!(null["input_bytes"], generate["output_bytes"]);
    for floor in ["disk floor (dd, fsync)", "disk floor (dd, O_DIRECT)"] {
        let floor = named(&records, floor);
        assert_eq!(floor["status"], "ok", "{floor}");
        assert!(
            floor["output_bytes"].as_u64().unwrap() >= generate["output_bytes"].as_u64().unwrap()
        );
    }
    // Outputs, scratch datasets and the floor file are cleaned up.
    fs::remove_dir_all(&blocked).unwrap();
    assert_eq!(entries(&data), vec!["predictions-20000-seed42".to_string()]);

    // A second session reuses the dataset and measures only what is asked.
    let output = harness(&[
        "compare",
        "--rows",
        "20000",
        "--runs",
        "2",
        "--strategies",
        "rayon",
        "--groupings",
        "contiguous",
        "--sinks",
        "null",
        "--skip-generate",
        "--skip-disk-floor",
        "--data-dir",
        path_arg(&data),
        "--results",
        path_arg(&results),
    ]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("reusing"), "{stderr}");
    let second = newest_records(&results);
    assert_eq!(second.len(), 2);
    assert_eq!(second[0]["run"], 1);
    assert_eq!(second[1]["run"], 2);

    let appendix = render_report(&results);
    // Each session's table at the size: the second session's (2 runs of
    // rayon) and the first's, which holds configurations the second lacks.
    let second = &session_ids(&results)[1];
    let first = &session_ids(&results)[0];
    let (_, newer) = appendix
        .split_once(&format!("### Session {second}"))
        .expect("the second session's table");
    let newer = newer.split("### Session").next().unwrap();
    assert!(
        newer.contains("| export rayon contiguous null | 2 |"),
        "{newer}"
    );
    assert!(!newer.contains("single-thread"), "{newer}");
    let (_, older) = appendix
        .split_once(&format!("### Session {first}"))
        .expect("the first session's table");
    for expected in [
        "| export rayon contiguous null | 1 |",
        "| export single-thread contiguous null | 1 |",
        "| export single-thread contiguous parquet | 0 of 1 ok |",
        "Failed runs and outputs that did not verify:",
    ] {
        assert!(older.contains(expected), "{expected}: {older}");
    }
}

/// The ids of the sessions under `results`, oldest first.
fn session_ids(results: &Path) -> Vec<String> {
    let mut ids: Vec<String> = entries(results)
        .into_iter()
        .filter(|name| name.starts_with("compare-"))
        .map(|name| {
            let text = fs::read_to_string(results.join(name).join("records.json")).unwrap();
            let file: Value = serde_json::from_str(&text).unwrap();
            file["session"]["id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

/// Renders `results`' records with `predbench-harness report` into
/// `results/REPORT.md` and `results/APPENDIX.md` and returns both, one
/// after the other.
pub fn render_report(results: &Path) -> String {
    let report = results.join("REPORT.md");
    let output = harness(&[
        "report",
        "--results",
        path_arg(results),
        "--out",
        path_arg(&report),
        "--readme",
        path_arg(&results.join("no-readme.md")),
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    fs::read_to_string(&report).unwrap() + &fs::read_to_string(results.join("APPENDIX.md")).unwrap()
}

#[test]
fn report_without_records_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = harness(&[
        "report",
        "--results",
        path_arg(dir.path()),
        "--out",
        path_arg(&dir.path().join("REPORT.md")),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("no sessions"), "{stderr}");
    assert!(!dir.path().join("REPORT.md").exists());

    let output = harness(&["report", "--results", path_arg(&dir.path().join("missing"))]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("does not exist"));
}

#[test]
fn compare_refuses_bad_arguments() {
    for (args, expected) in [
        (vec!["compare", "--rows", "0"], "--rows"),
        (vec!["compare", "--rows", "12x"], "not a count"),
        (vec!["compare", "--runs", "0"], "--runs"),
        (vec!["compare", "--peer-timeout", "0"], "--peer-timeout"),
        (
            vec!["compare", "--strategies", "fast"],
            "invalid value 'fast'",
        ),
    ] {
        let output = harness(&args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn compare_scale_out_records_shards_and_the_readers_ceiling() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dir.path().join("data");
    let results = dir.path().join("results");
    let output = harness(&[
        "compare",
        "--rows",
        "6k",
        "--runs",
        "2",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo",
        "--sinks",
        "null,parquet",
        "--scale-out",
        "--scale-out-shards",
        "1,3",
        "--skip-disk-floor",
        "--threads",
        "2",
        "--data-dir",
        path_arg(&data),
        "--results",
        path_arg(&results),
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let records = newest_records(&results);
    // generate, rayon x 2 sinks, decode only x 2, rayon on one thread, 1 + 3 shards; 2 runs each.
    assert_eq!(records.len(), 2 * 10, "{records:?}");
    for record in &records {
        assert_eq!(record["status"], "ok", "{record}");
    }
    let shards: Vec<&Value> = records
        .iter()
        .filter(|record| record["configuration"]["kind"] == "export-shard" && record["run"] == 1)
        .collect();
    assert_eq!(shards.len(), 4);
    // The three shards of 3 together export every row and message of the one shard of 1.
    let of_three = |field: &str| {
        shards
            .iter()
            .filter(|record| record["configuration"]["shard"]["count"] == 3)
            .map(|record| record[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(of_three("rows"), 6_000);
    assert_eq!(of_three("messages"), 601);
    let decode = named(&records, "decode only modulo, 1 thread");
    assert_eq!(decode["configuration"]["kind"], "decode-only");
    assert_eq!(decode["messages"], 601);
    assert_eq!(decode["message_bytes"], 0);
    // Shard outputs are removed after each run.
    assert!(!data.join("out-shards-3").exists());

    let markdown = render_report(&results);
    for expected in [
        "## Past one machine",
        "**Shards, simulated**",
        "| 3 |",
        "**Scale up before scaling out**",
        "µs a row",
    ] {
        assert!(markdown.contains(expected), "{expected}: {markdown}");
    }
    // Shards stay out of the per-configuration tables.
    assert!(!markdown.contains("| shard 0/3 export"), "{markdown}");

    let bad = harness(&["compare", "--scale-out-shards", "0"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr_of(&bad).contains("--scale-out-shards"));
}

#[test]
fn the_dry_run_prints_every_configuration_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let results = dir.path().join("results");
    let output = harness(&[
        "compare",
        "--dry-run",
        "--rows",
        "10k",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo,packed",
        "--sinks",
        "null,parquet",
        "--scale-out",
        "--scale-out-shards",
        "2",
        "--data-dir",
        path_arg(&data),
        "--results",
        path_arg(&results),
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "10000 rows of predbench",
        "  generate: ",
        "  export rayon modulo parquet: ",
        " export --input ",
        "--sink parquet:",
        "  export rayon packed null: ",
        "--max-message-bytes 262144",
        "      verified by: ",
        "  decode only modulo, 1 thread: ",
        "  shard 1/2 export rayon modulo parquet: ",
        "--shard 1/2",
    ] {
        assert!(stdout.contains(expected), "{expected}: {stdout}");
    }
    assert!(
        !data.exists() && !results.exists(),
        "a dry run makes nothing"
    );
}

#[test]
fn a_float32_table_is_its_own_dataset_and_only_predbench_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = harness(&[
        "compare",
        "--dry-run",
        "--class-type",
        "float32",
        "--rows",
        "1k",
        "--data-dir",
        path_arg(&dir.path().join("data")),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("predictions-float32-1000-seed42"),
        "{stdout}"
    );
    assert!(stdout.contains("--class-type float32"), "{stdout}");
    let refused = harness(&[
        "compare",
        "--dry-run",
        "--class-type",
        "float32",
        "--dataset",
        "seed",
    ]);
    assert!(
        stderr_of(&refused).contains("--class-type"),
        "{}",
        stderr_of(&refused)
    );
}
