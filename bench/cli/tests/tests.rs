//! Behaviour of the `predbench` binary: one test binary, a module per command.

mod compare;
mod conformance;
mod export;
mod generate;
mod peers;
mod queue;
mod report;
mod shard;

use std::path::Path;
use std::process::{Command, Output};

/// Runs the built `predbench` with `args`.
pub fn predbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_predbench"))
        .args(args)
        .output()
        .expect("predbench starts")
}

/// Standard error as text.
pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Names of the entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
