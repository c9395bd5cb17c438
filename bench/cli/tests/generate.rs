//! `predbench generate`: bad arguments, output, and a run killed half way.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::{entries, predbench, stderr_of};

#[test]
fn bad_arguments_fail_with_one_clear_line_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let out = out.to_str().unwrap();
    let cases: [(&[&str], &str); 8] = [
        (&["--rows", "0"], "--rows"),
        (&["--classes", "0"], "--classes"),
        (&["--null-rate", "1.5"], "--null-rate"),
        (&["--nan-rate", "-0.1"], "--nan-rate"),
        (&["--distribution", "dirichlet", "--alpha", "0"], "--alpha"),
        (&["--distribution", "dirichlet", "--alpha", "-2"], "--alpha"),
        (&["--memory-budget", "lots"], "--memory-budget"),
        (&["--threads", "0"], "--threads"),
    ];
    for (extra, flag) in cases {
        let mut args = vec!["generate", "--out", out, "--rows", "100"];
        args.extend_from_slice(extra);
        let output = predbench(&args);
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{extra:?} succeeded");
        assert!(stderr.contains(flag), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{extra:?}: {stderr}");
        assert!(
            entries(dir.path()).is_empty(),
            "{extra:?} left {:?}",
            entries(dir.path())
        );
    }
}

#[test]
fn existing_and_unwritable_outputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    std::fs::create_dir(&out).unwrap();
    let output = predbench(&["generate", "--out", out.to_str().unwrap(), "--rows", "10"]);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("already exists"),
        "{}",
        stderr_of(&output)
    );

    let inside_a_file = dir.path().join("a-file");
    std::fs::write(&inside_a_file, "x").unwrap();
    let target = inside_a_file.join("data");
    let output = predbench(&[
        "generate",
        "--out",
        target.to_str().unwrap(),
        "--rows",
        "10",
    ]);
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("a-file"), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|line| line.contains("error")).count(),
        1,
        "{stderr}"
    );
    assert!(
        !stderr.contains("os error 20): Not a directory"),
        "cause repeated: {stderr}"
    );
}

#[test]
fn generate_writes_parts_and_manifest_and_reports_cost() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let output = predbench(&[
        "generate",
        "--out",
        out.to_str().unwrap(),
        "--rows",
        "25000",
        "--file-rows",
        "10000",
        "--memory-budget",
        "256MB",
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        entries(&out),
        [
            "_manifest.json",
            "part-00000.parquet",
            "part-00001.parquet",
            "part-00002.parquet"
        ]
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("wrote 25000 rows in 3 files"), "{stdout}");
    assert!(stdout.contains("peak RSS"), "{stdout}");
    assert!(
        stderr_of(&output).contains("batch rows: "),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_run_killed_half_way_leaves_no_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_predbench"))
        .args([
            "generate",
            "--out",
            out.to_str().unwrap(),
            "--rows",
            "50000000",
            "--quiet",
        ])
        .spawn()
        .unwrap();
    // Wait until the run has started writing part files, then kill it.
    let started = Instant::now();
    loop {
        let staging_has_parts = entries(dir.path()).iter().any(|name| {
            name.contains("predbench-tmp")
                && std::fs::read_dir(dir.path().join(name))
                    .is_ok_and(|mut files| files.next().is_some())
        });
        if staging_has_parts || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "a killed run published {}", out.display());

    // The next run cleans up the dead run's staging directory and succeeds.
    let output = predbench(&["generate", "--out", out.to_str().unwrap(), "--rows", "1000"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(entries(dir.path()), ["data"]);
}

#[test]
fn float32_scores_are_the_same_draws_and_export_in_their_own_shortest_form() {
    let dir = tempfile::tempdir().unwrap();
    let doubles = dir.path().join("doubles");
    let floats = dir.path().join("floats");
    for (out, class_type) in [(&doubles, "float64"), (&floats, "float32")] {
        let output = predbench(&[
            "generate",
            "--out",
            out.to_str().unwrap(),
            "--rows",
            "3000",
            "--class-type",
            class_type,
            "--quiet",
        ]);
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    let read = |dataset: &std::path::Path| {
        let dataset = predbench_exporter::Dataset::open(dataset).unwrap();
        (
            dataset.schema.field(1).data_type().clone(),
            dataset.read_rows(0..3000).unwrap(),
        )
    };
    let (double_type, double_rows) = read(&doubles);
    let (float_type, float_rows) = read(&floats);
    assert_eq!(double_type, arrow_schema::DataType::Float64);
    assert_eq!(float_type, arrow_schema::DataType::Float32);
    use arrow_array::cast::AsArray;
    let wide = double_rows
        .column(1)
        .as_primitive::<arrow_array::types::Float64Type>();
    let narrow = float_rows
        .column(1)
        .as_primitive::<arrow_array::types::Float32Type>();
    for row in 0..3000 {
        assert_eq!(narrow.value(row), wide.value(row) as f32, "row {row}");
    }
    // Exported, a float score is at most 9 significant digits, and verifies.
    let messages = dir.path().join("messages.ndjson");
    let sink = format!("ndjson:{}", messages.display());
    let output = predbench(&[
        "export",
        "--input",
        floats.to_str().unwrap(),
        "--sink",
        &sink,
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let text = std::fs::read_to_string(&messages).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let score = first[0]["class_0"].to_string();
    assert!(score.trim_start_matches("0.").len() <= 9, "{score}");
    let output = predbench(&[
        "verify",
        "--input",
        floats.to_str().unwrap(),
        "--messages",
        messages.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
