//! What memory buys (`compare --memory-study`): the seed's own question. An
//! online application's machine must not feel the export; a dedicated one
//! should use all it has. Per size, from the newest session that ran the
//! study: every point's time and peak RSS, the fastest configuration under
//! each memory cap (predbench's and the peers' of the same session), and a
//! chart of time against peak RSS with the peers' points on it.

mod chart;

pub use chart::charts;

use super::Used;
use super::decision::{ON_SPARK, exporter_label, verified_cell};
use super::markdown::{Align, Table, bytes, seconds, short_count, size_stem, size_title};
use super::model::{Model, SessionModel, Stats};
use crate::record::{DATASET_EDGE_CASES, RunKind};
use predbench_exporter::Strategy;

/// The memory caps the report reads the study at.
const CAPS: [u64; 8] = [
    128 << 20,
    256 << 20,
    512 << 20,
    1 << 30,
    2 << 30,
    4 << 30,
    8 << 30,
    16 << 30,
];

/// One size's study: its points and the peers measured beside them.
pub struct Study<'a> {
    session: &'a SessionModel,
    dataset: String,
    rows: u64,
    points: Vec<&'a Stats>,
    peers: Vec<&'a Stats>,
}

/// Per size, the newest session that ran the memory study.
pub fn studies(model: &Model) -> Vec<Study<'_>> {
    let mut found: Vec<Study> = Vec::new();
    for session in model.newest_first() {
        for (dataset, rows) in session.sizes() {
            let known = found
                .iter()
                .any(|study| study.dataset == dataset && study.rows == rows);
            if known || dataset == DATASET_EDGE_CASES {
                continue;
            }
            let here = |stats: &&Stats| {
                stats.configuration.dataset == dataset && stats.configuration.rows == rows
            };
            let mut points: Vec<&Stats> = session
                .stats
                .iter()
                .filter(here)
                .filter(|stats| stats.configuration.memory_study)
                .collect();
            if points.is_empty() {
                continue;
            }
            points.sort_by_key(|stats| stats.peak_rss);
            let peers = session
                .stats
                .iter()
                .filter(here)
                .filter(|stats| {
                    let configuration = &stats.configuration;
                    // predbench's shards on Spark are predbench, not a peer.
                    configuration.kind == RunKind::Export
                        && configuration.is_peer_export()
                        && configuration.peer.as_deref() != Some(ON_SPARK)
                        && configuration.has_default_knobs()
                })
                .collect();
            found.push(Study {
                session,
                dataset,
                rows,
                points,
                peers,
            });
        }
    }
    found.sort_by_key(|study| (study.dataset.clone(), study.rows));
    found
}

/// The report's section: per study, the caps table, the points table and the chart's link.
pub fn render(studies: &[Study], used: &mut Used) -> String {
    if studies.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## What memory buys\n\nThe seed's question: the right export depends on what else the \
         machine does. An online application's host must not feel the export's memory; a \
         dedicated machine should use all of it. predbench's strategies doing the seed's job \
         (modulo, Parquet) across the knobs that trade memory for time: `rayon` on 1 to all \
         threads and its chunk size (it holds threads + 2 chunks), `single-thread`, and \
         `window-sort` at memory budgets small enough to make it spill; beside them, the peers \
         of the same session. Under each cap, the fastest configuration whose peak RSS fits and \
         whose output verified.\n\n",
    );
    for study in studies {
        used.note(study.session.id(), "what memory buys");
        out.push_str(&format!(
            "### {} — session {}\n\n{}{}![memory-study-{stem}.svg](charts/memory-study-{stem}.svg)\n\n",
            size_title(&study.dataset, study.rows),
            study.session.id(),
            caps_table(study),
            points_table(study),
            stem = size_stem(&study.dataset, study.rows),
        ));
    }
    out
}

/// The verdict's line, from the largest size's study: the leanest and the
/// fastest configuration that verified, and what the leanest peer needed.
pub fn verdict_line(studies: &[Study]) -> Option<String> {
    let study = studies.iter().max_by_key(|study| study.rows)?;
    let usable_points: Vec<(&Stats, f64)> = study
        .points
        .iter()
        .filter(|stats| usable(stats))
        .filter_map(|stats| Some((*stats, stats.median_wall()?)))
        .collect();
    let leanest = usable_points
        .iter()
        .min_by_key(|(stats, _)| stats.peak_rss)?;
    let fastest = usable_points.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    let describe = |(stats, wall): &(&Stats, f64)| {
        format!(
            "{}: {} s{} in {}",
            point_label(stats),
            seconds(*wall),
            stats.spread(),
            bytes(stats.peak_rss)
        )
    };
    let peer = study
        .peers
        .iter()
        .filter(|stats| usable(stats))
        .filter_map(|stats| Some((*stats, stats.median_wall()?)))
        .min_by_key(|(stats, _)| stats.peak_rss)
        .map_or_else(
            || "no peer of the session finished and verified".to_string(),
            |(stats, wall)| {
                format!(
                    "the leanest peer, {}, needed {} ({} s)",
                    exporter_label(&stats.configuration),
                    bytes(stats.peak_rss),
                    seconds(wall)
                )
            },
        );
    Some(format!(
        "**What memory buys** ({} rows, session {}): the leanest configuration, {}; the \
         fastest, {}; {}. The fastest configuration under each memory cap is in the report's \
         \"What memory buys\".",
        short_count(study.rows),
        study.session.id(),
        describe(leanest),
        describe(fastest),
        peer
    ))
}

