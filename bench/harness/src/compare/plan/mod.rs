//! What `compare` will run, decided before anything runs: a [`SessionPlan`]
//! of datasets, generators, exports, peers, shards and queue baselines, each
//! a [`Plan`] holding its typed [`Configuration`] and the exact command line,
//! built from the same clap structures the child parses. `--dry-run` prints it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predbench_common::Shard;
use predbench_exporter::Grouping;
use predbench_exporter::queue::{AmqpTarget, QueueType};

use super::datasets::DatasetChoice;
use super::peers::{Peer, PeerEnvironment, PeerRole, SEED_JOB, peer_named};
use crate::cli::argv::spelling;
use crate::cli::convert::{grouping, sink_kind, strategy};
use crate::cli::{
    ClassTypeArg, CompareArgs, DrainArgs, ExportArgs, GenerateArgs, GroupingArg, PublishArgs,
    QueueTypeArg, SinkKindArg, StrategyArg, VerifyArgs,
};
use crate::record::{Configuration, DATASET_EDGE_CASES, DiskFloor, RunKind, SinkKind};

/// Rows of the table the peers' NaN and null handling is checked on.
pub const EDGE_CASE_ROWS: u64 = 10_000;
/// The seed generator's name among the peers.
pub const SEED_GENERATOR: &str = "seed-generator";
/// Block size of the disk-floor `dd`.
const DISK_FLOOR_BLOCK: u64 = 4 << 20;

/// What the planner needs to know besides the flags.
pub struct Planner<'a> {
    /// `compare`'s flags.
    pub args: &'a CompareArgs,
    /// This predbench binary, for the children.
    pub program: &'a str,
    /// Worker threads every child gets.
    pub threads: usize,
    /// The peers `--peers` asked for.
    pub peers: &'a [&'static Peer],
    /// Where the peers run.
    pub peer_environment: &'a PeerEnvironment,
}

/// One configuration and what to do around each run of it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What runs; its command line names this machine's paths (the record's
    /// copy is made relative to the repository).
    pub configuration: Configuration,
    /// A file (or with `scratch_may_be_directory` a directory) the run creates
    /// and the harness deletes afterwards.
    pub scratch: Option<PathBuf>,
    /// Whether the scratch output may be a directory the harness deletes
    /// whole (a peer's output, which it names); otherwise only a file is
    /// deleted, and whatever else stands at the path is left alone.
    pub scratch_may_be_directory: bool,
    /// Whether the child writes a `--summary-json`.
    pub wants_summary: bool,
    /// The verify command (program first) that checks the first run's output.
    pub verify: Option<Vec<String>>,
    /// Why it cannot run here (a peer without its venv or Java): its runs are
    /// recorded as failed with this reason, and the rest go on.
    pub unavailable: Option<String>,
    /// Noticed about the dataset the configuration runs on.
    pub observations: Vec<String>,
    /// A queue the run publishes to, deleted before and after every run.
    pub queue: Option<AmqpTarget>,
    /// A peer's scratch directory, deleted after every run (a killed peer leaves it).
    pub leftovers: Option<PathBuf>,
    /// Killed past this (`--peer-timeout`, peers only).
    pub time_limit: Option<Duration>,
    /// Run right after every run of this one, on what it left: the drain of
    /// the queue an export filled (its command gets `--last-group` from the
    /// export's message count).
    pub follow_up: Option<Box<Plan>>,
}

impl Plan {
    fn new(configuration: Configuration, scratch: Option<PathBuf>) -> Plan {
        Plan {
            configuration,
            scratch,
            scratch_may_be_directory: false,
            wants_summary: true,
            verify: None,
            unavailable: None,
            observations: Vec::new(),
            queue: None,
            leftovers: None,
            time_limit: None,
            follow_up: None,
        }
    }
}

/// A queue an export or baseline publishes to: its confirm window and type.
#[derive(Debug, Clone, Copy)]
struct QueueChoice {
    window: usize,
    queue_type: Option<QueueType>,
}

