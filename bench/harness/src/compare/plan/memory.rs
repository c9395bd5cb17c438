//! The memory study (`compare --memory-study`): what memory buys. predbench's
//! strategies doing the seed's job (modulo, Parquet) across the knobs that
//! trade memory for time: `rayon` on 1 to all threads at every chunk size
//! (it holds threads + 2 chunks), `single-thread` at every chunk size, and
//! `window-sort` at every memory budget, the small ones forcing it to spill.
//! The report draws their time against peak RSS beside the peers' of the
//! same session, and names the fastest configuration under each memory cap.

use std::path::Path;

use predbench::args::{Command, ExportArgs};
use predbench_exporter::{Grouping, Strategy};

use super::{Plan, Planner};
use crate::record::{RunKind, SinkKind};

/// One point of the study: a strategy and its knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StudyPoint {
    strategy: Strategy,
    threads: usize,
    chunk_rows: Option<u64>,
    memory_budget: Option<u64>,
}

impl Planner<'_> {
    /// Every point of the study on `dataset`, each verified like the decision
    /// table's exports.
    pub(super) fn memory_study(&self, rows: u64, dataset: &Path, label: &str) -> Vec<Plan> {
        self.study_points()
            .into_iter()
            .map(|point| self.study_export(rows, dataset, label, point))
            .collect()
    }

    /// `rayon` threads x chunk rows, `single-thread` x chunk rows,
    /// `window-sort` x memory budgets (on all threads).
    fn study_points(&self) -> Vec<StudyPoint> {
        let study = &self.args.memory_study;
        let mut points = Vec::new();
        for threads in 1..=self.threads {
            for &chunk_rows in &study.chunk_rows {
                points.push(StudyPoint {
                    strategy: Strategy::Rayon,
                    threads,
                    chunk_rows: Some(chunk_rows),
                    memory_budget: None,
                });
            }
        }
        for &chunk_rows in &study.chunk_rows {
            points.push(StudyPoint {
                strategy: Strategy::SingleThread,
                threads: 1,
                chunk_rows: Some(chunk_rows),
                memory_budget: None,
            });
        }
        for &budget in &study.memory_budgets {
            points.push(StudyPoint {
                strategy: Strategy::WindowSort,
                threads: self.threads,
                chunk_rows: None,
                memory_budget: Some(budget),
            });
        }
        points
    }

    fn study_export(&self, rows: u64, dataset: &Path, label: &str, point: StudyPoint) -> Plan {
        let output = self.data(format!("out-study-{}.parquet", point.strategy));
        let base = self.export_args(dataset, point.strategy, Grouping::Modulo);
        let export = ExportArgs {
            sink: format!("parquet:{}", output.display()),
            threads: Some(point.threads),
            chunk_rows: point.chunk_rows.unwrap_or(base.chunk_rows),
            memory_budget: point.memory_budget.unwrap_or(self.args.memory_budget),
            spill_dir: Some(self.args.data_dir.clone()),
            ..base
        };
        let mut configuration = self.export_configuration(RunKind::Export, rows, label, &export);
        configuration.sink = Some(SinkKind::Parquet);
        configuration.memory_budget = Some(export.memory_budget);
        configuration.chunk_rows = point.chunk_rows;
        configuration.memory_study = true;
        let verify =
            (!self.args.no_verify).then(|| self.child(&self.verify_args(dataset, &output)));
        let mut plan = self.predbench_plan(configuration, Command::Export(export), Some(output));
        plan.verify = verify;
        plan
    }
}
