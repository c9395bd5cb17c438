//! Behaviour of the `predbench` command: one test binary, a module per area.

mod conformance;
mod export;
mod generate;
mod kafka;
mod queue;
mod shard;

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// Runs the built `predbench` with `args`.
pub fn predbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_predbench"))
        .args(args)
        .output()
        .expect("predbench starts")
}

#[path = "../../test_support.rs"]
mod support;

pub use support::*;

/// The checkpoint's `confirmed_below`, 0 while there is none.
pub fn confirmed_below(checkpoint: &Path) -> u64 {
    std::fs::read_to_string(checkpoint)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value["confirmed_below"].as_u64())
        .unwrap_or(0)
}

/// Waits for `child` at most `limit`; kills it and fails the test past that,
/// so that a hung client fails a test instead of hanging the suite.
pub fn finish_within(mut child: Child, limit: Duration) -> std::process::Output {
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

/// A dataset of `rows` rows (files of 100,000) in `dir/data`, as a path argument.
pub fn dataset(dir: &Path, rows: &str) -> String {
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

/// `predbench export` of `data` to the sink `url`, with `extra` flags.
pub fn export_to(data: &str, url: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_predbench"));
    command
        .args(["export", "--input", data, "--sink", url])
        .args(extra);
    command
}
