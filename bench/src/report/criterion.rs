//! A small adapter over criterion's output directory (`target/criterion`):
//! its files are not a stable format, so every field is read loosely and a
//! benchmark whose files do not have the expected shape is listed as not used.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One criterion benchmark's latest estimates.
#[derive(Debug, Clone, PartialEq)]
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

/// Appends the criterion section to the report.
pub fn render(out: &mut String, benchmarks: &[Benchmark], dir: &Path) {
    let _ = writeln!(out, "## `cargo bench` (criterion)\n");
    if benchmarks.is_empty() {
        let _ = writeln!(
            out,
            "No criterion estimates under `{}`: run `cargo bench` to include them.\n",
            dir.display()
        );
        return;
    }
    let _ = writeln!(
        out,
        "Latest estimates from `{}` (time per iteration; the export benches run at \
         PREDBENCH_BENCH_ROWS rows, 1,000,000 by default).\n",
        dir.display()
    );
    let _ = writeln!(
        out,
        "| benchmark | mean s | 95% interval of the mean s | median s | elements/s |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|");
    for benchmark in benchmarks {
        let seconds = benchmark.mean_ns / 1e9;
        let _ = writeln!(
            out,
            "| {} | {:.4} | {:.4} – {:.4} | {:.4} | {} |",
            benchmark.id,
            seconds,
            benchmark.mean_interval_ns.0 / 1e9,
            benchmark.mean_interval_ns.1 / 1e9,
            benchmark.median_ns / 1e9,
            benchmark.elements.map_or_else(String::new, |elements| {
                super::count((elements as f64 / seconds) as u64)
            }),
        );
    }
    out.push('\n');
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

        let mut out = String::new();
        render(&mut out, &estimates.benchmarks, dir.path());
        assert!(
            out.contains(
                "| export/rayon/modulo/null | 2.0000 | 1.9000 – 2.1000 | 1.9500 | 500,000 |"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_missing_directory_gives_nothing() {
        let estimates = load_estimates(Path::new("/nonexistent/criterion"));
        assert!(estimates.benchmarks.is_empty());
        assert!(estimates.not_used.is_empty());
    }
}
