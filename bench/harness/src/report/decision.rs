//! The decision tables: per dataset size, predbench's `rayon` doing the seed's
//! job beside every exporting peer, all from ONE session (the one that ran
//! the most peers at that size, the newest of those), the divisor printed in
//! the table, failures as rows with their time, memory and cause, and each
//! exporter's handling of NaN and nulls from the newest edge-case session.

use predbench_exporter::{Grouping, Strategy};

use super::markdown::{Align, Table, bytes, count, ratio, seconds, size_title};
use super::model::{Model, SessionModel, Stats};
use crate::peers::peer_named;
use crate::record::{Configuration, DATASET_EDGE_CASES, DATASET_SEED, RunKind, SinkKind};

/// A size with a decision table, and the session it comes from.
pub struct Decision<'a> {
    /// Which dataset.
    pub dataset: String,
    /// Its rows.
    pub rows: u64,
    /// The one session every figure of the table comes from.
    pub session: &'a SessionModel,
}

impl Decision<'_> {
    /// `rayon` doing the seed's job in the session: the divisor.
    pub fn reference(&self) -> &Stats {
        self.session
            .reference(&self.dataset, self.rows)
            .expect("a decision session has the reference export")
    }

    /// The table's rows: `rayon`, `single-thread` (same job), then every
    /// exporting peer at its best, in the peers' order.
    pub fn rows(&self) -> Vec<&Stats> {
        let mut rows = vec![self.reference()];
        rows.extend(
            self.session
                .find(&self.dataset, self.rows, |configuration| {
                    configuration.kind == RunKind::Export
                        && configuration.peer.is_none()
                        && configuration.strategy == Some(Strategy::SingleThread)
                        && configuration.grouping == Some(Grouping::Modulo)
                        && configuration.sink == Some(SinkKind::Parquet)
                        && configuration.has_default_knobs()
                }),
        );
        rows.extend(self.peers());
        rows
    }

    /// Every exporting peer's variants at each one's own codec, in the peers' order.
    pub fn variants(&self) -> Vec<&Stats> {
        let mut variants: Vec<&Stats> = self
            .session
            .at(&self.dataset, self.rows)
            .filter(|stats| {
                stats.configuration.is_peer_export() && stats.configuration.output_codec.is_none()
            })
            .collect();
        variants.sort_by_key(|stats| stats.display_order());
        variants
    }

    /// Every tool at its best: of each family's variants, the fastest whose
    /// output verified, else the first; in the peers' order.
    pub fn peers(&self) -> Vec<&Stats> {
        let mut best: Vec<&Stats> = Vec::new();
        for stats in self.variants() {
            let family = family_of(&stats.configuration);
            match best
                .iter()
                .position(|known| family_of(&known.configuration) == family)
            {
                Some(index) if better(stats, best[index]) => best[index] = stats,
                Some(_) => {}
                None => best.push(stats),
            }
        }
        best
    }

    /// `6,000,000 rows, the seed generator's files`.
    pub fn title(&self) -> String {
        size_title(&self.dataset, self.rows)
    }
}

/// The family of a peer's configuration: the tool its variants are ways of using.
pub fn family_of(configuration: &Configuration) -> &str {
    let name = configuration.peer.as_deref().unwrap_or("");
    peer_named(name).map_or(name, |peer| peer.family)
}

/// Whether `candidate` beats `known` as its family's row: verified over
/// not, then the faster median.
fn better(candidate: &Stats, known: &Stats) -> bool {
    let verified = |stats: &Stats| stats.verification.as_ref().is_some_and(|check| check.ok);
    match (verified(candidate), verified(known)) {
        (true, false) => true,
        (false, true) => false,
        _ => match (candidate.median_wall(), known.median_wall()) {
            (Some(candidate), Some(known)) => candidate < known,
            (Some(_), None) => true,
            (None, _) => false,
        },
    }
}

/// The sizes with a decision table: those where a session ran `rayon` and at
/// least one exporting peer; on the seed's files when any such size is.
pub fn decisions(model: &Model) -> Vec<Decision<'_>> {
    let mut sizes: Vec<(String, u64)> = model
        .sessions
        .iter()
        .flat_map(|session| session.sizes())
        .filter(|(dataset, _)| dataset != DATASET_EDGE_CASES)
        .collect();
    sizes.sort();
    sizes.dedup();
    let mut decisions: Vec<Decision> = sizes
        .into_iter()
        .filter_map(|(dataset, rows)| {
            let session = model
                .sessions
                .iter()
                .filter(|session| session.reference(&dataset, rows).is_some())
                .filter(|session| session.peer_exports(&dataset, rows) > 0)
                .max_by_key(|session| (session.peer_exports(&dataset, rows), session.id()))?;
            Some(Decision {
                dataset,
                rows,
                session,
            })
        })
        .collect();
    if decisions
        .iter()
        .any(|decision| decision.dataset == DATASET_SEED)
    {
        decisions.retain(|decision| decision.dataset == DATASET_SEED);
    }
    decisions.sort_by_key(|decision| decision.rows);
    decisions
}

