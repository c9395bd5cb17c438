//! `predbench report`: renders `results/REPORT.md` and its SVG charts from
//! the run records alone, so anyone can re-render (and check) the evidence
//! without re-running anything.
//!
//! For each dataset size the report uses the newest session that measured it;
//! older sessions are listed but not mixed in, so every ratio compares runs of
//! one machine state and one commit.

mod charts;
mod criterion;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use predbench_generator::config::format_bytes;

use crate::cli::ReportArgs;
use crate::compare_command::{DISK_FLOOR_BUFFERED, DISK_FLOOR_DIRECT};
use crate::record::{Kind, RunRecord, RunStatus, load_records};

/// Runs `predbench report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_records(&args.results)?;
    if loaded.records.is_empty() {
        let mut message = format!(
            "no usable run records under {}; run `predbench compare` first",
            args.results.display()
        );
        for line in &loaded.not_used {
            let _ = write!(message, "\n  not used: {line}");
        }
        anyhow::bail!(message);
    }
    let out_dir = args
        .out
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let chart_dir = out_dir.join("charts");
    fs::create_dir_all(&chart_dir)
        .with_context(|| format!("cannot create {}", chart_dir.display()))?;

    let criterion = criterion::load_estimates(&args.criterion);
    let mut not_used = loaded.not_used.clone();
    not_used.extend(criterion.not_used.iter().cloned());
    let scales = current_scales(&loaded.records);
    let written_charts = charts::draw_all(&scales, &chart_dir)?;
    remove_stale_charts(&chart_dir, &written_charts);

    let markdown = render(
        &loaded.records,
        &scales,
        &criterion.benchmarks,
        &not_used,
        &args,
    );
    let temporary = args.out.with_extension("md.tmp");
    fs::write(&temporary, markdown)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    fs::rename(&temporary, &args.out).with_context(|| {
        format!(
            "cannot rename {} to {}",
            temporary.display(),
            args.out.display()
        )
    })?;
    println!(
        "wrote {} ({} records, {} dataset sizes, {} charts{})",
        args.out.display(),
        loaded.records.len(),
        scales.len(),
        written_charts.len(),
        if not_used.is_empty() {
            String::new()
        } else {
            format!(", {} items not used: see its last section", not_used.len())
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The runs of one configuration in one session, summarised.
#[derive(Debug, Clone)]
pub struct ConfigurationStats {
    /// The configuration's name.
    pub name: String,
    /// What kind of work.
    pub kind: Kind,
    /// Successful runs' wall times, sorted.
    pub walls: Vec<f64>,
    /// Runs that failed, with their errors.
    pub failures: Vec<String>,
    /// Median user CPU seconds.
    pub user: f64,
    /// Median system CPU seconds.
    pub system: f64,
    /// Median peak RSS in bytes.
    pub peak_rss: u64,
    /// Median bytes produced (output file or JSON text).
    pub produced_bytes: u64,
    /// Median bytes spilled.
    pub spilled_bytes: u64,
    /// Largest relative difference between the harness's wall time and `/usr/bin/time -v`'s.
    pub time_v_difference: Option<f64>,
    /// The session the runs come from.
    pub session: String,
}

impl ConfigurationStats {
    /// Median wall time of the successful runs.
    pub fn median_wall(&self) -> Option<f64> {
        median(&self.walls)
    }
}

/// One dataset size, each configuration from the newest session that measured it.
#[derive(Debug, Clone)]
pub struct Scale {
    /// Rows of the dataset.
    pub rows: u64,
    /// The sessions the numbers come from, newest first.
    pub sessions: Vec<String>,
    /// A record of the newest session, for its machine and commit.
    pub example: RunRecord,
    /// Configurations in the order they were first run.
    pub configurations: Vec<ConfigurationStats>,
}

impl Scale {
    /// The disk's write speed in bytes per second, from the newest runs of
    /// the disk-floor configuration `name`.
    pub fn disk_bytes_per_second(&self, name: &str) -> Option<f64> {
        let floor = self
            .configurations
            .iter()
            .find(|stats| stats.kind == Kind::DiskFloor && stats.name == name)?;
        let seconds = floor.median_wall()?;
        (seconds > 0.0 && floor.produced_bytes > 0).then(|| floor.produced_bytes as f64 / seconds)
    }

    /// Median wall time of the fastest export.
    pub fn fastest_export(&self) -> Option<f64> {
        self.configurations
            .iter()
            .filter(|stats| stats.kind == Kind::Export)
            .filter_map(ConfigurationStats::median_wall)
            .min_by(f64::total_cmp)
    }
}

/// For every dataset size and configuration, the newest session that measured
/// it, summarised: a later session that re-measures a few configurations
/// replaces just those.
fn current_scales(records: &[RunRecord]) -> Vec<Scale> {
    let mut newest: BTreeMap<(u64, &str), &str> = BTreeMap::new();
    for record in records {
        let entry = newest
            .entry((record.configuration.rows, &record.configuration.name))
            .or_insert(&record.session);
        if record.session.as_str() > *entry {
            *entry = &record.session;
        }
    }
    let sizes: BTreeSet<u64> = newest.keys().map(|(rows, _)| *rows).collect();
    sizes
        .into_iter()
        .map(|rows| {
            let mut chosen: Vec<(&str, &str)> = newest
                .iter()
                .filter(|((size, _), _)| *size == rows)
                .map(|((_, name), session)| (*name, *session))
                .collect();
            let first_of = |name: &str| {
                records
                    .iter()
                    .find(|record| record.configuration.name == name)
                    .expect("every name comes from a record")
            };
            chosen.sort_by_cached_key(|(name, _)| display_order(&first_of(name).configuration));
            let configurations: Vec<ConfigurationStats> = chosen
                .iter()
                .map(|(name, session)| {
                    summarise(records.iter().filter(|record| {
                        record.configuration.rows == rows
                            && record.configuration.name == *name
                            && record.session == *session
                    }))
                })
                .collect();
            let mut sessions: Vec<String> = chosen
                .iter()
                .map(|(_, session)| session.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            sessions.reverse();
            let example = records
                .iter()
                .find(|record| record.configuration.rows == rows && record.session == sessions[0])
                .expect("the newest session has a record of this size")
                .clone();
            Scale {
                rows,
                sessions,
                example,
                configurations,
            }
        })
        .collect()
}

/// Generator and disk floors first, then exports by grouping (the seed's
/// modulo first), strategy and sink.
fn display_order(configuration: &crate::record::Configuration) -> (u8, u8, u8, String) {
    let kind = match configuration.kind {
        Kind::Generate => 0,
        Kind::DiskFloor => 1,
        Kind::Export => 2,
    };
    let grouping = match configuration.grouping.as_deref() {
        Some("modulo") => 0,
        Some("contiguous") => 1,
        _ => 2,
    };
    let strategy = match configuration.strategy.as_deref() {
        Some("single-thread") => 0,
        Some("rayon") => 1,
        Some("window-sort") => 2,
        _ => 3,
    };
    let tie = match configuration.kind {
        Kind::Export => configuration.sink.clone().unwrap_or_default(),
        // Through the page cache first, then O_DIRECT.
        _ if configuration.name == DISK_FLOOR_BUFFERED => "0".to_string(),
        _ => configuration.name.clone(),
    };
    (kind, grouping, strategy, tie)
}

fn summarise<'a>(runs: impl Iterator<Item = &'a RunRecord>) -> ConfigurationStats {
    let runs: Vec<&RunRecord> = runs.collect();
    let ok: Vec<&RunRecord> = runs
        .iter()
        .copied()
        .filter(|record| record.status == RunStatus::Ok)
        .collect();
    let median_of = |value: fn(&RunRecord) -> f64| -> f64 {
        median(&sorted(ok.iter().map(|record| value(record)))).unwrap_or(0.0)
    };
    let time_v_difference = ok
        .iter()
        .filter_map(|record| {
            let reference = record.time_v_wall_seconds?;
            // /usr/bin/time prints hundredths: allow for its rounding.
            let difference = ((record.wall_seconds - reference).abs() - 0.005).max(0.0);
            Some(difference / reference.max(0.01))
        })
        .max_by(f64::total_cmp);
    ConfigurationStats {
        name: runs[0].configuration.name.clone(),
        kind: runs[0].configuration.kind,
        walls: sorted(ok.iter().map(|record| record.wall_seconds)),
        failures: runs
            .iter()
            .filter(|record| record.status == RunStatus::Failed)
            .map(|record| {
                format!(
                    "run {}: {}",
                    record.run,
                    record.error.as_deref().unwrap_or("no error recorded")
                )
            })
            .collect(),
        user: median_of(|record| record.user_seconds),
        system: median_of(|record| record.system_seconds),
        peak_rss: median_of(|record| record.peak_rss_bytes as f64) as u64,
        produced_bytes: median_of(|record| record.produced_bytes() as f64) as u64,
        spilled_bytes: median_of(|record| record.spilled_bytes.unwrap_or(0) as f64) as u64,
        time_v_difference,
        session: runs[0].session.clone(),
    }
}

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values
}

/// Median of sorted values (mean of the middle two for an even count).
fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

fn render(
    records: &[RunRecord],
    scales: &[Scale],
    benchmarks: &[criterion::Benchmark],
    not_used: &[String],
    args: &ReportArgs,
) -> String {
    let mut out = String::new();
    let sessions: BTreeSet<&str> = records
        .iter()
        .map(|record| record.session.as_str())
        .collect();
    let _ = writeln!(out, "# predbench report\n");
    let _ = writeln!(
        out,
        "Rendered by `predbench report` from {} run records in {} session(s) under `{}`; \
         every number below comes from those records (`records.json`, one `RunRecord` per \
         child process run). For each dataset size and configuration the newest session that \
         measured it is used. Times are wall-clock seconds of the child process, from spawn to exit.\n",
        records.len(),
        sessions.len(),
        args.results.display()
    );
    render_sessions(&mut out, records, scales);
    for scale in scales.iter().rev() {
        render_scale(&mut out, scale);
    }
    render_scaling(&mut out, scales);
    criterion::render(&mut out, benchmarks, &args.criterion);
    if !not_used.is_empty() {
        let _ = writeln!(out, "## Not used\n");
        for line in not_used {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
    }
    out
}

fn render_sessions(out: &mut String, records: &[RunRecord], scales: &[Scale]) {
    let _ = writeln!(out, "## Sessions\n");
    let _ = writeln!(
        out,
        "| session | commit | machine | rows | runs | failed | used for |"
    );
    let _ = writeln!(out, "|---|---|---|---|---:|---:|---|");
    let mut by_session: BTreeMap<&str, Vec<&RunRecord>> = BTreeMap::new();
    for record in records {
        by_session.entry(&record.session).or_default().push(record);
    }
    for (session, runs) in by_session.iter().rev() {
        let example = runs[0];
        let rows: BTreeSet<u64> = runs
            .iter()
            .map(|record| record.configuration.rows)
            .collect();
        let used: Vec<String> = scales
            .iter()
            .filter(|scale| scale.sessions.iter().any(|used| used == session))
            .map(|scale| count(scale.rows))
            .collect();
        let _ = writeln!(
            out,
            "| {session} | {} | {} | {} | {} | {} | {} |",
            commit_text(example),
            machine_text(example),
            rows.iter()
                .map(|rows| count(*rows))
                .collect::<Vec<_>>()
                .join(", "),
            runs.len(),
            runs.iter()
                .filter(|record| record.status == RunStatus::Failed)
                .count(),
            if used.is_empty() {
                "superseded".to_string()
            } else {
                format!("{} rows", used.join(", "))
            }
        );
    }
    out.push('\n');
}

fn render_scale(out: &mut String, scale: &Scale) {
    let example = &scale.example;
    let _ = writeln!(out, "## {} rows\n", count(scale.rows));
    let _ = writeln!(
        out,
        "Session {}, commit {}, {}.",
        scale.sessions[0],
        commit_text(example),
        machine_text(example)
    );
    if scale.sessions.len() > 1 {
        let _ = writeln!(
            out,
            "Configurations re-measured later replace earlier ones: this table draws on sessions {} \
             (column \"session\"); their commits and machines are in the sessions table.",
            scale.sessions.join(", ")
        );
    }
    if let Some(disk) = &example.machine.disk {
        let _ = writeln!(
            out,
            "Data on {} ({}, {}, {} free of {} at the start).",
            disk.device,
            disk.file_system,
            disk.kind,
            format_bytes(disk.available_bytes),
            format_bytes(disk.total_bytes)
        );
    }
    let buffered_speed = scale.disk_bytes_per_second(DISK_FLOOR_BUFFERED);
    let direct_speed = scale.disk_bytes_per_second(DISK_FLOOR_DIRECT);
    let speed_text = |speed: Option<f64>| {
        speed.map_or_else(
            || "not measured".to_string(),
            |speed| format!("{:.0} MB/s", speed / 1e6),
        )
    };
    let _ = writeln!(
        out,
        "Disk floor: `dd` with `conv=fsync` writes {} through the page cache (as most programs \
         write) and {} with `oflag=direct` (the device's own speed). \"× dd\" and \"× dd direct\" \
         are a configuration's time over the time those speeds need for the bytes it produced \
         (the output file, or for the null sink the JSON text it discarded). predbench writes \
         its files with `O_DIRECT`.",
        speed_text(buffered_speed),
        speed_text(direct_speed)
    );
    let fastest = scale.fastest_export();
    let mixed = scale.sessions.len() > 1;
    let _ = writeln!(
        out,
        "\n| configuration | runs | median s | spread s | user s | sys s | peak RSS | bytes produced | rows/s | × fastest export | × dd | × dd direct | vs `time -v` |{}",
        if mixed { " session |" } else { "" }
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|{}",
        if mixed { "---|" } else { "" }
    );
    let session_cell = |stats: &ConfigurationStats| {
        if mixed {
            format!(" {} |", stats.session)
        } else {
            String::new()
        }
    };
    for stats in &scale.configurations {
        let runs = stats.walls.len() + stats.failures.len();
        let Some(median_wall) = stats.median_wall() else {
            let _ = writeln!(
                out,
                "| {} | 0 of {runs} ok | failed | | | | | | | | | | |{}",
                stats.name,
                session_cell(stats)
            );
            continue;
        };
        let spread = format!(
            "{:.2} – {:.2}",
            stats.walls[0],
            stats.walls[stats.walls.len() - 1]
        );
        let rows_per_second = if stats.kind == Kind::DiskFloor {
            String::new()
        } else {
            count((scale.rows as f64 / median_wall) as u64)
        };
        let versus_fastest = match (stats.kind, fastest) {
            (Kind::Export, Some(fastest)) => format!("{:.2}", median_wall / fastest),
            _ => String::new(),
        };
        let versus = |speed: Option<f64>| match speed {
            Some(speed) if stats.produced_bytes > 0 && stats.kind != Kind::DiskFloor => {
                format!("{:.2}", median_wall / (stats.produced_bytes as f64 / speed))
            }
            _ => String::new(),
        };
        let versus_disk = format!("{} | {}", versus(buffered_speed), versus(direct_speed));
        let _ = writeln!(
            out,
            "| {} | {}{} | {:.2} | {spread} | {:.2} | {:.2} | {} | {}{} | {rows_per_second} | {versus_fastest} | {versus_disk} | {} |{}",
            stats.name,
            stats.walls.len(),
            if stats.failures.is_empty() {
                String::new()
            } else {
                format!(" of {runs} ok")
            },
            median_wall,
            stats.user,
            stats.system,
            format_bytes(stats.peak_rss),
            if stats.produced_bytes > 0 {
                format_bytes(stats.produced_bytes)
            } else {
                String::new()
            },
            if stats.spilled_bytes > 0 {
                format!(" (spilled {})", format_bytes(stats.spilled_bytes))
            } else {
                String::new()
            },
            stats
                .time_v_difference
                .map_or_else(String::new, |difference| format!(
                    "{:.1}%",
                    difference * 100.0
                )),
            session_cell(stats),
        );
    }
    let _ = writeln!(
        out,
        "\n\"vs `time -v`\": the largest difference between the harness's wall time and \
         `/usr/bin/time -v`'s for the same child, beyond `time`'s 0.01 s rounding. Each \
         configuration's exact command line is in `records.json` (`configuration.command`).\n"
    );
    let failures: Vec<(&str, &String)> = scale
        .configurations
        .iter()
        .flat_map(|stats| {
            stats
                .failures
                .iter()
                .map(move |failure| (stats.name.as_str(), failure))
        })
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "Failed runs:\n");
        for (name, failure) in failures {
            let _ = writeln!(
                out,
                "- {name}, {}",
                failure.replace('\n', " / ").replace('|', "\\|")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "![time per configuration](charts/{}) ![peak memory per configuration](charts/{})\n",
        charts::time_chart_name(scale.rows),
        charts::memory_chart_name(scale.rows)
    );
}

fn render_scaling(out: &mut String, scales: &[Scale]) {
    if scales.len() < 2 {
        return;
    }
    let _ = writeln!(out, "## Scaling\n");
    let _ = writeln!(
        out,
        "Median wall seconds per dataset size (each from its newest session); \
         the chart is log-log, so a straight line of slope 1 is linear cost.\n"
    );
    let _ = writeln!(out, "![scaling](charts/{})\n", charts::SCALING_CHART);
    let mut names: Vec<&str> = Vec::new();
    for scale in scales {
        for stats in &scale.configurations {
            if !names.contains(&stats.name.as_str()) {
                names.push(&stats.name);
            }
        }
    }
    let _ = write!(out, "| configuration |");
    for scale in scales {
        let _ = write!(out, " {} |", count(scale.rows));
    }
    let _ = write!(out, "\n|---|");
    for _ in scales {
        let _ = write!(out, "---:|");
    }
    out.push('\n');
    for name in names {
        let _ = write!(out, "| {name} |");
        for scale in scales {
            let cell = scale
                .configurations
                .iter()
                .find(|stats| stats.name == name)
                .and_then(ConfigurationStats::median_wall)
                .map_or_else(String::new, |seconds| format!("{seconds:.2}"));
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    out.push('\n');
}

fn commit_text(record: &RunRecord) -> String {
    match (&record.git_commit, record.git_dirty) {
        (Some(commit), Some(true)) => format!(
            "`{}` (uncommitted changes)",
            &commit[..12.min(commit.len())]
        ),
        (Some(commit), _) => format!("`{}`", &commit[..12.min(commit.len())]),
        (None, _) => "unknown".to_string(),
    }
}

fn machine_text(record: &RunRecord) -> String {
    let machine = &record.machine;
    format!(
        "{}, {} cores, {}, {}",
        machine.cpu_model,
        machine.logical_cores,
        format_bytes(machine.memory_bytes),
        machine.os
    )
}

/// `60000000` as `60,000,000`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn remove_stale_charts(chart_dir: &Path, written: &[String]) {
    let Ok(entries) = fs::read_dir(chart_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".svg") && !written.contains(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_count() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 10.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(60_000_000), "60,000,000");
    }
}
