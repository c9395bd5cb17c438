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

/// A progress bar over `total` units styled by `template`, drawn on standard
/// error only when it is a terminal and `quiet` is false.
pub fn progress_bar(total: u64, template: &str, quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(ProgressStyle::with_template(template).expect("the progress template is valid"));
    bar
}

/// A progress bar over `rows` rows with rows/s and ETA.
pub fn rows_progress_bar(rows: u64, quiet: bool) -> ProgressBar {
    progress_bar(
        rows,
        "{bar:40} {percent:>3}% {human_pos}/{human_len} rows, {per_sec}, ETA {eta}",
        quiet,
    )
}
