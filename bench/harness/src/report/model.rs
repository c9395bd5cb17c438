//! The records as the report reads them: per session, each configuration's
//! runs summarised ([`Stats`]: median wall, CPU, memory, failures with their
//! cause, the verification). A table is built from one [`SessionModel`], so
//! every figure in it, and every ratio, belongs to one session.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use predbench_exporter::{Grouping, Strategy};

use crate::peers::PEERS;
use crate::record::{
    BrokerRestarted, Configuration, DiskFloor, DrainedCounts, FailureCause, LoadedSession, RunKind,
    RunRecord, RunStatus, SessionInfo, Verification,
};

/// Every session, oldest first.
pub struct Model {
    /// The sessions, in id (start time) order.
    pub sessions: Vec<SessionModel>,
}

/// One session's runs, summarised per configuration.
pub struct SessionModel {
    /// What the session ran on.
    pub info: SessionInfo,
    /// Its records file, relative to the results directory.
    pub path: PathBuf,
    /// Every configuration it measured, in the order they first ran.
    pub stats: Vec<Stats>,
}

/// The runs of one configuration in one session.
#[derive(Debug, Clone)]
pub struct Stats {
    /// The configuration (its first run's copy).
    pub configuration: Configuration,
    /// Successful runs' wall times, sorted.
    pub walls: Vec<f64>,
    /// Runs that failed.
    pub failures: Vec<FailedRun>,
    /// Median user CPU seconds of the successful runs.
    pub user: f64,
    /// Median system CPU seconds of the successful runs.
    pub system: f64,
    /// Median peak RSS of the successful runs, in bytes.
    pub peak_rss: u64,
    /// Median bytes produced (output file, or JSON text for the null sink).
    pub produced_bytes: u64,
    /// Median bytes spilled.
    pub spilled_bytes: u64,
    /// Median messages.
    pub messages: u64,
    /// Largest relative difference between the harness's wall time and `/usr/bin/time -v`'s.
    pub time_v_difference: Option<f64>,
    /// `predbench verify` of the first run's output, if it was checked.
    pub verification: Option<Verification>,
    /// What the harness noticed about the data.
    pub observations: Vec<String>,
    /// The settings the child reported (its first successful run's).
    pub settings: BTreeMap<String, serde_json::Value>,
    /// A drain's worst run: the most duplicates and the most gaps it found.
    pub drained: Option<DrainedCounts>,
    /// A fault run's broker restart (its first run's), if it happened.
    pub broker_restart: Option<BrokerRestarted>,
    /// The broker's largest resident set over the runs, when it was sampled.
    pub broker_peak_rss: Option<u64>,
}

/// A run that failed, with what it cost before it did.
#[derive(Debug, Clone)]
pub struct FailedRun {
    /// Its number among the configuration's runs.
    pub run: u32,
    /// Wall seconds until it ended.
    pub wall: f64,
    /// Peak RSS it reached.
    pub peak_rss: u64,
    /// User CPU seconds it used.
    pub user: f64,
    /// System CPU seconds it used.
    pub system: f64,
    /// What kind of failure.
    pub cause: FailureCause,
    /// Exit status and the end of its standard error.
    pub detail: String,
}

impl FailedRun {
    /// "out of memory after 252.9 s at 19.5 GiB".
    pub fn describe(&self) -> String {
        match self.cause {
            FailureCause::Unavailable => format!("could not run here: {}", self.detail),
            FailureCause::Exit => format!(
                "failed after {:.1} s at {}: {}",
                self.wall,
                super::markdown::bytes(self.peak_rss),
                crate::record::headline(&self.detail, 100)
            ),
            cause => format!(
                "{} after {:.1} s at {}",
                cause.describe(),
                self.wall,
                super::markdown::bytes(self.peak_rss)
            ),
        }
    }
}

impl Stats {
    /// Median wall time of the successful runs.
    pub fn median_wall(&self) -> Option<f64> {
        median(&self.walls)
    }

    /// Runs recorded, successful or not.
    pub fn runs(&self) -> usize {
        self.walls.len() + self.failures.len()
    }

    /// ` (1.65–1.80 s over 3 runs)`: the fastest and the slowest run, when
    /// there are several (said beside a median a claim rests on).
    pub fn spread(&self) -> String {
        match (self.walls.first(), self.walls.last()) {
            (Some(fastest), Some(slowest)) if self.walls.len() > 1 => format!(
                " ({}–{} s over {} runs)",
                super::markdown::seconds(*fastest),
                super::markdown::seconds(*slowest),
                self.walls.len()
            ),
            _ => String::new(),
        }
    }

