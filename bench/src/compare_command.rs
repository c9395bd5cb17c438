//! `predbench compare`: measures every configuration as a child process, R
//! times, next to the disk's write speed and the generator, and records each
//! run as a [`RunRecord`] in `results/compare-<time>/records.json`.
//!
//! Runs are interleaved (run 1 of every configuration, then run 2, ...) so a
//! slow spell of this shared machine does not land on one configuration.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::ProgressBar;
use predbench_generator::Distribution;
use predbench_generator::config::format_bytes;
use predbench_generator::dataset::Manifest;

use crate::child::{log_tail, run_measured, time_v_wall_seconds};
use clap::ValueEnum;

use crate::cli::{CompareArgs, SinkKindArg};
use crate::machine::{describe_machine, git_state, utc_now};
use crate::process_stats::{available_cores, progress_bar};
use crate::record::{
    CommandSummary, Configuration, Kind, Machine, RECORD_FORMAT_VERSION, RECORDS_FILE, RunRecord,
    RunStatus, save_records,
};

/// Where `/usr/bin/time` lives; children run under it when it exists.
const TIME_PROGRAM: &str = "/usr/bin/time";
/// Name of the disk floor measured through the page cache.
pub const DISK_FLOOR_BUFFERED: &str = "disk floor (dd, fsync)";
/// Name of the disk floor measured past the page cache.
pub const DISK_FLOOR_DIRECT: &str = "disk floor (dd, O_DIRECT)";
/// Block size of the disk-floor `dd`.
const DISK_FLOOR_BLOCK: u64 = 4 << 20;

