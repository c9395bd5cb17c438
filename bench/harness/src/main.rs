//! `predbench-harness`: `compare` runs the `predbench` command and the peers
//! as measured child processes and records every run; `report` renders the
//! report from the records alone. `main` only parses, runs and picks the exit code.

mod args;
mod compare;
mod machine;
mod peers;
mod record;
mod report;

use std::process::ExitCode;

use clap::Parser;

use args::{Harness, HarnessCommand};

fn main() -> ExitCode {
    let harness = Harness::parse();
    let result = match harness.command {
        HarnessCommand::Compare(args) => compare::run(*args),
        HarnessCommand::Report(args) => report::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!(
                "predbench-harness: error: {}",
                predbench::errors::describe_error(&error)
            );
            ExitCode::FAILURE
        }
    }
}
