//! The `predbench` command: generate, export, verify, publish and drain, each
//! a thin adapter over the libraries ([`commands`]). Its flags ([`args`]),
//! their command lines ([`argv`]) and what a run reports to a parent
//! ([`summary`]) are the contract the harness builds on; [`run`] is what the
//! binary and the Python wheel's `predbench` command call.

pub mod args;
pub mod argv;
mod commands;
mod convert;
pub mod errors;
mod progress;
pub mod summary;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// `mi_option_purge_delay` in mimalloc's `mi_option_t` (15 in v2 and v3: the
/// enum keeps deprecated slots so that its numbering is stable);
/// libmimalloc-sys has no constant for it.
const MIMALLOC_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc to keep freed memory for reuse instead of returning it to
/// the OS after a delay. Generate and export allocate and free every batch's
/// buffers in a loop; returned memory comes back as fresh pages that the
/// kernel must fault in and zero. The peak stays where the batch and chunk
/// budgets put it. Only has an effect where mimalloc is the global
/// allocator (the binary's and the wheel's).
pub fn keep_freed_memory() {
    // SAFETY: setting an option is allowed at any time; the index is checked by a test.
    unsafe { libmimalloc_sys::mi_option_set(MIMALLOC_PURGE_DELAY, -1) }
}

/// Runs the command line `argv` (program first) and answers its exit code:
/// 0 when it succeeded, 1 when it failed (after printing `predbench: error:`
/// and the cause, or verify's problems), 2 for a command line clap refused
/// (after its error; help and version are 0). A broken pipe (`predbench ...
/// | head`) is success.
pub fn run<I, T>(argv: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return u8::try_from(error.exit_code()).unwrap_or(2);
        }
    };
    keep_freed_memory();
    let result = match cli.command {
        Command::Generate(args) => commands::generate::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Publish(args) => commands::publish::run(args),
        Command::Drain(args) => commands::drain::run(args),
    };
    match result {
        Ok(code) if code == ExitCode::SUCCESS => 0,
        Ok(_) => 1,
        Err(error) if is_broken_pipe(&error) => 0,
        Err(error) => {
            eprintln!("predbench: error: {}", errors::describe_error(&error));
            1
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_the_one_we_set() {
        // SAFETY: reading and setting options is allowed at any time.
        unsafe {
            let default = libmimalloc_sys::mi_option_get(super::MIMALLOC_PURGE_DELAY);
            assert!(
                default == 10 || default == 1000,
                "option 15 is not mimalloc's purge delay (10 ms in v2, 1000 ms in v3): {default}"
            );
        }
        super::keep_freed_memory();
        // SAFETY: as above.
        assert_eq!(
            unsafe { libmimalloc_sys::mi_option_get(super::MIMALLOC_PURGE_DELAY) },
            -1
        );
    }
}
