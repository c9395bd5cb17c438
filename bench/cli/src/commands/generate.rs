//! `predbench generate`: validates the flags, sizes batches for the memory
//! budget, runs the generator with a progress bar and prints what it cost.

use std::process::ExitCode;

use anyhow::Context;
use predbench_common::units::format_bytes;
use predbench_generator::config::batch_rows_for_budget;
use predbench_generator::{GeneratorConfig, RunOptions};

use crate::cli::GenerateArgs;
use crate::cli::convert::{class_type, compression, distribution, float_encoding};
use crate::progress::{available_cores, available_memory_bytes, peak_rss_bytes, rows_progress_bar};
use crate::summary::CommandSummary;

/// The default memory budget: 1.5 GiB, or half the available memory if that is less.
fn default_memory_budget() -> u64 {
    (3u64 << 29).min(available_memory_bytes() / 2)
}

/// Runs `predbench generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.merge_manifests {
        let manifest = predbench_generator::merge_shard_manifests(dir)
            .with_context(|| format!("cannot complete {}", dir.display()))?;
        if !args.quiet {
            println!(
                "wrote {}: {} rows in {} files ({})",
                dir.join(predbench_generator::MANIFEST_FILE).display(),
                manifest.rows,
                manifest.parts.len(),
                format_bytes(manifest.total_bytes())
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let out = args
        .out
        .clone()
        .expect("clap requires --out without --merge-manifests");
    let threads = args.threads.unwrap_or_else(available_cores);
    if threads == 0 {
        anyhow::bail!("invalid argument --threads: must be at least 1");
    }
    let memory_budget = args.memory_budget.unwrap_or_else(default_memory_budget);
    let distribution = distribution(args.distribution, args.alpha);
    let (batch_rows, batch_reason) = match args.batch_rows {
        Some(rows) => (rows, "given by --batch-rows".to_string()),
        None => {
            let sizing = batch_rows_for_budget(memory_budget, threads, args.classes, args.rows);
            (sizing.batch_rows, sizing.reason)
        }
    };
    let config = GeneratorConfig {
        rows: args.rows,
        classes: args.classes,
        seed: args.seed,
        distribution,
        null_rate: args.null_rate,
        nan_rate: args.nan_rate,
        batch_rows,
        row_group_rows: args.row_group_rows.unwrap_or(batch_rows),
        file_rows: args.file_rows,
        compression: compression(args.compression),
        float_encoding: float_encoding(args.float_encoding),
        class_type: class_type(args.class_type),
    };
    config.validate()?;
    if !args.quiet {
        eprintln!("batch rows: {batch_rows} ({batch_reason})");
    }

    let bar = rows_progress_bar(config.rows, args.quiet);
    let options = RunOptions {
        threads,
        force: args.force,
    };
    if let Some(shard) = args.shard.filter(|shard| !shard.is_whole()) {
        let summary =
            predbench_generator::generate_shard(&config, &out, shard, &options, &mut |rows| {
                bar.set_position(rows)
            })
            .with_context(|| format!("cannot generate shard {shard} of {}", out.display()))?;
        bar.finish_and_clear();
        let manifest = &summary.shard_manifest;
        let rows = manifest.parts.iter().map(|part| part.rows).sum::<u64>();
        let bytes = manifest.parts.iter().map(|part| part.bytes).sum::<u64>();
        if let Some(path) = &args.summary_json {
            CommandSummary {
                rows,
                output_bytes: bytes,
                elapsed_seconds: summary.elapsed.as_secs_f64(),
                peak_rss_bytes: peak_rss_bytes(),
                ..CommandSummary::default()
            }
            .write(path)?;
        }
        if !args.quiet {
            println!(
                "shard {shard}: wrote {rows} rows in {} files ({}) to {} in {:.2} s, peak RSS {}{}",
                manifest.parts.len(),
                format_bytes(bytes),
                out.display(),
                summary.elapsed.as_secs_f64(),
                peak_rss_bytes().map_or_else(|| "unknown".to_string(), format_bytes),
                match &summary.completed {
                    Some(dataset) => format!(
                        "; every shard is done: _manifest.json lists {} rows in {} files",
                        dataset.rows,
                        dataset.parts.len()
                    ),
                    None => String::new(),
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let summary =
        predbench_generator::generate(&config, &out, &options, &mut |rows| bar.set_position(rows))
            .with_context(|| format!("cannot generate {}", out.display()))?;
    bar.finish_and_clear();

    if let Some(path) = &args.summary_json {
        CommandSummary {
            rows: summary.manifest.rows,
            output_bytes: summary.manifest.total_bytes(),
            elapsed_seconds: summary.elapsed.as_secs_f64(),
            peak_rss_bytes: peak_rss_bytes(),
            ..CommandSummary::default()
        }
        .write(path)?;
    }
    if !args.quiet {
        let seconds = summary.elapsed.as_secs_f64();
        let bytes = summary.manifest.total_bytes();
        println!(
            "wrote {} rows in {} files ({}) to {} in {:.2} s: {:.0} rows/s, {:.1} MB/s, peak RSS {}",
            summary.manifest.rows,
            summary.manifest.parts.len(),
            format_bytes(bytes),
            out.display(),
            seconds,
            summary.manifest.rows as f64 / seconds,
            bytes as f64 / seconds / 1e6,
            peak_rss_bytes().map_or_else(|| "unknown".to_string(), format_bytes),
        );
    }
    Ok(ExitCode::SUCCESS)
}
