//! Reads records files of format version 1 (a JSON array of runs, each with
//! its session's machine and commit, a configuration identified by its name)
//! into today's layout. The one place that reads old names: the confirm
//! window, the disk floor and the per-core probes lived only there.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    Configuration, DiskFloor, DiskRecord, Failure, FailureCause, Machine, RunKind, RunRecord,
    RunStatus, SessionInfo, SessionRecords, SinkKind, Verification, short_reason,
};

/// A run as format 1 wrote it.
#[derive(Deserialize)]
struct RunV1 {
    predbench_version: String,
    session: String,
    started_at: String,
    git_commit: Option<String>,
    git_dirty: Option<bool>,
    machine: MachineV1,
    configuration: ConfigurationV1,
    run: u32,
    status: RunStatus,
    error: Option<String>,
    exit_code: Option<i32>,
    wall_seconds: f64,
    user_seconds: f64,
    system_seconds: f64,
    peak_rss_bytes: u64,
    time_v_wall_seconds: Option<f64>,
    rows: u64,
    input_bytes: u64,
    output_bytes: u64,
    message_bytes: Option<u64>,
    messages: Option<u64>,
    spilled_bytes: Option<u64>,
    log: String,
    #[serde(default)]
    verification: Option<VerificationV1>,
    #[serde(default)]
    observations: Vec<String>,
}

#[derive(Deserialize)]
struct MachineV1 {
    cpu_model: String,
    logical_cores: usize,
    physical_cores: Option<usize>,
    memory_bytes: u64,
    os: String,
    kernel: String,
    disk: Option<DiskV1>,
}

#[derive(Deserialize)]
struct DiskV1 {
    device: String,
    mount_point: String,
    file_system: String,
    kind: String,
    total_bytes: u64,
    available_bytes: u64,
}

#[derive(Deserialize)]
struct ConfigurationV1 {
    kind: RunKind,
    name: String,
    rows: u64,
    seed: u64,
    strategy: Option<predbench_exporter::Strategy>,
    grouping: Option<predbench_exporter::Grouping>,
    sink: Option<SinkKind>,
    group_size: Option<u64>,
    threads: usize,
    memory_budget: Option<u64>,
    command: Vec<String>,
    #[serde(default = "predbench_dataset")]
    dataset: String,
    #[serde(default)]
    peer: Option<String>,
    #[serde(default)]
    shard: Option<predbench_common::Shard>,
}

fn predbench_dataset() -> String {
    super::DATASET_PREDBENCH.to_string()
}

#[derive(Deserialize)]
struct VerificationV1 {
    ok: bool,
    command: Vec<String>,
    wall_seconds: f64,
    user_seconds: f64,
    system_seconds: f64,
    peak_rss_bytes: u64,
    findings: Vec<String>,
}

/// Format 1 (`value` is its JSON array) as [`SessionRecords`].
pub fn from_version_1(value: serde_json::Value) -> anyhow::Result<SessionRecords> {
    let runs: Vec<RunV1> = serde_json::from_value(value)?;
    let Some(first) = runs.first() else {
        anyhow::bail!("no runs");
    };
    if let Some(other) = runs.iter().find(|run| run.session != first.session) {
        anyhow::bail!(
            "runs of two sessions in one file ({} and {})",
            first.session,
            other.session
        );
    }
    let session = SessionInfo {
        id: first.session.clone(),
        predbench_version: first.predbench_version.clone(),
        git_commit: first.git_commit.clone(),
        git_dirty: first.git_dirty,
        machine: machine(&first.machine),
        software: BTreeMap::new(),
        datasets: Vec::new(),
        command: Vec::new(),
    };
    let memory = first.machine.memory_bytes;
    Ok(SessionRecords {
        format_version: super::RECORD_FORMAT_VERSION,
        session,
        runs: runs
            .into_iter()
            .map(|run| migrate_run(run, memory))
            .collect(),
    })
}

fn machine(old: &MachineV1) -> Machine {
    Machine {
        cpu_model: old.cpu_model.clone(),
        logical_cores: old.logical_cores,
        physical_cores: old.physical_cores,
        memory_bytes: old.memory_bytes,
        os: old.os.clone(),
        kernel: old.kernel.clone(),
        disk: old.disk.as_ref().map(|disk| DiskRecord {
            device: disk.device.clone(),
            mount_point: disk.mount_point.clone(),
            file_system: disk.file_system.clone(),
            kind: known_disk_kind(&disk.device, &disk.kind),
            total_bytes: disk.total_bytes,
            available_bytes: disk.available_bytes,
        }),
    }
}

/// sysinfo's SSD/HDD, unless the device is virtual (virtio, Xen), whose
/// rotational flag says nothing about the storage behind it.
pub fn known_disk_kind(device: &str, kind: &str) -> Option<String> {
    let name = device.trim_start_matches("/dev/");
    let virtual_disk = name.starts_with("vd") || name.starts_with("xvd");
    (!virtual_disk && matches!(kind, "SSD" | "HDD")).then(|| kind.to_string())
}

