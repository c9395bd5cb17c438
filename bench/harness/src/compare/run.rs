//! Running a [`SessionPlan`]: per dataset size the generators first (one of
//! them makes the dataset when it is missing), then the disk floors, the queue
//! baselines' and the publishers' messages and every export, R times interleaved (run 1 of every
//! configuration, then run 2, ...) so a slow spell of this shared machine does
//! not land on one configuration; then the edge cases.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use predbench_exporter::Dataset;
use predbench_exporter::queue::{AmqpTarget, delete_queue, wait_for_messages};

use super::broker_memory::BrokerMemory;
use super::child::{log_tail, run_measured};
use super::datasets::{DatasetChoice, dataset_record, remove_dataset, remove_output};
use super::measure::measure;
use super::peers::PeerEnvironment;
use super::plan::{EdgeCasePlan, Plan, Planner, ScalePlan};
use super::session::Session;
use crate::cli::CompareArgs;
use crate::progress::progress_bar;
use crate::record::{BrokerRestarted, DATASET_SEED, RunStatus};

/// Everything a run of the plan needs besides the plan.
pub struct Runner<'a> {
    /// `compare`'s flags.
    pub args: &'a CompareArgs,
    /// What `--dataset` asked for.
    pub choice: &'a DatasetChoice,
    /// Makes the plans only known once a dataset exists (the disk floors).
    pub planner: &'a Planner<'a>,
    /// Where the peers run (for the seed generator's files check).
    pub peer_environment: &'a PeerEnvironment,
}

const BAR_TEMPLATE: &str = "{bar:30} {pos}/{len} runs, {elapsed_precise} {msg}";

