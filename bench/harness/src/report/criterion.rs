//! `cargo bench` results in the report. `predbench-harness report --import-criterion
//! target/criterion` reads criterion's output directory (not a stable format,
//! so every field is read loosely and a benchmark whose files do not have the
//! expected shape is named) and records its latest estimates under
//! `results/criterion-<time>/criterion.json` with the commit, the date and the
//! machine; the report renders the newest such record, never `target/`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::markdown::{Align, Table, commit_text, count, machine_text};
use crate::record::SessionInfo;

/// File name of a criterion record inside its directory.
pub const CRITERION_FILE: &str = "criterion.json";

/// One criterion benchmark's latest estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Benchmark {
    /// `group/function/parameter`.
    pub id: String,
    /// Mean time per iteration, nanoseconds.
    pub mean_ns: f64,
    /// 95% confidence interval of the mean, nanoseconds.
    pub mean_interval_ns: (f64, f64),
    /// Median time per iteration, nanoseconds.
    pub median_ns: f64,
    /// Elements per iteration, when the benchmark declared a throughput in elements.
    pub elements: Option<u64>,
}

/// What was found under criterion's directory.
#[derive(Debug, Default)]
pub struct Estimates {
    /// Benchmarks read, sorted by id.
    pub benchmarks: Vec<Benchmark>,
    /// Benchmarks whose files could not be read, and why.
    pub not_used: Vec<String>,
}

/// Reads every `new/benchmark.json` + `new/estimates.json` pair under `dir`.
/// A missing directory is not an error: `cargo bench` has not been run.
pub fn load_estimates(dir: &Path) -> Estimates {
    let mut estimates = Estimates::default();
    let mut directories = Vec::new();
    find_new_directories(dir, 6, &mut directories);
    for directory in directories {
        match read_benchmark(&directory) {
            Ok(benchmark) => estimates.benchmarks.push(benchmark),
            Err(reason) => estimates
                .not_used
                .push(format!("criterion {}: {reason}", directory.display())),
        }
    }
    estimates.benchmarks.sort_by(|a, b| a.id.cmp(&b.id));
    estimates
}

fn find_new_directories(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|name| name == "new") {
            if path.join("estimates.json").is_file() {
                found.push(path);
            }
        } else if depth > 0 && path.file_name().is_none_or(|name| name != "report") {
            find_new_directories(&path, depth - 1, found);
        }
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))
}

fn number(value: &Value, path: &[&str]) -> Result<f64, String> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("no number at {}", path.join(".")))
}

fn read_benchmark(directory: &Path) -> Result<Benchmark, String> {
    let estimates = read_json(&directory.join("estimates.json"))?;
    let benchmark = read_json(&directory.join("benchmark.json"))?;
    let id = benchmark
        .get("full_id")
        .and_then(Value::as_str)
        .ok_or("benchmark.json has no full_id")?
        .to_string();
    let elements = benchmark
        .get("throughput")
        .and_then(|throughput| throughput.get("Elements"))
        .and_then(Value::as_u64);
    Ok(Benchmark {
        id,
        mean_ns: number(&estimates, &["mean", "point_estimate"])?,
        mean_interval_ns: (
            number(&estimates, &["mean", "confidence_interval", "lower_bound"])?,
            number(&estimates, &["mean", "confidence_interval", "upper_bound"])?,
        ),
        median_ns: number(&estimates, &["median", "point_estimate"])?,
        elements,
    })
}

/// A recorded `cargo bench` run: where and when, and its estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionRecord {
    /// Layout version of this file (1).
    pub format_version: u32,
    /// The commit, machine and software it ran on (`id` is when it was recorded).
    pub session: SessionInfo,
    /// `PREDBENCH_BENCH_ROWS` of the export benches, when it was set.
    pub bench_rows: Option<u64>,
    /// The estimates, sorted by id.
    pub benchmarks: Vec<Benchmark>,
}

