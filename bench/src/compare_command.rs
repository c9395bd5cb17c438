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

use crate::cli::{CompareArgs, GroupingArg, SinkKindArg, StrategyArg};
use crate::machine::{describe_machine, git_state, utc_now};
use crate::peers::{Peer, PeerEnvironment, PeerRole, peer_named, select_peers};
use crate::process_stats::{available_cores, progress_bar};
use crate::record::{
    CommandSummary, Configuration, DATASET_EDGE_CASES, DATASET_PREDBENCH, DATASET_SEED, Kind,
    Machine, RECORD_FORMAT_VERSION, RECORDS_FILE, RunRecord, RunStatus, Verification, save_records,
};
use predbench_exporter::sink::{AmqpTarget, delete_queue};

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
    if args.sinks.contains(&SinkKindArg::Amqp) {
        AmqpTarget::parse(&format!("{}?queue=check", args.amqp))
            .map_err(|error| anyhow::anyhow!("invalid argument --amqp: {error}"))?;
        if args.confirm_windows.is_empty() || args.confirm_windows.contains(&0) {
            anyhow::bail!("invalid argument --confirm-windows: give one or more positive windows");
        }
    }
    if args.scale_out_shards.is_empty() || args.scale_out_shards.contains(&0) {
        anyhow::bail!(
            "invalid argument --scale-out-shards: give one or more positive shard counts"
        );
    }
    let peers = match &args.peers {
        Some(names) => select_peers(names)?,
        None => Vec::new(),
    };
    let choice = DatasetChoice::parse(&args.dataset)?;
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
        program: program.clone(),
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
        peers,
        peer_environment: PeerEnvironment {
            python: args.peers_venv.join("bin").join("python"),
            scripts: args.peers_dir.clone(),
            spark_driver_memory: args.spark_driver_memory.clone(),
            predbench: program.clone(),
        },
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

    let scales = match &choice {
        DatasetChoice::Existing(path) => vec![
            predbench_exporter::Dataset::open(path)
                .with_context(|| format!("cannot read dataset {}", path.display()))?
                .rows,
        ],
        _ => args.rows.clone(),
    };
    for &rows in &scales {
        compare_scale(&args, rows, &choice, &mut session_state)?;
    }
    let runs_peers = session_state.peers.iter().any(|peer| {
        peer.role == PeerRole::Exporter && session_state.peer_environment.missing(peer).is_none()
    });
    if runs_peers && !args.skip_edge_cases {
        compare_edge_cases(&args, &mut session_state)?;
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
    /// The peers `--peers` asked for.
    peers: Vec<&'static Peer>,
    peer_environment: PeerEnvironment,
}

/// A configuration and what to do around each run of it.
struct Planned {
    configuration: Configuration,
    /// A file the run creates and the harness deletes afterwards (a
    /// directory too when `scratch_may_be_directory`: Spark writes one).
    scratch: Option<PathBuf>,
    /// Whether the scratch output may be a directory the harness deletes
    /// whole (a peer's output, which it names); otherwise only a file is
    /// deleted, and whatever else stands at the path is left alone.
    scratch_may_be_directory: bool,
    /// Whether the child writes a `--summary-json`.
    wants_summary: bool,
    /// The verify command (program first) that checks the first run's output.
    verify: Option<Vec<String>>,
    /// Why it cannot run here (a peer without its venv or Java): its runs are
    /// recorded as failed with this reason, and the rest go on.
    unavailable: Option<String>,
    /// Noticed about the dataset the configuration runs on.
    observations: Vec<String>,
    /// A queue the run publishes to, deleted before and after every run.
    queue: Option<AmqpTarget>,
}

impl Planned {
    fn new(configuration: Configuration, scratch: Option<PathBuf>) -> Planned {
        Planned {
            configuration,
            scratch,
            scratch_may_be_directory: false,
            wants_summary: true,
            verify: None,
            unavailable: None,
            observations: Vec::new(),
            queue: None,
        }
    }
}

/// What `--dataset` asks every exporter to run on.
#[derive(Debug, Clone, PartialEq)]
enum DatasetChoice {
    /// Made by `predbench generate`.
    Predbench,
    /// Made by the seed's generator.
    Seed,
    /// An existing dataset.
    Existing(PathBuf),
}

