//! `predbench report`: renders `results/REPORT.md` and its SVG charts from
//! the run records alone, so anyone can re-render (and check) the evidence
//! without re-running anything.
//!
//! For each dataset size the report uses the newest session that measured it;
//! older sessions are listed but not mixed in, so every ratio compares runs of
//! one machine state and one commit.

mod charts;
mod criterion;
mod queue;
mod scale_out;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use predbench_generator::config::format_bytes;

use crate::cli::ReportArgs;
use crate::compare_command::{DISK_FLOOR_BUFFERED, DISK_FLOOR_DIRECT};
use crate::record::{
    DATASET_EDGE_CASES, DATASET_PREDBENCH, DATASET_SEED, Kind, RunRecord, RunStatus, Verification,
    load_records,
};

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
    /// The peer it runs, if it is not predbench.
    pub peer: Option<String>,
    /// `predbench verify` of the first run's output, if it was checked.
    pub verification: Option<Verification>,
    /// What the harness noticed about the data.
    pub observations: Vec<String>,
    /// The shard of an export shard's runs.
    pub shard: Option<predbench_generator::Shard>,
    /// Worker threads the configuration was given.
    pub threads: usize,
    /// Median messages produced.
    pub messages: u64,
    /// The grouping of an export (or of the messages a baseline publishes).
    pub grouping: Option<String>,
}

impl ConfigurationStats {
    /// Median wall time of the successful runs.
    pub fn median_wall(&self) -> Option<f64> {
        median(&self.walls)
    }
}

/// One dataset at one size, each configuration from the newest session that measured it.
#[derive(Debug, Clone)]
pub struct Scale {
    /// Which dataset (`predbench`, `seed`, `edge-cases` or a path).
    pub dataset: String,
    /// Rows of the dataset.
    pub rows: u64,
    /// The sessions the numbers come from, newest first.
    pub sessions: Vec<String>,
    /// A record of the newest session, for its machine and commit.
    pub example: RunRecord,
    /// Configurations in the order they were first run (export shards apart).
    pub configurations: Vec<ConfigurationStats>,
    /// The export shards of `compare --scale-out`, in shard order.
    pub shards: Vec<ConfigurationStats>,
    /// Median wall time of [`REFERENCE_EXPORT`] in every session that
    /// measured it at this size, superseded ones included: a peer measured
    /// in an older session is still divided by the `rayon` of its own session.
    pub reference_by_session: BTreeMap<String, f64>,
}

/// The configuration peers are measured against: the seed's job (modulo
/// grouping, Parquet output) with predbench's `rayon` strategy.
pub const REFERENCE_EXPORT: &str = "export rayon modulo parquet";

impl Scale {
    /// The configuration `name` measured in `session`.
    fn in_session(&self, name: &str, session: &str) -> Option<&ConfigurationStats> {
        self.configurations
            .iter()
            .find(|stats| stats.name == name && stats.session == session)
    }

    /// The disk's write speed in bytes per second, from the disk-floor
    /// configuration `name` measured in `session`.
    pub fn disk_bytes_per_second(&self, name: &str, session: &str) -> Option<f64> {
        let floor = self.in_session(name, session)?;
        let seconds = floor.median_wall()?;
        (seconds > 0.0 && floor.produced_bytes > 0).then(|| floor.produced_bytes as f64 / seconds)
    }

    /// Median wall time of the fastest export measured in `session`.
    pub fn fastest_export(&self, session: &str) -> Option<f64> {
        self.configurations
            .iter()
            .filter(|stats| stats.kind == Kind::Export && stats.session == session)
            .filter_map(ConfigurationStats::median_wall)
            .min_by(f64::total_cmp)
    }

    /// Median wall time of [`REFERENCE_EXPORT`] measured in `session`.
    pub fn reference_export(&self, session: &str) -> Option<f64> {
        self.reference_by_session.get(session).copied()
    }

    /// `6,000,000 rows`, with the dataset when it is not predbench's own.
    pub fn title(&self) -> String {
        match self.dataset.as_str() {
            DATASET_PREDBENCH => format!("{} rows", count(self.rows)),
            DATASET_SEED => format!("{} rows, the seed generator's files", count(self.rows)),
            DATASET_EDGE_CASES => format!("{} rows with NaN and nulls", count(self.rows)),
            path => format!("{} rows of {path}", count(self.rows)),
        }
    }

