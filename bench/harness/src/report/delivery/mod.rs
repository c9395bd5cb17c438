//! "Delivery to a queue": exports into RabbitMQ beside `predbench publish` of
//! the same messages already serialized with the same client and settings
//! (the broker's ceiling on this machine), one session per table.

use predbench_exporter::Grouping;

use super::markdown::{Align, Table, bytes, count, ratio, seconds, short_count, size_title};
use super::model::{Model, SessionModel, Stats};
use crate::compare::peers::{PEERS, SEED_JOB, peer_named};
use crate::record::{Configuration, DATASET_EDGE_CASES, RunKind};

/// Sizes with queue runs, each with its sessions, newest first: a session
/// is left out only when a newer one at the same size measured every queue
/// configuration it did (a session of the Spark publisher alone does not
/// hide the one that also ran the pika publishers).
fn queue_sessions(model: &Model) -> Vec<(String, u64, &SessionModel)> {
    let mut found: Vec<(String, u64, &SessionModel)> = Vec::new();
    for session in model.newest_first() {
        for (dataset, rows) in session.sizes() {
            if dataset == DATASET_EDGE_CASES {
                continue;
            }
            let measured = queue_configurations(session, &dataset, rows);
            let covered = found
                .iter()
                .filter(|(known, size, _)| *known == dataset && *size == rows)
                .any(|(_, _, newer)| {
                    let newer = queue_configurations(newer, &dataset, rows);
                    measured.iter().all(|name| newer.contains(name))
                });
            if !measured.is_empty() && !covered {
                found.push((dataset, rows, session));
            }
        }
    }
    // Stable: newest first within a size.
    found.sort_by_key(|(dataset, rows, _)| (dataset.clone(), *rows));
    found
}

/// The names of the queue configurations a session measured at a size.
fn queue_configurations<'a>(
    session: &'a SessionModel,
    dataset: &'a str,
    rows: u64,
) -> Vec<&'a str> {
    session
        .at(dataset, rows)
        .filter(|stats| stats.configuration.is_queue())
        .map(|stats| stats.configuration.name.as_str())
        .collect()
}

/// The drain that read back the queue `export` (predbench's, a peer's or a
/// baseline's, which is drained beside it with `--drain-beside`) filled.
fn drain_of<'a>(session: &'a SessionModel, export: &Stats) -> Option<&'a Stats> {
    let configuration = &export.configuration;
    let baseline = configuration.is_queue_baseline();
    session
        .find(&configuration.dataset, configuration.rows, |other| {
            other.kind == RunKind::Drain
                && other.drains_baseline == baseline
                && other.grouping == configuration.grouping
                && other.confirm_window == configuration.confirm_window
                && other.peer == configuration.peer
                && other.queue_type == configuration.queue_type
                && other.broker_restart_at == configuration.broker_restart_at
        })
        .filter(|drain| drain_could_read(drain, configuration))
}

/// Whether a drain's counts mean anything: a queue published out of
/// `message_id` order (Spark's tasks) read in order stalls, and before the
/// drain said so (sessions up to 2026-12-02T09:23:49Z) it counted the rest
/// as missing; only `--any-order` reads such a queue.
fn drain_could_read(drain: &Stats, publisher: &Configuration) -> bool {
    let in_order = publisher
        .peer
        .as_deref()
        .and_then(peer_named)
        .is_none_or(|peer| peer.publishes_in_order);
    in_order
        || drain
            .configuration
            .command
            .iter()
            .any(|word| word == "--any-order")
}

/// What the report says instead of a check for a queue no drain read back
/// (Spark's, published out of `message_id` order, before `drain --any-order`).
const NOT_READ: &str = "not read back: published out of `message_id` order, and drained in order (before `drain --any-order`)";

/// The baseline publishing the same messages (grouping) with the same window.
fn baseline_of<'a>(session: &'a SessionModel, export: &Stats) -> Option<&'a Stats> {
    let configuration = &export.configuration;
    session.find(&configuration.dataset, configuration.rows, |other| {
        other.kind == RunKind::Publish
            && other.peer.is_none()
            && other.grouping == configuration.grouping
            && other.confirm_window == configuration.confirm_window
            && other.queue_type == configuration.queue_type
            && other.broker_restart_at.is_none()
    })
}

