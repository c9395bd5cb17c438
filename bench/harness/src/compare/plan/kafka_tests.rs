//! The plan of a session delivering to Kafka beside RabbitMQ: topics with
//! their partitions, one prediction a record, each broker's fault runs.

use super::tests::{assert_each_parses_to_itself, compare_args, predbench_commands, session_of};
use super::*;
use crate::record::{RunKind, SinkKind};

#[test]
fn kafka_topics_are_planned_beside_rabbitmq_queues_each_with_its_own_restart() {
    let args = compare_args(&[
        "--rows",
        "10k",
        "--strategies",
        "rayon",
        "--groupings",
        "modulo,packed",
        "--sinks",
        "amqp,kafka",
        "--kafka",
        "kafka://broker:9092",
        "--kafka-partitions",
        "4",
        "--kafka-per-prediction",
        "--restart-broker",
        "restart rabbit",
        "--restart-kafka",
        "restart kafka",
    ]);
    let peers = crate::peers::select_peers(&["all".to_string()]).unwrap();
    let plan = session_of(&args, &peers, 2, &DatasetChoice::Seed);
    assert_each_parses_to_itself(&predbench_commands(&plan, "predbench"));
    let scale = &plan.scales[0];
    let on_kafka = |plan: &&Plan| plan.configuration.sink == Some(SinkKind::Kafka);
    let kafka: Vec<&Plan> = scale.exports.iter().filter(on_kafka).collect();
    let names: Vec<&str> = kafka
        .iter()
        .map(|plan| plan.configuration.name.as_str())
        .collect();
    // K = 10 for both groupings, one prediction a record for modulo only
    // (packed fills messages to a size), a baseline of each, and the two
    // confluent-kafka producers.
    assert_eq!(
        names,
        [
            "export rayon modulo kafka window 1024",
            "export rayon modulo kafka window 1024, one prediction a record",
            "export rayon packed kafka window 1024",
            "publish pre-serialized modulo kafka window 1024",
            "publish pre-serialized modulo kafka window 1024, one prediction a record",
            "publish pre-serialized packed kafka window 1024",
            "peer kafka-producer-first-version modulo kafka",
            "peer kafka-producer modulo kafka",
        ]
    );
    for planned in &kafka {
        let configuration = &planned.configuration;
        let command = configuration.command.join(" ");
        assert!(
            command.contains("kafka://broker:9092/predbench-compare-"),
            "{command}"
        );
        assert!(
            command.contains("?partitions=4&compression=none"),
            "{command}"
        );
        assert_eq!(configuration.partitions, Some(4));
        assert!(matches!(planned.queue, Some(QueueSpec::Kafka(_))));
        let one_a_record = configuration.name.contains("one prediction a record");
        assert_eq!(configuration.group_size == Some(1), one_a_record);
        if configuration.kind == RunKind::Export && configuration.peer.is_none() {
            assert_eq!(
                command.contains("--group-size 1 "),
                one_a_record,
                "{command}"
            );
        }
        if let Some(drain) = planned.follow_up.as_deref() {
            let drain_command = drain.configuration.command.join(" ");
            assert!(drain_command.contains("--messages data/drained-kafka-"));
            let verify = drain.verify.as_ref().unwrap().join(" ");
            assert_eq!(verify.contains("--group-size 1 "), one_a_record, "{verify}");
        }
        if configuration.peer.is_some() {
            assert!(command.contains("--kafka kafka://"), "{command}");
        }
    }
    // A topic's name holds what makes it differ.
    let topics: std::collections::BTreeSet<String> = kafka
        .iter()
        .filter_map(|plan| match &plan.queue {
            Some(QueueSpec::Kafka(target)) => Some(target.topic.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(topics.len(), kafka.len());
    // The K = 1 baseline publishes messages made at K = 1.
    let k1 = scale
        .preparations
        .iter()
        .find(|preparation| preparation.name == "baseline-messages-modulo-k1")
        .unwrap();
    assert!(k1.command.join(" ").contains("--group-size 1 "));
    // Each broker's publishers are restarted by their own command;
    // predbench's Kafka fault runs produce without idempotence (the test
    // broker cannot restart under an idempotent producer), and say so.
    let kafka_faults: Vec<&Fault> = scale
        .faults
        .iter()
        .filter(|fault| fault.plan.configuration.sink == Some(SinkKind::Kafka))
        .collect();
    assert_eq!(kafka_faults.len(), 5, "3 exports and 2 producers");
    for fault in &scale.faults {
        let configuration = &fault.plan.configuration;
        let kafka = configuration.sink == Some(SinkKind::Kafka);
        let expected = if kafka {
            "restart kafka"
        } else {
            "restart rabbit"
        };
        assert_eq!(fault.restart, expected);
        let without = kafka && configuration.peer.is_none();
        assert_eq!(configuration.idempotence == Some(false), without);
        assert_eq!(
            configuration
                .command
                .join(" ")
                .contains("&idempotence=false"),
            without
        );
        assert_eq!(
            configuration.name.ends_with(", without idempotence"),
            without
        );
        assert_eq!(
            configuration.unfaulted_identity(),
            scale
                .exports
                .iter()
                .find(|plan| plan.configuration.unfaulted_identity()
                    == configuration.unfaulted_identity())
                .unwrap()
                .configuration
                .identity()
        );
    }
}