/// What a point is, in a few words: `rayon, 1 thread, chunk 4,096 rows`.
fn point_label(stats: &Stats) -> String {
    let configuration = &stats.configuration;
    let threads = format!(
        "{} thread{}",
        configuration.threads,
        if configuration.threads == 1 { "" } else { "s" }
    );
    match (configuration.strategy, configuration.chunk_rows) {
        (Some(Strategy::WindowSort), _) => format!(
            "`window-sort`, {threads}, budget {}",
            bytes(configuration.memory_budget.unwrap_or(0))
        ),
        (Some(strategy), Some(chunk_rows)) => format!(
            "`{strategy}`, {threads}, chunk {} rows",
            predbench_common::units::count(chunk_rows)
        ),
        (_, _) => exporter_label(configuration),
    }
}

/// Whether a run can be named under a cap: it finished and verified.
fn usable(stats: &Stats) -> bool {
    !stats.failed() && !stats.not_verified()
}

/// The fastest usable run among `candidates` whose peak RSS fits under `cap`.
fn fastest_under<'a>(candidates: &[&'a Stats], cap: u64) -> Option<(&'a Stats, f64)> {
    candidates
        .iter()
        .filter(|stats| usable(stats) && stats.peak_rss <= cap)
        .filter_map(|stats| Some((*stats, stats.median_wall()?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Per cap, predbench's fastest point and the fastest peer that fit; a cap
/// whose choices are the smaller cap's is left out.
fn caps_table(study: &Study) -> String {
    let mut table = Table::new(&[
        ("memory cap", Align::Right),
        ("predbench's fastest under it", Align::Left),
        ("wall s", Align::Right),
        ("peak RSS", Align::Right),
        ("fastest peer under it", Align::Left),
        ("peer wall s", Align::Right),
        ("peer peak RSS", Align::Right),
    ]);
    let mut previous: Option<(Option<&Stats>, Option<&Stats>)> = None;
    for cap in CAPS {
        let ours = fastest_under(&study.points, cap);
        let theirs = fastest_under(&study.peers, cap);
        let chosen = (ours.map(|(stats, _)| stats), theirs.map(|(stats, _)| stats));
        let same = |a: Option<&Stats>, b: Option<&Stats>| match (a, b) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (None, None) => true,
            _ => false,
        };
        let unchanged = previous.is_some_and(|(a, b)| same(a, chosen.0) && same(b, chosen.1));
        if ours.is_none() && theirs.is_none() || unchanged {
            continue;
        }
        previous = Some(chosen);
        table.row(vec![
            bytes(cap),
            ours.map_or_else(String::new, |(stats, _)| point_label(stats)),
            ours.map_or_else(String::new, |(stats, wall)| {
                format!("{}{}", seconds(wall), stats.spread())
            }),
            ours.map_or_else(String::new, |(stats, _)| bytes(stats.peak_rss)),
            theirs.map_or_else(
                || "none fits".to_string(),
                |(stats, _)| exporter_label(&stats.configuration),
            ),
            theirs.map_or_else(String::new, |(stats, wall)| {
                format!("{}{}", seconds(wall), stats.spread())
            }),
            theirs.map_or_else(String::new, |(stats, _)| bytes(stats.peak_rss)),
        ]);
    }
    format!(
        "{}A cap not listed chooses as the largest listed cap below it.\n\n",
        table.render()
    )
}

/// Every point, by peak RSS.
fn points_table(study: &Study) -> String {
    let mut table = Table::new(&[
        ("configuration", Align::Left),
        ("runs", Align::Right),
        ("wall s", Align::Right),
        ("CPU user s", Align::Right),
        ("CPU sys s", Align::Right),
        ("peak RSS", Align::Right),
        ("spilled", Align::Right),
        ("output", Align::Left),
    ]);
    for stats in &study.points {
        let wall = stats.median_wall();
        let failure = stats.failures.first();
        table.row(vec![
            point_label(stats),
            stats.runs().to_string(),
            match (wall, failure) {
                (Some(wall), _) => format!("{}{}", seconds(wall), stats.spread()),
                (None, Some(failure)) => format!("{} ✗", seconds(failure.wall)),
                (None, None) => String::new(),
            },
            format!("{:.1}", stats.user),
            format!("{:.1}", stats.system),
            bytes(stats.peak_rss),
            if stats.spilled_bytes > 0 {
                bytes(stats.spilled_bytes)
            } else {
                String::new()
            },
            match (wall, failure) {
                (None, Some(failure)) => failure.describe(),
                _ => verified_cell(stats),
            },
        ]);
    }
    table.hide_empty(&["spilled"]);
    format!(
        "Every point of the study, by peak RSS:\n\n{}",
        table.render()
    )
}