/// predbench's exports to a queue at this size, in table order.
fn queue_exports<'a>(session: &'a SessionModel, dataset: &'a str, rows: u64) -> Vec<&'a Stats> {
    let mut exports = predbench_queue_exports(session, dataset, rows, false);
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
        // Sessions before the broker's memory was sampled have no broker column.
        let broker_measured = exports
            .iter()
            .any(|export| export.broker_peak_rss.is_some());
        let columns = [
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
        let keep: Vec<bool> = (0..columns.len())
            .map(|column| match column {
                BROKER_COLUMN => broker_measured,
                column if DRAIN_COLUMNS.contains(&column) => drained,
                _ => true,
            })
            .collect();
        let shown = |cells: Vec<String>| -> Vec<String> {
            cells
                .into_iter()
                .zip(&keep)
                .filter_map(|(cell, keep)| keep.then_some(cell))
                .collect()
        };
        let headers: Vec<(&str, Align)> = columns
            .iter()
            .zip(&keep)
            .filter_map(|(column, keep)| keep.then_some(*column))
            .collect();
        let mut table = Table::new(&headers);
        let mut add_row = |cells: Vec<String>| table.row(shown(cells));
        for export in exports {
            let drain = drain_of(session, export);
            let drain_wall = drain.and_then(Stats::median_wall);
            // Drained and verified: the drain's check; before drains were measured, the export's.
            let checked = drain
                .filter(|drain| drain.verification.is_some())
                .unwrap_or(export);
            let configuration = &export.configuration;
            let baseline_stats = baseline_of(session, export);
            let baseline = baseline_stats.and_then(Stats::median_wall);
            let baseline_cpu = baseline_stats
                .filter(|stats| stats.median_wall().is_some())
                .map_or_else(String::new, cpu_cell);
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
                    String::new(),
                    baseline.map_or_else(String::new, seconds),
                    baseline_cpu.clone(),
                    String::new(),
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
                super::decision::verified_cell(checked),
            ]);
        }
        out.push_str(&table.render());
        out.push_str(&baseline_note(session, &dataset, rows));
        out.push_str(&delivery_peers(session, &dataset, rows));
        out.push_str(&broker_restarts(session, &dataset, rows));
    }
    out
}

