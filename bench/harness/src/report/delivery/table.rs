//! One session's table of predbench's exports into a queue: each beside its
//! baseline (the same messages pre-serialized), with its rate, memory, the
//! broker's memory, its drain and the verdict on what came back.

use super::super::markdown::{Align, Table, bytes, count, ratio, seconds};
use super::super::model::{SessionModel, Stats};
use super::{baseline_of, cpu_cell, drain_of, grouping_text, queue_exports};
use crate::record::SinkKind;

/// The table's columns; the broker's and the drain's are left out of a
/// session that measured neither.
const COLUMNS: [(&str, Align); 15] = [
    ("messages", Align::Left),
    ("confirm window", Align::Right),
    ("export s", Align::Right),
    ("CPU user / sys s", Align::Right),
    ("baseline s", Align::Right),
    ("baseline CPU user / sys s", Align::Right),
    ("× baseline", Align::Right),
    ("predictions/s", Align::Right),
    ("messages/s", Align::Right),
    ("bytes a message", Align::Right),
    ("peak RSS", Align::Right),
    ("broker peak RSS", Align::Right),
    ("drain s", Align::Right),
    ("drain / export", Align::Right),
    ("verified", Align::Left),
];

/// The columns a session without them does not show.
const OPTIONAL_COLUMNS: [&str; 3] = ["broker peak RSS", "drain s", "drain / export"];

/// predbench's exports at a size, one row each.
pub(super) fn render(session: &SessionModel, dataset: &str, rows: u64, sink: SinkKind) -> String {
    let mut table = Table::new(&COLUMNS);
    for export in queue_exports(session, dataset, rows, sink) {
        table.row(row(session, export));
    }
    table.hide_empty(&OPTIONAL_COLUMNS);
    table.render()
}

/// One export's row: beside its baseline, drained and verified.
fn row(session: &SessionModel, export: &Stats) -> Vec<String> {
    let configuration = &export.configuration;
    let drain = drain_of(session, export);
    // Drained and verified: the drain's check; before drains were measured, the export's.
    let checked = drain
        .filter(|drain| drain.verification.is_some())
        .unwrap_or(export);
    let baseline_stats = baseline_of(session, export);
    let baseline = baseline_stats.and_then(Stats::median_wall);
    let baseline_cpu = baseline_stats
        .filter(|stats| stats.median_wall().is_some())
        .map_or_else(String::new, cpu_cell);
    let window = configuration
        .confirm_window
        .map_or_else(String::new, |window| window.to_string());
    let Some(wall) = export.median_wall() else {
        let failure = export
            .failures
            .first()
            .map_or_else(String::new, |failure| failure.describe());
        let mut cells = vec![String::new(); COLUMNS.len()];
        cells[0] = grouping_text(export);
        cells[1] = window;
        cells[2] = "✗".to_string();
        cells[4] = baseline.map_or_else(String::new, seconds);
        cells[5] = baseline_cpu;
        cells[14] = failure;
        return cells;
    };
    let drain_wall = drain.and_then(Stats::median_wall);
    vec![
        grouping_text(export),
        window,
        seconds(wall),
        cpu_cell(export),
        baseline.map_or_else(String::new, seconds),
        baseline_cpu,
        baseline.map_or_else(String::new, |baseline| ratio(wall / baseline)),
        count((configuration.rows as f64 / wall) as u64),
        count((export.messages as f64 / wall) as u64),
        bytes(export.produced_bytes / export.messages.max(1)),
        bytes(export.peak_rss),
        export.broker_peak_rss.map_or_else(String::new, bytes),
        drain_wall.map_or_else(String::new, seconds),
        drain_wall.map_or_else(String::new, |drain| ratio(drain / wall)),
        super::super::decision::verified_cell(checked),
    ]
}

/// How the baselines of a size ran, when not as the section's header says:
/// a share of the messages published over and over, drained beside.
pub(super) fn baseline_note(
    session: &SessionModel,
    dataset: &str,
    rows: u64,
    sink: SinkKind,
) -> String {
    let Some(baseline) = session.at(dataset, rows).find(|stats| {
        let configuration = &stats.configuration;
        configuration.is_queue_baseline()
            && configuration.sink == Some(sink)
            && configuration.shard.is_some_and(|shard| shard.count > 1)
    }) else {
        return String::new();
    };
    let passes = baseline.configuration.shard.map_or(1, |shard| shard.count);
    let beside =
        drain_of(session, baseline).is_some_and(|drain| drain.configuration.beside_publisher);
    format!(
        "The baselines at this size publish the messages of 1/{passes} of the rows (`export \
         --shard 0/{passes}`) {passes} times over (`compare --baseline-passes {passes}`): as many \
         messages as the export's, of the same sizes, from 1/{passes} of the disk; re-read \
         from the page cache, which if anything flatters the baseline.{}\n",
        if beside {
            " Their queues were drained beside them, as the exports' were."
        } else {
            ""
        }
    ) + "\n"
}
