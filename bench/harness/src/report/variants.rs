//! Every peer at its best, shown: the variants each tool's users would try,
//! measured in the decision sessions beside the one the decision table kept;
//! and the exporters at one output codec (`compare --output-codec`), so the
//! time at equal output is read beside the time at each one's own codec.

use super::Used;
use super::decision::{Decision, codec_of, exporter_label, family_of, verified_cell};
use super::markdown::{Align, Table, bytes, ratio, seconds, size_title};
use super::model::{Model, Stats};
use crate::record::{DATASET_EDGE_CASES, RunKind};

/// What the variants section says first.
const VARIANTS_INTRODUCTION: &str = "## Every peer's variants\n\nThe ways a user of each tool \
    would write the job (its engines, its spill settings), measured in the same session on \
    the same files; the decision table keeps the fastest whose output verified (marked \
    \"kept\"). \"output\" is `predbench verify`: DuckDB, Polars and chDB number rows in file \
    order as predbench does and are checked group by group in any message order; Spark and \
    Sail number rows in their own partitions' order and are checked by id.\n\n";

/// The variants of every tool that has more than one, per decision session.
pub fn render_variants(decisions: &[Decision]) -> String {
    let mut out = String::new();
    for decision in decisions {
        let kept = decision.peers();
        let variants: Vec<&Stats> = decision
            .variants()
            .into_iter()
            .filter(|stats| {
                let family = family_of(&stats.configuration);
                decision
                    .variants()
                    .iter()
                    .filter(|other| family_of(&other.configuration) == family)
                    .count()
                    > 1
            })
            .collect();
        if variants.is_empty() {
            continue;
        }
        let divisor = decision.reference().median_wall();
        let mut columns = row_columns("variant");
        columns.push(("in the decision table", Align::Left));
        let mut table = Table::new(&columns);
        for stats in variants {
            let chosen = kept.iter().any(|kept| std::ptr::eq(*kept, stats));
            let mut cells = row(stats, divisor);
            cells.push(if chosen { "kept" } else { "—" }.to_string());
            table.row(cells);
        }
        out.push_str(&format!(
            "### {} — session {}\n\n{}",
            size_title(&decision.dataset, decision.rows),
            decision.session.id(),
            table.render()
        ));
    }
    if out.is_empty() {
        return out;
    }
    format!("{VARIANTS_INTRODUCTION}{out}")
}

/// A variant's or an exporter's row: time, memory, what it wrote.
/// The columns [`row`] fills, the first named `first`.
fn row_columns(first: &'static str) -> Vec<(&'static str, Align)> {
    vec![
        (first, Align::Left),
        ("runs", Align::Right),
        ("wall s", Align::Right),
        ("× rayon", Align::Right),
        ("peak RSS", Align::Right),
        ("codec", Align::Left),
        ("output bytes", Align::Right),
        ("output", Align::Left),
    ]
}

/// One exporter's cells under [`row_columns`].
fn row(stats: &Stats, divisor: Option<f64>) -> Vec<String> {
    let wall = stats.median_wall();
    let failure = stats.failures.first();
    vec![
        exporter_label(&stats.configuration),
        stats.runs().to_string(),
        match (wall, failure) {
            (Some(wall), _) => seconds(wall),
            (None, Some(failure)) => format!("{} ✗", seconds(failure.wall)),
            (None, None) => String::new(),
        },
        wall.zip(divisor)
            .map_or_else(String::new, |(wall, divisor)| ratio(wall / divisor)),
        bytes(wall.map_or_else(|| failure.map_or(0, |f| f.peak_rss), |_| stats.peak_rss)),
        codec_of(stats),
        if wall.is_some() {
            bytes(stats.produced_bytes)
        } else {
            String::new()
        },
        match (wall, failure) {
            (None, Some(failure)) => failure.describe(),
            _ => verified_cell(stats),
        },
    ]
}

/// Every session that ran its exporters at one codec, newest first per size.
pub fn render_equal_codec(model: &Model, used: &mut Used) -> String {
    let mut out = String::new();
    for session in model.newest_first() {
        for (dataset, rows) in session.sizes() {
            if dataset == DATASET_EDGE_CASES {
                continue;
            }
            let mut exports: Vec<&Stats> = session
                .at(&dataset, rows)
                .filter(|stats| {
                    let configuration = &stats.configuration;
                    configuration.kind == RunKind::Export
                        && configuration.output_codec.is_some()
                        && !configuration.is_queue()
                })
                .collect();
            if exports.is_empty() {
                continue;
            }
            exports.sort_by_key(|stats| stats.display_order());
            let divisor = exports
                .iter()
                .find(|stats| {
                    let configuration = &stats.configuration;
                    configuration.peer.is_none()
                        && configuration.strategy == Some(predbench_exporter::Strategy::Rayon)
                })
                .and_then(|stats| stats.median_wall());
            let mut table = Table::new(&row_columns("exporter"));
            for stats in exports {
                table.row(row(stats, divisor));
            }
            used.note(session.id(), "at one output codec");
            out.push_str(&format!(
                "### {} — session {}\n\n{}",
                size_title(&dataset, rows),
                session.id(),
                table.render()
            ));
        }
    }
    if out.is_empty() {
        return out;
    }
    format!(
        "## At one output codec\n\nEvery exporter writing its Parquet output with the same page \
         compression (`compare --output-codec`), so that the times compare at equal output; \
         \"× rayon\" divides by predbench's `rayon` at that codec.\n\n{out}"
    )
}
