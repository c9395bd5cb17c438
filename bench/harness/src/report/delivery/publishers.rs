//! The publishers a team would write (the seed's job then a pika publisher,
//! Spark publishing from its executors) beside predbench's export of the
//! same messages: end to end from the table to the last message in the
//! queue, what each lost and duplicated, and the verdict on what came back.

use predbench_exporter::Grouping;

use super::super::markdown::{Align, Table, bytes, count, ratio, seconds, short_count};
use super::super::model::{SessionModel, Stats};
use super::{NOT_READ, baseline_of, drain_of, queue_exports};
use crate::peers::{PEERS, SEED_JOB, peer_named};
use crate::record::{RunKind, SinkKind};

/// One pipeline's row: what it is, how its time adds up, and the stats it
/// is judged by (its drain's and its verification's).
struct Pipeline<'a> {
    name: String,
    steps: String,
    wall: Option<f64>,
    peak: u64,
    stats: &'a Stats,
}

/// The publishers of a size beside predbench's fastest export of K = 10
/// (modulo, classic queue) and its baseline; nothing when no peer published.
pub(super) fn render(session: &SessionModel, dataset: &str, rows: u64, sink: SinkKind) -> String {
    let mut peers: Vec<&Stats> = session
        .at(dataset, rows)
        .filter(|stats| {
            let configuration = &stats.configuration;
            configuration.is_peer_delivery()
                && configuration.sink == Some(sink)
                && configuration.broker_restart_at.is_none()
        })
        .collect();
    if peers.is_empty() {
        return String::new();
    }
    peers.sort_by_key(|stats| {
        let peer = stats.configuration.peer.as_deref();
        PEERS.iter().position(|known| Some(known.name) == peer)
    });
    let predbench = queue_exports(session, dataset, rows, sink)
        .into_iter()
        .filter(|stats| {
            let configuration = &stats.configuration;
            configuration.grouping == Some(Grouping::Modulo)
                && configuration.queue_type.is_none()
                // Packed messages: one prediction a record is its own comparison.
                && configuration.group_size != Some(1)
        })
        .filter_map(|stats| Some((stats.median_wall()?, stats)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let mut pipelines = Vec::new();
    if let Some((wall, stats)) = predbench {
        pipelines.extend(predbench_pipelines(session, wall, stats));
    }
    let seed_job = session.peer(dataset, rows, SEED_JOB);
    pipelines.extend(
        peers
            .into_iter()
            .map(|stats| peer_pipeline(stats, seed_job)),
    );
    let reference = predbench.map(|(wall, _)| wall);
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
    for pipeline in &pipelines {
        table.row(row(session, rows, reference, pipeline));
    }
    format!(
        "#### Against the publisher a team would write, {} rows\n\n\
         End to end is from the prediction table to the last message in the queue: for a \
         publisher of the seed's job's message file, the seed's job (`{SEED_JOB}`, measured \
         in this session) plus the publisher; the pipelines without a file are one run. \
         Every queue was read back by `predbench drain` and its messages checked by \
         `predbench verify` (by id, since Spark numbers rows its own way). \"lost\" is the \
         messages published and not found by the drain, \"duplicated\" the deliveries of a \
         `message_id` seen before; the worst run of each.\n\n{}",
        short_count(rows),
        table.render()
    )
}

/// predbench's export at its confirm window, and its baseline.
fn predbench_pipelines<'a>(
    session: &'a SessionModel,
    wall: f64,
    stats: &'a Stats,
) -> Vec<Pipeline<'a>> {
    let window = stats.configuration.confirm_window.unwrap_or(0);
    let mut pipelines = vec![Pipeline {
        name: format!("predbench export, confirm window {window}"),
        steps: format!("export {}", seconds(wall)),
        wall: Some(wall),
        peak: stats.peak_rss,
        stats,
    }];
    if let Some(baseline) = baseline_of(session, stats) {
        let wall = baseline.median_wall();
        pipelines.push(Pipeline {
            name: format!(
                "the broker's ceiling: predbench publish of the same messages pre-serialized, window {window}"
            ),
            steps: format!("publish {}", wall.map_or_else(|| "✗".to_string(), seconds)),
            wall,
            peak: baseline.peak_rss,
            stats: baseline,
        });
    }
    pipelines
}

/// A peer's pipeline: a publisher of the seed's job's message file adds the
/// job's time and memory to its own; Spark publishing is one job.
fn peer_pipeline<'a>(stats: &'a Stats, seed_job: Option<&Stats>) -> Pipeline<'a> {
    let configuration = &stats.configuration;
    let name = configuration
        .peer
        .as_deref()
        .and_then(peer_named)
        .map_or_else(|| configuration.name.clone(), |peer| peer.label.to_string());
    let publish = stats.median_wall();
    let shown = |wall: Option<f64>| wall.map_or_else(|| "✗".to_string(), seconds);
    if configuration.kind != RunKind::Publish {
        return Pipeline {
            name,
            steps: format!("one job {}", shown(publish)),
            wall: publish,
            peak: stats.peak_rss,
            stats,
        };
    }
    let job = seed_job.and_then(Stats::median_wall);
    Pipeline {
        name,
        steps: format!(
            "{SEED_JOB} {} + publish {}",
            job.map_or_else(|| "not measured".to_string(), seconds),
            shown(publish)
        ),
        wall: job.zip(publish).map(|(job, publish)| job + publish),
        peak: stats.peak_rss.max(seed_job.map_or(0, |job| job.peak_rss)),
        stats,
    }
}

/// A pipeline's row: its times against predbench's, and what its drain found.
fn row(
    session: &SessionModel,
    rows: u64,
    reference: Option<f64>,
    pipeline: &Pipeline,
) -> Vec<String> {
    let stats = pipeline.stats;
    let drain = drain_of(session, stats);
    let drained = drain.and_then(|drain| drain.drained);
    let lost = drain.map(|drain| {
        drained.map_or(0, |counts| counts.missing) + stats.messages.saturating_sub(drain.messages)
    });
    let checked = drain.filter(|drain| drain.verification.is_some());
    let verified = checked.map_or_else(
        || match stats.failures.first() {
            Some(failure) => failure.describe(),
            None if drain.is_none() && stats.configuration.is_peer_delivery() => {
                NOT_READ.to_string()
            }
            None => String::new(),
        },
        super::super::decision::verified_cell,
    );
    let wall = pipeline.wall;
    vec![
        pipeline.name.clone(),
        stats.runs().to_string(),
        pipeline.steps.clone(),
        wall.map_or_else(|| "✗".to_string(), seconds),
        wall.map_or_else(String::new, |wall| count((rows as f64 / wall) as u64)),
        wall.zip(reference)
            .map_or_else(String::new, |(wall, reference)| ratio(wall / reference)),
        bytes(pipeline.peak),
        lost.map_or_else(String::new, count),
        drained.map_or_else(String::new, |counts| count(counts.duplicates)),
        verified,
    ]
}
