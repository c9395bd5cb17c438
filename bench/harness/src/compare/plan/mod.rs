//! What `compare` will run, decided before anything runs: a [`SessionPlan`]
//! of datasets, generators, disk floors, exports, peers, shards, queue
//! baselines, drains and fault runs, each a [`Plan`] holding its typed
//! [`Configuration`], the typed arguments of a predbench child and the exact
//! command line built from them. `--dry-run` prints it ([`describe`]);
//! running it resolves the two things only a run can know (the dataset's
//! size for the disk floors, and the messages a fault run's publisher
//! delivered before the broker is restarted half way) and plans nothing.
//!
//! One file per kind of run: [`generators`] (the tables and the disk),
//! [`exports`] (predbench's exports, the exporting peers, the edge cases,
//! past one machine), [`memory`] (the memory study), [`delivery`] (queues,
//! baselines, drains, faults), [`publishers`] (the publishers a team would
//! write).

mod delivery;
mod describe;
mod exports;
mod generators;
#[cfg(test)]
mod kafka_tests;
mod memory;
mod publishers;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use predbench::args::Command;
use predbench::argv::ToArgv;
use predbench_exporter::QueueSpec;

use super::datasets::{DatasetChoice, remove_output};
use crate::args::CompareArgs;
use crate::peers::{Peer, PeerEnvironment, PeerRole};
use crate::record::Configuration;
pub use generators::with_dataset_size;

/// Rows of the table the peers' NaN and null handling is checked on.
pub const EDGE_CASE_ROWS: u64 = 10_000;

/// What the planner needs to know besides the flags.
pub struct Planner<'a> {
    /// `compare`'s flags.
    pub args: &'a CompareArgs,
    /// The predbench command the children run.
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
    /// The arguments of a predbench child, which its command line renders.
    pub arguments: Option<Command>,
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
    /// A queue or topic the run publishes to, deleted before and after every run.
    pub queue: Option<QueueSpec>,
    /// A peer's scratch directory, deleted after every run (a killed peer leaves it).
    pub leftovers: Option<PathBuf>,
    /// Killed past this (`--peer-timeout`, peers only).
    pub time_limit: Option<Duration>,
    /// The drain of the queue this run fills: beside it (`--drain-beside`)
    /// or right after it, until the queue is empty.
    pub follow_up: Option<Box<Plan>>,
    /// Whether publishers later in the plan read the scratch output (the
    /// measured seed's job's message file): kept after each run, replaced
    /// by the next, deleted once the dataset size is done.
    pub output_read_later: bool,
}

impl Plan {
    /// Deletes what a run of the plan left: its output (unless publishers
    /// read it later), a peer's scratch directory.
    pub fn clean_up(&self) {
        if !self.output_read_later {
            self.remove_output();
        }
        if let Some(leftovers) = &self.leftovers {
            let _ = std::fs::remove_dir_all(leftovers);
        }
    }

    /// Deletes the run's output (for one publishers read: once they are done with it).
    pub fn remove_output(&self) {
        if let Some(scratch) = &self.scratch {
            remove_output(scratch, self.scratch_may_be_directory);
        }
    }

    fn new(configuration: Configuration, scratch: Option<PathBuf>) -> Plan {
        Plan {
            configuration,
            arguments: None,
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
            output_read_later: false,
        }
    }
}

/// Something made once, unmeasured, before the runs that need it: a queue
/// baseline's messages (made by predbench), the seed's job's message file
/// the publishers read when the seed's job is not measured in the session.
#[derive(Debug, Clone)]
pub struct Preparation {
    /// What it makes, for the log's name and for people: `baseline-messages-modulo`.
    pub name: String,
    /// Where it is made (a file, or a Spark job's directory).
    pub messages: PathBuf,
    /// The unmeasured command that makes it, program first.
    pub command: Vec<String>,
    /// The scratch directory it leaves (a Spark job's), deleted after it.
    pub leftovers: Option<PathBuf>,
}

