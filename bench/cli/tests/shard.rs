//! `--shard I/N` as a user runs it, and predbench run by Spark's scheduler on
//! a real multi-process cluster (`local-cluster[2,1,1024]`: separate executor
//! JVMs), with a shard whose first attempt is killed and retried.

use std::path::Path;
use std::process::Command;

use crate::{entries, predbench, stderr_of};
use crate::{path_arg, peers_venv, repository};

fn generate_flags(rows: &str) -> Vec<&str> {
    vec![
        "--rows",
        rows,
        "--file-rows",
        "4000",
        "--batch-rows",
        "2048",
        "--quiet",
    ]
}

#[test]
fn shard_flags_refuse_bad_input_and_leave_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut arguments = vec!["generate", "--out", path_arg(&data)];
    arguments.extend(generate_flags("10000"));
    assert!(predbench(&arguments).status.success());

    for bad in ["3/2", "0/0", "x"] {
        let output = predbench(&["export", "--input", path_arg(&data), "--shard", bad]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(stderr_of(&output).contains("--shard"), "{bad}");
    }

    let out = dir.path().join("messages");
    let sink = format!("parquet:{}", out.display());
    let export = |shard: &str, extra: &[&str]| {
        let mut arguments = vec![
            "export",
            "--input",
            path_arg(&data),
            "--sink",
            &sink,
            "--shard",
            shard,
            "--quiet",
        ];
        arguments.extend_from_slice(extra);
        predbench(&arguments)
    };
    assert!(export("0/2", &[]).status.success());
    assert_eq!(
        entries(&out),
        ["_shard-00000-of-00002.json", "part-00000.parquet"]
    );
    // The shard's output exists: refused without --force.
    let output = export("0/2", &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("pass --force"),
        "{}",
        stderr_of(&output)
    );
    // Another grouping, another shard count, window-sort, NDJSON: refused.
    let output = export("1/2", &["--grouping", "contiguous"]);
    assert!(
        stderr_of(&output).contains("other options"),
        "{}",
        stderr_of(&output)
    );
    let output = export("1/3", &[]);
    assert!(stderr_of(&output).contains("in 2 shards, this one is in 3"));
    let output = export("1/2", &["--strategy", "window-sort"]);
    assert!(stderr_of(&output).contains("use rayon or single-thread"));
    let ndjson = format!("ndjson:{}", out.display());
    let output = predbench(&[
        "export",
        "--input",
        path_arg(&data),
        "--sink",
        &ndjson,
        "--shard",
        "1/2",
    ]);
    assert!(stderr_of(&output).contains("a shard writes parquet:DIR"));
    assert_eq!(
        entries(&out),
        ["_shard-00000-of-00002.json", "part-00000.parquet"]
    );

    // The dataset changes between shards: a part file is regenerated with
    // another seed. Its manifest no longer matches, and the other shard's
    // record names the difference.
    let other = dir.path().join("other");
    let mut arguments = vec!["generate", "--out", path_arg(&other), "--seed", "7"];
    arguments.extend(generate_flags("10000"));
    assert!(predbench(&arguments).status.success());
    std::fs::copy(
        other.join("part-00001.parquet"),
        data.join("part-00001.parquet"),
    )
    .unwrap();
    let output = export("1/2", &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("differ from its _manifest.json"),
        "{stderr}"
    );
    std::fs::remove_file(data.join("_manifest.json")).unwrap();
    std::fs::remove_file(data.join("part-00002.parquet")).unwrap();
    let output = export("1/2", &[]);
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("the dataset changed between shards"),
        "{stderr}"
    );
    assert_eq!(
        entries(&out),
        ["_shard-00000-of-00002.json", "part-00000.parquet"]
    );
}

