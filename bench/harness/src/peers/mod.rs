//! The peers: what people run today for the seed's job (its own PySpark job and
//! generator, the knowledge-base window, Spark done right, DuckDB, Polars,
//! ClickHouse through chDB, Sail) and for its last step, the queue (a pika
//! publisher after the Spark job, Spark publishing from its executors). Each
//! is one script in `scripts/peers/` and one entry in [`PEERS`], a tool's
//! variants (DuckDB spilling, Polars' in-memory engine, …) one entry each in
//! its family; `compare --peers` runs them as child processes exactly like
//! predbench's own configurations, and checks their outputs with `predbench
//! verify` as strictly as their numbering allows ([`Numbering`]), a queue's
//! once `predbench drain` has read it.

mod list;

use crate::record::SinkKind;

use std::path::{Path, PathBuf};

pub use list::PEERS;

/// What a peer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRole {
    /// Writes a prediction table (`--output DIR --rows N`), beside `predbench generate`.
    Generator,
    /// Turns a table into messages (`--input DIR --output PATH --group-size K`), beside `predbench export`.
    Exporter,
    /// Publishes the seed's job's message file to a queue (`--messages DIR
    /// --amqp URL` or `--kafka URL`), beside `predbench publish` and
    /// `export` to the same broker.
    MessagePublisher,
    /// Turns a table into messages and publishes them to a queue (`--input
    /// DIR --amqp URL --group-size K`), beside `predbench export` to a queue.
    TablePublisher,
}

/// One peer.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// Name on the command line and in records, e.g. `spark-jvm`.
    pub name: &'static str,
    /// Script under the peers directory.
    pub script: &'static str,
    /// Generator or exporter.
    pub role: PeerRole,
    /// What the report calls it in a table: a few words.
    pub label: &'static str,
    /// The engine it runs on, for the report.
    pub engine: &'static str,
    /// What it does, in one line, for the report.
    pub approach: &'static str,
    /// Whether it runs Spark (needs Java, takes `--driver-memory`).
    pub spark: bool,
    /// Arguments the script always gets (a variant of a script, e.g. `--no-confirms`).
    pub arguments: &'static [&'static str],
    /// Whether a publisher sends its messages in `message_id` order, as
    /// `predbench drain` reads them by default; Spark's tasks publish their
    /// partitions' groups side by side, out of order by far more than a
    /// prefetch window, so their queue is drained with `--any-order`.
    pub publishes_in_order: bool,
    /// How it numbers rows, which says how its output is verified.
    pub numbering: Numbering,
    /// The tool it is a way of using: a decision table shows each family's
    /// fastest verified variant, the appendix every variant.
    pub family: &'static str,
    /// The venv it runs from.
    pub venv: Venv,
    /// The broker a publisher delivers to (`SinkKind::Amqp` or
    /// `SinkKind::Kafka`); `None` for the others.
    pub queue: Option<SinkKind>,
}

/// How a peer numbers rows, and so how `predbench verify` checks its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbering {
    /// Runs predbench itself: the exact grouping, messages in group order.
    Predbench,
    /// In file order, as predbench does, messages in its own order: the
    /// groups, members in order, in any message order (`--any-message-order`).
    FileOrder,
    /// Its own way (Spark's and Sail's partition order): every prediction
    /// once, values equal (`--any-grouping`).
    Own,
}

/// The Python environment a peer runs from, both made by scripts/setup-peers.sh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Venv {
    /// The peers' venv (`--peers-venv`).
    Peers,
    /// Sail's, beside it (`VENV-sail`): PySpark's Spark Connect client
    /// cannot share a venv with the full PySpark.
    Sail,
}

impl Peer {
    /// Whether it runs predbench (takes `--predbench PATH`).
    pub fn runs_predbench(&self) -> bool {
        self.numbering == Numbering::Predbench
    }
}

/// The seed generator's name among the peers.
pub const SEED_GENERATOR: &str = "seed-generator";

/// The seed's PySpark job's name among the peers: it makes the message file
/// the pika publishers read.
pub const SEED_JOB: &str = "pyspark-seed";

/// The peer called `name`.
pub fn peer_named(name: &str) -> Option<&'static Peer> {
    PEERS.iter().find(|peer| peer.name == name)
}

