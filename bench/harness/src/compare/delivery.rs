//! Running a plan that publishes to a queue or topic: it is cleared before and
//! after, the broker's memory sampled meanwhile, the drain beside the
//! publisher or right after it, and in a fault run the broker restarted
//! once the queue holds half the messages the publisher's runs delivered.
//! The only part of `compare` that talks to a broker.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use predbench_exporter::QueueSpec;

use super::child::run_unmeasured;
use super::measure::measure;
use super::plan::{Fault, Plan};
use super::session::Session;
use crate::record::{BrokerRestarted, RunRecord, RunStatus};

/// How often the queue's depth is looked at during a fault run.
const DEPTH_POLL: Duration = Duration::from_millis(20);

/// How often a topic's records are counted (a client and a metadata
/// request each time).
const TOPIC_POLL: Duration = Duration::from_millis(200);

/// What the harness knows of a kind of broker.
struct Broker {
    /// How often its queue's depth is looked at.
    poll: Duration,
    /// Its processes' name (`/proc/PID/comm`) on this machine: RabbitMQ's
    /// Erlang VM, or the Kafka broker the tests and `compare` run (tansu).
    process: &'static str,
    /// `scripts/NAME.sh start` starts one.
    script: &'static str,
    /// `compare`'s flag naming one.
    flag: &'static str,
}

/// The broker of `queue`.
fn broker_of(queue: &QueueSpec) -> Broker {
    match queue {
        QueueSpec::Amqp(_) => Broker {
            poll: DEPTH_POLL,
            process: "beam.smp",
            script: "rabbitmq",
            flag: "--amqp",
        },
        QueueSpec::Kafka(_) => Broker {
            poll: TOPIC_POLL,
            process: "tansu",
            script: "kafka",
            flag: "--kafka",
        },
    }
}

/// How often the broker's memory is looked at.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// One run of a publisher `plan` (its `run`-th), its queue cleared before
/// and after; its drain beside it or after it; with `restart`, the broker
/// restarted half way.
pub fn run_publisher(
    session: &mut Session,
    plan: &Plan,
    run: u32,
    restart: Option<&Restart>,
) -> anyhow::Result<()> {
    let queue = plan.queue.as_ref().expect("a publisher has a queue");
    let _ = queue.delete();
    let beside = plan
        .follow_up
        .as_deref()
        .filter(|drain| drain.configuration.beside_publisher);
    let broker = BrokerMemory::start(broker_of(queue).process);
    let stop = Arc::new(AtomicBool::new(false));
    let restarting = restart.map(|restart| {
        let log = session.log_dir.join(format!(
            "restart-broker-{}.log",
            plan.configuration.name.replace([' ', '/', ','], "-")
        ));
        restart.start(queue.clone(), log, Arc::clone(&stop))
    });
    let (mut record, drained) = measure_beside(session, plan, beside, queue, run, &stop)?;
    record.broker_peak_rss_bytes = broker.peak();
    if let Some(restarting) = restarting {
        record.broker_restart = restarting
            .join()
            .map_err(|_| anyhow::anyhow!("the broker restart panicked"))??;
    }
    plan.clean_up();
    let delivered = record.status == RunStatus::Ok && record.counts.messages.is_some_and(|m| m > 0);
    session.push(record)?;
    if let Some(drained) = drained {
        beside.expect("a drain beside").clean_up();
        session.push(drained)?;
    }
    match plan.follow_up.as_deref().filter(|_| beside.is_none()) {
        // A fault run's queue is read whatever the publisher said.
        Some(drain) if delivered || restart.is_some() => {
            let record = measure(session, drain, run)?;
            drain.clean_up();
            session.push(record)?;
        }
        Some(drain) => session.say(&format!(
            "not run: {} (its publisher delivered nothing)",
            drain.configuration.name
        )),
        None => {}
    }
    let _ = queue.delete();
    Ok(())
}

