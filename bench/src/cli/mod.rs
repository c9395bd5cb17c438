//! The command line: the clap structures ([`args`]), their conversion into
//! the libraries' settings in one place ([`convert`]), and command lines for
//! child processes built back from the same structures ([`argv`]).

pub mod args;
pub mod argv;
pub mod convert;

pub use args::*;

use clap::{Parser, Subcommand};

/// Generate ML prediction tables, export them as JSON messages with competing
/// strategies, and measure the trade-offs.
#[derive(Debug, Parser)]
#[command(name = "predbench", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, PartialEq, Subcommand)]
pub enum Command {
    /// Generate a prediction table as a directory of Parquet part files.
    Generate(GenerateArgs),
    /// Turn a prediction table into JSON messages of K predictions.
    Export(ExportArgs),
    /// Prove an export complete and correct against its dataset.
    Verify(VerifyArgs),
    /// Measure every strategy, grouping and sink as child processes, next to the
    /// generator, the peers and the disk's write speed; record each run as JSON
    /// under --results.
    Compare(Box<CompareArgs>),
    /// Render results/REPORT.md, its appendix and charts, and the README's
    /// results block from the recorded runs alone.
    Report(ReportArgs),
    /// Publish messages already serialized (a Parquet file of messages, as
    /// `export --sink parquet:` writes) to a queue with the queue sink's
    /// settings: the baseline an export to the queue is measured against.
    Publish(PublishArgs),
    /// Consume a queue predbench filled into a file, in message_id order,
    /// dropping duplicates; messages are acknowledged once the file is written.
    Drain(DrainArgs),
}
