//! "Delivery to a queue": exports into RabbitMQ beside `predbench publish` of
//! the same messages already serialized with the same client and settings
//! (the broker's ceiling on this machine), one session per table.

use predbench_exporter::Grouping;

use super::markdown::{Align, Table, bytes, count, ratio, seconds, short_count, size_title};
use super::model::{Model, SessionModel, Stats};
use crate::record::{DATASET_EDGE_CASES, RunKind};

/// Sizes with queue runs, each with the newest session that measured them.
fn queue_sessions(model: &Model) -> Vec<(String, u64, &SessionModel)> {
    let mut found: Vec<(String, u64, &SessionModel)> = Vec::new();
    for session in model.newest_first() {
        for (dataset, rows) in session.sizes() {
            let has_queue = session
                .at(&dataset, rows)
                .any(|stats| stats.configuration.is_queue());
            let known = found
                .iter()
                .any(|(known, size, _)| *known == dataset && *size == rows);
            if has_queue && !known && dataset != DATASET_EDGE_CASES {
                found.push((dataset, rows, session));
            }
        }
    }
    found.sort_by_key(|(dataset, rows, _)| (dataset.clone(), *rows));
    found
}

/// The drain that read back the queue `export` filled.
fn drain_of<'a>(session: &'a SessionModel, export: &Stats) -> Option<&'a Stats> {
    let configuration = &export.configuration;
    session.find(&configuration.dataset, configuration.rows, |other| {
        other.kind == RunKind::Drain
            && other.grouping == configuration.grouping
            && other.confirm_window == configuration.confirm_window
    })
}

/// The baseline publishing the same messages (grouping) with the same window.
fn baseline_of<'a>(session: &'a SessionModel, export: &Stats) -> Option<&'a Stats> {
    let configuration = &export.configuration;
    session.find(&configuration.dataset, configuration.rows, |other| {
        other.kind == RunKind::Publish
            && other.grouping == configuration.grouping
            && other.confirm_window == configuration.confirm_window
    })
}

fn queue_exports<'a>(session: &'a SessionModel, dataset: &'a str, rows: u64) -> Vec<&'a Stats> {
    let mut exports: Vec<&Stats> = session
        .at(dataset, rows)
        .filter(|stats| {
            stats.configuration.is_queue() && stats.configuration.kind == RunKind::Export
        })
        .collect();
    exports.sort_by_key(|stats| stats.display_order());
    exports
}

