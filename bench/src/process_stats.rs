//! What the running process costs and shows: peak resident memory from the
//! kernel, the memory the machine has available (sysinfo), the progress bar.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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

/// A progress bar over `rows` rows with rows/s and ETA, drawn on standard
/// error only when it is a terminal and `quiet` is false.
pub fn rows_progress_bar(rows: u64, quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(rows), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {percent:>3}% {human_pos}/{human_len} rows, {per_sec}, ETA {eta}",
        )
        .expect("the progress template is valid"),
    );
    bar
}
