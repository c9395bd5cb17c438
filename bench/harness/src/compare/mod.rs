//! `predbench-harness compare`: plan, run, record. The flags are checked,
//! every run is planned with its exact command line ([`plan`]; printed by
//! `--dry-run`), each configuration is run R times as a measured child
//! process ([`run`], [`measure`]; a queue's publishers in [`delivery`]), and
//! every run becomes a record in `results/compare-<time>/records.json`,
//! beside the session's machine, software versions and datasets.

mod child;
mod datasets;
mod delivery;
mod measure;
mod plan;
mod run;
mod session;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use predbench_exporter::kafka::KafkaTarget;
use predbench_exporter::queue::AmqpTarget;

use crate::args::CompareArgs;
use crate::machine;
use crate::peers::{PeerEnvironment, select_peers};
use crate::record::{RunRecord, RunStatus, SessionInfo, SinkKind};
use datasets::DatasetChoice;
use plan::Planner;
use run::Runner;
use session::{Session, TIME_PROGRAM};

/// Runs `predbench-harness compare`.
pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    validate(&args)?;
    let peers = match &args.peers.names {
        Some(names) => select_peers(names)?,
        None => Vec::new(),
    };
    let choice = DatasetChoice::parse(&args.dataset, args.class_type)?;
    let program = predbench_program(&args)?.display().to_string();
    let peer_environment = PeerEnvironment {
        venv: args.peers.peers_venv.clone(),
        scripts: args.peers.peers_dir.clone(),
        spark_driver_memory: args.peers.spark_driver_memory.clone(),
        predbench: program.clone(),
        scratch: args.data_dir.clone(),
    };
    let planner = Planner {
        args: &args,
        program: &program,
        threads: args.threads.unwrap_or_else(machine::available_cores),
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
    };
    for scale in &plan.scales {
        runner.scale(scale, &mut session)?;
    }
    if let Some(edge) = &plan.edge_cases {
        runner.edge_cases(edge, &mut session)?;
    }
    session.bar.finish_and_clear();
    session.save()?;
    Ok(summarise(&session, args.quiet))
}

/// The predbench command the children run: `--predbench`, or `predbench`
/// beside this program.
fn predbench_program(args: &CompareArgs) -> anyhow::Result<PathBuf> {
    let program = match &args.predbench {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .context("cannot find this program, to find predbench beside it")?
            .with_file_name("predbench"),
    };
    if !program.is_file() {
        anyhow::bail!(
            "no predbench command at {}: build it (`cargo build --release` builds both) or give --predbench",
            program.display()
        );
    }
    Ok(program)
}

/// The flags clap cannot check on its own.
fn validate(args: &CompareArgs) -> anyhow::Result<()> {
    if args.rows.is_empty() || args.rows.contains(&0) {
        anyhow::bail!("invalid argument --rows: give one or more positive row counts");
    }
    if args.runs == 0 {
        anyhow::bail!("invalid argument --runs: must be at least 1");
    }
    if args.peers.peer_runs == Some(0) {
        anyhow::bail!("invalid argument --peer-runs: must be at least 1");
    }
    if args.threads == Some(0) {
        anyhow::bail!("invalid argument --threads: must be at least 1");
    }
    if args.peers.peer_timeout == Some(0) {
        anyhow::bail!("invalid argument --peer-timeout: must be at least 1 second");
    }
    let delivery = &args.delivery;
    if args.sinks.contains(&SinkKind::Amqp) {
        AmqpTarget::parse(&format!("{}?queue=check", delivery.amqp))
            .map_err(|error| anyhow::anyhow!("invalid argument --amqp: {error}"))?;
    }
    if args.sinks.contains(&SinkKind::Kafka) {
        if !delivery.kafka.starts_with("kafka://") || delivery.kafka.contains('?') {
            anyhow::bail!(
                "invalid argument --kafka: '{}' is not kafka://HOST:PORT[,HOST:PORT]",
                delivery.kafka
            );
        }
        KafkaTarget::parse(&format!("{}/check", delivery.kafka.trim_end_matches('/')))
            .map_err(|error| anyhow::anyhow!("invalid argument --kafka: {error}"))?;
        KafkaTarget::parse(&format!(
            "kafka://h:1/check?compression={}",
            delivery.kafka_compression
        ))
        .map_err(|error| anyhow::anyhow!("invalid argument --kafka-compression: {error}"))?;
    }
    if args.sinks.iter().any(|sink| sink.is_queue())
        && (delivery.confirm_windows.is_empty() || delivery.confirm_windows.contains(&0))
    {
        anyhow::bail!("invalid argument --confirm-windows: give one or more positive windows");
    }
    if args.scale_out.shards.is_empty() || args.scale_out.shards.contains(&0) {
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
    peers: &[&'static crate::peers::Peer],
    root: &Path,
) -> SessionInfo {
    let mut pythons: Vec<PathBuf> = peers
        .iter()
        .filter(|peer| peer_environment.missing(peer).is_none())
        .map(|peer| peer_environment.python(peer))
        .collect();
    pythons.sort();
    pythons.dedup();
    let brokers = machine::Brokers {
        amqp: args
            .sinks
            .contains(&SinkKind::Amqp)
            .then(|| AmqpTarget::parse(&format!("{}?queue=check", args.delivery.amqp)).ok())
            .flatten(),
        kafka: args.sinks.contains(&SinkKind::Kafka),
    };
    let mut info = machine::describe_session(&args.data_dir, &pythons, &brokers);
    info.command = std::iter::once("predbench-harness".to_string())
        .chain(
            std::env::args()
                .skip(1)
                .map(|argument| machine::relative_to(root, &argument)),
        )
        .collect();
    info
}

/// Prints every configuration's median and where the records are; the exit
/// code says whether a run failed.
fn summarise(session: &Session, quiet: bool) -> ExitCode {
    let runs = &session.records.runs;
    let failed = runs
        .iter()
        .filter(|record| record.status == RunStatus::Failed)
        .count();
    if !quiet {
        print_medians(runs);
        println!(
            "{} runs recorded in {}{}; render the report with `predbench-harness report`",
            runs.len(),
            session.records_path().display(),
            if failed > 0 {
                format!(", {failed} FAILED")
            } else {
                String::new()
            }
        );
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
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