/// Messages made once, unmeasured, before the exports run, for the runs that
/// publish them: the queue baseline's (one per grouping, made by predbench),
/// and the seed's job's message file the pika publishers read.
#[derive(Debug, Clone)]
pub struct Preparation {
    /// What it makes, for the log's name and for people: `baseline-messages-modulo`.
    pub name: String,
    /// Where the messages are made (a file, or a Spark job's directory).
    pub messages: PathBuf,
    /// The unmeasured command that makes them, program first.
    pub command: Vec<String>,
    /// The scratch directory it leaves (a Spark job's), deleted after it.
    pub leftovers: Option<PathBuf>,
}

/// Everything measured on one dataset size.
#[derive(Debug, Clone)]
pub struct ScalePlan {
    /// Rows of the dataset.
    pub rows: u64,
    /// `predbench`, `seed` or the dataset's path.
    pub label: String,
    /// Where the dataset is (or will be made).
    pub dataset: PathBuf,
    /// The generators, measured first; one of them makes the dataset when it is missing.
    pub generators: Vec<Plan>,
    /// Exports, peers and shards, in the order they run.
    pub exports: Vec<Plan>,
    /// Messages to make before the exports run (the queue baselines', the
    /// seed's job's for the publishers).
    pub preparations: Vec<Preparation>,
    /// Whether the disk floors are measured (they need the dataset's size).
    pub disk_floors: bool,
}

/// The small table with NaN and nulls every exporting peer runs once on.
#[derive(Debug, Clone)]
pub struct EdgeCasePlan {
    /// Where it is made.
    pub dataset: PathBuf,
    /// The unmeasured `predbench generate` that makes it.
    pub generate: Vec<String>,
    /// `rayon` and the exporting peers on it.
    pub exports: Vec<Plan>,
}

/// Everything one `compare` runs.
#[derive(Debug, Clone)]
pub struct SessionPlan {
    /// Per dataset size.
    pub scales: Vec<ScalePlan>,
    /// The peers' conventions, when peers run.
    pub edge_cases: Option<EdgeCasePlan>,
}