impl Runner<'_> {
    /// Measures one dataset size.
    pub fn scale(&self, scale: &ScalePlan, session: &mut Session) -> anyhow::Result<()> {
        let args = self.args;
        let runs = args.runs as usize;
        let floors = if scale.disk_floors { 2 } else { 0 };
        session.bar = progress_bar(
            ((scale.generators.len() + scale.exports.len() + floors) * runs) as u64,
            BAR_TEMPLATE,
            session.quiet,
        );
        let mut ready = self.choice.is_ready(&scale.dataset, scale.rows, args.seed);
        if ready && !matches!(self.choice, DatasetChoice::Existing(_)) {
            session.say(&format!("reusing {} (it matches)", scale.dataset.display()));
        }
        // The measured generator runs double as the preparation.
        for run in 1..=args.runs {
            for plan in &scale.generators {
                let record = measure(session, plan, run)?;
                let ok = record.status == RunStatus::Ok;
                session.push(record)?;
                let scratch = plan.scratch.as_ref().expect("a generator writes a dataset");
                let makes_dataset = self.choice.made_by(plan.configuration.peer.as_deref());
                if makes_dataset && !ready && ok {
                    remove_dataset(&scale.dataset);
                    fs::rename(scratch, &scale.dataset).with_context(|| {
                        format!(
                            "cannot move {} to {}",
                            scratch.display(),
                            scale.dataset.display()
                        )
                    })?;
                    ready = true;
                } else {
                    remove_dataset(scratch);
                }
            }
        }
        if !ready {
            self.prepare_dataset(scale, session)?;
        }
        let dataset = Dataset::open(&scale.dataset)
            .with_context(|| format!("cannot read dataset {}", scale.dataset.display()))?;
        session.note_dataset(dataset_record(&scale.label, &dataset))?;
        let mut exports = Vec::new();
        if scale.disk_floors {
            exports.extend(
                self.planner
                    .disk_floors(scale.rows, dataset.bytes, &scale.label),
            );
        }
        exports.extend(scale.exports.iter().cloned());
        if *self.choice == DatasetChoice::Seed {
            if let Some(observation) =
                repeated_files_observation(&scale.dataset, self.peer_environment)
            {
                for plan in &mut exports {
                    plan.observations.push(observation.clone());
                }
            }
        }
        for preparation in &scale.preparations {
            let log = session
                .log_dir
                .join(format!("prepare-{}.log", preparation.name));
            remove_output(&preparation.messages, true);
            let made = run_unmeasured(&preparation.command, &log);
            if let Some(leftovers) = &preparation.leftovers {
                let _ = fs::remove_dir_all(leftovers);
            }
            made.with_context(|| format!("cannot prepare {}", preparation.name))?;
        }
        mark_missing_broker(&mut exports);
        let peer_runs = args.peer_runs.unwrap_or(args.runs);
        for run in 1..=args.runs {
            for plan in &exports {
                if plan.configuration.peer.is_none() || run <= peer_runs {
                    run_once(session, plan, run, None)?;
                }
            }
        }
        if let Some(command) = &args.restart_broker {
            let publishers = exports.iter().filter(|plan| {
                let configuration = &plan.configuration;
                // The baselines are ceilings, not publishers anyone runs.
                plan.follow_up.is_some()
                    && configuration.queue_type.is_none()
                    && !configuration.is_queue_baseline()
            });
            for plan in publishers {
                if let Some(fault) = BrokerRestart::planned(session, plan, command) {
                    run_once(session, &fault.plan(plan), 1, Some(&fault))?;
                }
            }
        }
        for preparation in &scale.preparations {
            remove_output(&preparation.messages, true);
        }
        if args.clean && !matches!(self.choice, DatasetChoice::Existing(_)) {
            remove_dataset(&scale.dataset);
        }
        Ok(())
    }

    /// Makes a missing dataset without measuring it (with `--skip-generate`).
    fn prepare_dataset(&self, scale: &ScalePlan, session: &Session) -> anyhow::Result<()> {
        session.say(&format!("generating {}", scale.dataset.display()));
        let log = session.log_dir.join(format!("prepare-{}.log", scale.rows));
        if *self.choice == DatasetChoice::Seed {
            let plan = self.planner.seed_generator(scale.rows, DATASET_SEED);
            if let Some(why) = plan.unavailable {
                anyhow::bail!("cannot make the seed's dataset: {why}");
            }
            let scratch = plan.scratch.expect("a generator writes a dataset");
            remove_dataset(&scratch);
            run_unmeasured(&plan.configuration.command, &log)
                .context("the seed's generator failed")?;
            remove_dataset(&scale.dataset);
            fs::rename(&scratch, &scale.dataset).with_context(|| {
                format!(
                    "cannot move {} to {}",
                    scratch.display(),
                    scale.dataset.display()
                )
            })
        } else {
            let command = self.planner.prepare_command(&scale.dataset, scale.rows);
            run_unmeasured(&command, &log)
                .with_context(|| format!("cannot generate {}", scale.dataset.display()))
        }
    }

    /// Runs every exporting peer and `rayon` once on a small table with NaN
    /// and nulls, each output verified the Spark way: records which
    /// conventions each one follows instead of hiding them.
    pub fn edge_cases(&self, edge: &EdgeCasePlan, session: &mut Session) -> anyhow::Result<()> {
        session.say("edge cases: NaN and nulls in a small table");
        run_unmeasured(
            &edge.generate,
            &session.log_dir.join("prepare-edge-cases.log"),
        )
        .with_context(|| format!("cannot generate {}", edge.dataset.display()))?;
        let dataset = Dataset::open(&edge.dataset)
            .with_context(|| format!("cannot read dataset {}", edge.dataset.display()))?;
        session.note_dataset(dataset_record(crate::record::DATASET_EDGE_CASES, &dataset))?;
        session.bar = progress_bar(edge.exports.len() as u64, BAR_TEMPLATE, session.quiet);
        for plan in &edge.exports {
            run_once(session, plan, 1, None)?;
        }
        remove_dataset(&edge.dataset);
        Ok(())
    }
}

/// A fault run of a publisher: the broker restarted once the queue holds
/// half the messages the publisher's runs delivered in this session.
struct BrokerRestart {
    /// Messages in the queue that trigger the restart.
    at_messages: u64,
    /// The shell command that restarts the broker (`--restart-broker`).
    command: String,
    /// Messages the publisher's runs delivered in this session: what the
    /// drain waits for when the fault run cannot say.
    expected_messages: u64,
}