impl DatasetChoice {
    fn parse(text: &str) -> anyhow::Result<DatasetChoice> {
        Ok(match text {
            DATASET_PREDBENCH => DatasetChoice::Predbench,
            DATASET_SEED => DatasetChoice::Seed,
            path => {
                let path = PathBuf::from(path);
                if !path.exists() {
                    anyhow::bail!(
                        "invalid argument --dataset: '{text}' is not predbench, seed or an existing dataset path"
                    );
                }
                DatasetChoice::Existing(path)
            }
        })
    }

    fn label(&self) -> String {
        match self {
            DatasetChoice::Predbench => DATASET_PREDBENCH.to_string(),
            DatasetChoice::Seed => DATASET_SEED.to_string(),
            DatasetChoice::Existing(path) => path.display().to_string(),
        }
    }
}

/// Rows of the table the peers' NaN and null handling is checked on.
const EDGE_CASE_ROWS: u64 = 10_000;

fn compare_scale(
    args: &CompareArgs,
    rows: u64,
    choice: &DatasetChoice,
    session: &mut Session,
) -> anyhow::Result<()> {
    let threads = args.threads.unwrap_or_else(available_cores);
    let label = choice.label();
    let (dataset, mut dataset_ready) = match choice {
        DatasetChoice::Predbench => {
            let dataset = args
                .data_dir
                .join(format!("predictions-{rows}-seed{}", args.seed));
            let ready = dataset_matches(&dataset, rows, args.seed);
            (dataset, ready)
        }
        DatasetChoice::Seed => {
            let dataset = args.data_dir.join(format!("seed-predictions-{rows}"));
            let ready = seed_dataset_matches(&dataset, rows);
            (dataset, ready)
        }
        DatasetChoice::Existing(path) => (path.clone(), true),
    };
    if dataset_ready && !session.quiet && !matches!(choice, DatasetChoice::Existing(_)) {
        eprintln!("reusing {} (it matches)", dataset.display());
    }

    // Generators: predbench's and, when asked for or needed, the seed's.
    let mut generators = Vec::new();
    if !matches!(choice, DatasetChoice::Existing(_)) {
        if !args.skip_generate {
            generators.push(generate_plan(args, rows, threads, &session.program));
        }
        let asked = session.peers.iter().any(|peer| peer.name == SEED_GENERATOR);
        if asked || (*choice == DatasetChoice::Seed && !args.skip_generate) {
            generators.push(seed_generator_plan(args, rows, threads, session));
        }
    }
    for plan in &mut generators {
        plan.configuration.dataset = label.clone();
    }
    let mut export_plans = export_plans(args, rows, threads, &dataset, &label, session);
    if args.scale_out {
        export_plans.extend(scale_out_plans(
            args, rows, threads, &dataset, &label, session,
        ));
    }
    let runs_total =
        (generators.len() + export_plans.len() + 2 * usize::from(!args.skip_disk_floor))
            * args.runs as usize;
    session.bar = progress_bar(
        runs_total as u64,
        "{bar:30} {pos}/{len} runs, {elapsed_precise} {msg}",
        session.quiet,
    );

    // Generation first: the first successful run of the generator that makes
    // the chosen dataset becomes it when there is none, so the measured runs
    // double as the preparation.
    for run in 1..=args.runs {
        for plan in &generators {
            let record = measure(session, plan, run)?;
            let scratch = plan.scratch.as_ref().expect("a generator writes a dataset");
            let makes_dataset = match choice {
                DatasetChoice::Predbench => plan.configuration.peer.is_none(),
                DatasetChoice::Seed => plan.configuration.peer.is_some(),
                DatasetChoice::Existing(_) => false,
            };
            if makes_dataset && !dataset_ready && record.status == RunStatus::Ok {
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
        match choice {
            DatasetChoice::Seed => prepare_seed_dataset(args, rows, threads, &dataset, session)?,
            _ => prepare_dataset(args, rows, threads, &dataset, session)?,
        }
    }
    let opened = predbench_exporter::Dataset::open(&dataset)
        .with_context(|| format!("cannot read dataset {}", dataset.display()))?;
    if *choice == DatasetChoice::Seed {
        let observation = repeated_files_observation(&dataset, session);
        for plan in &mut export_plans {
            plan.observations.push(observation.clone());
        }
    }
    if !args.skip_disk_floor {
        export_plans.insert(0, disk_floor_plan(args, rows, opened.bytes, false, &label));
        export_plans.insert(1, disk_floor_plan(args, rows, opened.bytes, true, &label));
    }
    // The queue's baseline publishes each grouping's messages, made beforehand.
    let mut baseline_messages = Vec::new();
    if args.sinks.contains(&SinkKindArg::Amqp) {
        for &grouping in &args.groupings {
            let path = args.data_dir.join(format!(
                "baseline-messages-{}-{rows}.parquet",
                arg_name(grouping)
            ));
            prepare_baseline_messages(&dataset, &path, grouping, args, session)?;
            export_plans.extend(publish_plans(
                args, rows, threads, &path, grouping, &label, session,
            ));
            baseline_messages.push(path);
        }
    }
    for run in 1..=args.runs {
        for plan in &export_plans {
            if let Some(queue) = &plan.queue {
                let _ = delete_queue(queue);
            }
            measure(session, plan, run)?;
            if let Some(scratch) = &plan.scratch {
                remove_output(scratch, plan.scratch_may_be_directory);
            }
            if let Some(queue) = &plan.queue {
                let _ = delete_queue(queue);
            }
        }
    }
    for path in baseline_messages {
        remove_output(&path, false);
    }
    if args.clean && !matches!(choice, DatasetChoice::Existing(_)) {
        remove_dataset(&dataset);
    }
    Ok(())
}

/// Runs every selected exporting peer and `rayon` once on a small table with
/// NaN and nulls, each output verified the Spark way: records which
/// conventions each one follows (a bare `NaN`, NaN as null) instead of hiding them.
fn compare_edge_cases(args: &CompareArgs, session: &mut Session) -> anyhow::Result<()> {
    let threads = args.threads.unwrap_or_else(available_cores);
    let dataset = args.data_dir.join(format!("edge-cases-{EDGE_CASE_ROWS}"));
    if !session.quiet {
        eprintln!("edge cases: NaN and nulls in {EDGE_CASE_ROWS} rows");
    }
    let mut command = generate_command(&session.program, &dataset, args, EDGE_CASE_ROWS, threads);
    command.extend(["--nan-rate", "0.01", "--null-rate", "0.01"].map(String::from));
    run_unmeasured_generate(
        &command,
        &dataset,
        &session.log_dir.join("prepare-edge-cases.log"),
    )?;
    let edge_args = CompareArgs {
        strategies: vec![StrategyArg::Rayon],
        groupings: vec![GroupingArg::Modulo],
        sinks: vec![SinkKindArg::Parquet],
        ..args.clone()
    };
    let plans = export_plans(
        &edge_args,
        EDGE_CASE_ROWS,
        threads,
        &dataset,
        DATASET_EDGE_CASES,
        session,
    );
    session.bar = progress_bar(
        plans.len() as u64,
        "{bar:30} {pos}/{len} runs, {elapsed_precise} {msg}",
        session.quiet,
    );
    for plan in &plans {
        measure(session, plan, 1)?;
        if let Some(scratch) = &plan.scratch {
            remove_output(scratch, plan.scratch_may_be_directory);
        }
    }
    remove_dataset(&dataset);
    Ok(())
}

/// Whether `dataset` holds `rows` rows written by the seed's generator.
fn seed_dataset_matches(dataset: &Path, rows: u64) -> bool {
    fs::read_to_string(dataset.join(SEED_GENERATOR_MARKER))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|marker| marker["rows"] == rows)
}

/// The seed generator's marker file in the datasets it writes.
const SEED_GENERATOR_MARKER: &str = "_seed_generator.json";
/// The seed generator's name among the peers.
const SEED_GENERATOR: &str = "seed-generator";

fn seed_generator_plan(
    args: &CompareArgs,
    rows: u64,
    threads: usize,
    session: &Session,
) -> Planned {
    let peer = peer_named(SEED_GENERATOR).expect("the seed generator is a peer");
    let scratch = args.data_dir.join(format!("seed-generate-scratch-{rows}"));
    let command = session.peer_environment.command(
        peer,
        &[
            "--output".to_string(),
            scratch.display().to_string(),
            "--rows".to_string(),
            rows.to_string(),
        ],
        threads,
    );
    let mut configuration = Configuration::unparameterised(
        Kind::Generate,
        &format!("peer {SEED_GENERATOR}"),
        rows,
        args.seed,
        threads,
        command,
    );
    configuration.peer = Some(SEED_GENERATOR.to_string());
    let mut plan = Planned::new(configuration, Some(scratch));
    plan.unavailable = session.peer_environment.missing(peer);
    plan
}

/// Makes the seed generator's dataset without measuring it (with `--skip-generate`).
fn prepare_seed_dataset(
    args: &CompareArgs,
    rows: u64,
    threads: usize,
    dataset: &Path,
    session: &Session,
) -> anyhow::Result<()> {
    let plan = seed_generator_plan(args, rows, threads, session);
    if let Some(why) = plan.unavailable {
        anyhow::bail!("cannot make the seed's dataset: {why}");
    }
    if !session.quiet {
        eprintln!("generating {} with the seed's generator", dataset.display());
    }
    let log = session.log_dir.join(format!("prepare-seed-{rows}.log"));
    let scratch = plan.scratch.expect("a generator writes a dataset");
    remove_dataset(&scratch);
    let command = &plan.configuration.command;
    let measurement = run_measured(&command[0], &command[1..], &log)?;
    if !measurement.exit.success() {
        anyhow::bail!(
            "the seed's generator failed ({}): {}",
            measurement.exit,
            log_tail(&log, 5)
        );
    }
    remove_dataset(dataset);
    fs::rename(&scratch, dataset)
        .with_context(|| format!("cannot move {} to {}", scratch.display(), dataset.display()))
}

/// What the seed generator's unseeded workers did to `dataset`, in one sentence.
fn repeated_files_observation(dataset: &Path, session: &Session) -> String {
    let command = session.peer_environment.repeated_files_command(dataset);
    let output = std::process::Command::new(&command[0])
        .args(&command[1..])
        .output();
    let parsed = output
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| serde_json::from_slice::<serde_json::Value>(&output.stdout).ok());
    match parsed {
        Some(found) => format!(
            "{} of the {} files of the seed generator's dataset repeat the class columns of another file (only the ids differ): its forked workers start from the same unseeded numpy state",
            found["repeating"], found["files"]
        ),
        None => "could not check the seed generator's files for repeated values (scripts/peers/repeated_files.py failed)".to_string(),
    }
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
    let command = generate_command(&session.program, dataset, args, rows, threads);
    run_unmeasured_generate(
        &command,
        dataset,
        &session.log_dir.join(format!("prepare-{rows}.log")),
    )
}

