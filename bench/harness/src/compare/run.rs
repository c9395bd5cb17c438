//! Running a [`SessionPlan`]: per dataset size the generators first (one of
//! them makes the dataset when it is missing), then the disk floors, the
//! preparations (the queue baselines' and the publishers' messages) and
//! every export, R times interleaved (run 1 of every configuration, then
//! run 2, ...) so that a slow spell of this shared machine does not land on
//! one configuration; then the fault runs; then the edge cases. Running
//! resolves what only a run can know and plans nothing.

use std::fs;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use predbench_exporter::Dataset;

use super::child::run_unmeasured;
use super::datasets::{DatasetChoice, dataset_record, remove_dataset, remove_output};
use super::delivery::{Restart, mark_missing_broker, run_publisher};
use super::measure::measure;
use super::plan::{EdgeCasePlan, Plan, ScalePlan, with_dataset_size};
use super::session::Session;
use crate::args::CompareArgs;
use crate::record::{DATASET_EDGE_CASES, RunStatus};

/// Everything a run of the plan needs besides the plan.
pub struct Runner<'a> {
    /// `compare`'s flags.
    pub args: &'a CompareArgs,
    /// What `--dataset` asked for.
    pub choice: &'a DatasetChoice,
}

const BAR_TEMPLATE: &str = "{bar:30} {pos}/{len} runs, {elapsed_precise} {msg}";

impl Runner<'_> {
    /// Measures one dataset size.
    pub fn scale(&self, scale: &ScalePlan, session: &mut Session) -> anyhow::Result<()> {
        let runs = self.args.runs as usize;
        let planned = scale.generators.len() + scale.disk_floors.len() + scale.exports.len();
        session.bar = progress_bar((planned * runs + scale.faults.len()) as u64, session.quiet);
        self.make_dataset(scale, session)?;
        let dataset = Dataset::open(&scale.dataset)
            .with_context(|| format!("cannot read dataset {}", scale.dataset.display()))?;
        session.note_dataset(dataset_record(&scale.label, &dataset))?;
        let mut plans: Vec<Plan> = scale
            .disk_floors
            .iter()
            .map(|floor| with_dataset_size(floor, dataset.bytes))
            .collect();
        plans.extend(scale.exports.iter().cloned());
        if let Some(observation) = scale.files_check.as_deref().and_then(repeated_files) {
            for plan in &mut plans {
                plan.observations.push(observation.clone());
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
        mark_missing_broker(&mut plans);
        let peer_runs = self.args.peers.peer_runs.unwrap_or(self.args.runs);
        for run in 1..=self.args.runs {
            for plan in &plans {
                if plan.configuration.peer.is_none() || run <= peer_runs {
                    run_once(session, plan, run)?;
                }
            }
        }
        for fault in &scale.faults {
            match Restart::resolve(session, fault) {
                Some((restart, plan)) => run_publisher(session, &plan, 1, Some(&restart))?,
                None => session.say(&format!(
                    "not run: the fault run of {} (it delivered no messages in this session)",
                    fault.plan.configuration.name
                )),
            }
        }
        for preparation in &scale.preparations {
            remove_output(&preparation.messages, true);
        }
        for plan in scale.exports.iter().filter(|plan| plan.output_read_later) {
            plan.remove_output();
        }
        if self.args.clean && !matches!(self.choice, DatasetChoice::Existing(_)) {
            remove_dataset(&scale.dataset);
        }
        Ok(())
    }

    /// The measured generators, R times; the one that makes this dataset
    /// moves its output into place when the dataset is missing; made
    /// unmeasured when still missing after them.
    fn make_dataset(&self, scale: &ScalePlan, session: &mut Session) -> anyhow::Result<()> {
        let args = self.args;
        let mut ready = self.choice.is_ready(&scale.dataset, scale.rows, args.seed);
        if ready && !matches!(self.choice, DatasetChoice::Existing(_)) {
            session.say(&format!("reusing {} (it matches)", scale.dataset.display()));
        }
        for run in 1..=args.runs {
            for plan in &scale.generators {
                let record = measure(session, plan, run)?;
                let ok = record.status == RunStatus::Ok;
                session.push(record)?;
                let scratch = plan.scratch.as_ref().expect("a generator writes a dataset");
                let makes_dataset = self.choice.made_by(plan.configuration.peer.as_deref());
                if makes_dataset && !ready && ok {
                    move_into_place(scratch, &scale.dataset)?;
                    ready = true;
                } else {
                    remove_dataset(scratch);
                }
            }
        }
        let Some(making) = scale.making.as_ref().filter(|_| !ready) else {
            return Ok(());
        };
        session.say(&format!("generating {}", scale.dataset.display()));
        if let Some(why) = &making.unavailable {
            anyhow::bail!("cannot make the dataset {}: {why}", scale.dataset.display());
        }
        if let Some(scratch) = &making.scratch {
            remove_dataset(scratch);
        }
        let log = session.log_dir.join(format!("prepare-{}.log", scale.rows));
        run_unmeasured(&making.command, &log)
            .with_context(|| format!("cannot generate {}", scale.dataset.display()))?;
        match &making.scratch {
            Some(scratch) => move_into_place(scratch, &scale.dataset),
            None => Ok(()),
        }
    }

    /// Runs every exporting peer and `rayon` once on a small table with NaN
    /// and nulls, each output verified the Spark way: records which
    /// conventions each one follows instead of hiding them.
    pub fn edge_cases(&self, edge: &EdgeCasePlan, session: &mut Session) -> anyhow::Result<()> {
        session.say("edge cases: NaN and nulls in a small table");
        let log = session.log_dir.join("prepare-edge-cases.log");
        run_unmeasured(&edge.generate, &log)
            .with_context(|| format!("cannot generate {}", edge.dataset.display()))?;
        let dataset = Dataset::open(&edge.dataset)
            .with_context(|| format!("cannot read dataset {}", edge.dataset.display()))?;
        session.note_dataset(dataset_record(DATASET_EDGE_CASES, &dataset))?;
        session.bar = progress_bar(edge.exports.len() as u64, session.quiet);
        for plan in &edge.exports {
            run_once(session, plan, 1)?;
        }
        remove_dataset(&edge.dataset);
        Ok(())
    }
}

/// One run of a plan, its output deleted after it; a publisher to a queue
/// runs with its queue and its drain ([`run_publisher`]).
fn run_once(session: &mut Session, plan: &Plan, run: u32) -> anyhow::Result<()> {
    if plan.queue.is_some() {
        return run_publisher(session, plan, run, None);
    }
    let record = measure(session, plan, run)?;
    // A disk a failed run filled is freed before the records are saved.
    plan.clean_up();
    session.push(record)
}

/// Moves a generator's output to the dataset's path.
fn move_into_place(scratch: &Path, dataset: &Path) -> anyhow::Result<()> {
    remove_dataset(dataset);
    fs::rename(scratch, dataset)
        .with_context(|| format!("cannot move {} to {}", scratch.display(), dataset.display()))
}

/// A progress bar over `total` runs, drawn on standard error unless `quiet`.
pub fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(ProgressStyle::with_template(BAR_TEMPLATE).expect("the template is valid"));
    bar
}

/// What the seed generator's unseeded workers did to the dataset the
/// `check` command reads, in one sentence; nothing when no file repeats another.
fn repeated_files(check: &[String]) -> Option<String> {
    let output = std::process::Command::new(&check[0])
        .args(&check[1..])
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