/// Records the estimates found under `criterion` as a new
/// `criterion-<time>/criterion.json` under `results`; fails when there are
/// none or one cannot be read (naming it).
pub fn import(criterion: &Path, results: &Path, session: SessionInfo) -> anyhow::Result<PathBuf> {
    let estimates = load_estimates(criterion);
    if let Some(problem) = estimates.not_used.first() {
        anyhow::bail!("cannot import {}: {problem}", criterion.display());
    }
    if estimates.benchmarks.is_empty() {
        anyhow::bail!(
            "no criterion estimates under {}: run `cargo bench` first",
            criterion.display()
        );
    }
    let directory = results.join(format!("criterion-{}", session.id.replace(':', "-")));
    fs::create_dir_all(&directory)
        .with_context(|| format!("cannot create {}", directory.display()))?;
    let record = CriterionRecord {
        format_version: 1,
        session,
        bench_rows: std::env::var("PREDBENCH_BENCH_ROWS")
            .ok()
            .and_then(|rows| rows.parse().ok()),
        benchmarks: estimates.benchmarks,
    };
    let path = directory.join(CRITERION_FILE);
    let text = serde_json::to_string_pretty(&record).expect("records always serialize");
    predbench_common::atomic_file::write_atomically(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// The newest criterion record under `results`, if any; a file that is not
/// one is an error naming it.
pub fn newest_record(results: &Path) -> anyhow::Result<Option<CriterionRecord>> {
    let mut newest: Option<CriterionRecord> = None;
    for entry in
        fs::read_dir(results).with_context(|| format!("cannot list {}", results.display()))?
    {
        let path = entry?.path().join(CRITERION_FILE);
        if !path.is_file() {
            continue;
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let record: CriterionRecord = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a criterion record", path.display()))?;
        if newest
            .as_ref()
            .is_none_or(|known| known.session.id < record.session.id)
        {
            newest = Some(record);
        }
    }
    Ok(newest)
}

/// The criterion section of the appendix.
pub fn render(record: Option<&CriterionRecord>) -> String {
    let mut out = String::from("## `cargo bench` (criterion)\n\n");
    let Some(record) = record else {
        out.push_str(
            "No criterion record under `results/`: run `cargo bench`, then \
             `predbench-harness report --import-criterion target/criterion`.\n\n",
        );
        return out;
    };
    out.push_str(&format!(
        "Recorded {} (commit {}; {}); time per iteration, the export benches at {} rows.\n\n",
        record.session.id,
        commit_text(&record.session),
        machine_text(&record.session),
        count(record.bench_rows.unwrap_or(1_000_000))
    ));
    let mut table = Table::new(&[
        ("benchmark", Align::Left),
        ("mean s", Align::Right),
        ("95% interval of the mean s", Align::Left),
        ("median s", Align::Right),
        ("elements/s", Align::Right),
    ]);
    for benchmark in &record.benchmarks {
        let seconds = benchmark.mean_ns / 1e9;
        table.row(vec![
            benchmark.id.clone(),
            format!("{seconds:.4}"),
            format!(
                "{:.4} – {:.4}",
                benchmark.mean_interval_ns.0 / 1e9,
                benchmark.mean_interval_ns.1 / 1e9
            ),
            format!("{:.4}", benchmark.median_ns / 1e9),
            benchmark.elements.map_or_else(String::new, |elements| {
                count((elements as f64 / seconds) as u64)
            }),
        ]);
    }
    out.push_str(&table.render());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_files_and_lists_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("export/rayon/modulo_null/new");
        fs::create_dir_all(&good).unwrap();
        fs::write(
            good.join("benchmark.json"),
            r#"{"group_id":"export","function_id":"rayon","value_str":"modulo/null",
                "throughput":{"Elements":1000000},"full_id":"export/rayon/modulo/null",
                "directory_name":"export/rayon/modulo_null","title":"export/rayon/modulo/null"}"#,
        )
        .unwrap();
        fs::write(
            good.join("estimates.json"),
            r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.9e9,
                "upper_bound":2.1e9},"point_estimate":2.0e9,"standard_error":1e7},
                "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.9e9,
                "upper_bound":2.1e9},"point_estimate":1.95e9,"standard_error":1e7}}"#,
        )
        .unwrap();
        let broken = dir.path().join("generate/x/new");
        fs::create_dir_all(&broken).unwrap();
        fs::write(broken.join("benchmark.json"), r#"{"full_id":"generate/x"}"#).unwrap();
        fs::write(broken.join("estimates.json"), r#"{"mean":{}}"#).unwrap();

        let estimates = load_estimates(dir.path());
        assert_eq!(
            estimates.benchmarks,
            vec![Benchmark {
                id: "export/rayon/modulo/null".into(),
                mean_ns: 2.0e9,
                mean_interval_ns: (1.9e9, 2.1e9),
                median_ns: 1.95e9,
                elements: Some(1_000_000),
            }]
        );
        assert_eq!(estimates.not_used.len(), 1);
        assert!(estimates.not_used[0].contains("mean.point_estimate"));

        let record = CriterionRecord {
            format_version: 1,
            session: crate::record::session_info_for_tests("2026-01-01T00:00:00Z"),
            bench_rows: None,
            benchmarks: estimates.benchmarks,
        };
        let out = render(Some(&record));
        assert!(
            out.contains(
                "| export/rayon/modulo/null | 2.0000 | 1.9000 – 2.1000 | 1.9500 | 500,000 |"
            ),
            "{out}"
        );
        assert!(render(None).contains("--import-criterion"));
    }

    #[test]
    fn a_missing_directory_gives_nothing() {
        let estimates = load_estimates(Path::new("/nonexistent/criterion"));
        assert!(estimates.benchmarks.is_empty());
        assert!(estimates.not_used.is_empty());
    }
}