#[test]
fn generate_shards_and_merge_manifests_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let mut arguments = vec!["generate", "--out", path_arg(&whole)];
    arguments.extend(generate_flags("9000"));
    assert!(predbench(&arguments).status.success());
    let sharded = dir.path().join("sharded");
    for index in ["1/2", "0/2"] {
        let mut arguments = vec!["generate", "--out", path_arg(&sharded), "--shard", index];
        arguments.extend(generate_flags("9000"));
        let output = predbench(&arguments);
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    for name in entries(&whole) {
        assert_eq!(
            std::fs::read(whole.join(&name)).unwrap(),
            std::fs::read(sharded.join(&name)).unwrap(),
            "{name}"
        );
    }
    // --merge-manifests writes the same manifest again, and fails on an incomplete set.
    std::fs::remove_file(sharded.join("_manifest.json")).unwrap();
    let output = predbench(&["generate", "--merge-manifests", path_arg(&sharded)]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        std::fs::read(whole.join("_manifest.json")).unwrap(),
        std::fs::read(sharded.join("_manifest.json")).unwrap()
    );
    std::fs::remove_file(sharded.join("_shard-00001-of-00002.json")).unwrap();
    let output = predbench(&["generate", "--merge-manifests", path_arg(&sharded)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("shards 1/2 have not written their manifests"));
}

/// Runs `scripts/spark/predbench_on_spark.py` with `arguments`; returns its summary JSON.
fn on_spark(dir: &Path, arguments: &[&str]) -> serde_json::Value {
    let summary = dir.join("spark-summary.json");
    // A binary under another name than `predbench` ships as well.
    let binary = dir.join("predbench-under-test");
    if !binary.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_predbench"), &binary).unwrap();
    }
    let output = Command::new(peers_venv().join("bin/python"))
        .arg(repository().join("scripts/spark/predbench_on_spark.py"))
        .args(["--predbench", path_arg(&binary)])
        .args(["--master", "local-cluster[2,1,1024]", "--shards", "2"])
        .args(["--summary-json", path_arg(&summary), "--force"])
        .args(arguments)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    // local-cluster's workers copy the binary into SPARK_HOME/work/APP; the
    // script deletes it.
    let application = summary["settings"]["application"].as_str().unwrap();
    for python in std::fs::read_dir(peers_venv().join("lib")).unwrap() {
        let work = python.unwrap().path().join("site-packages/pyspark/work");
        assert!(
            !work.join(application).exists(),
            "{application} left behind"
        );
    }
    summary
}

#[test]
fn spark_schedules_the_shards_and_retries_a_killed_one() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dir.path().join("data");
    let generated = on_spark(
        dir.path(),
        &[
            "--job",
            "generate",
            "--output",
            path_arg(&data),
            "--rows",
            "1000000",
            "--file-rows",
            "300000",
        ],
    );
    assert_eq!(generated["rows"], 1_000_000);
    assert_eq!(generated["shards"].as_array().unwrap().len(), 2);
    // The dataset is the one a single machine writes with the same flags.
    let whole = dir.path().join("whole");
    let output = predbench(&[
        "generate",
        "--out",
        path_arg(&whole),
        "--rows",
        "1000000",
        "--file-rows",
        "300000",
        "--batch-rows",
        "262144",
        "--quiet",
    ]);
    assert!(output.status.success());
    for name in entries(&whole) {
        assert_eq!(
            std::fs::read(whole.join(&name)).unwrap(),
            std::fs::read(data.join(&name)).unwrap(),
            "{name}"
        );
    }

    // Export in 2 shards; shard 1's first attempt is SIGKILLed mid-write and
    // Spark runs it again.
    let messages = dir.path().join("messages");
    let exported = on_spark(
        dir.path(),
        &[
            "--input",
            path_arg(&data),
            "--output",
            path_arg(&messages),
            "--kill-first-attempt-of",
            "1",
            "--strategy",
            "rayon",
        ],
    );
    assert_eq!(exported["retried_shards"], serde_json::json!([1]));
    assert_eq!(exported["messages"], 100_001);
    assert_eq!(
        entries(&messages),
        [
            "_shard-00000-of-00002.json",
            "_shard-00001-of-00002.json",
            "part-00000.parquet",
            "part-00001.parquet"
        ]
    );
    let output = predbench(&[
        "verify",
        "--input",
        path_arg(&data),
        "--messages",
        path_arg(&messages),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("ok: 100001 messages, 1000000 predictions"),
        "{stdout}"
    );
}