/// How a dataset that is missing is made when no measured generator made it
/// (`--skip-generate`).
#[derive(Debug, Clone)]
pub struct DatasetMaking {
    /// The unmeasured command, program first.
    pub command: Vec<String>,
    /// Where it writes, when not to the dataset's path: moved there when done.
    pub scratch: Option<PathBuf>,
    /// Why it cannot run here.
    pub unavailable: Option<String>,
}

/// A publisher run once more, with the broker restarted by `restart` once
/// its queue holds half the messages its runs delivered; its queue drained
/// after it, until empty.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The publisher and its drain, as they run in the fault run.
    pub plan: Plan,
    /// The shell command that restarts the broker (`--restart-broker`).
    pub restart: String,
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
    /// How the dataset is made when it is missing and no generator below made it.
    pub making: Option<DatasetMaking>,
    /// The generators, measured first; one of them makes the dataset when it is missing.
    pub generators: Vec<Plan>,
    /// The unmeasured check of the seed generator's files for repeated values.
    pub files_check: Option<Vec<String>>,
    /// The disk floors: `dd` of the dataset's size (its block count is
    /// resolved once the dataset exists).
    pub disk_floors: Vec<Plan>,
    /// Messages to make before the exports run (the queue baselines', the
    /// seed's job's for the publishers).
    pub preparations: Vec<Preparation>,
    /// Exports, peers, shards, baselines and publishers, in the order they run.
    pub exports: Vec<Plan>,
    /// The publishers' fault runs, after the measured runs.
    pub faults: Vec<Fault>,
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

impl SessionPlan {
    /// Every run the session makes, in plan order: each plan with its drain
    /// and the fault runs.
    #[cfg(test)]
    pub fn plans(&self) -> Vec<&Plan> {
        let mut plans = Vec::new();
        for scale in &self.scales {
            plans.extend(scale.generators.iter().chain(&scale.disk_floors));
            let publishers = scale.exports.iter();
            for plan in publishers.chain(scale.faults.iter().map(|fault| &fault.plan)) {
                plans.push(plan);
                plans.extend(plan.follow_up.as_deref());
            }
        }
        if let Some(edge) = &self.edge_cases {
            plans.extend(&edge.exports);
        }
        plans
    }
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
        let label = choice.label();
        let dataset = choice.path(&self.args.data_dir, rows, self.args.seed);
        let mut exports = self.exports(rows, &dataset, &label, &self.args.groupings);
        if self.args.scale_out.enabled {
            exports.extend(self.scale_out(rows, &dataset, &label));
        }
        if self.args.memory_study.enabled {
            exports.extend(self.memory_study(rows, &dataset, &label));
        }
        let mut preparations = Vec::new();
        if !self.queue_sinks().is_empty() {
            let (baselines, made) = self.baselines(rows, &dataset, &label);
            exports.extend(baselines);
            preparations.extend(made);
            let (publishers, made) = self.delivery_peers(rows, &dataset, &label, &mut exports);
            exports.extend(publishers);
            preparations.extend(made);
        }
        let faults = self.faults(&exports);
        ScalePlan {
            rows,
            making: self.dataset_making(choice, rows, &dataset),
            generators: self.generators(choice, rows, &label),
            files_check: (*choice == DatasetChoice::Seed)
                .then(|| self.peer_environment.repeated_files_command(&dataset)),
            disk_floors: self.disk_floors(rows, &label),
            label,
            dataset,
            preparations,
            exports,
            faults,
        }
    }

    /// The command line of a predbench child, program first.
    fn child(&self, arguments: &impl ToArgv) -> Vec<String> {
        let mut command = vec![self.program.to_string()];
        command.extend(arguments.to_argv());
        command
    }

    /// A plan of a predbench child: its configuration finished with the
    /// command line `arguments` render.
    fn predbench_plan(
        &self,
        configuration: Configuration,
        arguments: Command,
        scratch: Option<PathBuf>,
    ) -> Plan {
        let command = self.child(&arguments);
        let mut plan = Plan::new(configuration.finish(command), scratch);
        plan.arguments = Some(arguments);
        plan
    }

    /// A path under `--data-dir`.
    fn data(&self, name: impl AsRef<Path>) -> PathBuf {
        self.args.data_dir.join(name)
    }
}