impl Planner<'_> {
    /// The whole session: every size of `--rows` (or the existing dataset's),
    /// then the edge cases when exporting peers can run.
    pub fn session(&self, choice: &DatasetChoice, existing_rows: Option<u64>) -> SessionPlan {
        let sizes = match existing_rows {
            Some(rows) => vec![rows],
            None => self.args.rows.clone(),
        };
        let scales = sizes
            .into_iter()
            .map(|rows| self.scale(rows, choice))
            .collect();
        let runs_peers = self.peers.iter().any(|peer| {
            peer.role == PeerRole::Exporter && self.peer_environment.missing(peer).is_none()
        });
        let edge_cases = (runs_peers && !self.args.skip_edge_cases).then(|| self.edge_cases());
        SessionPlan { scales, edge_cases }
    }

    fn scale(&self, rows: u64, choice: &DatasetChoice) -> ScalePlan {
        let args = self.args;
        let label = choice.label();
        let dataset = choice.path(&args.data_dir, rows, args.seed);
        let mut generators = Vec::new();
        if !matches!(choice, DatasetChoice::Existing(_)) {
            if !args.skip_generate {
                generators.push(self.generate(rows, &label));
            }
            let asked = self.peers.iter().any(|peer| peer.name == SEED_GENERATOR);
            if asked || (*choice == DatasetChoice::Seed && !args.skip_generate) {
                generators.push(self.seed_generator(rows, &label));
            }
        }
        let mut exports = self.exports(rows, &dataset, &label, &args.groupings);
        if args.scale_out {
            exports.extend(self.scale_out(rows, &dataset, &label));
        }
        let mut preparations = Vec::new();
        if args.sinks.contains(&SinkKindArg::Amqp) {
            let baselines = if args.skip_baselines {
                &[][..]
            } else {
                &args.groupings[..]
            };
            for &grouping_arg in baselines {
                let name = format!("baseline-messages-{}", spelling(grouping_arg));
                // A share of the messages, published over and over, is a
                // directory of one part (an export shard's output).
                let share = (args.baseline_passes > 1).then_some(Shard {
                    index: 0,
                    count: args.baseline_passes,
                });
                let messages = args.data_dir.join(match share {
                    Some(shard) => format!("{name}-{rows}-shard-0-of-{}", shard.count),
                    None => format!("{name}-{rows}.parquet"),
                });
                let command = self.export_command(&ExportArgs {
                    sink: format!("parquet:{}", messages.display()),
                    shard: share,
                    ..self.export_args(&dataset, StrategyArg::Rayon, grouping_arg)
                });
                exports.extend(self.publish(rows, &messages, grouping_arg, &label));
                preparations.push(Preparation {
                    name,
                    messages,
                    command,
                    leftovers: None,
                });
            }
            let (publishers, preparation) = self.delivery_peers(rows, &dataset, &label);
            exports.extend(publishers);
            preparations.extend(preparation);
        }
        ScalePlan {
            rows,
            label,
            dataset,
            generators,
            exports,
            preparations,
            disk_floors: !args.skip_disk_floor,
        }
    }

    fn edge_cases(&self) -> EdgeCasePlan {
        let args = self.args;
        let dataset = args.data_dir.join(format!("edge-cases-{EDGE_CASE_ROWS}"));
        let generate = self.generate_command(&GenerateArgs {
            nan_rate: 0.01,
            null_rate: 0.01,
            class_type: ClassTypeArg::Float64,
            ..self.generate_args(&dataset, EDGE_CASE_ROWS)
        });
        let edge_args = CompareArgs {
            strategies: vec![StrategyArg::Rayon],
            groupings: vec![GroupingArg::Modulo],
            sinks: vec![SinkKindArg::Parquet],
            ..args.clone()
        };
        let planner = Planner {
            args: &edge_args,
            ..*self
        };
        let exports = planner.exports(
            EDGE_CASE_ROWS,
            &dataset,
            DATASET_EDGE_CASES,
            &[GroupingArg::Modulo],
        );
        EdgeCasePlan {
            dataset,
            generate,
            exports,
        }
    }

    /// `predbench generate` of the default table of `rows` rows into `out`, as every run gives it.
    fn generate_args(&self, out: &Path, rows: u64) -> GenerateArgs {
        GenerateArgs {
            force: true,
            quiet: true,
            rows,
            seed: self.args.seed,
            threads: Some(self.threads),
            class_type: self.args.class_type,
            ..GenerateArgs::with_out(out)
        }
    }

    fn generate_command(&self, args: &GenerateArgs) -> Vec<String> {
        let mut command = vec![self.program.to_string()];
        command.extend(args.to_argv());
        command
    }

    /// The unmeasured `predbench generate` that makes a missing dataset.
    pub fn prepare_command(&self, out: &Path, rows: u64) -> Vec<String> {
        self.generate_command(&self.generate_args(out, rows))
    }

    fn generate(&self, rows: u64, label: &str) -> Plan {
        let scratch = self.args.data_dir.join(format!("generate-scratch-{rows}"));
        let command = self.generate_command(&self.generate_args(&scratch, rows));
        let configuration =
            Configuration::new(RunKind::Generate, label, rows, self.args.seed, self.threads)
                .finish(command);
        Plan::new(configuration, Some(scratch))
    }

    /// The seed's generator writing `rows` rows into a scratch directory.
    pub fn seed_generator(&self, rows: u64, label: &str) -> Plan {
        let peer = peer_named(SEED_GENERATOR).expect("the seed generator is a peer");
        let scratch = self
            .args
            .data_dir
            .join(format!("seed-generate-scratch-{rows}"));
        let command = self.peer_environment.command(
            peer,
            &[
                "--output".to_string(),
                scratch.display().to_string(),
                "--rows".to_string(),
                rows.to_string(),
            ],
            self.threads,
        );
        let mut configuration =
            Configuration::new(RunKind::Generate, label, rows, self.args.seed, self.threads);
        configuration.peer = Some(SEED_GENERATOR.to_string());
        let mut plan = Plan::new(configuration.finish(command), Some(scratch));
        plan.unavailable = self.peer_environment.missing(peer);
        plan
    }

    /// The two disk floors: `dd` writing `bytes` of zeros through the page
    /// cache and past it. Planned once the dataset exists (they write its size).
    pub fn disk_floors(&self, rows: u64, bytes: u64, label: &str) -> Vec<Plan> {
        let target = self.args.data_dir.join("disk-floor.tmp");
        let blocks = bytes.div_ceil(DISK_FLOOR_BLOCK).max(1);
        [DiskFloor::Buffered, DiskFloor::Direct]
            .into_iter()
            .map(|floor| {
                let mut command = vec![
                    "dd".to_string(),
                    "if=/dev/zero".into(),
                    format!("of={}", target.display()),
                    format!("bs={DISK_FLOOR_BLOCK}"),
                    format!("count={blocks}"),
                    "conv=fsync".into(),
                    "status=none".into(),
                ];
                if floor == DiskFloor::Direct {
                    command.push("oflag=direct".into());
                }
                let mut configuration =
                    Configuration::new(RunKind::DiskFloor, label, rows, self.args.seed, 1);
                configuration.disk_floor = Some(floor);
                let mut plan = Plan::new(configuration.finish(command), Some(target.clone()));
                plan.wants_summary = false;
                plan
            })
            .collect()
    }

    /// `predbench export` of `dataset` as every compare run gives it: strategy,
    /// grouping, K, the packing budget, threads, `--force --quiet`.
    fn export_args(
        &self,
        dataset: &Path,
        strategy: StrategyArg,
        grouping: GroupingArg,
    ) -> ExportArgs {
        ExportArgs {
            strategy,
            grouping,
            group_size: self.args.group_size,
            max_message_bytes: self.packing_budget(grouping),
            threads: Some(self.threads),
            force: true,
            quiet: true,
            ..ExportArgs::with_input(dataset)
        }
    }

    fn export_command(&self, args: &ExportArgs) -> Vec<String> {
        let mut command = vec![self.program.to_string()];
        command.extend(args.to_argv());
        command
    }

    /// `--max-message-bytes` of a configuration: the budget of `packed`, nothing for the others.
    fn packing_budget(&self, grouping: GroupingArg) -> Option<u64> {
        (grouping == GroupingArg::Packed).then_some(self.args.max_message_bytes)
    }

    /// A configuration of predbench's export, its typed fields filled from `args`.
    fn export_configuration(
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
        configuration.strategy = Some(strategy(args.strategy));
        configuration.grouping = Some(grouping(args.grouping));
        configuration.group_size = Some(args.group_size);
        configuration.max_message_bytes = args.max_message_bytes;
        configuration.shard = args.shard;
        configuration
    }

    /// predbench's strategies x `groupings` x sinks (the queue once per
    /// confirm window), then the exporting peers.
    fn exports(
        &self,
        rows: u64,
        dataset: &Path,
        label: &str,
        groupings: &[GroupingArg],
    ) -> Vec<Plan> {
        let args = self.args;
        let mut plans = Vec::new();
        for &grouping_arg in groupings {
            for &strategy_arg in &args.strategies {
                for &sink in &args.sinks {
                    let queues = match sink {
                        SinkKindArg::Amqp => self.queue_choices(),
                        _ => vec![None],
                    };
                    for queue in queues {
                        plans.push(self.export(
                            rows,
                            dataset,
                            label,
                            (strategy_arg, grouping_arg, sink),
                            queue,
                        ));
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

    /// Every confirm window on every queue type `compare` measures.
    fn queue_choices(&self) -> Vec<Option<QueueChoice>> {
        let args = self.args;
        args.queue_types
            .iter()
            .flat_map(|&queue_type| {
                args.confirm_windows.iter().map(move |&window| {
                    Some(QueueChoice {
                        window,
                        queue_type: match queue_type {
                            QueueTypeArg::Classic => None,
                            QueueTypeArg::Quorum => Some(QueueType::Quorum),
                        },
                    })
                })
            })
            .collect()
    }

    fn export(
        &self,
        rows: u64,
        dataset: &Path,
        label: &str,
        (strategy_arg, grouping_arg, sink): (StrategyArg, GroupingArg, SinkKindArg),
        choice: Option<QueueChoice>,
    ) -> Plan {
        let args = self.args;
        let names = format!("{}-{}", spelling(strategy_arg), spelling(grouping_arg));
        let window = choice.map(|choice| choice.window);
        let queue = choice.map(|choice| {
            self.queue_target(&format!("{names}-w{}", choice.window), choice.queue_type)
        });
        let output = args.data_dir.join(format!(
            "out-{names}.{}",
            if sink == SinkKindArg::Ndjson {
                "ndjson"
            } else {
                "parquet"
            }
        ));
        let sink_spec = match (sink, &queue) {
            (SinkKindArg::Null, _) => "null".to_string(),
            (SinkKindArg::Parquet, _) => format!("parquet:{}", output.display()),
            (SinkKindArg::Ndjson, _) => format!("ndjson:{}", output.display()),
            (SinkKindArg::Amqp, Some((url, _))) => url.clone(),
            (SinkKindArg::Amqp, None) => unreachable!("a queue per amqp configuration"),
        };
        let export_args = ExportArgs {
            sink: sink_spec,
            memory_budget: args.memory_budget,
            spill_dir: Some(args.data_dir.clone()),
            confirm_window: window.unwrap_or(1024),
            ..self.export_args(dataset, strategy_arg, grouping_arg)
        };
        let mut configuration =
            self.export_configuration(RunKind::Export, rows, label, &export_args);
        configuration.sink = Some(sink_kind(sink));
        configuration.confirm_window = window;
        configuration.queue_type = choice.and_then(|choice| choice.queue_type);
        configuration.memory_budget = Some(args.memory_budget);
        let writes_file = sink_kind(sink).writes_file();
        let mut plan = Plan::new(
            configuration.finish(self.export_command(&export_args)),
            writes_file.then(|| output.clone()),
        );
        let verify = |checked: &Path| {
            self.verify_command(VerifyArgs {
                grouping: grouping_arg,
                max_message_bytes: self.packing_budget(grouping_arg),
                ..self.verify_args(dataset, checked)
            })
        };
        if writes_file && !args.no_verify {
            plan.verify = Some(verify(&output));
        }
        if let Some((url, target)) = &queue {
            // A queue is read back by a measured drain, whose output is verified.
            let drained = args.data_dir.join(format!(
                "drained-{}",
                target.queue.as_deref().unwrap_or(&names)
            ));
            let mut drain = self.drain(&plan.configuration, url, &drained, false);
            if !args.no_verify {
                drain.verify = Some(verify(&drained));
            }
            plan.follow_up = Some(Box::new(drain));
        }
        plan.queue = queue.map(|(_, target)| target);
        plan
    }

    fn peer_export(&self, peer: &Peer, rows: u64, dataset: &Path, label: &str) -> Plan {
        let args = self.args;
        let output = args
            .data_dir
            .join(format!("out-peer-{}.parquet", peer.name));
        let command = self.peer_environment.command(
            peer,
            &[
                "--input".to_string(),
                dataset.display().to_string(),
                "--output".to_string(),
                output.display().to_string(),
                "--group-size".to_string(),
                args.group_size.to_string(),
            ],
            self.threads,
        );
        let mut configuration =
            Configuration::new(RunKind::Export, label, rows, args.seed, self.threads);
        configuration.grouping = Some(Grouping::Modulo);
        configuration.sink = Some(SinkKind::Parquet);
        configuration.group_size = Some(args.group_size);
        configuration.peer = Some(peer.name.to_string());
        let mut plan = Plan::new(configuration.finish(command), Some(output.clone()));
        plan.unavailable = self.peer_environment.missing(peer);
        plan.scratch_may_be_directory = true;
        plan.leftovers = self.peer_environment.local_dir(peer);
        plan.time_limit = args.peer_timeout.map(Duration::from_secs);
        if !args.no_verify {
            // Peers number rows their own way; predbench on Spark numbers them as predbench does.
            plan.verify = Some(self.verify_command(VerifyArgs {
                any_grouping: !peer.runs_predbench,
                ..self.verify_args(dataset, &output)
            }));
        }
        plan
    }

    /// `predbench verify` of `output` against `dataset` as compare runs it.
    fn verify_args(&self, dataset: &Path, output: &Path) -> VerifyArgs {
        VerifyArgs {
            group_size: self.args.group_size,
            threads: Some(self.threads),
            max_problems: 3,
            ..VerifyArgs::with_paths(dataset, output)
        }
    }

    fn verify_command(&self, args: VerifyArgs) -> Vec<String> {
        let mut command = vec![self.program.to_string()];
        command.extend(args.to_argv());
        command
    }

    /// `predbench drain` of the queue at `url` an export of `export` fills,
    /// into the directory `output`: after the export, with `--last-group`
    /// added at run time, or beside it (`--drain-beside`), until idle.
    fn drain(&self, export: &Configuration, url: &str, output: &Path, any_order: bool) -> Plan {
        let mut command = vec![self.program.to_string()];
        command.extend(
            DrainArgs {
                idle_seconds: 10,
                force: true,
                quiet: true,
                any_order,
                compression: self.args.drain_compression,
                ..DrainArgs::with_paths(url, output)
            }
            .to_argv(),
        );
        let configuration = Configuration {
            kind: RunKind::Drain,
            strategy: None,
            beside_publisher: self.args.drain_beside,
            drains_baseline: export.is_queue_baseline(),
            ..export.clone()
        };
        let mut plan = Plan::new(configuration.finish(command), Some(output.to_path_buf()));
        plan.scratch_may_be_directory = true;
        plan
    }

    /// The delivery peers `--peers` asked for, each publishing to its own
    /// queue, drained and verified like predbench's exports; and, when a
    /// peer publishes the seed's job's message file, the unmeasured run of
    /// the seed's job that makes it.
    fn delivery_peers(
        &self,
        rows: u64,
        dataset: &Path,
        label: &str,
    ) -> (Vec<Plan>, Option<Preparation>) {
        let args = self.args;
        let seed_job = peer_named(SEED_JOB).expect("the seed's job is a peer");
        let messages = args.data_dir.join(format!("seed-job-messages-{rows}"));
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
                    args.group_size.to_string(),
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
            let mut configuration = Configuration::new(kind, label, rows, args.seed, self.threads);
            configuration.grouping = Some(Grouping::Modulo);
            configuration.sink = Some(SinkKind::Amqp);
            configuration.group_size = Some(args.group_size);
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
            plan.time_limit = args.peer_timeout.map(Duration::from_secs);
            let drained = args.data_dir.join(format!("drained-peer-{}", peer.name));
            // Spark's tasks publish side by side: read in any order.
            let any_order = !peer.publishes_in_order;
            let mut drain = self.drain(&plan.configuration, &url, &drained, any_order);
            if !args.no_verify {
                // Spark numbers rows its own way.
                drain.verify = Some(self.verify_command(VerifyArgs {
                    any_grouping: true,
                    ..self.verify_args(dataset, &drained)
                }));
            }
            plan.follow_up = Some(Box::new(drain));
            plan.queue = Some(target);
            plans.push(plan);
        }
        let preparation = reads_messages.then(|| {
            let command = self.peer_environment.command(
                seed_job,
                &[
                    "--input".to_string(),
                    dataset.display().to_string(),
                    "--output".to_string(),
                    messages.display().to_string(),
                    "--group-size".to_string(),
                    args.group_size.to_string(),
                ],
                self.threads,
            );
            Preparation {
                name: "seed-job-messages".to_string(),
                messages,
                command,
                leftovers: self.peer_environment.local_dir(seed_job),
            }
        });
        (plans, preparation)
    }

    /// The queue `predbench-compare-NAME` (`-quorum` for a quorum queue) on
    /// the `--amqp` broker: its URL and target.
    fn queue_target(&self, name: &str, queue_type: Option<QueueType>) -> (String, AmqpTarget) {
        let amqp = &self.args.amqp;
        let mut url = format!(
            "{amqp}{}queue=predbench-compare-{name}",
            if amqp.contains('?') { "&" } else { "?" }
        );
        if let Some(queue_type) = queue_type {
            url.push_str(&format!("-{0}&queue_type={0}", queue_type.name()));
        }
        let target = AmqpTarget::parse(&url).expect("--amqp is checked before planning");
        (url, target)
    }

    /// The queue's baseline: `predbench publish` of `messages` (made with
    /// `grouping`), already serialized, with the queue sink's settings, once
    /// per confirm window.
    fn publish(
        &self,
        rows: u64,
        messages: &Path,
        grouping_arg: GroupingArg,
        label: &str,
    ) -> Vec<Plan> {
        let args = self.args;
        self.queue_choices()
            .into_iter()
            .flatten()
            .map(|QueueChoice { window, queue_type }| {
                let name = format!("baseline-{}-w{window}", spelling(grouping_arg));
                let (url, target) = self.queue_target(&name, queue_type);
                let publish = PublishArgs {
                    confirm_window: window,
                    repeat: args.baseline_passes,
                    quiet: true,
                    ..PublishArgs::with_paths(messages, &url)
                };
                let mut command = vec![self.program.to_string()];
                command.extend(publish.to_argv());
                let mut configuration =
                    Configuration::new(RunKind::Publish, label, rows, args.seed, self.threads);
                configuration.sink = Some(SinkKind::Amqp);
                configuration.grouping = Some(grouping(grouping_arg));
                configuration.group_size = Some(args.group_size);
                configuration.confirm_window = Some(window);
                configuration.queue_type = queue_type;
                configuration.max_message_bytes = self.packing_budget(grouping_arg);
                configuration.shard = (args.baseline_passes > 1).then_some(Shard {
                    index: 0,
                    count: args.baseline_passes,
                });
                let mut plan = Plan::new(configuration.finish(command), None);
                if args.drain_beside {
                    // Its queue stays as shallow as the export's it is the
                    // ceiling of; what it drains repeats, so is not verified.
                    let drained = args.data_dir.join(format!("drained-{name}"));
                    let drain = self.drain(&plan.configuration, &url, &drained, false);
                    plan.follow_up = Some(Box::new(drain));
                }
                plan.queue = Some(target);
                plan
            })
            .collect()
    }

    /// The way past one machine, measured on this one: the reader alone
    /// (`--decode-only`) and `rayon` into the null sink, each on one thread and
    /// on all, give the per-core cost of decoding and of encoding; then for
    /// every shard count N the N shards of the seed's job (`rayon`, modulo,
    /// Parquet), one after another, as N machines would run them at once.
    fn scale_out(&self, rows: u64, dataset: &Path, label: &str) -> Vec<Plan> {
        let mut plans = Vec::new();
        let base = ExportArgs {
            sink: "null".to_string(),
            ..self.export_args(dataset, StrategyArg::Rayon, GroupingArg::Modulo)
        };
        for threads in [1, self.threads] {
            let pinned = threads == 1 && self.threads > 1;
            let decode = ExportArgs {
                decode_only: true,
                threads: Some(threads),
                ..base.clone()
            };
            let mut configuration =
                self.export_configuration(RunKind::DecodeOnly, rows, label, &decode);
            configuration.sink = Some(SinkKind::Null);
            configuration.pinned_threads = pinned;
            plans.push(Plan::new(
                configuration.finish(self.export_command(&decode)),
                None,
            ));
            if pinned {
                let export = ExportArgs {
                    threads: Some(1),
                    ..base.clone()
                };
                let mut configuration =
                    self.export_configuration(RunKind::Export, rows, label, &export);
                configuration.sink = Some(SinkKind::Null);
                configuration.pinned_threads = true;
                plans.push(Plan::new(
                    configuration.finish(self.export_command(&export)),
                    None,
                ));
            }
            if self.threads == 1 {
                break;
            }
        }
        for &count in &self.args.scale_out_shards {
            let output = self.args.data_dir.join(format!("out-shards-{count}"));
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
                let mut plan = Plan::new(
                    configuration.finish(self.export_command(&export)),
                    Some(output.clone()),
                );
                plan.scratch_may_be_directory = true;
                plans.push(plan);
            }
        }
        plans
    }
}

impl SessionPlan {
    /// Every planned configuration and its command line, for `--dry-run`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        for scale in &self.scales {
            line(format!(
                "{} rows of {} ({})",
                scale.rows,
                scale.label,
                scale.dataset.display()
            ));
            for plan in &scale.generators {
                line(describe_plan(plan));
            }
            if scale.disk_floors {
                line(
                    "  disk floor (dd, fsync) and disk floor (dd, O_DIRECT): dd of the dataset's size, planned once it exists"
                        .to_string(),
                );
            }
            for preparation in &scale.preparations {
                line(format!(
                    "  prepare {}: {}",
                    preparation.name,
                    preparation.command.join(" ")
                ));
            }
            for plan in &scale.exports {
                line(describe_plan(plan));
            }
        }
        if let Some(edge) = &self.edge_cases {
            line(format!(
                "{EDGE_CASE_ROWS} rows with NaN and nulls ({}): {}",
                edge.dataset.display(),
                edge.generate.join(" ")
            ));
            for plan in &edge.exports {
                line(describe_plan(plan));
            }
        }
        out
    }
}