/// The section, for the appendix.
pub fn render(model: &Model, used: &mut super::Used) -> String {
    let sessions = queue_sessions(model);
    if sessions.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Delivery to a queue\n\nExports into a RabbitMQ queue on this machine (durable queue, persistent \
         messages, publisher confirms, `message_id` = the group) beside `predbench publish`, which \
         sends the same messages already serialized with the same client and settings: its rate \
         is the broker's ceiling here, and \"× baseline\" is what predbench's own work adds. \
         In sessions with a \"drain s\" column every export was read back by `predbench drain` \
         (a consumer with a prefetch window, acknowledging what it has committed to disk, \
         measured after the export; its parts are LZ4-compressed up to session \
         2026-12-02T05:55:30Z and uncompressed after it, `drain --compression`'s default since); \
         \"verified\" is `predbench verify`'s check of what came back.\n\n",
    );
    for (dataset, rows, session) in sessions {
        used.note(session.id(), "delivery to a queue");
        out.push_str(&format!(
            "### {}\n\nSession {} (commit {}; broker {}).\n\n",
            size_title(&dataset, rows),
            session.id(),
            super::markdown::commit_text(&session.info),
            session
                .info
                .software
                .get("rabbitmq")
                .map_or("version not recorded".to_string(), |version| format!(
                    "RabbitMQ {version}"
                ))
        ));
        let exports = queue_exports(session, &dataset, rows);
        // Sessions before `predbench drain` was measured have no drain columns.
        let drained = exports
            .iter()
            .any(|export| drain_of(session, export).is_some());
        let mut columns = vec![
            ("messages", Align::Left),
            ("confirm window", Align::Right),
            ("export s", Align::Right),
            ("baseline s", Align::Right),
            ("× baseline", Align::Right),
            ("predictions/s", Align::Right),
            ("messages/s", Align::Right),
            ("bytes a message", Align::Right),
            ("peak RSS", Align::Right),
            ("drain s", Align::Right),
            ("drain / export", Align::Right),
            ("verified", Align::Left),
        ];
        if !drained {
            columns.drain(DRAIN_COLUMNS);
        }
        let mut table = Table::new(&columns);
        let mut add_row = |mut cells: Vec<String>| {
            if !drained {
                cells.drain(DRAIN_COLUMNS);
            }
            table.row(cells);
        };
        for export in exports {
            let drain = drain_of(session, export);
            let drain_wall = drain.and_then(Stats::median_wall);
            // Drained and verified: the drain's check; before drains were measured, the export's.
            let checked = drain
                .filter(|drain| drain.verification.is_some())
                .unwrap_or(export);
            let configuration = &export.configuration;
            let baseline = baseline_of(session, export).and_then(Stats::median_wall);
            let messages = grouping_text(export);
            let window = configuration
                .confirm_window
                .map_or_else(String::new, |window| window.to_string());
            let Some(wall) = export.median_wall() else {
                let failure = export
                    .failures
                    .first()
                    .map_or_else(String::new, |failure| failure.describe());
                add_row(vec![
                    messages,
                    window,
                    "✗".to_string(),
                    baseline.map_or_else(String::new, seconds),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    failure,
                ]);
                continue;
            };
            add_row(vec![
                messages,
                window,
                seconds(wall),
                baseline.map_or_else(String::new, seconds),
                baseline.map_or_else(String::new, |baseline| ratio(wall / baseline)),
                count((configuration.rows as f64 / wall) as u64),
                count((export.messages as f64 / wall) as u64),
                bytes(export.produced_bytes / export.messages.max(1)),
                bytes(export.peak_rss),
                drain_wall.map_or_else(String::new, seconds),
                drain_wall.map_or_else(String::new, |drain| ratio(drain / wall)),
                super::decision::verified_cell(checked),
            ]);
        }
        out.push_str(&table.render());
    }
    out
}

/// Where "drain s" and "drain / export" sit among the table's columns.
const DRAIN_COLUMNS: std::ops::Range<usize> = 9..11;

/// `K = 10 (modulo)` or `packed to 256.0 KiB`.
fn grouping_text(stats: &Stats) -> String {
    let configuration = &stats.configuration;
    match (configuration.grouping, configuration.max_message_bytes) {
        (Some(Grouping::Packed), Some(budget)) => format!("packed to {}", bytes(budget)),
        (Some(grouping), _) => format!(
            "K = {} ({})",
            configuration.group_size.unwrap_or(10),
            grouping.name()
        ),
        (None, _) => String::new(),
    }
}

/// The verdict's line: the best delivery rate of each message size in the
/// newest queue session, against the broker's ceiling.
pub fn verdict(model: &Model) -> Option<String> {
    let (dataset, rows, session) = queue_sessions(model)
        .into_iter()
        .max_by_key(|(_, _, session)| session.id().to_string())?;
    let exports = queue_exports(session, &dataset, rows);
    let best = |packed: bool| {
        exports
            .iter()
            .filter(|stats| (stats.configuration.grouping == Some(Grouping::Packed)) == packed)
            .filter_map(|stats| Some((stats.median_wall()?, *stats)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let parts: Vec<String> = [false, true]
        .into_iter()
        .filter_map(|packed| {
            let (wall, stats) = best(packed)?;
            let baseline = baseline_of(session, stats).and_then(Stats::median_wall)?;
            let messages = match (
                stats.configuration.grouping,
                stats.configuration.max_message_bytes,
            ) {
                (Some(Grouping::Packed), Some(budget)) => format!("packed to {}", bytes(budget)),
                _ => format!("of K = {}", stats.configuration.group_size.unwrap_or(10)),
            };
            Some(format!(
                "{} predictions/s as messages {messages} ({}x the time of publishing the same \
                 messages pre-serialized)",
                count((rows as f64 / wall) as u64),
                ratio(wall / baseline)
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "**Into RabbitMQ** (durable queue, persistent messages, publisher confirms, nothing \
             lost): {} at {} rows (session {}); the broker, not predbench, sets that pace.",
            parts.join(", and "),
            short_count(rows),
            session.id()
        )
    })
}
