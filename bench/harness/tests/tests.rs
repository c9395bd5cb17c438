//! Behaviour of `predbench-harness`: one test binary, a module per area.
//! The harness runs the `predbench` command cargo builds beside it (`cargo
//! test --workspace` builds both).

mod commands;
mod compare;
mod delivery;
mod kafka;
mod peers;
mod report;
mod verdict;

use std::path::Path;
use std::process::{Command, Output};

/// Runs the built `predbench-harness` with `args`.
pub fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_predbench-harness"))
        .args(args)
        .output()
        .expect("predbench-harness starts")
}

/// Runs the `predbench` command beside the harness with `args`.
pub fn predbench(args: &[&str]) -> Output {
    let program = Path::new(env!("CARGO_BIN_EXE_predbench-harness")).with_file_name("predbench");
    assert!(
        program.is_file(),
        "no predbench at {}: `cargo test --workspace` (or `cargo build -p predbench`) builds it",
        program.display()
    );
    Command::new(program)
        .args(args)
        .output()
        .expect("predbench starts")
}

#[path = "../../test_support.rs"]
mod support;

pub use support::*;
