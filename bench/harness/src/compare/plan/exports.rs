//! predbench's exports (strategies x groupings x sinks, a queue once per
//! confirm window and queue type), the exporting peers, the edge cases every
//! exporter runs once, and the way past one machine (the reader's ceiling,
//! the per-core cost, the shards one after another).

use std::path::Path;
use std::time::Duration;

use predbench::args::{Command, ExportArgs, Output, VerifyArgs};
use predbench_common::Shard;
use predbench_exporter::{Grouping, QueueSpec, Strategy};
use predbench_generator::ClassType;

use super::delivery::QueueChoice;
use super::{EDGE_CASE_ROWS, EdgeCasePlan, Plan, Planner};
use crate::args::CompareArgs;
use crate::peers::{Numbering, Peer, PeerRole};
use crate::record::{Configuration, DATASET_EDGE_CASES, RunKind, SinkKind};

impl Planner<'_> {
    /// `predbench export` of `dataset` as every compare run gives it: strategy,
    /// grouping, K, the packing budget, threads, `--force --quiet`.
    pub(super) fn export_args(
        &self,
        dataset: &Path,
        strategy: Strategy,
        grouping: Grouping,
    ) -> ExportArgs {
        ExportArgs {
            strategy,
            grouping,
            group_size: self.args.group_size,
            max_message_bytes: self.packing_budget(grouping),
            threads: Some(self.threads),
            force: true,
            output: Output {
                quiet: true,
                ..Output::default()
            },
            ..ExportArgs::with_input(dataset)
        }
    }

    /// K of an export to the queue of `choice` (1 for one prediction a
    /// record), or of any other.
    fn group_size_of(&self, choice: Option<QueueChoice>) -> u64 {
        match choice {
            Some(choice) if choice.per_prediction => 1,
            _ => self.args.group_size,
        }
    }

    /// `--max-message-bytes` of a configuration: the budget of `packed`, nothing for the others.
    pub(super) fn packing_budget(&self, grouping: Grouping) -> Option<u64> {
        (grouping == Grouping::Packed).then_some(self.args.max_message_bytes)
    }

    /// A configuration of predbench's export, its typed fields filled from `args`.
    pub(super) fn export_configuration(
        &self,
        kind: RunKind,
        rows: u64,
        label: &str,
        args: &ExportArgs,
    ) -> Configuration {
        let mut configuration = Configuration::new(
            kind,
            label,
            rows,
            self.args.seed,
            args.threads.unwrap_or(self.threads),
        );
        configuration.strategy = Some(args.strategy);
        configuration.grouping = Some(args.grouping);
        configuration.group_size = Some(args.group_size);
        configuration.max_message_bytes = args.max_message_bytes;
        configuration.shard = args.shard;
        configuration
    }

    /// predbench's strategies x `groupings` x sinks (the queue once per
    /// confirm window and queue type), then the exporting peers.
    pub(super) fn exports(
        &self,
        rows: u64,
        dataset: &Path,
        label: &str,
        groupings: &[Grouping],
    ) -> Vec<Plan> {
        let args = self.args;
        let mut plans = Vec::new();
        for &grouping in groupings {
            for &strategy in &args.strategies {
                for &sink in &args.sinks {
                    let queues = match sink.is_queue() {
                        true => self
                            .queue_choices(sink)
                            .into_iter()
                            .filter(|choice| choice.carries(grouping))
                            .map(Some)
                            .collect(),
                        false => vec![None],
                    };
                    for queue in queues {
                        let work = (strategy, grouping, sink);
                        plans.push(self.export(rows, dataset, label, work, queue));
                    }
                }
            }
        }
        for peer in self
            .peers
            .iter()
            .filter(|peer| peer.role == PeerRole::Exporter)
        {
            plans.push(self.peer_export(peer, rows, dataset, label));
        }
        plans
    }

    fn export(
        &self,
        rows: u64,
        dataset: &Path,
        label: &str,
        (strategy, grouping, sink): (Strategy, Grouping, SinkKind),
        choice: Option<QueueChoice>,
    ) -> Plan {
        let args = self.args;
        let names = format!("{strategy}-{grouping}");
        let queue = choice.map(|choice| {
            let name = format!("{names}-{}", choice.name());
            self.queue_target(&name, choice.sink, choice.queue_type)
        });
        let group_size = self.group_size_of(choice);
        let extension = if sink == SinkKind::Ndjson {
            "ndjson"
        } else {
            "parquet"
        };
        let output = self.data(format!("out-{names}.{extension}"));
        let sink_spec = match (sink, &queue) {
            (_, Some((url, _))) => url.clone(),
            (SinkKind::Null, _) => "null".to_string(),
            (_, _) => format!("{sink}:{}", output.display()),
        };
        let codec = args.output_codec.filter(|_| sink == SinkKind::Parquet);
        let export_args = ExportArgs {
            sink: sink_spec,
            memory_budget: args.memory_budget,
            spill_dir: Some(args.data_dir.clone()),
            confirm_window: choice.map_or(1024, |choice| choice.window),
            compression: codec.unwrap_or(predbench_generator::Compression::Lz4),
            group_size,
            ..self.export_args(dataset, strategy, grouping)
        };
        let mut configuration =
            self.export_configuration(RunKind::Export, rows, label, &export_args);
        configuration.sink = Some(sink);
        if let Some(choice) = choice {
            self.describe_queue(&mut configuration, choice);
        }
        configuration.memory_budget = Some(args.memory_budget);
        configuration.output_codec = codec;
        let writes_file = sink.writes_file();
        let arguments = Command::Export(export_args);
        let mut plan = self.predbench_plan(
            configuration,
            arguments,
            writes_file.then(|| output.clone()),
        );
        let verify = |checked: &Path| {
            self.child(&VerifyArgs {
                grouping,
                group_size,
                max_message_bytes: self.packing_budget(grouping),
                ..self.verify_args(dataset, checked)
            })
        };
        if writes_file && !args.no_verify {
            plan.verify = Some(verify(&output));
        }
        if let Some((url, target)) = queue {
            // A queue is read back by a measured drain, whose output is verified.
            let queue_name = match &target {
                QueueSpec::Amqp(target) => target.queue.clone().unwrap_or(names),
                QueueSpec::Kafka(target) => target.topic.clone(),
            };
            let drained = self.drained(sink, &queue_name);
            let mut drain = self.drain(&plan.configuration, &url, &drained, false);
            if !args.no_verify {
                drain.verify = Some(verify(&drained));
            }
            plan.follow_up = Some(Box::new(drain));
            plan.queue = Some(target);
        }
        plan
    }

    fn peer_export(&self, peer: &Peer, rows: u64, dataset: &Path, label: &str) -> Plan {
        let args = self.args;
        let output = self.data(format!("out-peer-{}.parquet", peer.name));
        let mut arguments = vec![
            "--input".to_string(),
            dataset.display().to_string(),
            "--output".to_string(),
            output.display().to_string(),
            "--group-size".to_string(),
            args.group_size.to_string(),
        ];
        if let Some(codec) = args.output_codec {
            arguments.extend(["--compression".to_string(), codec.to_string()]);
        }
        let command = self
            .peer_environment
            .command(peer, &arguments, self.threads);
        let mut configuration =
            Configuration::new(RunKind::Export, label, rows, args.seed, self.threads);
        configuration.grouping = Some(Grouping::Modulo);
        configuration.sink = Some(SinkKind::Parquet);
        configuration.group_size = Some(args.group_size);
        configuration.peer = Some(peer.name.to_string());
        configuration.output_codec = args.output_codec;
        let mut plan = Plan::new(configuration.finish(command), Some(output.clone()));
        plan.unavailable = self.peer_environment.missing(peer);
        plan.scratch_may_be_directory = true;
        plan.leftovers = self.peer_environment.local_dir(peer);
        plan.time_limit = args.peers.peer_timeout.map(Duration::from_secs);
        if !args.no_verify {
            // As the peer numbers rows: its groups in any message order, by
            // id alone, or (predbench on Spark) exactly.
            plan.verify = Some(self.child(&VerifyArgs {
                any_grouping: peer.numbering == Numbering::Own,
                any_message_order: peer.numbering == Numbering::FileOrder,
                ..self.verify_args(dataset, &output)
            }));
        }
        plan
    }

    /// `predbench verify` of `output` against `dataset` as compare runs it.
    pub(super) fn verify_args(&self, dataset: &Path, output: &Path) -> VerifyArgs {
        VerifyArgs {
            group_size: self.args.group_size,
            threads: Some(self.threads),
            max_problems: 3,
            ..VerifyArgs::with_paths(dataset, output)
        }
    }

    /// `rayon` (modulo, Parquet) and every exporting peer on a small table
    /// with NaN and nulls.
    pub(super) fn edge_cases(&self) -> EdgeCasePlan {
        let dataset = self.data(format!("edge-cases-{EDGE_CASE_ROWS}"));
        let generate = self.child(&Command::Generate(predbench::args::GenerateArgs {
            nan_rate: 0.01,
            null_rate: 0.01,
            class_type: ClassType::Float64,
            ..self.generate_args(&dataset, EDGE_CASE_ROWS)
        }));
        let edge_args = CompareArgs {
            strategies: vec![Strategy::Rayon],
            groupings: vec![Grouping::Modulo],
            sinks: vec![SinkKind::Parquet],
            ..self.args.clone()
        };
        // One run a tool: its variants write NaN and nulls the same way.
        let heads: Vec<&'static Peer> = self
            .peers
            .iter()
            .copied()
            .filter(|peer| peer.family == peer.name)
            .collect();
        let planner = Planner {
            args: &edge_args,
            peers: &heads,
            ..*self
        };
        let exports = planner.exports(
            EDGE_CASE_ROWS,
            &dataset,
            DATASET_EDGE_CASES,
            &[Grouping::Modulo],
        );
        EdgeCasePlan {
            dataset,
            generate,
            exports,
        }
    }

    /// The way past one machine, measured on this one: the reader alone
    /// (`--decode-only`) and `rayon` into the null sink, each on one thread and
    /// on all, give the per-core cost of decoding and of encoding; then for
    /// every shard count N the N shards of the seed's job (`rayon`, modulo,
    /// Parquet), one after another, as N machines would run them at once.
    pub(super) fn scale_out(&self, rows: u64, dataset: &Path, label: &str) -> Vec<Plan> {
        let base = ExportArgs {
            sink: "null".to_string(),
            ..self.export_args(dataset, Strategy::Rayon, Grouping::Modulo)
        };
        let mut plans = self.per_core_probes(rows, label, &base);
        for &count in &self.args.scale_out.shards {
            let output = self.data(format!("out-shards-{count}"));
            for index in 0..count {
                let Ok(shard) = Shard::new(index, count) else {
                    continue;
                };
                let export = ExportArgs {
                    sink: format!("parquet:{}", output.display()),
                    shard: Some(shard),
                    ..base.clone()
                };
                let mut configuration =
                    self.export_configuration(RunKind::ExportShard, rows, label, &export);
                configuration.sink = Some(SinkKind::Parquet);
                let arguments = Command::Export(export);
                let mut plan = self.predbench_plan(configuration, arguments, Some(output.clone()));
                plan.scratch_may_be_directory = true;
                plans.push(plan);
            }
        }
        plans
    }

    /// `--decode-only` on one thread and on all, and `rayon` into the null
    /// sink on one thread: the per-core costs of reading and of encoding.
    fn per_core_probes(&self, rows: u64, label: &str, base: &ExportArgs) -> Vec<Plan> {
        let mut plans = Vec::new();
        let probe = |kind: RunKind, export: ExportArgs, pinned: bool| {
            let mut configuration = self.export_configuration(kind, rows, label, &export);
            configuration.sink = Some(SinkKind::Null);
            configuration.pinned_threads = pinned;
            self.predbench_plan(configuration, Command::Export(export), None)
        };
        for threads in [1, self.threads] {
            let pinned = threads == 1 && self.threads > 1;
            let decode = ExportArgs {
                decode_only: true,
                threads: Some(threads),
                ..base.clone()
            };
            plans.push(probe(RunKind::DecodeOnly, decode, pinned));
            if pinned {
                let export = ExportArgs {
                    threads: Some(1),
                    ..base.clone()
                };
                plans.push(probe(RunKind::Export, export, true));
            }
            if self.threads == 1 {
                break;
            }
        }
        plans
    }
}
