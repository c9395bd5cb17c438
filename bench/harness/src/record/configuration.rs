//! A configuration's identity as typed fields: what kind of work, which
//! strategy, grouping, sink, peer, confirm window, budget, shard. Its name is
//! rendered here, in one place, and nothing ever parses it back.

use predbench_common::Shard;
use predbench_common::units::format_bytes;
use predbench_exporter::queue::QueueType;
use predbench_exporter::{Grouping, Strategy};
use predbench_generator::Compression;
use serde::{Deserialize, Serialize};

/// What kind of work a configuration measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    /// `dd` writing zeros: the physical floor of writing bytes.
    DiskFloor,
    /// A generator: `predbench generate` or the seed's.
    Generate,
    /// `predbench export`, or a peer doing the same job.
    Export,
    /// `predbench export --decode-only`: reading and decoding alone, the
    /// ceiling of every strategy.
    DecodeOnly,
    /// One shard (`--shard I/N`) of an export; the shards of a count run one
    /// after another on this machine to simulate N machines.
    ExportShard,
    /// `predbench publish`: messages already serialized, published to a queue
    /// with the queue sink's settings (the baseline of an export to a queue).
    Publish,
    /// `predbench drain`: the queue an export filled, consumed back into files.
    Drain,
}

/// Where an export's messages go (the kind of `export --sink`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SinkKind {
    /// Discarded, counted.
    Null,
    /// A Parquet file (or a directory of parts).
    Parquet,
    /// An NDJSON file.
    Ndjson,
    /// A RabbitMQ queue.
    Amqp,
    /// A Kafka topic.
    Kafka,
}

predbench_common::choice! { SinkKind:
    Null = "null", "Discard the messages, count them.";
    Parquet = "parquet", "A Parquet file of messages.";
    Ndjson = "ndjson", "An NDJSON file of messages.";
    Amqp = "amqp", "A RabbitMQ queue (--amqp), beside a baseline that publishes the same messages already serialized.";
    Kafka = "kafka", "A Kafka topic (--kafka), beside a baseline that publishes the same messages already serialized.";
}

impl SinkKind {
    /// Whether it is a queue's (a broker's) sink.
    pub fn is_queue(self) -> bool {
        matches!(self, SinkKind::Amqp | SinkKind::Kafka)
    }

    /// Whether the messages end up in a file the harness can verify.
    pub fn writes_file(self) -> bool {
        matches!(self, SinkKind::Parquet | SinkKind::Ndjson)
    }
}

/// How a disk floor writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskFloor {
    /// Through the page cache, then `fsync`: as most programs write.
    Buffered,
    /// `oflag=direct`: the device's own speed.
    Direct,
}

/// Everything that determines what a run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    /// What kind of work.
    pub kind: RunKind,
    /// Rendered from the other fields by [`Configuration::rendered_name`]; for
    /// people reading the JSON and for log file names.
    pub name: String,
    /// Which dataset it ran on: `predbench`, `seed`, `edge-cases`, or the path
    /// given to `compare --dataset`.
    pub dataset: String,
    /// Rows of the dataset.
    pub rows: u64,
    /// Seed of the dataset.
    pub seed: u64,
    /// The strategy of a predbench export.
    pub strategy: Option<Strategy>,
    /// The grouping of an export (or of the messages a baseline publishes).
    pub grouping: Option<Grouping>,
    /// Where an export's messages go.
    pub sink: Option<SinkKind>,
    /// Predictions per message, K, of an export.
    pub group_size: Option<u64>,
    /// `--max-message-bytes` of a `packed` export or its baseline.
    pub max_message_bytes: Option<u64>,
    /// Publisher-confirm window of a queue export or its baseline.
    pub confirm_window: Option<usize>,
    /// The peer (scripts/peers/) this configuration runs, if it is not predbench.
    pub peer: Option<String>,
    /// The shard of an export shard; of a queue baseline (and its drain),
    /// the share of the messages it publishes, as many times over as there
    /// are shards (`compare --baseline-passes`).
    pub shard: Option<Shard>,
    /// How a disk floor writes.
    pub disk_floor: Option<DiskFloor>,
    /// Worker threads the child was given.
    pub threads: usize,
    /// Whether `threads` is pinned below the session's (a per-core probe of
    /// `--scale-out`): part of the identity, and of the name.
    #[serde(default)]
    pub pinned_threads: bool,
    /// `--memory-budget` given to the child, in bytes.
    pub memory_budget: Option<u64>,
    /// The queue type a queue run declared (`None`: not declared, the
    /// broker's default, classic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_type: Option<QueueType>,
    /// A drain run beside its publisher (`compare --drain-beside`) rather than after it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub beside_publisher: bool,
    /// A fault run: the harness restarted the broker once the queue held
    /// this many messages (half what the publisher's runs delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_restart_at: Option<u64>,
    /// A drain of the pre-serialized baseline's queue (not of an export's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub drains_baseline: bool,
    /// The page compression every Parquet exporter of the session was given
    /// (`compare --output-codec`); `None`: each its own default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_codec: Option<Compression>,
    /// A drain that writes messages as they come (`drain --any-order`),
    /// for a queue published out of `message_id` order.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_order: bool,
    /// A point of the memory study (`compare --memory-study`): its threads,
    /// chunk rows or memory budget are the study's, part of the identity
    /// and of the name.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub memory_study: bool,
    /// Partitions of the Kafka topic a Kafka run delivered to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<i32>,
    /// The Kafka producer's `compression.type` (`none`, `lz4`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_compression: Option<String>,
    /// `Some(false)`: predbench's Kafka producer without
    /// `enable.idempotence` (its fault runs on a broker that cannot restart
    /// under an idempotent producer); `None`: its default, on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotence: Option<bool>,
    /// `--chunk-rows` given to the child (`None`: predbench's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_rows: Option<u64>,
    /// The command line, program first, paths relative to the repository
    /// where they are inside it.
    pub command: Vec<String>,
}

