//! The tables and the disk: `predbench generate` and the seed's generator,
//! measured first (one of them makes the dataset when it is missing), the
//! dataset made unmeasured when neither is measured, and the two disk
//! floors (`dd` of the dataset's size through the page cache and past it).

use std::path::Path;

use predbench::args::{Command, GenerateArgs, Output};

use super::{DatasetMaking, Plan, Planner};
use crate::compare::datasets::DatasetChoice;
use crate::peers::{SEED_GENERATOR, peer_named};
use crate::record::{Configuration, DATASET_SEED, DiskFloor, RunKind};

/// Block size of the disk-floor `dd`.
pub const DISK_FLOOR_BLOCK: u64 = 4 << 20;

/// What a disk floor's `count=` says until the dataset exists: its size in
/// [`DISK_FLOOR_BLOCK`]s, which the run puts in its place.
pub const DATASET_BLOCKS: &str = "count=<the dataset's size in 4 MiB blocks>";

impl Planner<'_> {
    /// The measured generators of a size: `predbench generate` (unless
    /// `--skip-generate`) and the seed's (asked for as a peer, or making the
    /// seed's dataset).
    pub(super) fn generators(&self, choice: &DatasetChoice, rows: u64, label: &str) -> Vec<Plan> {
        let mut generators = Vec::new();
        if matches!(choice, DatasetChoice::Existing(_)) {
            return generators;
        }
        if !self.args.skip_generate {
            generators.push(self.generate(rows, label));
        }
        let asked = self.peers.iter().any(|peer| peer.name == SEED_GENERATOR);
        if asked || (*choice == DatasetChoice::Seed && !self.args.skip_generate) {
            generators.push(self.seed_generator(rows, label));
        }
        generators
    }

    /// `predbench generate` of the default table of `rows` rows into `out`, as every run gives it.
    pub(super) fn generate_args(&self, out: &Path, rows: u64) -> GenerateArgs {
        GenerateArgs {
            force: true,
            output: Output {
                quiet: true,
                ..Output::default()
            },
            rows,
            seed: self.args.seed,
            threads: Some(self.threads),
            class_type: self.args.class_type,
            ..GenerateArgs::with_out(out)
        }
    }

    fn generate(&self, rows: u64, label: &str) -> Plan {
        let scratch = self.data(format!("generate-scratch-{rows}"));
        let arguments = Command::Generate(self.generate_args(&scratch, rows));
        let configuration =
            Configuration::new(RunKind::Generate, label, rows, self.args.seed, self.threads);
        self.predbench_plan(configuration, arguments, Some(scratch))
    }

    /// The seed's generator writing `rows` rows into a scratch directory.
    fn seed_generator(&self, rows: u64, label: &str) -> Plan {
        let peer = peer_named(SEED_GENERATOR).expect("the seed generator is a peer");
        let scratch = self.data(format!("seed-generate-scratch-{rows}"));
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

    /// How the dataset is made, unmeasured, when it is missing after the
    /// measured generators: the seed's generator into a scratch directory
    /// moved into place, or `predbench generate` into place.
    pub(super) fn dataset_making(
        &self,
        choice: &DatasetChoice,
        rows: u64,
        dataset: &Path,
    ) -> Option<DatasetMaking> {
        match choice {
            DatasetChoice::Existing(_) => None,
            DatasetChoice::Seed => {
                let plan = self.seed_generator(rows, DATASET_SEED);
                Some(DatasetMaking {
                    command: plan.configuration.command,
                    scratch: plan.scratch,
                    unavailable: plan.unavailable,
                })
            }
            DatasetChoice::Predbench(_) => Some(DatasetMaking {
                command: self.child(&self.generate_args(dataset, rows)),
                scratch: None,
                unavailable: None,
            }),
        }
    }

    /// The two disk floors: `dd` writing the dataset's size of zeros through
    /// the page cache and past it; `count=` says [`DATASET_BLOCKS`] until the
    /// dataset exists.
    pub(super) fn disk_floors(&self, rows: u64, label: &str) -> Vec<Plan> {
        if self.args.skip_disk_floor {
            return Vec::new();
        }
        let target = self.data("disk-floor.tmp");
        [DiskFloor::Buffered, DiskFloor::Direct]
            .into_iter()
            .map(|floor| {
                let mut command = vec![
                    "dd".to_string(),
                    "if=/dev/zero".into(),
                    format!("of={}", target.display()),
                    format!("bs={DISK_FLOOR_BLOCK}"),
                    DATASET_BLOCKS.to_string(),
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
}

/// A disk floor's plan with its block count for a dataset of `bytes`.
pub fn with_dataset_size(plan: &Plan, bytes: u64) -> Plan {
    let blocks = bytes.div_ceil(DISK_FLOOR_BLOCK).max(1);
    let mut resolved = plan.clone();
    for word in &mut resolved.configuration.command {
        if word == DATASET_BLOCKS {
            *word = format!("count={blocks}");
        }
    }
    resolved
}
