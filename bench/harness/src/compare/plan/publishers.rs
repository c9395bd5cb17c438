//! The publishers a team would write, as delivery peers: the seed's job
//! then pika or confluent-kafka, Spark publishing from its executors; each
//! on a queue of its own, drained and verified like predbench's exports.
//! The pika and confluent-kafka publishers read the seed's job's message
//! file: what its measured run wrote, or an unmeasured run made first.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predbench::args::VerifyArgs;
use predbench_exporter::Grouping;

use super::{Plan, Planner, Preparation};
use crate::peers::{Peer, PeerRole, SEED_JOB, peer_named};
use crate::record::{Configuration, RunKind, SinkKind};

impl Planner<'_> {
    /// The delivery peers `--peers` asked for on the brokers of `--sinks`,
    /// each publishing to its own queue, drained and verified like
    /// predbench's exports. A peer that publishes the seed's job's message
    /// file reads what the measured run of the seed's job among `exports`
    /// wrote (kept for it), or else what an unmeasured run of the seed's
    /// job, the preparation returned, makes first.
    pub(super) fn delivery_peers(
        &self,
        rows: u64,
        dataset: &Path,
        label: &str,
        exports: &mut [Plan],
    ) -> (Vec<Plan>, Option<Preparation>) {
        let seed_job = peer_named(SEED_JOB).expect("the seed's job is a peer");
        let measured_seed_job = exports.iter_mut().find(|plan| {
            plan.configuration.peer.as_deref() == Some(SEED_JOB) && plan.unavailable.is_none()
        });
        let messages = match &measured_seed_job {
            Some(plan) => plan.scratch.clone().expect("a peer's export has an output"),
            None => self.data(format!("seed-job-messages-{rows}")),
        };
        let mut plans = Vec::new();
        let mut reads_messages = false;
        let sinks = self.queue_sinks();
        let publishers = self
            .peers
            .iter()
            .filter(|peer| peer.queue.is_some_and(|sink| sinks.contains(&sink)));
        for peer in publishers {
            let mut plan = self.delivery_peer(peer, rows, dataset, label, &messages);
            if peer.role == PeerRole::MessagePublisher {
                let why = self.peer_environment.missing(seed_job);
                reads_messages |= plan.unavailable.is_none() && why.is_none();
                plan.unavailable = plan.unavailable.or(why.map(|why| {
                    format!("it publishes the seed's job's messages, and {SEED_JOB} cannot run here: {why}")
                }));
            }
            plans.push(plan);
        }
        let preparation = match measured_seed_job {
            Some(plan) => {
                plan.output_read_later |= reads_messages;
                None
            }
            None => reads_messages.then(|| self.seed_job_messages(dataset, messages)),
        };
        (plans, preparation)
    }

    /// One delivery peer's run, its queue drained after it and verified.
    fn delivery_peer(
        &self,
        peer: &Peer,
        rows: u64,
        dataset: &Path,
        label: &str,
        messages: &Path,
    ) -> Plan {
        let sink = peer.queue.expect("a delivery peer has a queue");
        let name = format!("peer-{}", peer.name);
        let (url, target) = self.queue_target(&name, sink, None);
        let mut arguments = match peer.role {
            PeerRole::MessagePublisher => {
                vec!["--messages".to_string(), messages.display().to_string()]
            }
            _ => vec![
                "--input".to_string(),
                dataset.display().to_string(),
                "--group-size".to_string(),
                self.args.group_size.to_string(),
            ],
        };
        let flag = if sink == SinkKind::Kafka {
            "--kafka"
        } else {
            "--amqp"
        };
        arguments.extend([flag.to_string(), url.clone()]);
        let command = self
            .peer_environment
            .command(peer, &arguments, self.threads);
        let kind = match peer.role {
            PeerRole::MessagePublisher => RunKind::Publish,
            _ => RunKind::Export,
        };
        let mut configuration = Configuration::new(kind, label, rows, self.args.seed, self.threads);
        configuration.grouping = Some(Grouping::Modulo);
        configuration.sink = Some(sink);
        configuration.group_size = Some(self.args.group_size);
        configuration.peer = Some(peer.name.to_string());
        self.describe_broker(&mut configuration, sink);
        let mut plan = Plan::new(configuration.finish(command), None);
        plan.unavailable = self.peer_environment.missing(peer);
        plan.leftovers = self.peer_environment.local_dir(peer);
        plan.time_limit = self.args.peers.peer_timeout.map(Duration::from_secs);
        let drained = self.drained(sink, &name);
        // Spark's tasks publish side by side: read in any order.
        let any_order = !peer.publishes_in_order;
        let mut drain = self.drain(&plan.configuration, &url, &drained, any_order);
        if !self.args.no_verify {
            // Spark numbers rows its own way.
            drain.verify = Some(self.child(&VerifyArgs {
                any_grouping: true,
                ..self.verify_args(dataset, &drained)
            }));
        }
        plan.follow_up = Some(Box::new(drain));
        plan.queue = Some(target);
        plan
    }

    /// The seed's job writing its message file for the pika publishers.
    fn seed_job_messages(&self, dataset: &Path, messages: PathBuf) -> Preparation {
        let seed_job = peer_named(SEED_JOB).expect("the seed's job is a peer");
        let command = self.peer_environment.command(
            seed_job,
            &[
                "--input".to_string(),
                dataset.display().to_string(),
                "--output".to_string(),
                messages.display().to_string(),
                "--group-size".to_string(),
                self.args.group_size.to_string(),
            ],
            self.threads,
        );
        Preparation {
            name: "seed-job-messages".to_string(),
            messages,
            command,
            leftovers: self.peer_environment.local_dir(seed_job),
        }
    }
}