fn describe_plan(plan: &Plan) -> String {
    let mut text = format!(
        "  {}: {}",
        plan.configuration.name,
        plan.configuration.command.join(" ")
    );
    if let Some(verify) = &plan.verify {
        text.push_str(&format!("\n      verified by: {}", verify.join(" ")));
    }
    if let Some(limit) = plan.time_limit {
        text.push_str(&format!("\n      killed after {} s", limit.as_secs()));
    }
    if let Some(why) = &plan.unavailable {
        text.push_str(&format!("\n      cannot run here: {why}"));
    }
    if let Some(follow_up) = &plan.follow_up {
        text.push_str(&format!(
            "\n    then {} (--last-group from the export's messages)",
            describe_plan(follow_up).trim_start()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::argv::parse;

    fn compare_args(words: &[&str]) -> CompareArgs {
        let mut all = vec!["compare"];
        all.extend_from_slice(words);
        match parse(&all).unwrap() {
            Command::Compare(args) => *args,
            other => panic!("{other:?}"),
        }
    }

    /// Every predbench command line the plan holds (runs, verifications,
    /// preparations), without the program.
    fn predbench_commands(plan: &SessionPlan, program: &str) -> Vec<Vec<String>> {
        let mut commands = Vec::new();
        let mut add = |command: &[String]| {
            if command.first().map(String::as_str) == Some(program) {
                commands.push(command[1..].to_vec());
            }
        };
        let edge = plan.edge_cases.iter();
        for plans in plan
            .scales
            .iter()
            .flat_map(|scale| [&scale.generators, &scale.exports])
            .chain(edge.clone().map(|edge| &edge.exports))
        {
            for planned in plans {
                for planned in std::iter::once(planned).chain(planned.follow_up.as_deref()) {
                    add(&planned.configuration.command);
                    if let Some(verify) = &planned.verify {
                        add(verify);
                    }
                }
            }
        }
        for scale in &plan.scales {
            for preparation in &scale.preparations {
                add(&preparation.command);
            }
        }
        for edge in edge {
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
            "--threads",
            "3",
        ]);
        let peers = crate::compare::peers::select_peers(&["all".to_string()]).unwrap();
        let environment = PeerEnvironment {
            python: PathBuf::from("/nonexistent/python"),
            scripts: PathBuf::from("scripts/peers"),
            spark_driver_memory: "1g".to_string(),
            predbench: "predbench".to_string(),
            scratch: PathBuf::from("data"),
        };
        let planner = Planner {
            args: &args,
            program: "predbench",
            threads: 3,
            peers: &peers,
            peer_environment: &environment,
        };
        let plan = planner.session(&DatasetChoice::Seed, None);
        let commands = predbench_commands(&plan, "predbench");
        assert!(commands.len() > 50, "{}", commands.len());
        for command in commands {
            let words: Vec<&str> = command.iter().map(String::as_str).collect();
            let parsed = parse(&words).unwrap_or_else(|error| panic!("{command:?}: {error}"));
            let again = match &parsed {
                Command::Export(args) => args.to_argv(),
                Command::Generate(args) => args.to_argv(),
                Command::Verify(args) => args.to_argv(),
                Command::Publish(args) => args.to_argv(),
                Command::Drain(args) => args.to_argv(),
                other => panic!("compare does not run {other:?}"),
            };
            assert_eq!(again, command);
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
                command.contains(&format!("--amqp amqp://guest:guest@127.0.0.1:5672/%2f?queue=predbench-compare-peer-{name}")),
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
    }
}
