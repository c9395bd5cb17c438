//! `compare --peers` with the real peers (Spark, DuckDB, Polars, the seed's
//! generator) at a tiny scale: every peer runs as a child, its output is
//! verified, their NaN and null conventions are recorded, and a missing venv
//! is a recorded failure that says how to set up, not a crash.
//!
//! The real-peer test needs the venv of `scripts/setup-peers.sh` (the README's
//! test command makes it first): `.venv-peers` at the repository's top, or
//! the path in PREDBENCH_PEERS_VENV.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::compare::{failure_detail, named, newest_records};
use crate::{harness, path_arg, peers_venv, predbench, repository, stderr_of};

/// `compare` of 5,000 rows, `rayon` into the null sink and `peers`, with
/// the venv `venv`, writing under `dir` (`data/`, `results/`).
fn small_compare(dir: &Path, venv: &Path, peers: &str) -> Vec<String> {
    [
        "compare",
        "--rows",
        "5k",
        "--runs",
        "1",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo",
        "--sinks",
        "null",
        "--skip-disk-floor",
        "--peers",
        peers,
        "--peers-venv",
        path_arg(venv),
        "--peers-dir",
        path_arg(&repository().join("scripts/peers")),
        "--data-dir",
        path_arg(&dir.join("data")),
        "--results",
        path_arg(&dir.join("results")),
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn peers_without_their_venv_are_recorded_as_failed_with_the_fix() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let results = dir.path().join("results");
    let venv = dir.path().join("no-venv");
    let arguments = small_compare(dir.path(), &venv, "seed-generator,polars");
    let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
    let output = harness(&arguments);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let records = newest_records(&results);
    // generate, the seed generator, rayon, polars: no edge cases without a peer that can run.
    assert_eq!(records.len(), 4, "{records:?}");
    assert_eq!(named(&records, "export rayon modulo null")["status"], "ok");
    assert_eq!(named(&records, "generate")["status"], "ok");
    for name in ["peer seed-generator", "peer polars modulo parquet"] {
        let record = named(&records, name);
        assert_eq!(record["status"], "failed", "{record}");
        let error = failure_detail(record);
        assert!(error.contains("scripts/setup-peers.sh"), "{error}");
        assert_eq!(record["failure"]["cause"], "unavailable");
        assert!(record["configuration"]["peer"].is_string());
    }
    assert!(
        stderr.contains("FAILED, could not run here (no peers venv"),
        "{stderr}"
    );

    let bad = harness(&["compare", "--peers", "spark"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr_of(&bad).contains("no peer named 'spark'"));
    let bad = harness(&["compare", "--dataset", "/nonexistent/dataset"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr_of(&bad).contains("--dataset"));
}

#[test]
fn a_spark_peer_without_java_is_recorded_as_failed_with_the_fix() {
    let venv = peers_venv();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let results = dir.path().join("results");
    // No java on this PATH (nor anything else: every other program is named by its path).
    let output = Command::new(env!("CARGO_BIN_EXE_predbench-harness"))
        .env("PATH", dir.path().join("empty-path"))
        .args(small_compare(dir.path(), &venv, "spark-jvm"))
        .args(["--skip-generate", "--no-time-check"])
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let records = newest_records(&results);
    assert_eq!(named(&records, "export rayon modulo null")["status"], "ok");
    let spark = named(&records, "peer spark-jvm modulo parquet");
    assert_eq!(spark["status"], "failed");
    let error = failure_detail(spark);
    assert!(error.contains("no java on PATH"), "{error}");
    assert!(error.contains("Java 17"), "{error}");
}

#[test]
fn the_seed_generator_repeats_its_numbers_across_files() {
    let venv = peers_venv();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out = dir.path().join("seed");
    let scripts = repository().join("scripts/peers");
    let python = venv.join("bin/python");
    let status = Command::new(&python)
        .arg(scripts.join("seed_generator.py"))
        .args(["--output", path_arg(&out), "--rows", "60000"])
        .args(["--batch-rows", "20000", "--workers", "2"])
        .status()
        .unwrap();
    assert!(status.success());
    // Extension-less data files named by UUID, as pandas wrote them for the seed.
    let names: Vec<String> = crate::entries(&out)
        .into_iter()
        .filter(|name| !name.starts_with('_'))
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names
            .iter()
            .all(|name| name.len() == 36 && !name.contains('.'))
    );
    let found = Command::new(&python)
        .arg(scripts.join("repeated_files.py"))
        .args(["--input", path_arg(&out)])
        .output()
        .unwrap();
    assert!(found.status.success());
    let found: Value = serde_json::from_slice(&found.stdout).unwrap();
    // Two forked workers start from the same numpy state: their first batches are equal.
    assert_eq!(found["files"], 3);
    assert_eq!(found["repeating"], 1, "{found}");
    // predbench reads them: three files, 60,000 rows.
    let export = predbench(&["export", "--input", path_arg(&out), "--sink", "null"]);
    assert!(export.status.success(), "{}", stderr_of(&export));
    let printed = String::from_utf8_lossy(&export.stdout);
    assert!(
        printed.contains(": 60000 rows -> 6001 messages"),
        "{printed}"
    );
}

#[test]
fn compare_runs_every_peer_on_the_seeds_files_and_records_their_conventions() {
    let venv = peers_venv();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let results = dir.path().join("results");
    let output = harness(&[
        "compare",
        "--rows",
        "20k",
        "--runs",
        "1",
        "--dataset",
        "seed",
        "--peers",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo",
        "--sinks",
        "parquet",
        "--threads",
        "2",
        "--spark-driver-memory",
        "1g",
        "--peers-venv",
        path_arg(&venv),
        "--peers-dir",
        path_arg(&repository().join("scripts/peers")),
        "--data-dir",
        path_arg(&dir.path().join("data")),
        "--results",
        path_arg(&results),
    ]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    let records = newest_records(&results);
    let on = |dataset: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|record| record["configuration"]["dataset"] == dataset)
            .collect()
    };
    // generate, seed generator, 2 disk floors, rayon, 11 exporting peers
    // (5 tools' variants among them) and predbench-on-spark on the seed's files.
    assert_eq!(on("seed").len(), 17, "{records:?}");
    for record in on("seed") {
        assert_eq!(record["status"], "ok", "{record}");
        if record["configuration"]["kind"] == "export" {
            assert_eq!(record["verification"]["ok"], true, "{record}");
            assert_eq!(record["messages"], 2_001, "{record}");
            assert!(record["peak_rss_bytes"].as_u64().unwrap() > 0);
        }
    }
    // The Spark peers' JVM is reaped by its Python parent, so its memory counts.
    let spark = named(&records, "peer spark-jvm modulo parquet");
    assert!(
        spark["peak_rss_bytes"].as_u64().unwrap() > 300 << 20,
        "{spark}"
    );
    assert!(
        spark["verification"]["command"]
            .as_array()
            .unwrap()
            .iter()
            .any(|argument| argument == "--any-grouping")
    );
    // predbench run by Spark numbers rows as predbench does: checked against
    // the exact grouping (verify's default, modulo).
    let on_spark = named(&records, "peer predbench-on-spark modulo parquet");
    let check = on_spark["verification"]["command"].as_array().unwrap();
    assert!(
        !check.iter().any(|argument| argument == "--any-grouping"),
        "{on_spark}"
    );
    // The peers that number rows in file order, as predbench does, are held
    // to predbench's groups, in any message order.
    for name in ["duckdb", "polars-in-memory", "chdb", "chdb-spill"] {
        let record = named(&records, &format!("peer {name} modulo parquet"));
        let check = record["verification"]["command"].as_array().unwrap();
        assert!(
            check
                .iter()
                .any(|argument| argument == "--any-message-order"),
            "{record}"
        );
    }
    // At 20k rows the seed's generator writes one file: nothing can repeat
    // another, and nothing is said (three files repeat: see above).
    let rayon = named(&records, "export rayon modulo parquet");
    assert_eq!(
        rayon["observations"].as_array().map(Vec::len),
        Some(0),
        "{rayon}"
    );

    // NaN and nulls: Spark's and Sail's conventions pass, DuckDB's bare NaN
    // and Polars' and ClickHouse's NaN-as-null are recorded as not verified.
    // One variant per tool: the conventions are the tool's.
    let edge = on("edge-cases");
    assert_eq!(
        edge.len(),
        9,
        "rayon, 7 exporting tools, predbench-on-spark: {edge:?}"
    );
    let verdict = |name: &str| {
        let record = edge
            .iter()
            .find(|record| record["configuration"]["name"] == name)
            .unwrap_or_else(|| panic!("no edge-case record {name}"));
        assert_eq!(record["status"], "ok", "{record}");
        record["verification"].clone()
    };
    for name in [
        "export rayon modulo parquet",
        "peer pyspark-seed modulo parquet",
        "peer pyspark-window modulo parquet",
        "peer spark-jvm modulo parquet",
        "peer predbench-on-spark modulo parquet",
        "peer sail modulo parquet",
    ] {
        assert_eq!(verdict(name)["ok"], true, "{name}");
    }
    let duckdb = verdict("peer duckdb modulo parquet");
    assert_eq!(duckdb["ok"], false);
    assert!(
        duckdb["findings"][0]
            .as_str()
            .unwrap()
            .contains("writes a bare NaN (not JSON)"),
        "{duckdb}"
    );
    assert_eq!(duckdb["reason"], "NaN written bare: invalid JSON");
    let polars = verdict("peer polars modulo parquet");
    assert_eq!(polars["ok"], false);
    assert!(
        polars["findings"][0]
            .as_str()
            .unwrap()
            .contains("expected NaN, the export has null"),
        "{polars}"
    );
    assert_eq!(polars["reason"], "NaN → null");
    assert_eq!(verdict("peer chdb modulo parquet")["reason"], "NaN → null");
    // Every exporting peer says what it ran with.
    for name in [
        "peer polars modulo parquet",
        "peer duckdb modulo parquet",
        "peer spark-jvm modulo parquet",
        "peer chdb modulo parquet",
        "peer sail modulo parquet",
    ] {
        let settings = &named(&records, name)["settings"];
        assert!(
            settings
                .as_object()
                .is_some_and(|settings| !settings.is_empty()),
            "{name}: {settings}"
        );
    }

    let markdown = crate::compare::render_report(&results);
    for expected in [
        "**Build the export as one process",
        "**20,000 rows, the seed generator's files** — session",
        "| predbench `rayon` (divisor) | 1 |",
        "| Spark done right (JVM) | 1 |",
        "| DuckDB | 1 |",
        "| ClickHouse (chDB) | 1 |",
        "| Sail (Spark Connect on DataFusion) | 1 |",
        "| Polars, in-memory engine | 1 |",
        "## Every peer's variants",
        "NaN written bare: invalid JSON",
        "NaN → null",
        "Making the table (20,000 rows): `predbench generate`",
        "## 20,000 rows, the seed generator's files",
        "## Past one machine",
        "**Through Spark on this machine**",
        "| peer predbench-on-spark modulo parquet |",
    ] {
        assert!(markdown.contains(expected), "{expected}: {markdown}");
    }
    for chart in ["time-seed-20000.svg", "memory-seed-20000.svg"] {
        assert!(results.join("charts").join(chart).is_file(), "{chart}");
    }
}

/// The venv of `scripts/setup-peers.sh` that holds pandas 3.
fn pandas3_venv() -> PathBuf {
    let venv = PathBuf::from(format!("{}-pandas3", peers_venv().display()));
    assert!(
        venv.join("bin/python").is_file(),
        "no pandas 3 venv at {}: run `bash scripts/setup-peers.sh` first",
        venv.display()
    );
    venv
}

#[test]
fn the_peers_on_files_pandas_3_wrote_are_verified() {
    let venv = peers_venv();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dataset = dir.path().join("pandas3");
    // The seed's generator run with today's pandas: ids become large_string.
    let status = Command::new(pandas3_venv().join("bin/python"))
        .arg(repository().join("scripts/peers/seed_generator.py"))
        .args([
            "--output",
            path_arg(&dataset),
            "--rows",
            "20000",
            "--workers",
            "2",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let schema = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import sys, pathlib, pyarrow.parquet as pq; \
             print(pq.read_schema(next(p for p in pathlib.Path(sys.argv[1]).iterdir() if not p.name.startswith(('_', '.')))).field('id_client').type)",
            path_arg(&dataset),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&schema.stdout).trim(),
        "large_string"
    );

    let results = dir.path().join("results");
    let output = harness(&[
        "compare",
        "--dataset",
        path_arg(&dataset),
        "--runs",
        "1",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo",
        "--sinks",
        "parquet",
        "--skip-disk-floor",
        "--skip-edge-cases",
        "--peers",
        "spark-jvm,duckdb,polars",
        "--peers-venv",
        path_arg(&venv),
        "--peers-dir",
        path_arg(&repository().join("scripts/peers")),
        "--spark-driver-memory",
        "1g",
        "--data-dir",
        path_arg(&dir.path().join("data")),
        "--results",
        path_arg(&results),
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let records = newest_records(&results);
    assert_eq!(records.len(), 4, "{records:?}");
    for record in &records {
        assert_eq!(record["verification"]["ok"], true, "{record}");
        assert_eq!(record["messages"], 2_001, "{record}");
    }
    let session = crate::compare::newest_session(&results);
    assert!(
        session["datasets"][0]["columns"][0]
            .as_str()
            .unwrap()
            .contains("LargeUtf8"),
        "{session}"
    );
}