/// Runs a `predbench generate` command line that prepares `dataset` without
/// being measured; its failure ends the comparison.
fn run_unmeasured_generate(command: &[String], dataset: &Path, log: &Path) -> anyhow::Result<()> {
    let measurement = run_measured(&command[0], &command[1..], log)?;
    if !measurement.exit.success() {
        anyhow::bail!(
            "cannot generate {} ({}): {}",
            dataset.display(),
            measurement.exit,
            log_tail(log, 5)
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
    Planned::new(
        Configuration::unparameterised(
            Kind::Generate,
            "generate",
            rows,
            args.seed,
            threads,
            command,
        ),
        Some(scratch),
    )
}

/// `dd` writing `bytes` of zeros and syncing: through the page cache as most
/// programs write (`direct: false`), or past it with `oflag=direct`, the
/// device's own speed.
fn disk_floor_plan(
    args: &CompareArgs,
    rows: u64,
    bytes: u64,
    direct: bool,
    dataset: &str,
) -> Planned {
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
    let mut configuration = Configuration::unparameterised(
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
    );
    configuration.dataset = dataset.to_string();
    let mut plan = Planned::new(configuration, Some(target));
    plan.wants_summary = false;
    plan
}

/// predbench's strategies x groupings x sinks, then the exporting peers.
fn export_plans(
    args: &CompareArgs,
    rows: u64,
    threads: usize,
    dataset: &Path,
    label: &str,
    session: &Session,
) -> Vec<Planned> {
    let program = &session.program;
    let mut plans = Vec::new();
    // Every sink once, the queue once per confirm window.
    let sinks: Vec<(SinkKindArg, Option<usize>)> = args
        .sinks
        .iter()
        .flat_map(|&sink| match sink {
            SinkKindArg::Amqp => args
                .confirm_windows
                .iter()
                .map(|&window| (sink, Some(window)))
                .collect::<Vec<_>>(),
            _ => vec![(sink, None)],
        })
        .collect();
    for &grouping in &args.groupings {
        for &strategy in &args.strategies {
            for &(sink, window) in &sinks {
                let strategy_name = arg_name(strategy);
                let grouping_name = arg_name(grouping);
                let sink_name = arg_name(sink);
                let window_suffix =
                    window.map_or(String::new(), |window| format!(" window {window}"));
                let name =
                    format!("export {strategy_name} {grouping_name} {sink_name}{window_suffix}");
                let queue = window.map(|window| {
                    queue_target(args, &format!("{strategy_name}-{grouping_name}-w{window}"))
                });
                let output = args.data_dir.join(format!(
                    "out-{strategy_name}-{grouping_name}.{}",
                    match sink {
                        SinkKindArg::Ndjson => "ndjson",
                        _ => "parquet",
                    }
                ));
                let sink_spec = match (sink, &queue) {
                    (SinkKindArg::Null, _) => "null".to_string(),
                    (SinkKindArg::Parquet, _) => format!("parquet:{}", output.display()),
                    (SinkKindArg::Ndjson, _) => format!("ndjson:{}", output.display()),
                    (SinkKindArg::Amqp, Some((url, _))) => url.clone(),
                    (SinkKindArg::Amqp, None) => unreachable!("a queue per amqp configuration"),
                };
                let mut command = export_command(
                    program,
                    dataset,
                    strategy,
                    grouping,
                    args,
                    threads,
                    &[
                        "--sink".into(),
                        sink_spec,
                        "--memory-budget".into(),
                        args.memory_budget.to_string(),
                        "--spill-dir".into(),
                        args.data_dir.display().to_string(),
                    ],
                );
                if let Some(window) = window {
                    command.extend(["--confirm-window".to_string(), window.to_string()]);
                }
                let budget = packing_budget(args, grouping);
                let writes_file = matches!(sink, SinkKindArg::Parquet | SinkKindArg::Ndjson);
                let mut plan = Planned::new(
                    Configuration {
                        kind: Kind::Export,
                        name,
                        rows,
                        seed: args.seed,
                        strategy: Some(strategy_name),
                        grouping: Some(grouping_name.clone()),
                        sink: Some(sink_name),
                        group_size: Some(args.group_size),
                        threads,
                        memory_budget: Some(args.memory_budget),
                        command,
                        dataset: label.to_string(),
                        peer: None,
                        shard: None,
                    },
                    writes_file.then_some(output.clone()),
                );
                let checked = match &queue {
                    Some((url, _)) => Some(PathBuf::from(url)),
                    None => writes_file.then(|| output.clone()),
                };
                if let Some(checked) = checked.filter(|_| !args.no_verify) {
                    plan.verify = Some(verify_command(
                        program,
                        dataset,
                        &checked,
                        Some(&grouping_name),
                        args.group_size,
                        budget,
                        threads,
                    ));
                }
                if let Some((_, target)) = queue {
                    plan.unavailable = broker_missing(&target);
                    plan.queue = Some(target);
                }
                plans.push(plan);
            }
        }
    }
    for peer in session
        .peers
        .iter()
        .filter(|peer| peer.role == PeerRole::Exporter)
    {
        let output = args
            .data_dir
            .join(format!("out-peer-{}.parquet", peer.name));
        let command = session.peer_environment.command(
            peer,
            &[
                "--input".to_string(),
                dataset.display().to_string(),
                "--output".to_string(),
                output.display().to_string(),
                "--group-size".to_string(),
                args.group_size.to_string(),
            ],
            threads,
        );
        let mut plan = Planned::new(
            Configuration {
                kind: Kind::Export,
                name: format!("peer {} modulo parquet", peer.name),
                rows,
                seed: args.seed,
                strategy: None,
                grouping: Some("modulo".to_string()),
                sink: Some("parquet".to_string()),
                group_size: Some(args.group_size),
                threads,
                memory_budget: None,
                command,
                dataset: label.to_string(),
                peer: Some(peer.name.to_string()),
                shard: None,
            },
            Some(output.clone()),
        );
        plan.unavailable = session.peer_environment.missing(peer);
        plan.scratch_may_be_directory = true;
        if !args.no_verify {
            // Peers number rows their own way; predbench on Spark numbers them as predbench does.
            let grouping = peer.runs_predbench.then_some("modulo");
            plan.verify = Some(verify_command(
                program,
                dataset,
                &output,
                grouping,
                args.group_size,
                None,
                threads,
            ));
        }
        plans.push(plan);
    }
    plans
}

/// The queue `predbench-compare-NAME` on the `--amqp` broker: its URL and target.
fn queue_target(args: &CompareArgs, name: &str) -> (String, AmqpTarget) {
    let url = format!(
        "{}{}queue=predbench-compare-{name}",
        args.amqp,
        if args.amqp.contains('?') { "&" } else { "?" }
    );
    let target = AmqpTarget::parse(&url).expect("--amqp is checked before the runs");
    (url, target)
}

/// Why the broker of `target` cannot be used, with what to do; `None` when it answers.
fn broker_missing(target: &AmqpTarget) -> Option<String> {
    delete_queue(target).err().map(|error| {
        format!("{error}; start a broker with `bash scripts/rabbitmq.sh start` or give --amqp")
    })
}

/// Makes the messages the queue baseline publishes: an unmeasured `rayon`
/// export of the dataset with `grouping` into a Parquet file.
fn prepare_baseline_messages(
    dataset: &Path,
    output: &Path,
    grouping: GroupingArg,
    args: &CompareArgs,
    session: &Session,
) -> anyhow::Result<()> {
    let threads = args.threads.unwrap_or_else(available_cores);
    let sink = [
        "--sink".to_string(),
        format!("parquet:{}", output.display()),
    ];
    let command = export_command(
        &session.program,
        dataset,
        StrategyArg::Rayon,
        grouping,
        args,
        threads,
        &sink,
    );
    let log = session.log_dir.join(format!(
        "prepare-baseline-messages-{}.log",
        arg_name(grouping)
    ));
    let measurement = run_measured(&session.program, &command[1..], &log)?;
    if !measurement.exit.success() {
        anyhow::bail!(
            "cannot prepare the queue baseline's messages: {}",
            log_tail(&log, 5)
        );
    }
    Ok(())
}

/// The queue's baseline: `predbench publish` of the same messages (those of
/// `grouping`), already serialized, with the queue sink's settings, once per
/// confirm window.
fn publish_plans(
    args: &CompareArgs,
    rows: u64,
    threads: usize,
    messages: &Path,
    grouping: GroupingArg,
    label: &str,
    session: &Session,
) -> Vec<Planned> {
    let grouping_name = arg_name(grouping);
    args.confirm_windows
        .iter()
        .map(|&window| {
            let (url, target) = queue_target(args, &format!("baseline-{grouping_name}-w{window}"));
            let command = vec![
                session.program.clone(),
                "publish".into(),
                "--messages".into(),
                messages.display().to_string(),
                "--sink".into(),
                url,
                "--confirm-window".into(),
                window.to_string(),
                "--quiet".into(),
            ];
            let mut configuration = Configuration::unparameterised(
                Kind::Publish,
                &format!("publish pre-serialized {grouping_name} amqp window {window}"),
                rows,
                args.seed,
                threads,
                command,
            );
            configuration.dataset = label.to_string();
            configuration.sink = Some("amqp".to_string());
            configuration.grouping = Some(grouping_name.clone());
            configuration.group_size = Some(args.group_size);
            let mut plan = Planned::new(configuration, None);
            plan.unavailable = broker_missing(&target);
            plan.queue = Some(target);
            plan
        })
        .collect()
}

/// The way past one machine, measured on this one: the reader alone
/// (`--decode-only`) and `rayon` into the null sink, each on one thread and on
/// all, give the per-core cost of decoding and of encoding; then for every
/// shard count N the N shards of the seed's job (`rayon`, modulo, Parquet),
/// one after another, as N machines would run them at once.
fn scale_out_plans(
    args: &CompareArgs,
    rows: u64,
    threads: usize,
    dataset: &Path,
    label: &str,
    session: &Session,
) -> Vec<Planned> {
    let program = &session.program;
    let export = |extra: &[String], threads: usize| {
        export_command(
            program,
            dataset,
            StrategyArg::Rayon,
            GroupingArg::Modulo,
            args,
            threads,
            extra,
        )
    };
    let configuration = |kind, name: String, threads, sink: &str, command| Configuration {
        kind,
        name,
        rows,
        seed: args.seed,
        strategy: Some("rayon".to_string()),
        grouping: Some("modulo".to_string()),
        sink: Some(sink.to_string()),
        group_size: Some(args.group_size),
        threads,
        memory_budget: None,
        command,
        dataset: label.to_string(),
        peer: None,
        shard: None,
    };
    let mut plans = Vec::new();
    let null = ["--sink".to_string(), "null".to_string()];
    for cores in [1, threads] {
        let suffix = if cores == 1 { ", 1 thread" } else { "" };
        let mut decode = null.to_vec();
        decode.push("--decode-only".to_string());
        plans.push(Planned::new(
            configuration(
                Kind::DecodeOnly,
                format!("decode only modulo{suffix}"),
                cores,
                "null",
                export(&decode, cores),
            ),
            None,
        ));
        if cores == 1 {
            plans.push(Planned::new(
                configuration(
                    Kind::Export,
                    format!("export rayon modulo null{suffix}"),
                    1,
                    "null",
                    export(&null, 1),
                ),
                None,
            ));
        }
        if threads == 1 {
            break;
        }
    }
    for &count in &args.scale_out_shards {
        let output = args.data_dir.join(format!("out-shards-{count}"));
        for index in 0..count {
            let Ok(shard) = predbench_generator::Shard::new(index, count) else {
                continue;
            };
            let extra = [
                "--sink".to_string(),
                format!("parquet:{}", output.display()),
                "--shard".to_string(),
                shard.to_string(),
            ];
            let mut configuration = configuration(
                Kind::ExportShard,
                format!("shard {shard} export rayon modulo parquet"),
                threads,
                "parquet",
                export(&extra, threads),
            );
            configuration.shard = Some(shard);
            let mut plan = Planned::new(configuration, Some(output.clone()));
            plan.scratch_may_be_directory = true;
            plans.push(plan);
        }
    }
    plans
}

/// `predbench verify` of `output` against `dataset`: the exact grouping, or
/// with `grouping: None` completeness and values only (the peers number rows
/// their own way).
fn verify_command(
    program: &str,
    dataset: &Path,
    output: &Path,
    grouping: Option<&str>,
    group_size: u64,
    max_message_bytes: Option<u64>,
    threads: usize,
) -> Vec<String> {
    let mut command = vec![
        program.to_string(),
        "verify".into(),
        "--input".into(),
        dataset.display().to_string(),
        "--messages".into(),
        output.display().to_string(),
        "--group-size".into(),
        group_size.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--max-problems".into(),
        "3".into(),
    ];
    match grouping {
        Some(grouping) => command.extend(["--grouping".to_string(), grouping.to_string()]),
        None => command.push("--any-grouping".into()),
    }
    if let Some(budget) = max_message_bytes {
        command.extend(["--max-message-bytes".to_string(), budget.to_string()]);
    }
    command
}

/// `predbench export` of `dataset` as every compare run gives it (strategy,
/// grouping, K, the packing budget, threads, `--force --quiet`), then `extra`.
fn export_command(
    program: &str,
    dataset: &Path,
    strategy: StrategyArg,
    grouping: GroupingArg,
    args: &CompareArgs,
    threads: usize,
    extra: &[String],
) -> Vec<String> {
    let mut command = vec![
        program.to_string(),
        "export".into(),
        "--input".into(),
        dataset.display().to_string(),
        "--strategy".into(),
        arg_name(strategy),
        "--grouping".into(),
        arg_name(grouping),
        "--group-size".into(),
        args.group_size.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--force".into(),
        "--quiet".into(),
    ];
    if let Some(budget) = packing_budget(args, grouping) {
        command.extend(["--max-message-bytes".to_string(), budget.to_string()]);
    }
    command.extend_from_slice(extra);
    command
}

/// `--max-message-bytes` of a configuration: the budget of `packed`, nothing for the others.
fn packing_budget(args: &CompareArgs, grouping: GroupingArg) -> Option<u64> {
    (grouping == GroupingArg::Packed).then_some(args.max_message_bytes)
}

/// Runs one planned configuration once, records it (saving the records file
/// after every run, so an interrupted session keeps what it measured). The
/// first run's output is verified when the plan says how.
fn measure(session: &mut Session, plan: &Planned, run: u32) -> anyhow::Result<RunRecord> {
    let configuration = &plan.configuration;
    let slug: String = format!(
        "{}-{}-{}-run{run}",
        configuration.name,
        configuration.rows,
        if configuration.dataset == DATASET_PREDBENCH {
            ""
        } else {
            configuration.dataset.as_str()
        }
    )
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
    if let Some(scratch) = plan
        .scratch
        .as_ref()
        .filter(|_| plan.scratch_may_be_directory)
    {
        // What an interrupted session left at a peer's output path: the
        // peers refuse to overwrite.
        remove_output(scratch, true);
    }
    let started_at = utc_now();
    let measurement = match &plan.unavailable {
        Some(_) => None,
        None => Some(run_measured(&program, &child_args, &log)?),
    };

    let mut status = RunStatus::Ok;
    let mut error = None;
    match &measurement {
        None => {
            status = RunStatus::Failed;
            error = plan.unavailable.clone();
        }
        Some(measurement) if !measurement.exit.success() => {
            status = RunStatus::Failed;
            error = Some(format!("{}: {}", measurement.exit, log_tail(&log, 8)));
        }
        Some(_) => {}
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
    let verification = match &plan.verify {
        Some(verify) if run == 1 && status == RunStatus::Ok => {
            session.bar.set_message(format!(
                "{} rows: verifying {}",
                configuration.rows, configuration.name
            ));
            Some(run_verification(
                verify,
                &session.log_dir.join(format!("{slug}.verify.log")),
            )?)
        }
        _ => None,
    };
    let measurement = measurement.unwrap_or(crate::child::ChildMeasurement {
        wall: std::time::Duration::ZERO,
        user: std::time::Duration::ZERO,
        system: std::time::Duration::ZERO,
        peak_rss_bytes: 0,
        exit: crate::child::ChildExit::Code(-1),
    });
    let wall_seconds = measurement.wall.as_secs_f64();
    // A shard exports its share of the dataset's rows.
    let rows = match configuration.kind {
        Kind::DiskFloor => 0,
        Kind::ExportShard => summary.rows,
        _ => configuration.rows,
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
        exit_code: match (&plan.unavailable, measurement.exit) {
            (Some(_), _) => None,
            (None, crate::child::ChildExit::Code(code)) => Some(code),
            (None, crate::child::ChildExit::Signal(_)) => None,
        },
        wall_seconds,
        user_seconds: measurement.user.as_secs_f64(),
        system_seconds: measurement.system.as_secs_f64(),
        peak_rss_bytes: measurement.peak_rss_bytes,
        time_v_wall_seconds: if session.use_time && plan.unavailable.is_none() {
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
        verification,
        observations: plan.observations.clone(),
    };
    let verdict = match &record.verification {
        Some(verification) if verification.ok => "  verified".to_string(),
        Some(verification) => format!(
            "  NOT VERIFIED: {}",
            verification.findings.first().map_or("", String::as_str)
        ),
        None => String::new(),
    };
    let line = format!(
        "{:>11} rows  {:<40} run {run}: {}",
        configuration.rows,
        configuration.name,
        match record.status {
            RunStatus::Ok => format!(
                "{:8.2} s  peak RSS {:>10}{verdict}",
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

/// Runs a verify command as a measured child and reads its verdict.
fn run_verification(command: &[String], log: &Path) -> anyhow::Result<Verification> {
    let measurement = run_measured(&command[0], &command[1..], log)?;
    let text = fs::read_to_string(log).unwrap_or_default();
    let mut findings: Vec<String> = text
        .lines()
        .filter(|line| line.starts_with("problem: "))
        .take(3)
        .map(|line| line.trim_start_matches("problem: ").to_string())
        .collect();
    if let Some(verdict) = text.lines().rev().find(|line| !line.trim().is_empty()) {
        findings.push(verdict.to_string());
    }
    Ok(Verification {
        ok: measurement.exit.success(),
        command: command.to_vec(),
        wall_seconds: measurement.wall.as_secs_f64(),
        user_seconds: measurement.user.as_secs_f64(),
        system_seconds: measurement.system.as_secs_f64(),
        peak_rss_bytes: measurement.peak_rss_bytes,
        findings,
    })
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

/// Deletes a dataset directory written by `generate` or the seed's generator
/// (it has their manifest); anything else at that path is left alone.
fn remove_dataset(path: &Path) {
    if path
        .join(predbench_generator::dataset::MANIFEST_FILE)
        .is_file()
        || path.join(SEED_GENERATOR_MARKER).is_file()
    {
        let _ = fs::remove_dir_all(path);
    }
}

/// Deletes an output the harness asked for: a file, or with
/// `directory_allowed` a directory of part files as Spark writes them.
fn remove_output(path: &Path, directory_allowed: bool) {
    if path.is_dir() {
        if directory_allowed {
            let _ = fs::remove_dir_all(path);
        }
    } else {
        let _ = fs::remove_file(path);
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