/// Runs `predbench compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    if args.rows.is_empty() || args.rows.contains(&0) {
        anyhow::bail!("invalid argument --rows: give one or more positive row counts");
    }
    if args.runs == 0 {
        anyhow::bail!("invalid argument --runs: must be at least 1");
    }
    let program = std::env::current_exe()
        .context("cannot find the predbench executable to run as a child")?
        .display()
        .to_string();
    fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let session = utc_now();
    let mut session_dir = args
        .results
        .join(format!("compare-{}", session.replace(':', "-")));
    for attempt in 2.. {
        if !session_dir.exists() {
            break;
        }
        session_dir = args
            .results
            .join(format!("compare-{}-{attempt}", session.replace(':', "-")));
    }
    let log_dir = session_dir.join("logs");
    fs::create_dir_all(&log_dir).with_context(|| format!("cannot create {}", log_dir.display()))?;
    let records_path = session_dir.join(RECORDS_FILE);

    let use_time = !args.no_time_check && Path::new(TIME_PROGRAM).exists();
    if !args.no_time_check && !use_time && !args.quiet {
        eprintln!(
            "note: {TIME_PROGRAM} not found; runs are measured without the /usr/bin/time -v cross-check"
        );
    }
    let (git_commit, git_dirty) = git_state();
    let mut session_state = Session {
        program,
        session,
        session_dir: session_dir.clone(),
        log_dir,
        records_path: records_path.clone(),
        machine: describe_machine(&args.data_dir),
        git_commit,
        git_dirty,
        use_time,
        records: Vec::new(),
        quiet: args.quiet,
        bar: ProgressBar::hidden(),
    };
    if !args.quiet {
        eprintln!(
            "predbench compare: {} on {} ({} cores, {}), records in {}",
            session_state
                .git_commit
                .as_deref()
                .unwrap_or("no git commit"),
            session_state.machine.cpu_model,
            session_state.machine.logical_cores,
            format_bytes(session_state.machine.memory_bytes),
            records_path.display()
        );
    }

    for &rows in &args.rows {
        compare_scale(&args, rows, &mut session_state)?;
    }
    session_state.bar.finish_and_clear();
    save_records(&records_path, &session_state.records)?;

    let failed = session_state
        .records
        .iter()
        .filter(|record| record.status == RunStatus::Failed)
        .count();
    if !args.quiet {
        print_medians(&session_state.records);
        println!(
            "{} runs recorded in {}{}; render the report with `predbench report`",
            session_state.records.len(),
            records_path.display(),
            if failed > 0 {
                format!(", {failed} FAILED")
            } else {
                String::new()
            }
        );
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The state of one `compare` invocation.
struct Session {
    program: String,
    session: String,
    session_dir: PathBuf,
    log_dir: PathBuf,
    records_path: PathBuf,
    machine: Machine,
    git_commit: Option<String>,
    git_dirty: Option<bool>,
    use_time: bool,
    records: Vec<RunRecord>,
    quiet: bool,
    bar: ProgressBar,
}

/// A configuration and what to do around each run of it.
struct Planned {
    configuration: Configuration,
    /// A file (or for `generate`, a dataset directory) the run creates and the
    /// harness deletes afterwards.
    scratch: Option<PathBuf>,
    /// Where the child writes its `--summary-json`, if it does.
    wants_summary: bool,
}

fn compare_scale(args: &CompareArgs, rows: u64, session: &mut Session) -> anyhow::Result<()> {
    let threads = args.threads.unwrap_or_else(available_cores);
    let dataset = args
        .data_dir
        .join(format!("predictions-{rows}-seed{}", args.seed));
    let mut dataset_ready = dataset_matches(&dataset, rows, args.seed);
    if dataset_ready && !session.quiet {
        eprintln!("reusing {} (its manifest matches)", dataset.display());
    }

    let mut plans = Vec::new();
    if !args.skip_generate {
        plans.push(generate_plan(args, rows, threads, &session.program));
    }
    let mut export_plans = export_plans(args, rows, threads, &dataset, &session.program);
    let runs_total = (plans.len() + export_plans.len() + 2 * usize::from(!args.skip_disk_floor))
        * args.runs as usize;
    session.bar = progress_bar(
        runs_total as u64,
        "{bar:30} {pos}/{len} runs, {elapsed_precise} {msg}",
        session.quiet,
    );

    // Generation first: its first successful run becomes the dataset when
    // there is none, so the measured runs double as the preparation.
    for run in 1..=args.runs {
        for plan in &plans {
            let record = measure(session, plan, run)?;
            let scratch = plan
                .scratch
                .as_ref()
                .expect("generate writes a scratch dataset");
            if !dataset_ready && record.status == RunStatus::Ok {
                remove_dataset(&dataset);
                fs::rename(scratch, &dataset).with_context(|| {
                    format!("cannot move {} to {}", scratch.display(), dataset.display())
                })?;
                dataset_ready = true;
            } else {
                remove_dataset(scratch);
            }
        }
    }
    if !dataset_ready {
        prepare_dataset(args, rows, threads, &dataset, session)?;
    }
    let dataset_bytes = Manifest::read(&dataset)
        .with_context(|| format!("cannot read the manifest of {}", dataset.display()))?
        .total_bytes();
    if !args.skip_disk_floor {
        export_plans.insert(0, disk_floor_plan(args, rows, dataset_bytes, false));
        export_plans.insert(1, disk_floor_plan(args, rows, dataset_bytes, true));
    }
    for run in 1..=args.runs {
        for plan in &export_plans {
            measure(session, plan, run)?;
            if let Some(scratch) = &plan.scratch {
                // A file only: whatever else sits at that path is not ours.
                let _ = fs::remove_file(scratch);
            }
        }
    }
    if args.clean {
        remove_dataset(&dataset);
    }
    Ok(())
}

/// Whether `dataset` holds the default table of `rows` rows and `seed`.
fn dataset_matches(dataset: &Path, rows: u64, seed: u64) -> bool {
    Manifest::read(dataset).is_ok_and(|manifest| {
        let config = &manifest.config;
        manifest.rows == rows
            && config.rows == rows
            && config.seed == seed
            && config.classes == 30
            && config.distribution == Distribution::Uniform
            && config.null_rate == 0.0
            && config.nan_rate == 0.0
            && manifest.predbench_version == env!("CARGO_PKG_VERSION")
    })
}

/// Generates the dataset without measuring (when `--skip-generate` is given).
fn prepare_dataset(
    args: &CompareArgs,
    rows: u64,
    threads: usize,
    dataset: &Path,
    session: &Session,
) -> anyhow::Result<()> {
    if !session.quiet {
        eprintln!("generating {}", dataset.display());
    }
    let log = session.log_dir.join(format!("prepare-{rows}.log"));
    let command = generate_command(&session.program, dataset, args, rows, threads);
    let measurement = run_measured(&command[0], &command[1..], &log)?;
    if !measurement.exit.success() {
        anyhow::bail!(
            "cannot generate {} ({}): {}",
            dataset.display(),
            measurement.exit,
            log_tail(&log, 5)
        );
    }
    Ok(())
}

/// `predbench generate` of the default table of `rows` rows into `out`, program first.
fn generate_command(
    program: &str,
    out: &Path,
    args: &CompareArgs,
    rows: u64,
    threads: usize,
) -> Vec<String> {
    vec![
        program.to_string(),
        "generate".into(),
        "--out".into(),
        out.display().to_string(),
        "--force".into(),
        "--quiet".into(),
        "--rows".into(),
        rows.to_string(),
        "--seed".into(),
        args.seed.to_string(),
        "--threads".into(),
        threads.to_string(),
    ]
}

fn generate_plan(args: &CompareArgs, rows: u64, threads: usize, program: &str) -> Planned {
    let scratch = args.data_dir.join(format!("generate-scratch-{rows}"));
    let command = generate_command(program, &scratch, args, rows, threads);
    Planned {
        configuration: Configuration::unparameterised(
            Kind::Generate,
            "generate",
            rows,
            args.seed,
            threads,
            command,
        ),
        scratch: Some(scratch),
        wants_summary: true,
    }
}

/// `dd` writing `bytes` of zeros and syncing: through the page cache as most
/// programs write (`direct: false`), or past it with `oflag=direct`, the
/// device's own speed.
fn disk_floor_plan(args: &CompareArgs, rows: u64, bytes: u64, direct: bool) -> Planned {
    let target = args.data_dir.join("disk-floor.tmp");
    let blocks = bytes.div_ceil(DISK_FLOOR_BLOCK).max(1);
    let mut command = vec![
        "dd".to_string(),
        "if=/dev/zero".into(),
        format!("of={}", target.display()),
        format!("bs={DISK_FLOOR_BLOCK}"),
        format!("count={blocks}"),
        "conv=fsync".into(),
        "status=none".into(),
    ];
    if direct {
        command.push("oflag=direct".into());
    }
    Planned {
        configuration: Configuration::unparameterised(
            Kind::DiskFloor,
            if direct {
                DISK_FLOOR_DIRECT
            } else {
                DISK_FLOOR_BUFFERED
            },
            rows,
            args.seed,
            1,
            command,
        ),
        scratch: Some(target),
        wants_summary: false,
    }
}

fn export_plans(
    args: &CompareArgs,
    rows: u64,
    threads: usize,
    dataset: &Path,
    program: &str,
) -> Vec<Planned> {
    let mut plans = Vec::new();
    for &grouping in &args.groupings {
        for &strategy in &args.strategies {
            for &sink in &args.sinks {
                let strategy_name = arg_name(strategy);
                let grouping_name = arg_name(grouping);
                let sink_name = arg_name(sink);
                let name = format!("export {strategy_name} {grouping_name} {sink_name}");
                let output = args.data_dir.join(format!(
                    "out-{strategy_name}-{grouping_name}.{}",
                    match sink {
                        SinkKindArg::Ndjson => "ndjson",
                        _ => "parquet",
                    }
                ));
                let sink_spec = match sink {
                    SinkKindArg::Null => "null".to_string(),
                    SinkKindArg::Parquet => format!("parquet:{}", output.display()),
                    SinkKindArg::Ndjson => format!("ndjson:{}", output.display()),
                };
                let command = vec![
                    program.to_string(),
                    "export".into(),
                    "--input".into(),
                    dataset.display().to_string(),
                    "--strategy".into(),
                    strategy_name.clone(),
                    "--grouping".into(),
                    grouping_name.clone(),
                    "--group-size".into(),
                    args.group_size.to_string(),
                    "--sink".into(),
                    sink_spec,
                    "--threads".into(),
                    threads.to_string(),
                    "--memory-budget".into(),
                    args.memory_budget.to_string(),
                    "--spill-dir".into(),
                    args.data_dir.display().to_string(),
                    "--force".into(),
                    "--quiet".into(),
                ];
                plans.push(Planned {
                    configuration: Configuration {
                        kind: Kind::Export,
                        name,
                        rows,
                        seed: args.seed,
                        strategy: Some(strategy_name),
                        grouping: Some(grouping_name),
                        sink: Some(sink_name),
                        group_size: Some(args.group_size),
                        threads,
                        memory_budget: Some(args.memory_budget),
                        command,
                    },
                    scratch: (sink != SinkKindArg::Null).then_some(output),
                    wants_summary: true,
                });
            }
        }
    }
    plans
}

/// Runs one planned configuration once, records it (saving the records file
/// after every run, so an interrupted session keeps what it measured).
fn measure(session: &mut Session, plan: &Planned, run: u32) -> anyhow::Result<RunRecord> {
    let configuration = &plan.configuration;
    let slug: String = format!("{}-{}-run{run}", configuration.name, configuration.rows)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let log = session.log_dir.join(format!("{slug}.log"));
    let summary_path = session.log_dir.join(format!("{slug}.summary.json"));
    let time_path = session.log_dir.join(format!("{slug}.time"));
    let mut command = configuration.command.clone();
    if plan.wants_summary {
        command.push("--summary-json".into());
        command.push(summary_path.display().to_string());
    }
    let (program, child_args) = if session.use_time {
        let mut wrapped = vec![
            "-v".to_string(),
            "-o".into(),
            time_path.display().to_string(),
        ];
        wrapped.extend(command);
        (TIME_PROGRAM.to_string(), wrapped)
    } else {
        let program = command.remove(0);
        (program, command)
    };
    session.bar.set_message(format!(
        "{} rows: {} (run {run})",
        configuration.rows, configuration.name
    ));
    let started_at = utc_now();
    let measurement = run_measured(&program, &child_args, &log)?;

    let mut status = RunStatus::Ok;
    let mut error = None;
    if !measurement.exit.success() {
        status = RunStatus::Failed;
        error = Some(format!("{}: {}", measurement.exit, log_tail(&log, 5)));
    }
    let summary = if plan.wants_summary && status == RunStatus::Ok {
        match CommandSummary::read(&summary_path) {
            Ok(summary) => summary,
            Err(cause) => {
                status = RunStatus::Failed;
                error = Some(format!("{cause:#}"));
                CommandSummary::default()
            }
        }
    } else {
        CommandSummary::default()
    };
    let output_bytes = match configuration.kind {
        Kind::DiskFloor if status == RunStatus::Ok => plan
            .scratch
            .as_ref()
            .and_then(|path| fs::metadata(path).ok())
            .map_or(0, |metadata| metadata.len()),
        _ => summary.output_bytes,
    };
    let wall_seconds = measurement.wall.as_secs_f64();
    let rows = if configuration.kind == Kind::DiskFloor {
        0
    } else {
        configuration.rows
    };
    let record = RunRecord {
        format_version: RECORD_FORMAT_VERSION,
        predbench_version: env!("CARGO_PKG_VERSION").to_string(),
        session: session.session.clone(),
        started_at,
        git_commit: session.git_commit.clone(),
        git_dirty: session.git_dirty,
        machine: session.machine.clone(),
        configuration: configuration.clone(),
        run,
        status,
        error,
        exit_code: match measurement.exit {
            crate::child::ChildExit::Code(code) => Some(code),
            crate::child::ChildExit::Signal(_) => None,
        },
        wall_seconds,
        user_seconds: measurement.user.as_secs_f64(),
        system_seconds: measurement.system.as_secs_f64(),
        peak_rss_bytes: measurement.peak_rss_bytes,
        time_v_wall_seconds: if session.use_time {
            time_v_wall_seconds(&time_path)
        } else {
            None
        },
        rows,
        input_bytes: summary.input_bytes,
        output_bytes,
        message_bytes: summary.message_bytes,
        messages: summary.messages,
        spilled_bytes: summary.spilled_bytes,
        rows_per_second: if wall_seconds > 0.0 {
            rows as f64 / wall_seconds
        } else {
            0.0
        },
        log: log
            .strip_prefix(&session.session_dir)
            .unwrap_or(&log)
            .display()
            .to_string(),
    };
    let line = format!(
        "{:>11} rows  {:<40} run {run}: {}",
        configuration.rows,
        configuration.name,
        match record.status {
            RunStatus::Ok => format!(
                "{:8.2} s  peak RSS {:>10}",
                record.wall_seconds,
                format_bytes(record.peak_rss_bytes)
            ),
            RunStatus::Failed => format!(
                "FAILED ({})",
                record
                    .error
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
        }
    );
    if !session.quiet {
        if session.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            session.bar.println(line);
        }
    }
    session.bar.inc(1);
    session.records.push(record.clone());
    save_records(&session.records_path, &session.records)?;
    Ok(record)
}

fn print_medians(records: &[RunRecord]) {
    let mut by_configuration: BTreeMap<(u64, String), Vec<f64>> = BTreeMap::new();
    for record in records
        .iter()
        .filter(|record| record.status == RunStatus::Ok)
    {
        by_configuration
            .entry((record.configuration.rows, record.configuration.name.clone()))
            .or_default()
            .push(record.wall_seconds);
    }
    println!("{:>11}  {:<40} {:>10}", "rows", "configuration", "median s");
    for ((rows, name), mut walls) in by_configuration {
        walls.sort_by(f64::total_cmp);
        println!("{rows:>11}  {name:<40} {:>10.2}", walls[walls.len() / 2]);
    }
}

/// Deletes a dataset directory written by `generate` (it has a manifest);
/// anything else at that path is left alone.
fn remove_dataset(path: &Path) {
    if path
        .join(predbench_generator::dataset::MANIFEST_FILE)
        .is_file()
    {
        let _ = fs::remove_dir_all(path);
    }
}

/// A flag value as the command line spells it (`single-thread`, `modulo`, ...).
pub fn arg_name<T: ValueEnum>(value: T) -> String {
    value
        .to_possible_value()
        .expect("no variant is skipped")
        .get_name()
        .to_string()
}
