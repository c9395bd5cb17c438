//! The appendix's lists: every session with its commit, machine, software
//! and datasets, and where the report uses it (or "superseded"); and how
//! each peer does the job, with the settings it reported.

use super::Used;
use super::decision::Decision;
use super::markdown::{Align, Table, bytes, commit_text, count, machine_text, software_text};
use super::model::Model;
use crate::peers::PEERS;

/// The sessions list, newest first.
pub fn render(model: &Model, used: &Used) -> String {
    let mut out = String::from(
        "## Sessions\n\nEvery `predbench-harness compare` run under `results/`, newest first. A session \
         no section uses is superseded: newer sessions re-measured all it measured.\n\n",
    );
    let mut table = Table::new(&[
        ("session", Align::Left),
        ("commit", Align::Left),
        ("machine", Align::Left),
        ("software", Align::Left),
        ("datasets", Align::Left),
        ("runs", Align::Right),
        ("failed", Align::Right),
        ("used for", Align::Left),
    ]);
    for session in model.newest_first() {
        let runs: usize = session.stats.iter().map(|stats| stats.runs()).sum();
        let failed: usize = session.stats.iter().map(|stats| stats.failures.len()).sum();
        let datasets = if session.info.datasets.is_empty() {
            session
                .sizes()
                .into_iter()
                .map(|(dataset, rows)| format!("{dataset} {}", count(rows)))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            session
                .info
                .datasets
                .iter()
                .map(|dataset| {
                    format!(
                        "{} {} ({} files, {})",
                        dataset.label,
                        count(dataset.rows),
                        dataset.files.len(),
                        bytes(dataset.bytes)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let uses = used.of(session.id());
        table.row(vec![
            format!("[{}]({})", session.id(), session.path.display()),
            commit_text(&session.info),
            machine_text(&session.info),
            software_text(&session.info),
            datasets,
            runs.to_string(),
            failed.to_string(),
            if uses.is_empty() {
                "superseded".to_string()
            } else {
                uses.join("; ")
            },
        ]);
    }
    out.push_str(&table.render());
    out
}

/// How each peer does the job, and what it ran with in the decision sessions.
pub fn render_peers(decisions: &[Decision]) -> String {
    let mut out = String::from(
        "## The peers\n\nEach peer is a script in `scripts/peers/` (see its README): the fastest \
         correct way we know for a user of that tool to write the job, run as a child process \
         exactly like predbench on the same files. Settings are what each script reported for \
         its run in the decision sessions.\n\n",
    );
    for peer in PEERS {
        out.push_str(&format!(
            "- **{}** (`{}`, {}): {}.",
            peer.label, peer.name, peer.engine, peer.approach
        ));
        for decision in decisions {
            let settings = decision
                .session
                .at(&decision.dataset, decision.rows)
                .find(|stats| stats.configuration.peer.as_deref() == Some(peer.name))
                .map(|stats| &stats.settings)
                .filter(|settings| !settings.is_empty());
            if let Some(settings) = settings {
                let text: Vec<String> = settings
                    .iter()
                    .map(|(name, value)| match value {
                        serde_json::Value::String(text) => format!("{name} {text}"),
                        other => format!("{name} {other}"),
                    })
                    .collect();
                out.push_str(&format!(
                    " At {} rows (session {}): {}.",
                    count(decision.rows),
                    decision.session.id(),
                    text.join(", ")
                ));
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out
}