/// How each exporter writes NaN and nulls, from the newest session that ran
/// the small table with NaN and nulls.
pub struct Conventions<'a> {
    /// That session, if any.
    pub session: Option<&'a SessionModel>,
}

impl<'a> Conventions<'a> {
    /// From the newest edge-case session of `model`.
    pub fn of(model: &'a Model) -> Conventions<'a> {
        Conventions {
            session: model.newest_first().find(|session| {
                session
                    .sizes()
                    .iter()
                    .any(|(dataset, _)| dataset == DATASET_EDGE_CASES)
            }),
        }
    }

    /// What `configuration`'s exporter did with NaN and nulls, in a few words.
    pub fn describe(&self, configuration: &Configuration) -> String {
        let Some(session) = self.session else {
            return String::new();
        };
        let Some((_, rows)) = session
            .sizes()
            .into_iter()
            .find(|(dataset, _)| dataset == DATASET_EDGE_CASES)
        else {
            return String::new();
        };
        // The edge cases run one variant of each tool: the family's first.
        let found = match &configuration.peer {
            Some(_) => session.peer(DATASET_EDGE_CASES, rows, family_of(configuration)),
            None if configuration.is_reference_export() => {
                session.reference(DATASET_EDGE_CASES, rows)
            }
            None => None,
        };
        match found {
            None => String::new(),
            Some(stats) if stats.failed() => "did not run".to_string(),
            Some(stats) => match &stats.verification {
                Some(check) if check.ok => "as Spark".to_string(),
                Some(check) => check
                    .reason
                    .clone()
                    .unwrap_or_else(|| "not as Spark".to_string()),
                None => String::new(),
            },
        }
    }
}

/// What the table calls an exporter.
pub fn exporter_label(configuration: &Configuration) -> String {
    match (&configuration.peer, configuration.strategy) {
        (Some(peer), _) => {
            peer_named(peer).map_or_else(|| peer.clone(), |peer| peer.label.to_string())
        }
        (None, Some(strategy)) => format!("predbench `{}`", strategy.name()),
        (None, None) => configuration.name.clone(),
    }
}

/// "✓", or the first problem in a few words.
pub fn verified_cell(stats: &Stats) -> String {
    match &stats.verification {
        Some(check) if check.ok => "✓".to_string(),
        Some(check) => check
            .reason
            .clone()
            .unwrap_or_else(|| "not verified".to_string()),
        None if stats.failed() => String::new(),
        None => "not checked".to_string(),
    }
}

/// The page compression an exporter wrote its Parquet output with, as
/// predbench names codecs, from the settings it reported; `—` when it
/// reported none (the sessions before peers recorded their codec); nothing
/// for a run that wrote nothing.
pub fn codec_of(stats: &Stats) -> String {
    if stats.failed() {
        return String::new();
    }
    let reported = ["compression", "parquet_compression"]
        .iter()
        .find_map(|name| stats.settings.get(*name).and_then(|value| value.as_str()))
        .unwrap_or("");
    // Older peers said "zstd (Polars' default)"; Spark names LZ4_RAW lz4_raw.
    match reported.split_whitespace().next().unwrap_or("") {
        "lz4_raw" => "lz4".to_string(),
        "uncompressed" => "none".to_string(),
        "" => "—".to_string(),
        codec => codec.to_string(),
    }
}

/// The peer that runs predbench's shards as Spark tasks.
pub const ON_SPARK: &str = "predbench-on-spark";

/// The decision table of one size, with the line naming its session and divisor.
pub fn render(decision: &Decision, conventions: &Conventions) -> String {
    let reference = decision.reference();
    let divisor = reference.median_wall();
    let mut table = Table::new(&[
        ("exporter", Align::Left),
        ("runs", Align::Right),
        ("wall s", Align::Right),
        (
            &match divisor {
                Some(divisor) => format!("× rayon ({} s)", seconds(divisor)),
                None => "× rayon".to_string(),
            },
            Align::Right,
        ),
        ("CPU user s", Align::Right),
        ("CPU sys s", Align::Right),
        ("peak RSS", Align::Right),
        ("codec", Align::Left),
        ("output bytes", Align::Right),
        ("output", Align::Left),
        ("NaN and nulls", Align::Left),
    ]);
    let mut partial_cpu = false;
    for stats in decision.rows() {
        partial_cpu |= stats.configuration.peer.as_deref() == Some(ON_SPARK);
        table.row(decision_row(stats, divisor, conventions));
    }
    let session = decision.session;
    let mut out = format!(
        "**{}** — session {} (commit {}, {}):\n\n",
        decision.title(),
        session.id(),
        super::markdown::commit_text(&session.info),
        runs_text(&decision.rows()),
    );
    out.push_str(&table.render());
    if partial_cpu {
        out.push_str(
            "predbench's shards on Spark show no CPU seconds: its shards run under Spark's \
             executors in processes whose usage does not reach the one compare waits for, so \
             the process tree's count leaves them out; its peak RSS is the largest process \
             that reached it.\n\n",
        );
    }
    if let Some(line) = generators_line(decision) {
        out.push_str(&line);
        out.push_str("\n\n");
    }
    out
}

/// One exporter's row: its median and CPU, or how its runs ended.
/// `3 runs each, median`, or, where the rows ran different numbers of times
/// (`--peer-runs`), the range and where the runs column says which.
fn runs_text(rows: &[&Stats]) -> String {
    let fewest = rows.iter().map(|stats| stats.runs()).min().unwrap_or(0);
    let most = rows.iter().map(|stats| stats.runs()).max().unwrap_or(0);
    match (fewest, most) {
        (1, 1) => "1 run each".to_string(),
        (runs, most) if runs == most => format!("{runs} runs each, median"),
        (fewest, most) => format!(
            "{fewest} to {most} runs a row as the runs column says, the median where more than one"
        ),
    }
}

fn decision_row(stats: &Stats, divisor: Option<f64>, conventions: &Conventions) -> Vec<String> {
    let configuration = &stats.configuration;
    // Spark's executors are not in the process tree compare waits for.
    let on_spark = configuration.peer.as_deref() == Some(ON_SPARK);
    let cpu = |user: f64, system: f64| {
        if on_spark {
            ["—".to_string(), "—".to_string()]
        } else {
            [format!("{user:.1}"), format!("{system:.1}")]
        }
    };
    let mut label = exporter_label(configuration);
    if configuration.is_reference_export() {
        label.push_str(" (divisor)");
    }
    let cells = match (stats.median_wall(), stats.failures.first()) {
        (Some(wall), _) => {
            let [user, system] = cpu(stats.user, stats.system);
            vec![
                if stats.failures.is_empty() {
                    stats.runs().to_string()
                } else {
                    format!("{} of {} ok", stats.walls.len(), stats.runs())
                },
                seconds(wall),
                divisor.map_or_else(String::new, |divisor| ratio(wall / divisor)),
                user,
                system,
                bytes(stats.peak_rss),
                codec_of(stats),
                bytes(stats.produced_bytes),
                verified_cell(stats),
            ]
        }
        (None, Some(failure)) => {
            let [user, system] = cpu(failure.user, failure.system);
            vec![
                stats.runs().to_string(),
                format!("{} ✗", seconds(failure.wall)),
                "—".to_string(),
                user,
                system,
                bytes(failure.peak_rss),
                codec_of(stats),
                String::new(),
                failure.describe(),
            ]
        }
        (None, None) => unreachable!("a configuration has runs"),
    };
    let mut row = vec![label];
    row.extend(cells);
    row.push(conventions.describe(configuration));
    row
}

/// Both generators of the same session, side by side.
fn generators_line(decision: &Decision) -> Option<String> {
    let generator = |peer: bool| {
        decision
            .session
            .find(&decision.dataset, decision.rows, |configuration| {
                configuration.kind == RunKind::Generate && configuration.peer.is_some() == peer
            })
    };
    let (ours, theirs) = (generator(false)?, generator(true)?);
    let (ours_wall, theirs_wall) = (ours.median_wall()?, theirs.median_wall()?);
    Some(format!(
        "Making the table ({} rows): `predbench generate` {} s ({}), the seed's generator {} s \
         ({}): {:.1}x faster, same session.",
        count(decision.rows),
        seconds(ours_wall),
        bytes(ours.peak_rss),
        seconds(theirs_wall),
        bytes(theirs.peak_rss),
        theirs_wall / ours_wall
    ))
}
