//! "Delivery to a queue": exports into RabbitMQ against `predbench publish` of
//! the same messages already serialized, with the same client settings, in
//! one session: how much of the time is predbench's and how much the broker's.

use std::fmt::Write as _;

use predbench_generator::config::format_bytes;

use super::{ConfigurationStats, Scale};
use crate::record::{DATASET_EDGE_CASES, Kind};

/// Renders the section when any scale measured the queue sink.
pub fn render(out: &mut String, scales: &[Scale]) {
    let scales: Vec<&Scale> = scales
        .iter()
        .filter(|scale| scale.dataset != DATASET_EDGE_CASES)
        .filter(|scale| scale.configurations.iter().any(is_queue))
        .collect();
    if scales.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Delivery to a queue\n");
    let _ = writeln!(
        out,
        "Exports into a RabbitMQ queue on this machine (durable queue, persistent messages, \
         publisher confirms, `message_id` = the group) beside `predbench publish`, which sends the \
         same messages already serialized with the same client and settings: its rate is the \
         broker's ceiling here, and \"× baseline\" is what predbench's own work adds. `packed` \
         messages hold as many predictions as fit under the budget given to `compare \
         --max-message-bytes` (256 KiB, SQS's limit, by default). Every output was drained back \
         and checked by `predbench verify` where \"verified\" says so.\n"
    );
    for scale in scales {
        let _ = writeln!(out, "### {}\n", scale.title());
        let _ = writeln!(
            out,
            "| configuration | session | median s | predictions/s | messages/s | bytes a message | MB/s of JSON | × baseline (same messages, window) | peak RSS | verified |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
        );
        let baseline_of = |stats: &ConfigurationStats| {
            window_of(&stats.name).and_then(|window| {
                scale.configurations.iter().find(|other| {
                    other.kind == Kind::Publish
                        && other.session == stats.session
                        && window_of(&other.name) == Some(window)
                        && grouping_of(other) == grouping_of(stats)
                })
            })
        };
        let exports: Vec<&ConfigurationStats> = scale
            .configurations
            .iter()
            .filter(|stats| is_queue(stats) && stats.kind != Kind::Publish)
            .collect();
        // A baseline is shown beside the exports it measures: one that only
        // an older session's exports used (since re-measured) is left out.
        let shown = scale.configurations.iter().filter(|stats| {
            is_queue(stats)
                && (stats.kind != Kind::Publish
                    || exports.iter().any(|export| {
                        baseline_of(export).is_some_and(|base| std::ptr::eq(base, *stats))
                    }))
        });
        for stats in shown {
            let Some(seconds) = stats.median_wall() else {
                let _ = writeln!(
                    out,
                    "| {} | {} | failed | | | | | | | |",
                    stats.name, stats.session
                );
                continue;
            };
            let baseline = baseline_of(stats);
            let ratio = match baseline.and_then(ConfigurationStats::median_wall) {
                Some(base) if stats.kind != Kind::Publish => format!("{:.2}", seconds / base),
                _ => String::new(),
            };
            let verified = match (&stats.verification, stats.kind) {
                (_, Kind::Publish) => "",
                (Some(check), _) if check.ok => "yes",
                (Some(_), _) => "NO",
                (None, _) => "not checked",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {seconds:.2} | {:.0} | {:.0} | {} | {:.1} | {ratio} | {} | {verified} |",
                stats.name,
                stats.session,
                scale.rows as f64 / seconds,
                stats.messages as f64 / seconds,
                format_bytes(stats.produced_bytes / stats.messages.max(1)),
                stats.produced_bytes as f64 / seconds / 1e6,
                format_bytes(stats.peak_rss)
            );
        }
        out.push('\n');
        render_message_size(out, &exports);
    }
}

/// One line on what the message size does: the fastest export of each
/// grouping at its best window, when `packed` was measured beside another.
fn render_message_size(out: &mut String, exports: &[&ConfigurationStats]) {
    let fastest = |packed: bool| {
        exports
            .iter()
            .filter(|stats| (grouping_of(stats) == "packed") == packed)
            .filter_map(|stats| Some((stats.median_wall()?, *stats)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let (Some((packed, packed_stats)), Some((grouped, grouped_stats))) =
        (fastest(true), fastest(false))
    else {
        return;
    };
    if packed_stats.session != grouped_stats.session {
        return;
    }
    let _ = writeln!(
        out,
        "Message size: `{}` ({} a message) delivers the same predictions in {packed:.2} s, \
         against {grouped:.2} s for `{}` ({} a message): {:.1}x faster, each at its fastest \
         confirm window.\n",
        packed_stats.name,
        format_bytes(packed_stats.produced_bytes / packed_stats.messages.max(1)),
        grouped_stats.name,
        format_bytes(grouped_stats.produced_bytes / grouped_stats.messages.max(1)),
        grouped / packed
    );
}

fn is_queue(stats: &ConfigurationStats) -> bool {
    stats.name.contains(" amqp window ")
}

/// The grouping of the messages: a baseline recorded before baselines
/// named theirs published modulo messages.
fn grouping_of(stats: &ConfigurationStats) -> &str {
    stats.grouping.as_deref().unwrap_or("modulo")
}

/// The confirm window in a configuration's name (`... amqp window 1024`).
fn window_of(name: &str) -> Option<&str> {
    name.rsplit_once(" window ").map(|(_, window)| window)
}