    /// A file-name-safe name of the scale: `6000000`, `seed-6000000`, ...
    pub fn file_stem(&self) -> String {
        if self.dataset == DATASET_PREDBENCH {
            return self.rows.to_string();
        }
        let dataset: String = self
            .dataset
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("{}-{}", dataset.trim_matches('-'), self.rows)
    }
}

/// For every dataset, size and configuration, the newest session that
/// measured it, summarised: a later session that re-measures a few
/// configurations replaces just those.
fn current_scales(records: &[RunRecord]) -> Vec<Scale> {
    let mut newest: BTreeMap<(&str, u64, &str), &str> = BTreeMap::new();
    for record in records {
        let configuration = &record.configuration;
        let entry = newest
            .entry((
                &configuration.dataset,
                configuration.rows,
                &configuration.name,
            ))
            .or_insert(&record.session);
        if record.session.as_str() > *entry {
            *entry = &record.session;
        }
    }
    let keys: BTreeSet<(&str, u64)> = newest
        .keys()
        .map(|(dataset, rows, _)| (*dataset, *rows))
        .collect();
    let mut scales: Vec<Scale> = keys
        .into_iter()
        .map(|(dataset, rows)| {
            let mut chosen: Vec<(&str, &str)> = newest
                .iter()
                .filter(|((known, size, _), _)| *known == dataset && *size == rows)
                .map(|((_, _, name), session)| (*name, *session))
                .collect();
            let first_of = |name: &str| {
                records
                    .iter()
                    .find(|record| record.configuration.name == name)
                    .expect("every name comes from a record")
            };
            chosen.sort_by_cached_key(|(name, _)| display_order(&first_of(name).configuration));
            let (shards, configurations): (Vec<ConfigurationStats>, Vec<ConfigurationStats>) =
                chosen
                    .iter()
                    .map(|(name, session)| {
                        summarise(records.iter().filter(|record| {
                            record.configuration.dataset == dataset
                                && record.configuration.rows == rows
                                && record.configuration.name == *name
                                && record.session == *session
                        }))
                    })
                    .partition(|stats| stats.kind == Kind::ExportShard);
            let mut sessions: Vec<String> = chosen
                .iter()
                .map(|(_, session)| session.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            sessions.reverse();
            let example = records
                .iter()
                .find(|record| {
                    record.configuration.dataset == dataset
                        && record.configuration.rows == rows
                        && record.session == sessions[0]
                })
                .expect("the newest session has a record of this size")
                .clone();
            let mut reference_by_session = BTreeMap::new();
            let reference_sessions: BTreeSet<&str> = records
                .iter()
                .filter(|record| {
                    record.configuration.dataset == dataset
                        && record.configuration.rows == rows
                        && record.configuration.name == REFERENCE_EXPORT
                })
                .map(|record| record.session.as_str())
                .collect();
            for session in reference_sessions {
                let stats = summarise(records.iter().filter(|record| {
                    record.configuration.dataset == dataset
                        && record.configuration.rows == rows
                        && record.configuration.name == REFERENCE_EXPORT
                        && record.session == session
                }));
                if let Some(wall) = stats.median_wall() {
                    reference_by_session.insert(session.to_string(), wall);
                }
            }
            Scale {
                dataset: dataset.to_string(),
                rows,
                sessions,
                example,
                configurations,
                shards,
                reference_by_session,
            }
        })
        .collect();
    // predbench's own tables first, then the seed's files, then the rest; by size within each.
    scales.sort_by_key(|scale| {
        let rank = match scale.dataset.as_str() {
            DATASET_PREDBENCH => 0,
            DATASET_SEED => 1,
            DATASET_EDGE_CASES => 3,
            _ => 2,
        };
        (rank, scale.dataset.clone(), scale.rows)
    });
    scales
}

/// Generator and disk floors first, then exports by grouping (the seed's
/// modulo first), strategy and sink.
fn display_order(configuration: &crate::record::Configuration) -> (u8, u8, u8, String) {
    let kind = match configuration.kind {
        Kind::Generate => 0,
        Kind::DiskFloor => 1,
        Kind::DecodeOnly => 2,
        Kind::Export => 3,
        Kind::ExportShard => 4,
        Kind::Publish => 5,
    };
    let grouping = match configuration.grouping.as_deref() {
        Some("modulo") => 0,
        Some("contiguous") => 1,
        _ => 2,
    };
    let strategy = match (configuration.strategy.as_deref(), &configuration.peer) {
        (Some("single-thread"), _) => 0,
        (Some("rayon"), _) => 1,
        (Some("window-sort"), _) => 2,
        (_, Some(peer)) => {
            3 + crate::peers::PEERS
                .iter()
                .position(|known| known.name == peer)
                .unwrap_or(crate::peers::PEERS.len()) as u8
        }
        _ => 100,
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
                let error = record.error.as_deref().unwrap_or("no error recorded");
                // SIGKILL, directly or as exit code 137 from /usr/bin/time: on
                // this machine without swap, the kernel's out-of-memory killer.
                let killed =
                    record.exit_code == Some(137) || error.starts_with("killed by signal 9");
                format!(
                    "run {} ({:.1} s, peak RSS {}{}): {error}",
                    record.run,
                    record.wall_seconds,
                    format_bytes(record.peak_rss_bytes),
                    if killed {
                        "; SIGKILL, i.e. the out-of-memory killer unless someone killed it"
                    } else {
                        ""
                    },
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
        peer: runs[0].configuration.peer.clone(),
        verification: runs.iter().find_map(|record| record.verification.clone()),
        observations: runs
            .iter()
            .flat_map(|record| record.observations.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        shard: runs[0].configuration.shard,
        threads: runs[0].configuration.threads,
        messages: median_of(|record| record.messages.unwrap_or(0) as f64) as u64,
        grouping: runs[0].configuration.grouping.clone(),
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
    render_why_not(&mut out, scales);
    // Each dataset's largest size first.
    let mut ordered: Vec<&Scale> = scales.iter().collect();
    ordered.sort_by_key(|scale| {
        let position = scales
            .iter()
            .position(|known| known.dataset == scale.dataset)
            .unwrap_or(0);
        (position, std::cmp::Reverse(scale.rows))
    });
    for scale in ordered {
        render_scale(&mut out, scale);
    }
    render_scaling(&mut out, scales);
    scale_out::render(&mut out, scales);
    queue::render(&mut out, scales);
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
            .map(Scale::title)
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
                used.join("; ")
            }
        );
    }
    out.push('\n');
}

fn render_scale(out: &mut String, scale: &Scale) {
    let example = &scale.example;
    let newest = &scale.sessions[0];
    let _ = writeln!(out, "## {}\n", scale.title());
    let _ = writeln!(
        out,
        "Session {newest}, commit {}, {}.",
        commit_text(example),
        machine_text(example)
    );
    let mixed = scale.sessions.len() > 1;
    if mixed {
        let _ = writeln!(
            out,
            "Configurations re-measured later replace earlier ones: this table draws on sessions {} \
             (column \"session\"); their commits and machines are in the sessions table. Every \
             ratio divides figures of one session only (blank where that session lacks the divisor).",
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
    let speed_text = |speed: Option<f64>| {
        speed.map_or_else(
            || "not measured".to_string(),
            |speed| format!("{:.0} MB/s", speed / 1e6),
        )
    };
    let buffered = scale.disk_bytes_per_second(DISK_FLOOR_BUFFERED, newest);
    let direct = scale.disk_bytes_per_second(DISK_FLOOR_DIRECT, newest);
    if buffered.is_some() || direct.is_some() {
        let _ = writeln!(
            out,
            "Disk floor: `dd` with `conv=fsync` writes {} through the page cache (as most programs \
             write) and {} with `oflag=direct` (the device's own speed). \"× dd\" and \"× dd direct\" \
             are a configuration's time over the time those speeds need for the bytes it produced \
             (the output file, or for the null sink the JSON text it discarded). predbench writes \
             its files with `O_DIRECT`.",
            speed_text(buffered),
            speed_text(direct)
        );
    }
    let _ = writeln!(
        out,
        "\"× {REFERENCE_EXPORT}\" divides by predbench's `rayon` doing the seed's job (modulo \
         grouping, Parquet output) in the same session."
    );
    let _ = writeln!(
        out,
        "\n| configuration | runs | median s | spread s | user s | sys s | peak RSS | bytes produced | rows/s | × fastest export | × {REFERENCE_EXPORT} | × dd | × dd direct | verified | vs `time -v` |{}",
        if mixed { " session |" } else { "" }
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|{}",
        if mixed { "---|" } else { "" }
    );
    for stats in &scale.configurations {
        let _ = writeln!(out, "{}", table_row(scale, stats, mixed));
    }
    let _ = writeln!(
        out,
        "\n\"verified\": `predbench verify` of the first run's output (the exact grouping for \
         predbench's strategies, completeness and values by id for the peers, which number rows \
         their own way), with its own wall time. \"vs `time -v`\": the largest difference between \
         the harness's wall time and `/usr/bin/time -v`'s for the same child, beyond `time`'s \
         0.01 s rounding. Each configuration's exact command line is in `records.json` \
         (`configuration.command`).\n"
    );
    let observations: BTreeSet<&String> = scale
        .configurations
        .iter()
        .flat_map(|stats| &stats.observations)
        .collect();
    for observation in observations {
        let _ = writeln!(out, "Noticed: {observation}.\n");
    }
    let mut notes: Vec<String> = Vec::new();
    for stats in &scale.configurations {
        for failure in &stats.failures {
            notes.push(format!("- {} failed, {failure}", stats.name));
        }
        if let Some(verification) = stats.verification.as_ref().filter(|check| !check.ok) {
            notes.push(format!(
                "- {} is not verified: {}",
                stats.name,
                verification.findings.join(" / ")
            ));
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "Failed runs and outputs that did not verify:\n");
        for note in notes {
            let _ = writeln!(out, "{}", note.replace('\n', " / ").replace('|', "\\|"));
        }
        out.push('\n');
    }
    render_floor(out, scale);
    let _ = writeln!(
        out,
        "![time per configuration](charts/{}) ![peak memory per configuration](charts/{})\n",
        charts::time_chart_name(scale),
        charts::memory_chart_name(scale)
    );
}

/// One row of a scale's table; every ratio divides figures of the row's own session.
fn table_row(scale: &Scale, stats: &ConfigurationStats, mixed: bool) -> String {
    let session_cell = if mixed {
        format!(" {} |", stats.session)
    } else {
        String::new()
    };
    let runs = stats.walls.len() + stats.failures.len();
    let Some(median_wall) = stats.median_wall() else {
        return format!(
            "| {} | 0 of {runs} ok | failed | | | | | | | | | | | | |{session_cell}",
            stats.name
        );
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
    let ratio_to = |divisor: Option<f64>| match (stats.kind, divisor) {
        (Kind::Export, Some(divisor)) if divisor > 0.0 => format!("{:.2}", median_wall / divisor),
        _ => String::new(),
    };
    let versus_fastest = ratio_to(scale.fastest_export(&stats.session));
    let versus_reference = ratio_to(scale.reference_export(&stats.session));
    let versus = |name: &str| match scale.disk_bytes_per_second(name, &stats.session) {
        Some(speed) if stats.produced_bytes > 0 && stats.kind != Kind::DiskFloor => {
            format!("{:.2}", median_wall / (stats.produced_bytes as f64 / speed))
        }
        _ => String::new(),
    };
    let verified = match &stats.verification {
        Some(verification) if verification.ok => {
            format!("yes ({:.1} s)", verification.wall_seconds)
        }
        Some(_) => "**no** (see below)".to_string(),
        None => String::new(),
    };
    format!(
        "| {} | {}{} | {:.2} | {spread} | {:.2} | {:.2} | {} | {}{} | {rows_per_second} | {versus_fastest} | {versus_reference} | {} | {} | {verified} | {} |{session_cell}",
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
        versus(DISK_FLOOR_BUFFERED),
        versus(DISK_FLOOR_DIRECT),
        stats
            .time_v_difference
            .map_or_else(String::new, |difference| format!(
                "{:.1}%",
                difference * 100.0
            )),
    )
}

/// The CPU floor of the seed's job at this scale, from `single-thread` runs of
/// the same session: the CPU one row costs to decode and encode (into the null
/// sink), and what the Parquet sink adds (compression and writing); their
/// sum over the cores is the least wall time any strategy on this machine can
/// reach with this encoder and codec. Says how far `rayon` is from it.
fn render_floor(out: &mut String, scale: &Scale) {
    let newest = &scale.sessions[0];
    let cpu = |name: &str| {
        scale
            .in_session(name, newest)
            .filter(|stats| stats.median_wall().is_some())
            .map(|stats| stats.user + stats.system)
    };
    let (Some(encode), Some(encode_and_codec)) = (
        cpu("export single-thread modulo null"),
        cpu("export single-thread modulo parquet"),
    ) else {
        return;
    };
    let cores = scale.example.machine.logical_cores.max(1) as f64;
    let rows = scale.rows as f64;
    let codec = (encode_and_codec - encode).max(0.0);
    let floor_null = encode / cores;
    let floor_parquet = encode_and_codec / cores;
    let _ = writeln!(
        out,
        "CPU floor (session {newest}, from `single-thread` runs): decoding and encoding cost {:.2} µs of CPU a row \
         ({} rows/s per core); the Parquet sink adds {:.2} µs a row (compression and writing, {} rows/s per core). \
         On {cores} cores no strategy with this encoder and codec can beat {floor_null:.2} s into the null sink or \
         {floor_parquet:.2} s into Parquet.",
        encode / rows * 1e6,
        count((rows / encode) as u64),
        codec / rows * 1e6,
        count(if codec > 0.0 {
            (rows / codec) as u64
        } else {
            0
        }),
    );
    for (name, floor) in [
        ("export rayon modulo null", floor_null),
        ("export rayon modulo parquet", floor_parquet),
    ] {
        if let Some(wall) = scale
            .in_session(name, newest)
            .and_then(ConfigurationStats::median_wall)
        {
            let _ = writeln!(out, "`{name}` takes {:.2}x that floor.", wall / floor);
        }
    }
    out.push('\n');
}

fn render_scaling(out: &mut String, scales: &[Scale]) {
    let scales: Vec<&Scale> = scales
        .iter()
        .filter(|scale| scale.dataset != DATASET_EDGE_CASES)
        .collect();
    if scales.len() < 2 {
        return;
    }
    let _ = writeln!(out, "## Scaling\n");
    let _ = writeln!(
        out,
        "Median wall seconds per dataset and size, each column from its newest session (last row). \
         The chart is log-log, so a straight line of slope 1 is linear cost; a line joins only \
         sizes measured in one session, so no slope mixes two machine states.\n"
    );
    let _ = writeln!(out, "![scaling](charts/{})\n", charts::SCALING_CHART);
    let mut names: Vec<&str> = Vec::new();
    for scale in &scales {
        for stats in &scale.configurations {
            if !names.contains(&stats.name.as_str()) {
                names.push(&stats.name);
            }
        }
    }
    let _ = write!(out, "| configuration |");
    for scale in &scales {
        let _ = write!(out, " {} |", scale.title());
    }
    let _ = write!(out, "\n|---|");
    for _ in &scales {
        let _ = write!(out, "---:|");
    }
    out.push('\n');
    for name in names {
        let _ = write!(out, "| {name} |");
        for scale in &scales {
            let cell = scale
                .configurations
                .iter()
                .find(|stats| stats.name == name)
                .and_then(|stats| {
                    let seconds = stats.median_wall()?;
                    Some(if stats.session == scale.sessions[0] {
                        format!("{seconds:.2}")
                    } else {
                        format!("{seconds:.2} ({})", stats.session)
                    })
                })
                .unwrap_or_default();
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    let _ = write!(out, "| *session* |");
    for scale in &scales {
        let _ = write!(out, " {} |", scale.sessions[0]);
    }
    out.push_str("\n\n");
}

/// "Why not Spark, DuckDB or Polars": the peers against predbench, from the
/// records alone. One table per dataset size that measured peers (the seed's
/// own files first); every ratio divides by `rayon` of the row's own session.
/// Conventions come from the edge-case table, findings from the size whose
/// newest session measured the most peers.
fn render_why_not(out: &mut String, scales: &[Scale]) {
    let peers_in = |scale: &Scale, session: &str| {
        scale
            .configurations
            .iter()
            .filter(|stats| {
                stats.peer.is_some() && stats.kind == Kind::Export && stats.session == session
            })
            .count()
    };
    let mut with_peers: Vec<&Scale> = scales
        .iter()
        .filter(|scale| scale.dataset != DATASET_EDGE_CASES)
        .filter(|scale| {
            scale
                .configurations
                .iter()
                .any(|stats| stats.peer.is_some() && stats.kind == Kind::Export)
        })
        .collect();
    if with_peers.is_empty() {
        return;
    }
    if with_peers.iter().any(|scale| scale.dataset == DATASET_SEED) {
        with_peers.retain(|scale| scale.dataset == DATASET_SEED);
    }
    let edge_cases = scales
        .iter()
        .find(|scale| scale.dataset == DATASET_EDGE_CASES);
    let _ = writeln!(out, "## Why not Spark, DuckDB or Polars\n");
    let _ = writeln!(
        out,
        "Each peer runs as a child process exactly like predbench, interleaved with it on the same \
         files, its output checked by `predbench verify`; \"× rayon\" divides by predbench's `rayon` \
         doing the seed's job (modulo grouping, Parquet output) in the same session. NaN and null \
         handling comes from the table with NaN and nulls{}.\n",
        edge_cases.map_or_else(
            || " (not measured: run `compare --peers` without --skip-edge-cases)".to_string(),
            |edge| format!(" (session {})", edge.sessions[0])
        ),
    );
    for scale in &with_peers {
        render_why_not_table(out, scale, edge_cases);
    }
    // Findings from the size whose newest session measured the most peers.
    let Some(scale) = with_peers
        .iter()
        .max_by_key(|scale| (peers_in(scale, &scale.sessions[0]), scale.rows))
    else {
        return;
    };
    let session = &scale.sessions[0];
    let reference_wall = scale.reference_export(session);
    let mut findings = Vec::new();
    for generated in &with_peers {
        // Both generators from one session: the one that measured the seed's.
        let Some(theirs) = generated
            .configurations
            .iter()
            .find(|stats| stats.name == "peer seed-generator")
        else {
            continue;
        };
        let ours = generated.in_session("generate", &theirs.session);
        if let (Some(ours), Some(theirs)) = (
            ours.and_then(ConfigurationStats::median_wall),
            theirs.median_wall(),
        ) {
            findings.push(format!(
                "Generating the table ({}): `predbench generate` {ours:.2} s, the seed's generator {theirs:.2} s ({:.1}x).",
                generated.title(),
                theirs / ours
            ));
        }
    }
    let peer_walls: Vec<(&str, f64)> = scale
        .configurations
        .iter()
        .filter(|stats| stats.session == *session && stats.kind == Kind::Export)
        .filter_map(|stats| Some((stats.peer.as_deref()?, stats.median_wall()?)))
        .collect();
    if let (Some(reference), Some((fastest, wall))) = (
        reference_wall,
        peer_walls
            .iter()
            .min_by(|left, right| left.1.total_cmp(&right.1)),
    ) {
        findings.push(format!(
            "At {}, the fastest peer, {fastest}, takes {wall:.2} s: {:.1}x predbench's `rayon` ({reference:.2} s) on the same files.",
            scale.title(),
            wall / reference
        ));
    }
    let seed_job = peer_walls.iter().find(|(peer, _)| *peer == "pyspark-seed");
    let jvm_job = peer_walls.iter().find(|(peer, _)| *peer == "spark-jvm");
    if let (Some((_, seed)), Some((_, jvm))) = (seed_job, jvm_job) {
        findings.push(format!(
            "Doing the seed's numbering in the JVM instead of through Python rows makes Spark {:.1}x faster ({seed:.2} s -> {jvm:.2} s); this is the job to run on a real cluster (scripts/peers/README.md).",
            seed / jvm
        ));
    }
    if let Some((_, window)) = peer_walls
        .iter()
        .find(|(peer, _)| *peer == "pyspark-window")
    {
        findings.push(format!(
            "The knowledge-base window takes {window:.2} s here and moves every row through one task: its cost grows with the data on one core, whatever the cluster."
        ));
    }
    for scale in &with_peers {
        for stats in scale
            .configurations
            .iter()
            .filter(|stats| stats.peer.is_some())
        {
            if stats.median_wall().is_none() && !stats.failures.is_empty() {
                let mut failure: String = stats.failures[0]
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .collect::<Vec<_>>()
                    .join(" / ")
                    .replace('|', "\\|");
                if failure.len() > 400 {
                    let mut cut = 400;
                    while !failure.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    failure.truncate(cut);
                    failure.push_str(" ...");
                }
                findings.push(format!(
                    "At {}, {} did not finish: {failure}",
                    scale.title(),
                    stats.name,
                ));
            }
        }
    }
    for finding in findings {
        let _ = writeln!(out, "- {finding}");
    }
    out.push('\n');
}

/// One table of [`render_why_not`]: `rayon` and the exporting peers at one size.
fn render_why_not_table(out: &mut String, scale: &Scale, edge_cases: Option<&Scale>) {
    let rows: Vec<&ConfigurationStats> = scale
        .configurations
        .iter()
        .filter(|stats| stats.kind == Kind::Export)
        .filter(|stats| stats.peer.is_some() || stats.name == REFERENCE_EXPORT)
        .collect();
    let sessions: BTreeSet<&str> = rows.iter().map(|stats| stats.session.as_str()).collect();
    let mixed = sessions.len() > 1;
    let _ = writeln!(out, "### {}\n", scale.title());
    let _ = writeln!(
        out,
        "| exporter | engine | how it numbers and groups | runs | median s | × rayon | peak RSS | output verified | NaN and nulls |{}",
        if mixed { " session |" } else { "" }
    );
    let _ = writeln!(
        out,
        "|---|---|---|---:|---:|---:|---:|---|---|{}",
        if mixed { "---|" } else { "" }
    );
    for stats in rows {
        let (engine, approach) = match stats.peer.as_deref().and_then(crate::peers::peer_named) {
            Some(peer) => (peer.engine, peer.approach),
            None => (
                "predbench (Rust)",
                "row-group offsets from the footers, K lockstep cursors, parallel encoding, order kept",
            ),
        };
        let wall = stats.median_wall();
        let conventions = edge_cases
            .and_then(|edge| {
                edge.configurations
                    .iter()
                    .find(|known| known.name == stats.name)
            })
            .map_or_else(String::new, |edge| match &edge.verification {
                Some(check) if check.ok => "as Spark: NaN as \"NaN\", nulls equal".to_string(),
                Some(check) => short_finding(check),
                None if !edge.failures.is_empty() => "failed to run".to_string(),
                None => String::new(),
            });
        let _ = writeln!(
            out,
            "| {} | {engine} | {approach} | {} | {} | {} | {} | {} | {conventions} |{}",
            stats.name,
            stats.walls.len() + stats.failures.len(),
            wall.map_or_else(|| "failed".to_string(), |wall| format!("{wall:.2}")),
            match (wall, scale.reference_export(&stats.session)) {
                (Some(wall), Some(reference)) => format!("{:.1}", wall / reference),
                _ => String::new(),
            },
            if wall.is_some() {
                format_bytes(stats.peak_rss)
            } else {
                String::new()
            },
            match &stats.verification {
                Some(check) if check.ok => "yes".to_string(),
                Some(check) => format!("**no**: {}", short_finding(check)),
                None => String::new(),
            },
            if mixed {
                format!(" {} |", stats.session)
            } else {
                String::new()
            },
        );
    }
    out.push('\n');
}

/// The first thing verify found, without the output's path, fit for a table cell.
fn short_finding(check: &Verification) -> String {
    let finding = check.findings.first().map_or("", String::as_str);
    // "message 0 of /path/out.parquet is not valid JSON: ..." -> "message 0 is not valid JSON: ..."
    let finding = match (finding.find(" of "), finding.find(" is ")) {
        (Some(of), Some(is)) if of < is => format!("{}{}", &finding[..of], &finding[is..]),
        _ => finding.to_string(),
    };
    finding.replace('|', "\\|")
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