fn migrate_run(old: RunV1, machine_memory: u64) -> RunRecord {
    let configuration = migrate_configuration(old.configuration);
    let failure = (old.status == RunStatus::Failed).then(|| {
        let detail = old.error.clone().unwrap_or_default();
        Failure {
            cause: FailureCause::classify(
                &detail,
                old.exit_code,
                old.peak_rss_bytes,
                machine_memory,
            ),
            detail,
        }
    });
    RunRecord {
        configuration,
        run: old.run,
        started_at: old.started_at,
        status: old.status,
        failure,
        exit_code: old.exit_code,
        wall_seconds: old.wall_seconds,
        user_seconds: old.user_seconds,
        system_seconds: old.system_seconds,
        peak_rss_bytes: old.peak_rss_bytes,
        time_v_wall_seconds: old.time_v_wall_seconds,
        rows: old.rows,
        input_bytes: old.input_bytes,
        output_bytes: old.output_bytes,
        message_bytes: old.message_bytes,
        messages: old.messages,
        spilled_bytes: old.spilled_bytes,
        log: old.log,
        verification: old.verification.map(|check| Verification {
            reason: if check.ok {
                None
            } else {
                short_reason(&check.findings)
            },
            ok: check.ok,
            command: check.command,
            wall_seconds: check.wall_seconds,
            user_seconds: check.user_seconds,
            system_seconds: check.system_seconds,
            peak_rss_bytes: check.peak_rss_bytes,
            findings: check.findings,
        }),
        observations: old.observations,
        settings: BTreeMap::new(),
        drained: None,
        broker_restart: None,
        broker_peak_rss_bytes: None,
    }
}

fn migrate_configuration(old: ConfigurationV1) -> Configuration {
    let confirm_window = old
        .name
        .rsplit_once(" window ")
        .and_then(|(_, window)| window.parse().ok());
    let disk_floor = (old.kind == RunKind::DiskFloor).then(|| {
        if old.name.contains("O_DIRECT") {
            DiskFloor::Direct
        } else {
            DiskFloor::Buffered
        }
    });
    let max_message_bytes = old
        .command
        .iter()
        .position(|arg| arg == "--max-message-bytes")
        .and_then(|at| old.command.get(at + 1))
        .and_then(|value| value.parse().ok());
    // Baselines recorded before they named their grouping published modulo messages.
    let grouping = match (old.kind, old.grouping) {
        (RunKind::Publish, None) => Some(predbench_exporter::Grouping::Modulo),
        (_, grouping) => grouping,
    };
    let mut configuration = Configuration {
        kind: old.kind,
        name: String::new(),
        dataset: old.dataset,
        rows: old.rows,
        seed: old.seed,
        strategy: old.strategy,
        grouping,
        sink: old.sink,
        group_size: old.group_size,
        max_message_bytes,
        confirm_window,
        peer: old.peer,
        shard: old.shard,
        disk_floor,
        threads: old.threads,
        pinned_threads: old.name.ends_with(", 1 thread"),
        memory_budget: old.memory_budget,
        queue_type: None,
        beside_publisher: false,
        broker_restart_at: None,
        drains_baseline: false,
        command: old.command,
    };
    configuration.name = configuration.rendered_name();
    configuration
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_disks_have_no_kind() {
        assert_eq!(known_disk_kind("/dev/vda", "HDD"), None);
        assert_eq!(known_disk_kind("/dev/xvdb", "SSD"), None);
        assert_eq!(
            known_disk_kind("/dev/nvme0n1", "SSD"),
            Some("SSD".to_string())
        );
        assert_eq!(known_disk_kind("/dev/sda", "Unknown"), None);
    }

    #[test]
    fn renamed_baselines_become_one_configuration() {
        let old = |name: &str, grouping: Option<&str>| {
            serde_json::json!({
                "kind": "publish", "name": name, "rows": 1, "seed": 1, "strategy": null,
                "grouping": grouping, "sink": "amqp", "group_size": null, "threads": 2,
                "memory_budget": null, "command": ["predbench", "publish"], "dataset": "seed"
            })
        };
        let before: ConfigurationV1 =
            serde_json::from_value(old("publish pre-serialized amqp window 1024", None)).unwrap();
        let after: ConfigurationV1 = serde_json::from_value(old(
            "publish pre-serialized modulo amqp window 1024",
            Some("modulo"),
        ))
        .unwrap();
        let (before, after) = (migrate_configuration(before), migrate_configuration(after));
        assert_eq!(before.identity(), after.identity());
        assert_eq!(
            before.name,
            "publish pre-serialized modulo amqp window 1024"
        );
        assert_eq!(before.confirm_window, Some(1024));
    }
}
