//! `predbench compare`: plan, run, record. The flags are checked, every
//! configuration is planned with its exact command line ([`plan`]; printed by
//! `--dry-run`), each is run R times as a measured child process ([`run`],
//! [`measure`]), and every run becomes a record in
//! `results/compare-<time>/records.json`, beside the session's machine,
//! software versions and datasets.

mod broker_memory;
pub mod child;
mod datasets;
mod machine;
mod measure;
pub mod peers;
mod plan;
mod run;
mod session;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use predbench_exporter::queue::AmqpTarget;

pub use machine::utc_now;

use crate::cli::{CompareArgs, SinkKindArg};
use crate::progress::available_cores;
use crate::record::{RunRecord, RunStatus, SessionInfo};
use datasets::DatasetChoice;
use peers::{PeerEnvironment, select_peers};
use plan::Planner;
use run::Runner;
use session::{Session, TIME_PROGRAM};

/// Runs `predbench compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    validate(&args)?;
    let peers = match &args.peers {
        Some(names) => select_peers(names)?,
        None => Vec::new(),
    };
    let choice = DatasetChoice::parse(
        &args.dataset,
        crate::cli::convert::class_type(args.class_type),
    )?;
    let program = std::env::current_exe()
        .context("cannot find the predbench executable to run as a child")?
        .display()
        .to_string();
    let peer_environment = PeerEnvironment {
        python: args.peers_venv.join("bin").join("python"),
        scripts: args.peers_dir.clone(),
        spark_driver_memory: args.spark_driver_memory.clone(),
        predbench: program.clone(),
        scratch: args.data_dir.clone(),
    };
    let planner = Planner {
        args: &args,
        program: &program,
        threads: args.threads.unwrap_or_else(available_cores),
        peers: &peers,
        peer_environment: &peer_environment,
    };
    let existing_rows = match &choice {
        DatasetChoice::Existing(path) => Some(
            predbench_exporter::Dataset::open(path)
                .with_context(|| format!("cannot read dataset {}", path.display()))?
                .rows,
        ),
        _ => None,
    };
    let plan = planner.session(&choice, existing_rows);
    if args.dry_run {
        print!("{}", plan.describe());
        return Ok(ExitCode::SUCCESS);
    }

    fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let use_time = !args.no_time_check && Path::new(TIME_PROGRAM).exists();
    if !args.no_time_check && !use_time && !args.quiet {
        eprintln!(
            "note: {TIME_PROGRAM} not found; runs are measured without the /usr/bin/time -v cross-check"
        );
    }
    let root = machine::repository_root();
    let info = session_info(&args, &peer_environment, &peers, &root);
    let mut session = Session::open(&args.results, info, root, use_time, args.quiet)?;
    if !args.quiet {
        eprintln!("{}", session.banner());
    }
    let runner = Runner {
        args: &args,
        choice: &choice,
        planner: &planner,
        peer_environment: &peer_environment,
    };
    for scale in &plan.scales {
        runner.scale(scale, &mut session)?;
    }
    if let Some(edge) = &plan.edge_cases {
        runner.edge_cases(edge, &mut session)?;
    }
    session.bar.finish_and_clear();
    session.save()?;

    let runs = &session.records.runs;
    let failed = runs
        .iter()
        .filter(|record| record.status == RunStatus::Failed)
        .count();
    if !args.quiet {
        print_medians(runs);
        println!(
            "{} runs recorded in {}{}; render the report with `predbench report`",
            runs.len(),
            session.records_path().display(),
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

/// The flags clap cannot check on its own.
fn validate(args: &CompareArgs) -> anyhow::Result<()> {
    if args.rows.is_empty() || args.rows.contains(&0) {
        anyhow::bail!("invalid argument --rows: give one or more positive row counts");
    }
    if args.runs == 0 {
        anyhow::bail!("invalid argument --runs: must be at least 1");
    }
    if args.peer_runs == Some(0) {
        anyhow::bail!("invalid argument --peer-runs: must be at least 1");
    }
    if args.threads == Some(0) {
        anyhow::bail!("invalid argument --threads: must be at least 1");
    }
    if args.peer_timeout == Some(0) {
        anyhow::bail!("invalid argument --peer-timeout: must be at least 1 second");
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
    Ok(())
}

/// What the session runs on: machine, commit, software versions, its command line.
fn session_info(
    args: &CompareArgs,
    peer_environment: &PeerEnvironment,
    peers: &[&'static peers::Peer],
    root: &Path,
) -> SessionInfo {
    let (git_commit, git_dirty) = machine::git_state();
    let runs_python = peers
        .iter()
        .any(|peer| peer_environment.missing(peer).is_none());
    let broker = args
        .sinks
        .contains(&SinkKindArg::Amqp)
        .then(|| AmqpTarget::parse(&format!("{}?queue=check", args.amqp)).ok())
        .flatten();
    SessionInfo {
        id: utc_now(),
        predbench_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit,
        git_dirty,
        machine: machine::describe_machine(&args.data_dir),
        software: machine::software_versions(
            runs_python.then_some(peer_environment.python.as_path()),
            broker.as_ref(),
        ),
        datasets: Vec::new(),
        command: std::iter::once("predbench".to_string())
            .chain(
                std::env::args()
                    .skip(1)
                    .map(|argument| machine::relative_to(root, &argument)),
            )
            .collect(),
    }
}

/// The machine, commit and software of this checkout now, for a record made
/// outside a comparison (`report --import-criterion`).
pub fn describe_session(data_dir: &Path) -> SessionInfo {
    let (git_commit, git_dirty) = machine::git_state();
    SessionInfo {
        id: utc_now(),
        predbench_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit,
        git_dirty,
        machine: machine::describe_machine(data_dir),
        software: machine::software_versions(None, None),
        datasets: Vec::new(),
        command: Vec::new(),
    }
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
