//! The verdict's lines on delivery: the best rate of each message size
//! against the broker's ceiling (newest session with baselines), the
//! publishers a team would write (newest session with them), and the largest
//! table delivered end to end.

use predbench_exporter::Grouping;

use super::super::markdown::{bytes, count, ratio, seconds, short_count};
use super::super::model::{Model, SessionModel, Stats};
use super::{
    baseline_of, drain_of, lost_in_fault, predbench_queue_exports, queue_exports, queue_sessions,
};
use crate::peers::{SEED_JOB, peer_named};
use crate::record::{RunKind, SinkKind};

/// The verdict's lines on delivery: the best rate of each message size
/// against the broker's ceiling (newest session with baselines), the
/// publishers a team would write (newest session with them), and the largest
/// table delivered end to end.
pub fn verdict(model: &Model) -> Vec<String> {
    [SinkKind::Amqp, SinkKind::Kafka]
        .into_iter()
        .flat_map(|sink| broker_verdict(model, sink))
        .collect()
}

/// The verdict's lines on one broker.
fn broker_verdict(model: &Model, sink: SinkKind) -> Vec<String> {
    let sessions = queue_sessions(model, sink);
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
    lines.extend(rate_line(&below_full_scale, sink));
    // The comparison the issue is judged by (the seed's job and a pika
    // publisher) where a session made it, else whichever publishers ran.
    let with_seed_job = newest_first
        .iter()
        .filter(|(dataset, rows, session)| session.peer(dataset, *rows, SEED_JOB).is_some());
    lines.extend(
        with_seed_job
            .chain(newest_first.iter())
            .find_map(|(dataset, rows, session)| {
                peers_line((dataset, *rows, session), &newest_first, sink)
            }),
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
        lines.extend(full_scale_lines(&at_largest, largest, sink));
    }
    lines
}

/// Tables from this size on get a sentence of their own: the seed's volume.
const FULL_SCALE_ROWS: u64 = 60_000_000;

/// The kinds of message the verdict compares on a broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// K predictions a message.
    Grouped,
    /// Packed to a byte budget.
    Packed,
    /// One prediction a record (Kafka's producer batching them).
    OnePerRecord,
}

impl Shape {
    /// The shapes the verdict compares on the broker of `sink`.
    fn of(sink: SinkKind) -> [Shape; 2] {
        match sink {
            SinkKind::Kafka => [Shape::Grouped, Shape::OnePerRecord],
            _ => [Shape::Grouped, Shape::Packed],
        }
    }

    /// The shape of a configuration's messages.
    fn of_configuration(configuration: &crate::record::Configuration) -> Shape {
        if configuration.grouping == Some(Grouping::Packed) {
            Shape::Packed
        } else if configuration.group_size == Some(1) {
            Shape::OnePerRecord
        } else {
            Shape::Grouped
        }
    }
}

