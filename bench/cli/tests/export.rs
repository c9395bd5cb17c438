//! `predbench export` and `predbench verify` as a user runs them: bad input
//! gets one clear error, a non-zero exit and no output file.

use std::path::Path;

use crate::{entries, predbench, stderr_of};

fn small_dataset(dir: &Path) -> String {
    let out = dir.join("data");
    let output = predbench(&[
        "generate",
        "--out",
        out.to_str().unwrap(),
        "--rows",
        "3000",
        "--quiet",
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    out.to_str().unwrap().to_string()
}

/// `predbench verify` of the export `out` of `data` with `extra` flags: its
/// exit code and what it printed.
fn verify(data: &str, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
        "verify",
        "--input",
        data,
        "--messages",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = predbench(&args);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn export_then_verify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_dataset(dir.path());
    let out = dir.path().join("messages.parquet");
    let sink = format!("parquet:{}", out.display());
    let output = predbench(&[
        "export",
        "--input",
        &data,
        "--strategy",
        "rayon",
        "--sink",
        &sink,
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("3000 rows -> 301 messages"), "{stdout}");
    let (code, stdout) = verify(&data, &out, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    // Verifying against the wrong grouping fails with a non-zero exit and names problems.
    let (code, stdout) = verify(&data, &out, &["--grouping", "contiguous"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("problem: message 0"), "{stdout}");
    // An existing output is not replaced without --force.
    let output = predbench(&["export", "--input", &data, "--sink", &sink]);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("--force"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn packed_export_then_verify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_dataset(dir.path());
    let out = dir.path().join("packed.parquet");
    let sink = format!("parquet:{}", out.display());
    let export = |extra: &[&str]| {
        let mut args = vec!["export", "--input", &data, "--sink", &sink, "--force"];
        args.extend_from_slice(extra);
        predbench(&args)
    };
    // Without a budget, packing has nothing to pack to.
    let output = export(&["--grouping", "packed"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("--max-message-bytes"));
    let output = export(&["--grouping", "packed", "--max-message-bytes", "64KiB"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("packed grouping, at most 65536 bytes a message: 3000 rows -> "),
        "{stdout}"
    );
    let verify = |budget: &str| {
        verify(
            &data,
            &out,
            &["--grouping", "packed", "--max-message-bytes", budget],
        )
    };
    let (code, stdout) = verify("64KiB");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("3000 predictions"), "{stdout}");
    assert!(stdout.contains("every message full"), "{stdout}");
    // The same messages claimed to be packed to another budget.
    let (code, stdout) = verify("128KiB");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("not packed full"), "{stdout}");
    let (code, stdout) = verify("32KiB");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("over the limit of 32768"), "{stdout}");
}

#[test]
fn bad_input_fails_cleanly_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_dataset(dir.path());
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let sink = format!("ndjson:{}", out_dir.join("m.ndjson").display());
    let not_parquet = dir.path().join("notes.txt");
    std::fs::write(&not_parquet, "hello, this is not parquet").unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--input".into(),
                dir.path().join("missing").display().to_string(),
            ],
            "does not exist",
        ),
        (
            vec!["--input".into(), not_parquet.display().to_string()],
            "PAR1",
        ),
        (
            vec!["--input".into(), empty.display().to_string()],
            "no Parquet file",
        ),
        (
            vec![
                "--input".into(),
                data.clone(),
                "--group-size".into(),
                "0".into(),
            ],
            "--group-size",
        ),
        (
            vec![
                "--input".into(),
                data.clone(),
                "--sink".into(),
                "kafka:topic".into(),
            ],
            "--sink",
        ),
        (
            vec![
                "--input".into(),
                data.clone(),
                "--memory-budget".into(),
                "huge".into(),
            ],
            "--memory-budget",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["export".to_string(), "--sink".into(), sink.clone()];
        args.extend(extra.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = predbench(&args);
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{extra:?} succeeded");
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{extra:?}: {stderr}");
        assert!(
            entries(&out_dir).is_empty(),
            "{extra:?} left {:?}",
            entries(&out_dir)
        );
    }
    // An unwritable output: a directory that does not exist.
    let nowhere = format!(
        "parquet:{}",
        dir.path().join("no/such/dir/m.parquet").display()
    );
    let output = predbench(&["export", "--input", &data, "--sink", &nowhere]);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("no/such/dir"),
        "{}",
        stderr_of(&output)
    );
    // A directory in the way of the output file, even with --force: refused
    // before any work, the directory untouched, no temporary file left.
    let in_the_way = out_dir.join("m.parquet");
    std::fs::create_dir(&in_the_way).unwrap();
    let sink = format!("parquet:{}", in_the_way.display());
    let output = predbench(&["export", "--input", &data, "--sink", &sink, "--force"]);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("directory is in the way"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(entries(&out_dir), vec!["m.parquet".to_string()]);
}
