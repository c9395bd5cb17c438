//! What the running process costs: peak resident memory from the kernel and
//! the memory the machine has available (sysinfo).

/// Peak resident set size of this process in bytes (`VmHWM`), if the platform tells.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
}

/// Memory the machine has available now, in bytes (8 GiB if sysinfo cannot tell).
pub fn available_memory_bytes() -> u64 {
    match sysinfo::System::new() {
        Ok(mut system) => {
            system.refresh_memory();
            system.available_memory()
        }
        Err(_) => 8 << 30,
    }
}

/// Logical cores the process may use.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|cores| cores.get())
        .unwrap_or(1)
}