/// How the baselines of a size ran, when not as the section's header says:
/// a share of the messages published over and over, drained beside.
fn baseline_note(session: &SessionModel, dataset: &str, rows: u64) -> String {
    let Some(baseline) = session.at(dataset, rows).find(|stats| {
        let configuration = &stats.configuration;
        configuration.is_queue_baseline()
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

/// The publishers a team would write, beside predbench's export of the same
/// messages (K = 10, modulo) at its fastest confirm window: end to end from
/// the table to the last message in the queue, and what the drain found.
fn delivery_peers(session: &SessionModel, dataset: &str, rows: u64) -> String {
    let mut peers: Vec<&Stats> = session
        .at(dataset, rows)
        .filter(|stats| {
            let configuration = &stats.configuration;
            configuration.is_peer_delivery() && configuration.broker_restart_at.is_none()
        })
        .collect();
    if peers.is_empty() {
        return String::new();
    }
    peers.sort_by_key(|stats| {
        let peer = stats.configuration.peer.as_deref();
        PEERS.iter().position(|known| Some(known.name) == peer)
    });
    let modulo = |stats: &&Stats| {
        stats.configuration.grouping == Some(Grouping::Modulo)
            && stats.configuration.queue_type.is_none()
    };
    let predbench = queue_exports(session, dataset, rows)
        .into_iter()
        .filter(modulo)
        .filter_map(|stats| Some((stats.median_wall()?, stats)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let seed_job = session.peer(dataset, rows, SEED_JOB);
    let mut out = format!(
        "#### Against the publisher a team would write, {} rows\n\n\
         End to end is from the prediction table to the last message in the queue: for a \
         publisher of the seed's job's message file, the seed's job (`{SEED_JOB}`, measured \
         in this session) plus the publisher; the pipelines without a file are one run. \
         Every queue was read back by `predbench drain` and its messages checked by \
         `predbench verify` (by id, since Spark numbers rows its own way). \"lost\" is the \
         messages published and not found by the drain, \"duplicated\" the deliveries of a \
         `message_id` seen before; the worst run of each.\n\n",
        short_count(rows)
    );
    let mut table = Table::new(&[
        ("pipeline", Align::Left),
        ("runs", Align::Right),
        ("steps, median s", Align::Left),
        ("end to end s", Align::Right),
        ("predictions/s", Align::Right),
        ("× predbench", Align::Right),
        ("peak RSS", Align::Right),
        ("lost", Align::Right),
        ("duplicated", Align::Right),
        ("verified", Align::Left),
    ]);
    let reference = predbench.map(|(wall, _)| wall);
    let mut add = |name: String, steps: String, wall: Option<f64>, peak: u64, stats: &Stats| {
        let drain = drain_of(session, stats);
        let drained = drain.and_then(|drain| drain.drained);
        let lost = drain.map(|drain| {
            drained.map_or(0, |counts| counts.missing)
                + stats.messages.saturating_sub(drain.messages)
        });
        let checked = drain.filter(|drain| drain.verification.is_some());
        table.row(vec![
            name,
            stats.runs().to_string(),
            steps,
            wall.map_or_else(|| "✗".to_string(), seconds),
            wall.map_or_else(String::new, |wall| count((rows as f64 / wall) as u64)),
            wall.zip(reference)
                .map_or_else(String::new, |(wall, reference)| ratio(wall / reference)),
            bytes(peak),
            lost.map_or_else(String::new, count),
            drained.map_or_else(String::new, |counts| count(counts.duplicates)),
            checked.map_or_else(
                || match stats.failures.first() {
                    Some(failure) => failure.describe(),
                    None if drain.is_none() && stats.configuration.is_peer_delivery() => {
                        NOT_READ.to_string()
                    }
                    None => String::new(),
                },
                super::decision::verified_cell,
            ),
        ]);
    };
    if let Some((wall, stats)) = predbench {
        let window = stats.configuration.confirm_window.unwrap_or(0);
        add(
            format!("predbench export, confirm window {window}"),
            format!("export {}", seconds(wall)),
            Some(wall),
            stats.peak_rss,
            stats,
        );
        if let Some(baseline) = baseline_of(session, stats) {
            let wall = baseline.median_wall();
            add(
                format!(
                    "the broker's ceiling: predbench publish of the same messages pre-serialized, window {window}"
                ),
                format!("publish {}", wall.map_or_else(|| "✗".to_string(), seconds)),
                wall,
                baseline.peak_rss,
                baseline,
            );
        }
    }
    for stats in peers {
        let configuration = &stats.configuration;
        let peer = configuration
            .peer
            .as_deref()
            .and_then(peer_named)
            .map_or_else(|| configuration.name.clone(), |peer| peer.label.to_string());
        let publish = stats.median_wall();
        let (steps, wall, peak) = if configuration.kind == RunKind::Publish {
            let job = seed_job.and_then(Stats::median_wall);
            (
                format!(
                    "{SEED_JOB} {} + publish {}",
                    job.map_or_else(|| "not measured".to_string(), seconds),
                    publish.map_or_else(|| "✗".to_string(), seconds)
                ),
                job.zip(publish).map(|(job, publish)| job + publish),
                stats.peak_rss.max(seed_job.map_or(0, |job| job.peak_rss)),
            )
        } else {
            (
                format!(
                    "one job {}",
                    publish.map_or_else(|| "✗".to_string(), seconds)
                ),
                publish,
                stats.peak_rss,
            )
        };
        add(peer, steps, wall, peak, stats);
    }
    out.push_str(&table.render());
    out
}

/// The fault runs: every publisher once more with the broker restarted half
/// way through its median time, its queue drained and verified.
fn broker_restarts(session: &SessionModel, dataset: &str, rows: u64) -> String {
    let mut faults: Vec<&Stats> = session
        .at(dataset, rows)
        .filter(|stats| {
            let configuration = &stats.configuration;
            configuration.broker_restart_at.is_some()
                && configuration.is_queue()
                && matches!(configuration.kind, RunKind::Export | RunKind::Publish)
                && drain_of(session, stats).is_some()
        })
        .collect();
    if faults.is_empty() {
        return String::new();
    }
    faults.sort_by_key(|stats| stats.display_order());
    let mut out = format!(
        "#### The broker restarted half way, {} rows\n\n\
         Every publisher once more, the broker restarted (`--restart-broker`) once the \
         queue held half the messages; then its queue drained and verified. \"expected\" is \
         the messages its own runs above delivered; \"lost\" is those the drain did not find, \
         \"duplicated\" the deliveries of a `message_id` seen before. Publishers whose queue \
         was not read back are left out.\n\n",
        short_count(rows)
    );
    let mut table = Table::new(&[
        ("publisher", Align::Left),
        ("restarted at", Align::Left),
        ("the publisher", Align::Left),
        ("expected", Align::Right),
        ("delivered", Align::Right),
        ("lost", Align::Right),
        ("duplicated", Align::Right),
        ("verified", Align::Left),
    ]);
    for stats in faults {
        let configuration = &stats.configuration;
        let name = match configuration.peer.as_deref() {
            Some(peer) => peer_named(peer).map_or(peer, |peer| peer.label).to_string(),
            None => format!(
                "predbench export, {}, window {}",
                grouping_text(stats),
                configuration.confirm_window.unwrap_or(0)
            ),
        };
        let expected = expected_messages(session, stats);
        let outcome = match stats.median_wall() {
            Some(wall) => format!("finished in {}", seconds(wall)),
            None => stats
                .failures
                .first()
                .map_or_else(String::new, |failure| failure.describe()),
        };
        let drain = drain_of(session, stats).filter(|drain| !drain.failed());
        let delivered = drain.map(|drain| drain.messages);
        table.row(vec![
            name,
            restart_text(stats),
            outcome,
            expected.map_or_else(String::new, count),
            delivered.map_or_else(|| "drain failed".to_string(), count),
            expected
                .zip(delivered)
                .map_or_else(String::new, |(expected, delivered)| {
                    count(expected.saturating_sub(delivered))
                }),
            drain
                .and_then(|drain| drain.drained)
                .map_or_else(String::new, |counts| count(counts.duplicates)),
            drain
                .filter(|drain| drain.verification.is_some())
                .map_or_else(String::new, super::decision::verified_cell),
        ]);
    }
    out.push_str(&table.render());
    out
}

/// When the broker restarted in a fault run.
fn restart_text(stats: &Stats) -> String {
    let at = stats.configuration.broker_restart_at.unwrap_or(0);
    match stats.broker_restart {
        Some(restart) => format!(
            "{} s in, {} messages in the queue",
            seconds(restart.began_seconds),
            count(restart.messages_in_queue)
        ),
        None => format!("not restarted: the run ended before {} messages", count(at)),
    }
}

/// "16.7 / 14.1": a configuration's median user and system CPU seconds.
fn cpu_cell(stats: &Stats) -> String {
    format!("{:.1} / {:.1}", stats.user, stats.system)
}

/// Where "broker peak RSS" sits among the table's columns.
const BROKER_COLUMN: usize = 11;
/// Where "drain s" and "drain / export" sit among the table's columns.
const DRAIN_COLUMNS: std::ops::Range<usize> = 12..14;

/// `K = 10 (modulo)` or `packed to 256.0 KiB`.
fn grouping_text(stats: &Stats) -> String {
    let configuration = &stats.configuration;
    let text = match (configuration.grouping, configuration.max_message_bytes) {
        (Some(Grouping::Packed), Some(budget)) => format!("packed to {}", bytes(budget)),
        (Some(grouping), _) => format!(
            "K = {} ({})",
            configuration.group_size.unwrap_or(10),
            grouping.name()
        ),
        (None, _) => String::new(),
    };
    match configuration.queue_type {
        Some(queue_type) => format!("{text}, {} queue", queue_type.name()),
        None => text,
    }
}

/// The verdict's lines on delivery: the best rate of each message size
/// against the broker's ceiling (newest session with baselines), the
/// publishers a team would write (newest session with them), and the largest
/// table delivered end to end.
pub fn verdict(model: &Model) -> Vec<String> {
    let sessions = queue_sessions(model);
    let mut newest_first: Vec<&(String, u64, &SessionModel)> = sessions.iter().collect();
    newest_first
        .sort_by_key(|(_, rows, session)| std::cmp::Reverse((session.id().to_string(), *rows)));
    let mut lines = Vec::new();
    // The full-scale line says its own ratios.
    let below_full_scale: Vec<_> = newest_first
        .iter()
        .filter(|(_, rows, _)| *rows < FULL_SCALE_ROWS)
        .copied()
        .collect();
    lines.extend(rate_line(&below_full_scale));
    // The comparison the issue is judged by (the seed's job and a pika
    // publisher) where a session made it, else whichever publishers ran.
    let with_seed_job = newest_first
        .iter()
        .filter(|(dataset, rows, session)| session.peer(dataset, *rows, SEED_JOB).is_some());
    lines.extend(
        with_seed_job
            .chain(newest_first.iter())
            .find_map(|(dataset, rows, session)| peers_line(session, dataset, *rows)),
    );
    let largest = sessions
        .iter()
        .map(|(_, rows, _)| *rows)
        .filter(|rows| *rows >= FULL_SCALE_ROWS)
        .max();
    if let Some(largest) = largest {
        let at_largest: Vec<_> = newest_first
            .iter()
            .filter(|(_, rows, _)| *rows == largest)
            .copied()
            .collect();
        lines.extend(full_scale_line(&at_largest, largest));
    }
    lines
}

/// Tables from this size on get a sentence of their own: the seed's volume.
const FULL_SCALE_ROWS: u64 = 60_000_000;

/// The fastest classic-queue export of each message size (packed or not).
fn fastest<'a>(
    session: &'a SessionModel,
    dataset: &'a str,
    rows: u64,
    packed: bool,
) -> Option<(f64, &'a Stats)> {
    queue_exports(session, dataset, rows)
        .into_iter()
        .filter(|stats| {
            (stats.configuration.grouping == Some(Grouping::Packed)) == packed
                && stats.configuration.queue_type.is_none()
        })
        .filter_map(|stats| Some((stats.median_wall()?, stats)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// "of K = 10" or "packed to 256.0 KiB".
fn messages_phrase(stats: &Stats) -> String {
    match (
        stats.configuration.grouping,
        stats.configuration.max_message_bytes,
    ) {
        (Some(Grouping::Packed), Some(budget)) => format!("packed to {}", bytes(budget)),
        _ => format!("of K = {}", stats.configuration.group_size.unwrap_or(10)),
    }
}

/// Each message size's best rate against its baseline, from the newest
/// session that measured both (a session may measure one size alone).
fn rate_line(newest_first: &[&(String, u64, &SessionModel)]) -> Option<String> {
    let parts: Vec<String> = [false, true]
        .into_iter()
        .filter_map(|packed| {
            newest_first.iter().find_map(|(dataset, rows, session)| {
                let (wall, stats) = fastest(session, dataset, *rows, packed)?;
                let baseline = baseline_of(session, stats).and_then(Stats::median_wall)?;
                Some(format!(
                    "{} predictions/s as messages {} ({}x the time of publishing the same \
                     messages pre-serialized; {} rows, session {})",
                    count((*rows as f64 / wall) as u64),
                    messages_phrase(stats),
                    ratio(wall / baseline),
                    short_count(*rows),
                    session.id()
                ))
            })
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "**Into RabbitMQ** (durable queue, persistent messages, publisher confirms, nothing \
             lost): {}; the broker, not predbench, sets that pace.",
            parts.join(", and ")
        )
    })
}

/// predbench end to end against the publishers a team would write, and what
/// each lost when the broker restarted.
fn peers_line(session: &SessionModel, dataset: &str, rows: u64) -> Option<String> {
    let (wall, _) = fastest(session, dataset, rows, false)?;
    let job = session
        .peer(dataset, rows, SEED_JOB)
        .and_then(Stats::median_wall);
    let mut against = Vec::new();
    let mut restarts = Vec::new();
    for stats in session.at(dataset, rows) {
        let configuration = &stats.configuration;
        if !configuration.is_peer_delivery() {
            continue;
        }
        let Some(peer) = configuration.peer.as_deref().and_then(peer_named) else {
            continue;
        };
        if configuration.broker_restart_at.is_some() {
            if let Some(lost) = lost_in_fault(session, stats) {
                restarts.push(format!("{} lost {}", peer.label, count(lost)));
            }
            continue;
        }
        let publish = stats.median_wall();
        let end_to_end = match configuration.kind {
            RunKind::Publish => job.zip(publish).map(|(job, publish)| job + publish),
            _ => publish,
        };
        if let Some(end_to_end) = end_to_end {
            against.push(format!(
                "{}x faster than {} ({} s)",
                ratio(end_to_end / wall),
                peer.label,
                seconds(end_to_end)
            ));
        }
    }
    if against.is_empty() {
        return None;
    }
    let own_losses: Vec<u64> = predbench_queue_exports(session, dataset, rows, true)
        .into_iter()
        .filter_map(|stats| lost_in_fault(session, stats))
        .collect();
    let mut line = format!(
        "**Against the publisher a team would write** ({} rows, session {}): predbench delivers \
         the messages of K = 10 to the queue in {} s end to end, {}.",
        short_count(rows),
        session.id(),
        seconds(wall),
        against.join(", ")
    );
    if !own_losses.is_empty() {
        line.push_str(&format!(
            " With the broker restarted half way predbench lost {} message{}{}.",
            count(own_losses.iter().sum()),
            if own_losses.iter().sum::<u64>() == 1 {
                ""
            } else {
                "s"
            },
            if restarts.is_empty() {
                String::new()
            } else {
                format!("; {}", restarts.join(", "))
            }
        ));
    }
    Some(line)
}

/// predbench's own exports to a queue at this size: its fault runs (the
/// broker restarted half way), or the others.
fn predbench_queue_exports<'a>(
    session: &'a SessionModel,
    dataset: &'a str,
    rows: u64,
    faulted: bool,
) -> Vec<&'a Stats> {
    session
        .at(dataset, rows)
        .filter(|stats| {
            let configuration = &stats.configuration;
            configuration.is_queue()
                && configuration.kind == RunKind::Export
                && configuration.peer.is_none()
                && configuration.broker_restart_at.is_some() == faulted
        })
        .collect()
}

/// Messages a fault run's publisher delivered in its normal runs and its
/// drain did not find; `None` when its drain failed.
fn lost_in_fault(session: &SessionModel, fault: &Stats) -> Option<u64> {
    let expected = expected_messages(session, fault)?;
    let drain = drain_of(session, fault).filter(|drain| !drain.failed())?;
    Some(expected.saturating_sub(drain.messages))
}

/// What a fault run should have delivered: the messages of the same
/// publisher's runs without the restart.
fn expected_messages(session: &SessionModel, fault: &Stats) -> Option<u64> {
    let configuration = &fault.configuration;
    let normal = Configuration {
        broker_restart_at: None,
        ..configuration.clone()
    }
    .identity();
    session
        .find(&configuration.dataset, configuration.rows, |other| {
            other.identity() == normal
        })
        .map(|normal| normal.messages)
}

/// The largest table delivered: each message size's time, rate, memory and check.
fn full_scale_line(newest_first: &[&(String, u64, &SessionModel)], rows: u64) -> Option<String> {
    let parts: Vec<String> = [false, true]
        .into_iter()
        .filter_map(|packed| {
            newest_first.iter().find_map(|(dataset, _, session)| {
                let (wall, stats) = fastest(session, dataset, rows, packed)?;
                Some(full_scale_part(session, stats, wall, rows))
            })
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "**{} predictions into the queue**: {}.",
            short_count(rows),
            parts.join("; ")
        )
    })
}

/// One message size's delivery at full scale: time, rate, baseline, memory, check.
fn full_scale_part(session: &SessionModel, stats: &Stats, wall: f64, rows: u64) -> String {
    let verified = drain_of(session, stats)
        .and_then(|drain| drain.verification.as_ref())
        .is_some_and(|check| check.ok);
    let against_baseline = baseline_of(session, stats)
        .and_then(Stats::median_wall)
        .map_or_else(
            || "no baseline at this size".to_string(),
            |baseline| {
                format!(
                    "{}x the time of publishing as many messages pre-serialized",
                    ratio(wall / baseline)
                )
            },
        );
    format!(
        "messages {} in {} s ({} predictions/s; {against_baseline}; predbench's peak RSS {}{}), \
         {} (session {})",
        messages_phrase(stats),
        seconds(wall),
        count((rows as f64 / wall) as u64),
        bytes(stats.peak_rss),
        stats
            .broker_peak_rss
            .map_or_else(String::new, |peak| format!(
                ", the broker's {}",
                bytes(peak)
            )),
        if verified {
            "drained and verified complete"
        } else {
            "NOT verified complete"
        },
        session.id()
    )
}
