//! Behaviour of the `predbench` command: one test binary, a module per area.

mod conformance;
mod export;
mod generate;
mod kafka;
mod queue;
mod shard;

use std::process::{Command, Output};

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
