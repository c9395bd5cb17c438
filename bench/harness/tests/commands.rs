//! The command lines a `compare` session records and the ones its
//! `--dry-run` planned, in one spelling, so that tests can check the two
//! are the same.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::repository;

/// Every command line the records ran: the runs' and their verifications'.
pub fn recorded_commands(records: &[Value]) -> BTreeSet<String> {
    let words = |command: &Value| -> String {
        let words: Vec<&str> = command
            .as_array()
            .unwrap()
            .iter()
            .map(|word| word.as_str().unwrap())
            .collect();
        words.join(" ")
    };
    let mut commands = BTreeSet::new();
    for record in records {
        commands.insert(words(&record["configuration"]["command"]));
        if record["verification"].is_object() {
            commands.insert(words(&record["verification"]["command"]));
        }
    }
    commands
}

/// Every command line of the runs and verifications a `--dry-run` printed
/// (not the unmeasured preparations), its paths inside the repository made
/// relative and the home directory written `~`, as records write them.
pub fn planned_commands(dry_run: &str) -> BTreeSet<String> {
    let root = format!("{}/", repository().canonicalize().unwrap().display());
    let home = std::env::var("HOME")
        .map_or_else(|_| "/nonexistent/".to_string(), |home| format!("{home}/"));
    dry_run
        .lines()
        .filter(|line| line.starts_with("  "))
        .map(str::trim_start)
        .map(|line| {
            line.strip_prefix("then ")
                .or_else(|| line.strip_prefix("beside it "))
                .unwrap_or(line)
        })
        .filter(|line| {
            ![
                "prepare ",
                "if the dataset",
                "check for repeated",
                "fault run",
                "killed after",
                "cannot run here",
            ]
            .iter()
            .any(|skipped| line.starts_with(skipped))
        })
        .filter_map(|line| line.split_once(": ").map(|(_, command)| command))
        .map(|command| command.replace(&root, "").replace(&home, "~/"))
        .collect()
}