impl Configuration {
    /// A configuration of `kind` on `rows` rows of `dataset`, with no export
    /// parameters yet; the constructors below and the planner fill them in.
    pub fn new(kind: RunKind, dataset: &str, rows: u64, seed: u64, threads: usize) -> Self {
        Configuration {
            kind,
            name: String::new(),
            dataset: dataset.to_string(),
            rows,
            seed,
            strategy: None,
            grouping: None,
            sink: None,
            group_size: None,
            max_message_bytes: None,
            confirm_window: None,
            peer: None,
            shard: None,
            disk_floor: None,
            threads,
            pinned_threads: false,
            memory_budget: None,
            queue_type: None,
            beside_publisher: false,
            broker_restart_at: None,
            drains_baseline: false,
            output_codec: None,
            any_order: false,
            memory_study: false,
            partitions: None,
            record_compression: None,
            idempotence: None,
            chunk_rows: None,
            command: Vec::new(),
        }
    }

    /// Sets the name from the fields and the command; the last step of building one.
    pub fn finish(mut self, command: Vec<String>) -> Self {
        self.command = command;
        self.name = self.rendered_name();
        self
    }

    /// The name: `export rayon modulo parquet`, `peer duckdb modulo parquet`,
    /// `export rayon packed amqp window 64`, `shard 1/4 export rayon modulo
    /// parquet`, `decode only modulo, 1 thread`, `disk floor (dd, O_DIRECT)`;
    /// `..., quorum queue` and `..., broker restarted at 5000 messages` for those runs.
    pub fn rendered_name(&self) -> String {
        let mut name = self.work_name();
        if let Some(queue_type) = self.queue_type {
            name.push_str(&format!(", {} queue", queue_type.name()));
        }
        if self.is_queue() && self.group_size == Some(1) {
            name.push_str(", one prediction a record");
        }
        if self.idempotence == Some(false) {
            name.push_str(", without idempotence");
        }
        if let Some(codec) = self.output_codec {
            name.push_str(&format!(", {codec}"));
        }
        if self.memory_study {
            name.push_str(&self.study_text());
        }
        if self.beside_publisher {
            name.push_str(", beside the publisher");
        }
        if let Some(messages) = self.broker_restart_at {
            name.push_str(&format!(", broker restarted at {messages} messages"));
        }
        name
    }

    /// A memory study point's knobs: `, memory study, 1 thread, chunk 4096
    /// rows` or `, memory study, 2 threads, budget 256.0 MiB`.
    fn study_text(&self) -> String {
        let threads = format!(
            "{} thread{}",
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        );
        let knob = match (self.strategy, self.memory_budget, self.chunk_rows) {
            (Some(Strategy::WindowSort), Some(budget), _) => {
                format!("budget {}", format_bytes(budget))
            }
            (_, _, Some(chunk_rows)) => format!("chunk {chunk_rows} rows"),
            _ => String::new(),
        };
        format!(", memory study, {threads}, {knob}")
    }

