//! Describes where a measurement was taken: the machine (sysinfo), the disk
//! under the data directory, the git commit of the code, and the versions of
//! the software involved (rustc, Python and the peers' packages, Java, the
//! broker). Read by `compare` for its sessions and by `report` for the
//! criterion estimates it records.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use predbench_exporter::queue::AmqpTarget;

use crate::record::{DiskRecord, Machine, SessionInfo};

/// The machine as sysinfo sees it; `data_dir` picks the disk.
fn describe_machine(data_dir: &Path) -> Machine {
    let (cpu_model, memory_bytes) = match sysinfo::System::new() {
        Ok(mut system) => {
            system.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
            system.refresh_memory();
            let model = system
                .cpus()
                .first()
                .map_or_else(String::new, |cpu| cpu.brand().trim().to_string());
            (model, system.total_memory())
        }
        Err(_) => (String::new(), 0),
    };
    Machine {
        cpu_model: if cpu_model.is_empty() {
            "unknown".to_string()
        } else {
            cpu_model
        },
        logical_cores: available_cores(),
        physical_cores: sysinfo::System::physical_core_count().ok(),
        memory_bytes,
        os: sysinfo::System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into()),
        kernel: sysinfo::System::kernel_version().unwrap_or_else(|_| "unknown".into()),
        disk: describe_disk(data_dir),
    }
}

/// The mounted disk whose mount point is the longest prefix of `path`.
fn describe_disk(path: &Path) -> Option<DiskRecord> {
    let path = path.canonicalize().ok()?;
    let disks = sysinfo::Disks::new_with_refreshed_list().ok()?;
    disks
        .iter()
        .filter(|disk| path.starts_with(disk.mount_point()))
        .max_by_key(|disk| disk.mount_point().as_os_str().len())
        .map(|disk| DiskRecord {
            device: disk.name().to_string_lossy().into_owned(),
            mount_point: disk.mount_point().display().to_string(),
            file_system: disk.file_system().to_string_lossy().into_owned(),
            kind: known_disk_kind(&disk.name().to_string_lossy(), &disk.kind().to_string()),
            total_bytes: disk.total_space(),
            available_bytes: disk.available_space(),
        })
}

/// sysinfo's SSD/HDD, unless the device is virtual (virtio, Xen), whose
/// rotational flag says nothing about the storage behind it.
fn known_disk_kind(device: &str, kind: &str) -> Option<String> {
    let name = device.trim_start_matches("/dev/");
    let virtual_disk = name.starts_with("vd") || name.starts_with("xvd");
    (!virtual_disk && matches!(kind, "SSD" | "HDD")).then(|| kind.to_string())
}

/// Logical cores the process may use.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|cores| cores.get())
        .unwrap_or(1)
}

/// The machine, commit and software of this checkout now, with the peers'
/// versions when their venv's `peers_python` is given and the broker's when
/// `broker` is; the datasets and the command line are the caller's to fill.
pub fn describe_session(
    data_dir: &Path,
    peers_pythons: &[PathBuf],
    brokers: &Brokers,
) -> SessionInfo {
    let (git_commit, git_dirty) = git_state();
    SessionInfo {
        id: utc_now(),
        predbench_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit,
        git_dirty,
        machine: describe_machine(data_dir),
        software: software_versions(peers_pythons, brokers),
        datasets: Vec::new(),
        command: Vec::new(),
    }
}

/// `git rev-parse HEAD` and whether tracked files have changes, if this is a checkout.
fn git_state() -> (Option<String>, Option<bool>) {
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    let dirty = commit.as_ref().and_then(|_| {
        Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| !output.stdout.is_empty())
    });
    (commit, dirty)
}

/// Now, RFC 3339 in UTC with whole seconds.
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The rustc that built this binary (recorded by build.rs).
const RUSTC_VERSION: &str = env!("PREDBENCH_RUSTC_VERSION");

/// Versions of the software a session involves: rustc always; Python, the
/// peers' packages and Java when the peers' venvs' `peers_pythons` are given;
/// the broker's when `broker` is. A version that cannot be asked is left out.
fn software_versions(peers_pythons: &[PathBuf], brokers: &Brokers) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    versions.insert(
        "rustc".to_string(),
        RUSTC_VERSION
            .trim_start_matches("rustc ")
            .split(' ')
            .next()
            .unwrap_or(RUSTC_VERSION)
            .to_string(),
    );
    for python in peers_pythons {
        for (name, version) in python_versions(python) {
            versions.entry(name).or_insert(version);
        }
    }
    if !peers_pythons.is_empty() {
        if let Some(java) = java_version() {
            versions.insert("java".to_string(), java);
        }
    }
    if let Some(version) = brokers
        .amqp
        .as_ref()
        .and_then(|target| predbench_exporter::queue::broker_version(target).ok())
    {
        versions.insert("rabbitmq".to_string(), version);
    }
    if brokers.kafka {
        if let Some(version) = kafka_broker_version() {
            versions.insert("kafka-broker".to_string(), version);
        }
    }
    versions
}

/// The brokers a session delivers to, whose versions it records.
#[derive(Debug, Default)]
pub struct Brokers {
    /// A RabbitMQ broker, asked for its version.
    pub amqp: Option<AmqpTarget>,
    /// Whether a Kafka broker is used: the version of the one running on
    /// this machine is recorded.
    pub kafka: bool,
}

