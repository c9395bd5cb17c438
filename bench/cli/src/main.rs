//! `predbench`: generate prediction tables, export them as JSON messages,
//! verify, publish and drain. The work is the library's [`predbench::run`].

use std::process::ExitCode;

/// mimalloc keeps freed pages for reuse: batches are allocated and freed in a
/// loop, and with the system allocator every batch paid its page faults again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ExitCode::from(predbench::run(std::env::args_os()))
}
