//! Delivery to a queue: the queues predbench's exports publish to (once per
//! confirm window and queue type), their baselines (the same messages
//! pre-serialized, made once and published by `predbench publish`), the
//! publishers a team would write (the seed's job then pika, Spark from its
//! executors), the drain that reads every queue back, and the fault runs
//! with the broker restarted half way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predbench::args::{Command, DrainArgs, ExportArgs, Output, PublishArgs, VerifyArgs};
use predbench_common::Shard;
use predbench_exporter::queue::{AmqpTarget, QueueType};
use predbench_exporter::{Grouping, Strategy};

use super::{Fault, Plan, Planner, Preparation};
use crate::peers::{PeerRole, SEED_JOB, peer_named};
use crate::record::{Configuration, RunKind, SinkKind};

/// A queue an export or baseline publishes to: its confirm window and type.
#[derive(Debug, Clone, Copy)]
pub(super) struct QueueChoice {
    pub(super) window: usize,
    /// `None`: not declared, the broker's default (classic).
    pub(super) queue_type: Option<QueueType>,
}

/// Seconds without a message after which a drain stops (beside a publisher,
/// its only way to know the end; after one, the fallback).
const DRAIN_IDLE_SECONDS: u64 = 10;

impl Planner<'_> {
    /// Every confirm window on every queue type `compare` measures.
    pub(super) fn queue_choices(&self) -> Vec<QueueChoice> {
        let delivery = &self.args.delivery;
        delivery
            .queue_types
            .iter()
            .flat_map(|&queue_type| {
                delivery
                    .confirm_windows
                    .iter()
                    .map(move |&window| QueueChoice {
                        window,
                        queue_type: (queue_type != QueueType::Classic).then_some(queue_type),
                    })
            })
            .collect()
    }

    /// The queue `predbench-compare-NAME` (`-quorum` for a quorum queue) on
    /// the `--amqp` broker: its URL and target.
    pub(super) fn queue_target(
        &self,
        name: &str,
        queue_type: Option<QueueType>,
    ) -> (String, AmqpTarget) {
        let amqp = &self.args.delivery.amqp;
        let mut url = format!(
            "{amqp}{}queue=predbench-compare-{name}",
            if amqp.contains('?') { "&" } else { "?" }
        );
        if let Some(queue_type) = queue_type {
            url.push_str(&format!("-{queue_type}&queue_type={queue_type}"));
        }
        let target = AmqpTarget::parse(&url).expect("--amqp is checked before planning");
        (url, target)
    }

    /// The baselines of every grouping: its messages made once (unmeasured,
    /// a share of them with `--baseline-passes`), then published
    /// pre-serialized once per queue.
    pub(super) fn baselines(
        &self,
        rows: u64,
        dataset: &Path,
        label: &str,
    ) -> (Vec<Plan>, Vec<Preparation>) {
        let delivery = &self.args.delivery;
        if delivery.skip_baselines {
            return (Vec::new(), Vec::new());
        }
        let (mut plans, mut preparations) = (Vec::new(), Vec::new());
        for &grouping in &self.args.groupings {
            let name = format!("baseline-messages-{grouping}");
            // A share of the messages, published over and over, is a
            // directory of one part (an export shard's output).
            let share = self.baseline_share();
            let messages = self.data(match share {
                Some(shard) => format!("{name}-{rows}-shard-0-of-{}", shard.count),
                None => format!("{name}-{rows}.parquet"),
            });
            let command = self.child(&ExportArgs {
                sink: format!("parquet:{}", messages.display()),
                shard: share,
                ..self.export_args(dataset, Strategy::Rayon, grouping)
            });
            plans.extend(self.publish(rows, &messages, grouping, label));
            preparations.push(Preparation {
                name,
                messages,
                command,
                leftovers: None,
            });
        }
        (plans, preparations)
    }

    /// The share of the messages a baseline publishes `--baseline-passes` times.
    fn baseline_share(&self) -> Option<Shard> {
        let passes = self.args.delivery.baseline_passes;
        (passes > 1).then_some(Shard {
            index: 0,
            count: passes,
        })
    }

    /// The queue's baseline: `predbench publish` of `messages` (made with
    /// `grouping`), already serialized, with the queue sink's settings, once
    /// per confirm window and queue type.
    fn publish(&self, rows: u64, messages: &Path, grouping: Grouping, label: &str) -> Vec<Plan> {
        let delivery = &self.args.delivery;
        self.queue_choices()
            .into_iter()
            .map(|QueueChoice { window, queue_type }| {
                let name = format!("baseline-{grouping}-w{window}");
                let (url, target) = self.queue_target(&name, queue_type);
                let publish = PublishArgs {
                    confirm_window: window,
                    repeat: delivery.baseline_passes,
                    output: Output {
                        quiet: true,
                        ..Output::default()
                    },
                    ..PublishArgs::with_paths(messages, &url)
                };
                let mut configuration =
                    Configuration::new(RunKind::Publish, label, rows, self.args.seed, self.threads);
                configuration.sink = Some(SinkKind::Amqp);
                configuration.grouping = Some(grouping);
                configuration.group_size = Some(self.args.group_size);
                configuration.confirm_window = Some(window);
                configuration.queue_type = queue_type;
                configuration.max_message_bytes = self.packing_budget(grouping);
                configuration.shard = self.baseline_share();
                let mut plan = self.predbench_plan(configuration, Command::Publish(publish), None);
                if delivery.drain_beside {
                    // Its queue stays as shallow as the export's it is the
                    // ceiling of; what it drains repeats, so is not verified.
                    let drained = self.data(format!("drained-{name}"));
                    let drain = self.drain(&plan.configuration, &url, &drained, false);
                    plan.follow_up = Some(Box::new(drain));
                }
                plan.queue = Some(target);
                plan
            })
            .collect()
    }

    /// `predbench drain` of the queue at `url` a run of `publisher` fills,
    /// into the directory `output`: beside it (`--drain-beside`), until idle,
    /// or right after it, until the queue is empty.
    pub(super) fn drain(
        &self,
        publisher: &Configuration,
        url: &str,
        output: &Path,
        any_order: bool,
    ) -> Plan {
        let beside = self.args.delivery.drain_beside;
        let arguments = DrainArgs {
            until_empty: !beside,
            idle_seconds: DRAIN_IDLE_SECONDS,
            force: true,
            any_order,
            compression: self.args.delivery.drain_compression,
            output: Output {
                quiet: true,
                ..Output::default()
            },
            ..DrainArgs::with_paths(url, output)
        };
        let configuration = Configuration {
            kind: RunKind::Drain,
            strategy: None,
            beside_publisher: beside,
            drains_baseline: publisher.is_queue_baseline(),
            any_order,
            ..publisher.clone()
        };
        let scratch = Some(output.to_path_buf());
        let mut plan = self.predbench_plan(configuration, Command::Drain(arguments), scratch);
        plan.scratch_may_be_directory = true;
        plan
    }

    /// The delivery peers `--peers` asked for, each publishing to its own
    /// queue, drained and verified like predbench's exports; and, when a
    /// peer publishes the seed's job's message file, the unmeasured run of
    /// the seed's job that makes it.
    pub(super) fn delivery_peers(
        &self,
        rows: u64,
        dataset: &Path,
        label: &str,
    ) -> (Vec<Plan>, Option<Preparation>) {
        let seed_job = peer_named(SEED_JOB).expect("the seed's job is a peer");
        let messages = self.data(format!("seed-job-messages-{rows}"));
        let mut plans = Vec::new();
        let mut reads_messages = false;
        for peer in self.peers.iter().filter(|peer| peer.role.publishes()) {
            let (url, target) = self.queue_target(&format!("peer-{}", peer.name), None);
            let mut arguments = match peer.role {
                PeerRole::MessagePublisher => {
                    vec!["--messages".to_string(), messages.display().to_string()]
                }
                _ => vec![
                    "--input".to_string(),
                    dataset.display().to_string(),
                    "--group-size".to_string(),
                    self.args.group_size.to_string(),
                ],
            };
            arguments.extend(["--amqp".to_string(), url.clone()]);
            let command = self
                .peer_environment
                .command(peer, &arguments, self.threads);
            let kind = match peer.role {
                PeerRole::MessagePublisher => RunKind::Publish,
                _ => RunKind::Export,
            };
            let mut configuration =
                Configuration::new(kind, label, rows, self.args.seed, self.threads);
            configuration.grouping = Some(Grouping::Modulo);
            configuration.sink = Some(SinkKind::Amqp);
            configuration.group_size = Some(self.args.group_size);
            configuration.peer = Some(peer.name.to_string());
            let mut plan = Plan::new(configuration.finish(command), None);
            plan.unavailable = self.peer_environment.missing(peer);
            if peer.role == PeerRole::MessagePublisher {
                let why = self.peer_environment.missing(seed_job);
                reads_messages |= plan.unavailable.is_none() && why.is_none();
                plan.unavailable = plan.unavailable.or(why.map(|why| {
                    format!("it publishes the seed's job's messages, and {SEED_JOB} cannot run here: {why}")
                }));
            }
            plan.leftovers = self.peer_environment.local_dir(peer);
            plan.time_limit = self.args.peers.peer_timeout.map(Duration::from_secs);
            let drained = self.data(format!("drained-peer-{}", peer.name));
            // Spark's tasks publish side by side: read in any order.
            let any_order = !peer.publishes_in_order;
            let mut drain = self.drain(&plan.configuration, &url, &drained, any_order);
            if !self.args.no_verify {
                // Spark numbers rows its own way.
                drain.verify = Some(self.child(&VerifyArgs {
                    any_grouping: true,
                    ..self.verify_args(dataset, &drained)
                }));
            }
            plan.follow_up = Some(Box::new(drain));
            plan.queue = Some(target);
            plans.push(plan);
        }
        let preparation = reads_messages.then(|| self.seed_job_messages(dataset, messages));
        (plans, preparation)
    }

    /// The seed's job writing its message file for the pika publishers.
    fn seed_job_messages(&self, dataset: &Path, messages: PathBuf) -> Preparation {
        let seed_job = peer_named(SEED_JOB).expect("the seed's job is a peer");
        let command = self.peer_environment.command(
            seed_job,
            &[
                "--input".to_string(),
                dataset.display().to_string(),
                "--output".to_string(),
                messages.display().to_string(),
                "--group-size".to_string(),
                self.args.group_size.to_string(),
            ],
            self.threads,
        );
        Preparation {
            name: "seed-job-messages".to_string(),
            messages,
            command,
            leftovers: self.peer_environment.local_dir(seed_job),
        }
    }

    /// The fault runs `--restart-broker` asks for: every publisher to a
    /// classic queue (predbench's exports and the delivery peers; the
    /// baselines are ceilings, not publishers anyone runs) once more, its
    /// drain after it, until the queue is empty.
    pub(super) fn faults(&self, exports: &[Plan]) -> Vec<Fault> {
        let Some(restart) = &self.args.delivery.restart_broker else {
            return Vec::new();
        };
        exports
            .iter()
            .filter(|plan| {
                let configuration = &plan.configuration;
                plan.follow_up.is_some()
                    && configuration.queue_type.is_none()
                    && !configuration.is_queue_baseline()
            })
            .map(|plan| Fault {
                plan: self.fault_plan(plan),
                restart: restart.clone(),
            })
            .collect()
    }

    /// `plan` as its fault run: the publisher as it is, its drain after it.
    fn fault_plan(&self, plan: &Plan) -> Plan {
        let mut fault = plan.clone();
        fault.configuration.beside_publisher = false;
        if let Some(drain) = fault.follow_up.as_deref_mut() {
            drain.configuration.beside_publisher = false;
            if let Some(Command::Drain(arguments)) = &drain.arguments {
                let after = Command::Drain(DrainArgs {
                    until_empty: true,
                    ..arguments.clone()
                });
                drain.configuration.command = self.child(&after);
                drain.arguments = Some(after);
            }
            drain.configuration.name = drain.configuration.rendered_name();
        }
        fault.configuration.name = fault.configuration.rendered_name();
        fault
    }
}
