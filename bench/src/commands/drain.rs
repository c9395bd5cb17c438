//! `predbench drain`: a queue predbench filled, read back into a file in
//! message_id order without duplicates.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use predbench_exporter::drain::{DrainSummary, drain};
use predbench_exporter::sink::{AmqpTarget, NdjsonSink, ParquetSink};

use crate::cli::DrainArgs;
use crate::cli::convert::SinkSpec;

/// Runs `predbench drain`.
pub fn run(args: DrainArgs) -> anyhow::Result<ExitCode> {
    let target = AmqpTarget::parse(&args.from)?;
    let output = match SinkSpec::parse(&args.messages) {
        Ok(SinkSpec::Parquet(path)) => SinkSpec::Parquet(path),
        Ok(SinkSpec::Ndjson(path)) => SinkSpec::Ndjson(path),
        _ => SinkSpec::Parquet(PathBuf::from(&args.messages)),
    };
    let summary = drain_into(&target, &output, args.first_group, args.force)?;
    if !args.quiet {
        println!(
            "drained {} messages from {} into {}: {} written ({} predictions), {} duplicates dropped{}",
            summary.received,
            target.describe(),
            summary
                .sink
                .path
                .as_ref()
                .map_or_else(String::new, |path| path.display().to_string()),
            summary.sink.messages,
            summary.sink.rows,
            summary.duplicates,
            if summary.missing > 0 {
                format!(", {} groups MISSING", summary.missing)
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn drain_into(
    target: &AmqpTarget,
    output: &SinkSpec,
    first_group: u64,
    force: bool,
) -> anyhow::Result<DrainSummary> {
    let summary = match output {
        SinkSpec::Parquet(path) => drain(
            target,
            ParquetSink::create(
                path,
                predbench_generator::parquet_output::parquet_codec(
                    predbench_generator::Compression::Lz4,
                ),
                force,
            )?,
            first_group,
        ),
        SinkSpec::Ndjson(path) => drain(target, NdjsonSink::create(path, force)?, first_group),
        _ => bail!("drain writes parquet:PATH or ndjson:PATH"),
    };
    Ok(summary?)
}
