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
            "| configuration | session | median s | messages/s | bytes a message | MB/s of JSON | × baseline (same messages, window) | peak RSS | verified |\n|---|---|---:|---:|---:|---:|---:|---:|---|"
        );
        for stats in scale.configurations.iter().filter(|stats| is_queue(stats)) {
            let Some(seconds) = stats.median_wall() else {
                let _ = writeln!(
                    out,
                    "| {} | {} | failed | | | | | | |",
                    stats.name, stats.session
                );
                continue;
            };
            let baseline = window_of(&stats.name).and_then(|window| {
                scale.configurations.iter().find(|other| {
                    other.kind == Kind::Publish
                        && other.session == stats.session
                        && window_of(&other.name) == Some(window)
                        && grouping_of(other) == grouping_of(stats)
                })
            });
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
                "| {} | {} | {seconds:.2} | {:.0} | {} | {:.1} | {ratio} | {} | {verified} |",
                stats.name,
                stats.session,
                stats.messages as f64 / seconds,
                format_bytes(stats.produced_bytes / stats.messages.max(1)),
                stats.produced_bytes as f64 / seconds / 1e6,
                format_bytes(stats.peak_rss)
            );
        }
        out.push('\n');
    }
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