    /// The spread, or ` (one run)` when one run is all a figure rests on.
    pub fn spread_or_one_run(&self) -> String {
        match self.walls.len() {
            1 => " (one run)".to_string(),
            _ => self.spread(),
        }
    }

    /// Whether no run succeeded.
    pub fn failed(&self) -> bool {
        self.walls.is_empty()
    }

    /// Whether its output was checked and found wrong.
    pub fn not_verified(&self) -> bool {
        self.verification.as_ref().is_some_and(|check| !check.ok)
    }

    /// Where the configuration sorts in a table: generators, disk floors,
    /// exports (modulo first; single-thread, rayon, window-sort; then the
    /// peers in their table's order), shards, baselines.
    pub fn display_order(&self) -> (u8, u8, u8, u8, u64, String) {
        let configuration = &self.configuration;
        let kind = match configuration.kind {
            RunKind::Generate => 0,
            RunKind::DiskFloor => 1,
            RunKind::DecodeOnly => 2,
            RunKind::Export => 3,
            RunKind::ExportShard => 4,
            RunKind::Publish => 5,
            RunKind::Drain => 6,
        };
        let grouping = match configuration.grouping {
            Some(Grouping::Modulo) => 0,
            Some(Grouping::Contiguous) => 1,
            Some(Grouping::Packed) => 2,
            None => 3,
        };
        let who = match (configuration.strategy, &configuration.peer) {
            (_, Some(peer)) => {
                10 + PEERS
                    .iter()
                    .position(|known| known.name == peer)
                    .unwrap_or(PEERS.len()) as u8
            }
            (Some(Strategy::SingleThread), _) => 0,
            (Some(Strategy::Rayon), _) => 1,
            (Some(Strategy::WindowSort), _) => 2,
            (None, None) => u8::from(configuration.disk_floor == Some(DiskFloor::Direct)),
        };
        let sink = configuration.sink.map_or(0, |sink| sink as u8);
        let window = configuration.confirm_window.unwrap_or(0) as u64;
        (
            kind,
            grouping,
            who,
            sink,
            window,
            configuration.name.clone(),
        )
    }
}

impl SessionModel {
    /// The session's id (its UTC start).
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Its configurations on `rows` rows of `dataset`.
    pub fn at<'a>(&'a self, dataset: &'a str, rows: u64) -> impl Iterator<Item = &'a Stats> + 'a {
        self.stats.iter().filter(move |stats| {
            stats.configuration.dataset == dataset && stats.configuration.rows == rows
        })
    }

    /// The first configuration on `rows` rows of `dataset` that `test` accepts.
    pub fn find(
        &self,
        dataset: &str,
        rows: u64,
        test: impl Fn(&Configuration) -> bool,
    ) -> Option<&Stats> {
        self.stats.iter().find(|stats| {
            let configuration = &stats.configuration;
            configuration.dataset == dataset && configuration.rows == rows && test(configuration)
        })
    }

    /// `rayon` doing the seed's job: what every peer is divided by.
    pub fn reference(&self, dataset: &str, rows: u64) -> Option<&Stats> {
        self.find(dataset, rows, Configuration::is_reference_export)
    }

    /// The exporting peer `name`, at its own codec (as [`Self::reference`]).
    pub fn peer(&self, dataset: &str, rows: u64, name: &str) -> Option<&Stats> {
        self.find(dataset, rows, |configuration| {
            configuration.is_peer_export()
                && configuration.peer.as_deref() == Some(name)
                && configuration.has_default_knobs()
        })
    }

    /// Exporting peers measured on `rows` rows of `dataset`.
    pub fn peer_exports(&self, dataset: &str, rows: u64) -> usize {
        self.at(dataset, rows)
            .filter(|stats| stats.configuration.is_peer_export())
            .count()
    }

    /// The (dataset, rows) it measured.
    pub fn sizes(&self) -> BTreeSet<(String, u64)> {
        self.stats
            .iter()
            .map(|stats| {
                (
                    stats.configuration.dataset.clone(),
                    stats.configuration.rows,
                )
            })
            .collect()
    }
}

