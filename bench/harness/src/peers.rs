//! The peers: what people run today for the seed's job (its own PySpark job and
//! generator, the knowledge-base window, Spark done right, DuckDB, Polars) and
//! for its last step, the queue (a pika publisher after the Spark job, Spark
//! publishing from its executors). Each is one script in `scripts/peers/` and
//! one entry in [`PEERS`]; `compare --peers` runs them as child processes
//! exactly like predbench's own configurations, and checks their outputs with
//! `predbench verify --any-grouping` (a queue's once `predbench drain` has read it).

use std::path::{Path, PathBuf};

/// What a peer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerRole {
    /// Writes a prediction table (`--output DIR --rows N`), beside `predbench generate`.
    Generator,
    /// Turns a table into messages (`--input DIR --output PATH --group-size K`), beside `predbench export`.
    Exporter,
    /// Publishes the seed's job's message file to a queue (`--messages DIR
    /// --amqp URL`), beside `predbench publish` and `export` to the same broker.
    MessagePublisher,
    /// Turns a table into messages and publishes them to a queue (`--input
    /// DIR --amqp URL --group-size K`), beside `predbench export` to a queue.
    TablePublisher,
}

impl PeerRole {
    /// Whether the peer delivers to a queue (run by `compare --sinks amqp`).
    pub fn publishes(self) -> bool {
        matches!(self, PeerRole::MessagePublisher | PeerRole::TablePublisher)
    }
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
    /// Whether it runs predbench itself (takes `--predbench PATH`, numbers
    /// rows as predbench does, so its output is verified against the exact
    /// grouping rather than by id).
    pub runs_predbench: bool,
}

/// The seed generator's name among the peers.
pub const SEED_GENERATOR: &str = "seed-generator";

/// The seed's PySpark job's name among the peers: it makes the message file
/// the pika publishers read.
pub const SEED_JOB: &str = "pyspark-seed";

/// Every peer, in the order the report lists them.
pub const PEERS: &[Peer] = &[
    Peer {
        name: "seed-generator",
        label: "the seed's generator (pandas, numpy)",
        script: "seed_generator.py",
        role: PeerRole::Generator,
        engine: "pandas + numpy + multiprocessing",
        approach: "the seed's generator: a process pool, one extension-less pandas file per 2M rows, unseeded forked workers",
        spark: false,
        runs_predbench: false,
        arguments: &[],
        publishes_in_order: true,
    },
    Peer {
        name: "pyspark-seed",
        label: "PySpark, the seed's job",
        script: "pyspark_seed.py",
        role: PeerRole::Exporter,
        engine: "PySpark",
        approach: "the seed's job: zipWithIndex through Python Row objects, groupBy(id % G), collect_list, to_json",
        spark: true,
        runs_predbench: false,
        arguments: &[],
        publishes_in_order: true,
    },
    Peer {
        name: "pyspark-window",
        label: "PySpark, knowledge-base window",
        script: "pyspark_window.py",
        role: PeerRole::Exporter,
        engine: "PySpark",
        approach: "the knowledge-base variant: monotonically_increasing_id + row_number over an unpartitioned window (all rows through one task)",
        spark: true,
        runs_predbench: false,
        arguments: &[],
        publishes_in_order: true,
    },
    Peer {
        name: "spark-jvm",
        label: "Spark done right (JVM)",
        script: "spark_jvm.py",
        role: PeerRole::Exporter,
        engine: "Spark (JVM expressions)",
        approach: "the job done right in Spark: per-partition counts, prefix offsets, numbering with JVM expressions, no Python rows, no global window",
        spark: true,
        runs_predbench: false,
        arguments: &[],
        publishes_in_order: true,
    },
    Peer {
        name: "duckdb",
        label: "DuckDB",
        script: "duckdb_export.py",
        role: PeerRole::Exporter,
        engine: "DuckDB SQL",
        approach: "read_parquet with file_row_number + per-file offsets, GROUP BY id % G, to_json(list(struct ORDER BY id)); preserve_insertion_order off",
        spark: false,
        runs_predbench: false,
        arguments: &[],
        publishes_in_order: true,
    },
    Peer {
        name: "polars",
        label: "Polars",
        script: "polars_export.py",
        role: PeerRole::Exporter,
        engine: "Polars (lazy, streaming sink)",
        approach: "scan_parquet, with_row_index, struct.json_encode, group_by(id % G) joining members in order, sink_parquet",
        spark: false,
        runs_predbench: false,
        arguments: &[],
        publishes_in_order: true,
    },
    Peer {
        name: "predbench-on-spark",
        label: "predbench's shards on Spark",
        script: "../spark/predbench_on_spark.py",
        role: PeerRole::Exporter,
        engine: "predbench shards on Spark (local-cluster)",
        approach: "Spark's scheduler runs `predbench export --shard I/N`, one task per shard (THREADS shards on local-cluster[THREADS,1,1024]: separate executor JVMs); no shuffle",
        spark: true,
        runs_predbench: true,
        arguments: &[],
        publishes_in_order: true,
    },
    Peer {
        name: "pika-publisher",
        label: "the seed's job, then a pika publisher with confirms",
        script: "pika_publisher.py",
        role: PeerRole::MessagePublisher,
        engine: "pika (Python), after the seed's PySpark job",
        approach: "the script a team writes after the Spark job: reads its message file and publishes each message with pika, persistent, each confirmed before the next",
        spark: false,
        runs_predbench: false,
        arguments: &[],
        publishes_in_order: true,
    },
    Peer {
        name: "pika-publisher-no-confirms",
        label: "the seed's job, then a pika publisher without confirms",
        script: "pika_publisher.py",
        role: PeerRole::MessagePublisher,
        engine: "pika (Python), after the seed's PySpark job",
        approach: "the same script without publisher confirms, as many first versions are: nothing tells it a message was lost",
        spark: false,
        runs_predbench: false,
        arguments: &["--no-confirms"],
        publishes_in_order: true,
    },
    Peer {
        name: "spark-publish",
        label: "Spark publishing from its executors",
        script: "spark_publish.py",
        role: PeerRole::TablePublisher,
        engine: "Spark (JVM expressions) + pika in foreachPartition",
        approach: "Spark done right (spark-jvm's messages), published from the executors in foreachPartition with pika, persistent, each confirmed before the next; no intermediate file",
        spark: true,
        runs_predbench: false,
        arguments: &[],
        publishes_in_order: false,
    },
];

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
    /// The venv's Python interpreter.
    pub python: PathBuf,
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
        if !self.python.is_file() {
            return Some(format!(
                "no peers venv ({} is missing); run `bash scripts/setup-peers.sh` or give --peers-venv",
                self.python.display()
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
            self.python.display().to_string(),
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
        if peer.runs_predbench {
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

    /// The command that lists files repeating another file's class columns.
    pub fn repeated_files_command(&self, dataset: &Path) -> Vec<String> {
        vec![
            self.python.display().to_string(),
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
            assert!(scripts.join(peer.script).is_file(), "{}", peer.script);
        }
        assert!(scripts.join("repeated_files.py").is_file());
    }

    #[test]
    fn a_missing_venv_says_how_to_make_it() {
        let environment = PeerEnvironment {
            python: PathBuf::from("/nonexistent/bin/python"),
            scripts: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/peers"),
            spark_driver_memory: "1g".to_string(),
            predbench: "predbench".to_string(),
            scratch: PathBuf::from("data"),
        };
        let why = environment.missing(&PEERS[0]).unwrap();
        assert!(why.contains("scripts/setup-peers.sh"), "{why}");
    }
}