/// `tansu 0.6.0, storage memory`: what the Kafka broker running on this
/// machine (tansu, the one `scripts/kafka.sh` starts) says its version is,
/// and the kind of storage it was started with; `None` when none runs here.
fn kafka_broker_version() -> Option<String> {
    let process = processes_named("tansu").into_iter().next()?;
    let program = fs::read_link(process.join("exe")).ok()?;
    let output = Command::new(program).arg("--version").output().ok()?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || version.is_empty() {
        return None;
    }
    let command_line = fs::read(process.join("cmdline")).unwrap_or_default();
    Some(match storage_engine(&command_line) {
        Some(scheme) => format!("{version}, storage {scheme}"),
        None => version,
    })
}

/// The scheme of `--storage-engine URL` in a NUL-separated command line.
fn storage_engine(command_line: &[u8]) -> Option<String> {
    let words: Vec<&[u8]> = command_line.split(|byte| *byte == 0).collect();
    let position = words.iter().position(|word| *word == b"--storage-engine")?;
    let url = String::from_utf8_lossy(words.get(position + 1)?);
    url.split_once("://").map(|(scheme, _)| scheme.to_string())
}

/// The `/proc/PID` directories of the processes on this machine called
/// `name` (their `comm`).
pub fn processes_named(name: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            fs::read_to_string(path.join("comm")).is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect()
}

/// Python's own version and the peers' packages in the venv of `python`.
fn python_versions(python: &Path) -> BTreeMap<String, String> {
    const SCRIPT: &str = r#"
import importlib.metadata as m, json, platform
found = {"python": platform.python_version()}
for name in ["pyspark", "pyspark-client", "pysail", "duckdb", "polars", "chdb", "pyarrow", "pandas", "numpy", "pika", "confluent-kafka"]:
    try:
        found[name] = m.version(name)
    except m.PackageNotFoundError:
        pass
print(json.dumps(found))
"#;
    Command::new(python)
        .args(["-c", SCRIPT])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| serde_json::from_slice(&output.stdout).ok())
        .unwrap_or_default()
}

/// `java -version`'s version, e.g. `17.0.15`.
fn java_version() -> Option<String> {
    let output = Command::new("java").arg("-version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stderr);
    let quoted = text.lines().next()?.split('"').nth(1)?;
    Some(quoted.to_string())
}

/// The repository's top directory (where `compare` runs from, by its
/// defaults): `git rev-parse --show-toplevel`, or the current directory.
pub fn repository_root() -> PathBuf {
    Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

/// Where the tools predbench sets up once per machine live (the peers'
/// venvs, the Kafka broker): `~/.local/share/predbench`.
pub fn machine_tools() -> PathBuf {
    home_dir()
        .unwrap_or_default()
        .join(".local/share/predbench")
}

/// `$HOME`.
fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The peers' venv `scripts/setup-peers.sh` makes once per machine.
pub fn default_peers_venv() -> PathBuf {
    machine_tools().join("venv-peers")
}

/// `argument` with the repository's path taken off where it starts with it,
/// and the home directory written `~`, so that records name no machine's
/// directories.
pub fn relative_to(root: &Path, argument: &str) -> String {
    relative_to_in(root, home_dir().as_deref(), argument)
}

fn relative_to_in(root: &Path, home: Option<&Path>, argument: &str) -> String {
    let mut argument = argument.to_string();
    // Arguments such as `parquet:/repo/data/x` or `of=/repo/data/x` carry a path after a prefix.
    if !root.as_os_str().is_empty() {
        argument = argument.replacen(&format!("{}/", root.display()), "", 1);
    }
    if let Some(home) = home.filter(|home| home.parent().is_some()) {
        argument = argument.replacen(&format!("{}/", home.display()), "~/", 1);
    }
    argument
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kafka_brokers_storage_is_read_from_its_command_line() {
        let line = b"/x/tansu\0broker\0--storage-engine\0memory://tansu/\0";
        assert_eq!(storage_engine(line).as_deref(), Some("memory"));
        assert_eq!(storage_engine(b"/x/tansu\0broker\0"), None);
    }

    #[test]
    fn paths_inside_the_repository_become_relative() {
        let root = Path::new("/work/main");
        assert_eq!(
            relative_to(root, "/work/main/target/release/predbench"),
            "target/release/predbench"
        );
        assert_eq!(
            relative_to(root, "parquet:/work/main/data/out.parquet"),
            "parquet:data/out.parquet"
        );
        assert_eq!(relative_to(root, "/tmp/elsewhere"), "/tmp/elsewhere");
        let home = Some(Path::new("/home/ada"));
        assert_eq!(
            relative_to_in(
                root,
                home,
                "/home/ada/.local/share/predbench/venv-peers/bin/python"
            ),
            "~/.local/share/predbench/venv-peers/bin/python"
        );
        assert_eq!(
            relative_to_in(root, Some(Path::new("/")), "/tmp/x"),
            "/tmp/x"
        );
        assert_eq!(relative_to(root, "--threads"), "--threads");
    }

    #[test]
    fn the_rustc_version_is_recorded() {
        let versions = software_versions(&[], &Brokers::default());
        assert!(versions["rustc"].starts_with("1."), "{versions:?}");
    }
}