/// How often the queue's depth is looked at during a fault run.
const DEPTH_POLL: Duration = Duration::from_millis(20);

impl BrokerRestart {
    /// The fault run of `plan`, when it delivered messages in this session.
    fn planned(session: &Session, plan: &Plan, command: &str) -> Option<BrokerRestart> {
        if plan.unavailable.is_some() {
            return None;
        }
        let identity = plan.configuration.identity();
        let expected_messages = session
            .records
            .runs
            .iter()
            .filter(|record| {
                record.status == RunStatus::Ok && record.configuration.identity() == identity
            })
            .filter_map(|record| record.messages)
            .max()
            .filter(|messages| *messages > 1)?;
        Some(BrokerRestart {
            at_messages: expected_messages / 2,
            command: command.to_string(),
            expected_messages,
        })
    }

    /// `plan` (and its drain) as the fault run's configuration.
    fn plan(&self, plan: &Plan) -> Plan {
        // The queue's depth triggers the restart: its drain runs after.
        let mark = |plan: &mut Plan| {
            let configuration = &mut plan.configuration;
            configuration.broker_restart_at = Some(self.at_messages);
            configuration.beside_publisher = false;
            configuration.name = configuration.rendered_name();
        };
        let mut fault = plan.clone();
        mark(&mut fault);
        if let Some(follow_up) = fault.follow_up.as_deref_mut() {
            mark(follow_up);
        }
        fault
    }

    /// Watches the queue of `target` on a thread of its own and restarts the
    /// broker once it holds `at_messages`; the thread answers when the
    /// restart is done, or with nothing once `stop` is set first.
    fn start(
        &self,
        target: AmqpTarget,
        log: PathBuf,
        stop: Arc<AtomicBool>,
    ) -> std::thread::JoinHandle<anyhow::Result<Option<BrokerRestarted>>> {
        let at_messages = self.at_messages;
        let command = self.command.clone();
        let started = Instant::now();
        std::thread::spawn(move || {
            let Some(held) = wait_for_messages(&target, at_messages, &stop, DEPTH_POLL)? else {
                return Ok(None);
            };
            let began = started.elapsed().as_secs_f64();
            let words = vec!["sh".to_string(), "-c".to_string(), command];
            run_unmeasured(&words, &log).context("cannot restart the broker")?;
            Ok(Some(BrokerRestarted {
                began_seconds: began,
                messages_in_queue: held,
                took_seconds: started.elapsed().as_secs_f64() - began,
            }))
        })
    }
}