/// The fastest classic-queue (or topic) export of each message shape.
fn fastest<'a>(
    session: &'a SessionModel,
    dataset: &'a str,
    rows: u64,
    shape: Shape,
    sink: SinkKind,
) -> Option<(f64, &'a Stats)> {
    queue_exports(session, dataset, rows, sink)
        .into_iter()
        .filter(|stats| {
            Shape::of_configuration(&stats.configuration) == shape
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
/// session that measured both (a session may measure one size alone), with
/// the spread of the runs beside both medians.
fn rate_line(newest_first: &[&(String, u64, &SessionModel)], sink: SinkKind) -> Option<String> {
    let parts: Vec<String> = Shape::of(sink)
        .into_iter()
        .filter_map(|shape| {
            newest_first.iter().find_map(|(dataset, rows, session)| {
                let (wall, stats) = fastest(session, dataset, *rows, shape, sink)?;
                let baseline = baseline_of(session, stats)?;
                let baseline_wall = baseline.median_wall()?;
                Some(format!(
                    "{} predictions/s as messages {}: {} s{} against {} s{} publishing the same messages \
                     pre-serialized, {}x ({} rows, session {}{})",
                    count((*rows as f64 / wall) as u64),
                    messages_phrase(stats),
                    seconds(wall),
                    stats.spread(),
                    seconds(baseline_wall),
                    baseline.spread(),
                    ratio(wall / baseline_wall),
                    short_count(*rows),
                    session.id(),
                    broker_of(session, sink)
                ))
            })
        })
        .collect();
    let broker = match sink {
        SinkKind::Kafka => {
            "**Into Kafka** (the tests' Kafka-API broker, tansu, on this machine; `acks=all`, \
             idempotent producer)"
        }
        _ => "**Into RabbitMQ** (durable queue, persistent messages, publisher confirms)",
    };
    (!parts.is_empty()).then(|| {
        format!(
            "{broker}, medians of the runs with their range: {}.",
            parts.join("; and ")
        )
    })
}

/// predbench end to end against the publishers a team would write, and what
/// each lost and delivered twice when the broker restarted (in that session,
/// or in the newest session of `newest_first` with fault runs, named apart).
fn peers_line(
    (dataset, rows, session): (&str, u64, &SessionModel),
    newest_first: &[&(String, u64, &SessionModel)],
    sink: SinkKind,
) -> Option<String> {
    let (wall, _) = fastest(session, dataset, rows, Shape::Grouped, sink)?;
    let job = session
        .peer(dataset, rows, SEED_JOB)
        .and_then(Stats::median_wall);
    let mut against = Vec::new();
    for stats in session.at(dataset, rows) {
        let configuration = &stats.configuration;
        let Some(peer) = configuration.peer.as_deref().and_then(peer_named) else {
            continue;
        };
        if !configuration.is_peer_delivery()
            || configuration.sink != Some(sink)
            || configuration.broker_restart_at.is_some()
        {
            continue;
        }
        let publish = stats.median_wall();
        let end_to_end = match configuration.kind {
            RunKind::Publish => job.zip(publish).map(|(job, publish)| job + publish),
            _ => publish,
        };
        if let Some(end_to_end) = end_to_end {
            let checked = drain_of(session, stats)
                .and_then(|drain| drain.verification.as_ref())
                .is_some_and(|check| check.ok);
            against.push(format!(
                "{}x faster than {} ({} s{})",
                ratio(end_to_end / wall),
                peer.label,
                seconds(end_to_end),
                if checked {
                    ""
                } else {
                    ", not verified: its queue was not read back complete"
                }
            ));
        }
    }
    if against.is_empty() {
        return None;
    }
    let mut line = format!(
        "**Against the publisher a team would write{}** ({} rows, session {}): predbench delivers \
         the messages of K = 10 to the queue in {} s end to end, {}.",
        if sink == SinkKind::Kafka {
            ", into Kafka"
        } else {
            ""
        },
        short_count(rows),
        session.id(),
        seconds(wall),
        against.join(", ")
    );
    const RESTARTED: &str = "With the broker restarted half way (delivery is at least once: \
                             consumers drop what they saw by `message_id`)";
    if let Some(restarts) = restart_phrases(session, dataset, rows, sink) {
        line.push_str(&format!(" {RESTARTED}: {restarts}."));
    } else if let Some((restarts, (rows, session))) =
        newest_first.iter().find_map(|(dataset, rows, session)| {
            restart_phrases(session, dataset, *rows, sink).map(|found| (found, (*rows, *session)))
        })
    {
        line.push_str(&format!(
            " {RESTARTED}, in another session ({} rows, session {}{}): {restarts}.",
            short_count(rows),
            session.id(),
            broker_of(session, sink)
        ));
    }
    Some(line)
}

/// What every publisher's fault run on the broker of `sink` lost and
/// delivered twice, predbench's first; `None` without fault runs.
fn restart_phrases(
    session: &SessionModel,
    dataset: &str,
    rows: u64,
    sink: SinkKind,
) -> Option<String> {
    let own = predbench_queue_exports(session, dataset, rows, sink, true)
        .into_iter()
        .filter_map(|stats| {
            let who = format!("predbench (messages {})", messages_phrase(stats));
            fault_phrase(session, stats, &who)
        });
    let peers = session.at(dataset, rows).filter_map(|stats| {
        let configuration = &stats.configuration;
        let peer = configuration.peer.as_deref().and_then(peer_named)?;
        let restarted = configuration.is_peer_delivery()
            && configuration.sink == Some(sink)
            && configuration.broker_restart_at.is_some();
        restarted.then(|| fault_phrase(session, stats, peer.label))?
    });
    let phrases: Vec<String> = own.chain(peers).collect();
    (!phrases.is_empty()).then(|| phrases.join("; "))
}

/// `, tansu 0.6.0, storage memory`: the Kafka broker a session recorded.
fn broker_of(session: &SessionModel, sink: SinkKind) -> String {
    match (sink, session.info.software.get("kafka-broker")) {
        (SinkKind::Kafka, Some(broker)) => format!(", {broker}"),
        _ => String::new(),
    }
}

/// What a fault run's publisher lost and delivered twice: `predbench lost 0
/// messages and delivered 836 twice`; a publisher that ended with the lost
/// connection never sent the rest, and the phrase says so.
fn fault_phrase(session: &SessionModel, fault: &Stats, who: &str) -> Option<String> {
    let lost = lost_in_fault(session, fault)?;
    let duplicates = drain_of(session, fault)
        .and_then(|drain| drain.drained)
        .map_or(0, |counts| counts.duplicates);
    let ended = match (fault.failed(), fault.configuration.sink) {
        _ if lost == 0 => "",
        (true, Some(SinkKind::Kafka)) => {
            " (its run failed on the first delivery error: the rest were never sent)"
        }
        (true, _) => " (its run ended with the lost connection: they were never sent)",
        (false, Some(SinkKind::Kafka)) => " (its run ended as if every one had been delivered)",
        (false, _) => "",
    };
    Some(format!(
        "{who} lost {} message{}{ended} and delivered {} twice",
        count(lost),
        if lost == 1 { "" } else { "s" },
        count(duplicates)
    ))
}

/// The largest table delivered: each message size's time, rate, memory and
/// check, one line per session that measured it, newest first (figures of
/// two sessions, on machines whose speed may differ, are not put in one
/// sentence, and when two sessions measured one message size the lines say
/// so rather than pick one).
fn full_scale_lines(
    newest_first: &[&(String, u64, &SessionModel)],
    rows: u64,
    sink: SinkKind,
) -> Vec<String> {
    let destination = match sink {
        SinkKind::Kafka => "into Kafka",
        _ => "into the queue",
    };
    let lines: Vec<(Vec<Shape>, String)> = newest_first
        .iter()
        .filter_map(|(dataset, _, session)| {
            let measured: Vec<(Shape, String)> = Shape::of(sink)
                .into_iter()
                .filter_map(|shape| {
                    let (wall, stats) = fastest(session, dataset, rows, shape, sink)?;
                    Some((shape, full_scale_part(session, stats, wall, rows)))
                })
                .collect();
            (!measured.is_empty()).then(|| {
                let sizes = measured.iter().map(|(shape, _)| *shape).collect();
                let parts: Vec<String> = measured.into_iter().map(|(_, part)| part).collect();
                (
                    sizes,
                    format!(
                        "**{} predictions {destination}** (session {}): {}.",
                        short_count(rows),
                        session.id(),
                        parts.join("; ")
                    ),
                )
            })
        })
        .collect();
    let measured_twice = Shape::of(sink).into_iter().any(|shape| {
        lines
            .iter()
            .filter(|(sizes, _)| sizes.contains(&shape))
            .count()
            > 1
    });
    let mut lines: Vec<String> = lines.into_iter().map(|(_, line)| line).collect();
    if measured_twice && let Some(last) = lines.last_mut() {
        last.push_str(
            " The sessions ran on different machines of one kind: compare figures within a \
             session, not across.",
        );
    }
    lines
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
         {}",
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
    )
}
