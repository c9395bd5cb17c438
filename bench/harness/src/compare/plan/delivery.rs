//! Delivery to a queue: the RabbitMQ queues and Kafka topics predbench's
//! exports publish to (once per confirm window and queue type; on Kafka
//! also one prediction a record), their baselines (the same messages
//! pre-serialized, made once and published by `predbench publish`), the
//! drain that reads every queue back, and the fault runs with the broker
//! restarted half way. The publishers a team would write are in
//! [`super::publishers`].

use std::path::{Path, PathBuf};

use predbench::args::{Command, DrainArgs, ExportArgs, Output, PublishArgs};
use predbench_common::Shard;
use predbench_exporter::QueueSpec;
use predbench_exporter::queue::QueueType;
use predbench_exporter::{Grouping, Strategy};

use super::{Fault, Plan, Planner, Preparation};
use crate::record::{Configuration, RunKind, SinkKind};

/// A queue an export or baseline publishes to: its broker, confirm window,
/// queue type and whether it carries one prediction a record.
#[derive(Debug, Clone, Copy)]
pub(super) struct QueueChoice {
    /// `SinkKind::Amqp` or `SinkKind::Kafka`.
    pub(super) sink: SinkKind,
    pub(super) window: usize,
    /// `None`: not declared, the broker's default (classic; a Kafka topic).
    pub(super) queue_type: Option<QueueType>,
    /// One prediction a record (K = 1, `--kafka-per-prediction`) instead of
    /// the session's K.
    pub(super) per_prediction: bool,
}

impl QueueChoice {
    /// Whether messages of `grouping` go to this queue (packed messages are
    /// filled to a size, never one prediction a record).
    pub(super) fn carries(&self, grouping: Grouping) -> bool {
        !self.per_prediction || grouping != Grouping::Packed
    }

    /// The suffix of its queue's name: `w1024`, `w1024-k1`.
    pub(super) fn name(&self) -> String {
        let per_prediction = if self.per_prediction { "-k1" } else { "" };
        format!("w{}{per_prediction}", self.window)
    }
}

/// Seconds without a message after which a drain stops (beside a publisher,
/// its only way to know the end; after one, the fallback).
const DRAIN_IDLE_SECONDS: u64 = 10;

