//! `predbench`: generate prediction tables, export them as JSON messages, and
//! benchmark the strategies. `main` only parses, runs and picks the exit code.

mod child;
mod cli;
mod compare_command;
mod export_command;
mod generate_command;
mod machine;
mod process_stats;
mod record;
mod report;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc keeps freed pages for reuse: batches are allocated and freed in a
/// loop, and with the system allocator every batch paid its page faults again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "predbench: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Generate(args) => generate_command::run(args),
        cli::Command::Export(args) => export_command::run_export(args),
        cli::Command::Verify(args) => export_command::run_verify(args),
        cli::Command::Compare(args) => compare_command::run(args),
        cli::Command::Report(args) => report::run(args),
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