/// Measures the publisher, and its drain on a thread beside it from the
/// queue's first message on (it stops after a spell without one).
fn measure_beside(
    session: &Session,
    plan: &Plan,
    beside: Option<&Plan>,
    queue: &QueueSpec,
    run: u32,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<(RunRecord, Option<RunRecord>)> {
    std::thread::scope(|scope| {
        let drain = beside.map(|drain| {
            let stop = Arc::clone(stop);
            scope.spawn(move || -> anyhow::Result<Option<RunRecord>> {
                if queue
                    .wait_for_messages(1, &stop, broker_of(queue).poll)?
                    .is_none()
                {
                    return Ok(None);
                }
                measure(session, drain, run).map(Some)
            })
        });
        let record = measure(session, plan, run);
        stop.store(true, Ordering::Release);
        let drained = match drain {
            Some(handle) => handle
                .join()
                .map_err(|_| anyhow::anyhow!("the drain beside the publisher panicked"))?,
            None => Ok(None),
        };
        Ok((record?, drained?))
    })
}

/// A fault run's broker restart, resolved from the session's records: once
/// the queue holds half the messages the publisher's runs delivered.
pub struct Restart {
    /// Messages in the queue that trigger the restart.
    at_messages: u64,
    /// The shell command that restarts the broker (`--restart-broker`).
    command: String,
}

impl Restart {
    /// The fault run of `fault` as it runs: its restart, and its publisher
    /// and drain named by it; `None` when the publisher delivered no
    /// messages in this session (or cannot run here).
    pub fn resolve(session: &Session, fault: &Fault) -> Option<(Restart, Plan)> {
        if fault.plan.unavailable.is_some() {
            return None;
        }
        let identity = fault.plan.configuration.unfaulted_identity();
        let delivered = session
            .records
            .runs
            .iter()
            .filter(|record| {
                record.status == RunStatus::Ok
                    && record.configuration.unfaulted_identity() == identity
            })
            .filter_map(|record| record.counts.messages)
            .max()
            .filter(|messages| *messages > 1)?;
        let at_messages = delivered / 2;
        let mut plan = fault.plan.clone();
        for configuration in std::iter::once(&mut plan.configuration).chain(
            plan.follow_up
                .as_deref_mut()
                .map(|drain| &mut drain.configuration),
        ) {
            configuration.broker_restart_at = Some(at_messages);
            configuration.name = configuration.rendered_name();
        }
        let restart = Restart {
            at_messages,
            command: fault.restart.clone(),
        };
        Some((restart, plan))
    }

    /// Watches the queue of `target` on a thread of its own and restarts the
    /// broker once it holds `at_messages`; the thread answers when the
    /// restart is done, or with nothing once `stop` is set first.
    fn start(
        &self,
        target: QueueSpec,
        log: PathBuf,
        stop: Arc<AtomicBool>,
    ) -> JoinHandle<anyhow::Result<Option<BrokerRestarted>>> {
        let at_messages = self.at_messages;
        let command = self.command.clone();
        let started = Instant::now();
        std::thread::spawn(move || {
            let poll = broker_of(&target).poll;
            let Some(held) = target.wait_for_messages(at_messages, &stop, poll)? else {
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

/// Marks the queue plans whose broker does not answer, with what to do.
pub fn mark_missing_broker(plans: &mut [Plan]) {
    for plan in plans.iter_mut() {
        if let Some(target) = &plan.queue {
            let Broker { script, flag, .. } = broker_of(target);
            plan.unavailable = target.delete().err().map(|error| {
                format!(
                    "{error}; start a broker with `bash scripts/{script}.sh start` or give {flag}"
                )
            });
        }
    }
}

/// The broker's memory while a run publishes to it: the resident set of its
/// processes (RabbitMQ's `beam.smp`, Kafka's `tansu`) sampled from `/proc`
/// on a thread of its own. Only a broker on this machine can be seen.
struct BrokerMemory {
    stop: Arc<AtomicBool>,
    sampler: JoinHandle<Option<u64>>,
}

impl BrokerMemory {
    /// Starts sampling.
    fn start(process: &'static str) -> BrokerMemory {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let sampler = std::thread::spawn(move || {
            let mut peak = None;
            loop {
                if let Some(now) = broker_rss_bytes(process) {
                    peak = Some(peak.map_or(now, |peak: u64| peak.max(now)));
                }
                if flag.load(Ordering::Acquire) {
                    return peak;
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        });
        BrokerMemory { stop, sampler }
    }

    /// Stops sampling; the largest resident set seen, in bytes, if a broker ran here.
    fn peak(self) -> Option<u64> {
        self.stop.store(true, Ordering::Release);
        self.sampler.join().ok().flatten()
    }
}

/// Resident bytes of every process called `process` on this machine now;
/// `None` when there is none.
fn broker_rss_bytes(process: &str) -> Option<u64> {
    let mut total = None;
    for path in crate::machine::processes_named(process) {
        let Ok(status) = fs::read_to_string(path.join("status")) else {
            continue;
        };
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            });
        if let Some(kib) = kib {
            total = Some(total.unwrap_or(0) + kib * 1024);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sampler_stops_and_sees_no_broker_where_none_runs_or_a_positive_size() {
        let sampler = BrokerMemory::start("beam.smp");
        std::thread::sleep(Duration::from_millis(50));
        // With the tests' broker running its size is positive; without, nothing.
        match (sampler.peak(), broker_rss_bytes("beam.smp")) {
            (Some(peak), _) => assert!(peak > 1 << 20, "{peak}"),
            (None, now) => assert_eq!(now, None),
        }
    }
}