    /// A baseline publishing a share of its messages over and over: which
    /// share, how many times.
    fn passes_text(&self) -> String {
        self.shard
            .filter(|shard| shard.count > 1)
            .map_or_else(String::new, |shard| {
                format!(", shard {shard} {} times", shard.count)
            })
    }

    /// The name without the queue's type and the fault.
    fn work_name(&self) -> String {
        let grouping = self.grouping.map_or("", Grouping::name);
        let sink = self.sink.map_or("", SinkKind::name);
        let window = self
            .confirm_window
            .map_or(String::new(), |window| format!(" window {window}"));
        let pinned = if self.pinned_threads {
            format!(
                ", {} thread{}",
                self.threads,
                if self.threads == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        let strategy = self.strategy.map_or("", Strategy::name);
        match self.kind {
            RunKind::DiskFloor => match self.disk_floor {
                Some(DiskFloor::Direct) => "disk floor (dd, O_DIRECT)".to_string(),
                _ => "disk floor (dd, fsync)".to_string(),
            },
            RunKind::Generate => match &self.peer {
                Some(peer) => format!("peer {peer}"),
                None => "generate".to_string(),
            },
            RunKind::Export => match &self.peer {
                Some(peer) => format!("peer {peer} {grouping} {sink}{window}"),
                None => format!("export {strategy} {grouping} {sink}{window}{pinned}"),
            },
            RunKind::DecodeOnly => format!("decode only {grouping}{pinned}"),
            RunKind::ExportShard => {
                let shard = self
                    .shard
                    .map_or_else(String::new, |shard| shard.to_string());
                format!("shard {shard} export {strategy} {grouping} {sink}")
            }
            RunKind::Publish => match &self.peer {
                Some(peer) => format!("peer {peer} {grouping} {sink}"),
                None => format!(
                    "publish pre-serialized {grouping} {sink}{window}{}",
                    self.passes_text()
                ),
            },
            RunKind::Drain => match &self.peer {
                Some(peer) => format!("drain peer {peer} {grouping} {sink}"),
                None if self.drains_baseline => format!(
                    "drain pre-serialized {grouping} {sink}{window}{}",
                    self.passes_text()
                ),
                None => format!("drain {grouping} {sink}{window}"),
            },
        }
    }

    /// Whether this is the configuration every peer is divided by: predbench's
    /// `rayon` doing the seed's job (modulo grouping into a Parquet file) on
    /// all the session's threads.
    pub fn is_reference_export(&self) -> bool {
        self.kind == RunKind::Export
            && self.peer.is_none()
            && self.strategy == Some(Strategy::Rayon)
            && self.grouping == Some(Grouping::Modulo)
            && self.sink == Some(SinkKind::Parquet)
            && self.has_default_knobs()
    }

    /// Whether it runs with the session's threads and each exporter's own
    /// codec (not a per-core probe, a run at a forced output codec, nor a
    /// point of the memory study).
    pub fn has_default_knobs(&self) -> bool {
        !self.pinned_threads && self.output_codec.is_none() && !self.memory_study
    }

    /// Whether it delivers to a queue or topic (an export or its baseline).
    pub fn is_queue(&self) -> bool {
        self.sink.is_some_and(SinkKind::is_queue)
    }

    /// Whether it is a peer's export into files (not a generator, not a
    /// delivery to a queue).
    pub fn is_peer_export(&self) -> bool {
        self.kind == RunKind::Export && self.peer.is_some() && !self.is_queue()
    }

    /// Whether it is a peer delivering to a queue (a publisher of the seed's
    /// job's messages, or Spark publishing from its executors).
    pub fn is_peer_delivery(&self) -> bool {
        matches!(self.kind, RunKind::Export | RunKind::Publish)
            && self.peer.is_some()
            && self.is_queue()
    }

    /// Whether it is predbench's queue baseline: `predbench publish` of
    /// messages already serialized (the broker's ceiling).
    pub fn is_queue_baseline(&self) -> bool {
        self.kind == RunKind::Publish && self.peer.is_none()
    }

    /// The identity of the run a fault run repeats: without the restart,
    /// and with the producer's own settings.
    pub fn unfaulted_identity(&self) -> Configuration {
        Configuration {
            broker_restart_at: None,
            idempotence: None,
            ..self.identity()
        }
    }

    /// The same configuration, whatever the session and dataset: what the
    /// report matches runs by. Everything but the command line and the name.
    pub fn identity(&self) -> Configuration {
        Configuration {
            name: String::new(),
            command: Vec::new(),
            ..self.clone()
        }
    }
}