impl Planner<'_> {
    /// The brokers `--sinks` asks for, RabbitMQ first.
    pub(super) fn queue_sinks(&self) -> Vec<SinkKind> {
        [SinkKind::Amqp, SinkKind::Kafka]
            .into_iter()
            .filter(|sink| self.args.sinks.contains(sink))
            .collect()
    }

    /// Every confirm window on every queue type `compare` measures on the
    /// broker of `sink` (a Kafka topic has no type; with
    /// `--kafka-per-prediction`, each window once more one prediction a record).
    pub(super) fn queue_choices(&self, sink: SinkKind) -> Vec<QueueChoice> {
        let delivery = &self.args.delivery;
        let (queue_types, per_prediction) = match sink {
            SinkKind::Kafka => (
                vec![None],
                if delivery.kafka_per_prediction {
                    vec![false, true]
                } else {
                    vec![false]
                },
            ),
            _ => (
                delivery
                    .queue_types
                    .iter()
                    .map(|&queue_type| (queue_type != QueueType::Classic).then_some(queue_type))
                    .collect(),
                vec![false],
            ),
        };
        let mut choices = Vec::new();
        for &per_prediction in &per_prediction {
            for &queue_type in &queue_types {
                for &window in &delivery.confirm_windows {
                    choices.push(QueueChoice {
                        sink,
                        window,
                        queue_type,
                        per_prediction,
                    });
                }
            }
        }
        choices
    }

    /// The queue `predbench-compare-NAME` (`-quorum` for a quorum queue) on
    /// the `--amqp` broker, or the topic `predbench-compare-NAME` on the
    /// `--kafka` cluster: its URL and target.
    pub(super) fn queue_target(
        &self,
        name: &str,
        sink: SinkKind,
        queue_type: Option<QueueType>,
    ) -> (String, QueueSpec) {
        let delivery = &self.args.delivery;
        let url = if sink == SinkKind::Kafka {
            format!(
                "{}/predbench-compare-{name}?partitions={}&compression={}",
                delivery.kafka.trim_end_matches('/'),
                delivery.kafka_partitions,
                delivery.kafka_compression
            )
        } else {
            let amqp = &delivery.amqp;
            let mut url = format!(
                "{amqp}{}queue=predbench-compare-{name}",
                if amqp.contains('?') { "&" } else { "?" }
            );
            if let Some(queue_type) = queue_type {
                url.push_str(&format!("-{queue_type}&queue_type={queue_type}"));
            }
            url
        };
        let target =
            QueueSpec::parse(&url).expect("--amqp and --kafka are checked before planning");
        (url, target)
    }

    /// The typed fields every run on the queue of `choice` records.
    pub(super) fn describe_queue(&self, configuration: &mut Configuration, choice: QueueChoice) {
        configuration.sink = Some(choice.sink);
        configuration.confirm_window = Some(choice.window);
        configuration.queue_type = choice.queue_type;
        if choice.per_prediction {
            configuration.group_size = Some(1);
        }
        self.describe_broker(configuration, choice.sink);
    }

    /// The topic's partitions and codec on a Kafka run's configuration.
    pub(super) fn describe_broker(&self, configuration: &mut Configuration, sink: SinkKind) {
        if sink == SinkKind::Kafka {
            configuration.partitions = Some(self.args.delivery.kafka_partitions);
            configuration.record_compression = Some(self.args.delivery.kafka_compression.clone());
        }
    }

    /// The baselines of every grouping: its messages made once (unmeasured,
    /// a share of them with `--baseline-passes`; once more at K = 1 for the
    /// records of one prediction), then published pre-serialized once per queue.
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
        let choices: Vec<QueueChoice> = self
            .queue_sinks()
            .into_iter()
            .flat_map(|sink| self.queue_choices(sink))
            .collect();
        let (mut plans, mut preparations) = (Vec::new(), Vec::new());
        for &grouping in &self.args.groupings {
            for per_prediction in [false, true] {
                let publishes: Vec<QueueChoice> = choices
                    .iter()
                    .copied()
                    .filter(|choice| choice.per_prediction == per_prediction)
                    .filter(|choice| choice.carries(grouping))
                    .collect();
                if publishes.is_empty() {
                    continue;
                }
                let k1 = if per_prediction { "-k1" } else { "" };
                let name = format!("baseline-messages-{grouping}{k1}");
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
                    group_size: if per_prediction {
                        1
                    } else {
                        self.args.group_size
                    },
                    ..self.export_args(dataset, Strategy::Rayon, grouping)
                });
                for choice in publishes {
                    plans.push(self.publish(rows, &messages, grouping, label, choice));
                }
                preparations.push(Preparation {
                    name,
                    messages,
                    command,
                    leftovers: None,
                });
            }
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
    /// `grouping`), already serialized, with the queue sink's settings, on
    /// the queue of `choice`.
    fn publish(
        &self,
        rows: u64,
        messages: &Path,
        grouping: Grouping,
        label: &str,
        choice: QueueChoice,
    ) -> Plan {
        let delivery = &self.args.delivery;
        let name = format!("baseline-{grouping}-{}", choice.name());
        let (url, target) = self.queue_target(&name, choice.sink, choice.queue_type);
        let publish = PublishArgs {
            confirm_window: choice.window,
            repeat: delivery.baseline_passes,
            output: Output {
                quiet: true,
                ..Output::default()
            },
            ..PublishArgs::with_paths(messages, &url)
        };
        let mut configuration =
            Configuration::new(RunKind::Publish, label, rows, self.args.seed, self.threads);
        configuration.grouping = Some(grouping);
        configuration.group_size = Some(self.args.group_size);
        self.describe_queue(&mut configuration, choice);
        configuration.max_message_bytes = self.packing_budget(grouping);
        configuration.shard = self.baseline_share();
        let mut plan = self.predbench_plan(configuration, Command::Publish(publish), None);
        if delivery.drain_beside {
            // Its queue stays as shallow as the export's it is the
            // ceiling of; what it drains repeats, so is not verified.
            let drained = self.drained(choice.sink, &name);
            let drain = self.drain(&plan.configuration, &url, &drained, false);
            plan.follow_up = Some(Box::new(drain));
        }
        plan.queue = Some(target);
        plan
    }

    /// Where the drain of the queue `name` on the broker of `sink` writes.
    pub(super) fn drained(&self, sink: SinkKind, name: &str) -> PathBuf {
        match sink {
            SinkKind::Kafka => self.data(format!("drained-kafka-{name}")),
            _ => self.data(format!("drained-{name}")),
        }
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

    /// The fault runs `--restart-broker` and `--restart-kafka` ask for:
    /// every publisher to a classic queue or a topic of their broker
    /// (predbench's exports and the delivery peers; the baselines are
    /// ceilings, not publishers anyone runs) once more, its drain after it,
    /// until the queue is empty.
    pub(super) fn faults(&self, exports: &[Plan]) -> Vec<Fault> {
        let delivery = &self.args.delivery;
        exports
            .iter()
            .filter_map(|plan| {
                let configuration = &plan.configuration;
                let restart = match configuration.sink? {
                    SinkKind::Kafka => delivery.restart_kafka.as_ref(),
                    _ => delivery.restart_broker.as_ref(),
                }?;
                let faults = plan.follow_up.is_some()
                    && configuration.queue_type.is_none()
                    && !configuration.is_queue_baseline();
                faults.then(|| Fault {
                    plan: self.fault_plan(plan),
                    restart: restart.clone(),
                })
            })
            .collect()
    }

    /// `plan` as its fault run: the publisher as it is, its drain after it.
    fn fault_plan(&self, plan: &Plan) -> Plan {
        let mut fault = plan.clone();
        fault.configuration.beside_publisher = false;
        if let Some(Command::Export(arguments)) = &fault.arguments {
            if fault.configuration.sink == Some(SinkKind::Kafka) {
                // The test broker (tansu 0.6) refuses every record after it
                // restarts under an idempotent producer, until restarted
                // again: predbench's fault runs produce without idempotence.
                let export = Command::Export(ExportArgs {
                    sink: format!("{}&idempotence=false", arguments.sink),
                    ..arguments.clone()
                });
                fault.configuration.command = self.child(&export);
                fault.configuration.idempotence = Some(false);
                fault.arguments = Some(export);
                if let Some(drain) = fault.follow_up.as_deref_mut() {
                    drain.configuration.idempotence = Some(false);
                }
            }
        }
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
