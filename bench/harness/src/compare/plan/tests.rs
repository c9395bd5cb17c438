//! The plan's command lines parse back into the arguments they came from,
//! and its typed fields say what they do.

use std::path::PathBuf;

use clap::Parser;
use predbench::argv::{ToArgv, parse};
use predbench_exporter::Grouping;
use predbench_exporter::queue::QueueType;

use super::*;
use crate::args::{Harness, HarnessCommand};
use crate::record::RunKind;

/// `predbench-harness compare WORDS`'s flags.
pub fn compare_args(words: &[&str]) -> CompareArgs {
    let mut all = vec!["predbench-harness", "compare"];
    all.extend_from_slice(words);
    match Harness::try_parse_from(all).unwrap().command {
        HarnessCommand::Compare(args) => *args,
        other => panic!("{other:?}"),
    }
}

/// The session `args` plans with `peers` on `threads` threads, on a
/// machine without the peers' venv.
pub fn session_of(
    args: &CompareArgs,
    peers: &[&'static Peer],
    threads: usize,
    choice: &DatasetChoice,
) -> SessionPlan {
    let environment = environment(
        PathBuf::from("/nonexistent"),
        PathBuf::from("scripts/peers"),
    );
    session_in(&environment, args, peers, threads, choice)
}

/// The peers' environment of the venv `venv` and the scripts in `scripts`.
fn environment(venv: PathBuf, scripts: PathBuf) -> PeerEnvironment {
    PeerEnvironment {
        venv,
        scripts,
        spark_driver_memory: "1g".to_string(),
        predbench: "predbench".to_string(),
        scratch: PathBuf::from("data"),
    }
}

/// The session `args` plans with `peers` in `environment`.
fn session_in(
    environment: &PeerEnvironment,
    args: &CompareArgs,
    peers: &[&'static Peer],
    threads: usize,
    choice: &DatasetChoice,
) -> SessionPlan {
    let planner = Planner {
        args,
        program: "predbench",
        threads,
        peers,
        peer_environment: environment,
    };
    planner.session(choice, None)
}

/// Each command line parses, and its arguments render it back word for word.
pub fn assert_each_parses_to_itself(commands: &[Vec<String>]) {
    for command in commands {
        let words: Vec<&str> = command.iter().map(String::as_str).collect();
        let parsed = parse(&words).unwrap_or_else(|error| panic!("{command:?}: {error}"));
        assert_eq!(&parsed.to_argv(), command);
    }
}

/// Every predbench command line the plan holds (runs, verifications,
/// preparations, the dataset's making), without the program.
pub fn predbench_commands(plan: &SessionPlan, program: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let mut add = |command: &[String]| {
        if command.first().map(String::as_str) == Some(program) {
            commands.push(command[1..].to_vec());
        }
    };
    for planned in plan.plans() {
        add(&planned.configuration.command);
        if let Some(verify) = &planned.verify {
            add(verify);
        }
    }
    for scale in &plan.scales {
        for preparation in &scale.preparations {
            add(&preparation.command);
        }
        if let Some(making) = &scale.making {
            add(&making.command);
        }
    }
    if let Some(edge) = &plan.edge_cases {
        add(&edge.generate);
    }
    commands
}

#[test]
fn every_planned_command_line_parses_back_into_the_same_options() {
    let args = compare_args(&[
        "--rows",
        "10k,20k",
        "--groupings",
        "modulo,contiguous,packed",
        "--sinks",
        "null,parquet,ndjson,amqp",
        "--confirm-windows",
        "64,1024",
        "--queue-types",
        "classic,quorum",
        "--scale-out",
        "--memory-study",
        "--output-codec",
        "zstd",
        "--threads",
        "3",
        "--restart-broker",
        "restart it",
    ]);
    let peers = crate::peers::select_peers(&["all".to_string()]).unwrap();
    let plan = session_of(&args, &peers, 3, &DatasetChoice::Seed);
    let commands = predbench_commands(&plan, "predbench");
    assert!(commands.len() > 50, "{}", commands.len());
    assert_each_parses_to_itself(&commands);
    // A predbench child's command line is its typed arguments', rendered.
    for planned in plan.plans() {
        if let Some(arguments) = &planned.arguments {
            let words = &planned.configuration.command[1..];
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            assert_eq!(&parse(&words).unwrap(), arguments);
        }
    }
    // The delivery peers publish to queues of their own, drained and
    // verified by id; the pika publishers read the seed's job's messages,
    // made once beforehand.
    let scale = &plan.scales[0];
    for name in [
        "pika-publisher",
        "pika-publisher-no-confirms",
        "spark-publish",
    ] {
        let publisher = scale
            .exports
            .iter()
            .find(|plan| plan.configuration.peer.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} is not planned"));
        let command = publisher.configuration.command.join(" ");
        assert!(
            command.contains(&format!(
                "--amqp amqp://guest:guest@127.0.0.1:5672/%2f?queue=predbench-compare-peer-{name}"
            )),
            "{command}"
        );
        assert_eq!(
            command.contains("--messages"),
            name != "spark-publish",
            "{command}"
        );
        assert_eq!(
            command.contains("--no-confirms"),
            name.ends_with("no-confirms"),
            "{command}"
        );
        // Spark publishes out of message_id order: its queue is read in any order.
        let drain = publisher.follow_up.as_deref().unwrap();
        assert_eq!(drain.configuration.kind, RunKind::Drain);
        let verify = drain.verify.as_ref().unwrap();
        assert!(verify.contains(&"--any-grouping".to_string()));
        assert_eq!(
            drain
                .configuration
                .command
                .contains(&"--any-order".to_string()),
            name == "spark-publish",
            "{:?}",
            drain.configuration.command
        );
    }
    // No venv here: the publishers cannot run, and the seed's job's
    // messages are not made for them (the queue tests run them for real).
    assert!(
        scale
            .preparations
            .iter()
            .all(|preparation| preparation.name != "seed-job-messages")
    );
    let pika = scale
        .exports
        .iter()
        .find(|plan| plan.configuration.peer.as_deref() == Some("pika-publisher"))
        .unwrap();
    assert!(pika.unavailable.is_some());
    // Every queue export and baseline once per queue type; a quorum queue is declared as one.
    let quorum: Vec<&Plan> = scale
        .exports
        .iter()
        .filter(|plan| plan.configuration.queue_type == Some(QueueType::Quorum))
        .collect();
    // 3 strategies x 3 groupings x 2 windows, and a baseline per grouping and window.
    assert_eq!(quorum.len(), 3 * 3 * 2 + 3 * 2, "exports and baselines");
    for plan in quorum {
        let command = plan.configuration.command.join(" ");
        assert!(command.contains("-quorum&queue_type=quorum"), "{command}");
    }
    // The plan's typed fields say what the command lines do.
    let exports: Vec<&Plan> = plan.scales[0]
        .exports
        .iter()
        .filter(|plan| plan.configuration.kind == RunKind::Export)
        .collect();
    for planned in &exports {
        let configuration = &planned.configuration;
        let command = configuration.command.join(" ");
        if let Some(window) = configuration.confirm_window {
            assert!(
                command.contains(&format!("--confirm-window {window}")) || window == 1024,
                "{command}"
            );
            assert!(command.contains("--sink amqp://"), "{command}");
        }
        if configuration.grouping == Some(Grouping::Packed) && configuration.peer.is_none() {
            assert_eq!(configuration.max_message_bytes, Some(262_144));
            assert!(command.contains("--max-message-bytes 262144"), "{command}");
        }
    }
    // Every publisher to a classic queue has a fault run, its drain after
    // it until the queue is empty; the baselines and quorum queues have none.
    let faults = &scale.faults;
    let classic_exports = scale.exports.iter().filter(|plan| {
        plan.queue.is_some()
            && plan.configuration.queue_type.is_none()
            && !plan.configuration.is_queue_baseline()
    });
    assert_eq!(faults.len(), classic_exports.count());
    assert!(faults.len() >= 3 * 3 * 2 + 3, "{}", faults.len());
    for fault in faults {
        assert_eq!(fault.restart, "restart it");
        let drain = fault.plan.follow_up.as_deref().unwrap();
        assert!(!drain.configuration.beside_publisher);
        assert!(
            drain
                .configuration
                .command
                .contains(&"--until-empty".to_string())
        );
    }
}

#[test]
fn drains_beside_the_publisher_stop_when_idle_and_fault_drains_when_empty() {
    let args = compare_args(&[
        "--rows",
        "1k",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo",
        "--sinks",
        "amqp",
        "--drain-beside",
        "--restart-broker",
        "restart it",
    ]);
    let plan = session_of(&args, &[], 2, &DatasetChoice::Predbench(Default::default()));
    let scale = &plan.scales[0];
    let export = &scale.exports[0];
    let beside = export.follow_up.as_deref().unwrap();
    assert!(beside.configuration.beside_publisher);
    assert!(
        !beside
            .configuration
            .command
            .contains(&"--until-empty".to_string())
    );
    let fault = &scale.faults[0].plan;
    assert_eq!(fault.configuration.command, export.configuration.command);
    let after = fault.follow_up.as_deref().unwrap();
    assert!(!after.configuration.beside_publisher);
    assert!(
        after
            .configuration
            .command
            .contains(&"--until-empty".to_string())
    );
    // The baseline's drain is beside it too, and it has no fault run.
    assert_eq!(scale.faults.len(), 1);
    let description = plan.describe();
    assert!(
        description.contains("fault run, the broker restarted by `restart it`"),
        "{description}"
    );
    assert!(
        description.contains("beside it drain modulo amqp window 1024"),
        "{description}"
    );
}

#[test]
fn the_memory_study_plans_every_point_once_with_its_knobs_on_the_command_line() {
    let args = compare_args(&[
        "--rows",
        "1k",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo",
        "--sinks",
        "parquet",
        "--memory-study",
        "--study-chunk-rows",
        "4096,65536",
        "--study-memory-budgets",
        "1GB,64MB",
    ]);
    let plan = session_of(&args, &[], 2, &DatasetChoice::Predbench(Default::default()));
    let study: Vec<&Plan> = plan.scales[0]
        .exports
        .iter()
        .filter(|plan| plan.configuration.memory_study)
        .collect();
    // rayon on 1 and 2 threads x 2 chunk sizes, single-thread x 2, window-sort x 2.
    assert_eq!(study.len(), 2 * 2 + 2 + 2);
    let mut names: Vec<&str> = study
        .iter()
        .map(|plan| plan.configuration.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), study.len(), "{names:?}");
    assert!(
        names.contains(&"export rayon modulo parquet, memory study, 1 thread, chunk 4096 rows")
    );
    assert!(
        names.contains(
            &"export window-sort modulo parquet, memory study, 2 threads, budget 64.0 MiB"
        ),
        "{names:?}"
    );
    for planned in &study {
        let configuration = &planned.configuration;
        let command = configuration.command.join(" ");
        assert!(!configuration.has_default_knobs());
        assert!(planned.verify.is_some(), "{command}");
        assert!(
            command.contains(&format!("--threads {}", configuration.threads)),
            "{command}"
        );
        match configuration.chunk_rows {
            Some(4096) => assert!(command.contains("--chunk-rows 4096"), "{command}"),
            Some(65536) => assert!(command.contains("--chunk-rows 65536"), "{command}"),
            Some(other) => panic!("{other}"),
            // window-sort: the budget is on the command line.
            None => assert!(command.contains("--memory-budget"), "{command}"),
        }
    }
    // The decision table's rayon is planned once more, unchanged, beside the study.
    assert!(
        plan.scales[0]
            .exports
            .iter()
            .any(|plan| plan.configuration.is_reference_export())
    );
}

/// The publishers of the seed's job's messages read what its measured run
/// wrote, kept for them: no second, unmeasured run of Spark makes them.
#[test]
fn the_publishers_read_the_measured_seed_jobs_output() {
    let venv = tempfile::tempdir().unwrap();
    std::fs::create_dir(venv.path().join("bin")).unwrap();
    std::fs::write(venv.path().join("bin/python"), "").unwrap();
    let scripts = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/peers"));
    let environment = environment(venv.path().to_path_buf(), scripts);
    let args = compare_args(&["--rows", "1000", "--sinks", "amqp", "--runs", "2"]);
    let publisher = |peers: &[&str]| {
        let names: Vec<String> = peers.iter().map(|peer| peer.to_string()).collect();
        let peers = crate::peers::select_peers(&names).unwrap();
        let plan = session_in(&environment, &args, &peers, 2, &DatasetChoice::Seed);
        plan.scales.into_iter().next().unwrap()
    };
    let find = |scale: &ScalePlan, peer: &str| {
        let position = scale
            .exports
            .iter()
            .position(|plan| plan.configuration.peer.as_deref() == Some(peer));
        position.unwrap_or_else(|| panic!("{peer} is not planned"))
    };
    let scale = publisher(&["pyspark-seed", "pika-publisher"]);
    if let Some(why) = &scale.exports[find(&scale, "pyspark-seed")].unavailable {
        eprintln!("skipped: the seed's job cannot run here: {why}");
        return;
    }
    let (seed_job, pika) = (find(&scale, "pyspark-seed"), find(&scale, "pika-publisher"));
    let output = scale.exports[seed_job].scratch.clone().unwrap();
    assert!(seed_job < pika, "the publisher runs after the seed's job");
    assert!(scale.exports[seed_job].output_read_later);
    let command = scale.exports[pika].configuration.command.join(" ");
    assert!(
        command.contains(&format!("--messages {}", output.display())),
        "{command}"
    );
    assert!(
        scale
            .preparations
            .iter()
            .all(|preparation| preparation.name != "seed-job-messages")
    );
    // Without the measured run, one unmeasured run makes the messages first.
    let scale = publisher(&["pika-publisher"]);
    let preparation = scale
        .preparations
        .iter()
        .find(|preparation| preparation.name == "seed-job-messages")
        .expect("the seed's job's messages are prepared");
    let command = scale.exports[find(&scale, "pika-publisher")]
        .configuration
        .command
        .join(" ");
    assert!(command.contains(&format!("--messages {}", preparation.messages.display())));
}
