//! The fault runs: every publisher once more with the broker restarted
//! once its queue held half the messages, its queue drained and verified;
//! what each lost and duplicated.

use super::super::markdown::{Align, Table, count, seconds, short_count};
use super::super::model::{SessionModel, Stats};
use super::{drain_of, expected_messages, grouping_text};
use crate::peers::peer_named;
use crate::record::{RunKind, SinkKind};

/// The fault runs: every publisher once more with the broker restarted half
/// way through its median time, its queue drained and verified.
pub(super) fn render(session: &SessionModel, dataset: &str, rows: u64, sink: SinkKind) -> String {
    let mut faults: Vec<&Stats> = session
        .at(dataset, rows)
        .filter(|stats| {
            let configuration = &stats.configuration;
            configuration.broker_restart_at.is_some()
                && configuration.sink == Some(sink)
                && matches!(configuration.kind, RunKind::Export | RunKind::Publish)
                && drain_of(session, stats).is_some()
        })
        .collect();
    if faults.is_empty() {
        return String::new();
    }
    faults.sort_by_key(|stats| stats.display_order());
    let flag = match sink {
        SinkKind::Kafka => "--restart-kafka",
        _ => "--restart-broker",
    };
    let mut out = format!(
        "#### The broker restarted half way, {} rows\n\n\
         Every publisher once more, the broker restarted (`{flag}`) once the \
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
                "predbench export, {}, window {}{}",
                grouping_text(stats),
                configuration.confirm_window.unwrap_or(0),
                if configuration.idempotence == Some(false) {
                    ", without idempotence"
                } else {
                    ""
                }
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
                .map_or_else(String::new, super::super::decision::verified_cell),
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