impl Model {
    /// Summarises every loaded session.
    pub fn new(loaded: Vec<LoadedSession>, results: &std::path::Path) -> Model {
        let sessions = loaded
            .into_iter()
            .map(|session| {
                let path = session
                    .path
                    .strip_prefix(results)
                    .unwrap_or(&session.path)
                    .to_path_buf();
                let records = session.records;
                let stats = summarise_session(&records.runs);
                SessionModel {
                    info: records.session,
                    path,
                    stats,
                }
            })
            .collect();
        Model { sessions }
    }

    /// The sessions newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &SessionModel> {
        self.sessions.iter().rev()
    }
}

/// Groups a session's runs by configuration identity, in first-run order.
fn summarise_session(runs: &[RunRecord]) -> Vec<Stats> {
    let mut groups: Vec<(Configuration, Vec<&RunRecord>)> = Vec::new();
    for run in runs {
        let identity = run.configuration.identity();
        match groups.iter_mut().find(|(known, _)| *known == identity) {
            Some((_, members)) => members.push(run),
            None => groups.push((identity, vec![run])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| summarise(&members))
        .collect()
}

fn summarise(runs: &[&RunRecord]) -> Stats {
    let ok: Vec<&RunRecord> = runs
        .iter()
        .copied()
        .filter(|record| record.status == RunStatus::Ok)
        .collect();
    let median_of = |value: fn(&RunRecord) -> f64| -> f64 {
        median(&sorted(ok.iter().map(|record| value(record)))).unwrap_or(0.0)
    };
    let time_v_difference = ok
        .iter()
        .filter_map(|record| {
            let reference = record.time_v_wall_seconds?;
            // /usr/bin/time prints hundredths: allow for its rounding.
            let difference = ((record.wall_seconds - reference).abs() - 0.005).max(0.0);
            Some(difference / reference.max(0.01))
        })
        .max_by(f64::total_cmp);
    Stats {
        configuration: runs[0].configuration.clone(),
        walls: sorted(ok.iter().map(|record| record.wall_seconds)),
        failures: runs
            .iter()
            .filter(|record| record.status == RunStatus::Failed)
            .map(|record| {
                let failure = record.failure.clone();
                FailedRun {
                    run: record.run,
                    wall: record.wall_seconds,
                    peak_rss: record.peak_rss_bytes,
                    user: record.user_seconds,
                    system: record.system_seconds,
                    cause: failure
                        .as_ref()
                        .map_or(FailureCause::Exit, |failure| failure.cause),
                    detail: failure.map_or_else(String::new, |failure| failure.detail),
                }
            })
            .collect(),
        user: median_of(|record| record.user_seconds),
        system: median_of(|record| record.system_seconds),
        peak_rss: median_of(|record| record.peak_rss_bytes as f64) as u64,
        produced_bytes: median_of(|record| record.produced_bytes() as f64) as u64,
        spilled_bytes: median_of(|record| record.counts.spilled_bytes.unwrap_or(0) as f64) as u64,
        messages: median_of(|record| record.counts.messages.unwrap_or(0) as f64) as u64,
        time_v_difference,
        verification: runs.iter().find_map(|record| record.verification.clone()),
        observations: runs
            .iter()
            .flat_map(|record| record.observations.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        settings: ok
            .first()
            .map(|record| record.settings.clone())
            .unwrap_or_default(),
        drained: ok
            .iter()
            .filter_map(|record| record.drained)
            .reduce(|worst, counts| DrainedCounts {
                received: worst.received.max(counts.received),
                duplicates: worst.duplicates.max(counts.duplicates),
                missing: worst.missing.max(counts.missing),
            }),
        broker_restart: runs.iter().find_map(|record| record.broker_restart),
        broker_peak_rss: ok
            .iter()
            .filter_map(|record| record.broker_peak_rss_bytes)
            .max(),
    }
}

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values
}

/// Median of sorted values (mean of the middle two for an even count).
pub fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Whether a configuration is shown in the per-size tables (queue runs,
/// shards, the reader's probes and the memory study have sections of their own).
pub fn in_size_tables(configuration: &Configuration) -> bool {
    matches!(
        configuration.kind,
        RunKind::Generate | RunKind::DiskFloor | RunKind::Export
    ) && !configuration.is_queue()
        && !configuration.pinned_threads
        && !configuration.memory_study
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 10.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
    }
}