/// Resolves `--peers` values (`all` or names) into peers, in [`PEERS`] order.
pub fn select_peers(names: &[String]) -> anyhow::Result<Vec<&'static Peer>> {
    for name in names {
        if name != "all" && peer_named(name).is_none() {
            anyhow::bail!(
                "invalid argument --peers: no peer named '{name}'; the peers are all, {}",
                PEERS
                    .iter()
                    .map(|peer| peer.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let all = names.iter().any(|name| name == "all");
    Ok(PEERS
        .iter()
        .filter(|peer| all || names.iter().any(|name| name == peer.name))
        .collect())
}

/// Where the peers run: the venv's Python and the scripts' directory.
#[derive(Debug, Clone)]
pub struct PeerEnvironment {
    /// The peers' venv (`--peers-venv`); Sail's is beside it, `VENV-sail`.
    pub venv: PathBuf,
    /// `scripts/peers`.
    pub scripts: PathBuf,
    /// `--driver-memory` of the Spark peers.
    pub spark_driver_memory: String,
    /// The predbench binary, for the peers that run it.
    pub predbench: String,
    /// Where the exporting peers keep their scratch files (`--data-dir`).
    pub scratch: PathBuf,
}

impl PeerEnvironment {
    /// Why `peer` cannot run here, with what to do about it; `None` when it can.
    pub fn missing(&self, peer: &Peer) -> Option<String> {
        if !self.scripts.join(peer.script).is_file() {
            return Some(format!(
                "peer script {} not found; run compare from the repository's top or give --peers-dir",
                self.scripts.join(peer.script).display()
            ));
        }
        let python = self.python(peer);
        if !python.is_file() {
            return Some(format!(
                "no peers venv ({} is missing); run `bash scripts/setup-peers.sh` or give --peers-venv",
                python.display()
            ));
        }
        if peer.spark && !program_on_path("java") {
            return Some(
                "no java on PATH; PySpark needs Java 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless)"
                    .to_string(),
            );
        }
        None
    }

    /// The command line of `peer` (program first), without `--summary-json`.
    pub fn command(&self, peer: &Peer, arguments: &[String], threads: usize) -> Vec<String> {
        let mut command = vec![
            self.python(peer).display().to_string(),
            self.scripts.join(peer.script).display().to_string(),
        ];
        command.extend(arguments.iter().cloned());
        command.extend(peer.arguments.iter().map(|argument| argument.to_string()));
        match peer.role {
            PeerRole::Generator => command.extend(["--workers".to_string(), threads.to_string()]),
            _ => command.extend(["--threads".to_string(), threads.to_string()]),
        }
        if peer.spark {
            command.extend([
                "--driver-memory".to_string(),
                self.spark_driver_memory.clone(),
            ]);
        }
        if peer.runs_predbench() {
            command.extend(["--predbench".to_string(), self.predbench.clone()]);
        }
        if let Some(local) = self.local_dir(peer) {
            command.extend(["--local-dir".to_string(), local.display().to_string()]);
        }
        command
    }

    /// The scratch directory of an exporting peer (Spark's shuffle files,
    /// DuckDB's and Polars' spill): the harness deletes it after every run,
    /// since a peer killed for its time or memory cannot.
    pub fn local_dir(&self, peer: &Peer) -> Option<PathBuf> {
        matches!(peer.role, PeerRole::Exporter | PeerRole::TablePublisher)
            .then(|| self.scratch.join(format!("scratch-{}", peer.name)))
    }

    /// The Python interpreter of the venv `peer` runs from.
    pub fn python(&self, peer: &Peer) -> PathBuf {
        self.venv_python(peer.venv)
    }

    /// The Python interpreter of `venv`.
    pub fn venv_python(&self, venv: Venv) -> PathBuf {
        let directory = match venv {
            Venv::Peers => self.venv.clone(),
            Venv::Sail => {
                let mut name = self.venv.clone().into_os_string();
                name.push("-sail");
                PathBuf::from(name)
            }
        };
        directory.join("bin").join("python")
    }

    /// The command that lists files repeating another file's class columns.
    pub fn repeated_files_command(&self, dataset: &Path) -> Vec<String> {
        vec![
            self.venv_python(Venv::Peers).display().to_string(),
            self.scripts.join("repeated_files.py").display().to_string(),
            "--input".to_string(),
            dataset.display().to_string(),
        ]
    }
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn program_on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_selected_by_name_or_all() {
        let all = select_peers(&["all".to_string()]).unwrap();
        assert_eq!(all.len(), PEERS.len());
        let two = select_peers(&["polars".to_string(), "duckdb".to_string()]).unwrap();
        assert_eq!(
            two.iter().map(|peer| peer.name).collect::<Vec<_>>(),
            ["duckdb", "polars"]
        );
        let error = select_peers(&["spark".to_string()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("no peer named 'spark'"), "{error}");
        assert!(error.contains("spark-jvm"), "{error}");
    }

    #[test]
    fn every_peer_script_exists() {
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/peers");
        for peer in PEERS {
            assert!(
                PEERS.iter().any(|head| head.name == peer.family),
                "{}'s family {} names no peer",
                peer.name,
                peer.family
            );
            assert!(scripts.join(peer.script).is_file(), "{}", peer.script);
        }
        assert!(scripts.join("repeated_files.py").is_file());
    }

    #[test]
    fn a_missing_venv_says_how_to_make_it() {
        let environment = PeerEnvironment {
            venv: PathBuf::from("/nonexistent"),
            scripts: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/peers"),
            spark_driver_memory: "1g".to_string(),
            predbench: "predbench".to_string(),
            scratch: PathBuf::from("data"),
        };
        let why = environment.missing(&PEERS[0]).unwrap();
        assert!(why.contains("scripts/setup-peers.sh"), "{why}");
    }
}
