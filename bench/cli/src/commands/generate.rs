//! `predbench generate`: validates the flags, sizes batches for the memory
//! budget, runs the generator (the whole table, one shard of it, or the
//! merge of the shards' manifests) with a progress bar and prints what it cost.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use predbench_common::Shard;
use predbench_common::units::format_bytes;
use predbench_generator::config::batch_rows_for_budget;
use predbench_generator::{GeneratorConfig, RunOptions};

use super::describe;
use crate::args::GenerateArgs;
use crate::convert::generator_config;
use crate::progress::{available_cores, available_memory_bytes, peak_rss_bytes, rows_progress_bar};
use crate::summary::{CommandSummary, Counts};

/// The default memory budget: 1.5 GiB, or half the available memory if that is less.
fn default_memory_budget() -> u64 {
    (3u64 << 29).min(available_memory_bytes() / 2)
}

/// Runs `predbench generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.merge_manifests {
        return merge(dir, args.output.quiet);
    }
    let out = args
        .out
        .clone()
        .expect("clap requires --out without --merge-manifests");
    let threads = args.threads.unwrap_or_else(available_cores);
    if threads == 0 {
        anyhow::bail!("invalid argument --threads: must be at least 1");
    }
    let config = sized_config(&args, threads)?;
    let options = RunOptions {
        threads,
        force: args.force,
    };
    match args.shard.filter(|shard| !shard.is_whole()) {
        Some(shard) => generate_shard(&args, &config, &out, shard, &options),
        None => generate_whole(&args, &config, &out, &options),
    }
}

/// `--merge-manifests DIR`.
fn merge(dir: &Path, quiet: bool) -> anyhow::Result<ExitCode> {
    let manifest = predbench_generator::merge_shard_manifests(dir)
        .with_context(|| format!("cannot complete {}", dir.display()))?;
    if !quiet {
        println!(
            "wrote {}: {} rows in {} files ({})",
            dir.join(predbench_generator::MANIFEST_FILE).display(),
            manifest.rows,
            manifest.parts.len(),
            format_bytes(manifest.total_bytes())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The configuration, its batches sized for the memory budget unless given.
fn sized_config(args: &GenerateArgs, threads: usize) -> anyhow::Result<GeneratorConfig> {
    let (batch_rows, batch_reason) = match args.batch_rows {
        Some(rows) => (rows, "given by --batch-rows".to_string()),
        None => {
            let memory_budget = args.memory_budget.unwrap_or_else(default_memory_budget);
            let sizing = batch_rows_for_budget(memory_budget, threads, args.classes, args.rows);
            (sizing.batch_rows, sizing.reason)
        }
    };
    let config = generator_config(args, batch_rows);
    config.validate()?;
    if !args.output.quiet {
        eprintln!("batch rows: {batch_rows} ({batch_reason})");
    }
    Ok(config)
}

/// `--shard I/N`: this shard's part files and its manifest.
fn generate_shard(
    args: &GenerateArgs,
    config: &GeneratorConfig,
    out: &Path,
    shard: Shard,
    options: &RunOptions,
) -> anyhow::Result<ExitCode> {
    let bar = rows_progress_bar(config.rows, args.output.quiet);
    let summary = predbench_generator::generate_shard(config, out, shard, options, &mut |rows| {
        bar.set_position(rows)
    })
    .with_context(|| format!("cannot generate shard {shard} of {}", out.display()))?;
    bar.finish_and_clear();
    let manifest = &summary.shard_manifest;
    let rows = manifest.parts.iter().map(|part| part.rows).sum::<u64>();
    let bytes = manifest.parts.iter().map(|part| part.bytes).sum::<u64>();
    write_summary(args, rows, bytes, summary.elapsed.as_secs_f64())?;
    if !args.output.quiet {
        let completed = summary
            .completed
            .as_ref()
            .map_or_else(String::new, |dataset| {
                format!(
                    "; every shard is done: _manifest.json lists {} rows in {} files",
                    dataset.rows,
                    dataset.parts.len()
                )
            });
        println!(
            "shard {shard}: wrote {rows} rows in {} files ({}) to {} in {:.2} s, peak RSS {}{completed}",
            manifest.parts.len(),
            format_bytes(bytes),
            out.display(),
            summary.elapsed.as_secs_f64(),
            describe::peak_rss(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The whole table.
fn generate_whole(
    args: &GenerateArgs,
    config: &GeneratorConfig,
    out: &Path,
    options: &RunOptions,
) -> anyhow::Result<ExitCode> {
    let bar = rows_progress_bar(config.rows, args.output.quiet);
    let summary =
        predbench_generator::generate(config, out, options, &mut |rows| bar.set_position(rows))
            .with_context(|| format!("cannot generate {}", out.display()))?;
    bar.finish_and_clear();
    let seconds = summary.elapsed.as_secs_f64();
    let bytes = summary.manifest.total_bytes();
    write_summary(args, summary.manifest.rows, bytes, seconds)?;
    if !args.output.quiet {
        println!(
            "wrote {} rows in {} files ({}) to {} in {:.2} s: {:.0} rows/s, {:.1} MB/s, peak RSS {}",
            summary.manifest.rows,
            summary.manifest.parts.len(),
            format_bytes(bytes),
            out.display(),
            seconds,
            summary.manifest.rows as f64 / seconds,
            bytes as f64 / seconds / 1e6,
            describe::peak_rss(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--summary-json`, when asked for.
fn write_summary(args: &GenerateArgs, rows: u64, bytes: u64, seconds: f64) -> anyhow::Result<()> {
    let Some(path) = &args.output.summary_json else {
        return Ok(());
    };
    CommandSummary {
        counts: Counts {
            rows,
            output_bytes: bytes,
            ..Counts::default()
        },
        elapsed_seconds: seconds,
        peak_rss_bytes: peak_rss_bytes(),
        ..CommandSummary::default()
    }
    .write(path)
}
