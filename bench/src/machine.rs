//! Describes where a measurement was taken: the machine (sysinfo), the disk
//! under the data directory, and the git commit of the code.

use std::path::Path;
use std::process::Command;

use crate::record::{DiskRecord, Machine};

/// The machine as sysinfo sees it; `data_dir` picks the disk.
pub fn describe_machine(data_dir: &Path) -> Machine {
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
        logical_cores: crate::process_stats::available_cores(),
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
            kind: disk.kind().to_string(),
            total_bytes: disk.total_space(),
            available_bytes: disk.available_space(),
        })
}

/// `git rev-parse HEAD` and whether tracked files have changes, if this is a checkout.
pub fn git_state() -> (Option<String>, Option<bool>) {
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