/// One run of a plan with its queue cleared before and after and its output
/// deleted; its follow-up (the drain of the queue it fills) runs after it or,
/// with `--drain-beside`, beside it. A fault run restarts the broker
/// meanwhile, and its queue is drained whatever the publisher said. The
/// broker's memory is sampled while a queue is published to.
fn run_once(
    session: &mut Session,
    plan: &Plan,
    run: u32,
    fault: Option<&BrokerRestart>,
) -> anyhow::Result<()> {
    if let Some(queue) = &plan.queue {
        let _ = delete_queue(queue);
    }
    let beside = plan
        .follow_up
        .as_deref()
        .filter(|follow_up| follow_up.configuration.beside_publisher)
        .zip(plan.queue.as_ref());
    let broker = plan.queue.as_ref().map(|_| BrokerMemory::start());
    let stop = Arc::new(AtomicBool::new(false));
    let restart = fault.zip(plan.queue.clone()).map(|(fault, target)| {
        let log = session.log_dir.join(format!(
            "restart-broker-{}.log",
            plan.configuration.name.replace([' ', '/', ','], "-")
        ));
        fault.start(target, log, Arc::clone(&stop))
    });
    let shared: &Session = session;
    let (record, drained) = std::thread::scope(|scope| {
        let drain = beside.map(|(follow_up, target)| {
            let stop = Arc::clone(&stop);
            scope.spawn(
                move || -> anyhow::Result<Option<crate::record::RunRecord>> {
                    // From the first message on: the drain stops after 10 s without one.
                    if wait_for_messages(target, 1, &stop, DEPTH_POLL)?.is_none() {
                        return Ok(None);
                    }
                    measure(shared, follow_up, run).map(Some)
                },
            )
        });
        let record = measure(shared, plan, run);
        stop.store(true, Ordering::Release);
        let drained = match drain {
            Some(handle) => handle
                .join()
                .map_err(|_| anyhow::anyhow!("the drain beside the publisher panicked"))?,
            None => Ok(None),
        };
        anyhow::Ok((record, drained))
    })?;
    let mut record = record?;
    let drained = drained?;
    record.broker_peak_rss_bytes = broker.and_then(BrokerMemory::peak);
    if let Some(restart) = restart {
        record.broker_restart = restart
            .join()
            .map_err(|_| anyhow::anyhow!("the broker restart panicked"))??;
    }
    clean_up(plan);
    let messages = record
        .messages
        .filter(|messages| *messages > 0)
        .or(fault.map(|fault| fault.expected_messages));
    let follow_up = plan
        .follow_up
        .as_deref()
        .filter(|_| beside.is_none())
        .zip(messages);
    session.push(record)?;
    if let Some(drained) = drained {
        clean_up(plan.follow_up.as_deref().expect("a drain beside"));
        session.push(drained)?;
    }
    if let Some((follow_up, messages)) = follow_up {
        let mut follow_up = follow_up.clone();
        follow_up
            .configuration
            .command
            .extend(["--last-group".to_string(), (messages - 1).to_string()]);
        let record = measure(session, &follow_up, run)?;
        clean_up(&follow_up);
        session.push(record)?;
    }
    if let Some(queue) = &plan.queue {
        let _ = delete_queue(queue);
    }
    Ok(())
}

/// Deletes what a run of `plan` left: its output, a peer's scratch directory.
fn clean_up(plan: &Plan) {
    if let Some(scratch) = &plan.scratch {
        remove_output(scratch, plan.scratch_may_be_directory);
    }
    if let Some(leftovers) = &plan.leftovers {
        let _ = fs::remove_dir_all(leftovers);
    }
}

/// Marks the queue plans whose broker does not answer, with what to do.
fn mark_missing_broker(plans: &mut [Plan]) {
    for plan in plans.iter_mut() {
        if let Some(target) = &plan.queue {
            plan.unavailable = broker_missing(target);
        }
    }
}

/// Why the broker of `target` cannot be used, with what to do; `None` when it answers.
fn broker_missing(target: &AmqpTarget) -> Option<String> {
    delete_queue(target).err().map(|error| {
        format!("{error}; start a broker with `bash scripts/rabbitmq.sh start` or give --amqp")
    })
}

/// Runs a command that prepares something without being measured; its
/// failure ends the comparison.
fn run_unmeasured(command: &[String], log: &Path) -> anyhow::Result<()> {
    let measurement = run_measured(&command[0], &command[1..], log, None)?;
    if !measurement.exit.success() {
        anyhow::bail!("{}: {}", measurement.exit, log_tail(log, 5));
    }
    Ok(())
}

/// What the seed generator's unseeded workers did to `dataset`, in one
/// sentence; nothing when no file repeats another.
fn repeated_files_observation(dataset: &Path, environment: &PeerEnvironment) -> Option<String> {
    let command = environment.repeated_files_command(dataset);
    let output = std::process::Command::new(&command[0])
        .args(&command[1..])
        .output();
    let parsed = output
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| serde_json::from_slice::<serde_json::Value>(&output.stdout).ok());
    match parsed {
        Some(found) if found["repeating"] == 0 => None,
        Some(found) => Some(format!(
            "{} of the {} files of the seed generator's dataset repeat the class columns of another file (only the ids differ): its forked workers start from the same unseeded numpy state",
            found["repeating"], found["files"]
        )),
        None => Some("could not check the seed generator's files for repeated values (scripts/peers/repeated_files.py failed)".to_string()),
    }
}
